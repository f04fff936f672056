/* fuzz_csr - the service's direct CSR reader (src/attestd/csr.c) on arbitrary DER, checked against
 * OpenSSL's general parser: whatever the fast reader accepts, OpenSSL must parse too, with a
 * verifying self-signature and the same public key. Seeds: tests/attestd/csr-seeds. */
#include "attestd/csr.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reader takes PEM, as the HTTP API does: wrap the DER. */
static char *to_pem(const uint8_t *der, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL, *p;
    if (b && PEM_write_bio(b, PEM_STRING_X509_REQ, "", der, (long)len) == 1) {
        long n = BIO_get_mem_data(b, &p);
        if ((out = malloc((size_t)n + 1)) != NULL) {
            memcpy(out, p, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(b);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *pem = to_pem(data, size);
    if (!pem)
        return 0;
    EVP_PKEY *key = NULL;
    X509_PUBKEY *spki = NULL;
    if (sb_csr_read_fast(pem, &key, &spki) == CSR_OK) {
        const uint8_t *p = data;
        X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)size);
        EVP_PKEY *general = req ? X509_REQ_get0_pubkey(req) : NULL;
        if (!req || p != data + size || !general || X509_REQ_verify(req, general) != 1 ||
            EVP_PKEY_eq(general, key) != 1)
            abort(); /* the fast path accepted what the general parser refuses */
        X509_REQ_free(req);
    }
    EVP_PKEY_free(key);
    X509_PUBKEY_free(spki);
    free(pem);
    return 0;
}
