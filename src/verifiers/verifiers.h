/* verifiers.h - native evidence verifiers for hardware platforms.
 *
 * Each function has the sb_evidence_verifier signature (attest/claims.h): it checks everything the
 * vendor specifies (format, signature, chain to a trust anchor valid at `at`, vendor fields) and
 * fills normalised claims. Policy decisions (accepted measurements, debug acceptable, expected
 * report data) are the caller's. Outside the trusted computing base of a computation: these run in
 * the attestation service and in the CLI. */
#ifndef SB_VERIFIERS_H
#define SB_VERIFIERS_H

#include "attest/claims.h"

/* AMD SEV-SNP attestation report (versions 2 and later), as a Strongbox isolate must be launched:
 * everything sb_verify_snp_report checks, then refused when the guest policy allows debugging
 * (bit 19) or a migration agent (bit 18), or the report comes from a VMPL other than 0. This is
 * the verifier registered for platform sev-snp. */
int sb_verify_snp(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err);
/* The vendor's checks alone (format, signature, chain, TCB, chip ID); debug is exposed in the
 * claims, not refused. For inspecting evidence and for tests; never enough to trust an isolate. */
int sb_verify_snp_report(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors,
                         time_t at, sb_claims *out, sb_err *err);
/* Intel TDX quote, versions 4 and 5. Refuses a TD with TD_ATTRIBUTES.DEBUG set. The primary
 * measurement is "td-launch" (sb_tdx_launch_composite), then mrtd, rtmr0..rtmr3 and the rest. */
int sb_verify_tdx(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err);
/* The TDX launch measurement a policy lists: SHA-384(MRTD || RTMR0 || RTMR1 || RTMR2), each 48
 * bytes, concatenated in that order (docs/attestation.md). 0, or -1 if hashing fails. Shared with
 * `strongbox measure --platform tdx`, so the verifier and the calculator cannot drift apart. */
int sb_tdx_launch_composite(const uint8_t mrtd[48], const uint8_t rtmr0[48],
                            const uint8_t rtmr1[48], const uint8_t rtmr2[48], uint8_t out[48]);
/* Arm CCA attestation token: tag 399 collection or tag 907 (CMW) collection. */
int sb_verify_cca(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                  sb_claims *out, sb_err *err);
/* AWS Nitro Enclaves attestation document (COSE_Sign1, tagged or untagged). */
int sb_verify_nitro(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                    sb_claims *out, sb_err *err);

/* Optional policy helper for callers that know the binding they asked for: 0 when the claims'
 * report data is exactly `want` (compared in constant time), else -1 with err saying so. */
int sb_claims_expect_report_data(const sb_claims *claims, const uint8_t *want, size_t want_len,
                                 sb_err *err);

#endif
