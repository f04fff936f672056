/* strongbox attest - isolate certificates and the attestation service, from a party's or an
 * operator's side:
 *   verify-cert      check an isolate certificate against a policy (or explicit expectations)
 *   root             fetch the service's root certificate
 *   register-device  register a host attestation key (process, kvm platforms) or PSA IAK (admin) */
#include "attest/attest.h"
#include "cli/commands.h"
#include "common/common.h"
#include "policy/policy.h"

#include <jansson.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SB_COMMAND_DECL(attest);
const char sb_cmd_attest_summary[] =
    "verify isolate certificates; talk to the attestation service (root, register-device)";

/* err.code of command-line mistakes (exit status 2); library codes are other values. */
#define USAGE_ERR 1000
#define MAX_ACCEPTED 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox attest verify-cert CERT [--chain PEM] --policy POLICY [--at TIME]\n"
            "       strongbox attest verify-cert CERT [--chain PEM] --root PEM --policy-hash HEX\n"
            "                 [--measurement PLATFORM:HEX]... [--allow-debug] [--at TIME]\n"
            "       strongbox attest root --url URL\n"
            "       strongbox attest register-device --url URL --token-file FILE --id ID --key PEM\n"
            "                 [--platform process|kvm|psa]\n"
            "verify-cert prints a transcript of every check and exits 0 only when all pass.\n"
            "CERT may hold the chain after the leaf (as the service returns it).\n");
}

/* Reads every certificate of a PEM file; the first is the leaf when `leaf` is given, the others
 * go to `rest`. */
static int load_chain(const char *path, X509 **leaf, STACK_OF(X509) *rest, sb_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sb_err_set(err, 1, "%s: cannot open", path);
    X509 *c;
    int n = 0;
    while ((c = PEM_read_X509(f, NULL, NULL, NULL))) {
        n++;
        if (leaf && !*leaf)
            *leaf = c;
        else if (!sk_X509_push(rest, c))
            X509_free(c);
    }
    fclose(f);
    return n ? 0 : sb_err_set(err, 1, "%s: no PEM certificate", path);
}

typedef struct expect_args {
    sb_attest_expect e;
    sb_attest_accepted acc[MAX_ACCEPTED];
    sb_policy *policy;
    X509 *root;
    int have_hash;
} expect_args;

static int add_measurement(expect_args *x, const char *spec, sb_err *err)
{
    const char *colon = strchr(spec, ':');
    size_t hl = colon ? strlen(colon + 1) : 0;
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof x->acc[0].platform ||
        hl == 0 || hl % 2 || hl / 2 > SB_MEASUREMENT_MAX || x->e.n_accepted >= MAX_ACCEPTED)
        return sb_err_set(err, USAGE_ERR, "--measurement: want PLATFORM:HEX, got '%s'", spec);
    sb_attest_accepted *a = &x->acc[x->e.n_accepted];
    memcpy(a->platform, spec, (size_t)(colon - spec));
    a->platform[colon - spec] = 0;
    a->len = hl / 2;
    if (sb_hex_decode(colon + 1, a->measurement, a->len) < 0)
        return sb_err_set(err, USAGE_ERR, "--measurement: '%s' is not hex", colon + 1);
    x->e.n_accepted++;
    return 0;
}

/* Fills the expectations from a policy: root, accepted runtimes, debug rule, its hash. */
static int from_policy(expect_args *x, const char *path, time_t at, sb_err *err)
{
    if (sb_policy_load(path, at, 0, &x->policy, err) < 0)
        return -1;
    x->e.root = sb_policy_attestation_root(x->policy);
    x->e.allow_debug = sb_policy_allow_debug(x->policy);
    memcpy(x->e.policy_hash, sb_policy_hash(x->policy), SB_POLICY_HASH_LEN);
    x->have_hash = 1;
    const sb_policy_runtime *rt;
    for (size_t i = 0; (rt = sb_policy_runtime_at(x->policy, i)); i++)
        for (size_t j = 0; j < rt->n_measurements && x->e.n_accepted < MAX_ACCEPTED; j++) {
            sb_attest_accepted *a = &x->acc[x->e.n_accepted++];
            snprintf(a->platform, sizeof a->platform, "%s", rt->platform);
            a->len = rt->measurements[j].len;
            memcpy(a->measurement, rt->measurements[j].value, a->len);
        }
    return 0;
}

static int parse_verify_args(int argc, char **argv, expect_args *x, const char **cert,
                             const char **chain, sb_err *err)
{
    const char *policy = NULL, *at_s = NULL;
    x->e.at = time(NULL);
    for (int i = 1; i < argc && !err->msg[0]; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--policy") == 0 && v)
            policy = v, i++;
        else if (strcmp(a, "--chain") == 0 && v)
            *chain = v, i++;
        else if (strcmp(a, "--at") == 0 && v)
            at_s = v, i++;
        else if (strcmp(a, "--root") == 0 && v && !x->root) {
            FILE *f = fopen(v, "r");
            x->root = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
            if (f)
                fclose(f);
            if (!x->root)
                sb_err_set(err, 1, "--root %s: no PEM certificate", v);
            i++;
        } else if (strcmp(a, "--policy-hash") == 0 && v) {
            if (strlen(v) != 64 || sb_hex_decode(v, x->e.policy_hash, 32) < 0)
                sb_err_set(err, USAGE_ERR, "--policy-hash: want 64 hex digits");
            x->have_hash = 1, i++;
        } else if (strcmp(a, "--measurement") == 0 && v) {
            add_measurement(x, v, err), i++;
        } else if (strcmp(a, "--allow-debug") == 0) {
            x->e.allow_debug = 1;
        } else if (a[0] != '-' && !*cert) {
            *cert = a;
        } else {
            sb_err_set(err, USAGE_ERR, "unexpected argument '%s'", a);
        }
    }
    if (err->msg[0])
        return -1;
    if (at_s && sb_time_parse(at_s, &x->e.at) < 0)
        return sb_err_set(err, USAGE_ERR, "--at: '%s' is not an RFC 3339 time", at_s);
    if (!*cert)
        return sb_err_set(err, USAGE_ERR, "CERT is required");
    if (policy && (x->root || x->have_hash || x->e.n_accepted))
        return sb_err_set(err, USAGE_ERR,
                          "--policy excludes --root, --policy-hash and --measurement");
    if (policy)
        return from_policy(x, policy, x->e.at, err);
    x->e.root = x->root;
    if (!x->root || !x->have_hash)
        return sb_err_set(err, USAGE_ERR,
                          "without --policy, --root and --policy-hash are required");
    return 0;
}

static int verify_cert(int argc, char **argv)
{
    expect_args *x = calloc(1, sizeof *x);
    const char *cert = NULL, *chain_path = NULL;
    sb_err err = {0};
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    int rc = 1;
    x->e.accepted = x->acc;
    if (parse_verify_args(argc, argv, x, &cert, &chain_path, &err) == 0 &&
        load_chain(cert, &leaf, chain, &err) == 0 &&
        (!chain_path || load_chain(chain_path, NULL, chain, &err) == 0)) {
        sb_attest_verdict *v = malloc(sizeof *v);
        int ok = v && sb_attest_verify_cert(leaf, chain, &x->e, v, &err) == 0;
        char *text = v ? sb_attest_verdict_text(v) : NULL;
        if (text)
            fputs(text, stdout);
        free(text);
        free(v);
        rc = ok ? 0 : 1;
    } else {
        rc = err.code == USAGE_ERR ? 2 : 1;
    }
    if (rc != 0 && err.msg[0])
        fprintf(stderr, "strongbox attest verify-cert: %s\n", err.msg);
    if (rc == 2)
        usage(stderr);
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    X509_free(x->root);
    sb_policy_free(x->policy);
    free(x);
    return rc;
}

static int get_root(int argc, char **argv)
{
    sb_attestd_client c;
    sb_err err = {0};
    char *pem = NULL;
    if (argc != 3 || strcmp(argv[1], "--url") != 0) {
        usage(stderr);
        return 2;
    }
    if (sb_attestd_client_init(&c, argv[2], &err) < 0 || sb_attestd_root(&c, &pem, &err) < 0) {
        fprintf(stderr, "strongbox attest root: %s\n", err.msg);
        return 1;
    }
    fputs(pem, stdout);
    free(pem);
    return 0;
}

/* Builds the JSON body for POST /v1/admin/devices. */
static char *device_body(const char *id, const char *platform, const char *key_path, sb_err *err)
{
    uint8_t *pem;
    size_t len;
    if (sb_read_file(key_path, 16384, &pem, &len, err) < 0)
        return NULL;
    json_t *j = json_pack("{s:s, s:s, s:s#}", "id", id, "platform", platform, "public_key",
                          (char *)pem, len);
    free(pem);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body)
        sb_err_set(err, 1, "cannot build the request");
    return body;
}

static int register_device(int argc, char **argv)
{
    const char *url = NULL, *token_file = NULL, *id = NULL, *key = NULL, *platform = "process";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--url") == 0) url = v;
        else if (strcmp(a, "--token-file") == 0) token_file = v;
        else if (strcmp(a, "--id") == 0) id = v;
        else if (strcmp(a, "--key") == 0) key = v;
        else if (strcmp(a, "--platform") == 0) platform = v;
        else url = NULL, i = argc;
    }
    if (argc % 2 == 0 || !url || !token_file || !id || !key) {
        usage(stderr);
        return 2;
    }
    sb_attestd_client c;
    sb_err err = {0};
    uint8_t *tok = NULL;
    size_t tl = 0;
    char *body = NULL, *resp = NULL;
    int status = 0, rc = 1;
    size_t rl;
    if (sb_attestd_client_init(&c, url, &err) == 0 &&
        sb_read_file(token_file, 256, &tok, &tl, &err) == 0) {
        while (tl > 0 && (tok[tl - 1] == '\n' || tok[tl - 1] == '\r'))
            tl--;
        snprintf(c.admin_token, sizeof c.admin_token, "%.*s", (int)tl, (char *)tok);
        body = device_body(id, platform, key, &err);
        if (body && sb_attestd_request(&c, "POST", "/v1/admin/devices", body, &status, &resp,
                                       &rl, &err) == 0) {
            rc = status == 200 ? 0 : 1;
            fprintf(rc ? stderr : stdout, "%s%s\n", rc ? "strongbox attest register-device: " : "",
                    resp);
        }
    }
    if (err.msg[0])
        fprintf(stderr, "strongbox attest register-device: %s\n", err.msg);
    free(tok);
    free(body);
    free(resp);
    return rc;
}

int sb_cmd_attest(int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "verify-cert") == 0)
        return verify_cert(argc - 1, argv + 1);
    if (strcmp(sub, "root") == 0)
        return get_root(argc - 1, argv + 1);
    if (strcmp(sub, "register-device") == 0)
        return register_device(argc - 1, argv + 1);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
