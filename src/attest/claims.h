/* claims.h - the normalised result of verifying one piece of platform evidence.
 *
 * Every evidence verifier (process-platform PSA token, PSA, AMD SEV-SNP, Intel TDX, Arm CCA,
 * AWS Nitro) fills an sb_claims; the attestation service matches it against what it was asked to
 * vouch for (binding in report_data, measurement accepted, debug rule) and turns it into the one
 * token format clients understand. This header is the contract between src/attest (service side,
 * binding, isolate certificates) and src/verifiers (hardware formats). */
#ifndef SB_ATTEST_CLAIMS_H
#define SB_ATTEST_CLAIMS_H

#include "common/common.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SB_MAX_MEASUREMENTS 32
#define SB_MEASUREMENT_MAX 64

/* One named measurement. measurements[0] of a claims set is the *primary* one: the value a policy's
 * accepted-runtime list is matched against for that platform:
 *   process: "runtime" = SHA-256 of the runtime binary        sev-snp: "launch" (48 bytes)
 *   tdx:     "td-launch" = SHA-384(MRTD||RTMR0||RTMR1||RTMR2) (48), then "mrtd", "rtmr0".."rtmr3"
 *                                                              cca: "rim" (realm initial), then "rem0".."rem3"
 *   nitro:   "pcr0" (48), then the other non-zero PCRs ("pcr1"...) psa:  "sw:<type>" per software component */
typedef struct sb_measurement {
    char name[24];
    uint8_t value[SB_MEASUREMENT_MAX];
    size_t len;
} sb_measurement;

typedef struct sb_claims {
    char platform[16];              /* "process", "kvm", "psa", "sev-snp", "tdx", "cca", "nitro" */
    sb_measurement measurements[SB_MAX_MEASUREMENTS];
    size_t n_measurements;
    uint8_t report_data[64];        /* the caller-chosen data the evidence binds (binding / nonce) */
    size_t report_data_len;
    int debug;                      /* 1: the platform reports a debug or otherwise insecure mode */
    char tcb[256];                  /* TCB / security-version summary, human readable */
    char signer[256];               /* what signed the evidence, e.g. "VCEK (Milan)" */
    char chain[768];                /* subjects of the chain it verified through, leaf first */
    time_t issued_at;               /* evidence timestamp when the format has one, else 0 */
} sb_claims;

/* Everything a verifier may trust besides what the evidence carries itself: vendor roots,
 * intermediates, a VCEK/VLEK, a CCA platform key, a device key, an HMAC key for COSE_Mac0. */
typedef struct sb_trust_anchors {
    X509 **certs;
    size_t n_certs;
    EVP_PKEY **keys;
    size_t n_keys;
    const uint8_t *hmac_key;
    size_t hmac_key_len;
} sb_trust_anchors;

/* A verifier: checks `evidence` completely (format, signatures, chain to an anchor valid at time
 * `at`, vendor-specified fields) and fills `out`. It does not decide policy (accepted measurements,
 * whether debug is acceptable, whether report_data is the expected binding): the caller does.
 * Returns 0, or -1 with err->msg naming exactly what failed. */
typedef int (*sb_evidence_verifier)(const uint8_t *evidence, size_t len,
                                    const sb_trust_anchors *anchors, time_t at, sb_claims *out,
                                    sb_err *err);

#endif
