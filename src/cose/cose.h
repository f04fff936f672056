/* cose.h - COSE_Sign1 and COSE_Mac0 (RFC 9052/9053) on OpenSSL, with the strict CBOR reader.
 *
 * Decoding is separate from verification: sb_cose_decode() splits a message (tagged 18/17 or
 * untagged) into pointers into the caller's buffer and reads the algorithm; the verify functions
 * rebuild the Sig_structure / MAC_structure and check it. Header parameters are looked up with
 * sb_cose_header_find(). Nothing is allocated by decoding; the message must outlive the sb_cose_msg.
 *
 * Rules enforced when decoding (error messages say which):
 *   - exactly one COSE array of 4 elements, nothing after it; definite lengths only;
 *   - protected header: a byte string holding a map (or empty); unprotected: a map;
 *   - no header label twice, and no label in both buckets; "alg" (1) must be protected;
 *   - "crit" (2) is refused: no extension header is understood here;
 *   - payload: byte string, or nil (detached: verification then needs the payload given);
 *   - ECDSA: the algorithm must match the key's curve (ES256/P-256, ES384/P-384, ES512/P-521)
 *     and the signature must be exactly r||s of the curve's size. */
#ifndef SB_COSE_H
#define SB_COSE_H

#include "common/common.h"
#include "cose/cbor.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define SB_COSE_MAX_MESSAGE (1u << 20) /* refuse messages larger than 1 MiB */

/* Algorithm identifiers (IANA COSE Algorithms). */
#define SB_COSE_ALG_ES256 (-7)
#define SB_COSE_ALG_ES384 (-35)
#define SB_COSE_ALG_ES512 (-36)
#define SB_COSE_ALG_HMAC256 5 /* HMAC 256/256 */
#define SB_COSE_ALG_HMAC384 6
#define SB_COSE_ALG_HMAC512 7

/* Header labels. */
#define SB_COSE_HDR_ALG 1
#define SB_COSE_HDR_CRIT 2
#define SB_COSE_HDR_CONTENT_TYPE 3
#define SB_COSE_HDR_KID 4
#define SB_COSE_HDR_X5CHAIN 33

/* CBOR tags of the messages. */
#define SB_COSE_TAG_SIGN1 18
#define SB_COSE_TAG_MAC0 17

/* COSE_Key curves (crv). */
#define SB_COSE_CRV_P256 1
#define SB_COSE_CRV_P384 2
#define SB_COSE_CRV_P521 3

typedef enum sb_cose_type {
    SB_COSE_ANY = 0,
    SB_COSE_SIGN1 = 1,
    SB_COSE_MAC0 = 2,
} sb_cose_type;

typedef struct sb_cose_msg {
    sb_cose_type type;        /* from the tag; for untagged input, the type asked for */
    int tagged;
    const uint8_t *protected_hdr; /* contents of the protected bstr (an encoded map, or empty) */
    size_t protected_len;
    const uint8_t *unprotected_hdr; /* the encoded unprotected map */
    size_t unprotected_len;
    const uint8_t *payload;   /* NULL when detached (nil) */
    size_t payload_len;
    const uint8_t *sig;       /* signature (Sign1) or tag (Mac0) */
    size_t sig_len;
    int64_t alg;              /* protected "alg" */
} sb_cose_msg;

/* Decodes a COSE_Sign1 or COSE_Mac0. `expect` = SB_COSE_ANY accepts either when tagged; untagged
 * input needs `expect` to say which it is. */
int sb_cose_decode(const uint8_t *in, size_t len, sb_cose_type expect, sb_cose_msg *out,
                   sb_err *err);

/* Finds header `label` (protected first, then unprotected). On success *value is a reader
 * positioned on the value (read it with the sb_cbor_read_* functions) and *in_protected says
 * where it was. Returns 0 found, 1 absent, -1 malformed. */
int sb_cose_header_find(const sb_cose_msg *m, int64_t label, sb_cbor *value, int *in_protected,
                        sb_err *err);
/* The kid (label 4), if present: 0 found, 1 absent, -1 malformed. */
int sb_cose_kid(const sb_cose_msg *m, const uint8_t **kid, size_t *kid_len, sb_err *err);

/* Verifies a decoded COSE_Sign1 against `key` (an EC public key). external_aad may be NULL.
 * detached_payload is used only when the message's payload is nil. */
int sb_cose_sign1_verify(const sb_cose_msg *m, EVP_PKEY *key, const uint8_t *external_aad,
                         size_t aad_len, const uint8_t *detached_payload, size_t detached_len,
                         sb_err *err);
/* Verifies a decoded COSE_Mac0 with HMAC (algs 5, 6, 7) and a raw key. */
int sb_cose_mac0_verify(const sb_cose_msg *m, const uint8_t *key, size_t key_len,
                        const uint8_t *external_aad, size_t aad_len, sb_err *err);

/* Signs `payload` into a COSE_Sign1. alg: ES256/ES384/ES512 matching the key's curve (0 picks the
 * one that matches). kid may be NULL. The protected header carries alg (and content type when
 * content_type >= 0); kid goes in the unprotected header. *out is malloc'd. */
int sb_cose_sign1_sign(EVP_PKEY *key, int64_t alg, int64_t content_type, const uint8_t *kid,
                       size_t kid_len, const uint8_t *payload, size_t payload_len, int tagged,
                       uint8_t **out, size_t *out_len, sb_err *err);
/* The same with any unprotected header: `unprotected` is an encoded CBOR map (NULL: empty), e.g.
 * {33: x5chain}. alg 0 picks the algorithm of the key's curve. Defined in sign1.c, which (with the
 * CBOR writer) is all the runtime links of this library. */
int sb_cose_sign1_create(EVP_PKEY *key, int64_t alg, int64_t content_type,
                         const uint8_t *unprotected, size_t unprotected_len, const uint8_t *payload,
                         size_t payload_len, int tagged, uint8_t **out, size_t *out_len,
                         sb_err *err);
/* Sig_structure / MAC_structure [context, protected, external_aad, payload] into b (freed on
 * failure; the caller frees it on success). */
int sb_cose_sig_structure(const char *context, const uint8_t *prot, size_t prot_len,
                          const uint8_t *aad, size_t aad_len, const uint8_t *payload,
                          size_t payload_len, sb_cbuf *b, sb_err *err);
/* Creates a COSE_Mac0 (HMAC 5/6/7); used to produce test material and for symmetric evidence. */
int sb_cose_mac0_create(const uint8_t *key, size_t key_len, int64_t alg, const uint8_t *payload,
                        size_t payload_len, int tagged, uint8_t **out, size_t *out_len,
                        sb_err *err);

/* An EC public key from a COSE_Key map (kty 2 EC2, crv P-256/P-384/P-521, x, y). */
int sb_cose_key_decode(const uint8_t *cose_key, size_t len, EVP_PKEY **out, sb_err *err);
/* An EC public key from an uncompressed SEC1 point (0x04 || X || Y); crv picks the curve, or 0
 * to infer it from the length (65, 97, 133 bytes). */
int sb_cose_key_from_point(int crv, const uint8_t *point, size_t len, EVP_PKEY **out, sb_err *err);
/* Encodes a public EC key as an uncompressed SEC1 point into out (133 bytes suffice). */
int sb_cose_key_to_point(EVP_PKEY *key, uint8_t *out, size_t out_cap, size_t *out_len,
                         sb_err *err);

#endif
