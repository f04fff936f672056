/* sealed.c - opening a result sealed to its reader (strongbox_unseal, docs/sealed.md). Runs
 * offline: only the envelope, the reader's private key and, optionally, the policy. */
#include "client/client_impl.h"

#include "hpke/sealed.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

static int read_private_key(const char *key_path, uint8_t sk[HPKE_SK_LEN], strongbox_error *err)
{
    FILE *f = fopen(key_path, "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!key)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: not a readable PEM private key", key_path);
    sb_err e = {0};
    int rc = sb_sealed_private_key(key, sk, &e);
    EVP_PKEY_free(key);
    return rc == 0 ? 0 : cl_fail(err, STRONGBOX_E_LOCAL, "%s: %s", key_path, e.msg);
}

/* The envelope names the policy hash and path it was sealed under; with the party's own copy of
 * the policy, the hash must be that policy's (the path one of its files when asked). */
static int check_against_policy(const sb_sealed_header *h, const char *policy_path,
                                const char *expect_path, strongbox_error *err)
{
    if (expect_path && strcmp(expect_path, h->path) != 0)
        return cl_fail(err, STRONGBOX_E_VERIFY, "the envelope holds %s, not %s", h->path, expect_path);
    if (!policy_path)
        return 0;
    sb_policy *p = NULL;
    sb_err e = {0};
    if (sb_policy_load(policy_path, 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &e) != 0)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: %s", policy_path, e.msg);
    int same = memcmp(sb_policy_hash(p), h->policy_hash, 32) == 0;
    char want[65], got[65];
    sb_hex_encode(sb_policy_hash(p), 32, want);
    sb_hex_encode(h->policy_hash, 32, got);
    sb_policy_free(p);
    if (!same)
        return cl_fail(err, STRONGBOX_E_VERIFY,
                       "the envelope was sealed under policy %s, not %s (%s)", got, want, policy_path);
    return 0;
}

int strongbox_unseal(const uint8_t *envelope, size_t len, const char *key_path,
                     const char *policy_path, const char *expect_path, uint8_t **data,
                     size_t *data_len, char *path_out, strongbox_error *err)
{
    uint8_t sk[HPKE_SK_LEN];
    sb_sealed_header h;
    sb_err e = {0};
    *data = NULL;
    *data_len = 0;
    if (read_private_key(key_path, sk, err) != 0)
        return -1;
    int rc = sb_sealed_open(envelope, len, sk, &h, data, data_len, &e);
    OPENSSL_cleanse(sk, sizeof sk);
    if (rc != 0)
        return cl_fail(err, STRONGBOX_E_VERIFY, "%s", e.msg);
    if (check_against_policy(&h, policy_path, expect_path, err) != 0) {
        OPENSSL_cleanse(*data, *data_len);
        free(*data);
        *data = NULL;
        *data_len = 0;
        return -1;
    }
    if (path_out)
        snprintf(path_out, SB_SEALED_PATH_MAX + 1, "%s", h.path);
    return 0;
}
