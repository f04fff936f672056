/* hpke.h - Hybrid Public Key Encryption (RFC 9180), base mode, for exactly one suite:
 * DHKEM(P-256, HKDF-SHA256) (KEM 0x0010), HKDF-SHA256 (KDF 0x0001), AES-128-GCM (AEAD 0x0001).
 * Built from OpenSSL 3.0 primitives (HMAC, EC point arithmetic, AES-GCM): bookworm's OpenSSL has
 * no HPKE API. Trusted: the runtime seals results with it inside the isolate (docs/tcb.md).
 *
 * Keys are raw: a public key is the 65-byte uncompressed SEC1 point (SerializePublicKey), a
 * private key the 32-byte big-endian scalar (SerializePrivateKey). Errors: -1 with err filled. */
#ifndef SB_HPKE_H
#define SB_HPKE_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

#define HPKE_KEM_P256_SHA256 0x0010
#define HPKE_KDF_SHA256 0x0001
#define HPKE_AEAD_AES128GCM 0x0001
#define HPKE_PK_LEN 65 /* Npk = Nenc */
#define HPKE_SK_LEN 32 /* Nsk */
#define HPKE_SECRET_LEN 32 /* Nsecret = Nh */
#define HPKE_KEY_LEN 16 /* Nk */
#define HPKE_NONCE_LEN 12 /* Nn */
#define HPKE_TAG_LEN 16 /* Nt */
#define HPKE_KS_CONTEXT_LEN 65 /* mode || psk_id_hash || info_hash */

/* A sender's or recipient's context after KeySchedule (RFC 9180 5.1). The intermediate values
 * are kept so the RFC's test vectors can be checked; hpke_ctx_clear() wipes all of it. */
typedef struct hpke_ctx {
    uint8_t shared_secret[HPKE_SECRET_LEN];
    uint8_t ks_context[HPKE_KS_CONTEXT_LEN];
    uint8_t secret[HPKE_SECRET_LEN];
    uint8_t key[HPKE_KEY_LEN];
    uint8_t base_nonce[HPKE_NONCE_LEN];
    uint8_t exporter_secret[HPKE_SECRET_LEN];
} hpke_ctx;

/* DeriveKeyPair (RFC 9180 7.1.3): deterministic key pair from ikm (at least 32 bytes). */
int hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[HPKE_SK_LEN],
                        uint8_t pk[HPKE_PK_LEN], sb_err *err);

/* SetupBaseS: encapsulates to pk_r. ikm_e NULL = a fresh random ephemeral key (the only safe
 * use); a given ikm_e derives it deterministically (test vectors only). */
int hpke_setup_sender(const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info, size_t info_len,
                      const uint8_t *ikm_e, size_t ikm_e_len, uint8_t enc[HPKE_PK_LEN],
                      hpke_ctx *ctx, sb_err *err);
/* SetupBaseR: decapsulates enc with the recipient's private key. */
int hpke_setup_recipient(const uint8_t *enc, size_t enc_len, const uint8_t sk_r[HPKE_SK_LEN],
                         const uint8_t *info, size_t info_len, hpke_ctx *ctx, sb_err *err);

/* Seal/Open of message number seq (nonce = base_nonce XOR seq). ct holds pt_len + HPKE_TAG_LEN
 * bytes; pt holds ct_len - HPKE_TAG_LEN bytes. Open refuses a wrong key, aad or ciphertext. */
int hpke_seal_seq(const hpke_ctx *ctx, uint64_t seq, const uint8_t *aad, size_t aad_len,
                  const uint8_t *pt, size_t pt_len, uint8_t *ct, sb_err *err);
int hpke_open_seq(const hpke_ctx *ctx, uint64_t seq, const uint8_t *aad, size_t aad_len,
                  const uint8_t *ct, size_t ct_len, uint8_t *pt, sb_err *err);
/* Secret export (RFC 9180 5.3); out_len at most 255 * 32. */
int hpke_export(const hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len, uint8_t *out,
                size_t out_len, sb_err *err);
void hpke_ctx_clear(hpke_ctx *ctx);

/* Single-shot (RFC 9180 6.1) with a random ephemeral key: enc and ct as above. */
int hpke_seal(const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info, size_t info_len,
              const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
              uint8_t enc[HPKE_PK_LEN], uint8_t *ct, sb_err *err);
int hpke_open(const uint8_t *enc, size_t enc_len, const uint8_t sk_r[HPKE_SK_LEN],
              const uint8_t *info, size_t info_len, const uint8_t *aad, size_t aad_len,
              const uint8_t *ct, size_t ct_len, uint8_t *pt, sb_err *err);

#endif
