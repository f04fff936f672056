/* vutil.h - helpers shared by the hardware verifiers (internal to src/verifiers).
 *
 * Certificate chains, raw ECDSA signatures, claim filling. Nothing here keeps state. */
#ifndef SB_VERIFIERS_VUTIL_H
#define SB_VERIFIERS_VUTIL_H

#include "attest/claims.h"

#include <openssl/x509.h>

/* Little/big-endian loads from a bounds-checked buffer (caller checked the length). */
uint16_t sbv_le16(const uint8_t *p);
uint32_t sbv_le32(const uint8_t *p);
uint64_t sbv_le64(const uint8_t *p);

/* Verifies `leaf` up to a self-signed certificate among the anchors, valid at `at`.
 * Untrusted intermediates come from `carried` (the evidence's own certificates, may be NULL) and
 * from the anchors' non-self-signed certificates: an intermediate given with --roots is a hint,
 * never a trust anchor. Every certificate in `carried` must end up in the verified chain. On success writes the chain's subjects (leaf first) into `chain` and, if
 * `root_out` is not NULL, the root it reached (a new reference). */
int sbv_verify_chain(X509 *leaf, STACK_OF(X509) *carried, const sb_trust_anchors *anchors,
                     time_t at, char *chain, size_t chain_len, X509 **root_out, sb_err *err);

/* Verifies an ECDSA signature given as big-endian r and s of `n` bytes each over msg. */
int sbv_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t msg_len,
                        const uint8_t *r, const uint8_t *s, size_t n, sb_err *err);

/* EC public key from an uncompressed point (0x04 || x || y) on the named curve (NID). */
EVP_PKEY *sbv_ec_key_from_point(int curve_nid, const uint8_t *point, size_t len);

/* Parses the concatenated PEM certificates in data[0..len) strictly: exact BEGIN/END lines,
 * strict base64, only line breaks between blocks and NULs at the end, at most 16. A chain inside
 * evidence is checked byte for byte this way so that no damaged byte passes unnoticed. Returns a
 * new stack with at least one certificate, or NULL. */
STACK_OF(X509) *sbv_parse_pem_certs(const uint8_t *data, size_t len, sb_err *err);

/* The certificate's commonName (or "?" when it has none), into buf. */
void sbv_cert_cn(const X509 *cert, char *buf, size_t len);

/* Appends a named measurement; -1 (err set) if the table is full or value too long. */
int sbv_add_measurement(sb_claims *out, const char *name, const uint8_t *value, size_t len,
                        sb_err *err);

/* 1 when all `len` bytes are zero. */
int sbv_all_zero(const uint8_t *p, size_t len);

/* Starts a claims set: zeroes it and names the platform. */
void sbv_claims_init(sb_claims *out, const char *platform);

#endif
