/* util.c - base64 and CSR helpers shared by the service, the host and the CLI. */
#include "attest/attest.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

char *sb_base64_encode(const uint8_t *in, size_t len)
{
    if (len > (1u << 28))
        return NULL;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    return out;
}

static int b64_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

int sb_base64_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len, sb_err *err)
{
    *out = NULL;
    if (in_len % 4 != 0 || in_len > (1u << 28))
        return sb_err_set(err, 1, "base64: length %zu is not a multiple of 4", in_len);
    size_t pad = 0;
    if (in_len >= 1 && in[in_len - 1] == '=')
        pad++;
    if (in_len >= 2 && in[in_len - 2] == '=')
        pad++;
    for (size_t i = 0; i < in_len - pad; i++)
        if (!b64_char_ok(in[i]))
            return sb_err_set(err, 1, "base64: invalid character at offset %zu", i);
    uint8_t *buf = malloc(in_len / 4 * 3 + 1);
    if (!buf)
        return sb_err_set(err, 1, "out of memory");
    int n = in_len ? EVP_DecodeBlock(buf, (const unsigned char *)in, (int)in_len) : 0;
    if (n < 0 || (size_t)n < pad) {
        free(buf);
        return sb_err_set(err, 1, "base64: malformed");
    }
    *out = buf;
    *out_len = (size_t)n - pad;
    return 0;
}

char *sb_attest_make_csr(EVP_PKEY *key, const char *cn, sb_err *err)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    int ok = req && name && bio && X509_REQ_set_version(req, 0) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_REQ_set_subject_name(req, name) == 1 && X509_REQ_set_pubkey(req, key) == 1 &&
             X509_REQ_sign(req, key, EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? NULL
                                                                                : EVP_sha256()) > 0 &&
             PEM_write_bio_X509_REQ(bio, req) == 1;
    if (ok) {
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        pem = n > 0 ? strndup(data, (size_t)n) : NULL;
    }
    if (!pem)
        sb_err_set(err, 1, "csr: cannot create a certificate request");
    BIO_free(bio);
    X509_NAME_free(name);
    X509_REQ_free(req);
    return pem;
}
