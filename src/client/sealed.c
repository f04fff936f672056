/* sealed.c - opening a result sealed to its reader (strongbox_unseal, docs/sealed.md). Runs
 * offline: only the envelope, the reader's private key and, optionally, the party's policy, against
 * which the isolate's signature and certificate chain in the envelope are verified. */
#include "client/client_impl.h"

#include "hpke/sealed.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
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

/* The isolate certificate chain in the envelope, verified like at connect time but as of the
 * sealing time, and the envelope's signature by its key. */
static int check_origin(const uint8_t *env, const sb_sealed_header *h, const sb_policy *p,
                        strongbox_unsealed *info, strongbox_error *err)
{
    BIO *b = BIO_new_mem_buf(h->chain, (int)h->chain_len);
    X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL, *c;
    STACK_OF(X509) *rest = sk_X509_new_null();
    while (leaf && rest && (c = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        if (!sk_X509_push(rest, c))
            X509_free(c);
    ERR_clear_error();
    sb_attest_accepted *acc = NULL;
    sb_attest_expect exp = {0};
    sb_attest_verdict v;
    sb_err e = {0};
    char when[32], m[2 * SB_MEASUREMENT_MAX + 1] = "";
    sb_time_format((time_t)h->sealed_at, when, sizeof when);
    int rc = -1;
    if (!leaf || !rest)
        cl_fail(err, STRONGBOX_E_VERIFY, "the envelope carries no readable isolate certificate");
    else if (cl_expectations(p, (time_t)h->sealed_at, &acc, &exp, err) != 0)
        ;
    else if (sb_attest_verify_cert(leaf, rest, &exp, &v, &e) != 0)
        cl_fail(err, STRONGBOX_E_VERIFY, "the envelope's isolate certificate does not verify against the "
                                         "policy as of its sealing time %s: %s", when, e.msg);
    else if (sb_sealed_check_signature(env, h, X509_get0_pubkey(leaf), &e) != 0)
        cl_fail(err, STRONGBOX_E_VERIFY, "%s", e.msg);
    else {
        rc = 0;
        sb_hex_encode(v.measurement, v.measurement_len < 8 ? v.measurement_len : 8, m);
        info->origin_checked = 1;
        snprintf(info->origin, sizeof info->origin,
                 "signed at %s by an isolate attested for this policy (platform %s, runtime %s...)",
                 when, v.platform, m);
    }
    free(acc);
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    BIO_free(b);
    return rc;
}

/* The envelope names the policy hash and path it was sealed under; with the party's own copy of
 * the policy, the hash must be that policy's and the origin an isolate attested for it. */
static int check_against_policy(const uint8_t *env, const sb_sealed_header *h, const char *policy_path,
                                const char *expect_path, strongbox_unsealed *info, strongbox_error *err)
{
    if (expect_path && strcmp(expect_path, h->path) != 0)
        return cl_fail(err, STRONGBOX_E_VERIFY, "the envelope holds %s, not %s", h->path, expect_path);
    if (!policy_path) {
        snprintf(info->origin, sizeof info->origin, "origin not checked (give the policy to check it)");
        return 0;
    }
    sb_policy *p = NULL;
    sb_err e = {0};
    if (sb_policy_load(policy_path, 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &e) != 0)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: %s", policy_path, e.msg);
    char want[65];
    sb_hex_encode(sb_policy_hash(p), 32, want);
    int rc = 0;
    if (memcmp(sb_policy_hash(p), h->policy_hash, 32) != 0)
        rc = cl_fail(err, STRONGBOX_E_VERIFY, "the envelope was sealed under policy %s, not %s (%s)",
                     info->policy_hash, want, policy_path);
    else
        rc = check_origin(env, h, p, info, err);
    sb_policy_free(p);
    return rc;
}

int strongbox_unseal(const uint8_t *envelope, size_t len, const char *key_path,
                     const char *policy_path, const char *expect_path, uint8_t **data,
                     size_t *data_len, strongbox_unsealed *info, strongbox_error *err)
{
    uint8_t sk[HPKE_SK_LEN];
    sb_sealed_header h;
    sb_err e = {0};
    *data = NULL;
    *data_len = 0;
    memset(info, 0, sizeof *info);
    if (read_private_key(key_path, sk, err) != 0)
        return -1;
    int rc = sb_sealed_open(envelope, len, sk, &h, data, data_len, &e);
    OPENSSL_cleanse(sk, sizeof sk);
    if (rc != 0)
        return cl_fail(err, STRONGBOX_E_VERIFY, "%s", e.msg);
    snprintf(info->path, sizeof info->path, "%s", h.path);
    sb_hex_encode(h.policy_hash, 32, info->policy_hash);
    info->sealed_at = (time_t)h.sealed_at;
    if (check_against_policy(envelope, &h, policy_path, expect_path, info, err) != 0) {
        OPENSSL_cleanse(*data, *data_len);
        free(*data);
        *data = NULL;
        *data_len = 0;
        return -1;
    }
    return 0;
}
