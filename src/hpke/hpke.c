/* hpke.c - RFC 9180 base mode for DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
 * Section numbers below are RFC 9180's. Only the OpenSSL primitives are used: HMAC (EVP_MAC),
 * P-256 point arithmetic (EC_POINT, constant-time scalar multiplication), AES-128-GCM (EVP). */
#include "hpke/hpke.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

/* suite_id of the KEM (4.1) and of the whole suite (5.1). */
static const uint8_t KEM_SUITE[5] = {'K', 'E', 'M', 0x00, 0x10};
static const uint8_t HPKE_SUITE[10] = {'H', 'P', 'K', 'E', 0x00, 0x10, 0x00, 0x01, 0x00, 0x01};

typedef struct part {
    const void *p;
    size_t n;
} part;

/* HMAC-SHA256 over the concatenation of parts. key must not be NULL (an empty salt is ""). */
static int hmac_parts(const uint8_t *key, size_t key_len, const part *parts, size_t n,
                      uint8_t out[HPKE_SECRET_LEN])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t out_len = 0;
    int ok = c && EVP_MAC_init(c, key, key_len, params);
    for (size_t i = 0; ok && i < n; i++)
        ok = parts[i].n == 0 || EVP_MAC_update(c, parts[i].p, parts[i].n);
    ok = ok && EVP_MAC_final(c, out, &out_len, HPKE_SECRET_LEN) && out_len == HPKE_SECRET_LEN;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

/* LabeledExtract (4): HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
static int labeled_extract(const uint8_t *suite, size_t suite_len, const uint8_t *salt,
                           size_t salt_len, const char *label, const uint8_t *ikm, size_t ikm_len,
                           uint8_t prk[HPKE_SECRET_LEN])
{
    part p[] = {{"HPKE-v1", 7}, {suite, suite_len}, {label, strlen(label)}, {ikm, ikm_len}};
    return hmac_parts(salt ? salt : (const uint8_t *)"", salt_len, p, 4, prk);
}

/* LabeledExpand (4): HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L). */
static int labeled_expand(const uint8_t *suite, size_t suite_len, const uint8_t prk[HPKE_SECRET_LEN],
                          const char *label, const uint8_t *info, size_t info_len, uint8_t *out,
                          size_t len)
{
    if (len == 0 || len > 255 * HPKE_SECRET_LEN)
        return -1;
    uint8_t t[HPKE_SECRET_LEN], len2[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    for (size_t done = 0, i = 1; done < len; i++) {
        uint8_t counter = (uint8_t)i;
        part p[] = {{t, i > 1 ? sizeof t : 0}, {len2, 2},       {"HPKE-v1", 7}, {suite, suite_len},
                    {label, strlen(label)},    {info, info_len}, {&counter, 1}};
        if (hmac_parts(prk, HPKE_SECRET_LEN, p, 7, t) != 0)
            return -1;
        size_t n = len - done < sizeof t ? len - done : sizeof t;
        memcpy(out + done, t, n);
        done += n;
    }
    OPENSSL_cleanse(t, sizeof t);
    return 0;
}

/* pk = sk * G, serialized uncompressed (SerializePublicKey, 7.1.1). */
static int public_of(const EC_GROUP *g, const BIGNUM *d, uint8_t pk[HPKE_PK_LEN])
{
    EC_POINT *q = EC_POINT_new(g);
    int ok = q && EC_POINT_mul(g, q, d, NULL, NULL, NULL) &&
             EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pk, HPKE_PK_LEN, NULL) == HPKE_PK_LEN;
    EC_POINT_free(q);
    return ok ? 0 : -1;
}

/* DeserializePrivateKey: 0 < d < n. */
static BIGNUM *scalar_of(const EC_GROUP *g, const uint8_t sk[HPKE_SK_LEN])
{
    BIGNUM *d = BN_secure_new();
    if (d && BN_bin2bn(sk, HPKE_SK_LEN, d) && !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0) {
        BN_set_flags(d, BN_FLG_CONSTTIME);
        return d;
    }
    BN_clear_free(d);
    return NULL;
}

int hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[HPKE_SK_LEN],
                        uint8_t pk[HPKE_PK_LEN], sb_err *err)
{
    if (ikm_len < HPKE_SK_LEN)
        return sb_err_set(err, 1, "hpke: key derivation input of %zu bytes (at least %d needed)",
                          ikm_len, HPKE_SK_LEN);
    uint8_t prk[HPKE_SECRET_LEN];
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = NULL;
    int rc = g && labeled_extract(KEM_SUITE, 5, NULL, 0, "dkp_prk", ikm, ikm_len, prk) == 0 ? 0 : -1;
    /* 7.1.3: the first candidate in [1, n) (bitmask 0xff for P-256: nothing to mask). */
    for (unsigned counter = 0; rc == 0 && !d && counter < 256; counter++) {
        uint8_t c = (uint8_t)counter;
        rc = labeled_expand(KEM_SUITE, 5, prk, "candidate", &c, 1, sk, HPKE_SK_LEN);
        d = rc == 0 ? scalar_of(g, sk) : NULL;
    }
    if (rc == 0 && (!d || public_of(g, d, pk) != 0))
        rc = -1;
    OPENSSL_cleanse(prk, sizeof prk);
    BN_clear_free(d);
    EC_GROUP_free(g);
    if (rc != 0) {
        OPENSSL_cleanse(sk, HPKE_SK_LEN);
        return sb_err_set(err, 1, "hpke: key pair derivation failed");
    }
    return 0;
}

/* DH (4.1, 7.1): x-coordinate of sk * pk. pk must be a 65-byte uncompressed point on P-256
 * (oct2point checks the coordinates are below p and on the curve; P-256's cofactor is 1). */
static int dh(const uint8_t sk[HPKE_SK_LEN], const uint8_t *pk, size_t pk_len, uint8_t out[32],
              uint8_t *own_pk, sb_err *err)
{
    if (pk_len != HPKE_PK_LEN || pk[0] != 0x04)
        return sb_err_set(err, 1, "hpke: public key of %zu bytes is not a 65-byte uncompressed P-256 point",
                          pk_len);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *p = g ? EC_POINT_new(g) : NULL, *r = g ? EC_POINT_new(g) : NULL;
    BIGNUM *d = g ? scalar_of(g, sk) : NULL, *x = BN_new();
    int rc = -1;
    const char *why = "internal error";
    if (!p || !r || !x)
        ;
    else if (!d)
        why = "private key is not a P-256 scalar";
    else if (!EC_POINT_oct2point(g, p, pk, pk_len, NULL))
        why = "public key is not a point on P-256";
    else if (EC_POINT_mul(g, r, NULL, p, d, NULL) && !EC_POINT_is_at_infinity(g, r) &&
             EC_POINT_get_affine_coordinates(g, r, x, NULL, NULL) && BN_bn2binpad(x, out, 32) == 32 &&
             (!own_pk || public_of(g, d, own_pk) == 0))
        rc = 0;
    BN_clear_free(d);
    BN_clear_free(x);
    EC_POINT_clear_free(r);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return rc == 0 ? 0 : sb_err_set(err, 1, "hpke: %s", why);
}

/* ExtractAndExpand (4.1) with kem_context = enc || pkRm. */
static int extract_and_expand(const uint8_t dh_out[32], const uint8_t *enc, const uint8_t *pk_r,
                              uint8_t shared[HPKE_SECRET_LEN])
{
    uint8_t prk[HPKE_SECRET_LEN], kem_context[2 * HPKE_PK_LEN];
    memcpy(kem_context, enc, HPKE_PK_LEN);
    memcpy(kem_context + HPKE_PK_LEN, pk_r, HPKE_PK_LEN);
    int rc = labeled_extract(KEM_SUITE, 5, NULL, 0, "eae_prk", dh_out, 32, prk) == 0 &&
                     labeled_expand(KEM_SUITE, 5, prk, "shared_secret", kem_context, sizeof kem_context,
                                    shared, HPKE_SECRET_LEN) == 0
                 ? 0
                 : -1;
    OPENSSL_cleanse(prk, sizeof prk);
    return rc;
}

/* KeySchedule (5.1) in base mode: psk and psk_id empty. */
static int key_schedule(const uint8_t *info, size_t info_len, hpke_ctx *ctx, sb_err *err)
{
    uint8_t *c = ctx->ks_context;
    c[0] = 0x00; /* mode_base */
    if (labeled_extract(HPKE_SUITE, 10, NULL, 0, "psk_id_hash", NULL, 0, c + 1) != 0 ||
        labeled_extract(HPKE_SUITE, 10, NULL, 0, "info_hash", info, info_len, c + 33) != 0 ||
        labeled_extract(HPKE_SUITE, 10, ctx->shared_secret, HPKE_SECRET_LEN, "secret", NULL, 0,
                        ctx->secret) != 0 ||
        labeled_expand(HPKE_SUITE, 10, ctx->secret, "key", c, HPKE_KS_CONTEXT_LEN, ctx->key, HPKE_KEY_LEN) ||
        labeled_expand(HPKE_SUITE, 10, ctx->secret, "base_nonce", c, HPKE_KS_CONTEXT_LEN, ctx->base_nonce,
                       HPKE_NONCE_LEN) ||
        labeled_expand(HPKE_SUITE, 10, ctx->secret, "exp", c, HPKE_KS_CONTEXT_LEN, ctx->exporter_secret,
                       HPKE_SECRET_LEN)) {
        hpke_ctx_clear(ctx);
        return sb_err_set(err, 1, "hpke: key schedule failed");
    }
    return 0;
}

int hpke_setup_sender(const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info, size_t info_len,
                      const uint8_t *ikm_e, size_t ikm_e_len, uint8_t enc[HPKE_PK_LEN],
                      hpke_ctx *ctx, sb_err *err)
{
    uint8_t ikm[HPKE_SK_LEN], sk_e[HPKE_SK_LEN], dh_out[32];
    memset(ctx, 0, sizeof *ctx);
    if (!ikm_e) { /* GenerateKeyPair = DeriveKeyPair(random(Nsk)) (7.1.3) */
        if (RAND_priv_bytes(ikm, sizeof ikm) != 1)
            return sb_err_set(err, 1, "hpke: no randomness for the ephemeral key");
        ikm_e = ikm;
        ikm_e_len = sizeof ikm;
    }
    int rc = hpke_derive_keypair(ikm_e, ikm_e_len, sk_e, enc, err);
    rc = rc == 0 ? dh(sk_e, pk_r, pk_r_len, dh_out, NULL, err) : -1;
    if (rc == 0 && extract_and_expand(dh_out, enc, pk_r, ctx->shared_secret) != 0)
        rc = sb_err_set(err, 1, "hpke: encapsulation failed");
    OPENSSL_cleanse(ikm, sizeof ikm);
    OPENSSL_cleanse(sk_e, sizeof sk_e);
    OPENSSL_cleanse(dh_out, sizeof dh_out);
    return rc == 0 ? key_schedule(info, info_len, ctx, err) : -1;
}

int hpke_setup_recipient(const uint8_t *enc, size_t enc_len, const uint8_t sk_r[HPKE_SK_LEN],
                         const uint8_t *info, size_t info_len, hpke_ctx *ctx, sb_err *err)
{
    uint8_t dh_out[32], pk_r[HPKE_PK_LEN];
    memset(ctx, 0, sizeof *ctx);
    if (enc_len != HPKE_PK_LEN)
        return sb_err_set(err, 1, "hpke: encapsulated key of %zu bytes (expected %d)", enc_len, HPKE_PK_LEN);
    int rc = dh(sk_r, enc, enc_len, dh_out, pk_r, err);
    if (rc == 0 && extract_and_expand(dh_out, enc, pk_r, ctx->shared_secret) != 0)
        rc = sb_err_set(err, 1, "hpke: decapsulation failed");
    OPENSSL_cleanse(dh_out, sizeof dh_out);
    return rc == 0 ? key_schedule(info, info_len, ctx, err) : -1;
}

/* ComputeNonce (5.2): base_nonce XOR I2OSP(seq, Nn). */
static void nonce_of(const hpke_ctx *ctx, uint64_t seq, uint8_t nonce[HPKE_NONCE_LEN])
{
    memcpy(nonce, ctx->base_nonce, HPKE_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[HPKE_NONCE_LEN - 1 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* AES-128-GCM in one direction; on open, tag is the last 16 bytes of the input. */
static int aead(int encrypt, const hpke_ctx *ctx, uint64_t seq, const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t in_len, uint8_t *out, uint8_t tag[HPKE_TAG_LEN])
{
    uint8_t nonce[HPKE_NONCE_LEN];
    nonce_of(ctx, seq, nonce);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, ctx->key, nonce, encrypt) &&
                    (aad_len == 0 || EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len)) &&
                    (in_len == 0 || EVP_CipherUpdate(c, out, &n, in, (int)in_len)) &&
                    (encrypt || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, HPKE_TAG_LEN, tag)) &&
                    EVP_CipherFinal_ex(c, out + in_len, &n) &&
                    (!encrypt || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, HPKE_TAG_LEN, tag));
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int hpke_seal_seq(const hpke_ctx *ctx, uint64_t seq, const uint8_t *aad, size_t aad_len,
                  const uint8_t *pt, size_t pt_len, uint8_t *ct, sb_err *err)
{
    if (pt_len > INT_MAX - HPKE_TAG_LEN || aad_len > INT_MAX)
        return sb_err_set(err, 1, "hpke: message too large to seal (%zu bytes)", pt_len);
    if (aead(1, ctx, seq, aad, aad_len, pt, pt_len, ct, ct + pt_len) != 0)
        return sb_err_set(err, 1, "hpke: encryption failed");
    return 0;
}

int hpke_open_seq(const hpke_ctx *ctx, uint64_t seq, const uint8_t *aad, size_t aad_len,
                  const uint8_t *ct, size_t ct_len, uint8_t *pt, sb_err *err)
{
    if (ct_len < HPKE_TAG_LEN)
        return sb_err_set(err, 1, "hpke: ciphertext of %zu bytes is shorter than its %d-byte tag",
                          ct_len, HPKE_TAG_LEN);
    if (ct_len > INT_MAX || aad_len > INT_MAX)
        return sb_err_set(err, 1, "hpke: ciphertext too large (%zu bytes)", ct_len);
    size_t pt_len = ct_len - HPKE_TAG_LEN;
    uint8_t tag[HPKE_TAG_LEN];
    memcpy(tag, ct + pt_len, HPKE_TAG_LEN);
    if (aead(0, ctx, seq, aad, aad_len, ct, pt_len, pt, tag) != 0) {
        OPENSSL_cleanse(pt, pt_len); /* never hand out unauthenticated plaintext */
        return sb_err_set(err, 2, "hpke: authentication failed (wrong key, or modified ciphertext, "
                                  "encapsulated key or associated data)");
    }
    return 0;
}

int hpke_export(const hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len, uint8_t *out,
                size_t out_len, sb_err *err)
{
    if (labeled_expand(HPKE_SUITE, 10, ctx->exporter_secret, "sec", exp_ctx, exp_ctx_len, out, out_len))
        return sb_err_set(err, 1, "hpke: cannot export %zu bytes", out_len);
    return 0;
}

void hpke_ctx_clear(hpke_ctx *ctx)
{
    OPENSSL_cleanse(ctx, sizeof *ctx);
}

int hpke_seal(const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info, size_t info_len,
              const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
              uint8_t enc[HPKE_PK_LEN], uint8_t *ct, sb_err *err)
{
    hpke_ctx ctx;
    int rc = hpke_setup_sender(pk_r, pk_r_len, info, info_len, NULL, 0, enc, &ctx, err);
    rc = rc == 0 ? hpke_seal_seq(&ctx, 0, aad, aad_len, pt, pt_len, ct, err) : -1;
    hpke_ctx_clear(&ctx);
    return rc;
}

int hpke_open(const uint8_t *enc, size_t enc_len, const uint8_t sk_r[HPKE_SK_LEN],
              const uint8_t *info, size_t info_len, const uint8_t *aad, size_t aad_len,
              const uint8_t *ct, size_t ct_len, uint8_t *pt, sb_err *err)
{
    hpke_ctx ctx;
    int rc = hpke_setup_recipient(enc, enc_len, sk_r, info, info_len, &ctx, err);
    rc = rc == 0 ? hpke_open_seq(&ctx, 0, aad, aad_len, ct, ct_len, pt, err) : -1;
    hpke_ctx_clear(&ctx);
    return rc;
}
