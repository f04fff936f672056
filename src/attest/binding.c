/* binding.c - the evidence binding, the "process" platform's evidence, the verifier registry. */
#include "attest/internal.h"
#include "cose/cose.h"
#include "verifiers/verifiers.h"

#include <openssl/core_names.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BINDING_LABEL "strongbox-attest-v1"

/* DER SubjectPublicKeyInfo prefixes for EC named curves (id-ecPublicKey + curve OID + BIT STRING
 * header); the uncompressed point follows. */
static const uint8_t spki_p256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
                                    0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                    0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static const uint8_t spki_p384[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
                                    0x00, 0x22, 0x03, 0x62, 0x00};

/* OpenSSL 3.0's generic encoder costs ~80 us per call; the attestation path hashes SPKIs several
 * times, so P-256/P-384 keys are encoded directly (same bytes as i2d_PUBKEY, checked in tests). */
static int spki_ec_fast(EVP_PKEY *key, uint8_t **der, size_t *len)
{
    uint8_t pt[97];
    size_t pl = 0;
    char group[32];
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(key, group, sizeof group, NULL) != 1 ||
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof pt,
                                        &pl) != 1)
        return -1;
    int p256 = strcmp(group, "prime256v1") == 0 && pl == 65;
    int p384 = strcmp(group, "secp384r1") == 0 && pl == 97;
    const uint8_t *prefix = p256 ? spki_p256 : spki_p384;
    size_t plen = p256 ? sizeof spki_p256 : sizeof spki_p384;
    if ((!p256 && !p384) || pt[0] != 0x04)
        return -1;
    uint8_t *out = OPENSSL_malloc(plen + pl);
    if (!out)
        return -1;
    memcpy(out, prefix, plen);
    memcpy(out + plen, pt, pl);
    *der = out;
    *len = plen + pl;
    return 0;
}

int sb_attest_spki_der(EVP_PKEY *key, uint8_t **der, size_t *len, sb_err *err)
{
    *der = NULL;
    if (key && spki_ec_fast(key, der, len) == 0)
        return 0;
    int n = key ? i2d_PUBKEY(key, der) : -1;
    if (n <= 0)
        return sb_err_set(err, 1, "attest: cannot encode the public key");
    *len = (size_t)n;
    return 0;
}

int sb_attest_key_hash(EVP_PKEY *key, uint8_t out[32], sb_err *err)
{
    uint8_t *der;
    size_t len = 0;
    if (sb_attest_spki_der(key, &der, &len, err) < 0)
        return -1;
    SHA256(der, len, out);
    OPENSSL_free(der);
    return 0;
}

int sb_attest_instance_id(EVP_PKEY *key, uint8_t out[33], sb_err *err)
{
    out[0] = 0x01;
    return sb_attest_key_hash(key, out + 1, err);
}

int sb_attest_binding(const uint8_t *nonce, size_t nonce_len, const uint8_t *spki_der,
                      size_t spki_len, const uint8_t policy_hash[SB_POLICY_HASH_LEN],
                      uint8_t out[SB_BINDING_LEN], sb_err *err)
{
    if (!nonce || nonce_len == 0 || nonce_len > 64)
        return sb_err_set(err, 1, "binding: nonce of %zu bytes (want 1..64)", nonce_len);
    if (!spki_der || spki_len == 0)
        return sb_err_set(err, 1, "binding: no public key");
    uint8_t key_hash[32];
    SHA256(spki_der, spki_len, key_hash);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha512(), NULL) == 1 &&
             EVP_DigestUpdate(c, BINDING_LABEL, strlen(BINDING_LABEL)) == 1 &&
             EVP_DigestUpdate(c, nonce, nonce_len) == 1 &&
             EVP_DigestUpdate(c, key_hash, sizeof key_hash) == 1 &&
             EVP_DigestUpdate(c, policy_hash, SB_POLICY_HASH_LEN) == 1 &&
             EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : sb_err_set(err, 1, "binding: hashing failed");
}

int sb_attest_binding_for_key(const uint8_t *nonce, size_t nonce_len, EVP_PKEY *key,
                              const uint8_t policy_hash[SB_POLICY_HASH_LEN],
                              uint8_t out[SB_BINDING_LEN], sb_err *err)
{
    uint8_t *der;
    size_t len = 0;
    if (sb_attest_spki_der(key, &der, &len, err) < 0)
        return -1;
    int rc = sb_attest_binding(nonce, nonce_len, der, len, policy_hash, out, err);
    OPENSSL_free(der);
    return rc;
}

/* ---- host-rooted platforms: process and kvm ---- */

/* What differs between the host-rooted platforms' tokens: the profile (so a token made for one
 * can never pass as the other's, even under one host key), the component's name and the text. */
static const struct host_platform {
    const char *name, *profile, *component, *tcb;
} host_platforms[] = {
    {"process", SB_PROCESS_PROFILE, "runtime", "process platform (host-trusted, insecure)"},
    {"kvm", SB_KVM_PROFILE, "launch", "kvm platform (host-trusted, insecure: the host can read "
                                      "guest memory)"},
};

static const struct host_platform *host_platform(const char *name)
{
    for (size_t i = 0; name && i < sizeof host_platforms / sizeof *host_platforms; i++)
        if (strcmp(host_platforms[i].name, name) == 0)
            return &host_platforms[i];
    return NULL;
}

int sb_host_evidence_create(const char *platform, EVP_PKEY *host_key,
                            const uint8_t measurement[32], const uint8_t binding[SB_BINDING_LEN],
                            uint8_t **out, size_t *out_len, sb_err *err)
{
    const struct host_platform *hp = host_platform(platform);
    if (!hp)
        return sb_err_set(err, 1, "platform '%s' has no host-signed evidence",
                          platform ? platform : "(none)");
    sb_psa_token *t = calloc(1, sizeof *t);
    if (!t)
        return sb_err_set(err, 1, "out of memory");
    snprintf(t->profile, sizeof t->profile, "%s", hp->profile);
    memcpy(t->nonce, binding, SB_BINDING_LEN);
    t->nonce_len = SB_BINDING_LEN;
    t->instance_id_len = 33;
    t->implementation_id_len = 32;
    sb_attest_platform_impl_id(hp->name, t->implementation_id);
    t->client_id = -1;
    /* The host is trusted by construction on these platforms: never "secured". */
    t->lifecycle = SB_PSA_LIFECYCLE_NON_PSA_ROT_DEBUG;
    t->n_sw = 1;
    snprintf(t->sw[0].type, sizeof t->sw[0].type, "%s", hp->component);
    memcpy(t->sw[0].value, measurement, 32);
    t->sw[0].value_len = 32;
    snprintf(t->sw[0].desc, sizeof t->sw[0].desc, "sha-256");
    int rc = sb_attest_instance_id(host_key, t->instance_id, err);
    if (rc == 0)
        rc = sb_psa_sign(t, host_key, out, out_len, err);
    free(t);
    return rc;
}

int sb_process_evidence_create(EVP_PKEY *host_key, const uint8_t runtime_hash[32],
                               const uint8_t binding[SB_BINDING_LEN], uint8_t **out,
                               size_t *out_len, sb_err *err)
{
    return sb_host_evidence_create("process", host_key, runtime_hash, binding, out, out_len, err);
}

/* Checks the structure a host-rooted token must have beyond generic PSA validity. */
static int check_host_token(const struct host_platform *hp, const sb_psa_token *t, sb_err *err)
{
    uint8_t impl[32];
    sb_attest_platform_impl_id(hp->name, impl);
    if (strcmp(t->profile, hp->profile) != 0)
        return sb_err_set(err, 1, "%s: profile '%s' is not %s", hp->name, t->profile,
                          hp->profile);
    if (t->implementation_id_len != 32 || memcmp(t->implementation_id, impl, 32) != 0)
        return sb_err_set(err, 1, "%s: implementation ID is not the %s platform's", hp->name,
                          hp->name);
    if (t->nonce_len != SB_BINDING_LEN)
        return sb_err_set(err, 1, "%s: nonce is %zu bytes, want the 64-byte binding", hp->name,
                          t->nonce_len);
    if (t->n_sw != 1 || strcmp(t->sw[0].type, hp->component) != 0 || t->sw[0].value_len != 32)
        return sb_err_set(err, 1, "%s: want exactly one 32-byte '%s' component", hp->name,
                          hp->component);
    return 0;
}

static int verify_host_token(const struct host_platform *hp, const uint8_t *evidence, size_t len,
                             const sb_trust_anchors *anchors, sb_claims *out, sb_err *err)
{
    if (!anchors || anchors->n_keys == 0)
        return sb_err_set(err, 1, "%s: no host attestation key to verify with", hp->name);
    uint8_t iid[33];
    size_t iid_len;
    if (sb_psa_peek_instance_id(evidence, len, iid, &iid_len, err) < 0)
        return -1;
    sb_psa_token *t = malloc(sizeof *t);
    if (!t)
        return sb_err_set(err, 1, "out of memory");
    int rc = -1, matched = 0;
    /* Use the anchor whose fingerprint is the token's instance ID: the key it claims. */
    for (size_t i = 0; i < anchors->n_keys && !matched; i++) {
        uint8_t kid[33];
        if (sb_attest_instance_id(anchors->keys[i], kid, NULL) < 0 || memcmp(kid, iid, 33) != 0)
            continue;
        matched = 1;
        rc = sb_psa_verify(evidence, len, anchors->keys[i], NULL, 0, t, err);
    }
    if (!matched)
        sb_err_set(err, 1, "%s: no trust anchor matches the token's instance ID", hp->name);
    if (rc == 0)
        rc = check_host_token(hp, t, err);
    if (rc == 0) {
        sb_attest_psa_claims(t, hp->name, out);
        snprintf(out->measurements[0].name, sizeof out->measurements[0].name, "%s",
                 hp->component);
        out->debug = 1;
        char hex[67];
        sb_hex_encode(iid, 33, hex);
        snprintf(out->signer, sizeof out->signer, "host attestation key %s", hex);
        snprintf(out->tcb, sizeof out->tcb, "%s", hp->tcb);
    }
    free(t);
    return rc;
}

int sb_verify_process(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors,
                      time_t at, sb_claims *out, sb_err *err)
{
    (void)at;
    return verify_host_token(host_platform("process"), evidence, len, anchors, out, err);
}

int sb_verify_kvm(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err)
{
    (void)at;
    return verify_host_token(host_platform("kvm"), evidence, len, anchors, out, err);
}

/* ---- registry ---- */

/* Hardware formats are added here, one line each, when their verifier exists (src/verifiers). */
static const sb_platform_info platforms[] = {
    {"process", sb_verify_process, 0, 1},
    {"kvm", sb_verify_kvm, 0, 1},
    {"psa", sb_verify_psa, 1, 1},
    {"sev-snp", sb_verify_snp, 1, 0},
    {"tdx", sb_verify_tdx, 1, 0},
    {"cca", sb_verify_cca, 1, 0},
    {"nitro", sb_verify_nitro, 1, 0},
    {NULL, NULL, 0, 0},
};

const sb_platform_info *sb_attest_platforms(void)
{
    return platforms;
}

const sb_platform_info *sb_attest_platform(const char *name)
{
    for (const sb_platform_info *p = platforms; name && p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

void sb_attest_platform_impl_id(const char *platform, uint8_t out[32])
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "strongbox-platform:%s", platform);
    SHA256((const uint8_t *)buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1,
           out);
}
