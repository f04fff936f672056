/* csr.h - direct reader for P-256 / ecdsa-with-SHA256 CSRs (see csr.c for why). */
#ifndef SB_ATTESTD_CSR_H
#define SB_ATTESTD_CSR_H

#include <openssl/evp.h>
#include <openssl/x509.h>

enum { CSR_OK = 0, CSR_OTHER = 1, CSR_BAD_SIGNATURE = 2 };

/* CSR_OK: *key and *spki (caller frees) hold the request's key, its self-signature verified.
 * CSR_BAD_SIGNATURE: the common shape, but the self-signature does not verify.
 * CSR_OTHER: not recognised byte for byte (or out of memory): use the general parser. */
int sb_csr_read_fast(const char *pem, EVP_PKEY **key, X509_PUBKEY **spki);

#endif
