/* internal.h - helpers shared between the files of src/attest (not a public API). */
#ifndef SB_ATTEST_INTERNAL_H
#define SB_ATTEST_INTERNAL_H

#include "attest/attest.h"

/* Normalised claims from a verified PSA token. */
void sb_attest_psa_claims(const sb_psa_token *t, const char *platform, sb_claims *out);
/* SubjectPublicKeyInfo DER of a key (malloc'd). */
int sb_attest_spki_der(EVP_PKEY *key, uint8_t **der, size_t *len, sb_err *err);
/* Fills a proxy-style instance ID: 0x01 || SHA-256(SPKI DER). */
int sb_attest_instance_id(EVP_PKEY *key, uint8_t out[33], sb_err *err);

#endif
