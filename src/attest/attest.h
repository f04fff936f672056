/* attest.h - proxy attestation: PSA tokens (RFC 9783), the evidence binding, the "process"
 * platform's evidence, the verifier registry, isolate certificates (service side), the client-side
 * certificate verifier, and a small client for the strongbox-attestd HTTP API.
 *
 * Outside the trusted computing base of a computation (runs in the service, host, CLI, client).
 * See docs/attestation.md for the formats and the HTTP API. */
#ifndef SB_ATTEST_H
#define SB_ATTEST_H

#include "attest/claims.h"
#include "common/common.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------------
 * PSA attestation token (RFC 9783), both the 2023 profile and the older http://arm.com/psa/2.0.0
 * profile (boot seed under 2397 instead of 268). */

#define SB_PSA_PROFILE_2023 "tag:psacertified.org,2023:psa#tfm"
#define SB_PSA_PROFILE_LEGACY "http://arm.com/psa/2.0.0"
#define SB_PSA_MAX_SW 16
#define SB_PSA_MAX_TOKEN 16384

/* Security lifecycle: the major state is the high byte (value & 0xff00). */
#define SB_PSA_LIFECYCLE_UNKNOWN 0x0000
#define SB_PSA_LIFECYCLE_ASSEMBLY_AND_TEST 0x1000
#define SB_PSA_LIFECYCLE_PROVISIONING 0x2000
#define SB_PSA_LIFECYCLE_SECURED 0x3000
#define SB_PSA_LIFECYCLE_NON_PSA_ROT_DEBUG 0x4000
#define SB_PSA_LIFECYCLE_RECOVERABLE_DEBUG 0x5000
#define SB_PSA_LIFECYCLE_DECOMMISSIONED 0x6000

typedef struct sb_psa_sw_component {
    char type[32];              /* measurement-type (1), "" when absent */
    uint8_t value[64];          /* measurement-value (2), required */
    size_t value_len;
    char version[32];           /* version (4) */
    uint8_t signer_id[64];      /* signer-id (5) */
    size_t signer_id_len;
    char desc[32];              /* measurement-desc (6) */
} sb_psa_sw_component;

typedef struct sb_psa_token {
    char profile[80];
    uint8_t nonce[64];          /* 32, 48 or 64 bytes */
    size_t nonce_len;
    uint8_t instance_id[33];    /* 0x01 || 32 bytes */
    size_t instance_id_len;
    uint8_t implementation_id[32];
    size_t implementation_id_len;
    int64_t client_id;
    uint32_t lifecycle;
    uint8_t boot_seed[32];      /* 8..32 bytes; 0 when absent */
    size_t boot_seed_len;
    char certification_ref[32]; /* "" when absent */
    sb_psa_sw_component sw[SB_PSA_MAX_SW];
    size_t n_sw;
    char verification_service[256]; /* "" when absent */
} sb_psa_token;

/* Lifecycle name ("secured", "non-psa-rot-debug", ...) for the major state of `lifecycle`. */
const char *sb_psa_lifecycle_name(uint32_t lifecycle);
/* Decodes the claims map (a COSE payload), checking every claim's type and size and that the
 * mandatory claims are present (profile-dependent). */
int sb_psa_decode_claims(const uint8_t *payload, size_t len, sb_psa_token *out, sb_err *err);
/* Encodes the claims map (2023 profile keys, or legacy keys when profile is the legacy one). */
int sb_psa_encode_claims(const sb_psa_token *t, uint8_t **out, size_t *out_len, sb_err *err);
/* Verifies a whole token: COSE_Sign1 with `key`, or COSE_Mac0 with `hmac_key` (either may be
 * NULL), then decodes the claims. */
int sb_psa_verify(const uint8_t *token, size_t len, EVP_PKEY *key, const uint8_t *hmac_key,
                  size_t hmac_key_len, sb_psa_token *out, sb_err *err);
/* Signs claims into a tagged COSE_Sign1. */
int sb_psa_sign(const sb_psa_token *t, EVP_PKEY *key, uint8_t **out, size_t *out_len, sb_err *err);
/* The claims as a JSON object text (malloc'd), for the CLI. */
char *sb_psa_to_json(const sb_psa_token *t);
/* sb_evidence_verifier for raw PSA tokens: tries each anchor key (and the HMAC key). Measurements
 * are "sw:<type>" per software component; report_data = nonce; debug = lifecycle not secured. */
int sb_verify_psa(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err);

/* ------------------------------------------------------------------------------------------------
 * Binding: SHA-512("strongbox-attest-v1" || nonce || SHA-256(SPKI DER) || policy_hash). */

#define SB_BINDING_LEN 64
#define SB_NONCE_LEN 32
#define SB_POLICY_HASH_LEN 32

int sb_attest_binding(const uint8_t *nonce, size_t nonce_len, const uint8_t *spki_der,
                      size_t spki_len, const uint8_t policy_hash[SB_POLICY_HASH_LEN],
                      uint8_t out[SB_BINDING_LEN], sb_err *err);
/* Same, taking the public key (its SubjectPublicKeyInfo DER is hashed). */
int sb_attest_binding_for_key(const uint8_t *nonce, size_t nonce_len, EVP_PKEY *key,
                              const uint8_t policy_hash[SB_POLICY_HASH_LEN],
                              uint8_t out[SB_BINDING_LEN], sb_err *err);
/* SHA-256 of a key's SubjectPublicKeyInfo DER. */
int sb_attest_key_hash(EVP_PKEY *key, uint8_t out[32], sb_err *err);

/* ------------------------------------------------------------------------------------------------
 * The "process" platform's evidence: a PSA token (profile SB_PROCESS_PROFILE) signed (ES256/384)
 * by the host's attestation key. instance ID = 0x01 || SHA-256(host key SPKI DER): this is the
 * device id the service looks the key up by. nonce = binding; software component "runtime" =
 * SHA-256 of the runtime binary the host launched. Honest about what it is: it proves what the host
 * launched, not that the host cannot tamper with it (debug = 1 always). */

#define SB_PROCESS_PROFILE "tag:strongbox.dev,2026:process-evidence"

int sb_process_evidence_create(EVP_PKEY *host_key, const uint8_t runtime_hash[32],
                               const uint8_t binding[SB_BINDING_LEN], uint8_t **out,
                               size_t *out_len, sb_err *err);
/* The "kvm" platform's evidence: the same token shape, signed by the same kind of host key, with
 * profile SB_KVM_PROFILE, implementation ID of "kvm" and one component "launch" = the launch
 * measurement of the micro-VM (src/measure, docs/attestation.md). debug = 1 always: the host can
 * read guest memory. */
#define SB_KVM_PROFILE "tag:strongbox.dev,2026:kvm-evidence"

/* Host-signed evidence for a host-rooted platform ("process" or "kvm"). */
int sb_host_evidence_create(const char *platform, EVP_PKEY *host_key,
                            const uint8_t measurement[32], const uint8_t binding[SB_BINDING_LEN],
                            uint8_t **out, size_t *out_len, sb_err *err);
int sb_verify_kvm(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err);
/* The (unverified) instance ID of a process/PSA token, to find the key to verify it with. */
int sb_psa_peek_instance_id(const uint8_t *token, size_t len, uint8_t out[33], size_t *out_len,
                            sb_err *err);
/* sb_evidence_verifier: anchors->keys holds the candidate host key(s). */
int sb_verify_process(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors,
                      time_t at, sb_claims *out, sb_err *err);

/* ------------------------------------------------------------------------------------------------
 * Verifier registry: platform name -> verifier. */

typedef struct sb_platform_info {
    const char *name;           /* "process", "psa", "sev-snp", "tdx", "cca", "nitro" */
    sb_evidence_verifier verify;
    int hardware;               /* 1: rooted in hardware (lifecycle "secured" possible) */
    int device_keyed;           /* 1: trust anchor is a registered per-device key (process, psa) */
} sb_platform_info;

/* NULL when the platform is unknown. */
const sb_platform_info *sb_attest_platform(const char *name);
/* The table, terminated by an entry with name NULL. */
const sb_platform_info *sb_attest_platforms(void);
/* Implementation ID of the proxy token for a platform: SHA-256("strongbox-platform:" || name). */
void sb_attest_platform_impl_id(const char *platform, uint8_t out[32]);

/* ------------------------------------------------------------------------------------------------
 * Isolate certificates (service side). */

/* OID of the extension holding the proxy PSA token (a UUID-derived 2.25 arc). */
#define SB_ATTEST_TOKEN_OID "2.25.13290150849584274681602399877938644479"
#define SB_PROXY_PROFILE SB_PSA_PROFILE_2023

typedef struct sb_issue_params {
    X509 *ca_cert;
    EVP_PKEY *ca_key;
    EVP_PKEY *subject_key;        /* the isolate's key (from the CSR) */
    const sb_claims *claims;      /* verified evidence; measurements[0] is the runtime */
    uint8_t binding[SB_BINDING_LEN];
    uint8_t policy_hash[SB_POLICY_HASH_LEN];
    int hardware;                 /* platform is hardware-rooted */
    const char *service_url;      /* verification service indicator */
    time_t not_before;
    long validity_seconds;        /* default 24 h when 0 */
    uint8_t serial[16];           /* random, chosen by the caller */
    X509_PUBKEY *subject_spki;    /* optional: the CSR's SubjectPublicKeyInfo, copied as is
                                   * (avoids re-encoding subject_key; must be the same key) */
} sb_issue_params;

/* Builds the proxy token and the leaf certificate; *out is the new certificate. */
int sb_attest_issue_cert(const sb_issue_params *p, X509 **out, sb_err *err);
/* Builds (only) the proxy PSA token of an issuance, signed with ca_key. */
int sb_attest_proxy_token(const sb_issue_params *p, uint8_t **out, size_t *out_len, sb_err *err);

/* ------------------------------------------------------------------------------------------------
 * Client-side verification of an isolate certificate. Independent of the policy library: the
 * caller fills the expectations from its policy. */

typedef struct sb_attest_accepted {
    char platform[16];
    uint8_t measurement[SB_MEASUREMENT_MAX];
    size_t len;
} sb_attest_accepted;

typedef struct sb_attest_expect {
    X509 *root;                           /* the policy's attestation root */
    const sb_attest_accepted *accepted;   /* accepted runtime measurements per platform */
    size_t n_accepted;
    int allow_debug;                      /* accept debug / insecure platforms (process, kvm) */
    uint8_t policy_hash[SB_POLICY_HASH_LEN];
    time_t at;                            /* verification time; 0 = now */
} sb_attest_expect;

#define SB_VERDICT_MAX_STEPS 12

typedef struct sb_attest_step {
    char name[32];      /* "chain", "token signature", "instance id", ... */
    int ok;             /* 1 passed, 0 failed, -1 not reached */
    char detail[200];
} sb_attest_step;

typedef struct sb_attest_verdict {
    int ok;                       /* every step passed */
    sb_attest_step steps[SB_VERDICT_MAX_STEPS];
    size_t n_steps;
    char platform[16];            /* from the token's implementation ID ("" when unknown) */
    uint8_t measurement[SB_MEASUREMENT_MAX];
    size_t measurement_len;
    uint8_t policy_hash[SB_POLICY_HASH_LEN];
    uint32_t lifecycle;
    char service[256];
    time_t not_before, not_after;
    sb_psa_token token;
} sb_attest_verdict;

/* Verifies `leaf` (with the chain from the handshake, may be NULL) against `exp`. Returns 0 when
 * every check passes; -1 otherwise with err naming the first failed check. The verdict is filled
 * in either case (steps not reached have ok = -1). */
int sb_attest_verify_cert(X509 *leaf, STACK_OF(X509) *chain, const sb_attest_expect *exp,
                          sb_attest_verdict *v, sb_err *err);
/* A readable transcript of the verdict, one step per line (malloc'd). */
char *sb_attest_verdict_text(const sb_attest_verdict *v);
/* Extracts the proxy token bytes from a certificate (pointer into the certificate). */
int sb_attest_cert_token(X509 *cert, const uint8_t **token, size_t *len, sb_err *err);

/* ------------------------------------------------------------------------------------------------
 * Client for the strongbox-attestd HTTP API (HTTP/1.1 over TCP, one request per connection, bounded
 * responses, timeouts). Body format: JSON, binary as base64 (see docs/attestation.md). */

typedef struct sb_attestd_client {
    char host[256];
    char port[8];
    int timeout_ms;           /* connect/read/write timeout; default 10 s */
    char admin_token[80];     /* for admin calls; "" = none */
    /* NULL (default): one connection per request. Otherwise the caller's connection slot, -1
     * at first: requests then reuse one HTTP/1.1 keep-alive connection (not shared between
     * threads); the caller closes *keepalive when >= 0. */
    int *keepalive;
} sb_attestd_client;

/* url: "http://HOST:PORT" (no path). */
int sb_attestd_client_init(sb_attestd_client *c, const char *url, sb_err *err);
int sb_attestd_challenge(const sb_attestd_client *c, uint8_t nonce[SB_NONCE_LEN], time_t *expires,
                         sb_err *err);
/* Sends platform + evidence + CSR (PEM) + policy hash + the nonce it was bound to. On success
 * *chain_pem is the leaf then the issuing CA (PEM, malloc'd). On refusal returns -1, *http_status
 * (may be NULL) is the 4xx code and err->msg the service's reason ("binding mismatch: ..."). */
int sb_attestd_attest(const sb_attestd_client *c, const char *platform, const uint8_t *evidence,
                      size_t evidence_len, const char *csr_pem,
                      const uint8_t policy_hash[SB_POLICY_HASH_LEN],
                      const uint8_t nonce[SB_NONCE_LEN], char **chain_pem, int *http_status,
                      sb_err *err);
int sb_attestd_root(const sb_attestd_client *c, char **root_pem, sb_err *err);
/* Generic request (for admin calls): method, path, optional JSON body. Adds the admin token when
 * set. *resp is the response body (malloc'd, NUL-terminated). Returns 0 with *status filled when a
 * response arrived (whatever its status), -1 on transport errors. */
int sb_attestd_request(const sb_attestd_client *c, const char *method, const char *path,
                       const char *json_body, int *status, char **resp, size_t *resp_len,
                       sb_err *err);

/* Helpers shared by the service, the host and the CLI. */
char *sb_base64_encode(const uint8_t *in, size_t len);
/* Decodes standard base64 (padding required, no whitespace); *out malloc'd. */
int sb_base64_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len, sb_err *err);
/* A CSR for `key` (subject CN = cn), PEM, malloc'd. */
char *sb_attest_make_csr(EVP_PKEY *key, const char *cn, sb_err *err);

#endif
