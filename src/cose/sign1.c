/* sign1.c - creating COSE_Sign1 messages (RFC 9052 section 4) with ECDSA (RFC 9053 section 2.1).
 * Kept apart from cose.c (decoding and verification) so that the runtime, which signs receipts
 * (docs/receipts.md), links only this and the CBOR writer: no decoder, no libcbor. */
#include "cose/cose.h"

#include <openssl/ec.h>
#include <stdlib.h>
#include <string.h>

int sb_cose_sig_structure(const char *context, const uint8_t *prot, size_t prot_len,
                          const uint8_t *aad, size_t aad_len, const uint8_t *payload,
                          size_t payload_len, sb_cbuf *b, sb_err *err)
{
    sb_cbuf_init(b);
    b->max = SB_COSE_MAX_MESSAGE * 2;
    sb_cbor_put_array(b, 4);
    sb_cbor_put_text(b, context);
    sb_cbor_put_bytes(b, prot, prot_len);
    sb_cbor_put_bytes(b, aad, aad ? aad_len : 0);
    sb_cbor_put_bytes(b, payload, payload_len);
    if (sb_cbuf_finish(b, err) < 0) {
        sb_cbuf_free(b);
        return -1;
    }
    return 0;
}

/* The ECDSA algorithm and curve size a key calls for: ES256 P-256, ES384 P-384, ES512 P-521. */
static int64_t alg_of_key(EVP_PKEY *key, int *bits, const EVP_MD **md)
{
    *bits = EVP_PKEY_get_bits(key);
    switch (*bits) {
    case 256: *md = EVP_sha256(); return SB_COSE_ALG_ES256;
    case 384: *md = EVP_sha384(); return SB_COSE_ALG_ES384;
    case 521: *md = EVP_sha512(); return SB_COSE_ALG_ES512;
    default: return 0;
    }
}

/* DER ECDSA-Sig-Value -> r||s, each coordinate `coord` bytes (COSE's fixed-width form). */
static int der_sig_to_raw(const uint8_t *der, size_t der_len, size_t coord, uint8_t *raw)
{
    const uint8_t *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!s)
        return -1;
    const BIGNUM *r, *sv;
    ECDSA_SIG_get0(s, &r, &sv);
    int ok = BN_bn2binpad(r, raw, (int)coord) > 0 && BN_bn2binpad(sv, raw + coord, (int)coord) > 0;
    ECDSA_SIG_free(s);
    return ok ? 0 : -1;
}

static int ecdsa_sign(EVP_PKEY *key, const EVP_MD *md, const sb_cbuf *tbs, uint8_t *raw,
                      size_t coord, sb_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[160];
    size_t der_len = sizeof der;
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestSign(ctx, der, &der_len, tbs->data, tbs->len) == 1 &&
             der_sig_to_raw(der, der_len, coord, raw) == 0;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : sb_err_set(err, 1, "cose: signing failed");
}

/* The protected header: {1: alg} or {1: alg, 3: content type}. */
static int protected_header(int64_t alg, int64_t content_type, sb_cbuf *prot, sb_err *err)
{
    sb_cbuf_init(prot);
    sb_cbor_put_map(prot, content_type >= 0 ? 2 : 1);
    sb_cbor_put_int(prot, SB_COSE_HDR_ALG);
    sb_cbor_put_int(prot, alg);
    if (content_type >= 0) {
        sb_cbor_put_int(prot, SB_COSE_HDR_CONTENT_TYPE);
        sb_cbor_put_int(prot, content_type);
    }
    if (sb_cbuf_finish(prot, err) < 0) {
        sb_cbuf_free(prot);
        return -1;
    }
    return 0;
}

int sb_cose_sign1_create(EVP_PKEY *key, int64_t alg, int64_t content_type,
                         const uint8_t *unprotected, size_t unprotected_len, const uint8_t *payload,
                         size_t payload_len, int tagged, uint8_t **out, size_t *out_len,
                         sb_err *err)
{
    static const uint8_t empty_map = 0xa0;
    int bits = 0;
    const EVP_MD *md = NULL;
    *out = NULL;
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return sb_err_set(err, 1, "cose: signing key is not an EC key");
    int64_t key_alg = alg_of_key(key, &bits, &md);
    if (key_alg == 0 || (alg != 0 && alg != key_alg))
        return sb_err_set(err, 1, "cose: algorithm %lld needs a P-%d key, key is %d bits",
                          (long long)alg, alg == SB_COSE_ALG_ES384 ? 384 : alg == SB_COSE_ALG_ES512 ? 521 : 256,
                          EVP_PKEY_get_bits(key));
    if (payload_len > SB_COSE_MAX_MESSAGE / 2 || unprotected_len > SB_COSE_MAX_MESSAGE / 4)
        return sb_err_set(err, 1, "cose: payload or header too large");
    sb_cbuf prot, tbs, msg;
    if (protected_header(key_alg, content_type, &prot, err) < 0)
        return -1;
    uint8_t raw[2 * 66];
    size_t coord = ((size_t)bits + 7) / 8;
    int rc = sb_cose_sig_structure("Signature1", prot.data, prot.len, NULL, 0, payload,
                                   payload_len, &tbs, err);
    if (rc == 0) {
        rc = ecdsa_sign(key, md, &tbs, raw, coord, err);
        sb_cbuf_free(&tbs);
    }
    if (rc == 0) {
        sb_cbuf_init(&msg);
        if (tagged)
            sb_cbor_put_tag(&msg, SB_COSE_TAG_SIGN1);
        sb_cbor_put_array(&msg, 4);
        sb_cbor_put_bytes(&msg, prot.data, prot.len);
        if (unprotected)
            sb_cbor_put_raw(&msg, unprotected, unprotected_len);
        else
            sb_cbor_put_raw(&msg, &empty_map, 1);
        sb_cbor_put_bytes(&msg, payload, payload_len);
        sb_cbor_put_bytes(&msg, raw, 2 * coord);
        rc = sb_cbuf_finish(&msg, err);
        if (rc == 0) {
            *out = msg.data;
            *out_len = msg.len;
        } else {
            sb_cbuf_free(&msg);
        }
    }
    sb_cbuf_free(&prot);
    return rc;
}
