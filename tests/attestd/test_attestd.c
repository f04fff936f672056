/* test_attestd - strongbox-attestd through its real HTTP API on loopback: every refusal reason,
 * nonce reuse and expiry, persistence across restarts, concurrent attestations. */
#include "attest/attest.h"
#include "../common/test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *daemon_bin, *cli_bin, *shared_dir;
static char state_dir[256];
static rlim_t file_limit; /* > 0: the next daemon may not write files larger than this */

typedef struct daemon_proc {
    pid_t pid;
    sb_attestd_client client, admin;
} daemon_proc;

static void read_token(char *out, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/admin.token", state_dir);
    uint8_t *d;
    size_t len;
    if (sb_read_file(path, 256, &d, &len, NULL) < 0 || len >= cap) {
        fprintf(stderr, "no admin token\n");
        exit(1);
    }
    memcpy(out, d, len);
    out[len] = 0;
    free(d);
}

/* Starts the daemon on a free port with extra arguments; 0 once it listens, or -1 with its exit
 * status in *exit_status when it exited instead. */
static int try_start(daemon_proc *d, const char *extra1, const char *extra2, int *exit_status)
{
    char port_file[300];
    snprintf(port_file, sizeof port_file, "%s.port", state_dir);
    unlink(port_file);
    d->pid = fork();
    if (d->pid == 0) {
        const char *argv[12] = {daemon_bin, "--state", state_dir, "--port", "0", "--port-file",
                                port_file, extra1, extra2, NULL};
        if (!freopen("/dev/null", "w", stderr))
            _exit(126);
        if (file_limit) { /* a full disk, as the daemon sees it: writes past it fail (EFBIG) */
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {file_limit, file_limit};
            if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
                _exit(125);
        }
        execv(daemon_bin, (char **)argv);
        _exit(127);
    }
    uint8_t *p = NULL;
    size_t len;
    for (int i = 0; i < 200 && sb_read_file(port_file, 16, &p, &len, NULL) < 0; i++) {
        if (waitpid(d->pid, exit_status, WNOHANG) == d->pid)
            return -1;
        usleep(50000);
    }
    if (!p) {
        fprintf(stderr, "daemon did not start\n");
        exit(1);
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", atoi((char *)p));
    free(p);
    unlink(port_file);
    sb_attestd_client_init(&d->client, url, NULL);
    d->admin = d->client;
    read_token(d->admin.admin_token, sizeof d->admin.admin_token);
    return 0;
}

static void start(daemon_proc *d, const char *extra1, const char *extra2)
{
    int st = 0;
    if (try_start(d, extra1, extra2, &st) < 0) {
        fprintf(stderr, "daemon exited with status %d instead of starting\n",
                WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        exit(1);
    }
}

static void stop(daemon_proc *d)
{
    kill(d->pid, SIGTERM);
    int st;
    waitpid(d->pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The world of one test run: a host key, an isolate key, a runtime and a policy. */
typedef struct world {
    EVP_PKEY *host, *iso;
    char *csr;
    uint8_t runtime[32], policy[32];
    X509 *root;
} world;

typedef struct attempt_opts {
    EVP_PKEY *signer;          /* evidence signer (default host) */
    const uint8_t *bind_policy; /* policy hash bound in evidence (default world policy) */
    const char *platform;       /* default "process" */
    const uint8_t *nonce;       /* use this nonce instead of a fresh challenge */
    int corrupt;                /* flip a byte of the evidence signature */
    const char *csr;            /* default world csr */
} attempt_opts;

static int attest(const daemon_proc *d, const world *w, const attempt_opts *o, char **chain,
                  uint8_t used_nonce[32], int *status, sb_err *err)
{
    uint8_t nonce[32], binding[64];
    if (o->nonce)
        memcpy(nonce, o->nonce, 32);
    else if (sb_attestd_challenge(&d->client, nonce, NULL, err) < 0)
        return -1;
    if (used_nonce)
        memcpy(used_nonce, nonce, 32);
    if (sb_attest_binding_for_key(nonce, 32, w->iso, o->bind_policy ? o->bind_policy : w->policy,
                                  binding, err) < 0)
        return -1;
    uint8_t *ev;
    size_t len;
    if (sb_process_evidence_create(o->signer ? o->signer : w->host, w->runtime, binding, &ev,
                                   &len, err) < 0)
        return -1;
    if (o->corrupt)
        ev[len - 5] ^= 0x40;
    int rc = sb_attestd_attest(&d->client, o->platform ? o->platform : "process", ev, len,
                               o->csr ? o->csr : w->csr, w->policy, nonce, chain, status, err);
    free(ev);
    return rc;
}

/* The CSR `pem` with the DER byte at `at` (negative: from the end) flipped, PEM again. */
static char *csr_flipped(const char *pem, long at)
{
    BIO *in = BIO_new_mem_buf(pem, -1), *out = BIO_new(BIO_s_mem());
    char *name = NULL, *hdr = NULL, *res = NULL, *data;
    unsigned char *der = NULL;
    long len = 0;
    if (in && out && PEM_read_bio(in, &name, &hdr, &der, &len) == 1 && len > 0) {
        der[at < 0 ? len + at : at] ^= 0x01;
        long n = PEM_write_bio(out, name, hdr, der, len) > 0 ? BIO_get_mem_data(out, &data) : 0;
        res = n > 0 ? strndup(data, (size_t)n) : NULL;
    }
    OPENSSL_free(name);
    OPENSSL_free(hdr);
    OPENSSL_free(der);
    BIO_free(in);
    BIO_free(out);
    return res;
}

/* Where the P-256 point's last byte sits in the CSR's DER. */
static long csr_point_end(const char *pem)
{
    BIO *in = BIO_new_mem_buf(pem, -1);
    char *name = NULL, *hdr = NULL;
    unsigned char *der = NULL;
    long len = 0, at = -1;
    if (in && PEM_read_bio(in, &name, &hdr, &der, &len) == 1) {
        unsigned char *p = memmem(der, (size_t)len, "\x03\x42\x00\x04", 4);
        at = p ? (long)(p - der) + 4 + 63 : -1;
    }
    OPENSSL_free(name);
    OPENSSL_free(hdr);
    OPENSSL_free(der);
    BIO_free(in);
    return at;
}

/* Expects a refusal with HTTP `want_status` and err containing `want`. */
static void expect_refusal(const daemon_proc *d, const world *w, const attempt_opts *o,
                           int want_status, const char *want, int line)
{
    char *chain = NULL;
    int status = 0;
    sb_err e = {0};
    int rc = attest(d, w, o, &chain, NULL, &status, &e);
    if (rc == 0 || status != want_status || !strstr(e.msg, want)) {
        fprintf(stderr, "line %d: want %d '%s', got rc=%d status=%d '%s'\n", line, want_status,
                want, rc, status, e.msg);
        failures++;
    }
    free(chain);
}
#define EXPECT_REFUSAL(d, w, o, st, want) expect_refusal(d, w, o, st, want, __LINE__)

static int admin(const daemon_proc *d, const char *method, const char *path, const char *body,
                 char **resp)
{
    int status = 0;
    size_t len;
    char *r = NULL;
    if (sb_attestd_request(&d->admin, method, path, body, &status, &r, &len, NULL) < 0)
        return -1;
    if (resp)
        *resp = r;
    else
        free(r);
    return status;
}

static char *pem_pubkey(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, k);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(b);
    return out;
}

static int register_device(const daemon_proc *d, const char *id, const char *platform,
                           EVP_PKEY *k)
{
    char *pem = pem_pubkey(k);
    json_t *j = json_pack("{s:s, s:s, s:s}", "id", id, "platform", platform, "public_key", pem);
    char *body = json_dumps(j, 0);
    int st = admin(d, "POST", "/v1/admin/devices", body, NULL);
    free(body);
    json_decref(j);
    free(pem);
    return st;
}

/* Verifies an issued chain with the client verifier as a party would. */
static int verify_chain(const world *w, const char *chain_pem, const char *platform,
                        int allow_debug, sb_attest_verdict *v, sb_err *err)
{
    BIO *b = BIO_new_mem_buf(chain_pem, -1);
    X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
    STACK_OF(X509) *rest = sk_X509_new_null();
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        sk_X509_push(rest, x);
    BIO_free(b);
    sb_attest_accepted acc = {.len = 32};
    snprintf(acc.platform, sizeof acc.platform, "%s", platform);
    memcpy(acc.measurement, w->runtime, 32);
    sb_attest_expect e = {.root = w->root, .accepted = &acc, .n_accepted = 1,
                          .allow_debug = allow_debug};
    memcpy(e.policy_hash, w->policy, 32);
    int rc = leaf ? sb_attest_verify_cert(leaf, rest, &e, v, err) : -1;
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    return rc;
}

static void load_root(daemon_proc *d, world *w)
{
    char *pem = NULL;
    CHECK_OK(sb_attestd_root(&d->client, &pem, err));
    BIO *b = BIO_new_mem_buf(pem ? pem : "", -1);
    X509_free(w->root);
    w->root = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    free(pem);
    CHECK(w->root != NULL);
}

static int run_cli(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s attest verify-cert %s >%s/cli.out 2>&1", cli_bin, args,
             state_dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int cli_output_has(const char *needle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/cli.out", state_dir);
    uint8_t *d = NULL;
    size_t len;
    int found = sb_read_file(path, 1 << 16, &d, &len, NULL) == 0 && strstr((char *)d, needle);
    if (!found)
        fprintf(stderr, "cli output lacks '%s':\n%s\n", needle, d ? (char *)d : "");
    free(d);
    return found;
}

/* `strongbox attest verify-cert` on the issued chain, as a party would run it. */
static void test_cli_verify_cert(const world *w, const char *chain)
{
    char cert[300], root[300], args[1024], ph[65], rt[65];
    snprintf(cert, sizeof cert, "%s/chain.pem", state_dir);
    snprintf(root, sizeof root, "%s/ca.pem", state_dir);
    CHECK(sb_write_file(cert, chain, strlen(chain), 0644, NULL) == 0);
    sb_hex_encode(w->policy, 32, ph);
    sb_hex_encode(w->runtime, 32, rt);
    snprintf(args, sizeof args, "%s --root %s --policy-hash %s --measurement process:%s --allow-debug",
             cert, root, ph, rt);
    CHECK(run_cli(args) == 0 && cli_output_has("verdict: ATTESTED"));
    snprintf(args, sizeof args, "%s --root %s --policy-hash %s --measurement process:%s", cert,
             root, ph, rt);
    CHECK(run_cli(args) == 1 && cli_output_has("[FAIL] lifecycle"));
    snprintf(args, sizeof args, "%s --root %s --policy-hash %s --measurement process:00 "
             "--allow-debug", cert, root, ph);
    CHECK(run_cli(args) == 1 && cli_output_has("[FAIL] measurement"));
    snprintf(args, sizeof args, "%s --root %s --policy-hash %s --measurement process:%s "
             "--allow-debug --at 2020-01-01T00:00:00Z", cert, root, ph, rt);
    CHECK(run_cli(args) == 1 && cli_output_has("[FAIL] validity"));
    /* An isolate whose clock lags the service's by a minute (a VM guest reads its clock from an
     * RTC with whole seconds) still accepts its fresh certificate: issuance is backdated. */
    char at[32];
    time_t lag = time(NULL) - 60;
    struct tm tm;
    gmtime_r(&lag, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(args, sizeof args, "%s --root %s --policy-hash %s --measurement process:%s "
             "--allow-debug --at %s", cert, root, ph, rt, at);
    CHECK(run_cli(args) == 0 && cli_output_has("verdict: ATTESTED"));
    snprintf(args, sizeof args, "%s --root %s", cert, root);
    CHECK(run_cli(args) == 2 && cli_output_has("--policy-hash are required"));
}

/* Runs a shell command in the state directory; its output goes to cli.out. */
static int run_sh(const char *cmd)
{
    char full[4096];
    snprintf(full, sizeof full, "cd %s && (%s) >cli.out 2>&1", state_dir, cmd);
    int st = system(full);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (rc != 0)
        cli_output_has("(command failed)"); /* shows its output */
    return rc;
}

/* `strongbox attest verify-cert --policy`: root, accepted runtime, debug rule and hash all come
 * from a policy written by `strongbox policy new`. */
static void test_cli_verify_policy(const daemon_proc *d, const world *w)
{
    char cmd[2048];
    CHECK(run_sh("for p in alice bob; do openssl req -x509 -newkey ec -pkeyopt "
                 "ec_paramgen_curve:P-256 -nodes -keyout $p.key -out $p.crt -subj /CN=$p "
                 "-days 2; done && printf '\\0asm\\1\\0\\0\\0' >p.wasm && "
                 "echo runtime >rt.bin && echo other >rt2.bin") == 0);
#define POLICY_NEW "%s policy new --name t --identity alice=alice.crt:rw=/inputs/alice,r=/outputs" \
                      " --identity bob=bob.crt:wx=/programs --program " \
                      "/programs/p.wasm=p.wasm:r=/inputs,rw=/outputs --platform process:@%s " \
                      "--allow-debug --attestation-url http://127.0.0.1:1 --attestation-root ca.pem --host " \
                      "127.0.0.1:7000 --expires-in 24h -o %s && %s policy hash %s"
    snprintf(cmd, sizeof cmd, POLICY_NEW, cli_bin, "rt2.bin", "other.json", cli_bin, "other.json");
    CHECK(run_sh(cmd) == 0);
    snprintf(cmd, sizeof cmd, POLICY_NEW, cli_bin, "rt.bin", "policy.json", cli_bin, "policy.json");
#undef POLICY_NEW
    CHECK(run_sh(cmd) == 0);
    char path[400];
    snprintf(path, sizeof path, "%s/cli.out", state_dir);
    uint8_t *out = NULL;
    size_t len;
    world pw = *w; /* the same keys, this policy's hash and runtime */
    const char *hash = sb_read_file(path, 4096, &out, &len, NULL) == 0
                           ? strstr((char *)out, "hash ") : NULL; /* "FILE: policy "t", hash HEX" */
    char hex[65] = "";
    if (hash && strlen(hash) >= 69)
        memcpy(hex, hash + 5, 64);
    CHECK(sb_hex_decode(hex, pw.policy, 32) == 0);
    free(out);
    CHECK(EVP_Digest("runtime\n", 8, pw.runtime, NULL, EVP_sha256(), NULL) == 1);
    char *chain = NULL;
    int status = 0;
    CHECK_OK(attest(d, &pw, &(attempt_opts){0}, &chain, NULL, &status, err));
    CHECK(chain && status == 200);
    snprintf(path, sizeof path, "%s/policy-chain.pem", state_dir);
    CHECK(chain && sb_write_file(path, chain, strlen(chain), 0644, NULL) == 0);
    free(chain);
    snprintf(cmd, sizeof cmd, "%s --policy %s/policy.json", path, state_dir);
    CHECK(run_cli(cmd) == 0 && cli_output_has("verdict: ATTESTED"));
    /* a policy that accepts another runtime (its hash differs too) */
    snprintf(cmd, sizeof cmd, "%s --policy %s/other.json", path, state_dir);
    CHECK(run_cli(cmd) == 1 && cli_output_has("[FAIL]"));
    /* a certificate bound to another policy */
    snprintf(cmd, sizeof cmd, "%s/chain.pem --policy %s/policy.json", state_dir, state_dir);
    CHECK(run_cli(cmd) == 1 && cli_output_has("[FAIL]"));
    snprintf(cmd, sizeof cmd, "%s --policy %s/p.wasm", path, state_dir);
    int rc = run_cli(cmd);
    CHECK(cli_output_has("policy: invalid JSON") && rc == 1); /* not a usage error */
    snprintf(cmd, sizeof cmd, "%s --policy %s/policy.json --policy-hash %064d", path, state_dir, 0);
    CHECK(run_cli(cmd) == 2 && cli_output_has("--policy excludes"));
}

static void test_happy_path(daemon_proc *d, world *w)
{
    char *chain = NULL;
    int status = 0;
    sb_attest_verdict v;
    CHECK_OK(attest(d, w, &(attempt_opts){0}, &chain, NULL, &status, err));
    CHECK(chain && status == 200);
    CHECK_OK(verify_chain(w, chain ? chain : "", "process", 1, &v, err));
    CHECK(strcmp(v.platform, "process") == 0 && strstr(v.service, "http://127.0.0.1:"));
    /* without allow_debug a party refuses the process platform */
    CHECK_ERR(verify_chain(w, chain ? chain : "", "process", 0, &v, err), "lifecycle");
    if (cli_bin && chain)
        test_cli_verify_cert(w, chain);
    free(chain);
    if (cli_bin)
        test_cli_verify_policy(d, w);
}

/* A client lending a keep-alive slot: challenge, attest and refusals share one connection; a
 * connection that broke while idle is replaced once, transparently. */
static void test_keepalive(const daemon_proc *d, world *w)
{
    int conn = -1;
    daemon_proc k = *d;
    k.client.keepalive = &conn;
    char *chain = NULL;
    int status = 0;
    uint8_t nonce[32];
    CHECK_OK(attest(&k, w, &(attempt_opts){0}, &chain, nonce, &status, err));
    CHECK(chain && status == 200 && conn >= 0);
    free(chain);
    chain = NULL;
    int first = conn;
    EXPECT_REFUSAL(&k, w, (&(attempt_opts){.nonce = nonce}), 403, "reused nonce");
    CHECK(conn == first); /* a refusal keeps the connection */
    CHECK_OK(attest(&k, w, &(attempt_opts){0}, &chain, NULL, &status, err));
    CHECK(chain && status == 200 && conn == first);
    free(chain);
    chain = NULL;
    shutdown(conn, SHUT_RDWR); /* broken while idle: the next request reconnects */
    CHECK_OK(attest(&k, w, &(attempt_opts){0}, &chain, NULL, &status, err));
    CHECK(chain && status == 200 && conn >= 0);
    free(chain);
    if (conn >= 0)
        close(conn);
}

/* A store that cannot write (here: the daemon's files may not grow) gives 503 "store unavailable"
 * for challenges and attestations, and nothing already stored is lost. */
static void test_store_full(world *w)
{
    char db[400];
    snprintf(db, sizeof db, "%s/attestd.db", state_dir);
    struct stat st;
    CHECK(stat(db, &st) == 0);
    file_limit = (rlim_t)st.st_size; /* the WAL may grow to the database's size, no further */
    daemon_proc d;
    start(&d, NULL, NULL);
    file_limit = 0;
    int status = 0, refused = 0;
    char *resp = NULL;
    size_t rl;
    for (int i = 0; i < 5000 && !refused; i++) {
        free(resp);
        resp = NULL;
        CHECK_OK(sb_attestd_request(&d.client, "POST", "/v1/challenge", NULL, &status, &resp, &rl,
                                    err));
        refused = status != 200;
    }
    CHECK(status == 503 && resp && strstr(resp, "store unavailable"));
    free(resp);
    char *chain = NULL;
    sb_err e = {0};
    status = 0;
    CHECK(attest(&d, w, &(attempt_opts){0}, &chain, NULL, &status, &e) < 0 &&
          strstr(e.msg, "store unavailable") && !chain);
    free(chain);
    kill(d.pid, SIGTERM);
    waitpid(d.pid, NULL, 0);
    /* with room again, the same state works: the device registered before is still there */
    start(&d, NULL, NULL);
    CHECK_OK(attest(&d, w, &(attempt_opts){0}, &chain, NULL, &status, err));
    CHECK(chain && status == 200);
    free(chain);
    stop(&d);
}

static void test_refusals(daemon_proc *d, world *w)
{
    attempt_opts o = {0};
    /* unknown platform */
    o.platform = "quantum";
    EXPECT_REFUSAL(d, w, &o, 400, "unknown platform: no verifier for platform 'quantum'");
    o.platform = NULL;
    /* bad csr */
    o.csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    EXPECT_REFUSAL(d, w, &o, 400, "bad csr");
    o.csr = NULL;
    /* bad signature on the evidence */
    o.corrupt = 1;
    EXPECT_REFUSAL(d, w, &o, 403, "bad evidence: cose: signature does not verify");
    o.corrupt = 0;
    /* unregistered host key */
    EVP_PKEY *stranger = EVP_EC_gen("P-256");
    o.signer = stranger;
    EXPECT_REFUSAL(d, w, &o, 403, "device unknown: process key");
    o.signer = NULL;
    /* binding of another policy */
    uint8_t other_policy[32];
    memset(other_policy, 0x99, 32);
    o.bind_policy = other_policy;
    EXPECT_REFUSAL(d, w, &o, 403, "binding mismatch");
    o.bind_policy = NULL;
    /* the common CSR (P-256, ecdsa-with-SHA256: read directly) with a broken self-signature */
    char *bad = csr_flipped(w->csr, -1);
    o.csr = bad;
    EXPECT_REFUSAL(d, w, &o, 400, "bad csr: self-signature does not verify");
    free(bad);
    /* its point moved off the curve: the direct reader passes it on, OpenSSL refuses it */
    long at = csr_point_end(w->csr);
    CHECK(at > 0);
    bad = at > 0 ? csr_flipped(w->csr, at) : NULL;
    o.csr = bad;
    EXPECT_REFUSAL(d, w, &o, 400, "bad csr");
    free(bad);
    o.csr = NULL;
    /* other CSR shapes take the general path: P-384 is issued */
    world w384 = *w;
    w384.iso = EVP_EC_gen("P-384");
    w384.csr = sb_attest_make_csr(w384.iso, "p384", NULL);
    char *chain384 = NULL;
    int st384 = 0;
    CHECK_OK(attest(d, &w384, &o, &chain384, NULL, &st384, err));
    CHECK(chain384 && st384 == 200);
    free(chain384);
    free(w384.csr);
    EVP_PKEY_free(w384.iso);
    /* evidence bound to a different isolate key than the CSR's */
    EVP_PKEY *other_iso = EVP_EC_gen("P-256");
    char *other_csr = sb_attest_make_csr(other_iso, "other", NULL);
    o.csr = other_csr;
    EXPECT_REFUSAL(d, w, &o, 403, "binding mismatch");
    o.csr = NULL;
    free(other_csr);
    EVP_PKEY_free(other_iso);
    /* nonces: never issued, reused, (stale: see test_restart) */
    uint8_t fake[32] = {1, 2, 3};
    o.nonce = fake;
    EXPECT_REFUSAL(d, w, &o, 403, "unknown nonce");
    o.nonce = NULL;
    uint8_t used[32];
    char *chain = NULL;
    CHECK_OK(attest(d, w, &o, &chain, used, NULL, err));
    free(chain);
    o.nonce = used;
    EXPECT_REFUSAL(d, w, &o, 403, "reused nonce");
    o.nonce = NULL;
    /* measurement allow-list */
    char body[256], path[256], hex[65];
    CHECK(admin(d, "POST", "/v1/admin/measurements",
                "{\"platform\":\"process\",\"measurement\":\"" "ab" "\"}", NULL) == 200);
    EXPECT_REFUSAL(d, w, &o, 403, "measurement not accepted");
    sb_hex_encode(w->runtime, 32, hex);
    snprintf(body, sizeof body, "{\"platform\":\"process\",\"measurement\":\"%s\"}", hex);
    CHECK(admin(d, "POST", "/v1/admin/measurements", body, NULL) == 200);
    chain = NULL;
    CHECK_OK(attest(d, w, &o, &chain, NULL, NULL, err));
    free(chain);
    CHECK(admin(d, "DELETE", "/v1/admin/measurements/process/ab", NULL, NULL) == 200);
    snprintf(path, sizeof path, "/v1/admin/measurements/process/%s", hex);
    CHECK(admin(d, "DELETE", path, NULL, NULL) == 200);
    CHECK(admin(d, "DELETE", path, NULL, NULL) == 404);
    /* debug/insecure platforms switched off */
    CHECK(admin(d, "PUT", "/v1/admin/settings", "{\"serve_insecure\":false}", NULL) == 200);
    EXPECT_REFUSAL(d, w, &o, 403, "debug platform refused");
    CHECK(admin(d, "PUT", "/v1/admin/settings", "{\"serve_insecure\":true}", NULL) == 200);
    /* revoked device */
    CHECK(register_device(d, "stranger", "process", stranger) == 200);
    o.signer = stranger;
    chain = NULL;
    CHECK_OK(attest(d, w, &o, &chain, NULL, NULL, err));
    free(chain);
    CHECK(admin(d, "DELETE", "/v1/admin/devices/stranger", NULL, NULL) == 200);
    EXPECT_REFUSAL(d, w, &o, 403, "was revoked");
    o.signer = NULL;
    EVP_PKEY_free(stranger);
}

/* Raw HTTP requests the C client would never send. */
static void test_malformed(daemon_proc *d)
{
    static const struct { const char *body, *want; } cases[] = {
        {"not json", "malformed request"},
        {"[]", "malformed request"},
        {"{\"platform\":\"process\"}", "evidence: missing"},
        {"{\"platform\":\"process\",\"evidence\":\"AAAA\",\"csr\":\"x\",\"policy_hash\":\"zz\","
         "\"nonce\":\"00\"}", "policy_hash: want 64 hex"},
        {"{\"platform\":\"process\",\"evidence\":\"A*AA\",\"csr\":\"x\",\"policy_hash\":"
         "\"0000000000000000000000000000000000000000000000000000000000000000\",\"nonce\":"
         "\"0000000000000000000000000000000000000000000000000000000000000000\"}", "base64"},
        {"{\"platform\":\"process\",\"platform\":\"psa\"}", "malformed request"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = 0;
        char *resp = NULL;
        size_t len;
        CHECK_OK(sb_attestd_request(&d->client, "POST", "/v1/attest", cases[i].body, &status,
                                    &resp, &len, err));
        if (status != 400 || !resp || !strstr(resp, cases[i].want)) {
            fprintf(stderr, "malformed case %zu: status %d body %s\n", i, status, resp);
            failures++;
        }
        free(resp);
    }
    /* too large */
    size_t big = 300 * 1024;
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    huge[big] = 0;
    int status = 0;
    char *resp = NULL;
    size_t len;
    CHECK_OK(sb_attestd_request(&d->client, "POST", "/v1/attest", huge, &status, &resp, &len, err));
    CHECK(status == 413 && resp && strstr(resp, "request too large"));
    free(resp);
    free(huge);
    /* unknown path, wrong method, admin without or with a wrong token */
    CHECK_OK(sb_attestd_request(&d->client, "GET", "/v1/nothing", NULL, &status, &resp, &len, err));
    CHECK(status == 404);
    free(resp);
    CHECK_OK(sb_attestd_request(&d->client, "GET", "/v1/attest", NULL, &status, &resp, &len, err));
    CHECK(status == 405);
    free(resp);
    CHECK_OK(sb_attestd_request(&d->client, "GET", "/v1/admin/audit", NULL, &status, &resp, &len,
                                err));
    CHECK(status == 401 && strstr(resp, "unauthorized"));
    free(resp);
    sb_attestd_client wrong = d->admin;
    wrong.admin_token[3] ^= 1;
    CHECK_OK(sb_attestd_request(&wrong, "GET", "/v1/admin/audit", NULL, &status, &resp, &len, err));
    CHECK(status == 401);
    free(resp);
}

static void test_admin(daemon_proc *d, world *w)
{
    char *resp = NULL;
    /* duplicate device, bad key, bad platform */
    CHECK(register_device(d, "host-1", "process", w->host) == 409);
    CHECK(admin(d, "POST", "/v1/admin/devices", "{\"id\":\"x\",\"public_key\":\"nope\"}", NULL) ==
          400);
    CHECK(admin(d, "POST", "/v1/admin/devices",
                "{\"id\":\"bad id!\",\"public_key\":\"nope\"}", NULL) == 400);
    CHECK(register_device(d, "snp-1", "sev-snp", w->host) == 400);
    /* vendor roots: a PEM certificate is accepted, garbage is not */
    json_t *j = json_pack("{s:s, s:s, s:s}", "id", "test-ark", "platform", "sev-snp", "pem",
                          "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    char *body = json_dumps(j, 0);
    CHECK(admin(d, "POST", "/v1/admin/roots", body, NULL) == 400);
    free(body);
    json_decref(j);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, w->root);
    char *pem;
    long n = BIO_get_mem_data(b, &pem);
    char *root_pem = strndup(pem, (size_t)n);
    BIO_free(b);
    j = json_pack("{s:s, s:s, s:s}", "id", "test-ark", "platform", "sev-snp", "pem", root_pem);
    body = json_dumps(j, 0);
    CHECK(admin(d, "POST", "/v1/admin/roots", body, NULL) == 200);
    CHECK(admin(d, "POST", "/v1/admin/roots", body, NULL) == 409);
    free(body);
    json_decref(j);
    free(root_pem);
    CHECK(admin(d, "GET", "/v1/admin/roots", NULL, &resp) == 200 && strstr(resp, "test-ark"));
    free(resp);
    CHECK(admin(d, "DELETE", "/v1/admin/roots/test-ark", NULL, NULL) == 200);
    CHECK(admin(d, "DELETE", "/v1/admin/roots/test-ark", NULL, NULL) == 404);
    /* certificates: list, revoke, public revocation list */
    CHECK(admin(d, "GET", "/v1/admin/certificates?limit=1", NULL, &resp) == 200);
    json_t *certs = json_loads(resp, 0, NULL);
    free(resp);
    json_t *first = json_array_get(json_object_get(certs, "certificates"), 0);
    const char *serial = json_string_value(json_object_get(first, "serial"));
    CHECK(serial && json_array_size(json_object_get(certs, "certificates")) == 1);
    char path[128];
    snprintf(path, sizeof path, "/v1/admin/certificates/%s/revoke", serial ? serial : "x");
    CHECK(admin(d, "POST", path, NULL, NULL) == 200);
    CHECK(admin(d, "POST", path, NULL, NULL) == 404);
    int status;
    size_t len;
    CHECK_OK(sb_attestd_request(&d->client, "GET", "/v1/revoked", NULL, &status, &resp, &len, err));
    CHECK(status == 200 && serial && strstr(resp, serial));
    free(resp);
    json_decref(certs);
    /* the audit log has issuances, refusals and admin actions */
    CHECK(admin(d, "GET", "/v1/admin/audit?limit=1000", NULL, &resp) == 200);
    CHECK(strstr(resp, "\"outcome\":\"issued\"") && strstr(resp, "\"reason\":\"binding mismatch\""));
    CHECK(strstr(resp, "\"reason\":\"malformed request\"") && strstr(resp, "revoke certificate"));
    CHECK(strstr(resp, "\"reason\":\"request too large\""));
    free(resp);
}

/* GET `path` (with admin token when `as_admin`); expects `want_status` and `want` in the body. */
static void expect_get(const daemon_proc *d, int as_admin, const char *path, int want_status,
                       const char *want, int line)
{
    int status = 0;
    char *resp = NULL;
    size_t len;
    sb_err e = {0};
    int rc = sb_attestd_request(as_admin ? &d->admin : &d->client, "GET", path, NULL, &status,
                                &resp, &len, &e);
    if (rc < 0 || status != want_status || !resp || !strstr(resp, want)) {
        fprintf(stderr, "line %d: GET %s: want %d '%s', got rc=%d status=%d '%.200s' %s\n",
                line, path, want_status, want, rc, status, resp ? resp : "", e.msg);
        failures++;
    }
    free(resp);
}
#define EXPECT_GET(d, admin, path, st, want) expect_get(d, admin, path, st, want, __LINE__)

/* Query parameters: `limit` is an integer 1..1000 on the admin listings and nothing else is
 * accepted anywhere; every violation is a 400 that says what was wrong. */
static void test_query_params(daemon_proc *d)
{
    static const char *const bad_limits[] = {
        "-1", "0", "99999999999999999999", "abc", "5x", "", "1001", "+5", "%2D1", "5%20",
        "5%00", "0x10", "1e3", "18446744073709551617",
    };
    char path[128];
    for (size_t i = 0; i < sizeof bad_limits / sizeof bad_limits[0]; i++) {
        snprintf(path, sizeof path, "/v1/admin/audit?limit=%s", bad_limits[i]);
        EXPECT_GET(d, 1, path, 400, "limit: want an integer from 1 to 1000");
    }
    EXPECT_GET(d, 1, "/v1/admin/certificates?limit", 400, "limit: want an integer from 1 to 1000");
    EXPECT_GET(d, 1, "/v1/admin/audit?limit=1&limit=2", 400, "limit: given more than once");
    EXPECT_GET(d, 1, "/v1/admin/audit?limt=5", 400, "unknown query parameter 'limt'");
    EXPECT_GET(d, 1, "/v1/admin/settings?limit=5", 400, "takes no query parameters");
    EXPECT_GET(d, 0, "/v1/revoked?limit=5", 400, "takes no query parameters");
    EXPECT_GET(d, 0, "/v1/health?x=1", 400, "unknown query parameter 'x'");
    /* the documented range is accepted, with or without leading zeros */
    EXPECT_GET(d, 1, "/v1/admin/audit?limit=1000", 200, "\"audit\"");
    EXPECT_GET(d, 1, "/v1/admin/devices?limit=0001", 200, "\"devices\"");
    char *resp = NULL;
    CHECK(admin(d, "GET", "/v1/admin/audit?limit=1", NULL, &resp) == 200);
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
    CHECK(json_array_size(json_object_get(j, "audit")) == 1);
    json_decref(j);
    free(resp);
}

/* A PSA platform token (hardware-rooted): lifecycle secured, accepted without allow_debug. */
static void test_psa_platform(daemon_proc *d, world *w)
{
    EVP_PKEY *iak = EVP_EC_gen("P-256");
    CHECK(register_device(d, "psa-board-1", "psa", iak) == 200);
    uint8_t nonce[32], binding[64];
    CHECK_OK(sb_attestd_challenge(&d->client, nonce, NULL, err));
    CHECK_OK(sb_attest_binding_for_key(nonce, 32, w->iso, w->policy, binding, err));
    sb_psa_token t = {0};
    snprintf(t.profile, sizeof t.profile, SB_PSA_PROFILE_2023);
    memcpy(t.nonce, binding, 64);
    t.nonce_len = 64;
    t.instance_id[0] = 1;
    sb_attest_key_hash(iak, t.instance_id + 1, NULL);
    t.instance_id_len = 33;
    t.implementation_id_len = 32;
    t.lifecycle = SB_PSA_LIFECYCLE_SECURED;
    t.n_sw = 1;
    snprintf(t.sw[0].type, sizeof t.sw[0].type, "runtime");
    memcpy(t.sw[0].value, w->runtime, 32);
    t.sw[0].value_len = 32;
    uint8_t *tok;
    size_t len;
    CHECK_OK(sb_psa_sign(&t, iak, &tok, &len, err));
    char *chain = NULL;
    CHECK_OK(sb_attestd_attest(&d->client, "psa", tok, len, w->csr, w->policy, nonce, &chain,
                               NULL, err));
    sb_attest_verdict v;
    CHECK_OK(verify_chain(w, chain ? chain : "", "psa", 0, &v, err));
    CHECK((v.lifecycle & 0xff00) == SB_PSA_LIFECYCLE_SECURED);
    free(chain);
    free(tok);
    EVP_PKEY_free(iak);
}

/* Sends `evidence` for `platform` with a fresh nonce; expects a refusal containing `want`. */
static void expect_hw_refusal(daemon_proc *d, world *w, const char *platform, const uint8_t *ev,
                              size_t len, const char *want)
{
    uint8_t nonce[32];
    char *chain = NULL;
    int status = 0;
    CHECK_OK(sb_attestd_challenge(&d->client, nonce, NULL, err));
    sb_err e = {0};
    int rc = sb_attestd_attest(&d->client, platform, ev, len, w->csr, w->policy, nonce, &chain,
                               &status, &e);
    if (rc == 0 || status != 403 || !strstr(e.msg, want)) {
        fprintf(stderr, "%s: want 403 '%s', got rc=%d status=%d '%s'\n", platform, want, rc,
                status, e.msg);
        failures++;
    }
    free(chain);
}

/* A hardware platform through the service: the SEV-SNP sample. Without a registered vendor root
 * the device is unknown; with the AMD Milan roots and the VCEK registered the report's signature
 * and chain verify, and the service refuses it because its guest policy allows debugging (an
 * isolate must not; src/verifiers/snp.c). With the Genoa roots only its chain fails. */
static void test_vendor_platform(daemon_proc *d, world *w)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/attestation-vectors", shared_dir);
    size_t len, vl, al;
    uint8_t *report = load_file(dir, "snp/gosevguest_milan_report_v2.bin", &len);
    uint8_t *vcek_der = load_file(dir, "snp/gosevguest_milan_vcek.der", &vl);
    uint8_t *ark = load_file(dir, "snp/amd_ask_ark_milan.pem", &al);
    expect_hw_refusal(d, w, "sev-snp", report, len, "device unknown: no vendor root");
    const uint8_t *p = vcek_der;
    X509 *vcek = d2i_X509(NULL, &p, (long)vl);
    BIO *b = BIO_new(BIO_s_mem());
    BIO_write(b, ark, (int)al);
    PEM_write_bio_X509(b, vcek);
    char *pem;
    long n = BIO_get_mem_data(b, &pem);
    json_t *j = json_pack("{s:s, s:s, s:s#}", "id", "amd-milan", "platform", "sev-snp", "pem", pem,
                          (size_t)n);
    char *body = json_dumps(j, 0);
    CHECK(admin(d, "POST", "/v1/admin/roots", body, NULL) == 200);
    expect_hw_refusal(d, w, "sev-snp", report, len,
                      "bad evidence: snp: guest policy 0xb0000 allows debugging (bit 19)");
    CHECK(admin(d, "DELETE", "/v1/admin/roots/amd-milan", NULL, NULL) == 200);
    free(ark);
    ark = load_file(dir, "snp/amd_ask_ark_genoa.pem", &al);
    json_t *g = json_pack("{s:s, s:s, s:s#}", "id", "amd-genoa", "platform", "sev-snp", "pem",
                          (char *)ark, al);
    char *gbody = json_dumps(g, 0);
    CHECK(admin(d, "POST", "/v1/admin/roots", gbody, NULL) == 200);
    expect_hw_refusal(d, w, "sev-snp", report, len, "bad evidence: snp");
    free(gbody);
    json_decref(g);
    free(body);
    json_decref(j);
    BIO_free(b);
    X509_free(vcek);
    free(report);
    free(vcek_der);
    free(ark);
}

typedef struct worker {
    daemon_proc *d;
    world *w;
    int ok, n;
} worker;

static void *work(void *arg)
{
    worker *k = arg;
    for (int i = 0; i < k->n; i++) {
        char *chain = NULL;
        sb_attest_verdict v;
        if (attest(k->d, k->w, &(attempt_opts){0}, &chain, NULL, NULL, NULL) == 0 &&
            verify_chain(k->w, chain, "process", 1, &v, NULL) == 0)
            k->ok++;
        free(chain);
    }
    return NULL;
}

static void test_concurrent(daemon_proc *d, world *w)
{
    enum { THREADS = 10, EACH = 12 };
    pthread_t th[THREADS];
    worker k[THREADS];
    for (int i = 0; i < THREADS; i++) {
        k[i] = (worker){d, w, 0, EACH};
        pthread_create(&th[i], NULL, work, &k[i]);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += k[i].ok;
    }
    CHECK(ok == THREADS * EACH);
}

static int count_audit(daemon_proc *d)
{
    char *resp = NULL;
    int n = -1;
    if (admin(d, "GET", "/v1/admin/audit?limit=1000", NULL, &resp) == 200) {
        json_t *j = json_loads(resp, 0, NULL);
        n = (int)json_array_size(json_object_get(j, "audit"));
        json_decref(j);
    }
    free(resp);
    return n;
}

/* A second daemon on the same state directory refuses to start (the store is held exclusively). */
static void test_second_daemon(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(126);
        execl(daemon_bin, daemon_bin, "--state", state_dir, "--port", "0", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

static void test_restart(daemon_proc *d, world *w)
{
    test_second_daemon();
    char *root_before = NULL, *root_after = NULL;
    CHECK_OK(sb_attestd_root(&d->client, &root_before, err));
    int audit_before = count_audit(d);
    stop(d);
    start(d, NULL, NULL);
    CHECK_OK(sb_attestd_root(&d->client, &root_after, err));
    CHECK(root_before && root_after && strcmp(root_before, root_after) == 0);
    CHECK(count_audit(d) == audit_before && audit_before > 10);
    char *chain = NULL; /* the device registered before the restart still attests */
    CHECK_OK(attest(d, w, &(attempt_opts){0}, &chain, NULL, NULL, err));
    free(chain);
    /* a challenge that outlives its 1 s lifetime is stale (sleeping makes that certain) */
    stop(d);
    start(d, "--nonce-ttl", "1");
    uint8_t nonce[32];
    CHECK_OK(sb_attestd_challenge(&d->client, nonce, NULL, err));
    sleep(2);
    EXPECT_REFUSAL(d, w, &(attempt_opts){.nonce = nonce}, 403, "stale nonce");
    free(root_before);
    free(root_after);
}

/* ---------------- a full disk under the state (--full-disk: needs root) ----------------
 * The state directory lives on a small tmpfs mounted in a private mount namespace (the daemon,
 * forked from here, shares it; it vanishes with the test). A filler file takes the free space.
 * Unlike RLIMIT_FSIZE (which only caps one file's size) this is the real thing: every file of the
 * state, the WAL included, gets ENOSPC, and freeing the filler gives the space back. */

static char mount_dir[200], filler[320];

static int mount_small_tmpfs(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(mount_dir, sizeof mount_dir, "%s/sb-attestd-full-XXXXXX", tmp);
    if (!mkdtemp(mount_dir))
        return -1;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("sb-attestd-test", mount_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0700") <
            0) {
        fprintf(stderr,
                "attestd --full-disk: cannot mount a tmpfs in a private mount namespace (%s): "
                "this test needs root (CAP_SYS_ADMIN) and cannot check anything without it\n",
                strerror(errno));
        rmdir(mount_dir);
        return -1;
    }
    snprintf(state_dir, sizeof state_dir, "%s/state", mount_dir);
    snprintf(filler, sizeof filler, "%s/filler", mount_dir);
    return 0;
}

/* Takes all free space of the tmpfs but `leave` bytes (0: every last byte). */
static void fill_disk(size_t leave)
{
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct statvfs v;
    CHECK(fd >= 0 && fstatvfs(fd, &v) == 0);
    if (fd < 0)
        return;
    size_t avail = (size_t)v.f_bavail * v.f_frsize, want = avail > leave ? avail - leave : 0;
    static char chunk[65536];
    size_t done = 0;
    while (done < want) {
        size_t n = want - done < sizeof chunk ? want - done : sizeof chunk;
        ssize_t w = write(fd, chunk, n);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    while (leave == 0 && write(fd, chunk, 1) == 1) /* the tail of a partly used page */
        ;
    close(fd);
}

static void free_disk(void)
{
    unlink(filler);
}

/* One admin write on the full disk: 200 (then it was stored) or 503 "store unavailable". */
static int full_write(const daemon_proc *d, const char *method, const char *path,
                      const char *body, int *refused)
{
    char *resp = NULL;
    int st = admin(d, method, path, body, &resp);
    if (st != 200 && !(st == 503 && resp && strstr(resp, "store unavailable"))) {
        fprintf(stderr, "full disk: %s %s: want 200 or 503 store unavailable, got %d %s\n",
                method, path, st, resp ? resp : "");
        failures++;
    }
    *refused += st == 503;
    printf("full disk: %s %s -> %d\n", method, path, st);
    free(resp);
    return st;
}

static int listed(const daemon_proc *d, const char *path, const char *needle)
{
    char *resp = NULL;
    int found = admin(d, "GET", path, NULL, &resp) == 200 && resp && strstr(resp, needle);
    free(resp);
    return found;
}

static int settings_insecure(const daemon_proc *d)
{
    char *resp = NULL;
    int v = -1;
    if (admin(d, "GET", "/v1/admin/settings", NULL, &resp) == 200 && resp)
        v = strstr(resp, "\"serve_insecure\":true") ? 1 : strstr(resp, "false") ? 0 : -1;
    free(resp);
    return v;
}

/* 1 when device `id` is listed as revoked, 0 when active, -1 when not listed. */
static int device_revoked(const daemon_proc *d, const char *id)
{
    char *resp = NULL;
    int rc = -1;
    if (admin(d, "GET", "/v1/admin/devices?limit=1000", NULL, &resp) == 200 && resp) {
        json_t *j = json_loads(resp, 0, NULL), *dev;
        size_t i;
        json_array_foreach(json_object_get(j, "devices"), i, dev)
            if (strcmp(json_string_value(json_object_get(dev, "id")) ?: "", id) == 0)
                rc = !json_is_null(json_object_get(dev, "revoked"));
        json_decref(j);
    }
    free(resp);
    return rc;
}

/* Admin writes with no space left are refused (503) or stored; after a restart the state equals
 * exactly what was acknowledged. */
static void test_full_disk_admin(daemon_proc *d, world *w)
{
    EVP_PKEY *dev2 = EVP_EC_gen("P-256"), *dev0 = EVP_EC_gen("P-256");
    CHECK(register_device(d, "dev-0", "process", dev0) == 200);
    CHECK(admin(d, "POST", "/v1/admin/measurements", "{\"platform\":\"psa\",\"measurement\":\"ab\"}",
                NULL) == 200);
    char *chain = NULL, *resp = NULL;
    CHECK_OK(attest(d, w, &(attempt_opts){0}, &chain, NULL, NULL, err));
    free(chain);
    CHECK(admin(d, "GET", "/v1/admin/certificates?limit=1", NULL, &resp) == 200);
    json_t *certs = json_loads(resp ? resp : "", 0, NULL);
    free(resp);
    char serial[64] = "", path[160];
    snprintf(serial, sizeof serial, "%s", json_string_value(json_object_get(json_array_get(
                                              json_object_get(certs, "certificates"), 0),
                                          "serial")) ?: "none");
    json_decref(certs);
    CHECK(admin(d, "PUT", "/v1/admin/settings", "{\"serve_insecure\":false}", NULL) == 200);
    int acknowledged = 0, refused = 0;
    char *root_pem = NULL;
    CHECK_OK(sb_attestd_root(&d->client, &root_pem, err));
    json_t *rj = json_pack("{s:s, s:s, s:s}", "id", "full-root", "platform", "sev-snp", "pem",
                           root_pem ? root_pem : "");
    char *root_body = json_dumps(rj, 0), *key_pem = pem_pubkey(dev2);
    json_t *dj = json_pack("{s:s, s:s}", "id", "dev-2", "public_key", key_pem);
    char *dev_body = json_dumps(dj, 0);

    fill_disk(0);
    if (full_write(d, "PUT", "/v1/admin/settings", "{\"serve_insecure\":true}", &refused) == 200)
        acknowledged = 1;
    int meas = full_write(d, "POST", "/v1/admin/measurements",
                          "{\"platform\":\"psa\",\"measurement\":\"cdcd\"}", &refused);
    int dev = full_write(d, "POST", "/v1/admin/devices", dev_body, &refused);
    int root = full_write(d, "POST", "/v1/admin/roots", root_body, &refused);
    int revoke_dev = full_write(d, "DELETE", "/v1/admin/devices/dev-0", NULL, &refused);
    int del_meas = full_write(d, "DELETE", "/v1/admin/measurements/psa/ab", NULL, &refused);
    snprintf(path, sizeof path, "/v1/admin/certificates/%s/revoke", serial);
    int revoke_cert = full_write(d, "POST", path, NULL, &refused);
    if (!refused)
        fprintf(stderr, "full disk: no admin write was refused: the disk was not full\n");
    CHECK(refused > 0);
    /* what the running service believes is what it acknowledged */
    CHECK(settings_insecure(d) == acknowledged);

    free_disk();
    stop(d);
    start(d, NULL, NULL);
    CHECK(settings_insecure(d) == acknowledged);
    CHECK(listed(d, "/v1/admin/measurements", "cdcd") == (meas == 200));
    CHECK(listed(d, "/v1/admin/devices", "\"dev-2\"") == (dev == 200));
    CHECK(listed(d, "/v1/admin/roots", "full-root") == (root == 200));
    CHECK(device_revoked(d, "dev-0") == (revoke_dev == 200));
    CHECK(listed(d, "/v1/admin/measurements", "\"ab\"") == (del_meas != 200));
    CHECK(listed(d, "/v1/admin/certificates?limit=1000", "\"revoked\":null") == (revoke_cert != 200));
    /* each acknowledged change was audited with it */
    CHECK(listed(d, "/v1/admin/audit?limit=1000", "psa cdcd") == (meas == 200));
    free(root_pem);
    free(root_body);
    free(dev_body);
    free(key_pem);
    json_decref(rj);
    json_decref(dj);
    EVP_PKEY_free(dev2);
    EVP_PKEY_free(dev0);
}

/* One attestation with `leave` bytes free under the state: whatever its outcome, replaying the
 * same request once space is back (and, with `restart`, after a restart) yields no certificate. */
static int replays_stale, replays_reused; /* how the replays after a failed attempt were refused */

static int full_disk_attempt(daemon_proc *d, world *w, size_t leave, int restart)
{
    uint8_t nonce[32];
    free_disk();
    CHECK_OK(sb_attestd_challenge(&d->client, nonce, NULL, err));
    fill_disk(leave);
    char *chain = NULL;
    int status = 0;
    sb_err e = {0};
    int rc = attest(d, w, &(attempt_opts){.nonce = nonce}, &chain, NULL, &status, &e);
    CHECK(rc == 0 ? chain != NULL : (status == 503 && strstr(e.msg, "store unavailable")));
    if (rc < 0 && status != 503)
        fprintf(stderr, "full disk attest (%zu bytes free): %d %s\n", leave, status, e.msg);
    free(chain);
    chain = NULL;
    free_disk();
    if (restart) {
        stop(d);
        start(d, NULL, NULL);
    }
    sb_err again = {0};
    int replay = attest(d, w, &(attempt_opts){.nonce = nonce}, &chain, NULL, &status, &again);
    if (replay == 0 || chain || status != 403 ||
        !(strstr(again.msg, "reused nonce") || strstr(again.msg, "stale nonce"))) {
        fprintf(stderr, "full disk (%zu bytes free%s): first attempt %s, replay got %d %s%s\n",
                leave, restart ? ", restarted" : "", rc == 0 ? "issued" : e.msg, status,
                again.msg, chain ? " and a CERTIFICATE" : "");
        failures++;
    }
    if (rc < 0) {
        replays_stale += strstr(again.msg, "stale nonce") != NULL;
        replays_reused += strstr(again.msg, "reused nonce") != NULL;
    }
    printf("full disk attest (%zu bytes free%s): %s; replay: %s\n", leave,
           restart ? ", restarted" : "", rc == 0 ? "issued" : e.msg, again.msg);
    free(chain);
    return rc;
}

static void test_full_disk_attest(daemon_proc *d, world *w)
{
    CHECK(admin(d, "PUT", "/v1/admin/settings", "{\"serve_insecure\":true}", NULL) == 200);
    int failed = 0, issued = 0;
    /* from no room at all to room for the nonce's consumption but not the certificate */
    for (size_t leave = 0; leave <= 12 * 4096; leave += 2048)
        full_disk_attempt(d, w, leave, 0) == 0 ? issued++ : failed++;
    printf("full disk: %d attestations refused, %d issued with little room\n", failed, issued);
    /* both cases happened: no room to spend the nonce (refused before any check), and room to
     * spend it but not to record the certificate */
    CHECK(failed > 0 && replays_stale > 0 && replays_reused > 0);
    CHECK(full_disk_attempt(d, w, 0, 1) < 0);
}

/* --refuse-insecure given while the disk is full: stored, or the daemon refuses to start. */
static void test_full_disk_startup(daemon_proc *d)
{
    stop(d);
    fill_disk(0);
    int st = 0;
    int up = try_start(d, "--refuse-insecure", NULL, &st) == 0;
    printf("full disk: --refuse-insecure %s\n", up ? "stored" : "refused to start");
    if (up) {
        CHECK(settings_insecure(d) == 0);
        stop(d);
    } else {
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    }
    free_disk();
    start(d, NULL, NULL);
    if (up)
        CHECK(settings_insecure(d) == 0);
    stop(d);
}

/* A first start on a disk with room for one small file fails, and once there is room the next
 * start succeeds (a CA half written by the first is not left behind to refuse it). */
static void test_full_disk_first_start(void)
{
    char saved[sizeof state_dir];
    snprintf(saved, sizeof saved, "%s", state_dir);
    snprintf(state_dir, sizeof state_dir, "%s/fresh", mount_dir);
    fill_disk(4096);
    daemon_proc d;
    int st = 0, up = try_start(&d, NULL, NULL, &st) == 0;
    printf("full disk: first start with one page free %s\n", up ? "succeeded" : "failed");
    if (up)
        stop(&d);
    else
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    free_disk();
    up = try_start(&d, NULL, NULL, &st) == 0;
    if (!up)
        fprintf(stderr, "full disk: the start after a failed first start exited %d\n",
                WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    CHECK(up);
    if (up)
        stop(&d);
    snprintf(state_dir, sizeof state_dir, "%s", saved);
}

static int full_disk_main(world *w)
{
    if (mount_small_tmpfs() < 0)
        return 1;
    daemon_proc d;
    start(&d, NULL, NULL);
    CHECK(register_device(&d, "host-1", "process", w->host) == 200);
    test_full_disk_admin(&d, w);
    test_full_disk_attest(&d, w);
    test_full_disk_startup(&d);
    test_full_disk_first_start();
    umount2(mount_dir, MNT_DETACH);
    rmdir(mount_dir);
    return test_exit("attestd --full-disk");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    int full_disk = argc > 1 && strcmp(argv[1], "--full-disk") == 0;
    argc -= full_disk, argv += full_disk;
    if (argc < 2)
        return 2;
    daemon_bin = argv[1];
    cli_bin = argc > 2 ? argv[2] : NULL;
    shared_dir = argc > 3 ? argv[3] : NULL;
    signal(SIGPIPE, SIG_IGN);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(state_dir, sizeof state_dir, "%s/sb-attestd-XXXXXX", tmp);
    if (!mkdtemp(state_dir))
        return 1;
    world w = {.host = EVP_EC_gen("P-256"), .iso = EVP_EC_gen("P-256")};
    w.csr = sb_attest_make_csr(w.iso, "isolate", NULL);
    memset(w.runtime, 0x5a, 32);
    memset(w.policy, 0xc3, 32);
    if (full_disk) {
        rmdir(state_dir);
        int rc = full_disk_main(&w);
        EVP_PKEY_free(w.host);
        EVP_PKEY_free(w.iso);
        free(w.csr);
        return rc;
    }
    daemon_proc d;
    start(&d, NULL, NULL);
    load_root(&d, &w);
    CHECK(register_device(&d, "host-1", "process", w.host) == 200);
    test_happy_path(&d, &w);
    test_keepalive(&d, &w);
    test_refusals(&d, &w);
    test_malformed(&d);
    test_admin(&d, &w);
    test_query_params(&d);
    test_psa_platform(&d, &w);
    if (shared_dir)
        test_vendor_platform(&d, &w);
    test_concurrent(&d, &w);
    test_restart(&d, &w);
    stop(&d);
    test_store_full(&w);
    /* the CA key is private to the service */
    char key_path[400];
    snprintf(key_path, sizeof key_path, "%s/ca.key", state_dir);
    struct stat st;
    CHECK(stat(key_path, &st) == 0 && (st.st_mode & 0777) == 0600);
    nftw(state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    X509_free(w.root);
    EVP_PKEY_free(w.host);
    EVP_PKEY_free(w.iso);
    free(w.csr);
    return test_exit("attestd");
}
