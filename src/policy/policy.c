/* policy.c - parse, validate, hash and query a Strongbox policy (format: docs/policy.md).
 *
 * The parsed jansson tree is kept for the policy's lifetime: names, paths and PEM texts in the
 * public structs point into it, so nothing is copied twice. Validation stops at the first problem
 * and names its JSON path ("policy.identities[1].rights[\"/in\"]: ..."). */
#include "policy/policy.h"
#include "policy/jcs.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDENTITIES 256
#define MAX_PROGRAMS 64
#define MAX_GRANTS 64
#define MAX_RESULTS 16
#define MAX_MEASUREMENTS 64
#define MAX_NAME_LEN 128
#define MAX_URL_LEN 2048
#define MAX_COMPONENT 255
#define JPATH 320 /* room for a JSON path in an error message */

struct sb_policy {
    json_t *root;
    uint8_t hash[32];
    char hash_hex[65];
    uint8_t *canonical;
    size_t canonical_len;
    const char *name;
    sb_policy_identity *ids;
    size_t n_ids;
    sb_policy_program *progs;
    size_t n_progs;
    sb_policy_pipeline *pipes;
    size_t n_pipes;
    sb_policy_runtime *rts;
    size_t n_rts;
    bool allow_debug;
    const char *att_url, *att_root_pem;
    X509 *att_root;
    const char *host;
    sb_policy_limits limits;
    bool clock;
    time_t expires;
    const char **results;
    size_t n_results;
    const sb_policy_identity **readers;
    size_t n_readers;
    const sb_policy_identity **quorum;
    size_t n_quorum, quorum_count;
    const char **keep;              /* shutdown.keep_sealed (NULL: the host keeps nothing) */
    size_t n_keep;
};

typedef struct ctx {
    sb_policy *p;
    time_t now;
    bool check_time;
    sb_err *err;
} ctx;

__attribute__((format(printf, 4, 5))) static int fail(ctx *c, int code, const char *path,
                                                      const char *fmt, ...)
{
    char msg[SB_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sb_err_set(c->err, code, "%s: %s", path, msg);
}

#define INVALID SB_POLICY_E_INVALID
#define NOMEM(c, path) fail(c, SB_POLICY_E_NOMEM, path, "out of memory")

/* JSON paths for messages; a path too long for the buffer is cut short (it stays readable). */
__attribute__((format(printf, 2, 3))) static const char *jpath(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, JPATH, fmt, ap);
    va_end(ap);
    return out;
}

#define at_key(out, path, key) jpath(out, "%s.%s", path, key)
#define at_index(out, path, i) jpath(out, "%s[%zu]", path, (size_t)(i))
#define at_quoted(out, path, key)                                                                  \
    jpath(out, "%s[\"%.60s%s\"]", path, key, strlen(key) > 60 ? "..." : "")

/* ---- schema: fields, types ---- */

enum { T_STR = 1, T_INT, T_BOOL, T_OBJ, T_ARR };
typedef struct field {
    const char *key;
    int type;
    bool required;
} field;

static bool has_type(const json_t *v, int type)
{
    switch (type) {
    case T_STR: return json_is_string(v);
    case T_INT: return json_is_integer(v);
    case T_BOOL: return json_is_boolean(v);
    case T_OBJ: return json_is_object(v);
    default: return json_is_array(v);
    }
}

static const char *const type_names[] = {"", "a string", "an integer", "true or false",
                                         "an object", "an array"};

/* The object has only known fields, each of the right type, and every required one. */
static int check_object(ctx *c, json_t *obj, const char *path, const field *f, size_t n)
{
    char sub[JPATH];
    if (!json_is_object(obj))
        return fail(c, INVALID, path, "expected an object");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t i = 0;
        while (i < n && strcmp(f[i].key, key) != 0)
            i++;
        if (i == n)
            return fail(c, INVALID, path, "unknown field \"%.64s\"", key);
        if (!has_type(v, f[i].type))
            return fail(c, INVALID, at_key(sub, path, key), "expected %s", type_names[f[i].type]);
    }
    for (size_t i = 0; i < n; i++)
        if (f[i].required && !json_object_get(obj, f[i].key))
            return fail(c, INVALID, path, "missing field \"%s\"", f[i].key);
    return 0;
}

static int check_count(ctx *c, const char *path, size_t n, size_t min, size_t max, const char *what)
{
    if (n < min)
        return fail(c, INVALID, path, "needs at least %zu %s", min, what);
    if (n > max)
        return fail(c, INVALID, path, "more than %zu %s", max, what);
    return 0;
}

/* ---- paths, names, hex, times ---- */

/* Why `path` is not a normalised absolute path, or NULL when it is one. */
static const char *path_problem(const char *path)
{
    size_t len = strlen(path);
    if (path[0] != '/')
        return "must start with '/'";
    if (len > SB_POLICY_PATH_MAX)
        return "longer than 1024 bytes";
    if (len == 1)
        return NULL;
    if (path[len - 1] == '/')
        return "must not end with '/'";
    for (const char *s = path + 1;;) {
        size_t n = strcspn(s, "/");
        if (n == 0)
            return "empty component ('//')";
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return "'.' and '..' components are not allowed";
        if (n > MAX_COMPONENT)
            return "a component is longer than 255 bytes";
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
                return "control characters and '\\' are not allowed";
        if (s[n] == '\0')
            return NULL;
        s += n + 1;
    }
}

bool sb_policy_path_valid(const char *path)
{
    return path && path_problem(path) == NULL;
}

bool sb_policy_path_covers(const char *prefix, const char *path)
{
    if (strcmp(prefix, "/") == 0)
        return path[0] == '/';
    size_t n = strlen(prefix);
    return strncmp(prefix, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SB_POLICY_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') ||
                                               (s[0] >= 'A' && s[0] <= 'Z') ||
                                               (s[0] >= '0' && s[0] <= '9')))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Exactly 2*n lower-case hex digits (one spelling per value, so the hash follows the meaning). */
static int hex_lower(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n || strspn(s, "0123456789abcdef") != 2 * n)
        return -1;
    return sb_hex_decode(s, out, n);
}

static void format_asn1_time(const ASN1_TIME *t, char *buf, size_t len)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) == 1)
        sb_time_format(timegm(&tm), buf, len);
    else
        snprintf(buf, len, "(unreadable time)");
}

/* ---- certificates ---- */

static int cert_times(ctx *c, const char *path, X509 *x)
{
    char when[32], now[32];
    sb_time_format(c->now, now, sizeof now);
    int after = X509_cmp_time(X509_get0_notAfter(x), &c->now);
    int before = X509_cmp_time(X509_get0_notBefore(x), &c->now);
    if (after == 0 || before == 0)
        return fail(c, INVALID, path, "certificate has a malformed validity period");
    if (after < 0) {
        format_asn1_time(X509_get0_notAfter(x), when, sizeof when);
        return fail(c, SB_POLICY_E_EXPIRED, path, "certificate expired at %s (now %s)", when, now);
    }
    if (before > 0) {
        format_asn1_time(X509_get0_notBefore(x), when, sizeof when);
        return fail(c, SB_POLICY_E_EXPIRED, path, "certificate not valid before %s (now %s)", when,
                    now);
    }
    return 0;
}

/* Exactly one PEM certificate; *x and *der are set as soon as allocated so the caller frees them
 * on any later failure. */
static int parse_cert(ctx *c, const char *path, const char *pem, X509 **x, uint8_t **der,
                      size_t *der_len)
{
    if (strstr(pem, "PRIVATE KEY"))
        return fail(c, INVALID, path,
                    "contains a private key; never put a private key in a policy, only the "
                    "certificate");
    const char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----");
    if (!begin)
        return fail(c, INVALID, path, "not a PEM certificate (no BEGIN CERTIFICATE line)");
    if (strstr(begin + 1, "-----BEGIN "))
        return fail(c, INVALID, path, "more than one PEM block; give exactly one certificate");
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (!bio)
        return NOMEM(c, path);
    *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!*x)
        return fail(c, INVALID, path, "unparsable certificate");
    int n = i2d_X509(*x, NULL);
    if (n <= 0)
        return fail(c, INVALID, path, "certificate cannot be re-encoded as DER");
    uint8_t *p = *der = malloc((size_t)n);
    if (!p)
        return NOMEM(c, path);
    *der_len = (size_t)i2d_X509(*x, &p);
    return c->check_time ? cert_times(c, path, *x) : 0;
}

/* ---- rights ---- */

/* A non-empty subsequence of `allowed` ("rwx" or "rw"), letters in that order. */
static int parse_rights(const char *s, const char *allowed)
{
    static const char letters[] = "rwx";
    unsigned bits = 0;
    const char *pos = allowed;
    if (!*s)
        return -1;
    for (; *s; s++) {
        const char *hit = strchr(pos, *s);
        if (!hit)
            return -1;
        bits |= 1u << (strchr(letters, *s) - letters);
        pos = hit + 1;
    }
    return (int)bits;
}

static int compare_grants(const void *a, const void *b)
{
    return strcmp(((const sb_policy_grant *)a)->prefix, ((const sb_policy_grant *)b)->prefix);
}

static int parse_grants(ctx *c, json_t *obj, const char *path, const char *allowed,
                        sb_policy_grant **out, size_t *n_out)
{
    char sub[JPATH];
    size_t n = json_object_size(obj), i = 0;
    if (check_count(c, path, n, 0, MAX_GRANTS, "paths"))
        return -1;
    sb_policy_grant *g = *out = calloc(n ? n : 1, sizeof *g);
    if (!g)
        return NOMEM(c, path);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const char *why = path_problem(key);
        at_quoted(sub, path, key);
        if (why)
            return fail(c, INVALID, sub, "malformed path: %s", why);
        int bits = json_is_string(v) ? parse_rights(json_string_value(v), allowed) : -1;
        if (bits < 0)
            return fail(c, INVALID, sub, "rights must be some of the letters \"%s\", in that order "
                        "(e.g. \"rw\")", allowed);
        g[i].prefix = key;
        g[i++].rights = (unsigned)bits;
    }
    qsort(g, n, sizeof *g, compare_grants);
    *n_out = n;
    return 0;
}

unsigned sb_policy_grants_rights(const sb_policy_grant *grants, size_t n, const char *path)
{
    unsigned rights = 0;
    if (!sb_policy_path_valid(path))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (sb_policy_path_covers(grants[i].prefix, path))
            rights |= grants[i].rights;
    return rights;
}

unsigned sb_policy_rights(const sb_policy_identity *identity, const char *path)
{
    return identity ? sb_policy_grants_rights(identity->grants, identity->n_grants, path) : 0;
}

/* ---- identities ---- */

static const field identity_fields[] = {
    {"name", T_STR, true}, {"certificate", T_STR, true}, {"rights", T_OBJ, true}};

static int parse_identity(ctx *c, json_t *obj, size_t index, const char *path)
{
    char sub[JPATH];
    sb_policy_identity *id = &c->p->ids[index];
    if (check_object(c, obj, path, identity_fields, 3))
        return -1;
    id->index = index;
    id->name = json_string_value(json_object_get(obj, "name"));
    at_key(sub, path, "name");
    if (!name_valid(id->name))
        return fail(c, INVALID, sub, "identity names are 1-64 of A-Z a-z 0-9 . _ - starting "
                    "with a letter or digit");
    for (size_t j = 0; j < index; j++)
        if (strcmp(c->p->ids[j].name, id->name) == 0)
            return fail(c, INVALID, sub, "duplicate identity name \"%s\" (also identities[%zu])",
                        id->name, j);
    id->cert_pem = json_string_value(json_object_get(obj, "certificate"));
    at_key(sub, path, "certificate");
    if (parse_cert(c, sub, id->cert_pem, &id->cert, (uint8_t **)&id->cert_der, &id->cert_der_len))
        return -1;
    for (size_t j = 0; j < index; j++)
        if (c->p->ids[j].cert_der_len == id->cert_der_len &&
            memcmp(c->p->ids[j].cert_der, id->cert_der, id->cert_der_len) == 0)
            return fail(c, INVALID, sub, "same certificate as identities[%zu] (\"%s\")", j,
                        c->p->ids[j].name);
    return parse_grants(c, json_object_get(obj, "rights"), at_key(sub, path, "rights"), "rwx",
                        (sb_policy_grant **)&id->grants, &id->n_grants);
}

static int parse_identities(ctx *c, json_t *arr)
{
    const char *path = "policy.identities";
    char sub[JPATH];
    size_t n = json_array_size(arr);
    if (check_count(c, path, n, 1, MAX_IDENTITIES, "identities"))
        return -1;
    if (!(c->p->ids = calloc(n, sizeof *c->p->ids)))
        return NOMEM(c, path);
    c->p->n_ids = n;
    for (size_t i = 0; i < n; i++)
        if (parse_identity(c, json_array_get(arr, i), i, at_index(sub, path, i)))
            return -1;
    return 0;
}

/* ---- programs ---- */

static const field program_fields[] = {
    {"path", T_STR, true}, {"sha256", T_STR, true}, {"rights", T_OBJ, true}, {"args", T_ARR, false}};

/* "args": the exact arguments every run gets. Strings point into the JSON tree. */
static int parse_args(ctx *c, json_t *arr, const char *path, sb_policy_program *pr)
{
    char sub[JPATH];
    size_t n = json_array_size(arr);
    if (check_count(c, path, n, 0, SB_POLICY_ARGS_MAX, "arguments"))
        return -1;
    const char **args = calloc(n ? n : 1, sizeof *args);
    if (!args)
        return NOMEM(c, path);
    pr->args = args;
    pr->has_args = true;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        at_index(sub, path, i);
        if (!json_is_string(v))
            return fail(c, INVALID, sub, "expected a string");
        if (json_string_length(v) > SB_POLICY_ARG_MAX)
            return fail(c, INVALID, sub, "longer than %d bytes", SB_POLICY_ARG_MAX);
        args[pr->n_args++] = json_string_value(v);
    }
    return 0;
}

static int parse_program(ctx *c, json_t *obj, size_t index, const char *path)
{
    char sub[JPATH];
    sb_policy_program *pr = &c->p->progs[index];
    if (check_object(c, obj, path, program_fields, 4))
        return -1;
    json_t *args = json_object_get(obj, "args");
    if (args && parse_args(c, args, at_key(sub, path, "args"), pr))
        return -1;
    pr->path = json_string_value(json_object_get(obj, "path"));
    const char *why = path_problem(pr->path);
    at_key(sub, path, "path");
    if (why)
        return fail(c, INVALID, sub, "malformed path: %s", why);
    if (strcmp(pr->path, "/") == 0)
        return fail(c, INVALID, sub, "a program path must name a file, not \"/\"");
    for (size_t j = 0; j < index; j++)
        if (strcmp(c->p->progs[j].path, pr->path) == 0)
            return fail(c, INVALID, sub, "duplicate program path (also programs[%zu])", j);
    const char *hex = json_string_value(json_object_get(obj, "sha256"));
    if (hex_lower(hex, pr->sha256, 32))
        return fail(c, INVALID, at_key(sub, path, "sha256"),
                    "expected 64 lower-case hex digits (SHA-256), got %zu characters%s",
                    strlen(hex), strlen(hex) == 64 ? " with a non-hex or upper-case digit" : "");
    return parse_grants(c, json_object_get(obj, "rights"), at_key(sub, path, "rights"), "rw",
                        (sb_policy_grant **)&pr->grants, &pr->n_grants);
}

static int parse_programs(ctx *c, json_t *arr)
{
    const char *path = "policy.programs";
    char sub[JPATH];
    size_t n = json_array_size(arr);
    if (check_count(c, path, n, 1, MAX_PROGRAMS, "programs"))
        return -1;
    if (!(c->p->progs = calloc(n, sizeof *c->p->progs)))
        return NOMEM(c, path);
    c->p->n_progs = n;
    for (size_t i = 0; i < n; i++)
        if (parse_program(c, json_array_get(arr, i), i, at_index(sub, path, i)))
            return -1;
    return 0;
}

/* ---- pipelines ---- */

static const field pipeline_fields[] = {{"name", T_STR, true}, {"steps", T_ARR, true}};
static const field step_fields[] = {{"program", T_STR, true}, {"args", T_ARR, false}};

/* A step's arguments: its own "args", which must be the program's when its entry fixes them, or
 * else the program's fixed ones, or none. */
static int parse_step_args(ctx *c, json_t *obj, const char *path, sb_policy_step *st)
{
    sb_policy_program tmp = {0};
    json_t *args = json_object_get(obj, "args");
    const sb_policy_program *pr = st->program;
    if (!args) {
        st->args = pr->args;
        st->n_args = pr->has_args ? pr->n_args : 0;
        return 0;
    }
    int rc = parse_args(c, args, path, &tmp);
    st->args = tmp.args; /* owned by the step (freed with the policy), also after a failure */
    st->n_args = tmp.n_args;
    if (rc)
        return -1;
    sb_err e = {0};
    const char *const *got;
    size_t n;
    if (sb_policy_run_args(pr, tmp.args, tmp.n_args, &got, &n, &e) < 0)
        return fail(c, INVALID, path, "program %s fixes its arguments; a step must use those", pr->path);
    return 0;
}

static int parse_step(ctx *c, json_t *obj, const char *path, sb_policy_step *st)
{
    char sub[JPATH];
    if (check_object(c, obj, path, step_fields, 2))
        return -1;
    const char *prog = json_string_value(json_object_get(obj, "program"));
    for (size_t i = 0; i < c->p->n_progs && !st->program; i++)
        if (strcmp(c->p->progs[i].path, prog) == 0)
            st->program = &c->p->progs[i];
    if (!st->program)
        return fail(c, INVALID, at_key(sub, path, "program"), "\"%.64s\" is not a program of the "
                    "policy (each step runs one of policy.programs)", prog);
    return parse_step_args(c, obj, at_key(sub, path, "args"), st);
}

static int parse_pipeline(ctx *c, json_t *obj, size_t index, const char *path)
{
    char sub[JPATH], sub2[JPATH];
    sb_policy_pipeline *pl = &c->p->pipes[index];
    if (check_object(c, obj, path, pipeline_fields, 2))
        return -1;
    pl->name = json_string_value(json_object_get(obj, "name"));
    at_key(sub, path, "name");
    if (!name_valid(pl->name))
        return fail(c, INVALID, sub, "expected 1-%d characters [A-Za-z0-9._-], starting with a letter "
                    "or digit", SB_POLICY_NAME_MAX);
    for (size_t j = 0; j < index; j++)
        if (strcmp(c->p->pipes[j].name, pl->name) == 0)
            return fail(c, INVALID, sub, "duplicate pipeline name (also pipelines[%zu])", j);
    json_t *steps = json_object_get(obj, "steps");
    size_t n = json_array_size(steps);
    at_key(sub, path, "steps");
    if (check_count(c, sub, n, 1, SB_POLICY_STEPS_MAX, "steps"))
        return -1;
    sb_policy_step *st = calloc(n, sizeof *st);
    if (!st)
        return NOMEM(c, sub);
    pl->steps = st;
    pl->n_steps = n;
    for (size_t i = 0; i < n; i++)
        if (parse_step(c, json_array_get(steps, i), at_index(sub2, sub, i), &st[i]))
            return -1;
    return 0;
}

static int parse_pipelines(ctx *c, json_t *arr)
{
    const char *path = "policy.pipelines";
    char sub[JPATH];
    size_t n = json_array_size(arr);
    if (!arr)
        return 0;
    if (check_count(c, path, n, 1, SB_POLICY_PIPELINES_MAX, "pipelines"))
        return -1;
    if (!(c->p->pipes = calloc(n, sizeof *c->p->pipes)))
        return NOMEM(c, path);
    c->p->n_pipes = n;
    for (size_t i = 0; i < n; i++)
        if (parse_pipeline(c, json_array_get(arr, i), i, at_index(sub, path, i)))
            return -1;
    return 0;
}

/* Every program needs someone who may upload it and someone who may run it. */
static int check_program_roles(ctx *c)
{
    char sub[JPATH], pathbuf[JPATH];
    for (size_t i = 0; i < c->p->n_progs; i++) {
        unsigned all = 0;
        for (size_t j = 0; j < c->p->n_ids; j++)
            all |= sb_policy_rights(&c->p->ids[j], c->p->progs[i].path);
        at_key(sub, at_index(pathbuf, "policy.programs", i), "path");
        if (!(all & SB_RIGHT_WRITE))
            return fail(c, INVALID, sub, "no identity may write (upload) this program");
        if (!(all & SB_RIGHT_EXEC))
            return fail(c, INVALID, sub, "no identity may run this program (needs \"x\")");
    }
    return 0;
}

/* ---- results and readers ---- */

static bool reads_results(const sb_policy *p, const sb_policy_identity *id)
{
    for (size_t g = 0; g < id->n_grants; g++)
        for (size_t r = 0; r < p->n_results; r++)
            if ((id->grants[g].rights & SB_RIGHT_READ) &&
                (sb_policy_path_covers(id->grants[g].prefix, p->results[r]) ||
                 sb_policy_path_covers(p->results[r], id->grants[g].prefix)))
                return true;
    return false;
}

static int parse_results(ctx *c, json_t *arr)
{
    const char *path = "policy.results";
    char sub[JPATH];
    sb_policy *p = c->p;
    size_t n = json_array_size(arr);
    if (check_count(c, path, n, 1, MAX_RESULTS, "result paths"))
        return -1;
    if (!(p->results = calloc(n, sizeof *p->results)) ||
        !(p->readers = calloc(p->n_ids, sizeof *p->readers)))
        return NOMEM(c, path);
    for (size_t i = 0; i < n; i++) {
        const char *r = json_string_value(json_array_get(arr, i)), *why;
        at_index(sub, path, i);
        if (!r)
            return fail(c, INVALID, sub, "expected a string");
        if ((why = path_problem(r)))
            return fail(c, INVALID, sub, "malformed path: %s", why);
        for (size_t j = 0; j < i; j++)
            if (sb_policy_path_covers(r, p->results[j]) || sb_policy_path_covers(p->results[j], r))
                return fail(c, INVALID, sub, "\"%s\" overlaps results[%zu] \"%s\"", r, j,
                            p->results[j]);
        p->results[p->n_results++] = r;
    }
    for (size_t i = 0; i < p->n_ids; i++)
        if ((p->ids[i].result_reader = reads_results(p, &p->ids[i])))
            p->readers[p->n_readers++] = &p->ids[i];
    if (p->n_readers == 0)
        return fail(c, INVALID, path, "no identity may read the results (a policy needs at least "
                    "one result reader)");
    return 0;
}

/* ---- runtimes ---- */

static const struct platform {
    const char *name;
    unsigned char lens[3]; /* accepted measurement lengths in bytes */
    bool insecure;
} platforms[] = {
    {"process", {32}, true}, {"kvm", {32}, true},          {"sev-snp", {48}, false},
    {"tdx", {48}, false},    {"cca", {32, 48, 64}, false}, {"nitro", {48}, false},
    {"psa", {32, 48, 64}, false},
};

static const struct platform *find_platform(const char *name)
{
    for (size_t i = 0; name && i < sizeof platforms / sizeof platforms[0]; i++)
        if (strcmp(platforms[i].name, name) == 0)
            return &platforms[i];
    return NULL;
}

bool sb_policy_platform_insecure(const char *platform)
{
    const struct platform *pl = find_platform(platform);
    return !pl || pl->insecure;
}

static int parse_measurement(ctx *c, const struct platform *pl, const char *hex, const char *path,
                             sb_policy_measurement *m)
{
    char want[48] = "";
    size_t len = strlen(hex);
    for (size_t i = 0; i < 3 && pl->lens[i]; i++) {
        if (len == 2u * pl->lens[i] && hex_lower(hex, m->value, pl->lens[i]) == 0) {
            m->len = pl->lens[i];
            return 0;
        }
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", i ? " or " : "",
                 2 * pl->lens[i]);
    }
    return fail(c, INVALID, path, "expected %s lower-case hex digits for %s, got %zu characters%s",
                want, pl->name, len, strspn(hex, "0123456789abcdef") == len ? "" : " (not all "
                "lower-case hex)");
}

static int parse_platform(ctx *c, const char *name, json_t *arr, sb_policy_runtime *rt,
                          const char *path)
{
    char sub[JPATH];
    const struct platform *pl = find_platform(name);
    if (!pl)
        return fail(c, INVALID, path, "unknown platform (known: process, kvm, sev-snp, tdx, cca, "
                    "nitro, psa)");
    if (pl->insecure && !c->p->allow_debug)
        return fail(c, INVALID, path, "the %s platform is insecure; accept it only with "
                    "runtimes.allow_debug = true", name);
    if (!json_is_array(arr))
        return fail(c, INVALID, path, "expected an array of measurements");
    size_t n = json_array_size(arr);
    if (check_count(c, path, n, 1, MAX_MEASUREMENTS, "measurements"))
        return -1;
    sb_policy_measurement *m = calloc(n, sizeof *m);
    if (!m)
        return NOMEM(c, path);
    rt->platform = name;
    rt->measurements = m;
    for (size_t i = 0; i < n; i++) {
        const char *hex = json_string_value(json_array_get(arr, i));
        at_index(sub, path, i);
        if (!hex)
            return fail(c, INVALID, sub, "expected a string");
        if (parse_measurement(c, pl, hex, sub, &m[i]))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (m[j].len == m[i].len && memcmp(m[j].value, m[i].value, m[i].len) == 0)
                return fail(c, INVALID, sub, "duplicate measurement (also [%zu])", j);
        rt->n_measurements = i + 1;
    }
    return 0;
}

static const field runtimes_fields[] = {{"allow_debug", T_BOOL, false}, {"platforms", T_OBJ, true}};

static int parse_runtimes(ctx *c, json_t *obj)
{
    const char *path = "policy.runtimes";
    char sub[JPATH], pathbuf[JPATH];
    if (check_object(c, obj, path, runtimes_fields, 2))
        return -1;
    c->p->allow_debug = json_is_true(json_object_get(obj, "allow_debug"));
    json_t *plats = json_object_get(obj, "platforms");
    size_t n = json_object_size(plats);
    at_key(pathbuf, path, "platforms");
    if (check_count(c, pathbuf, n, 1, sizeof platforms / sizeof platforms[0], "platforms"))
        return -1;
    if (!(c->p->rts = calloc(n, sizeof *c->p->rts)))
        return NOMEM(c, path);
    const char *key;
    json_t *v;
    json_object_foreach(plats, key, v) {
        if (parse_platform(c, key, v, &c->p->rts[c->p->n_rts++], at_key(sub, pathbuf, key)))
            return -1;
    }
    return 0;
}

/* ---- attestation, host ---- */

static const char *url_problem(const char *url)
{
    size_t skip = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (!skip)
        return "must start with http:// or https://";
    if (strlen(url) > MAX_URL_LEN)
        return "longer than 2048 bytes";
    if (url[skip] == '\0' || url[skip] == '/' || url[skip] == ':')
        return "no host name";
    for (const char *s = url; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return "spaces, control and non-ASCII characters are not allowed";
    return NULL;
}

static const field attestation_fields[] = {{"url", T_STR, true}, {"root_certificate", T_STR, true}};

static int parse_attestation(ctx *c, json_t *obj)
{
    const char *path = "policy.attestation", *why;
    char sub[JPATH];
    uint8_t *der = NULL;
    size_t der_len;
    if (check_object(c, obj, path, attestation_fields, 2))
        return -1;
    c->p->att_url = json_string_value(json_object_get(obj, "url"));
    if ((why = url_problem(c->p->att_url)))
        return fail(c, INVALID, at_key(sub, path, "url"), "%s", why);
    c->p->att_root_pem = json_string_value(json_object_get(obj, "root_certificate"));
    int rc = parse_cert(c, at_key(sub, path, "root_certificate"), c->p->att_root_pem,
                        &c->p->att_root, &der, &der_len);
    free(der);
    return rc;
}

/* "name:port", "a.b.c.d:port" or "[v6]:port", port 1-65535. */
static const char *host_problem(const char *s)
{
    const char *colon;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end == s + 1 || (size_t)(end - s - 1) > 45 ||
            strspn(s + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - s - 1))
            return "malformed [IPv6] address";
        colon = end + 1;
        if (*colon != ':')
            return "missing :port";
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return "missing :port";
        size_t n = (size_t)(colon - s);
        if (n == 0 || n > 253 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789.-") != n)
            return "host must be a name or IPv4 address (letters, digits, '.', '-')";
    }
    size_t digits = strspn(colon + 1, "0123456789");
    if (digits == 0 || digits > 5 || colon[1 + digits] != '\0' || atoi(colon + 1) < 1 ||
        atoi(colon + 1) > 65535 || colon[1] == '0')
        return "port must be a number from 1 to 65535";
    return NULL;
}

/* ---- limits, expiry, shutdown ---- */

static const struct limit {
    const char *key;
    size_t offset;
    uint64_t min, max;
} limit_table[] = {
    {"fuel", offsetof(sb_policy_limits, fuel), 1, 1ull << 53},
    {"memory_bytes", offsetof(sb_policy_limits, memory_bytes), 65536, 4ull << 30},
    {"run_seconds", offsetof(sb_policy_limits, run_seconds), 1, 7 * 86400},
    {"fs_bytes", offsetof(sb_policy_limits, fs_bytes), 1, 64ull << 30},
    {"output_bytes", offsetof(sb_policy_limits, output_bytes), 0, 1ull << 30},
};
#define N_LIMITS (sizeof limit_table / sizeof limit_table[0])

const char *sb_policy_engine_name(sb_policy_engine e)
{
    return e == SB_POLICY_ENGINE_COMPILED ? "compiled" : "interpreter";
}

int sb_policy_engine_parse(const char *name, sb_policy_engine *out)
{
    if (strcmp(name, "interpreter") == 0)
        *out = SB_POLICY_ENGINE_INTERPRETER;
    else if (strcmp(name, "compiled") == 0)
        *out = SB_POLICY_ENGINE_COMPILED;
    else
        return -1;
    return 0;
}

static int parse_limits(ctx *c, json_t *obj)
{
    const char *path = "policy.limits";
    char sub[JPATH];
    field f[N_LIMITS + 1];
    for (size_t i = 0; i < N_LIMITS; i++)
        f[i] = (field){limit_table[i].key, T_INT, true};
    f[N_LIMITS] = (field){"engine", T_STR, false};
    if (check_object(c, obj, path, f, N_LIMITS + 1))
        return -1;
    /* Whether this runtime has the tier is the runtime's question (it refuses at policy load):
     * the policy itself may name either. */
    const json_t *engine = json_object_get(obj, "engine");
    c->p->limits.engine = SB_POLICY_ENGINE_DEFAULT;
    c->p->limits.engine_named = engine != NULL;
    if (engine && sb_policy_engine_parse(json_string_value(engine), &c->p->limits.engine) != 0)
        return fail(c, INVALID, at_key(sub, path, "engine"),
                    "expected \"interpreter\" or \"compiled\", not \"%.32s\"",
                    json_string_value(engine));
    for (size_t i = 0; i < N_LIMITS; i++) {
        const struct limit *l = &limit_table[i];
        json_int_t v = json_integer_value(json_object_get(obj, l->key));
        if (v < 0 || (uint64_t)v < l->min || (uint64_t)v > l->max)
            return fail(c, INVALID, at_key(sub, path, l->key), "%lld is out of range (%llu to %llu)",
                        (long long)v, (unsigned long long)l->min, (unsigned long long)l->max);
        *(uint64_t *)((char *)&c->p->limits + l->offset) = (uint64_t)v;
    }
    return 0;
}

static int parse_expires(ctx *c, const char *s)
{
    const char *path = "policy.expires";
    char back[32], now[32];
    time_t t;
    if (strlen(s) != 20 || sb_time_parse(s, &t) != 0 ||
        (sb_time_format(t, back, sizeof back), strcmp(back, s) != 0))
        return fail(c, INVALID, path, "expected an RFC 3339 UTC time like 2026-01-31T12:00:00Z");
    c->p->expires = t;
    sb_time_format(c->now, now, sizeof now);
    if (c->check_time && t <= c->now)
        return fail(c, SB_POLICY_E_EXPIRED, path, "the policy expired at %s (now %s)", s, now);
    return 0;
}

static const field shutdown_fields[] = {{"quorum", T_OBJ, false}, {"keep_sealed", T_ARR, false}};
static const field quorum_fields[] = {{"members", T_ARR, true}, {"count", T_INT, true}};

static int parse_quorum(ctx *c, json_t *q)
{
    const char *path = "policy.shutdown.quorum";
    char sub[JPATH], pathbuf[JPATH];
    sb_policy *p = c->p;
    if (check_object(c, q, path, quorum_fields, 2))
        return -1;
    json_t *members = json_object_get(q, "members");
    size_t n = json_array_size(members);
    at_key(pathbuf, path, "members");
    if (check_count(c, pathbuf, n, 1, p->n_ids, "members (one per identity)"))
        return -1;
    if (!(p->quorum = calloc(n, sizeof *p->quorum)))
        return NOMEM(c, path);
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(members, i));
        at_index(sub, pathbuf, i);
        const sb_policy_identity *id = name ? sb_policy_find_identity(p, name) : NULL;
        if (!id)
            return fail(c, INVALID, sub, "expected the name of an identity");
        for (size_t j = 0; j < i; j++)
            if (p->quorum[j] == id)
                return fail(c, INVALID, sub, "\"%s\" is listed twice", name);
        p->quorum[p->n_quorum++] = id;
    }
    json_int_t count = json_integer_value(json_object_get(q, "count"));
    at_key(sub, path, "count");
    if (count < 1 || (size_t)count > n)
        return fail(c, INVALID, sub, "must be from 1 to the number of members (%zu)", n);
    if (count < 2 && p->n_ids > 1)
        return fail(c, INVALID, sub, "a quorum of 1 would let a single party end the computation "
                    "for everyone; use at least 2");
    p->quorum_count = (size_t)count;
    return 0;
}

/* The parts of the result areas whose files the isolate seals to their readers for the host to
 * keep when the computation ends (docs/sealed.md). Absent means none; [] is refused so that
 * "keep nothing" has one spelling (and one hash). */
static int parse_keep_sealed(ctx *c, json_t *arr)
{
    const char *path = "policy.shutdown.keep_sealed";
    char sub[JPATH];
    sb_policy *p = c->p;
    size_t n = json_array_size(arr);
    if (n == 0)
        return fail(c, INVALID, path, "needs at least 1 path (leave the field out to keep nothing)");
    if (check_count(c, path, n, 1, MAX_RESULTS, "paths"))
        return -1;
    if (!(p->keep = calloc(n, sizeof *p->keep)))
        return NOMEM(c, path);
    for (size_t i = 0; i < n; i++) {
        const char *k = json_string_value(json_array_get(arr, i)), *why;
        at_index(sub, path, i);
        if (!k)
            return fail(c, INVALID, sub, "expected a string");
        if ((why = path_problem(k)))
            return fail(c, INVALID, sub, "malformed path: %s", why);
        if (!sb_policy_in_results(p, k))
            return fail(c, INVALID, sub, "\"%s\" is not inside a result area (only results are kept)",
                        k);
        for (size_t j = 0; j < i; j++)
            if (sb_policy_path_covers(k, p->keep[j]) || sb_policy_path_covers(p->keep[j], k))
                return fail(c, INVALID, sub, "\"%s\" overlaps keep_sealed[%zu] \"%s\"", k, j,
                            p->keep[j]);
        p->keep[p->n_keep++] = k;
    }
    return 0;
}

static int parse_shutdown(ctx *c, json_t *obj)
{
    if (check_object(c, obj, "policy.shutdown", shutdown_fields, 2))
        return -1;
    json_t *q = json_object_get(obj, "quorum"), *k = json_object_get(obj, "keep_sealed");
    return (q && parse_quorum(c, q)) || (k && parse_keep_sealed(c, k)) ? -1 : 0;
}

/* ---- the whole document ---- */

static const field top_fields[] = {
    {"version", T_INT, true},   {"name", T_STR, true},        {"identities", T_ARR, true},
    {"programs", T_ARR, true},  {"results", T_ARR, true},     {"runtimes", T_OBJ, true},
    {"attestation", T_OBJ, true}, {"host", T_STR, true},      {"limits", T_OBJ, true},
    {"clock", T_BOOL, true},    {"expires", T_STR, true},     {"shutdown", T_OBJ, true},
    {"pipelines", T_ARR, false},
};

static int parse_scalars(ctx *c, json_t *root)
{
    sb_policy *p = c->p;
    json_int_t version = json_integer_value(json_object_get(root, "version"));
    if (version != SB_POLICY_FORMAT_VERSION)
        return fail(c, INVALID, "policy.version", "unsupported format version %lld (this build "
                    "reads version %d)", (long long)version, SB_POLICY_FORMAT_VERSION);
    p->name = json_string_value(json_object_get(root, "name"));
    if (!*p->name || strlen(p->name) > MAX_NAME_LEN || !printable(p->name))
        return fail(c, INVALID, "policy.name", "expected 1-128 printable characters");
    p->host = json_string_value(json_object_get(root, "host"));
    const char *why = host_problem(p->host);
    if (why)
        return fail(c, INVALID, "policy.host", "%s", why);
    p->clock = json_is_true(json_object_get(root, "clock"));
    return 0;
}

static int validate(ctx *c, json_t *root)
{
    if (check_object(c, root, "policy", top_fields, sizeof top_fields / sizeof top_fields[0]) ||
        parse_scalars(c, root) || parse_identities(c, json_object_get(root, "identities")) ||
        parse_programs(c, json_object_get(root, "programs")) || check_program_roles(c) ||
        parse_pipelines(c, json_object_get(root, "pipelines")) ||
        parse_results(c, json_object_get(root, "results")) ||
        parse_runtimes(c, json_object_get(root, "runtimes")) ||
        parse_attestation(c, json_object_get(root, "attestation")) ||
        parse_limits(c, json_object_get(root, "limits")) ||
        parse_expires(c, json_string_value(json_object_get(root, "expires"))) ||
        parse_shutdown(c, json_object_get(root, "shutdown")))
        return -1;
    return 0;
}

int sb_policy_parse(const void *data, size_t len, time_t now, unsigned flags, sb_policy **out,
                    sb_err *err)
{
    *out = NULL;
    sb_policy *p = calloc(1, sizeof *p);
    if (!p)
        return sb_err_set(err, SB_POLICY_E_NOMEM, "policy: out of memory");
    ctx c = {p, now, !(flags & SB_POLICY_SKIP_TIME_CHECKS), err};
    if (sb_jcs_load(data, len, SB_POLICY_MAX_BYTES, SB_POLICY_MAX_DEPTH, &p->root, err) != 0) {
        sb_err_prefix(err, "policy");
        sb_policy_free(p);
        return -1;
    }
    if (validate(&c, p->root) != 0) {
        sb_policy_free(p);
        return -1;
    }
    if (sb_jcs_encode(p->root, &p->canonical, &p->canonical_len, err) != 0) {
        sb_err_prefix(err, "policy");
        sb_policy_free(p);
        return -1;
    }
    SHA256(p->canonical, p->canonical_len, p->hash);
    sb_hex_encode(p->hash, 32, p->hash_hex);
    *out = p;
    return 0;
}

int sb_policy_load(const char *path, time_t now, unsigned flags, sb_policy **out, sb_err *err)
{
    uint8_t *data;
    size_t len;
    *out = NULL;
    if (sb_read_file(path, SB_POLICY_MAX_BYTES, &data, &len, err) != 0) {
        if (err)
            err->code = SB_POLICY_E_IO;
        return -1;
    }
    int rc = sb_policy_parse(data, len, now, flags, out, err);
    free(data);
    return rc;
}

void sb_policy_free(sb_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_ids; i++) {
        X509_free(p->ids[i].cert);
        free((void *)p->ids[i].cert_der);
        free((void *)p->ids[i].grants);
    }
    for (size_t i = 0; i < p->n_progs; i++) {
        free((void *)p->progs[i].grants);
        free((void *)p->progs[i].args);
    }
    for (size_t i = 0; i < p->n_rts; i++)
        free((void *)p->rts[i].measurements);
    for (size_t i = 0; i < p->n_pipes; i++) {
        for (size_t j = 0; j < p->pipes[i].n_steps; j++) {
            const sb_policy_step *st = &p->pipes[i].steps[j];
            if (st->args && st->args != st->program->args)
                free((void *)st->args);
        }
        free((void *)p->pipes[i].steps);
    }
    free(p->pipes);
    free(p->ids);
    free(p->progs);
    free(p->rts);
    free(p->results);
    free(p->readers);
    free(p->quorum);
    free(p->keep);
    free(p->canonical);
    X509_free(p->att_root);
    json_decref(p->root);
    free(p);
}

/* ---- queries ---- */

const uint8_t *sb_policy_hash(const sb_policy *p) { return p->hash; }
const char *sb_policy_hash_hex(const sb_policy *p) { return p->hash_hex; }
const char *sb_policy_name(const sb_policy *p) { return p->name; }

const uint8_t *sb_policy_canonical(const sb_policy *p, size_t *len)
{
    *len = p->canonical_len;
    return p->canonical;
}

size_t sb_policy_identity_count(const sb_policy *p) { return p->n_ids; }

const sb_policy_identity *sb_policy_identity_at(const sb_policy *p, size_t i)
{
    return i < p->n_ids ? &p->ids[i] : NULL;
}

const sb_policy_identity *sb_policy_find_identity(const sb_policy *p, const char *name)
{
    for (size_t i = 0; name && i < p->n_ids; i++)
        if (strcmp(p->ids[i].name, name) == 0)
            return &p->ids[i];
    return NULL;
}

const sb_policy_identity *sb_policy_find_identity_by_der(const sb_policy *p, const uint8_t *der,
                                                         size_t len)
{
    for (size_t i = 0; der && i < p->n_ids; i++)
        if (p->ids[i].cert_der_len == len && memcmp(p->ids[i].cert_der, der, len) == 0)
            return &p->ids[i];
    return NULL;
}

const sb_policy_identity *sb_policy_find_identity_by_cert(const sb_policy *p, X509 *cert)
{
    uint8_t *der = NULL;
    int len = cert ? i2d_X509(cert, &der) : -1;
    if (len <= 0)
        return NULL;
    const sb_policy_identity *id = sb_policy_find_identity_by_der(p, der, (size_t)len);
    OPENSSL_free(der);
    return id;
}

size_t sb_policy_pipeline_count(const sb_policy *p) { return p->n_pipes; }

const sb_policy_pipeline *sb_policy_pipeline_at(const sb_policy *p, size_t i)
{
    return i < p->n_pipes ? &p->pipes[i] : NULL;
}

const sb_policy_pipeline *sb_policy_find_pipeline(const sb_policy *p, const char *name)
{
    for (size_t i = 0; i < p->n_pipes; i++)
        if (strcmp(p->pipes[i].name, name) == 0)
            return &p->pipes[i];
    return NULL;
}

size_t sb_policy_program_count(const sb_policy *p) { return p->n_progs; }

const sb_policy_program *sb_policy_program_at(const sb_policy *p, size_t i)
{
    return i < p->n_progs ? &p->progs[i] : NULL;
}

const sb_policy_program *sb_policy_find_program(const sb_policy *p, const char *path)
{
    for (size_t i = 0; path && i < p->n_progs; i++)
        if (strcmp(p->progs[i].path, path) == 0)
            return &p->progs[i];
    return NULL;
}

bool sb_policy_may_run(const sb_policy *p, const sb_policy_identity *id, const char *path,
                       const uint8_t module_sha256[32], sb_err *err)
{
    const sb_policy_program *pr = sb_policy_find_program(p, path);
    if (!pr)
        return sb_err_set(err, INVALID, "%s is not a program of the policy", path ? path : "(none)"),
               false;
    if (memcmp(pr->sha256, module_sha256, 32) != 0)
        return sb_err_set(err, INVALID, "%s does not have the SHA-256 the policy names", path),
               false;
    if (!id || !(sb_policy_rights(id, path) & SB_RIGHT_EXEC))
        return sb_err_set(err, INVALID, "%s may not run %s", id ? id->name : "(nobody)", path),
               false;
    return true;
}

int sb_policy_run_args(const sb_policy_program *pr, const char *const *req, size_t n_req,
                       const char *const **args, size_t *n_args, sb_err *err)
{
    bool same = pr->has_args && n_req == pr->n_args;
    for (size_t i = 0; same && i < n_req; i++)
        same = strcmp(req[i], pr->args[i]) == 0;
    if (pr->has_args && n_req != 0 && !same)
        return sb_err_set(err, INVALID, "the policy fixes the arguments of %s (%zu); a run "
                          "request may repeat them exactly or give none", pr->path, pr->n_args);
    *args = pr->has_args ? pr->args : req;
    *n_args = pr->has_args ? pr->n_args : n_req;
    return 0;
}

bool sb_policy_allow_debug(const sb_policy *p) { return p->allow_debug; }
size_t sb_policy_runtime_count(const sb_policy *p) { return p->n_rts; }

const sb_policy_runtime *sb_policy_runtime_at(const sb_policy *p, size_t i)
{
    return i < p->n_rts ? &p->rts[i] : NULL;
}

const sb_policy_runtime *sb_policy_find_runtime(const sb_policy *p, const char *platform)
{
    for (size_t i = 0; platform && i < p->n_rts; i++)
        if (strcmp(p->rts[i].platform, platform) == 0)
            return &p->rts[i];
    return NULL;
}

bool sb_policy_platform_acceptable(const sb_policy *p, const char *platform, bool debug,
                                   sb_err *err)
{
    if (!sb_policy_find_runtime(p, platform))
        return sb_err_set(err, INVALID, "platform %s is not accepted by the policy",
                          platform ? platform : "(none)"), false;
    if ((debug || sb_policy_platform_insecure(platform)) && !p->allow_debug)
        return sb_err_set(err, INVALID, "platform %s is in debug or insecure mode and the policy "
                          "does not allow debug", platform), false;
    return true;
}

bool sb_policy_accepts(const sb_policy *p, const char *platform, const uint8_t *measurement,
                       size_t len, bool debug, sb_err *err)
{
    if (!sb_policy_platform_acceptable(p, platform, debug, err))
        return false;
    const sb_policy_runtime *rt = sb_policy_find_runtime(p, platform);
    for (size_t i = 0; measurement && i < rt->n_measurements; i++)
        if (rt->measurements[i].len == len && memcmp(rt->measurements[i].value, measurement, len) == 0)
            return true;
    char hex[2 * 8 + 1];
    sb_hex_encode(measurement ? measurement : (const uint8_t *)"", measurement && len >= 8 ? 8 : 0,
                  hex);
    return sb_err_set(err, INVALID, "%s measurement %s... (%zu bytes) is not one the policy "
                      "accepts", platform, hex, len), false;
}

const char *sb_policy_attestation_url(const sb_policy *p) { return p->att_url; }
X509 *sb_policy_attestation_root(const sb_policy *p) { return p->att_root; }
const char *sb_policy_attestation_root_pem(const sb_policy *p) { return p->att_root_pem; }
const char *sb_policy_host(const sb_policy *p) { return p->host; }
const sb_policy_limits *sb_policy_limits_of(const sb_policy *p) { return &p->limits; }
bool sb_policy_clock(const sb_policy *p) { return p->clock; }
time_t sb_policy_expires(const sb_policy *p) { return p->expires; }
bool sb_policy_expired(const sb_policy *p, time_t now) { return now >= p->expires; }

const char *const *sb_policy_results(const sb_policy *p, size_t *n)
{
    *n = p->n_results;
    return p->results;
}

bool sb_policy_in_results(const sb_policy *p, const char *path)
{
    for (size_t i = 0; i < p->n_results; i++)
        if (sb_policy_path_covers(p->results[i], path))
            return true;
    return false;
}

const char *const *sb_policy_keep_sealed(const sb_policy *p, size_t *n)
{
    *n = p->n_keep;
    return p->keep;
}

bool sb_policy_keeps_sealed(const sb_policy *p, const char *path)
{
    for (size_t i = 0; i < p->n_keep; i++)
        if (sb_policy_path_covers(p->keep[i], path))
            return true;
    return false;
}

bool sb_policy_is_result_for(const sb_policy *p, const sb_policy_identity *id, const char *path)
{
    if (!(sb_policy_rights(id, path) & SB_RIGHT_READ))
        return false;
    for (size_t i = 0; i < p->n_results; i++)
        if (sb_policy_path_covers(p->results[i], path))
            return true;
    return false;
}

size_t sb_policy_result_reader_count(const sb_policy *p) { return p->n_readers; }

const sb_policy_identity *sb_policy_result_reader_at(const sb_policy *p, size_t i)
{
    return i < p->n_readers ? p->readers[i] : NULL;
}

size_t sb_policy_quorum(const sb_policy *p, const sb_policy_identity *const **members,
                        size_t *count)
{
    *members = p->quorum;
    *count = p->quorum_count;
    return p->n_quorum;
}

enum sb_policy_end sb_policy_may_end(const sb_policy *p, const bool *voted, const bool *read_all,
                                     time_t now)
{
    if (sb_policy_expired(p, now))
        return SB_POLICY_END_EXPIRED;
    if (!voted)
        return SB_POLICY_END_NO;
    size_t votes = 0;
    for (size_t i = 0; i < p->n_quorum; i++)
        votes += voted[p->quorum[i]->index];
    if (p->n_quorum && votes >= p->quorum_count)
        return SB_POLICY_END_QUORUM;
    for (size_t i = 0; i < p->n_readers; i++)
        if (!voted[p->readers[i]->index] || !read_all || !read_all[p->readers[i]->index])
            return SB_POLICY_END_NO;
    return SB_POLICY_END_READERS;
}
