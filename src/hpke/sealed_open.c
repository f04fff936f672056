/* sealed_open.c - opening an envelope (sealed.h, docs/sealed.md). Used by the client only: kept
 * apart from sealed.c so the runtime (which only seals) does not link it. */
#include "hpke/sealed.h"

#include <stdlib.h>
#include <string.h>

#define FIXED_LEN SB_SEALED_FIXED_LEN
#define SUITE SB_SEALED_SUITE

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Checks the header and finds the ciphertext; the header is the aad (everything before ct). */
static int parse(const uint8_t *env, size_t len, sb_sealed_header *hdr, size_t *head, sb_err *err)
{
    if (len < 8 || memcmp(env, SB_SEALED_MAGIC, 8) != 0)
        return sb_err_set(err, 1, "not a sealed result (no SBSEALED magic)");
    if (len < FIXED_LEN)
        return sb_err_set(err, 1, "truncated envelope (%zu bytes, header needs %d)", len, FIXED_LEN);
    if (env[8] != SB_SEALED_VERSION)
        return sb_err_set(err, 1, "envelope version %u is not supported (only %d)", env[8], SB_SEALED_VERSION);
    if (memcmp(env + 9, SUITE, 6) != 0)
        return sb_err_set(err, 1, "HPKE suite kem 0x%04x kdf 0x%04x aead 0x%04x is not supported",
                          (unsigned)get_be(env + 9, 2), (unsigned)get_be(env + 11, 2), (unsigned)get_be(env + 13, 2));
    size_t n = (size_t)get_be(env + FIXED_LEN - 2, 2);
    if (n == 0 || n > SB_SEALED_PATH_MAX)
        return sb_err_set(err, 1, "envelope names a path of %zu bytes (1..%d allowed)", n, SB_SEALED_PATH_MAX);
    if (len - FIXED_LEN < n + 8)
        return sb_err_set(err, 1, "truncated envelope (the header ends early)");
    if (memchr(env + FIXED_LEN, 0, n))
        return sb_err_set(err, 1, "envelope path contains a NUL byte");
    *head = FIXED_LEN + n + 8;
    uint64_t m = get_be(env + FIXED_LEN + n, 8);
    if (m < HPKE_TAG_LEN || len - *head < 2 || m > len - *head - 2)
        return sb_err_set(err, 1, "envelope is truncated: it says %llu ciphertext bytes, %zu follow",
                          (unsigned long long)m, len - *head);
    size_t at = *head + (size_t)m, s_len = (size_t)get_be(env + at, 2);
    if (s_len == 0 || s_len > SB_SEALED_SIG_MAX || len - at - 2 < s_len + 4)
        return sb_err_set(err, 1, "envelope is truncated or malformed (signature of %zu bytes)", s_len);
    size_t c_at = at + 2 + s_len, c_len = (size_t)get_be(env + c_at, 4);
    if (c_len != len - c_at - 4)
        return sb_err_set(err, 1, "envelope is %s: it says %zu certificate chain bytes, %zu follow",
                          c_len > len - c_at - 4 ? "truncated" : "extended or malformed", c_len, len - c_at - 4);
    memcpy(hdr->policy_hash, env + 15 + HPKE_PK_LEN, 32);
    hdr->sealed_at = get_be(env + 15 + HPKE_PK_LEN + 32, 8);
    memcpy(hdr->path, env + FIXED_LEN, n);
    hdr->path[n] = '\0';
    hdr->signed_len = at;
    hdr->sig = env + at + 2;
    hdr->sig_len = s_len;
    hdr->chain = env + c_at + 4;
    hdr->chain_len = c_len;
    return 0;
}

int sb_sealed_open(const uint8_t *env, size_t env_len, const uint8_t sk[HPKE_SK_LEN],
                   sb_sealed_header *hdr, uint8_t **pt, size_t *pt_len, sb_err *err)
{
    size_t head = 0;
    *pt = NULL;
    if (parse(env, env_len, hdr, &head, err) != 0)
        return -1;
    size_t ct_len = hdr->signed_len - head, n = ct_len - HPKE_TAG_LEN;
    uint8_t *out = malloc(n + 1);
    if (!out)
        return sb_err_set(err, 1, "out of memory");
    if (hpke_open(env + 15, HPKE_PK_LEN, sk, (const uint8_t *)SB_SEALED_INFO, strlen(SB_SEALED_INFO), env,
                  head, env + head, ct_len, out, err) != 0) {
        free(out);
        if (err && err->code == 2)
            sb_err_set(err, 2, "the envelope does not open with this key: it was sealed to another "
                               "key, or modified after sealing");
        else
            sb_err_prefix(err, "the envelope is malformed or was modified");
        return -1;
    }
    out[n] = '\0';
    *pt = out;
    *pt_len = n;
    return 0;
}

int sb_sealed_check_signature(const uint8_t *env, const sb_sealed_header *hdr, EVP_PKEY *leaf_key,
                              sb_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, leaf_key) == 1 &&
             EVP_DigestVerify(md, hdr->sig, hdr->sig_len, env, hdr->signed_len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : sb_err_set(err, 1, "the envelope's signature does not verify with the isolate's key");
}
