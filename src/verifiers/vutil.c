/* vutil.c - certificate chain, raw-signature and claims helpers for the hardware verifiers. */
#include "verifiers/verifiers.h"
#include "verifiers/vutil.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint16_t sbv_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t sbv_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
uint64_t sbv_le64(const uint8_t *p) { return (uint64_t)sbv_le32(p) | (uint64_t)sbv_le32(p + 4) << 32; }

int sbv_all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

int sb_claims_expect_report_data(const sb_claims *claims, const uint8_t *want, size_t want_len,
                                 sb_err *err)
{
    if (claims->report_data_len != want_len)
        return sb_err_set(err, 1, "%s: report data is %zu bytes, expected %zu", claims->platform,
                          claims->report_data_len, want_len);
    if (sb_memeq_ct(claims->report_data, want, want_len) != 0)
        return sb_err_set(err, 1, "%s: report data does not match the expected binding",
                          claims->platform);
    return 0;
}

void sbv_claims_init(sb_claims *out, const char *platform)
{
    memset(out, 0, sizeof *out);
    snprintf(out->platform, sizeof out->platform, "%s", platform);
}

int sbv_add_measurement(sb_claims *out, const char *name, const uint8_t *value, size_t len,
                        sb_err *err)
{
    if (out->n_measurements >= SB_MAX_MEASUREMENTS)
        return sb_err_set(err, 1, "too many measurements (more than %d)", SB_MAX_MEASUREMENTS);
    if (len > SB_MEASUREMENT_MAX)
        return sb_err_set(err, 1, "measurement %s is %zu bytes, more than %d", name, len,
                          SB_MEASUREMENT_MAX);
    sb_measurement *m = &out->measurements[out->n_measurements++];
    snprintf(m->name, sizeof m->name, "%s", name);
    memcpy(m->value, value, len);
    m->len = len;
    return 0;
}

void sbv_cert_cn(const X509 *cert, char *buf, size_t len)
{
    X509_NAME *name = X509_get_subject_name(cert);
    if (!name || X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)len) < 0)
        snprintf(buf, len, "?");
}

static int is_self_signed(X509 *cert)
{
    return X509_check_issued(cert, cert) == X509_V_OK;
}

/* Store with the anchors' self-signed certificates as the only trust; the rest go to `untrusted`. */
static X509_STORE *anchor_store(const sb_trust_anchors *anchors, STACK_OF(X509) *untrusted)
{
    X509_STORE *store = X509_STORE_new();
    if (!store)
        return NULL;
    for (size_t i = 0; anchors && i < anchors->n_certs; i++) {
        X509 *c = anchors->certs[i];
        int ok = is_self_signed(c) ? X509_STORE_add_cert(store, c) : X509_add_cert(untrusted, c, X509_ADD_FLAG_UP_REF);
        if (!ok) {
            X509_STORE_free(store);
            return NULL;
        }
    }
    return store;
}

static void describe_chain(STACK_OF(X509) *chain, char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < sk_X509_num(chain); i++) {
        char cn[128];
        sbv_cert_cn(sk_X509_value(chain, i), cn, sizeof cn);
        int n = snprintf(out + used, out_len - used, "%s%s", i ? " -> " : "", cn);
        if (n < 0 || (size_t)n >= out_len - used)
            break; /* a long chain is summarised by its first subjects */
        used += (size_t)n;
    }
}

/* Every certificate the evidence carries must be one the verified chain uses: a damaged or
 * foreign extra certificate is refused instead of silently ignored. */
static int check_carried_used(STACK_OF(X509) *carried, STACK_OF(X509) *built, sb_err *err)
{
    for (int i = 0; carried && i < sk_X509_num(carried); i++) {
        X509 *c = sk_X509_value(carried, i);
        int found = 0;
        for (int j = 0; j < sk_X509_num(built) && !found; j++)
            found = X509_cmp(c, sk_X509_value(built, j)) == 0;
        if (!found) {
            char cn[128];
            sbv_cert_cn(c, cn, sizeof cn);
            return sb_err_set(err, 1, "carried certificate %d ('%s') is not part of the verified "
                              "chain", i, cn);
        }
    }
    return 0;
}

int sbv_verify_chain(X509 *leaf, STACK_OF(X509) *carried, const sb_trust_anchors *anchors,
                     time_t at, char *chain, size_t chain_len, X509 **root_out, sb_err *err)
{
    int rc = -1;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE *store = untrusted ? anchor_store(anchors, untrusted) : NULL;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!untrusted || !store || !ctx) {
        sb_err_set(err, 1, "out of memory building the certificate store");
        goto out;
    }
    for (int i = 0; carried && i < sk_X509_num(carried); i++)
        if (!X509_add_cert(untrusted, sk_X509_value(carried, i), X509_ADD_FLAG_UP_REF)) {
            sb_err_set(err, 1, "out of memory building the certificate store");
            goto out;
        }
    if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
        sb_err_set(err, 1, "cannot initialise certificate verification");
        goto out;
    }
    X509_STORE_CTX_set_time(ctx, 0, at);
    if (X509_verify_cert(ctx) != 1) {
        int code = X509_STORE_CTX_get_error(ctx);
        X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
        char cn[128] = "?";
        if (bad)
            sbv_cert_cn(bad, cn, sizeof cn);
        sb_err_set(err, 1, "certificate chain: %s (at '%s', depth %d)",
                   X509_verify_cert_error_string(code), cn, X509_STORE_CTX_get_error_depth(ctx));
        goto out;
    }
    STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
    if (check_carried_used(carried, built, err) != 0)
        goto out;
    describe_chain(built, chain, chain_len);
    if (root_out) {
        *root_out = sk_X509_value(built, sk_X509_num(built) - 1);
        X509_up_ref(*root_out);
    }
    rc = 0;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(untrusted, X509_free);
    ERR_clear_error();
    return rc;
}

int sbv_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t msg_len,
                        const uint8_t *r, const uint8_t *s, size_t n, sb_err *err)
{
    int rc = -1;
    unsigned char *der = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, (int)n, NULL), *bs = BN_bin2bn(s, (int)n, NULL);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (!sig || !br || !bs || !mctx || !ECDSA_SIG_set0(sig, br, bs)) {
        BN_free(br);
        BN_free(bs);
        sb_err_set(err, 1, "out of memory checking a signature");
        goto out;
    }
    int der_len = i2d_ECDSA_SIG(sig, &der);
    if (der_len <= 0) {
        sb_err_set(err, 1, "cannot encode the signature");
        goto out;
    }
    if (EVP_DigestVerifyInit(mctx, NULL, md, NULL, key) != 1 ||
        EVP_DigestVerify(mctx, der, (size_t)der_len, msg, msg_len) != 1) {
        sb_err_set(err, 1, "signature does not verify");
        goto out;
    }
    rc = 0;
out:
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    return rc;
}

EVP_PKEY *sbv_ec_key_from_point(int curve_nid, const uint8_t *point, size_t len)
{
    EVP_PKEY *key = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!bld || !ctx ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(curve_nid), 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, len) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    /* fromdata does not check that the point is on the curve: do it, a bogus point is bad input */
    if (key) {
        EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (!check || EVP_PKEY_public_check(check) != 1) {
            EVP_PKEY_free(key);
            key = NULL;
        }
        EVP_PKEY_CTX_free(check);
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return key;
}

/* Strict base64 (RFC 4648 alphabet, '=' padding only at the end); line breaks skipped. */
static int b64_value(uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

static int b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
    uint32_t acc = 0;
    size_t bits = 0, n = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = in[i];
        if (ch == '\n' || ch == '\r')
            continue;
        if (ch == '=') {
            pad++;
            continue;
        }
        int v = b64_value(ch);
        if (v < 0 || pad)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* leftover bits must be zero and the padding must complete the last quantum */
    if (pad > 2 || (acc & ((1u << bits) - 1)) != 0 || (bits / 2 != pad && !(bits == 0 && pad == 0)))
        return -1;
    *out_len = n;
    return 0;
}

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_end[] = "-----END CERTIFICATE-----";

/* One certificate block at *pos: exact armor lines, strict base64, DER using every byte. */
static X509 *read_pem_block(const uint8_t *data, size_t len, size_t *pos, sb_err *err)
{
    size_t bl = sizeof pem_begin - 1, el = sizeof pem_end - 1, at = *pos;
    if (len - at < bl || memcmp(data + at, pem_begin, bl) != 0) {
        sb_err_set(err, 1, "expected a PEM BEGIN CERTIFICATE line at byte %zu", at);
        return NULL;
    }
    at += bl;
    const uint8_t *end = NULL;
    for (size_t i = at; i + el <= len && !end; i++)
        if (data[i] == '-' && memcmp(data + i, pem_end, el) == 0)
            end = data + i;
    if (!end) {
        sb_err_set(err, 1, "PEM certificate at byte %zu has no END line", *pos);
        return NULL;
    }
    size_t b64_len = (size_t)(end - (data + at));
    uint8_t *der = malloc(b64_len);
    size_t der_len = 0;
    X509 *cert = NULL;
    if (!der) {
        sb_err_set(err, 1, "out of memory");
        return NULL;
    }
    if (b64_decode(data + at, b64_len, der, &der_len) != 0) {
        sb_err_set(err, 1, "PEM certificate at byte %zu: invalid base64", *pos);
    } else {
        const unsigned char *p = der;
        cert = d2i_X509(NULL, &p, (long)der_len);
        if (!cert || p != der + der_len) {
            X509_free(cert);
            cert = NULL;
            sb_err_set(err, 1, "PEM certificate at byte %zu: not a DER certificate", *pos);
        }
    }
    free(der);
    *pos = (size_t)(end - data) + el;
    return cert;
}

STACK_OF(X509) *sbv_parse_pem_certs(const uint8_t *data, size_t len, sb_err *err)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (!certs) {
        sb_err_set(err, 1, "out of memory reading certificates");
        return NULL;
    }
    size_t pos = 0;
    for (;;) {
        /* line breaks between blocks; NULs only as a terminator after the last one */
        while (pos < len && (data[pos] == '\n' || data[pos] == '\r'))
            pos++;
        size_t rest = pos;
        while (rest < len && data[rest] == '\0')
            rest++;
        if (rest == len)
            break;
        if (sk_X509_num(certs) >= 16) {
            sb_err_set(err, 1, "more than 16 certificates");
            goto fail;
        }
        X509 *c = read_pem_block(data, len, &pos, err);
        if (!c)
            goto fail;
        if (!sk_X509_push(certs, c)) {
            X509_free(c);
            sb_err_set(err, 1, "out of memory");
            goto fail;
        }
    }
    if (sk_X509_num(certs) == 0) {
        sb_err_set(err, 1, "no PEM certificate found");
        goto fail;
    }
    ERR_clear_error();
    return certs;
fail:
    sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
    return NULL;
}
