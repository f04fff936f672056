/* verify.c - client-side verification of an isolate certificate against a party's expectations. */
#include "attest/internal.h"
#include "cose/cose.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Platforms whose proxy tokens a client can name (implementation ID -> name). */
static const char *const known_platforms[] = {"process", "kvm",   "psa",  "sev-snp",
                                              "tdx",     "cca",   "nitro", NULL};

static sb_attest_step *step(sb_attest_verdict *v, const char *name)
{
    sb_attest_step *s = &v->steps[v->n_steps++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->ok = -1;
    return s;
}

static int pass(sb_attest_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pass(sb_attest_step *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s->ok = 1;
    vsnprintf(s->detail, sizeof s->detail, fmt, ap);
    va_end(ap);
    return 0;
}

static int fail(sb_attest_step *s, sb_err *err, const char *detail)
{
    s->ok = 0;
    size_t i = 0; /* truncating copy: it is a transcript */
    for (; detail[i] && i + 1 < sizeof s->detail; i++)
        s->detail[i] = detail[i];
    s->detail[i] = 0;
    return sb_err_set(err, 1, "%s: %s", s->name, detail);
}

int sb_attest_cert_token(X509 *cert, const uint8_t **token, size_t *len, sb_err *err)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(SB_ATTEST_TOKEN_OID, 1);
    int idx = obj ? X509_get_ext_by_OBJ(cert, obj, -1) : -1;
    int again = idx >= 0 ? X509_get_ext_by_OBJ(cert, obj, idx) : -1;
    ASN1_OBJECT_free(obj);
    if (idx < 0)
        return sb_err_set(err, 1, "certificate has no attestation token extension");
    if (again >= 0)
        return sb_err_set(err, 1, "certificate has two attestation token extensions");
    ASN1_OCTET_STRING *outer = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
    const uint8_t *p = ASN1_STRING_get0_data(outer);
    long plen;
    int tag, cls;
    int r = ASN1_get_object(&p, &plen, &tag, &cls, ASN1_STRING_length(outer));
    if ((r & 0x80) || tag != V_ASN1_OCTET_STRING || cls != V_ASN1_UNIVERSAL ||
        p + plen != ASN1_STRING_get0_data(outer) + ASN1_STRING_length(outer))
        return sb_err_set(err, 1, "attestation token extension is not one OCTET STRING");
    *token = p;
    *len = (size_t)plen;
    return 0;
}

static void fmt_time(time_t t, char *buf)
{
    sb_time_format(t, buf, 32);
}

static int asn1_to_time(const ASN1_TIME *a, time_t *out)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(a, &tm) != 1)
        return -1;
    *out = timegm(&tm);
    return 0;
}

static int check_validity(X509 *leaf, time_t at, sb_attest_verdict *v, sb_err *err)
{
    sb_attest_step *s = step(v, "validity");
    if (asn1_to_time(X509_get0_notBefore(leaf), &v->not_before) < 0 ||
        asn1_to_time(X509_get0_notAfter(leaf), &v->not_after) < 0)
        return fail(s, err, "unreadable validity period");
    char nb[32], na[32], now[32], d[200];
    fmt_time(v->not_before, nb);
    fmt_time(v->not_after, na);
    fmt_time(at, now);
    snprintf(d, sizeof d, "%s .. %s, checked at %s", nb, na, now);
    if (at < v->not_before || at > v->not_after) {
        char why[220];
        snprintf(why, sizeof why, "certificate not valid at %s (valid %s .. %s)", now, nb, na);
        return fail(s, err, why);
    }
    return pass(s, "%s", d);
}

/* Verifies the chain to exp->root at exp->at; on success *issuer is the leaf's issuer (ref). */
static int check_chain(X509 *leaf, STACK_OF(X509) *chain, const sb_attest_expect *exp, time_t at,
                       X509 **issuer, sb_attest_verdict *v, sb_err *err)
{
    sb_attest_step *s = step(v, "chain");
    if (!exp->root)
        return fail(s, err, "no attestation root given");
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = store && ctx && X509_STORE_add_cert(store, exp->root) == 1 &&
             X509_STORE_CTX_init(ctx, store, leaf, chain) == 1;
    if (ok) {
        X509_STORE_CTX_set_time(ctx, 0, at);
        ok = X509_verify_cert(ctx) == 1;
    }
    char detail[200];
    if (!ok) {
        int e = ctx ? X509_STORE_CTX_get_error(ctx) : 0;
        snprintf(detail, sizeof detail, "does not chain to the policy's root: %s",
                 X509_verify_cert_error_string(e));
    } else {
        STACK_OF(X509) *verified = X509_STORE_CTX_get0_chain(ctx);
        *issuer = sk_X509_num(verified) > 1 ? sk_X509_value(verified, 1) : NULL;
        if (*issuer)
            X509_up_ref(*issuer);
        else
            ok = 0, snprintf(detail, sizeof detail, "leaf is the root itself");
        char subj[160] = "";
        X509_NAME_oneline(X509_get_subject_name(exp->root), subj, sizeof subj);
        if (ok)
            snprintf(detail, sizeof detail, "%.150s", subj);
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    if (!ok)
        return fail(s, err, detail);
    return pass(s, "chains to %s", detail);
}

static int check_token(X509 *leaf, X509 *issuer, sb_attest_verdict *v, sb_err *err)
{
    sb_attest_step *s = step(v, "token signature");
    const uint8_t *tok;
    size_t tok_len;
    sb_err e = {0};
    if (sb_attest_cert_token(leaf, &tok, &tok_len, &e) < 0)
        return fail(s, err, e.msg);
    EVP_PKEY *ca_key = X509_get0_pubkey(issuer);
    if (sb_psa_verify(tok, tok_len, ca_key, NULL, 0, &v->token, &e) < 0)
        return fail(s, err, e.msg);
    if (strcmp(v->token.profile, SB_PROXY_PROFILE) != 0)
        return fail(s, err, "token profile is not the proxy profile");
    return pass(s, "PSA token signed by the issuing service (%s)", v->token.profile);
}

static int check_instance(X509 *leaf, sb_attest_verdict *v, sb_err *err)
{
    sb_attest_step *s = step(v, "instance id");
    uint8_t want[33];
    if (sb_attest_instance_id(X509_get0_pubkey(leaf), want, NULL) < 0)
        return fail(s, err, "cannot hash the certificate key");
    if (v->token.instance_id_len != 33 || memcmp(want, v->token.instance_id, 33) != 0)
        return fail(s, err, "token instance ID is not the hash of the certificate's key");
    return pass(s, "%s", "token names this certificate's key");
}

static const sb_psa_sw_component *find_sw(const sb_psa_token *t, const char *type)
{
    for (size_t i = 0; i < t->n_sw; i++)
        if (strcmp(t->sw[i].type, type) == 0)
            return &t->sw[i];
    return NULL;
}

static int check_platform(sb_attest_verdict *v, sb_err *err)
{
    sb_attest_step *s = step(v, "platform");
    for (const char *const *p = known_platforms; *p; p++) {
        uint8_t id[32];
        sb_attest_platform_impl_id(*p, id);
        if (v->token.implementation_id_len == 32 && memcmp(id, v->token.implementation_id, 32) == 0) {
            snprintf(v->platform, sizeof v->platform, "%s", *p);
            return pass(s, "%s", *p);
        }
    }
    return fail(s, err, "implementation ID names no known platform");
}

static int check_measurement(const sb_attest_expect *exp, sb_attest_verdict *v, sb_err *err)
{
    sb_attest_step *s = step(v, "measurement");
    const sb_psa_sw_component *rt = find_sw(&v->token, "runtime");
    if (!rt)
        return fail(s, err, "token has no runtime measurement");
    memcpy(v->measurement, rt->value, rt->value_len);
    v->measurement_len = rt->value_len;
    char hex[2 * SB_MEASUREMENT_MAX + 1], d[200];
    sb_hex_encode(rt->value, rt->value_len, hex);
    for (size_t i = 0; i < exp->n_accepted; i++) {
        const sb_attest_accepted *a = &exp->accepted[i];
        if (strcmp(a->platform, v->platform) == 0 && a->len == rt->value_len &&
            memcmp(a->measurement, rt->value, a->len) == 0)
            return pass(s, "%s accepted by the policy", hex);
    }
    snprintf(d, sizeof d, "runtime %.128s is not accepted for platform %s", hex, v->platform);
    return fail(s, err, d);
}

static int check_policy(X509 *leaf, const sb_attest_expect *exp, sb_attest_verdict *v, sb_err *err)
{
    sb_attest_step *s = step(v, "policy");
    const sb_psa_sw_component *pol = find_sw(&v->token, "policy");
    if (!pol || pol->value_len != SB_POLICY_HASH_LEN)
        return fail(s, err, "token has no 32-byte policy component");
    memcpy(v->policy_hash, pol->value, SB_POLICY_HASH_LEN);
    char hex[65], cn[80] = "";
    sb_hex_encode(pol->value, SB_POLICY_HASH_LEN, hex);
    if (sb_memeq_ct(pol->value, exp->policy_hash, SB_POLICY_HASH_LEN) != 0)
        return fail(s, err, "the isolate runs a different policy than ours");
    X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn);
    if (strcmp(cn, hex) != 0)
        return fail(s, err, "certificate subject does not name the policy hash");
    return pass(s, "%s", hex);
}

static int check_lifecycle(const sb_attest_expect *exp, sb_attest_verdict *v, sb_err *err)
{
    sb_attest_step *s = step(v, "lifecycle");
    v->lifecycle = v->token.lifecycle;
    const char *name = sb_psa_lifecycle_name(v->lifecycle);
    if ((v->lifecycle & 0xff00) == SB_PSA_LIFECYCLE_SECURED)
        return pass(s, "%s", name);
    if (!exp->allow_debug) {
        char d[160];
        snprintf(d, sizeof d, "platform %s is %s (debug/insecure) and the policy does not allow it",
                 v->platform, name);
        return fail(s, err, d);
    }
    return pass(s, "%s (insecure/debug platform, allowed by the policy)", name);
}

int sb_attest_verify_cert(X509 *leaf, STACK_OF(X509) *chain, const sb_attest_expect *exp,
                          sb_attest_verdict *v, sb_err *err)
{
    memset(v, 0, sizeof *v);
    if (!leaf || !exp)
        return sb_err_set(err, 1, "attest: no certificate or expectations");
    time_t at = exp->at ? exp->at : time(NULL);
    X509 *issuer = NULL;
    int rc = check_validity(leaf, at, v, err);
    if (rc == 0)
        rc = check_chain(leaf, chain, exp, at, &issuer, v, err);
    if (rc == 0)
        rc = check_token(leaf, issuer, v, err);
    if (rc == 0)
        rc = check_instance(leaf, v, err);
    if (rc == 0)
        rc = check_platform(v, err);
    if (rc == 0)
        rc = check_measurement(exp, v, err);
    if (rc == 0)
        rc = check_policy(leaf, exp, v, err);
    if (rc == 0)
        rc = check_lifecycle(exp, v, err);
    if (rc == 0)
        snprintf(v->service, sizeof v->service, "%s", v->token.verification_service);
    X509_free(issuer);
    v->ok = rc == 0;
    return rc;
}

char *sb_attest_verdict_text(const sb_attest_verdict *v)
{
    size_t cap = 512 + v->n_steps * 300;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < v->n_steps && n < cap; i++) {
        const sb_attest_step *s = &v->steps[i];
        const char *mark = s->ok == 1 ? "ok  " : s->ok == 0 ? "FAIL" : "--  ";
        int w = snprintf(out + n, cap - n, "[%s] %-16s %s\n", mark, s->name, s->detail);
        if (w > 0)
            n += (size_t)w;
    }
    if (n < cap)
        snprintf(out + n, cap - n, "verdict: %s\n", v->ok ? "ATTESTED" : "REFUSED");
    return out;
}
