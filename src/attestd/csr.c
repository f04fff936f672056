/* csr.c - a direct reader for the common CSR: P-256 key signed with ecdsa-with-SHA256.
 *
 * Why: OpenSSL 3.0's d2i_X509_REQ decodes the public key through a freshly built OSSL_DECODER
 * context, about a quarter of the service's CPU per attestation. This reader takes the key
 * straight from the DER (EVP_PKEY_fromdata, which checks the point is on the curve) and checks
 * the self-signature over the exact CertificationRequestInfo bytes. Anything it does not
 * recognise byte for byte goes to the general OpenSSL path instead, so it never accepts more. */
#include "attestd/csr.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <string.h>

/* id-ecPublicKey + prime256v1, then the BIT STRING header of a 65-byte uncompressed point. */
static const uint8_t spki_p256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
                                    0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                    0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
/* AlgorithmIdentifier ecdsa-with-SHA256, no parameters */
static const uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x04, 0x03, 0x02};

typedef struct tlv {
    const uint8_t *start, *body, *end; /* whole element, contents, one past the end */
} tlv;

/* One DER element of `tag` at *p (lengths up to 0xffff), bounded by end. */
static int read_tlv(const uint8_t **p, const uint8_t *end, uint8_t tag, tlv *t)
{
    const uint8_t *q = *p;
    if (end - q < 2 || q[0] != tag)
        return -1;
    size_t len = q[1], hdr = 2;
    if (len == 0x81 && end - q >= 3 && q[2] >= 0x80)
        len = q[2], hdr = 3;
    else if (len == 0x82 && end - q >= 4 && q[2] != 0)
        len = (size_t)q[2] << 8 | q[3], hdr = 4;
    else if (len >= 0x80)
        return -1;
    if ((size_t)(end - q) - hdr < len)
        return -1;
    t->start = q;
    t->body = q + hdr;
    t->end = q + hdr + len;
    *p = t->end;
    return 0;
}

static EVP_PKEY *p256_key(const uint8_t point[65])
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, 65), OSSL_PARAM_END};
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    if (!pc || EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(pc);
    return key;
}

static X509_PUBKEY *p256_spki(const uint8_t point[65])
{
    X509_PUBKEY *pk = X509_PUBKEY_new();
    unsigned char *copy = OPENSSL_memdup(point, 65);
    if (!pk || !copy ||
        X509_PUBKEY_set0_param(pk, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                               OBJ_nid2obj(NID_X9_62_prime256v1), copy, 65) != 1) {
        OPENSSL_free(copy);
        X509_PUBKEY_free(pk);
        return NULL;
    }
    return pk;
}

static int verify_sig(EVP_PKEY *key, const tlv *info, const uint8_t *sig, size_t sig_len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(m, sig, sig_len, info->start, (size_t)(info->end - info->start)) == 1;
    EVP_MD_CTX_free(m);
    return ok;
}

/* The DER walk: fills the point and the signed part, or says "not the common shape". */
static int common_shape(const uint8_t *der, size_t len, tlv *info, const uint8_t **point,
                        tlv *sig)
{
    const uint8_t *p = der, *end = der + len;
    tlv req, name, spki, attrs;
    if (read_tlv(&p, end, 0x30, &req) < 0 || p != end)
        return -1;
    p = req.body;
    if (read_tlv(&p, req.end, 0x30, info) < 0 || req.end - p < (long)sizeof alg_ecdsa_sha256 ||
        memcmp(p, alg_ecdsa_sha256, sizeof alg_ecdsa_sha256) != 0)
        return -1;
    p += sizeof alg_ecdsa_sha256;
    if (read_tlv(&p, req.end, 0x03, sig) < 0 || p != req.end || sig->end - sig->body < 2 ||
        sig->body[0] != 0)
        return -1;
    const uint8_t *q = info->body;
    static const uint8_t v1[] = {0x02, 0x01, 0x00};
    if (info->end - q < 3 || memcmp(q, v1, 3) != 0)
        return -1;
    q += 3;
    if (read_tlv(&q, info->end, 0x30, &name) < 0 || read_tlv(&q, info->end, 0x30, &spki) < 0 ||
        read_tlv(&q, info->end, 0xa0, &attrs) < 0 || q != info->end)
        return -1;
    if (spki.end - spki.start != (long)sizeof spki_p256 + 64 ||
        memcmp(spki.start, spki_p256, sizeof spki_p256) != 0)
        return -1;
    *point = spki.start + sizeof spki_p256 - 1;
    return 0;
}

int sb_csr_read_fast(const char *pem, EVP_PKEY **key, X509_PUBKEY **spki)
{
    *key = NULL;
    *spki = NULL;
    BIO *b = BIO_new_mem_buf(pem, -1);
    unsigned char *der = NULL;
    long len = 0;
    int got = b && PEM_bytes_read_bio(&der, &len, NULL, PEM_STRING_X509_REQ, b, NULL, NULL) == 1;
    BIO_free(b);
    tlv info, sig;
    const uint8_t *point;
    int rc = CSR_OTHER;
    if (got && len > 0 && common_shape(der, (size_t)len, &info, &point, &sig) == 0) {
        *key = p256_key(point);
        if (!*key) /* not a point on the curve: let the general path name the error */
            rc = CSR_OTHER;
        else if (!verify_sig(*key, &info, sig.body + 1, (size_t)(sig.end - sig.body - 1)))
            rc = CSR_BAD_SIGNATURE;
        else
            rc = (*spki = p256_spki(point)) ? CSR_OK : CSR_OTHER;
        if (rc != CSR_OK) {
            EVP_PKEY_free(*key);
            *key = NULL;
        }
    }
    OPENSSL_free(der);
    return rc;
}
