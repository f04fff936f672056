/* sealed.h - a result sealed to its reader (docs/sealed.md): one file encrypted with HPKE
 * (hpke.h) to the reader's P-256 public key, in an envelope that names the computation (policy
 * hash) and the file (path). The whole header is the AEAD's associated data, so changing any byte
 * of the envelope makes it fail to open. Layout (integers big-endian):
 *
 *   magic "SBSEALED" (8) | version = 1 (1) | kem_id 0x0010 (2) | kdf_id 0x0001 (2) |
 *   aead_id 0x0001 (2) | enc (65) | policy hash (32) | path length n (2) | path (n) |
 *   ciphertext length m (8) | ciphertext (m = plaintext length + 16-byte tag)
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
#define SB_SEALED_FIXED_LEN (8 + 1 + 6 + HPKE_PK_LEN + 32 + 2) /* header bytes before the path */
#define SB_SEALED_SUITE ((const uint8_t[6]){0x00, 0x10, 0x00, 0x01, 0x00, 0x01})

typedef struct sb_sealed_header {
    uint8_t policy_hash[32];
    char path[SB_SEALED_PATH_MAX + 1];
} sb_sealed_header;

/* The raw public (65-byte uncompressed point) or private (32-byte scalar) key of a P-256 key;
 * -1 with a clear error for any other kind of key. */
int sb_sealed_public_key(EVP_PKEY *key, uint8_t pk[HPKE_PK_LEN], sb_err *err);
int sb_sealed_private_key(EVP_PKEY *key, uint8_t sk[HPKE_SK_LEN], sb_err *err);

/* Seals pt for pk: *env (malloc'd) is the envelope. */
int sb_sealed_seal(const uint8_t pk[HPKE_PK_LEN], const uint8_t policy_hash[32], const char *path,
                   const uint8_t *pt, size_t pt_len, uint8_t **env, size_t *env_len, sb_err *err);
/* Opens an envelope with the reader's private key: hdr gets what it names, *pt (malloc'd,
 * NUL-terminated for convenience) the plaintext. Refuses with the reason: not an envelope,
 * another version or suite, truncated or extended, wrong key or modified. */
int sb_sealed_open(const uint8_t *env, size_t env_len, const uint8_t sk[HPKE_SK_LEN],
                   sb_sealed_header *hdr, uint8_t **pt, size_t *pt_len, sb_err *err);

#endif
