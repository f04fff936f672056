/* cose.c - COSE_Sign1 / COSE_Mac0 decoding, verification and signing (RFC 9052, RFC 9053). */
#include "cose/cose.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER_ENTRIES 64 /* bounds the duplicate-label check */

/* Collects the encoded labels of a header map so duplicates can be found. */
typedef struct label_set {
    const uint8_t *raw[MAX_HEADER_ENTRIES];
    size_t len[MAX_HEADER_ENTRIES];
    size_t n;
} label_set;

static int label_seen(const label_set *s, const uint8_t *raw, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->len[i] == len && memcmp(s->raw[i], raw, len) == 0)
            return 1;
    return 0;
}

/* Walks a header map: labels must be int or text, unique (also across `other`); records "alg". */
static int scan_header_map(const uint8_t *map, size_t map_len, const char *which, label_set *seen,
                           int64_t *alg, int *has_alg, sb_err *err)
{
    sb_cbor r;
    size_t n;
    sb_cbor_init(&r, map, map_len);
    if (sb_cbor_read_map(&r, &n, err) < 0) {
        sb_err_prefix(err, "cose: %s header", which);
        return -1;
    }
    if (n > MAX_HEADER_ENTRIES - seen->n)
        return sb_err_set(err, 1, "cose: %s header has too many entries (%zu)", which, n);
    for (size_t i = 0; i < n; i++) {
        int mt = sb_cbor_peek(&r);
        if (mt != SB_CBOR_UINT && mt != SB_CBOR_NEGINT && mt != SB_CBOR_TEXT)
            return sb_err_set(err, 1, "cose: %s header label must be an integer or text", which);
        const uint8_t *lraw;
        size_t llen;
        sb_cbor lr = r;
        if (sb_cbor_read_raw(&r, &lraw, &llen, err) < 0)
            return -1;
        if (label_seen(seen, lraw, llen))
            return sb_err_set(err, 1, "cose: header label appears twice (%s header)", which);
        seen->raw[seen->n] = lraw;
        seen->len[seen->n++] = llen;
        int64_t label = 0;
        int is_int = mt != SB_CBOR_TEXT && sb_cbor_read_int(&lr, &label, NULL) == 0;
        if (is_int && label == SB_COSE_HDR_CRIT)
            return sb_err_set(err, 1, "cose: critical header parameters are not supported");
        if (is_int && label == SB_COSE_HDR_ALG) {
            if (!alg)
                return sb_err_set(err, 1, "cose: alg must be in the protected header");
            if (sb_cbor_read_int(&r, alg, err) < 0) {
                sb_err_prefix(err, "cose: alg");
                return -1;
            }
            *has_alg = 1;
            continue;
        }
        if (sb_cbor_skip(&r, err) < 0)
            return -1;
    }
    if (sb_cbor_remaining(&r) != 0)
        return sb_err_set(err, 1, "cose: trailing bytes in %s header", which);
    return 0;
}

static int decode_envelope(sb_cbor *r, sb_cose_type expect, sb_cose_msg *m, sb_err *err)
{
    if (sb_cbor_peek(r) == SB_CBOR_TAG) {
        uint64_t tag;
        if (sb_cbor_read_tag(r, &tag, err) < 0)
            return -1;
        if (tag == SB_COSE_TAG_SIGN1)
            m->type = SB_COSE_SIGN1;
        else if (tag == SB_COSE_TAG_MAC0)
            m->type = SB_COSE_MAC0;
        else
            return sb_err_set(err, 1, "cose: unexpected tag %llu (want 18 Sign1 or 17 Mac0)",
                              (unsigned long long)tag);
        if (expect != SB_COSE_ANY && expect != m->type)
            return sb_err_set(err, 1, "cose: message is a %s, expected a %s",
                              m->type == SB_COSE_SIGN1 ? "COSE_Sign1" : "COSE_Mac0",
                              expect == SB_COSE_SIGN1 ? "COSE_Sign1" : "COSE_Mac0");
        m->tagged = 1;
    } else {
        if (expect == SB_COSE_ANY)
            return sb_err_set(err, 1, "cose: untagged message and no type expected");
        m->type = expect;
    }
    size_t n;
    if (sb_cbor_read_array(r, &n, err) < 0) {
        sb_err_prefix(err, "cose: message");
        return -1;
    }
    if (n != 4)
        return sb_err_set(err, 1, "cose: message array has %zu elements, want 4", n);
    return 0;
}

int sb_cose_decode(const uint8_t *in, size_t len, sb_cose_type expect, sb_cose_msg *m, sb_err *err)
{
    memset(m, 0, sizeof *m);
    if (!in || len == 0)
        return sb_err_set(err, 1, "cose: empty message");
    if (len > SB_COSE_MAX_MESSAGE)
        return sb_err_set(err, 1, "cose: message of %zu bytes exceeds the %u-byte cap", len,
                          SB_COSE_MAX_MESSAGE);
    sb_cbor r;
    sb_cbor_init(&r, in, len);
    if (decode_envelope(&r, expect, m, err) < 0)
        return -1;
    if (sb_cbor_read_bytes(&r, &m->protected_hdr, &m->protected_len, err) < 0) {
        sb_err_prefix(err, "cose: protected header");
        return -1;
    }
    if (sb_cbor_read_raw(&r, &m->unprotected_hdr, &m->unprotected_len, err) < 0) {
        sb_err_prefix(err, "cose: unprotected header");
        return -1;
    }
    if (r.p < r.end && r.p[0] == 0xf6) { /* nil: detached payload */
        r.p++;
    } else if (sb_cbor_read_bytes(&r, &m->payload, &m->payload_len, err) < 0) {
        sb_err_prefix(err, "cose: payload");
        return -1;
    }
    if (sb_cbor_read_bytes(&r, &m->sig, &m->sig_len, err) < 0) {
        sb_err_prefix(err, m->type == SB_COSE_SIGN1 ? "cose: signature" : "cose: tag");
        return -1;
    }
    if (sb_cbor_remaining(&r) != 0)
        return sb_err_set(err, 1, "cose: %zu trailing bytes after the message",
                          sb_cbor_remaining(&r));
    label_set seen = {.n = 0};
    int has_alg = 0;
    if (m->protected_len > 0 &&
        scan_header_map(m->protected_hdr, m->protected_len, "protected", &seen, &m->alg, &has_alg,
                        err) < 0)
        return -1;
    if (scan_header_map(m->unprotected_hdr, m->unprotected_len, "unprotected", &seen, NULL, NULL,
                        err) < 0)
        return -1;
    if (!has_alg)
        return sb_err_set(err, 1, "cose: no alg in the protected header");
    return 0;
}

static int find_in_map(const uint8_t *map, size_t len, int64_t label, sb_cbor *value, sb_err *err)
{
    sb_cbor r;
    size_t n;
    sb_cbor_init(&r, map, len);
    if (sb_cbor_read_map(&r, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t l;
        if (sb_cbor_peek(&r) != SB_CBOR_TEXT && sb_cbor_read_int(&r, &l, NULL) == 0) {
            if (l == label) {
                *value = r;
                return 0;
            }
        } else if (sb_cbor_skip(&r, err) < 0) {
            return -1;
        }
        if (sb_cbor_skip(&r, err) < 0)
            return -1;
    }
    return 1;
}

int sb_cose_header_find(const sb_cose_msg *m, int64_t label, sb_cbor *value, int *in_protected,
                        sb_err *err)
{
    int rc = 1;
    if (m->protected_len > 0) {
        rc = find_in_map(m->protected_hdr, m->protected_len, label, value, err);
        if (rc <= 0) {
            if (in_protected)
                *in_protected = 1;
            return rc;
        }
    }
    rc = find_in_map(m->unprotected_hdr, m->unprotected_len, label, value, err);
    if (rc == 0 && in_protected)
        *in_protected = 0;
    return rc;
}

int sb_cose_kid(const sb_cose_msg *m, const uint8_t **kid, size_t *kid_len, sb_err *err)
{
    sb_cbor v;
    int rc = sb_cose_header_find(m, SB_COSE_HDR_KID, &v, NULL, err);
    if (rc != 0)
        return rc;
    if (sb_cbor_read_bytes(&v, kid, kid_len, err) < 0) {
        sb_err_prefix(err, "cose: kid");
        return -1;
    }
    return 0;
}

/* Builds ["Signature1" | "MAC0", protected, external_aad, payload]. */
static int to_be_signed(const char *context, const sb_cose_msg *m, const uint8_t *aad,
                        size_t aad_len, const uint8_t *payload, size_t payload_len, sb_cbuf *b,
                        sb_err *err)
{
    return sb_cose_sig_structure(context, m->protected_hdr, m->protected_len, aad, aad_len,
                                 payload, payload_len, b, err);
}

static const EVP_MD *ecdsa_md(int64_t alg, int *bits)
{
    switch (alg) {
    case SB_COSE_ALG_ES256: *bits = 256; return EVP_sha256();
    case SB_COSE_ALG_ES384: *bits = 384; return EVP_sha384();
    case SB_COSE_ALG_ES512: *bits = 521; return EVP_sha512();
    default: return NULL;
    }
}

static int check_ec_key(EVP_PKEY *key, int want_bits, sb_err *err)
{
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return sb_err_set(err, 1, "cose: key is not an EC key");
    if (EVP_PKEY_get_bits(key) != want_bits)
        return sb_err_set(err, 1, "cose: algorithm needs a P-%d key, key is %d bits", want_bits,
                          EVP_PKEY_get_bits(key));
    return 0;
}

/* r||s (fixed width) -> DER ECDSA-Sig-Value. */
static int raw_sig_to_der(const uint8_t *sig, size_t len, uint8_t **der, int *der_len)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL);
    BIGNUM *sv = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
    if (!s || !r || !sv || !ECDSA_SIG_set0(s, r, sv)) {
        ECDSA_SIG_free(s);
        BN_free(r);
        BN_free(sv);
        return -1;
    }
    *der = NULL;
    *der_len = i2d_ECDSA_SIG(s, der);
    ECDSA_SIG_free(s);
    return *der_len > 0 ? 0 : -1;
}

int sb_cose_sign1_verify(const sb_cose_msg *m, EVP_PKEY *key, const uint8_t *external_aad,
                         size_t aad_len, const uint8_t *detached_payload, size_t detached_len,
                         sb_err *err)
{
    if (m->type != SB_COSE_SIGN1)
        return sb_err_set(err, 1, "cose: not a COSE_Sign1");
    int bits = 0;
    const EVP_MD *md = ecdsa_md(m->alg, &bits);
    if (!md)
        return sb_err_set(err, 1, "cose: unsupported signature algorithm %lld",
                          (long long)m->alg);
    if (check_ec_key(key, bits, err) < 0)
        return -1;
    size_t coord = ((size_t)bits + 7) / 8;
    if (m->sig_len != 2 * coord)
        return sb_err_set(err, 1, "cose: signature is %zu bytes, want %zu", m->sig_len, 2 * coord);
    const uint8_t *payload = m->payload ? m->payload : detached_payload;
    size_t payload_len = m->payload ? m->payload_len : detached_len;
    if (!payload)
        return sb_err_set(err, 1, "cose: detached payload not supplied");
    sb_cbuf tbs;
    if (to_be_signed("Signature1", m, external_aad, aad_len, payload, payload_len, &tbs, err) < 0)
        return -1;
    uint8_t *der = NULL;
    int der_len = 0, ok = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && raw_sig_to_der(m->sig, m->sig_len, &der, &der_len) == 0 &&
        EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1)
        ok = EVP_DigestVerify(ctx, der, (size_t)der_len, tbs.data, tbs.len) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    sb_cbuf_free(&tbs);
    if (!ok)
        return sb_err_set(err, 1, "cose: signature does not verify");
    return 0;
}

static const EVP_MD *hmac_md(int64_t alg)
{
    switch (alg) {
    case SB_COSE_ALG_HMAC256: return EVP_sha256();
    case SB_COSE_ALG_HMAC384: return EVP_sha384();
    case SB_COSE_ALG_HMAC512: return EVP_sha512();
    default: return NULL;
    }
}

static int compute_mac0(const sb_cose_msg *m, const uint8_t *key, size_t key_len,
                        const uint8_t *aad, size_t aad_len, uint8_t *out, unsigned *out_len,
                        sb_err *err)
{
    const EVP_MD *md = hmac_md(m->alg);
    if (!md)
        return sb_err_set(err, 1, "cose: unsupported MAC algorithm %lld", (long long)m->alg);
    if (!key || key_len == 0 || key_len > INT32_MAX)
        return sb_err_set(err, 1, "cose: no MAC key");
    if (!m->payload)
        return sb_err_set(err, 1, "cose: detached payload not supported for COSE_Mac0");
    sb_cbuf tbm;
    if (to_be_signed("MAC0", m, aad, aad_len, m->payload, m->payload_len, &tbm, err) < 0)
        return -1;
    uint8_t *r = HMAC(md, key, (int)key_len, tbm.data, tbm.len, out, out_len);
    sb_cbuf_free(&tbm);
    if (!r)
        return sb_err_set(err, 1, "cose: HMAC failed");
    return 0;
}

int sb_cose_mac0_verify(const sb_cose_msg *m, const uint8_t *key, size_t key_len,
                        const uint8_t *external_aad, size_t aad_len, sb_err *err)
{
    if (m->type != SB_COSE_MAC0)
        return sb_err_set(err, 1, "cose: not a COSE_Mac0");
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (compute_mac0(m, key, key_len, external_aad, aad_len, mac, &mac_len, err) < 0)
        return -1;
    if (m->sig_len != mac_len)
        return sb_err_set(err, 1, "cose: MAC tag is %zu bytes, want %u", m->sig_len, mac_len);
    if (CRYPTO_memcmp(mac, m->sig, mac_len) != 0)
        return sb_err_set(err, 1, "cose: MAC tag does not verify");
    return 0;
}

/* Encodes the four-element message around an already-encoded protected map. */
static int encode_message(int tag, const uint8_t *prot, size_t prot_len, const uint8_t *kid,
                          size_t kid_len, const uint8_t *payload, size_t payload_len,
                          const uint8_t *sig, size_t sig_len, uint8_t **out, size_t *out_len,
                          sb_err *err)
{
    sb_cbuf b;
    sb_cbuf_init(&b);
    if (tag)
        sb_cbor_put_tag(&b, (uint64_t)tag);
    sb_cbor_put_array(&b, 4);
    sb_cbor_put_bytes(&b, prot, prot_len);
    if (kid) {
        sb_cbor_put_map(&b, 1);
        sb_cbor_put_int(&b, SB_COSE_HDR_KID);
        sb_cbor_put_bytes(&b, kid, kid_len);
    } else {
        sb_cbor_put_map(&b, 0);
    }
    sb_cbor_put_bytes(&b, payload, payload_len);
    sb_cbor_put_bytes(&b, sig, sig_len);
    if (sb_cbuf_finish(&b, err) < 0) {
        sb_cbuf_free(&b);
        return -1;
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

int sb_cose_sign1_sign(EVP_PKEY *key, int64_t alg, int64_t content_type, const uint8_t *kid,
                       size_t kid_len, const uint8_t *payload, size_t payload_len, int tagged,
                       uint8_t **out, size_t *out_len, sb_err *err)
{
    if (!kid)
        return sb_cose_sign1_create(key, alg, content_type, NULL, 0, payload, payload_len, tagged,
                                    out, out_len, err);
    sb_cbuf u;
    sb_cbuf_init(&u);
    sb_cbor_put_map(&u, 1);
    sb_cbor_put_int(&u, SB_COSE_HDR_KID);
    sb_cbor_put_bytes(&u, kid, kid_len);
    int rc = sb_cbuf_finish(&u, err);
    if (rc == 0)
        rc = sb_cose_sign1_create(key, alg, content_type, u.data, u.len, payload, payload_len,
                                  tagged, out, out_len, err);
    sb_cbuf_free(&u);
    return rc;
}

int sb_cose_mac0_create(const uint8_t *key, size_t key_len, int64_t alg, const uint8_t *payload,
                        size_t payload_len, int tagged, uint8_t **out, size_t *out_len,
                        sb_err *err)
{
    uint8_t prot[4];
    sb_cbuf pb;
    sb_cbuf_init(&pb);
    sb_cbor_put_map(&pb, 1);
    sb_cbor_put_int(&pb, SB_COSE_HDR_ALG);
    sb_cbor_put_int(&pb, alg);
    if (sb_cbuf_finish(&pb, err) < 0 || pb.len > sizeof prot) {
        sb_cbuf_free(&pb);
        return sb_err_set(err, 1, "cose: bad MAC algorithm");
    }
    memcpy(prot, pb.data, pb.len);
    sb_cose_msg m = {.type = SB_COSE_MAC0, .protected_hdr = prot, .protected_len = pb.len,
                     .payload = payload, .payload_len = payload_len, .alg = alg};
    sb_cbuf_free(&pb);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (compute_mac0(&m, key, key_len, NULL, 0, mac, &mac_len, err) < 0)
        return -1;
    return encode_message(tagged ? SB_COSE_TAG_MAC0 : 0, prot, m.protected_len, NULL, 0, payload,
                          payload_len, mac, mac_len, out, out_len, err);
}

static const char *curve_name(int crv, size_t *coord)
{
    switch (crv) {
    case SB_COSE_CRV_P256: *coord = 32; return "prime256v1";
    case SB_COSE_CRV_P384: *coord = 48; return "secp384r1";
    case SB_COSE_CRV_P521: *coord = 66; return "secp521r1";
    default: return NULL;
    }
}

int sb_cose_key_from_point(int crv, const uint8_t *point, size_t len, EVP_PKEY **out, sb_err *err)
{
    *out = NULL;
    if (crv == 0)
        crv = len == 65 ? SB_COSE_CRV_P256 : len == 97 ? SB_COSE_CRV_P384
                                           : len == 133 ? SB_COSE_CRV_P521 : -1;
    size_t coord = 0;
    const char *group = curve_name(crv, &coord);
    if (!group)
        return sb_err_set(err, 1, "cose: unsupported curve or point length %zu", len);
    if (len != 1 + 2 * coord || point[0] != 0x04)
        return sb_err_set(err, 1, "cose: EC point is not an uncompressed %zu-byte point",
                          1 + 2 * coord);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    int ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (ok) { /* the point must lie on the curve */
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        /* on-curve check; the full check's n*Q multiplication adds nothing on prime-order
         * curves (cofactor 1) and costs more than a signature verification */
        ok = chk && EVP_PKEY_public_check_quick(chk) == 1;
        EVP_PKEY_CTX_free(chk);
    }
    if (!ok) {
        EVP_PKEY_free(key);
        return sb_err_set(err, 1, "cose: EC point is not on the curve");
    }
    *out = key;
    return 0;
}

/* Reads one COSE_Key entry we care about. */
static int read_key_param(sb_cbor *r, int64_t label, int64_t *kty, int64_t *crv,
                          const uint8_t **x, size_t *xl, const uint8_t **y, size_t *yl,
                          sb_err *err)
{
    switch (label) {
    case 1: return sb_cbor_read_int(r, kty, err);
    case -1: return sb_cbor_read_int(r, crv, err);
    case -2: return sb_cbor_read_bytes(r, x, xl, err);
    case -3:
        if (sb_cbor_peek(r) != SB_CBOR_BYTES)
            return sb_err_set(err, 1, "compressed points are not supported");
        return sb_cbor_read_bytes(r, y, yl, err);
    default: return sb_cbor_skip(r, err);
    }
}

int sb_cose_key_decode(const uint8_t *cose_key, size_t len, EVP_PKEY **out, sb_err *err)
{
    *out = NULL;
    sb_cbor r;
    size_t n;
    sb_cbor_init(&r, cose_key, len);
    if (sb_cbor_read_map(&r, &n, err) < 0) {
        sb_err_prefix(err, "cose_key");
        return -1;
    }
    int64_t kty = 0, crv = 0;
    const uint8_t *x = NULL, *y = NULL;
    size_t xl = 0, yl = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t label;
        if (sb_cbor_peek(&r) == SB_CBOR_TEXT) {
            if (sb_cbor_skip(&r, err) < 0 || sb_cbor_skip(&r, err) < 0)
                return -1;
            continue;
        }
        if (sb_cbor_read_int(&r, &label, err) < 0 ||
            read_key_param(&r, label, &kty, &crv, &x, &xl, &y, &yl, err) < 0) {
            sb_err_prefix(err, "cose_key");
            return -1;
        }
    }
    if (sb_cbor_remaining(&r) != 0)
        return sb_err_set(err, 1, "cose_key: trailing bytes");
    if (kty != 2)
        return sb_err_set(err, 1, "cose_key: kty %lld is not EC2", (long long)kty);
    size_t coord = 0;
    if (!curve_name((int)crv, &coord) || crv > 3)
        return sb_err_set(err, 1, "cose_key: unsupported curve %lld", (long long)crv);
    if (!x || !y || xl != coord || yl != coord)
        return sb_err_set(err, 1, "cose_key: x and y must be %zu bytes each", coord);
    uint8_t pt[1 + 2 * 66];
    pt[0] = 0x04;
    memcpy(pt + 1, x, coord);
    memcpy(pt + 1 + coord, y, coord);
    return sb_cose_key_from_point((int)crv, pt, 1 + 2 * coord, out, err);
}

int sb_cose_key_to_point(EVP_PKEY *key, uint8_t *out, size_t out_cap, size_t *out_len,
                         sb_err *err)
{
    size_t n = 0;
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, out_cap,
                                        &n) != 1)
        return sb_err_set(err, 1, "cose: cannot encode the EC public key");
    *out_len = n;
    return 0;
}
