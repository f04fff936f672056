/* cli_support.c - shared code of the `strongbox` session subcommands (see cli_support.h). */
#include "client/cli_support.h"
#include "client/client_impl.h"
#include "common/common.h"
#include "policy/policy.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int usage_error(const sbcli_args *a, const char *usage, const char *fmt, const char *x)
    __attribute__((format(printf, 3, 0)));
static int usage_error(const sbcli_args *a, const char *usage, const char *fmt, const char *x)
{
    char msg[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(msg, sizeof msg, fmt, x); /* fmt is always one of this file's literals */
#pragma GCC diagnostic pop
    fprintf(stderr, "strongbox %s: %s\nusage: %s\n", a->cmd, msg, usage);
    return SBCLI_USAGE;
}

/* NAME.key / NAME.crt beside the policy file. */
static void beside_policy(const char *policy, const char *name, const char *ext, char *out,
                          size_t len)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", policy);
    snprintf(out, len, "%s/%s.%s", dirname(copy), name, ext);
}

/* --as NAME must name an identity of the policy, and the certificate must be that identity's. */
static int check_identity(sbcli_args *a)
{
    sb_policy *p;
    sb_err e = {0};
    if (sb_policy_load(a->policy, 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &e) != 0) {
        fprintf(stderr, "strongbox %s: %s: %s\n", a->cmd, a->policy, e.msg);
        return SBCLI_FAILED;
    }
    int rc = SBCLI_OK;
    const sb_policy_identity *id = sb_policy_find_identity(p, a->as);
    FILE *f = id ? fopen(a->cert, "r") : NULL;
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!id) {
        fprintf(stderr, "strongbox %s: '%s' is not an identity of the policy %s\n", a->cmd, a->as,
                a->policy);
        rc = SBCLI_FAILED;
    } else if (!cert) {
        fprintf(stderr, "strongbox %s: %s: cannot read a PEM certificate\n", a->cmd, a->cert);
        rc = SBCLI_FAILED;
    } else if (sb_policy_find_identity_by_cert(p, cert) != id) {
        fprintf(stderr, "strongbox %s: %s is not the certificate of '%s' in the policy\n", a->cmd,
                a->cert, a->as);
        rc = SBCLI_FAILED;
    }
    X509_free(cert);
    sb_policy_free(p);
    return rc;
}

/* --as NAME must be an identity of the policy: said before anything about its files. */
static int check_name(const sbcli_args *a)
{
    sb_policy *p;
    sb_err e = {0};
    if (sb_policy_load(a->policy, 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &e) != 0) {
        fprintf(stderr, "strongbox %s: %s: %s\n", a->cmd, a->policy, e.msg);
        return SBCLI_FAILED;
    }
    int known = sb_policy_find_identity(p, a->as) != NULL;
    sb_policy_free(p);
    if (!known) {
        fprintf(stderr, "strongbox %s: '%s' is not an identity of the policy %s\n", a->cmd, a->as,
                a->policy);
        return SBCLI_FAILED;
    }
    return SBCLI_OK;
}

static int resolve_identity(sbcli_args *a, const char *usage, int need)
{
    if (a->as && check_name(a) != SBCLI_OK)
        return SBCLI_FAILED;
    if (a->as) {
        if (!a->key) {
            beside_policy(a->policy, a->as, "key", a->key_buf, sizeof a->key_buf);
            a->key = a->key_buf;
        }
        if (!a->cert) {
            beside_policy(a->policy, a->as, "crt", a->cert_buf, sizeof a->cert_buf);
            a->cert = a->cert_buf;
        }
    }
    if (!a->key != !a->cert)
        return usage_error(a, usage, "%s", "--key and --cert go together");
    if (!a->key)
        return need ? usage_error(a, usage, "%s", "say who you are: --as NAME (or --key/--cert)")
                    : SBCLI_OK;
    struct stat st;
    const char *files[] = {a->key, a->cert};
    for (int i = 0; i < 2; i++)
        if (stat(files[i], &st) != 0) {
            fprintf(stderr, "strongbox %s: %s: %s%s\n", a->cmd, files[i], strerror(errno),
                    a->as ? " (--as NAME looks for NAME.key and NAME.crt beside the policy; give "
                            "--key/--cert otherwise)" : "");
            return SBCLI_FAILED;
        }
    return a->as ? check_identity(a) : SBCLI_OK;
}

static int take_value(int argc, char **argv, int *i, const char **out)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    if (eq) {
        *out = eq + 1;
        return 0;
    }
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 0;
}

/* Every option sbcli_parse takes; a command's usage line says which apply to it. */
static const char options_help[] =
    "The isolate is verified against POLICY (your own copy) before anything is sent.\n"
    "  --as NAME         who you are: NAME.key and NAME.crt beside the policy file\n"
    "  --key F --cert F  your key and certificate files (instead of, or overriding, --as)\n"
    "  --host H:P        the host to use instead of the policy's \"host\"\n"
    "  --append          put: append to the remote file instead of replacing it\n"
    "  --quiet, -q       no verification transcript, no progress\n"
    "  --json            the verification transcript as one JSON object on stderr\n"
    "                    (status: {\"host\", \"isolate\"} on stdout)\n"
    "  --help, -h        this text\n"
    "Environment: STRONGBOX_VERIFY_AT=RFC3339 verifies as of that time.\n"
    "Exit: 0 done, 1 error, 2 usage, 3 isolate not verified (nothing sent), 4 refused by the\n"
    "isolate, 5 computation ended, 6 run: program stopped (docs/client.md).\n";

int sbcli_parse(int argc, char **argv, const char *usage, int need_identity, int npos,
                sbcli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = argv[0];
    static const char *const valued[] = {"--as", "--key", "--cert", "--host"};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            printf("usage: %s\n\n%s", usage, options_help);
            return -1;
        }
        if (strcmp(arg, "--") == 0) {
            a->rest = argv + i + 1;
            a->nrest = argc - i - 1;
            break;
        }
        if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            a->quiet = 1;
            continue;
        }
        if (strcmp(arg, "--json") == 0) {
            a->json = 1;
            continue;
        }
        if (strcmp(arg, "--append") == 0) {
            a->append = 1;
            continue;
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) {
            size_t n = strlen(valued[k]);
            if (strncmp(arg, valued[k], n) != 0 || (arg[n] != '\0' && arg[n] != '='))
                continue;
            const char **slot[] = {&a->as, &a->key, &a->cert, &a->host};
            if (take_value(argc, argv, &i, slot[k]) != 0)
                return usage_error(a, usage, "%s needs a value", valued[k]);
            matched = 1;
        }
        if (matched)
            continue;
        if (arg[0] == '-' && arg[1])
            return usage_error(a, usage, "unknown option %s", arg);
        if (!a->policy)
            a->policy = arg;
        else if (a->npos < SBCLI_MAX_POS)
            a->pos[a->npos++] = arg;
        else
            return usage_error(a, usage, "too many arguments (%s)", arg);
    }
    if (!a->policy)
        return usage_error(a, usage, "%s", "no policy file given");
    if (a->npos != npos)
        return usage_error(a, usage, "%s", "wrong number of arguments");
    const char *at = getenv("STRONGBOX_VERIFY_AT");
    time_t t;
    if (at && sb_time_parse(at, &t) != 0)
        return usage_error(a, usage, "STRONGBOX_VERIFY_AT=%s: expected an RFC 3339 time", at);
    return resolve_identity(a, usage, need_identity);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(double bytes, char *buf, size_t len)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* Progress on the terminal for transfers of 1 MiB or more, at most ten updates a second. */
static void progress(void *ctx, uint64_t done, uint64_t total)
{
    sbcli_args *a = ctx;
    double t = now_s();
    if (total < (1u << 20) || (t - a->last < 0.1 && done < total))
        return;
    a->last = t;
    char d[32], tot[32], rate[32];
    human((double)done, d, sizeof d);
    human((double)total, tot, sizeof tot);
    human(t > a->t0 ? (double)done / (t - a->t0) : 0, rate, sizeof rate);
    fprintf(stderr, "\r%s %s / %s (%3.0f%%) %s/s   ", a->progress_label, d, tot,
            100.0 * (double)done / (double)total, rate);
}

void sbcli_progress_begin(sbcli_args *a, const char *label)
{
    a->progress_label = label;
    a->t0 = now_s();
    a->last = 0;
}

void sbcli_progress_end(sbcli_args *a)
{
    if (a->last > 0)
        fputc('\n', stderr);
}

void sbcli_options(sbcli_args *a, strongbox_options *o)
{
    memset(o, 0, sizeof *o);
    o->policy_path = a->policy;
    o->key_path = a->key;
    o->cert_path = a->cert;
    o->host = a->host;
    /* Verify as of another time (auditing an old transcript, testing expiry): RFC 3339. */
    const char *at = getenv("STRONGBOX_VERIFY_AT");
    time_t t;
    if (at && sb_time_parse(at, &t) == 0)
        o->verify_at = t;
    if (!a->quiet && isatty(2)) {
        o->progress = progress;
        o->progress_ctx = a;
    }
}

int sbcli_fail(const sbcli_args *a, const strongbox_error *e)
{
    fprintf(stderr, "strongbox %s: %s\n", a->cmd, e->message);
    switch (e->code) {
    case STRONGBOX_E_USAGE: return SBCLI_USAGE;
    case STRONGBOX_E_VERIFY: return SBCLI_UNVERIFIED;
    case STRONGBOX_E_REFUSED:
    case STRONGBOX_E_TLS: return SBCLI_REFUSED;
    case STRONGBOX_E_ENDED: return SBCLI_ENDED;
    default: return SBCLI_FAILED;
    }
}

int sbcli_open(int argc, char **argv, const char *usage, int need_identity, int npos,
               sbcli_args *a, strongbox **s)
{
    int rc = sbcli_parse(argc, argv, usage, need_identity, npos, a);
    return rc != SBCLI_OK ? rc : sbcli_connect(a, s);
}

/* The verification transcript as one JSON object (one line): what --json prints on stderr, where
 * it never mixes with the data a command writes to stdout. */
static void print_transcript_json(const strongbox *s, FILE *out)
{
    const sb_attest_verdict *v = &s->verdict;
    char mhex[2 * SB_MEASUREMENT_MAX + 1];
    sb_hex_encode(v->measurement, v->measurement_len, mhex);
    json_t *steps = json_array();
    for (size_t i = 0; i < v->n_steps; i++)
        json_array_append_new(steps, json_pack("{s:s, s:s, s:s}", "check", v->steps[i].name,
                                               "result", v->steps[i].ok == 1 ? "ok" :
                                               v->steps[i].ok == 0 ? "failed" : "not reached",
                                               "detail", v->steps[i].detail));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "policy_hash", strongbox_policy_hash(s),
                          "verdict", v->ok ? "ATTESTED" : "REFUSED", "platform", v->platform,
                          "measurement", mhex, "checks", steps);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    fprintf(out, "%s\n", text ? text : "{\"error\":\"out of memory\"}");
    free(text);
    json_decref(o);
}

int sbcli_connect(sbcli_args *a, strongbox **s)
{
    strongbox_error e;
    return sbcli_try_connect(a, s, &e) == 0 ? SBCLI_OK : sbcli_fail(a, &e);
}

int sbcli_try_connect(sbcli_args *a, strongbox **s, strongbox_error *err)
{
    strongbox_options o;
    sbcli_options(a, &o);
    if (strongbox_connect(&o, s, err) != 0)
        return -1;
    if (a->json)
        print_transcript_json(*s, stderr);
    else if (!a->quiet)
        fprintf(stderr, "verified isolate of computation %s:\n%s", strongbox_policy_hash(*s),
                strongbox_transcript(*s));
    return SBCLI_OK;
}

int sbcli_deploy(sbcli_args *a)
{
    strongbox_options o;
    sbcli_options(a, &o);
    strongbox_error e;
    char hash[65], *transcript;
    if (cl_deploy(&o, hash, &transcript, &e) != 0)
        return sbcli_fail(a, &e);
    if (!a->quiet)
        fprintf(stderr, "verified isolate of computation %s:\n%s", hash, transcript);
    free(transcript);
    printf("computation %s is running and attested\n", hash);
    return SBCLI_OK;
}
