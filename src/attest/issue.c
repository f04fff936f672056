/* issue.c - the proxy PSA token and the isolate certificate (service side). */
#include "attest/internal.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_VALIDITY (24L * 3600)

int sb_attest_proxy_token(const sb_issue_params *p, uint8_t **out, size_t *out_len, sb_err *err)
{
    const sb_claims *c = p->claims;
    if (!c || c->n_measurements == 0 || c->measurements[0].len == 0)
        return sb_err_set(err, 1, "issue: evidence has no primary measurement");
    sb_psa_token *t = calloc(1, sizeof *t);
    if (!t)
        return sb_err_set(err, 1, "out of memory");
    snprintf(t->profile, sizeof t->profile, "%s", SB_PROXY_PROFILE);
    memcpy(t->nonce, p->binding, SB_BINDING_LEN);
    t->nonce_len = SB_BINDING_LEN;
    t->instance_id_len = 33;
    t->implementation_id_len = 32;
    sb_attest_platform_impl_id(c->platform, t->implementation_id);
    t->client_id = -1;
    t->lifecycle = p->hardware && !c->debug ? SB_PSA_LIFECYCLE_SECURED
                                            : SB_PSA_LIFECYCLE_NON_PSA_ROT_DEBUG;
    t->n_sw = 2;
    sb_psa_sw_component *rt = &t->sw[0], *pol = &t->sw[1];
    snprintf(rt->type, sizeof rt->type, "runtime");
    memcpy(rt->value, c->measurements[0].value, c->measurements[0].len);
    rt->value_len = c->measurements[0].len;
    snprintf(rt->desc, sizeof rt->desc, "%.31s", c->measurements[0].name);
    snprintf(pol->type, sizeof pol->type, "policy");
    memcpy(pol->value, p->policy_hash, SB_POLICY_HASH_LEN);
    pol->value_len = SB_POLICY_HASH_LEN;
    snprintf(pol->desc, sizeof pol->desc, "sha-256");
    if (p->service_url)
        snprintf(t->verification_service, sizeof t->verification_service, "%s", p->service_url);
    int rc = sb_attest_instance_id(p->subject_key, t->instance_id, err);
    if (rc == 0)
        rc = sb_psa_sign(t, p->ca_key, out, out_len, err);
    free(t);
    return rc;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* The token goes in as the DER OCTET STRING inside extnValue. */
static int add_token_ext(X509 *cert, const uint8_t *token, size_t len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(SB_ATTEST_TOKEN_OID, 1);
    ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING *outer = ASN1_OCTET_STRING_new();
    uint8_t *der = NULL;
    int der_len = -1, ok = 0;
    if (obj && inner && outer && ASN1_OCTET_STRING_set(inner, token, (int)len) == 1)
        der_len = i2d_ASN1_OCTET_STRING(inner, &der);
    if (der_len > 0 && ASN1_OCTET_STRING_set(outer, der, der_len) == 1) {
        X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, outer);
        ok = ext && X509_add_ext(cert, ext, -1) == 1;
        X509_EXTENSION_free(ext);
    }
    OPENSSL_free(der);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OCTET_STRING_free(outer);
    ASN1_OBJECT_free(obj);
    return ok ? 0 : -1;
}

/* Copies a SubjectPublicKeyInfo into the certificate structurally: OpenSSL 3.0's
 * X509_set_pubkey goes through the generic encoder (~180 us), this does not. */
static int copy_spki(X509 *cert, X509_PUBKEY *from)
{
    ASN1_OBJECT *alg;
    const unsigned char *bits;
    int bits_len, ptype;
    X509_ALGOR *algor;
    const void *pval;
    if (X509_PUBKEY_get0_param(&alg, &bits, &bits_len, &algor, from) != 1)
        return -1;
    X509_ALGOR_get0(NULL, &ptype, &pval, algor);
    void *param = NULL;
    if (ptype == V_ASN1_OBJECT)
        param = OBJ_dup(pval);
    else if (ptype == V_ASN1_SEQUENCE)
        param = ASN1_STRING_dup(pval);
    else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
        return -1;
    unsigned char *copy = OPENSSL_memdup(bits, (size_t)bits_len);
    ASN1_OBJECT *alg_copy = OBJ_dup(alg);
    if ((ptype == V_ASN1_OBJECT || ptype == V_ASN1_SEQUENCE) && !param)
        goto fail;
    if (!copy || !alg_copy ||
        X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), alg_copy, ptype, param, copy,
                               bits_len) != 1)
        goto fail;
    return 0;
fail:
    OPENSSL_free(copy);
    ASN1_OBJECT_free(alg_copy);
    if (ptype == V_ASN1_OBJECT)
        ASN1_OBJECT_free(param);
    else
        ASN1_STRING_free(param);
    return -1;
}

static int set_key(X509 *cert, const sb_issue_params *p)
{
    if (p->subject_spki && copy_spki(cert, p->subject_spki) == 0)
        return 0;
    return X509_set_pubkey(cert, p->subject_key) == 1 ? 0 : -1;
}

static int set_subject(X509 *cert, const uint8_t policy_hash[32])
{
    char hex[65];
    sb_hex_encode(policy_hash, 32, hex);
    X509_NAME *n = X509_get_subject_name(cert);
    return X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                                      (const unsigned char *)"Strongbox computation", -1, -1,
                                      0) == 1 &&
                   X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)hex,
                                              -1, -1, 0) == 1
               ? 0
               : -1;
}

static int fill_cert(X509 *cert, const sb_issue_params *p, const uint8_t *token, size_t token_len)
{
    long validity = p->validity_seconds > 0 ? p->validity_seconds : DEFAULT_VALIDITY;
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    BIGNUM *bn = BN_bin2bn(p->serial, sizeof p->serial, NULL);
    time_t nb = p->not_before;
    char san[96], hex[65];
    sb_hex_encode(p->policy_hash, 32, hex);
    snprintf(san, sizeof san, "URI:urn:strongbox:policy:%s", hex);
    int ok = serial && bn && BN_to_ASN1_INTEGER(bn, serial) && X509_set_version(cert, 2) == 1 &&
             X509_set_serialNumber(cert, serial) == 1 &&
             X509_set_issuer_name(cert, X509_get_subject_name(p->ca_cert)) == 1 &&
             X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &nb) &&
             X509_time_adj_ex(X509_getm_notAfter(cert), (int)(validity / 86400),
                              validity % 86400, &nb) &&
             set_key(cert, p) == 0 && set_subject(cert, p->policy_hash) == 0 &&
             add_ext(cert, p->ca_cert, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
             add_ext(cert, p->ca_cert, NID_key_usage, "critical,digitalSignature") == 0 &&
             add_ext(cert, p->ca_cert, NID_ext_key_usage, "serverAuth,clientAuth") == 0 &&
             add_ext(cert, p->ca_cert, NID_subject_key_identifier, "hash") == 0 &&
             (!X509_get0_subject_key_id(p->ca_cert) ||
              add_ext(cert, p->ca_cert, NID_authority_key_identifier, "keyid") == 0) &&
             add_ext(cert, p->ca_cert, NID_subject_alt_name, san) == 0 &&
             add_token_ext(cert, token, token_len) == 0;
    BN_free(bn);
    ASN1_INTEGER_free(serial);
    return ok ? 0 : -1;
}

int sb_attest_issue_cert(const sb_issue_params *p, X509 **out, sb_err *err)
{
    *out = NULL;
    if (!p->ca_cert || !p->ca_key || !p->subject_key)
        return sb_err_set(err, 1, "issue: missing CA or subject key");
    uint8_t *token;
    size_t token_len;
    if (sb_attest_proxy_token(p, &token, &token_len, err) < 0)
        return -1;
    X509 *cert = X509_new();
    int ok = cert && fill_cert(cert, p, token, token_len) == 0 &&
             X509_sign(cert, p->ca_key, EVP_sha256()) > 0;
    free(token);
    if (!ok) {
        X509_free(cert);
        return sb_err_set(err, 1, "issue: building the certificate failed");
    }
    *out = cert;
    return 0;
}
