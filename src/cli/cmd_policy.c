/* strongbox policy new|check|hash|show - author and inspect policies (docs/policy.md).
 *
 * Outside the trusted base: this runs on a party's machine. It builds policies with jansson and
 * checks every result with the same library the isolate uses (src/policy), so what `policy new`
 * writes is exactly what `policy check` and the runtime accept. */
#include "cli/commands.h"
#include "common/common.h"
#include "policy/policy.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

SB_COMMAND_DECL(policy);
const char sb_cmd_policy_summary[] = "write (new), validate (check), hash or summarise (show) a policy";

#define DEFAULT_FUEL 10000000000ull
#define DEFAULT_MEMORY (256ull << 20)
#define DEFAULT_RUN_SECONDS 600
#define DEFAULT_FS_BYTES (1ull << 30)
#define DEFAULT_OUTPUT_BYTES (1ull << 20)
#define DEFAULT_LIFETIME (24 * 3600)

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("strongbox policy: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: strongbox policy new [OPTIONS] [-o FILE]\n"
        "       strongbox policy check FILE [--at TIME]\n"
        "       strongbox policy hash FILE [--canonical | --json]\n"
        "       strongbox policy show FILE [--json]\n"
        "\n"
        "policy new builds a policy from flags and/or a template (--from), hashes program files\n"
        "itself, validates the result exactly as the isolate will, and writes it:\n"
        "  --name NAME                         computation name (required)\n"
        "  --identity NAME=CERT[:R=PATH,...]   a party: certificate file, rights per path prefix\n"
        "                                      (R: r, w, x, rw, rx, wx, rwx); repeatable\n"
        "  --program PATH=FILE[:R=PATH,...]    a program: where it is uploaded, the .wasm to hash\n"
        "                                      (or sha256:HEX), the rights it runs with (r, w, rw)\n"
        "  --program-args PATH=ARGS            fix the arguments every run of PATH gets (split on\n"
        "                                      spaces; PATH= for none); runs asking for others are\n"
        "                                      refused\n"
        "  --results PATH                      a result area (repeatable; default /outputs)\n"
        "  --platform NAME:MEASUREMENT         accepted runtime (hex, or @FILE for the SHA-256 of\n"
        "                                      a file such as the runtime binary); repeatable\n"
        "  --allow-debug                       accept debug/insecure platforms (needed for process)\n"
        "  --attestation-url URL               the attestation service\n"
        "  --attestation-root FILE             its root certificate (PEM)\n"
        "  --host HOST:PORT                    where parties reach the host\n"
        "  --expires-in DURATION | --expires TIME   lifetime (e.g. 24h, 7d; default 24h) or an\n"
        "                                      RFC 3339 UTC time\n"
        "  --fuel N --memory SIZE --run-seconds N --fs-size SIZE --output-size SIZE\n"
        "                                      limits (SIZE takes K, M, G suffixes: 256M)\n"
        "  --engine interpreter|compiled       the engine tier runs execute on (default\n"
        "                                      compiled; interpreter if a platform is cca or psa)\n"
        "  --clock                             programs see the real time (default: fixed clock)\n"
        "  --quorum N[:NAME,...]               N of these identities (default all) may end it\n"
        "  --keep-sealed PATH                  when it ends, files under PATH (in a result area)\n"
        "                                      are sealed to their readers for the host to keep\n"
        "                                      (repeatable; docs/sealed.md)\n"
        "  --from TEMPLATE                     start from a JSON template ('@file' references)\n"
        "  -o FILE [--force]                   write to FILE (default: standard output)\n"
        "\n"
        "check exits 0 for a valid policy (as of now, or --at TIME) and 1 with the problem.\n"
        "hash prints the policy hash; --canonical prints the RFC 8785 bytes that are hashed;\n"
        "--json prints {\"policy_hash\": HEX}.\n");
}

/* ---- small parsers ---- */

static int parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    *out = strtoull(s, &end, 10);
    return errno || *end ? -1 : 0;
}

/* "256M" -> 268435456; suffixes K, M, G, T (powers of 1024), optional "iB"/"B". */
static int parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = 0;
    switch (*end) {
    case 'K': case 'k': shift = 10; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    case 'T': case 't': shift = 40; end++; break;
    }
    if (shift && strcmp(end, "iB") == 0)
        end += 2;
    else if (*end == 'B')
        end++;
    if (errno || *end || (shift && v > (~0ull >> shift)))
        return -1;
    *out = v << shift;
    return 0;
}

/* "90s", "30m", "24h", "7d", "2w" -> seconds. */
static int parse_duration(const char *s, long long *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    long long v = strtoll(s, &end, 10);
    const char *units = "smhdw";
    static const long long mult[] = {1, 60, 3600, 86400, 7 * 86400};
    const char *u = *end ? strchr(units, *end) : NULL;
    if (errno || !u || end[1] || v <= 0 || v > 100LL * 365 * 86400 / mult[u - units])
        return -1;
    *out = v * mult[u - units];
    return 0;
}

/* ---- files referenced by flags and templates ---- */

static char *resolve_path(const char *base, const char *file)
{
    char *out;
    if (file[0] == '/' || !base || strcmp(base, ".") == 0)
        return strdup(file);
    if (asprintf(&out, "%s/%s", base, file) < 0)
        return NULL;
    return out;
}

/* SHA-256 of a file, streamed (programs can be large). */
static int hash_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail("cannot open %s: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char buf[65536], digest[32];
    size_t n;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(md, buf, n);
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, digest, NULL);
    EVP_MD_CTX_free(md);
    fclose(f);
    if (!ok)
        return fail("cannot read %s", path);
    sb_hex_encode(digest, 32, hex);
    return 0;
}

/* A certificate for the policy: the PEM text of the file (re-encoded: no stray text), or the PEM
 * itself when given inline. Refuses private keys outright. */
static char *certificate_pem(const char *base, const char *ref)
{
    if (strncmp(ref, "-----BEGIN", 10) == 0)
        return strdup(ref);
    char *path = resolve_path(base, ref[0] == '@' ? ref + 1 : ref), *pem = NULL;
    uint8_t *data = NULL;
    size_t len;
    sb_err err;
    X509 *cert = NULL;
    if (!path || sb_read_file(path, 1 << 20, &data, &len, &err) != 0) {
        fail("%s", path ? err.msg : "out of memory");
    } else if (strstr((char *)data, "PRIVATE KEY")) {
        fail("%s holds a private key; give the certificate (NAME.crt), never the key", path);
    } else {
        BIO *in = BIO_new_mem_buf(data, (int)len), *out = BIO_new(BIO_s_mem());
        cert = in ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
        char *text;
        if (!cert) {
            fail("%s: not a PEM certificate", path);
        } else if (out && PEM_write_bio_X509(out, cert)) {
            long n = BIO_get_mem_data(out, &text);
            if ((pem = malloc((size_t)n + 1))) {
                memcpy(pem, text, (size_t)n);
                pem[n] = '\0';
            }
        }
        BIO_free(in);
        BIO_free(out);
    }
    X509_free(cert);
    free(data);
    free(path);
    return pem;
}

/* A program hash: "sha256:HEX" or 64 hex digits as given, else the SHA-256 of the file. */
static int program_hash(const char *base, const char *ref, char hex[65])
{
    if (strncmp(ref, "sha256:", 7) == 0) {
        snprintf(hex, 65, "%s", ref + 7);
        return strlen(ref + 7) == 64 ? 0 : fail("%s: expected 64 hex digits after sha256:", ref);
    }
    char *path = resolve_path(base, ref[0] == '@' ? ref + 1 : ref);
    int rc = path ? hash_file(path, hex) : fail("out of memory");
    free(path);
    return rc;
}

/* A measurement: hex as given, or "@FILE" for the SHA-256 of a file (the process platform's
 * measurement is the SHA-256 of the runtime binary). */
static json_t *measurement(const char *base, const char *ref)
{
    char hex[65];
    if (ref[0] != '@')
        return json_string(ref);
    char *path = resolve_path(base, ref + 1);
    int rc = path ? hash_file(path, hex) : fail("out of memory");
    free(path);
    return rc ? NULL : json_string(hex);
}

/* ---- building the document ---- */

static json_t *member(json_t *obj, const char *key, json_t *(*make)(void))
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        v = make();
        json_object_set_new(obj, key, v);
    }
    return v;
}

/* "rw=/inputs/alice,r=/outputs" -> {"/inputs/alice": "rw", "/outputs": "r"} */
static json_t *rights_list(const char *spec, const char *flag)
{
    json_t *obj = json_object();
    if (!spec || !*spec)
        return obj;
    char *copy = strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1]) {
            fail("%s: '%s' is not RIGHTS=PATH (e.g. rw=/inputs/alice)", flag, item);
            goto bad;
        }
        *eq = '\0';
        if (json_object_get(obj, eq + 1)) {
            fail("%s: path %s given twice", flag, eq + 1);
            goto bad;
        }
        json_object_set_new(obj, eq + 1, json_string(item));
    }
    free(copy);
    return obj;
bad:
    free(copy);
    json_decref(obj);
    return NULL;
}

/* --identity NAME=CERT[:RIGHTS=PATH,...] */
static int add_identity(json_t *doc, const char *spec)
{
    char *copy = strdup(spec), *eq = strchr(copy, '='), *pem = NULL;
    json_t *rights = NULL;
    int rc = 1;
    if (!eq || eq == copy || !eq[1]) {
        fail("--identity %s: expected NAME=CERT[:RIGHTS=PATH,...]", spec);
        goto out;
    }
    *eq = '\0';
    char *colon = strchr(eq + 1, ':');
    if (colon)
        *colon = '\0';
    if (!(pem = certificate_pem(".", eq + 1)) ||
        !(rights = rights_list(colon ? colon + 1 : NULL, "--identity")))
        goto out;
    json_array_append_new(member(doc, "identities", json_array),
                          json_pack("{s:s, s:s, s:o}", "name", copy, "certificate", pem, "rights",
                                    rights));
    rights = NULL;
    rc = 0;
out:
    json_decref(rights);
    free(pem);
    free(copy);
    return rc;
}

/* --program PATH=FILE[:RIGHTS=PATH,...]   (FILE may be sha256:HEX) */
static int add_program(json_t *doc, const char *spec)
{
    char *copy = strdup(spec), *eq = strchr(copy, '='), hex[65];
    json_t *rights = NULL;
    int rc = 1;
    if (!eq || eq == copy || !eq[1]) {
        fail("--program %s: expected PATH=FILE[:RIGHTS=PATH,...]", spec);
        goto out;
    }
    *eq = '\0';
    char *file = eq + 1;
    char *colon = strchr(strncmp(file, "sha256:", 7) == 0 ? file + 7 : file, ':');
    if (colon)
        *colon = '\0';
    if (program_hash(".", file, hex) || !(rights = rights_list(colon ? colon + 1 : NULL, "--program")))
        goto out;
    json_array_append_new(member(doc, "programs", json_array),
                          json_pack("{s:s, s:s, s:o}", "path", copy, "sha256", hex, "rights", rights));
    rc = 0;
out:
    free(copy);
    return rc;
}

/* --program-args PATH=ARGS: the policy fixes the program's arguments ("--min-group 5" becomes
 * ["--min-group", "5"]; an empty ARGS fixes "no arguments"). Arguments with spaces need a
 * template. Applied after every --program, so the program may come from a flag or a template. */
static int set_program_args(json_t *doc, const char *spec)
{
    char *copy = strdup(spec), *eq = strchr(copy, '='), *save = NULL;
    json_t *prog = NULL, *v, *args = json_array();
    size_t i;
    int rc = 1;
    if (!eq || eq == copy) {
        fail("--program-args %s: expected PATH=ARGS (e.g. /programs/x.wasm=\"--min-group 5\")", spec);
        goto out;
    }
    *eq = '\0';
    json_array_foreach(json_object_get(doc, "programs"), i, v) {
        const char *path = json_string_value(json_object_get(v, "path"));
        if (path && strcmp(path, copy) == 0)
            prog = v;
    }
    if (!prog) {
        fail("--program-args: %s is not a program of the policy (give --program first)", copy);
        goto out;
    }
    for (char *a = strtok_r(eq + 1, " ", &save); a; a = strtok_r(NULL, " ", &save))
        json_array_append_new(args, json_string(a));
    json_object_set(prog, "args", args);
    rc = 0;
out:
    json_decref(args);
    free(copy);
    return rc;
}

/* --platform NAME:MEASUREMENT[,MEASUREMENT...] */
static int add_platform(json_t *doc, const char *spec)
{
    char *copy = strdup(spec), *colon = strchr(copy, ':'), *save = NULL;
    int rc = 1;
    if (!colon || colon == copy || !colon[1]) {
        fail("--platform %s: expected NAME:MEASUREMENT (hex, or @FILE)", spec);
        goto out;
    }
    *colon = '\0';
    json_t *runtimes = member(doc, "runtimes", json_object);
    json_t *list = member(member(runtimes, "platforms", json_object), copy, json_array);
    for (char *m = strtok_r(colon + 1, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        json_t *v = measurement(".", m);
        if (!v)
            goto out;
        json_array_append_new(list, v);
    }
    rc = 0;
out:
    free(copy);
    return rc;
}

/* --quorum N[:NAME,...] (default members: every identity) */
static int set_quorum(json_t *doc, const char *spec)
{
    unsigned long long count;
    char *copy = strdup(spec), *colon = strchr(copy, ':'), *save = NULL;
    if (colon)
        *colon = '\0';
    json_t *members = json_array();
    int rc = 1;
    if (parse_u64(copy, &count) || count == 0 || count > 256) {
        fail("--quorum %s: expected N[:NAME,...] with N from 1 to 256", spec);
        goto out;
    }
    if (colon) {
        for (char *n = strtok_r(colon + 1, ",", &save); n; n = strtok_r(NULL, ",", &save))
            json_array_append_new(members, json_string(n));
    } else {
        json_t *id;
        size_t i;
        json_array_foreach(json_object_get(doc, "identities"), i, id)
            json_array_append(members, json_object_get(id, "name"));
    }
    json_object_set_new(member(doc, "shutdown", json_object), "quorum",
                        json_pack("{s:O, s:I}", "members", members, "count", (json_int_t)count));
    rc = 0;
out:
    json_decref(members);
    free(copy);
    return rc;
}

/* Template references: "@file" for certificates, program hashes and measurements, "+24h" for
 * the expiry. Paths are relative to the template's directory. */
static int resolve_template(json_t *doc, const char *base, time_t now)
{
    json_t *v, *list, *m;
    size_t i, j;
    json_array_foreach(json_object_get(doc, "identities"), i, v) {
        const char *c = json_string_value(json_object_get(v, "certificate"));
        if (c && c[0] == '@') {
            char *pem = certificate_pem(base, c);
            if (!pem)
                return 1;
            json_object_set_new(v, "certificate", json_string(pem));
            free(pem);
        }
    }
    json_array_foreach(json_object_get(doc, "programs"), i, v) {
        const char *h = json_string_value(json_object_get(v, "sha256"));
        char hex[65];
        if (h && h[0] == '@') {
            if (program_hash(base, h, hex))
                return 1;
            json_object_set_new(v, "sha256", json_string(hex));
        }
    }
    json_t *att = json_object_get(doc, "attestation");
    const char *root = json_string_value(json_object_get(att, "root_certificate"));
    if (root && root[0] == '@') {
        char *pem = certificate_pem(base, root);
        if (!pem)
            return 1;
        json_object_set_new(att, "root_certificate", json_string(pem));
        free(pem);
    }
    const char *key;
    json_object_foreach(json_object_get(json_object_get(doc, "runtimes"), "platforms"), key, list) {
        json_array_foreach(list, j, m) {
            const char *s = json_string_value(m);
            if (s && s[0] == '@') {
                json_t *r = measurement(base, s);
                if (!r)
                    return 1;
                json_array_set_new(list, j, r);
            }
        }
    }
    const char *exp = json_string_value(json_object_get(doc, "expires"));
    long long secs;
    if (exp && exp[0] == '+') {
        if (parse_duration(exp + 1, &secs))
            return fail("template expires %s: expected +DURATION such as +24h", exp);
        char when[32];
        sb_time_format(now + (time_t)secs, when, sizeof when);
        json_object_set_new(doc, "expires", json_string(when));
    }
    return 0;
}

static json_t *load_template(const char *path, time_t now)
{
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        fail("%s:%d:%d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        fail("%s: a template is a JSON object", path);
        json_decref(doc);
        return NULL;
    }
    char *copy = strdup(path);
    int rc = resolve_template(doc, dirname(copy), now);
    free(copy);
    if (rc) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static void set_default_u64(json_t *obj, const char *key, unsigned long long v)
{
    if (!json_object_get(obj, key))
        json_object_set_new(obj, key, json_integer((json_int_t)v));
}

/* The compiled tier is x86-64 machine code: a policy that accepts an Arm platform (a CCA Realm, a
 * PSA device) defaults to the interpreter, which every runtime has. */
static const char *default_engine(json_t *doc)
{
    const char *name;
    json_t *list;
    json_object_foreach(json_object_get(json_object_get(doc, "runtimes"), "platforms"), name, list) {
        (void)list;
        if (strcmp(name, "cca") == 0 || strcmp(name, "psa") == 0)
            return sb_policy_engine_name(SB_POLICY_ENGINE_INTERPRETER);
    }
    return sb_policy_engine_name(SB_POLICY_ENGINE_DEFAULT);
}

static void fill_defaults(json_t *doc, time_t now)
{
    if (!json_object_get(doc, "version"))
        json_object_set_new(doc, "version", json_integer(SB_POLICY_FORMAT_VERSION));
    if (!json_object_get(doc, "results"))
        json_object_set_new(doc, "results", json_pack("[s]", "/outputs"));
    json_t *limits = member(doc, "limits", json_object);
    set_default_u64(limits, "fuel", DEFAULT_FUEL);
    set_default_u64(limits, "memory_bytes", DEFAULT_MEMORY);
    set_default_u64(limits, "run_seconds", DEFAULT_RUN_SECONDS);
    set_default_u64(limits, "fs_bytes", DEFAULT_FS_BYTES);
    set_default_u64(limits, "output_bytes", DEFAULT_OUTPUT_BYTES);
    /* Written out, so the hash names the tier even if the parser's default changes later. */
    if (!json_object_get(limits, "engine"))
        json_object_set_new(limits, "engine", json_string(default_engine(doc)));
    if (!json_object_get(doc, "clock"))
        json_object_set_new(doc, "clock", json_false());
    member(doc, "shutdown", json_object);
    if (!json_object_get(doc, "expires")) {
        char when[32];
        sb_time_format(now + DEFAULT_LIFETIME, when, sizeof when);
        json_object_set_new(doc, "expires", json_string(when));
    }
}

/* The same members in the order a reader expects (the hash does not depend on it). */
static json_t *in_reading_order(json_t *doc)
{
    static const char *const order[] = {"version", "name", "expires", "host", "identities",
                                        "programs", "results", "runtimes", "attestation",
                                        "limits", "clock", "shutdown"};
    json_t *out = json_object(), *v;
    const char *key;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if ((v = json_object_get(doc, order[i])))
            json_object_set(out, order[i], v);
    json_object_foreach(doc, key, v) json_object_set(out, key, v); /* unknown: check reports it */
    return out;
}

/* Flags a policy cannot do without, named as flags rather than as JSON fields. */
static int require_basics(json_t *doc)
{
    static const struct {
        const char *key, *flag;
    } need[] = {{"name", "--name"}, {"identities", "--identity"}, {"programs", "--program"},
                {"runtimes", "--platform"}, {"host", "--host"}};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!json_object_get(doc, need[i].key))
            return fail("new: %s is required (or give it in the --from template)", need[i].flag);
    json_t *att = json_object_get(doc, "attestation");
    if (!json_object_get(att, "url"))
        return fail("new: --attestation-url is required");
    if (!json_object_get(att, "root_certificate"))
        return fail("new: --attestation-root is required");
    return 0;
}

static time_t cert_not_after(X509 *cert)
{
    struct tm tm;
    return ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1 ? timegm(&tm) : 0;
}

/* A certificate that expires before the policy locks its holder out early: legal, but worth a
 * warning to whoever writes or reads the policy. */
static void warn_short_certificates(const sb_policy *p, FILE *out, const char *prefix)
{
    char when[32], exp[32];
    sb_time_format(sb_policy_expires(p), exp, sizeof exp);
    for (size_t i = 0; i <= sb_policy_identity_count(p); i++) {
        const sb_policy_identity *id = sb_policy_identity_at(p, i);
        X509 *cert = id ? id->cert : sb_policy_attestation_root(p);
        time_t t = cert_not_after(cert);
        if (t >= sb_policy_expires(p))
            continue;
        sb_time_format(t, when, sizeof when);
        fprintf(out, "%s%s's certificate expires at %s, before the policy (%s)\n", prefix,
                id ? id->name : "the attestation root", when, exp);
    }
}

static int write_policy(json_t *doc, const char *out, bool force, time_t now)
{
    json_t *ordered = in_reading_order(doc);
    char *text = json_dumps(ordered, JSON_INDENT(2));
    json_decref(ordered);
    if (!text)
        return fail("out of memory");
    size_t len = strlen(text);
    sb_err err;
    sb_policy *p;
    int rc = 1;
    struct stat st;
    if (sb_policy_parse(text, len, now, 0, &p, &err) != 0) {
        fail("new: the result would not be a valid policy: %s", err.msg);
    } else if (out && !force && stat(out, &st) == 0) {
        fail("new: %s exists; use --force to replace it", out);
    } else if (out) {
        char *with_nl = malloc(len + 2);
        memcpy(with_nl, text, len);
        with_nl[len] = '\n';
        if (sb_write_file(out, with_nl, len + 1, 0644, &err) != 0)
            fail("new: %s", err.msg);
        else
            rc = 0;
        free(with_nl);
    } else {
        rc = printf("%s\n", text) < 0;
    }
    if (rc == 0) {
        fprintf(stderr, "%s: policy \"%s\", hash %s\n", out ? out : "(stdout)", sb_policy_name(p),
                sb_policy_hash_hex(p));
        warn_short_certificates(p, stderr, "warning: ");
    }
    sb_policy_free(p);
    free(text);
    return rc;
}

enum {
    O_NAME = 256, O_IDENTITY, O_PROGRAM, O_RESULTS, O_PLATFORM, O_DEBUG, O_ATT_URL, O_ATT_ROOT,
    O_HOST, O_EXPIRES_IN, O_EXPIRES, O_FUEL, O_MEMORY, O_RUN_SECONDS, O_FS, O_OUTPUT, O_ENGINE, O_CLOCK,
    O_QUORUM, O_FROM, O_FORCE, O_PROGRAM_ARGS, O_KEEP_SEALED,
};

static const struct option new_opts[] = {
    {"name", required_argument, 0, O_NAME}, {"identity", required_argument, 0, O_IDENTITY},
    {"program", required_argument, 0, O_PROGRAM},
    {"program-args", required_argument, 0, O_PROGRAM_ARGS}, {"results", required_argument, 0, O_RESULTS},
    {"platform", required_argument, 0, O_PLATFORM}, {"allow-debug", no_argument, 0, O_DEBUG},
    {"attestation-url", required_argument, 0, O_ATT_URL},
    {"attestation-root", required_argument, 0, O_ATT_ROOT}, {"host", required_argument, 0, O_HOST},
    {"expires-in", required_argument, 0, O_EXPIRES_IN}, {"expires", required_argument, 0, O_EXPIRES},
    {"fuel", required_argument, 0, O_FUEL}, {"memory", required_argument, 0, O_MEMORY},
    {"run-seconds", required_argument, 0, O_RUN_SECONDS}, {"fs-size", required_argument, 0, O_FS},
    {"output-size", required_argument, 0, O_OUTPUT}, {"engine", required_argument, 0, O_ENGINE},
    {"clock", no_argument, 0, O_CLOCK},
    {"quorum", required_argument, 0, O_QUORUM}, {"from", required_argument, 0, O_FROM},
    {"keep-sealed", required_argument, 0, O_KEEP_SEALED},
    {"force", no_argument, 0, O_FORCE}, {"output", required_argument, 0, 'o'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};

/* One flag that sets a number or string; returns 0, 1 on a bad value. */
static int apply_scalar(json_t *doc, int opt, const char *arg, time_t now)
{
    unsigned long long v;
    long long secs;
    json_t *limits = member(doc, "limits", json_object);
    static const struct {
        int opt;
        const char *key;
        bool size;
    } limit_flags[] = {{O_FUEL, "fuel", false}, {O_MEMORY, "memory_bytes", true},
                       {O_RUN_SECONDS, "run_seconds", false}, {O_FS, "fs_bytes", true},
                       {O_OUTPUT, "output_bytes", true}};
    for (size_t i = 0; i < sizeof limit_flags / sizeof limit_flags[0]; i++) {
        if (limit_flags[i].opt != opt)
            continue;
        if ((limit_flags[i].size ? parse_size(arg, &v) : parse_u64(arg, &v)) || v > (1ull << 62))
            return fail("new: bad value '%s' for the %s limit", arg, limit_flags[i].key);
        json_object_set_new(limits, limit_flags[i].key, json_integer((json_int_t)v));
        return 0;
    }
    char when[32];
    switch (opt) {
    case O_NAME: json_object_set_new(doc, "name", json_string(arg)); return 0;
    case O_HOST: json_object_set_new(doc, "host", json_string(arg)); return 0;
    case O_ENGINE: {
        sb_policy_engine e;
        if (sb_policy_engine_parse(arg, &e) != 0)
            return fail("new: --engine %s: expected interpreter or compiled", arg);
        json_object_set_new(limits, "engine", json_string(arg));
        return 0;
    }
    case O_ATT_URL:
        json_object_set_new(member(doc, "attestation", json_object), "url", json_string(arg));
        return 0;
    case O_EXPIRES: json_object_set_new(doc, "expires", json_string(arg)); return 0;
    case O_EXPIRES_IN:
        if (parse_duration(arg, &secs))
            return fail("new: --expires-in %s: expected a duration such as 90m, 24h, 7d", arg);
        sb_time_format(now + (time_t)secs, when, sizeof when);
        json_object_set_new(doc, "expires", json_string(when));
        return 0;
    }
    return fail("new: internal: unhandled option");
}

static int apply_flag(json_t *doc, int opt, const char *arg, time_t now, bool *results_seen)
{
    char *pem;
    switch (opt) {
    case O_IDENTITY: return add_identity(doc, arg);
    case O_PROGRAM: return add_program(doc, arg);
    case O_PLATFORM: return add_platform(doc, arg);
    case O_QUORUM: return set_quorum(doc, arg);
    case O_PROGRAM_ARGS: return set_program_args(doc, arg);
    case O_DEBUG:
        json_object_set_new(member(doc, "runtimes", json_object), "allow_debug", json_true());
        return 0;
    case O_CLOCK: json_object_set_new(doc, "clock", json_true()); return 0;
    case O_KEEP_SEALED: /* validated with the rest (inside a result area, no overlap) */
        json_array_append_new(member(member(doc, "shutdown", json_object), "keep_sealed",
                                     json_array), json_string(arg));
        return 0;
    case O_RESULTS:
        if (!*results_seen) /* flags replace the template's list */
            json_object_set_new(doc, "results", json_array());
        *results_seen = true;
        json_array_append_new(member(doc, "results", json_array), json_string(arg));
        return 0;
    case O_ATT_ROOT:
        if (!(pem = certificate_pem(".", arg)))
            return 1;
        json_object_set_new(member(doc, "attestation", json_object), "root_certificate",
                            json_string(pem));
        free(pem);
        return 0;
    default: return apply_scalar(doc, opt, arg, now);
    }
}

static int cmd_new(int argc, char **argv)
{
    time_t now = time(NULL);
    const char *out = NULL, *from = NULL;
    bool force = false, results_seen = false;
    int c;
    /* first pass: options that decide where to start and where to write */
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "o:h", new_opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == '?')
            return 2;
        if (c == 'o')
            out = optarg;
        if (c == O_FROM)
            from = optarg;
        if (c == O_FORCE)
            force = true;
    }
    if (optind != argc)
        return fail("new: unexpected argument '%s'", argv[optind]), 2;
    json_t *doc = from ? load_template(from, now) : json_object();
    if (!doc)
        return 1;
    /* second pass: every flag in order, on top of the template; then the flags that refer to
     * identities or programs (--quorum, --program-args), whatever their position */
    int rc = 0, late_pass;
    for (late_pass = 0; late_pass < 2 && rc == 0; late_pass++) {
        optind = 0; /* 0: glibc re-initialises its scanner for another pass */
        opterr = 0;
        while (rc == 0 && (c = getopt_long(argc, argv, "o:h", new_opts, NULL)) != -1)
            if (c >= O_NAME && c != O_FROM && c != O_FORCE &&
                (c == O_QUORUM || c == O_PROGRAM_ARGS) == late_pass)
                rc = apply_flag(doc, c, optarg, now, &results_seen);
    }
    if (rc == 0) {
        fill_defaults(doc, now);
        rc = require_basics(doc) || write_policy(doc, out, force, now);
    }
    json_decref(doc);
    return rc;
}

/* ---- check, hash ---- */

static int cmd_check(int argc, char **argv)
{
    time_t now = time(NULL);
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            if (sb_time_parse(argv[++i], &now) != 0)
                return fail("check: --at %s: expected an RFC 3339 time", argv[i]), 2;
        } else if (!file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            return fail("check: usage: strongbox policy check FILE [--at TIME]"), 2;
        }
    }
    if (!file)
        return fail("check: usage: strongbox policy check FILE [--at TIME]"), 2;
    sb_policy *p;
    sb_err err;
    if (sb_policy_load(file, now, 0, &p, &err) != 0) {
        fprintf(stderr, "%s: %s\n", file, err.msg);
        return 1;
    }
    char when[32];
    sb_time_format(sb_policy_expires(p), when, sizeof when);
    printf("%s: valid policy \"%s\", hash %s, expires %s\n", file, sb_policy_name(p),
           sb_policy_hash_hex(p), when);
    sb_policy_free(p);
    return 0;
}

static int cmd_hash(int argc, char **argv)
{
    bool canonical = argc == 3 && strcmp(argv[2], "--canonical") == 0;
    bool json = argc == 3 && strcmp(argv[2], "--json") == 0;
    if (argc != 2 && !canonical && !json)
        return fail("hash: usage: strongbox policy hash FILE [--canonical | --json]"), 2;
    sb_policy *p;
    sb_err err;
    /* hashing names a policy, valid now or not (an expired one still has its hash) */
    if (sb_policy_load(argv[1], 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    size_t len;
    const uint8_t *c = sb_policy_canonical(p, &len);
    int rc = canonical ? fwrite(c, 1, len, stdout) != len
             : printf(json ? "{\"policy_hash\":\"%s\"}\n" : "%s\n", sb_policy_hash_hex(p)) < 0;
    sb_policy_free(p);
    return rc;
}

/* ---- show ---- */

static void rights_text(unsigned r, char out[4])
{
    out[0] = r & SB_RIGHT_READ ? 'r' : '-';
    out[1] = r & SB_RIGHT_WRITE ? 'w' : '-';
    out[2] = r & SB_RIGHT_EXEC ? 'x' : '-';
    out[3] = '\0';
}

static bool overlaps_results(const sb_policy *p, const char *prefix)
{
    size_t n;
    const char *const *res = sb_policy_results(p, &n);
    for (size_t i = 0; i < n; i++)
        if (sb_policy_path_covers(prefix, res[i]) || sb_policy_path_covers(res[i], prefix))
            return true;
    return false;
}

/* What one grant makes its holder: "provides data", "uploads /programs/x.wasm", ... */
static void grant_roles(const sb_policy *p, const sb_policy_grant *g, char *out, size_t len)
{
    size_t used = 0;
    bool program_area = false;
    out[0] = '\0';
#define ADD(...) used += (size_t)snprintf(out + used, used < len ? len - used : 0, __VA_ARGS__)
    for (size_t i = 0; i < sb_policy_program_count(p); i++) {
        const char *path = sb_policy_program_at(p, i)->path;
        if (!sb_policy_path_covers(g->prefix, path))
            continue;
        program_area = true; /* writing here is providing programs, not data */
        if (g->rights & SB_RIGHT_WRITE)
            ADD("%suploads program %s", used ? "; " : "", path);
        if (g->rights & SB_RIGHT_EXEC)
            ADD("%sruns %s", used ? "; " : "", path);
    }
    bool results = overlaps_results(p, g->prefix);
    if ((g->rights & SB_RIGHT_WRITE) && !program_area)
        ADD("%s%s", used ? "; " : "", results ? "writes results" : "provides data");
    if (g->rights & SB_RIGHT_READ)
        ADD("%s%s", used ? "; " : "", results ? "reads results" : "reads");
#undef ADD
    if (used >= len && len > 4)
        memcpy(out + len - 4, "...", 4);
}

static void show_identity(const sb_policy *p, const sb_policy_identity *id)
{
    unsigned char fp[32];
    unsigned int fp_len;
    char hex[65], until[32], cn[128] = "?", roles[512], r[4];
    X509_digest(id->cert, EVP_sha256(), fp, &fp_len);
    sb_hex_encode(fp, 16, hex);
    sb_time_format(cert_not_after(id->cert), until, sizeof until);
    X509_NAME_get_text_by_NID(X509_get_subject_name(id->cert), NID_commonName, cn, sizeof cn);
    printf("  %s%s\n    certificate CN=%s, SHA-256 %s..., valid until %s\n", id->name,
           id->result_reader ? "  (result reader)" : "", cn, hex, until);
    if (id->n_grants == 0)
        printf("    no rights on files\n");
    for (size_t i = 0; i < id->n_grants; i++) {
        rights_text(id->grants[i].rights, r);
        grant_roles(p, &id->grants[i], roles, sizeof roles);
        printf("    %s %-24s %s\n", r, id->grants[i].prefix, roles);
    }
}

static void show_names(const sb_policy_identity *const *ids, size_t n, const char *last_join)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i == 0 ? "" : i + 1 == n ? last_join : ", ", ids[i]->name);
}

static void show_shutdown(const sb_policy *p)
{
    size_t n = sb_policy_result_reader_count(p), count;
    const sb_policy_identity *readers[256];
    for (size_t i = 0; i < n && i < 256; i++)
        readers[i] = sb_policy_result_reader_at(p, i);
    printf("Shutdown     when ");
    show_names(readers, n, " and ");
    printf(n > 1 ? " have each read their results and voted to end" :
                   " has read the results and voted to end");
    const sb_policy_identity *const *members;
    size_t m = sb_policy_quorum(p, &members, &count);
    if (m) {
        printf(",\n             or when %zu of ", count);
        show_names(members, m, " and ");
        printf(" vote to end");
    }
    size_t k;
    const char *const *keep = sb_policy_keep_sealed(p, &k);
    if (!k) {
        printf(",\n             or at expiry; nothing survives the isolate\n");
        return;
    }
    printf(",\n             or at expiry; nothing survives the isolate except, sealed to each\n"
           "             reader (the host keeps the envelopes), the files under");
    for (size_t i = 0; i < k; i++)
        printf("%s%s", i ? ", " : " ", keep[i]);
    printf("\n");
}

static void show_runtimes(const sb_policy *p)
{
    char hex[2 * SB_POLICY_MEASUREMENT_MAX + 1];
    printf("Runtimes     debug/insecure platforms %s\n",
           sb_policy_allow_debug(p) ? "ACCEPTED (development only)" : "refused");
    for (size_t i = 0; i < sb_policy_runtime_count(p); i++) {
        const sb_policy_runtime *rt = sb_policy_runtime_at(p, i);
        printf("  %s%s\n", rt->platform,
               sb_policy_platform_insecure(rt->platform) ? " (insecure: the host is trusted)" : "");
        for (size_t j = 0; j < rt->n_measurements; j++) {
            sb_hex_encode(rt->measurements[j].value, rt->measurements[j].len, hex);
            printf("    %s\n", hex);
        }
    }
}

static void show_limits(const sb_policy *p)
{
    const sb_policy_limits *l = sb_policy_limits_of(p);
    printf("Limits       per run: fuel %llu, memory %llu bytes, %llu s, output %llu bytes;\n"
           "             filesystem %llu bytes in all\n",
           (unsigned long long)l->fuel, (unsigned long long)l->memory_bytes,
           (unsigned long long)l->run_seconds, (unsigned long long)l->output_bytes,
           (unsigned long long)l->fs_bytes);
    if (l->engine_named)
        printf("Engine       the %s tier\n", sb_policy_engine_name(l->engine));
    else
        printf("Engine       the %s tier where the runtime has it, else the interpreter (not named)\n",
               sb_policy_engine_name(l->engine));
    printf("Clock        %s\n", sb_policy_clock(p) ? "real time" : "fixed (programs see no real time)");
}

static void show_programs(const sb_policy *p)
{
    char hex[65], r[4];
    printf("Programs\n");
    for (size_t i = 0; i < sb_policy_program_count(p); i++) {
        const sb_policy_program *pr = sb_policy_program_at(p, i);
        sb_hex_encode(pr->sha256, 32, hex);
        printf("  %s\n    sha256 %s\n", pr->path, hex);
        if (pr->has_args) {
            printf("    runs only as: %s", pr->path);
            for (size_t j = 0; j < pr->n_args; j++)
                printf(strpbrk(pr->args[j], " \t\n'\"") || !pr->args[j][0] ? " '%s'" : " %s",
                       pr->args[j]);
            printf("%s\n", pr->n_args ? "" : " (no arguments)");
        }
        for (size_t j = 0; j < pr->n_grants; j++) {
            rights_text(pr->grants[j].rights, r);
            printf("    %s %s\n", r, pr->grants[j].prefix);
        }
    }
}

static int show_json(sb_policy *p, bool valid_now, const char *why)
{
    size_t len;
    const uint8_t *c = sb_policy_canonical(p, &len);
    json_error_t je;
    json_t *policy = json_loadb((const char *)c, len, 0, &je);
    json_t *o = json_pack("{s:s, s:b, s:s, s:o?}", "policy_hash", sb_policy_hash_hex(p),
                          "valid_now", valid_now, "invalid_because", why, "policy", policy);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    sb_policy_free(p);
    if (!text)
        return fail("show: out of memory"), 1;
    printf("%s\n", text);
    free(text);
    return 0;
}

static int cmd_show(int argc, char **argv)
{
    bool json = argc == 3 && strcmp(argv[2], "--json") == 0;
    if (argc != 2 && !json)
        return fail("show: usage: strongbox policy show FILE [--json]"), 2;
    sb_policy *p;
    sb_err err, now_err;
    if (sb_policy_load(argv[1], 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    sb_policy *check;
    bool valid_now = sb_policy_load(argv[1], time(NULL), 0, &check, &now_err) == 0;
    sb_policy_free(check);
    if (json) /* the hash, whether it is valid now, and the policy itself (RFC 8785 form) */
        return show_json(p, valid_now, valid_now ? "" : now_err.msg);
    char when[32], cn[128] = "?";
    sb_time_format(sb_policy_expires(p), when, sizeof when);
    X509_NAME_get_text_by_NID(X509_get_subject_name(sb_policy_attestation_root(p)), NID_commonName,
                              cn, sizeof cn);
    printf("Computation  %s\nPolicy hash  %s\nExpires      %s\n", sb_policy_name(p),
           sb_policy_hash_hex(p), when);
    if (!valid_now)
        printf("Status       NOT VALID NOW: %s\n", now_err.msg);
    warn_short_certificates(p, stdout, "Warning      ");
    printf("Host         %s\nAttestation  %s (root CN=%s)\n", sb_policy_host(p),
           sb_policy_attestation_url(p), cn);
    size_t n;
    const char *const *res = sb_policy_results(p, &n);
    printf("Results      ");
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", res[i]);
    printf("\nParties\n");
    for (size_t i = 0; i < sb_policy_identity_count(p); i++)
        show_identity(p, sb_policy_identity_at(p, i));
    show_programs(p);
    show_runtimes(p);
    show_limits(p);
    show_shutdown(p);
    sb_policy_free(p);
    return 0;
}

int sb_cmd_policy(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "new") == 0)
        return cmd_new(argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "hash") == 0)
        return cmd_hash(argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0)
        return cmd_show(argc - 1, argv + 1);
    fail("unknown subcommand '%s'", argv[1]);
    usage(stderr);
    return 2;
}
