/* sealed.c - sealing into the envelope (sealed.h, docs/sealed.md); opening is in sealed_open.c,
 * which the runtime does not link. */
#include "hpke/sealed.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#define FIXED_LEN SB_SEALED_FIXED_LEN
#define SUITE SB_SEALED_SUITE

static int is_p256(EVP_PKEY *key, sb_err *err)
{
    char group[32] = "";
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) ||
        strcmp(group, "prime256v1") != 0)
        return sb_err_set(err, 1, "not a P-256 key (sealing needs an ECDSA P-256 key%s%s)",
                          group[0] ? "; this one is on " : "", group);
    return 0;
}

int sb_sealed_public_key(EVP_PKEY *key, uint8_t pk[HPKE_PK_LEN], sb_err *err)
{
    size_t n = 0;
    if (is_p256(key, err) != 0)
        return -1;
    /* the encoded point in uncompressed form, whatever form the certificate used */
    if (EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed") != 1 ||
        !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pk, HPKE_PK_LEN, &n) ||
        n != HPKE_PK_LEN)
        return sb_err_set(err, 1, "cannot read the P-256 public key");
    return 0;
}

int sb_sealed_private_key(EVP_PKEY *key, uint8_t sk[HPKE_SK_LEN], sb_err *err)
{
    BIGNUM *d = NULL;
    if (is_p256(key, err) != 0)
        return -1;
    int ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) && BN_bn2binpad(d, sk, HPKE_SK_LEN) == HPKE_SK_LEN;
    BN_clear_free(d);
    return ok ? 0 : sb_err_set(err, 1, "not a private key");
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Appends signature length, ECDSA-SHA256 signature over e[0..len) and the chain. */
static int sign_and_append(uint8_t *e, size_t len, EVP_PKEY *key, const uint8_t *chain,
                           size_t chain_len, sb_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t sig_len = SB_SEALED_SIG_MAX;
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, e + len + 2, &sig_len, e, len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return sb_err_set(err, 1, "sealing: signing the envelope failed");
    put_be(e + len, sig_len, 2);
    put_be(e + len + 2 + sig_len, chain_len, 4);
    memcpy(e + len + 2 + sig_len + 4, chain, chain_len);
    return (int)(2 + sig_len + 4 + chain_len); /* bytes appended */
}

int sb_sealed_seal(const uint8_t pk[HPKE_PK_LEN], const uint8_t policy_hash[32], uint64_t sealed_at,
                   const char *path, const uint8_t *pt, size_t pt_len, EVP_PKEY *sign_key,
                   const uint8_t *chain, size_t chain_len, uint8_t **env, size_t *env_len, sb_err *err)
{
    size_t n = strnlen(path, SB_SEALED_PATH_MAX + 1); /* copied without its NUL: n is stored */
    *env = NULL;
    if (n == 0 || n > SB_SEALED_PATH_MAX)
        return sb_err_set(err, 1, "sealing: path of %zu bytes (1..%d allowed)", n, SB_SEALED_PATH_MAX);
    if (chain_len > SB_SEALED_CHAIN_MAX || EVP_PKEY_get_size(sign_key) > SB_SEALED_SIG_MAX)
        return sb_err_set(err, 1, "sealing: certificate chain or signing key too large");
    size_t head = FIXED_LEN + n + 8, tail = 2 + SB_SEALED_SIG_MAX + 4 + chain_len;
    if (pt_len > SIZE_MAX - head - HPKE_TAG_LEN - tail)
        return sb_err_set(err, 1, "sealing: file too large");
    uint8_t *e = malloc(head + pt_len + HPKE_TAG_LEN + tail), *p = e;
    if (!e)
        return sb_err_set(err, 1, "sealing: out of memory");
    memcpy(p, SB_SEALED_MAGIC, 8);
    p[8] = SB_SEALED_VERSION;
    memcpy(p + 9, SUITE, 6);
    uint8_t *enc = p + 15;
    memcpy(p + 15 + HPKE_PK_LEN, policy_hash, 32);
    put_be(p + 15 + HPKE_PK_LEN + 32, sealed_at, 8);
    put_be(p + FIXED_LEN - 2, n, 2);
    memcpy(p + FIXED_LEN, path, n);
    put_be(p + FIXED_LEN + n, pt_len + HPKE_TAG_LEN, 8);
    /* enc is only known after encapsulation, and is part of the aad: set up, then seal */
    hpke_ctx ctx;
    int rc = hpke_setup_sender(pk, HPKE_PK_LEN, (const uint8_t *)SB_SEALED_INFO, strlen(SB_SEALED_INFO),
                               NULL, 0, enc, &ctx, err);
    rc = rc == 0 ? hpke_seal_seq(&ctx, 0, e, head, pt, pt_len, e + head, err) : -1;
    hpke_ctx_clear(&ctx);
    int added = rc == 0 ? sign_and_append(e, head + pt_len + HPKE_TAG_LEN, sign_key, chain, chain_len, err) : -1;
    if (added < 0) {
        free(e);
        return -1;
    }
    *env = e;
    *env_len = head + pt_len + HPKE_TAG_LEN + (size_t)added;
    return 0;
}
