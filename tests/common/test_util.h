/* test_util.h - tiny assertion helpers (CHECK, CHECK_ERR, CHECK_OK), file and key loading, and the
 * exit summary, shared by the cose, attest and attestd tests. */
#ifndef SB_TEST_ATTEST_UTIL_H
#define SB_TEST_ATTEST_UTIL_H

#include "common/common.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* `call` may use `err`; it must fail with a message containing `substr`. */
#define CHECK_ERR(call, substr)                                                                    \
    do {                                                                                           \
        sb_err e_ = {0};                                                                           \
        sb_err *err = &e_;                                                                         \
        int rc_ = (call);                                                                          \
        if (rc_ == 0 || !strstr(e_.msg, substr)) {                                                 \
            fprintf(stderr, "%s:%d: want error containing '%s', got rc=%d '%s'\n", __FILE__,       \
                    __LINE__, substr, rc_, e_.msg);                                                \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define CHECK_OK(call)                                                                             \
    do {                                                                                           \
        sb_err e_ = {0};                                                                           \
        sb_err *err = &e_;                                                                         \
        if ((call) != 0) {                                                                         \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, e_.msg);          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static inline uint8_t *load_file(const char *dir, const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    uint8_t *d = NULL;
    sb_err e = {0};
    if (sb_read_file(path, 1 << 20, &d, len, &e) < 0) {
        fprintf(stderr, "cannot read %s: %s\n", path, e.msg);
        exit(1);
    }
    return d;
}

static inline EVP_PKEY *load_pub(const char *dir, const char *rel)
{
    size_t len;
    uint8_t *d = load_file(dir, rel, &len);
    BIO *b = BIO_new_mem_buf(d, (int)len);
    EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    free(d);
    if (!k) {
        fprintf(stderr, "bad key %s\n", rel);
        exit(1);
    }
    return k;
}

static inline int test_exit(const char *name)
{
    if (failures) {
        fprintf(stderr, "%s: %d failures\n", name, failures);
        return 1;
    }
    printf("%s: all tests passed\n", name);
    return 0;
}

#endif
