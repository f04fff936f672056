/* receipt.c - verifying a run's receipt offline (strongbox_receipt_verify, docs/receipts.md).
 * Needs only the receipt and a copy of the policy: the isolate's certificate chain travels in the
 * receipt and is verified exactly as at connect time (src/attest), as of the receipt's time. */
#include "client/client_impl.h"

#include "cose/cose.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#define MAX_STEPS 64      /* a pipeline has at most this many steps (docs/policy.md) */
#define MAX_CHAIN 8       /* certificates in x5chain, as the runtime accepts */

typedef struct rc_text {
    const char *p;
    size_t len;           /* p == NULL: null */
} rc_text;

typedef struct rc_file {
    rc_text path, provider;
    const uint8_t *sha256; /* NULL: removed (outputs) */
} rc_file;

typedef struct rc_step {
    rc_text program, engine, outcome, reason;
    const uint8_t *sha256;
    rc_text *args;
    size_t n_args;
    rc_file *inputs, *outputs;
    size_t n_inputs, n_outputs;
    uint64_t exit_code, fuel_used;
} rc_step;

typedef struct rc_payload {
    rc_text format, platform, requested_by, pipeline;
    const uint8_t *policy, *measurement;
    size_t measurement_len;
    uint64_t time, run;
    rc_step steps[MAX_STEPS];
    size_t n_steps;
} rc_payload;

static void payload_free(rc_payload *p)
{
    for (size_t i = 0; i < p->n_steps; i++) {
        free(p->steps[i].args);
        free(p->steps[i].inputs);
        free(p->steps[i].outputs);
    }
}

/* ---------------------------------------------------------------- decoding the payload */

static bool key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

static int read_text_or_null(sb_cbor *c, rc_text *t, sb_err *e)
{
    if (c->p < c->end && c->p[0] == 0xf6) {
        c->p++;
        t->p = NULL;
        t->len = 0;
        return 0;
    }
    return sb_cbor_read_text(c, &t->p, &t->len, e);
}

static int read_hash(sb_cbor *c, const uint8_t **h, bool nullable, sb_err *e)
{
    size_t n;
    if (nullable && c->p < c->end && c->p[0] == 0xf6) {
        c->p++;
        *h = NULL;
        return 0;
    }
    if (sb_cbor_read_bytes(c, h, &n, e) < 0)
        return -1;
    return n == 32 ? 0 : sb_err_set(e, 1, "a sha256 of %zu bytes", n);
}

/* [* {"path", "sha256", ["provider"]}] */
static int read_files(sb_cbor *c, rc_file **out, size_t *n_out, bool outputs, sb_err *e)
{
    size_t n, m;
    if (sb_cbor_read_array(c, &n, e) < 0)
        return -1;
    if (!(*out = calloc(n ? n : 1, sizeof **out)))
        return sb_err_set(e, 1, "out of memory");
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        rc_file *f = &(*out)[i];
        int have = 0;
        if (sb_cbor_read_map(c, &m, e) < 0)
            return -1;
        for (size_t j = 0; j < m; j++) {
            const char *k;
            size_t kl;
            int rc = sb_cbor_read_text(c, &k, &kl, e);
            if (rc == 0 && key_is(k, kl, "path"))
                rc = sb_cbor_read_text(c, &f->path.p, &f->path.len, e), have |= 1;
            else if (rc == 0 && key_is(k, kl, "sha256"))
                rc = read_hash(c, &f->sha256, outputs, e), have |= 2;
            else if (rc == 0 && !outputs && key_is(k, kl, "provider"))
                rc = read_text_or_null(c, &f->provider, e), have |= 4;
            else if (rc == 0)
                rc = sb_err_set(e, 1, "unknown file field '%.*s'", (int)kl, k);
            if (rc < 0)
                return -1;
        }
        if (have != (outputs ? 3 : 7))
            return sb_err_set(e, 1, "a file entry lacks a field");
    }
    return 0;
}

static int read_args(sb_cbor *c, rc_step *s, sb_err *e)
{
    size_t n;
    if (sb_cbor_read_array(c, &n, e) < 0)
        return -1;
    if (!(s->args = calloc(n ? n : 1, sizeof *s->args)))
        return sb_err_set(e, 1, "out of memory");
    s->n_args = n;
    for (size_t i = 0; i < n; i++)
        if (sb_cbor_read_text(c, &s->args[i].p, &s->args[i].len, e) < 0)
            return -1;
    return 0;
}

static int read_step_field(sb_cbor *c, const char *k, size_t kl, rc_step *s, unsigned *seen,
                           sb_err *e)
{
    static const char *const names[] = {"program", "sha256", "args", "engine", "inputs",
                                        "outputs", "outcome", "exit_code", "reason", "fuel_used"};
    size_t i = 0;
    while (i < 10 && !key_is(k, kl, names[i]))
        i++;
    if (i == 10)
        return sb_err_set(e, 1, "unknown step field '%.*s'", (int)kl, k);
    if (*seen & (1u << i))
        return sb_err_set(e, 1, "step field '%s' twice", names[i]);
    *seen |= 1u << i;
    switch (i) {
    case 0: return sb_cbor_read_text(c, &s->program.p, &s->program.len, e);
    case 1: return read_hash(c, &s->sha256, false, e);
    case 2: return read_args(c, s, e);
    case 3: return sb_cbor_read_text(c, &s->engine.p, &s->engine.len, e);
    case 4: return read_files(c, &s->inputs, &s->n_inputs, false, e);
    case 5: return read_files(c, &s->outputs, &s->n_outputs, true, e);
    case 6: return sb_cbor_read_text(c, &s->outcome.p, &s->outcome.len, e);
    case 7: return sb_cbor_read_uint(c, &s->exit_code, e);
    case 8: return read_text_or_null(c, &s->reason, e);
    default: return sb_cbor_read_uint(c, &s->fuel_used, e);
    }
}

static int read_steps(sb_cbor *c, rc_payload *p, sb_err *e)
{
    size_t n, m;
    if (sb_cbor_read_array(c, &n, e) < 0)
        return -1;
    if (n == 0 || n > MAX_STEPS)
        return sb_err_set(e, 1, "%zu steps (1..%d)", n, MAX_STEPS);
    for (size_t i = 0; i < n; i++) {
        rc_step *s = &p->steps[i];
        unsigned seen = 0;
        p->n_steps = i + 1;
        if (sb_cbor_read_map(c, &m, e) < 0)
            return -1;
        for (size_t j = 0; j < m; j++) {
            const char *k;
            size_t kl;
            if (sb_cbor_read_text(c, &k, &kl, e) < 0 || read_step_field(c, k, kl, s, &seen, e) < 0)
                return -1;
        }
        if (seen != 0x3ff)
            return sb_err_set(e, 1, "step %zu lacks a field", i + 1);
    }
    return 0;
}

static int read_top_field(sb_cbor *c, const char *k, size_t kl, rc_payload *p, unsigned *seen,
                          sb_err *e)
{
    static const char *const names[] = {"format", "policy", "platform", "measurement", "time",
                                        "run", "requested_by", "pipeline", "steps"};
    size_t i = 0, n;
    while (i < 9 && !key_is(k, kl, names[i]))
        i++;
    if (i == 9)
        return sb_err_set(e, 1, "unknown field '%.*s'", (int)kl, k);
    if (*seen & (1u << i))
        return sb_err_set(e, 1, "field '%s' twice", names[i]);
    *seen |= 1u << i;
    switch (i) {
    case 0: return sb_cbor_read_text(c, &p->format.p, &p->format.len, e);
    case 1: return read_hash(c, &p->policy, false, e);
    case 2: return sb_cbor_read_text(c, &p->platform.p, &p->platform.len, e);
    case 3:
        if (sb_cbor_read_bytes(c, &p->measurement, &n, e) < 0)
            return -1;
        p->measurement_len = n;
        return n >= 1 && n <= SB_MEASUREMENT_MAX ? 0 : sb_err_set(e, 1, "bad measurement size");
    case 4: return sb_cbor_read_uint(c, &p->time, e);
    case 5: return sb_cbor_read_uint(c, &p->run, e);
    case 6: return sb_cbor_read_text(c, &p->requested_by.p, &p->requested_by.len, e);
    case 7: return read_text_or_null(c, &p->pipeline, e);
    default: return read_steps(c, p, e);
    }
}

static int decode_payload(const uint8_t *data, size_t len, rc_payload *p, sb_err *e)
{
    sb_cbor c;
    size_t n;
    unsigned seen = 0;
    memset(p, 0, sizeof *p);
    sb_cbor_init(&c, data, len);
    if (sb_cbor_read_map(&c, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl;
        if (sb_cbor_read_text(&c, &k, &kl, e) < 0 || read_top_field(&c, k, kl, p, &seen, e) < 0)
            return -1;
    }
    if (sb_cbor_remaining(&c) != 0)
        return sb_err_set(e, 1, "bytes after the payload");
    if (seen != 0x1ff)
        return sb_err_set(e, 1, "a field is missing");
    if (!key_is(p->format.p, p->format.len, "strongbox-receipt/1"))
        return sb_err_set(e, 1, "format '%.*s' is not strongbox-receipt/1", (int)p->format.len,
                          p->format.p);
    if (p->time == 0 || p->time > (uint64_t)INT64_MAX / 2)
        return sb_err_set(e, 1, "time out of range");
    return 0;
}

/* ---------------------------------------------------------------- the certificate chain */

/* {33: [bstr, ...]} (or a single bstr, as RFC 9360 allows) -> leaf and the rest. */
static int read_chain(const sb_cose_msg *m, X509 **leaf, STACK_OF(X509) *rest, sb_err *e)
{
    sb_cbor v;
    size_t n = 1;
    int rc = sb_cose_header_find(m, SB_COSE_HDR_X5CHAIN, &v, NULL, e);
    if (rc != 0)
        return rc < 0 ? -1 : sb_err_set(e, 1, "the receipt carries no certificate chain (x5chain)");
    if (sb_cbor_peek(&v) != SB_CBOR_BYTES && sb_cbor_read_array(&v, &n, e) < 0)
        return -1;
    if (n == 0 || n > MAX_CHAIN)
        return sb_err_set(e, 1, "x5chain has %zu certificates (1..%d)", n, MAX_CHAIN);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *der, *q;
        size_t len;
        if (sb_cbor_read_bytes(&v, &der, &len, e) < 0)
            return -1;
        q = der;
        X509 *c = d2i_X509(NULL, &q, (long)len);
        if (!c || q != der + len) {
            X509_free(c);
            ERR_clear_error();
            return sb_err_set(e, 1, "certificate %zu of x5chain is not one DER certificate", i + 1);
        }
        if (i == 0)
            *leaf = c;
        else if (!sk_X509_push(rest, c)) {
            X509_free(c);
            return sb_err_set(e, 1, "out of memory");
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the checks */

typedef struct rc_ctx {
    const uint8_t *receipt;
    size_t len;
    sb_cose_msg msg;
    rc_payload pl;
    sb_policy *policy;
    X509 *leaf;
    STACK_OF(X509) *rest;
    sb_attest_verdict verdict;
    char when[32];
} rc_ctx;

/* x5chain is one path, leaf first: each certificate issued the one before it, and a root in it
 * can only be the policy's own (so no byte of the header is ignored by every check). */
static int check_path(rc_ctx *c, strongbox_error *err)
{
    X509 *prev = c->leaf, *root = sb_policy_attestation_root(c->policy);
    for (int i = 0; i < sk_X509_num(c->rest); i++) {
        X509 *cert = sk_X509_value(c->rest, i);
        if (X509_check_issued(cert, prev) != X509_V_OK)
            return cl_fail(err, STRONGBOX_E_VERIFY, "certificate %d of the receipt's x5chain did not "
                           "issue certificate %d", i + 2, i + 1);
        if (X509_check_issued(cert, cert) == X509_V_OK && X509_cmp(cert, root) != 0)
            return cl_fail(err, STRONGBOX_E_VERIFY, "certificate %d of the receipt's x5chain is a "
                           "root other than the policy's attestation root", i + 2);
        prev = cert;
    }
    return 0;
}

static int check_origin(rc_ctx *c, strongbox_error *err)
{
    sb_attest_accepted *acc = NULL;
    sb_attest_expect exp = {0};
    sb_err e = {0};
    int rc = -1;
    if (cl_expectations(c->policy, (time_t)c->pl.time, &acc, &exp, err) != 0)
        return -1;
    if (sb_attest_verify_cert(c->leaf, c->rest, &exp, &c->verdict, &e) != 0)
        cl_fail(err, STRONGBOX_E_VERIFY, "the receipt's isolate certificate does not verify against "
                "the policy as of the receipt's time %s: %s", c->when, e.msg);
    else if (!key_is(c->pl.platform.p, c->pl.platform.len, c->verdict.platform) ||
             c->pl.measurement_len != c->verdict.measurement_len ||
             memcmp(c->pl.measurement, c->verdict.measurement, c->pl.measurement_len) != 0)
        cl_fail(err, STRONGBOX_E_VERIFY, "the receipt names another platform or runtime "
                "measurement than its isolate certificate");
    else if (sb_cose_sign1_verify(&c->msg, X509_get0_pubkey(c->leaf), NULL, 0, NULL, 0, &e) != 0)
        cl_fail(err, STRONGBOX_E_VERIFY, "the receipt's signature does not verify with its isolate "
                "certificate's key (%s)", e.msg);
    else
        rc = 0;
    free(acc);
    return rc;
}

/* Each step's program is the policy's, with the policy's hash. */
static int check_programs(rc_ctx *c, strongbox_error *err)
{
    for (size_t i = 0; i < c->pl.n_steps; i++) {
        const rc_step *s = &c->pl.steps[i];
        char path[SB_PATH_MAX + 1];
        snprintf(path, sizeof path, "%.*s", (int)s->program.len, s->program.p);
        const sb_policy_program *pr = sb_policy_find_program(c->policy, path);
        if (!pr)
            return cl_fail(err, STRONGBOX_E_VERIFY, "step %zu ran %s, which the policy names no "
                           "program", i + 1, path);
        if (memcmp(pr->sha256, s->sha256, 32) != 0)
            return cl_fail(err, STRONGBOX_E_VERIFY, "step %zu ran %s with another hash than the "
                           "policy's", i + 1, path);
    }
    return 0;
}

static int hash_local(const char *path, uint8_t out[32], strongbox_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: cannot open", path);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t buf[65536];
    size_t n;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(md, buf, n) == 1;
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, out, NULL) == 1;
    EVP_MD_CTX_free(md);
    fclose(f);
    return ok ? 0 : cl_fail(err, STRONGBOX_E_LOCAL, "%s: cannot read", path);
}

/* What the receipt says of `name`: for an input, the first step that could read it (what the
 * computation was given); for an output, the last step that wrote it (what it produced). */
static const rc_file *find_file(const rc_payload *p, const char *name, int output)
{
    const rc_file *found = NULL;
    for (size_t i = 0; i < p->n_steps; i++) {
        const rc_step *s = &p->steps[i];
        const rc_file *f = output ? s->outputs : s->inputs;
        size_t n = output ? s->n_outputs : s->n_inputs;
        for (size_t j = 0; j < n; j++)
            if (key_is(f[j].path.p, f[j].path.len, name) && (output || !found))
                found = &f[j];
    }
    return found;
}

static int check_files(rc_ctx *c, const strongbox_receipt_file *files, size_t n,
                       strongbox_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *kind = files[i].output ? "output" : "input";
        const rc_file *f = find_file(&c->pl, files[i].name, files[i].output);
        uint8_t h[32];
        char want[65], got[65];
        if (!f)
            return cl_fail(err, STRONGBOX_E_VERIFY, "the receipt names no %s %s", kind,
                           files[i].name);
        if (!f->sha256)
            return cl_fail(err, STRONGBOX_E_VERIFY, "the receipt says the run removed %s",
                           files[i].name);
        if (hash_local(files[i].local, h, err) != 0)
            return -1;
        if (memcmp(h, f->sha256, 32) != 0) {
            sb_hex_encode(f->sha256, 32, want);
            sb_hex_encode(h, 32, got);
            return cl_fail(err, STRONGBOX_E_VERIFY, "%s %s: %s has sha256 %.16s..., the receipt "
                           "names %.16s...: not the file the computation %s", kind, files[i].name,
                           files[i].local, got, want, files[i].output ? "wrote" : "read");
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- reports */

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    if (p)
        sb_hex_encode(p, n, out);
    else
        strcpy(out, "(removed)");
}

static json_t *jtext(rc_text t)
{
    return t.p ? json_stringn(t.p, t.len) : json_null();
}

static json_t *files_json(const rc_file *f, size_t n, int outputs)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char h[65];
        hex_of(f[i].sha256, 32, h);
        json_t *o = json_pack("{s:o, s:o}", "path", jtext(f[i].path), "sha256",
                              f[i].sha256 ? json_string(h) : json_null());
        if (!outputs)
            json_object_set_new(o, "provider", jtext(f[i].provider));
        json_array_append_new(a, o);
    }
    return a;
}

static char *report_json(const rc_ctx *c, const strongbox_receipt_file *files, size_t n_files)
{
    char hash[65], m[2 * SB_MEASUREMENT_MAX + 1], h[65];
    sb_hex_encode(c->pl.policy, 32, hash);
    sb_hex_encode(c->pl.measurement, c->pl.measurement_len, m);
    json_t *steps = json_array(), *checked = json_array();
    for (size_t i = 0; i < c->pl.n_steps; i++) {
        const rc_step *s = &c->pl.steps[i];
        json_t *args = json_array();
        for (size_t j = 0; j < s->n_args; j++)
            json_array_append_new(args, jtext(s->args[j]));
        sb_hex_encode(s->sha256, 32, h);
        json_array_append_new(steps, json_pack(
            "{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:I}", "program", jtext(s->program),
            "sha256", h, "args", args, "engine", jtext(s->engine), "inputs",
            files_json(s->inputs, s->n_inputs, 0), "outputs",
            files_json(s->outputs, s->n_outputs, 1), "outcome", jtext(s->outcome), "exit_code",
            (json_int_t)s->exit_code, "reason", jtext(s->reason), "fuel_used",
            (json_int_t)s->fuel_used));
    }
    for (size_t i = 0; i < n_files; i++)
        json_array_append_new(checked, json_pack("{s:s, s:s, s:s}", "name", files[i].name,
                                                 "local", files[i].local, "kind",
                                                 files[i].output ? "output" : "input"));
    json_t *o = json_pack("{s:b, s:s, s:s, s:o, s:s, s:I, s:s, s:I, s:o, s:o, s:o, s:o}",
                          "verified", 1, "policy", hash, "policy_name",
                          sb_policy_name(c->policy), "platform", jtext(c->pl.platform),
                          "measurement", m, "time", (json_int_t)c->pl.time, "time_utc", c->when,
                          "run", (json_int_t)c->pl.run, "requested_by", jtext(c->pl.requested_by),
                          "pipeline", jtext(c->pl.pipeline), "steps", steps, "files_checked",
                          checked);
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

/* Appends to a growing text (NULL after a failure: then stays NULL). */
static void addf(char **buf, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    char line[2048];
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!*buf || n < 0)
        return;
    size_t add = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    char *p = realloc(*buf, *len + add + 1);
    if (!p) {
        free(*buf);
        *buf = NULL;
        return;
    }
    memcpy(p + *len, line, add + 1);
    *buf = p;
    *len += add;
}

static void step_text(char **t, size_t *n, size_t i, const rc_step *s)
{
    char h[65];
    sb_hex_encode(s->sha256, 32, h);
    addf(t, n, "step %zu: %.*s (sha256 %.16s..., the policy's program) on the %.*s tier\n", i + 1,
         (int)s->program.len, s->program.p, h, (int)s->engine.len, s->engine.p);
    for (size_t j = 0; j < s->n_args; j++)
        addf(t, n, "  argument %zu: %.*s\n", j + 1, (int)s->args[j].len, s->args[j].p);
    addf(t, n, "  ended: %.*s, exit code %llu%s%.*s; fuel used %llu\n", (int)s->outcome.len,
         s->outcome.p, (unsigned long long)s->exit_code, s->reason.p ? "; " : "",
         (int)s->reason.len, s->reason.p ? s->reason.p : "", (unsigned long long)s->fuel_used);
    for (size_t j = 0; j < s->n_inputs; j++) {
        const rc_file *f = &s->inputs[j];
        sb_hex_encode(f->sha256, 32, h);
        addf(t, n, "  could read %.*s  sha256 %s  provided by %.*s\n", (int)f->path.len,
             f->path.p, h, f->provider.p ? (int)f->provider.len : 7,
             f->provider.p ? f->provider.p : "unknown");
    }
    for (size_t j = 0; j < s->n_outputs; j++) {
        const rc_file *f = &s->outputs[j];
        hex_of(f->sha256, 32, h);
        addf(t, n, "  %s %.*s  sha256 %s\n", f->sha256 ? "wrote" : "removed", (int)f->path.len,
             f->path.p, h);
    }
}

static char *report_text(const rc_ctx *c, const strongbox_receipt_file *files, size_t n_files)
{
    char hash[65], m[2 * SB_MEASUREMENT_MAX + 1];
    size_t n = 0;
    char *t = calloc(1, 1);
    sb_hex_encode(c->pl.policy, 32, hash);
    sb_hex_encode(c->pl.measurement, c->pl.measurement_len, m);
    addf(&t, &n, "receipt verified: run %llu of computation %s (policy \"%s\")\n",
         (unsigned long long)c->pl.run, hash, sb_policy_name(c->policy));
    addf(&t, &n, "signed at %s by an isolate attested for this policy: platform %.*s, runtime %s "
         "(accepted by the policy), certificate chain to the policy's attestation root valid then\n",
         c->when, (int)c->pl.platform.len, c->pl.platform.p, m);
    addf(&t, &n, "requested by %.*s%s%.*s%s\n", (int)c->pl.requested_by.len, c->pl.requested_by.p,
         c->pl.pipeline.p ? " as pipeline \"" : "", (int)c->pl.pipeline.len,
         c->pl.pipeline.p ? c->pl.pipeline.p : "", c->pl.pipeline.p ? "\"" : "");
    for (size_t i = 0; i < c->pl.n_steps; i++)
        step_text(&t, &n, i, &c->pl.steps[i]);
    for (size_t i = 0; i < n_files; i++)
        addf(&t, &n, "your file %s is the %s %s the receipt names\n", files[i].local,
             files[i].output ? "output" : "input", files[i].name);
    return t;
}

/* ---------------------------------------------------------------- entry point */

static int decode_receipt(rc_ctx *c, strongbox_error *err)
{
    sb_err e = {0};
    if (sb_cose_decode(c->receipt, c->len, SB_COSE_SIGN1, &c->msg, &e) != 0)
        return cl_fail(err, STRONGBOX_E_VERIFY, "not a receipt (a COSE_Sign1): %s", e.msg);
    if (!c->msg.payload)
        return cl_fail(err, STRONGBOX_E_VERIFY, "not a receipt: the payload is detached");
    if (decode_payload(c->msg.payload, c->msg.payload_len, &c->pl, &e) != 0)
        return cl_fail(err, STRONGBOX_E_VERIFY, "not a receipt: its payload is malformed: %s",
                       e.msg);
    if (!(c->rest = sk_X509_new_null()) || read_chain(&c->msg, &c->leaf, c->rest, &e) != 0)
        return cl_fail(err, STRONGBOX_E_VERIFY, "not a receipt: %s", e.msg);
    sb_time_format((time_t)c->pl.time, c->when, sizeof c->when);
    return 0;
}

static int verify(rc_ctx *c, const char *policy_path, const strongbox_receipt_file *files,
                  size_t n_files, strongbox_error *err)
{
    sb_err e = {0};
    if (decode_receipt(c, err) != 0)
        return -1;
    if (sb_policy_load(policy_path, 0, SB_POLICY_SKIP_TIME_CHECKS, &c->policy, &e) != 0)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: %s", policy_path, e.msg);
    if (memcmp(c->pl.policy, sb_policy_hash(c->policy), 32) != 0) {
        char got[65];
        sb_hex_encode(c->pl.policy, 32, got);
        return cl_fail(err, STRONGBOX_E_VERIFY, "the receipt is for computation %s, not %s (%s)",
                       got, sb_policy_hash_hex(c->policy), policy_path);
    }
    if (check_path(c, err) != 0 || check_origin(c, err) != 0 || check_programs(c, err) != 0)
        return -1;
    return check_files(c, files, n_files, err);
}

int strongbox_receipt_verify(const uint8_t *receipt, size_t len, const char *policy_path,
                             const strongbox_receipt_file *files, size_t n_files, char **text,
                             char **json, strongbox_error *err)
{
    rc_ctx c;
    memset(&c, 0, sizeof c);
    c.receipt = receipt;
    c.len = len;
    *text = NULL;
    if (json)
        *json = NULL;
    int rc = verify(&c, policy_path, files, n_files, err);
    if (rc == 0) {
        *text = report_text(&c, files, n_files);
        if (json)
            *json = report_json(&c, files, n_files);
        if (!*text || (json && !*json)) {
            free(*text);
            *text = NULL;
            rc = cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
        }
    }
    payload_free(&c.pl);
    sb_policy_free(c.policy);
    X509_free(c.leaf);
    sk_X509_pop_free(c.rest, X509_free);
    return rc;
}
