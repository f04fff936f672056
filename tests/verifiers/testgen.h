/* testgen.h - test helpers for the verifier tests: keys, certificates, anchors, file loading.
 * Synthetic evidence is signed with keys and chains generated here, so formats with no captured
 * sample (SNP v3/VLEK, TDX v5, CCA CMW, tagged Nitro) run through the real verification paths. */
#ifndef SB_TESTGEN_H
#define SB_TESTGEN_H

#include "attest/claims.h"

#include <openssl/x509.h>
#include <stdio.h>

extern int tg_failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            tg_failures++;                                                                         \
        }                                                                                          \
    } while (0)
/* The call must fail and its message must contain `needle`. */
#define CHECK_ERR(call, err, needle)                                                               \
    do {                                                                                           \
        sb_err_clear(&(err));                                                                      \
        int rc_ = (call);                                                                          \
        if (rc_ == 0 || !strstr((err).msg, (needle))) {                                            \
            fprintf(stderr, "%s:%d: expected failure with '%s', got rc=%d msg='%s'\n", __FILE__,   \
                    __LINE__, (needle), rc_, (err).msg);                                           \
            tg_failures++;                                                                         \
        }                                                                                          \
    } while (0)

typedef struct tg_ext {
    const char *oid;
    const uint8_t *der; /* the extension's value (inside the OCTET STRING) */
    size_t len;
} tg_ext;

EVP_PKEY *tg_ec_key(int nid);
EVP_PKEY *tg_rsa_key(int bits);
/* issuer NULL = self-signed with `key`. pss: sign with RSA-PSS SHA-384 (AMD style). */
X509 *tg_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int pss, int ca,
              time_t not_before, time_t not_after, const tg_ext *exts, size_t n_exts);
/* ECDSA signature split into big-endian r and s of n bytes each. */
void tg_sign_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *r,
                uint8_t *s, size_t n);
/* DER of a certificate into a malloc'd buffer. */
uint8_t *tg_der(X509 *cert, size_t *len);
/* PEM of a certificate appended to buf at *len (buf has room `cap`). */
void tg_pem_append(X509 *cert, uint8_t *buf, size_t *len, size_t cap);

uint8_t *tg_read(const char *path, size_t *len); /* aborts the test on failure */
/* The shared attestation vectors: tg_vectors_init takes SHARED_DIR from argv[1] or $SB_SHARED_DIR
 * (exits 2 with a usage line naming `test` when neither is set); tg_vec("snp/x.bin") is then the
 * sample's path (the last 4 results stay valid at once). */
void tg_vectors_init(int argc, char **argv, const char *test);
const char *tg_vec(const char *rel);
/* Loads certificates (PEM, several per file, or DER) and PEM public keys into anchors. */
int tg_anchors_add_file(sb_trust_anchors *a, const char *path);
void tg_anchors_add_cert(sb_trust_anchors *a, X509 *cert); /* takes a reference */
void tg_anchors_add_key(sb_trust_anchors *a, EVP_PKEY *key);
void tg_anchors_free(sb_trust_anchors *a);
time_t tg_time(const char *rfc3339);
/* 1 if the message names something (non-empty, not just a prefix). */
int tg_has_reason(const sb_err *err);

#endif
