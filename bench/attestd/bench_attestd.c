/* bench-attestd: attestations per second through strongbox-attestd's HTTP API on loopback, with
 * p50/p99 latency, against a reference measured in the same run: the same attestation done
 * in-process (service core without HTTP), single-threaded. Target: >= 2,000/s on 2 cores.
 *
 * usage: bench_attestd DAEMON [CLIENT_THREADS] [ATTESTATIONS] */
#include "attest/attest.h"
#include "attestd/attestd.h"

#include <ftw.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct world {
    EVP_PKEY *host, *iso;
    char *csr;
    uint8_t runtime[32], policy[32];
    sb_attestd_client client;
} world;

typedef struct worker {
    world *w;
    int n, ok;
    double *lat; /* seconds, one per attestation (challenge + attest) */
} worker;

static int one(world *w, const sb_attestd_client *c, sb_err *err)
{
    uint8_t nonce[32], binding[64];
    if (sb_attestd_challenge(c, nonce, NULL, err) < 0 ||
        sb_attest_binding_for_key(nonce, 32, w->iso, w->policy, binding, err) < 0)
        return -1;
    uint8_t *ev;
    size_t len;
    if (sb_process_evidence_create(w->host, w->runtime, binding, &ev, &len, err) < 0)
        return -1;
    char *chain = NULL;
    int rc = sb_attestd_attest(c, "process", ev, len, w->csr, w->policy, nonce, &chain,
                               NULL, err);
    free(ev);
    free(chain);
    return rc;
}

static void *work(void *arg)
{
    worker *k = arg;
    /* Each client thread keeps one HTTP/1.1 connection open, as a busy relying party would. */
    int conn = -1;
    sb_attestd_client c = k->w->client;
    c.keepalive = &conn;
    for (int i = 0; i < k->n; i++) {
        double t0 = now_s();
        sb_err e = {0};
        if (one(k->w, &c, &e) == 0)
            k->ok++;
        else if (k->ok == 0 && i == 0)
            fprintf(stderr, "attest failed: %s\n", e.msg);
        k->lat[i] = now_s() - t0;
    }
    if (conn >= 0)
        close(conn);
    return NULL;
}

/* CPU seconds (user + system) a process has used, from /proc/PID/stat. */
static double proc_cpu(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static pid_t start_daemon(const char *bin, const char *dir, char *url, size_t cap)
{
    char port_file[512];
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    pid_t pid = fork();
    if (pid == 0) {
        char state[512];
        snprintf(state, sizeof state, "%s/state", dir);
        execl(bin, bin, "--state", state, "--port", "0", "--port-file", port_file, "--threads",
              "2", (char *)NULL);
        _exit(127);
    }
    uint8_t *p = NULL;
    size_t len;
    for (int i = 0; i < 200 && sb_read_file(port_file, 16, &p, &len, NULL) < 0; i++)
        usleep(50000);
    if (!p)
        return -1;
    snprintf(url, cap, "http://127.0.0.1:%d", atoi((char *)p));
    free(p);
    return pid;
}

static int register_host(world *w, const char *dir)
{
    char path[512], tok[128];
    snprintf(path, sizeof path, "%s/state/admin.token", dir);
    uint8_t *t;
    size_t tl;
    if (sb_read_file(path, 100, &t, &tl, NULL) < 0)
        return -1;
    snprintf(tok, sizeof tok, "%.*s", (int)tl, (char *)t);
    free(t);
    sb_attestd_client admin = w->client;
    snprintf(admin.admin_token, sizeof admin.admin_token, "%.70s", tok);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, w->host);
    char *pem;
    long n = BIO_get_mem_data(b, &pem);
    json_t *j = json_pack("{s:s, s:s#}", "id", "bench-host", "public_key", pem, (size_t)n);
    char *body = json_dumps(j, 0);
    int status = 0;
    char *resp = NULL;
    size_t rl;
    int rc = sb_attestd_request(&admin, "POST", "/v1/admin/devices", body, &status, &resp, &rl,
                                NULL);
    free(resp);
    free(body);
    json_decref(j);
    BIO_free(b);
    return rc == 0 && status == 200 ? 0 : -1;
}

/* Reference: the same attestation through the service core in this process, one thread. */
static double reference_rate(world *w, const char *dir, int n)
{
    char state[512];
    snprintf(state, sizeof state, "%s/ref", dir);
    sb_attestd_config cfg = {.state_dir = state, .serve_insecure = 1};
    sb_err e = {0};
    sb_service *s = sb_service_open(&cfg, &e);
    if (!s)
        return 0;
    /* register the host key straight through the admin function */
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, w->host);
    char *pem;
    long pl = BIO_get_mem_data(b, &pem);
    json_t *j = json_pack("{s:s, s:s#}", "id", "ref-host", "public_key", pem, (size_t)pl);
    char *body = json_dumps(j, 0);
    sb_refusal r = {0};
    json_decref(sb_service_admin(s, "POST", "/devices", NULL, body, strlen(body), "bench", &r));
    free(body);
    json_decref(j);
    BIO_free(b);
    double t0 = now_s();
    int ok = 0;
    for (int i = 0; i < n; i++) {
        sb_attest_req req = {.platform = "process"};
        time_t exp;
        uint8_t binding[64];
        if (sb_service_challenge(s, req.nonce, &exp, &r) < 0)
            break;
        memcpy(req.policy_hash, w->policy, 32);
        sb_attest_binding_for_key(req.nonce, 32, w->iso, w->policy, binding, NULL);
        sb_process_evidence_create(w->host, w->runtime, binding, &req.evidence, &req.evidence_len,
                                   NULL);
        req.csr_pem = w->csr;
        char *chain = NULL;
        ok += sb_service_attest(s, &req, "bench", &chain, &r) == 0;
        free(chain);
        free(req.evidence);
    }
    double dt = now_s() - t0;
    sb_service_close(s);
    return ok == n ? n / dt : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_attestd DAEMON [CLIENT_THREADS] [ATTESTATIONS]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 8, total = argc > 3 ? atoi(argv[3]) : 8000;
    if (threads < 1 || threads > 64 || total < threads)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/sb-bench-attestd-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    world w = {.host = EVP_EC_gen("P-256"), .iso = EVP_EC_gen("P-256")};
    w.csr = sb_attest_make_csr(w.iso, "bench", NULL);
    memset(w.runtime, 0x11, 32);
    memset(w.policy, 0x22, 32);

    double ref = reference_rate(&w, dir, 1000);
    char url[64];
    pid_t pid = start_daemon(argv[1], dir, url, sizeof url);
    int rc = 1;
    if (pid > 0 && sb_attestd_client_init(&w.client, url, NULL) == 0 && register_host(&w, dir) == 0) {
        worker k[64];
        pthread_t th[64];
        double *lat = calloc((size_t)total, sizeof *lat);
        int each = total / threads;
        double t0 = now_s(), cpu0 = proc_cpu(pid), self0 = proc_cpu(getpid());
        for (int i = 0; i < threads; i++) {
            k[i] = (worker){&w, each, 0, lat + (size_t)i * (size_t)each};
            pthread_create(&th[i], NULL, work, &k[i]);
        }
        int ok = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            ok += k[i].ok;
        }
        double dt = now_s() - t0;
        double daemon_cpu = proc_cpu(pid) - cpu0, client_cpu = proc_cpu(getpid()) - self0;
        int n = each * threads;
        qsort(lat, (size_t)n, sizeof *lat, cmp_double);
        double rate = ok / dt;
        printf("bench-attestd: %d attestations (challenge + attest, process platform) from %d "
               "client threads (one keep-alive connection each), daemon with 2 worker threads, loopback "
               "HTTP\n", n, threads);
        printf("  succeeded          %d/%d\n", ok, n);
        printf("  throughput         %.0f attestations/s   (target 2000/s: %.2fx)\n", rate,
               rate / 2000.0);
        printf("  latency p50        %.2f ms\n", lat[n / 2] * 1e3);
        printf("  latency p99        %.2f ms\n", lat[(size_t)(n * 0.99)] * 1e3);
        printf("  daemon CPU         %.3f ms per attestation -> %.0f attestations/s on 2 cores "
               "for the daemon alone\n", daemon_cpu / n * 1e3, n > 0 && daemon_cpu > 0 ? 2 * n / daemon_cpu : 0);
        printf("  client CPU         %.3f ms per attestation (evidence, CSR binding, HTTP)\n",
               client_cpu / n * 1e3);
        double both = (daemon_cpu + client_cpu) / n;
        printf("  daemon + client    %.3f ms CPU per attestation -> %.0f attestations/s end to end "
               "on 2 free cores (target 2000/s: %.2fx)\n", both * 1e3, both > 0 ? 2 / both : 0,
               both > 0 ? 2 / both / 2000.0 : 0);
        double load[1] = {0};
        if (getloadavg(load, 1) == 1)
            printf("  machine load       %.1f (1-min average; the 2 cores are shared)\n", load[0]);
        printf("  reference          %.0f attestations/s in-process, 1 thread, no HTTP\n", ref);
        printf("  ratio HTTP/in-process: %.2fx\n", ref > 0 ? rate / ref : 0);
        free(lat);
        rc = ok == n ? 0 : 1;
    } else {
        fprintf(stderr, "bench-attestd: cannot start or set up the daemon\n");
    }
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
