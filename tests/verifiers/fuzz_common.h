/* fuzz_common.h - one libFuzzer target per evidence format. The anchors are the real ones for
 * the captured samples (loaded once; fuzzer state, not library state), so inputs mutated from
 * the seeds reach deep into chain and claim checks. Each run must end in 0 or -1 with a message,
 * without crash or leak. */
#include "attest/claims.h"
#include "verifiers/verifiers.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_add(sb_trust_anchors *a, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/attestation-vectors/%s", SB_FUZZ_SHARED, rel);
    BIO *b = BIO_new_file(path, "rb");
    if (!b)
        return;
    X509 *c = d2i_X509_bio(b, NULL);
    if (!c) {
        BIO_reset(b);
        while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            a->certs = realloc(a->certs, (a->n_certs + 1) * sizeof *a->certs);
            a->certs[a->n_certs++] = c;
        }
        BIO_reset(b);
        EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
        if (k) {
            a->keys = realloc(a->keys, (a->n_keys + 1) * sizeof *a->keys);
            a->keys[a->n_keys++] = k;
        }
    } else {
        a->certs = realloc(a->certs, (a->n_certs + 1) * sizeof *a->certs);
        a->certs[a->n_certs++] = c;
    }
    BIO_free(b);
}

#define SB_FUZZ_VERIFIER(fn, at_text, ...)                                                         \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        static sb_trust_anchors anchors;                                                           \
        static int loaded;                                                                         \
        static time_t at;                                                                          \
        if (!loaded) {                                                                             \
            const char *files[] = {__VA_ARGS__};                                                   \
            for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)                            \
                fuzz_add(&anchors, files[i]);                                                      \
            sb_time_parse(at_text, &at);                                                           \
            loaded = 1;                                                                            \
        }                                                                                          \
        sb_claims claims;                                                                          \
        sb_err err = {0};                                                                          \
        int rc = fn(data, size, &anchors, at, &claims, &err);                                      \
        if (rc != 0 && err.msg[0] == '\0')                                                         \
            abort(); /* every refusal must say why */                                              \
        return 0;                                                                                  \
    }
