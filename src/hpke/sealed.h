/* sealed.h - a result sealed to its reader (docs/sealed.md): one file encrypted with HPKE
 * (hpke.h) to the reader's P-256 public key, in an envelope that names the computation (policy
 * hash), the time and the file (path), signed by the isolate's attested key. The whole header is
 * the AEAD's associated data, so changing any byte of it or of the ciphertext makes the envelope
 * fail to open; the signature covers both. Layout (integers big-endian):
 *
 *   magic "SBSEALED" (8) | version = 1 (1) | kem_id 0x0010 (2) | kdf_id 0x0001 (2) |
 *   aead_id 0x0001 (2) | enc (65) | policy hash (32) | sealed at, Unix seconds (8) |
 *   path length n (2) | path (n) | ciphertext length m (8) | ciphertext (m = plaintext + 16) |
 *   signature length s (2) | signature (s: ECDSA-SHA256, DER, over every byte before s) |
 *   chain length c (4) | chain (c: the isolate's certificate chain, PEM, leaf first)
 *
 * HPKE info is "strongbox sealed result v1". Trusted (the runtime seals); the client opens. */
#ifndef SB_HPKE_SEALED_H
#define SB_HPKE_SEALED_H

#include "common/common.h"
#include "hpke/hpke.h"

#include <openssl/evp.h>

#define SB_SEALED_MAGIC "SBSEALED"
#define SB_SEALED_VERSION 1
#define SB_SEALED_PATH_MAX 1024
#define SB_SEALED_INFO "strongbox sealed result v1"
#define SB_SEALED_FIXED_LEN (8 + 1 + 6 + HPKE_PK_LEN + 32 + 8 + 2) /* header bytes before the path */
#define SB_SEALED_SIG_MAX 256
#define SB_SEALED_CHAIN_MAX (64u * 1024u)
#define SB_SEALED_SUITE ((const uint8_t[6]){0x00, 0x10, 0x00, 0x01, 0x00, 0x01})

typedef struct sb_sealed_header {
    uint8_t policy_hash[32];
    uint64_t sealed_at;               /* the isolate's clock, Unix seconds */
    char path[SB_SEALED_PATH_MAX + 1];
    size_t signed_len;                /* bytes the signature covers (from the start) */
    const uint8_t *sig, *chain;       /* point into the envelope */
    size_t sig_len, chain_len;
} sb_sealed_header;

/* The raw public (65-byte uncompressed point) or private (32-byte scalar) key of a P-256 key;
 * -1 with a clear error for any other kind of key. */
int sb_sealed_public_key(EVP_PKEY *key, uint8_t pk[HPKE_PK_LEN], sb_err *err);
int sb_sealed_private_key(EVP_PKEY *key, uint8_t sk[HPKE_SK_LEN], sb_err *err);

/* Seals pt for pk and signs the envelope with sign_key (the isolate's attested key), whose
 * certificate chain (PEM, leaf first) goes with it: *env (malloc'd) is the envelope. */
int sb_sealed_seal(const uint8_t pk[HPKE_PK_LEN], const uint8_t policy_hash[32], uint64_t sealed_at,
                   const char *path, const uint8_t *pt, size_t pt_len, EVP_PKEY *sign_key,
                   const uint8_t *chain, size_t chain_len, uint8_t **env, size_t *env_len, sb_err *err);
/* Opens an envelope with the reader's private key: hdr gets what it names, *pt (malloc'd,
 * NUL-terminated for convenience) the plaintext. Refuses with the reason: not an envelope,
 * another version or suite, truncated or extended, wrong key or modified. The signature is NOT
 * checked here (that needs the policy: sb_sealed_check_signature after verifying the chain). */
int sb_sealed_open(const uint8_t *env, size_t env_len, const uint8_t sk[HPKE_SK_LEN],
                   sb_sealed_header *hdr, uint8_t **pt, size_t *pt_len, sb_err *err);

/* Checks hdr's signature over env with the key of the (already verified) leaf certificate. */
int sb_sealed_check_signature(const uint8_t *env, const sb_sealed_header *hdr, EVP_PKEY *leaf_key,
                              sb_err *err);

#endif
