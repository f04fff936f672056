/* bench_session - timings of whole sessions through the real attestd + host + runtime, using
 * libstrongbox in-process (so no CLI start-up cost is counted). Set up by run.sh.
 *
 *   bench_session latency DIR HOST:PORT N      N fresh 3-party sessions: deploy (launch, attest),
 *                                              three handshakes, provision, run, read
 *   bench_session throughput DIR HOST:PORT PID put DIR/big.bin (1 GiB) through the relay, compared
 *                                              with single-core AES-128-GCM (openssl speed)
 *   bench_session idle DIR HOST:PORT N         N computations deployed and left idle: count, RSS
 *                                              and PSS per isolate
 * Every figure is printed with its target and the ratio to it. */
#include "strongbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static const char *dir, *host;

static void die(const char *what, const strongbox_error *e)
{
    fprintf(stderr, "bench_session: %s: %s\n", what, e ? e->message : strerror(errno));
    exit(1);
}

static void opts_for(strongbox_options *o, const char *policy, const char *who, char *key,
                     char *crt, char *pol)
{
    memset(o, 0, sizeof *o);
    sprintf(pol, "%s/%s", dir, policy);
    sprintf(key, "%s/%s.key", dir, who);
    sprintf(crt, "%s/%s.crt", dir, who);
    o->policy_path = pol;
    o->key_path = who ? key : NULL;
    o->cert_path = who ? crt : NULL;
    o->host = host;
}

static strongbox *connect_as(const char *policy, const char *who)
{
    strongbox_options o;
    char key[512], crt[512], pol[512];
    opts_for(&o, policy, who, key, crt, pol);
    strongbox *s;
    strongbox_error e;
    if (strongbox_connect(&o, &s, &e) != 0)
        die("connect", &e);
    return s;
}

/* The host's own timeline of a deploy (ms since clone): exec'd, nonce from the service, the
 * runtime's attest-request, certificate from the service, ready. */
struct timeline {
    double launch, challenge, request, issued, ready;
};

static double field(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : 0;
}

static void host_split(const char *policy, const char *hash, struct timeline *tl)
{
    strongbox_options o;
    char key[512], crt[512], pol[512];
    opts_for(&o, policy, NULL, key, crt, pol);
    char *text;
    strongbox_error e;
    if (strongbox_host_status(&o, hash, &text, &e) != 0)
        die("host status", &e);
    tl->launch = field(text, "\"launch_ms\":");
    tl->challenge = field(text, "\"challenge_ms\":");
    tl->request = field(text, "\"request_ms\":");
    tl->issued = field(text, "\"issued_ms\":");
    tl->ready = field(text, "\"ready_ms\":");
    free(text);
}

static double loadavg(void)
{
    double l = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = 0;
        fclose(f);
    }
    return l;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { P_LAUNCH, P_ATTEST, P_A_CHALLENGE, P_A_RUNTIME, P_A_SERVICE, P_A_INSTALL, P_HANDSHAKE,
       P_PROVISION, P_RUN, P_READ, P_TOTAL, P_COUNT };
static const char *const phase_names[P_COUNT] = {
    "launch", "attest", "  nonce from service", "  runtime start+keygen", "  service issues cert",
    "  cert installed", "handshakes (3)", "provision (3 puts)", "run", "read (2 gets)", "total"};

static void one_session(int i, double *ph)
{
    char policy[64], path[512];
    snprintf(policy, sizeof policy, "lat-%d.json", i);
    strongbox_options o;
    char key[512], crt[512], pol[512], hash[65];
    opts_for(&o, policy, NULL, key, crt, pol);
    strongbox_error e;
    double t0 = now_ms();
    if (strongbox_deploy(&o, hash, &e) != 0)
        die("deploy", &e);
    double t1 = now_ms();
    struct timeline tl;
    host_split(policy, hash, &tl);
    /* Deploy round trip minus the host's launch time is attestation plus the deploy exchange. */
    ph[P_LAUNCH] = tl.launch;
    ph[P_ATTEST] = (t1 - t0) - tl.launch;
    ph[P_A_CHALLENGE] = tl.challenge - tl.launch;
    ph[P_A_RUNTIME] = tl.request - tl.challenge; /* overlaps the nonce request (runtime starts first) */
    ph[P_A_SERVICE] = tl.issued - tl.request;
    ph[P_A_INSTALL] = tl.ready - tl.issued;
    double t2 = now_ms();
    strongbox *carol = connect_as(policy, "carol"), *alice = connect_as(policy, "alice"),
              *bob = connect_as(policy, "bob");
    double t3 = now_ms();
    snprintf(path, sizeof path, "%s/sum.wasm", dir);
    if (strongbox_put_file(carol, path, "/programs/sum.wasm", 0, &e) != 0 ||
        strongbox_put_buffer(alice, "1234\n", 5, "/inputs/alice/number", 0, &e) != 0 ||
        strongbox_put_buffer(bob, "4321\n", 5, "/inputs/bob/number", 0, &e) != 0)
        die("provision", &e);
    double t4 = now_ms();
    strongbox_run_result r;
    if (strongbox_run(carol, "/programs/sum.wasm", NULL, 0, &r, &e) != 0 ||
        r.outcome != STRONGBOX_EXITED || r.exit_code != 0)
        die("run", &e);
    strongbox_run_result_free(&r);
    double t5 = now_ms();
    uint8_t *a, *b;
    size_t alen, blen;
    if (strongbox_get_buffer(alice, "/results/alice/answer", 4096, &a, &alen, &e) != 0 ||
        strongbox_get_buffer(bob, "/results/bob/answer", 4096, &b, &blen, &e) != 0)
        die("read", &e);
    double t6 = now_ms();
    if (!strstr((char *)a, "total=5555") || !strstr((char *)b, "total=5555")) {
        fprintf(stderr, "bench_session: wrong answer\n");
        exit(1);
    }
    free(a);
    free(b);
    strongbox_close(alice);
    strongbox_close(bob);
    strongbox_close(carol);
    ph[P_HANDSHAKE] = t3 - t2;
    ph[P_PROVISION] = t4 - t3;
    ph[P_RUN] = t5 - t4;
    ph[P_READ] = t6 - t5;
    ph[P_TOTAL] = (t1 - t0) + (t6 - t2);
}

static int latency(int n)
{
    double (*ph)[P_COUNT] = calloc((size_t)n, sizeof *ph);
    for (int i = 0; i < n; i++)
        one_session(i, ph[i]);
    printf("== 3-party session latency, median of %d fresh computations (ms)\n", n);
    double total = 0;
    for (int p = 0; p < P_COUNT; p++) {
        double v[256];
        for (int i = 0; i < n && i < 256; i++)
            v[i] = ph[i][p];
        double m = median(v, n < 256 ? n : 256);
        if (p == P_TOTAL)
            total = m;
        printf("  %-20s %8.2f\n", phase_names[p], m);
    }
    printf("  target: total <= 50 ms (the program's own compute is in 'run'; sum.wasm is tiny)\n");
    printf("  ratio total/target = %.2f  (%s)\n", total / 50.0, total <= 50.0 ? "MET" : "NOT MET");
    free(ph);
    return 0;
}

/* Single-core AES-128-GCM at 16 KiB blocks, in bytes/s, measured now. */
static double openssl_aes_gcm(void)
{
    FILE *p = popen("openssl speed -seconds 3 -bytes 16384 -evp aes-128-gcm 2>/dev/null", "r");
    if (!p)
        return 0;
    char line[512];
    double kbs = 0;
    while (fgets(line, sizeof line, p)) {
        /* "AES-128-GCM   1234567.89k" (the last table line, one column for -bytes) */
        char name[64];
        double v;
        if (sscanf(line, "%63s %lfk", name, &v) == 2 && strcasecmp(name, "aes-128-gcm") == 0)
            kbs = v;
    }
    pclose(p);
    return kbs * 1000.0;
}

/* Field `index` (1-based, after the command name: 1 = state) of /proc/PID/stat, 0 if gone. */
static unsigned long stat_field(int pid, int index)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may contain spaces */
    for (int i = 0; p && i < index; i++)
        p = strchr(p + 1, ' ');
    return p ? strtoul(p + 1, NULL, 10) : 0;
}

/* Page faults (minor) of a process so far. */
static unsigned long minflt(int pid)
{
    return stat_field(pid, 8);
}

static double thread_cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Seconds (wall and CPU) to bring 1 GiB of fresh anonymous memory in (first write), measured
 * now: what a runtime that stores the file in memory pays too, whatever it does. On VMs whose
 * freed memory the hypervisor takes back (virtio-balloon free page reporting) it is seconds, not
 * ~0.1 s, partly as CPU time and partly as the vCPU stalled (wall time only). */
static void first_touch(double *wall, double *cpu)
{
    size_t n = (size_t)1 << 30;
    uint8_t *p = malloc(n);
    *wall = *cpu = 0;
    if (!p)
        return;
    double t0 = now_ms(), c0 = thread_cpu_ms();
    for (size_t i = 0; i < n; i += 4096)
        p[i] = 1;
    *wall = (now_ms() - t0) / 1e3;
    *cpu = (thread_cpu_ms() - c0) / 1e3;
    free(p);
}

/* utime + stime of a process, in seconds (0 if it is gone). */
static double cpu_seconds(int pid)
{
    return (double)(stat_field(pid, 12) + stat_field(pid, 13)) / (double)sysconf(_SC_CLK_TCK);
}

static int runtime_pid(const char *policy, const char *hash)
{
    strongbox_options o;
    char key[512], crt[512], pol[512];
    opts_for(&o, policy, NULL, key, crt, pol);
    char *text;
    strongbox_error e;
    if (strongbox_host_status(&o, hash, &text, &e) != 0)
        die("host status", &e);
    char *q = strstr(text, "\"pid\":");
    int pid = q ? atoi(q + 6) : 0;
    free(text);
    return pid;
}

static int throughput(int host_pid)
{
    strongbox_options o;
    char key[512], crt[512], pol[512], hash[65], path[512];
    opts_for(&o, "tput.json", NULL, key, crt, pol);
    strongbox_error e;
    if (strongbox_deploy(&o, hash, &e) != 0)
        die("deploy", &e);
    strongbox *alice = connect_as("tput.json", "alice");
    int rt = runtime_pid("tput.json", hash);
    snprintf(path, sizeof path, "%s/big.bin", dir);
    double c0 = cpu_seconds(getpid()), h0 = cpu_seconds(host_pid), r0 = cpu_seconds(rt);
    unsigned long f0 = minflt(rt);
    double t0 = now_ms();
    if (strongbox_put_file(alice, path, "/inputs/alice/big", 0, &e) != 0)
        die("put 1 GiB", &e);
    double secs = (now_ms() - t0) / 1e3;
    double cc = cpu_seconds(getpid()) - c0, hc = cpu_seconds(host_pid) - h0,
           rc = cpu_seconds(rt) - r0;
    unsigned long faults = minflt(rt) - f0;
    strongbox_close(alice);
    double touch_wall, touch_cpu;
    first_touch(&touch_wall, &touch_cpu);
    double gib = (double)(1u << 30), rate = gib / secs, ref = openssl_aes_gcm();
    /* The three stages run concurrently; the busiest one bounds the pipeline on idle cores. */
    double busiest = cc > hc ? (cc > rc ? cc : rc) : (hc > rc ? hc : rc);
    double capacity = busiest > 0 ? gib / busiest : 0;
    printf("== provisioning 1 GiB through the relay (client TLS -> host -> runtime TLS -> VFS)\n");
    printf("  load average now: %.1f on %ld cores (shared machine)\n", loadavg(),
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("  put, wall clock:         %8.1f MiB/s (%.2f s)\n", rate / 1048576, secs);
    printf("  CPU seconds per GiB:     client %.2f, host %.2f, runtime %.2f\n", cc, hc, rc);
    printf("  runtime page faults:     %lu (%.1f per MiB stored)\n", faults,
           (double)faults / 1024);
    printf("  fresh memory, 1 GiB first touch here now: %.2f s wall, %.2f s CPU (the runtime\n"
           "  holds the file in memory, so it pays this too)\n", touch_wall, touch_cpu);
    printf("  pipeline capacity:       %8.1f MiB/s (1 GiB / busiest stage's CPU time)\n",
           capacity / 1048576);
    printf("  openssl aes-128-gcm 16K: %8.1f MiB/s (single core, measured now)\n", ref / 1048576);
    if (ref > 0) {
        printf("  ratio wall = %.2f, ratio capacity = %.2f; target >= 0.40 (wall: %s)\n",
               rate / ref, capacity / ref, rate / ref >= 0.4 ? "MET" : "NOT MET");
    }
    return 0;
}

static long status_kib(int pid, const char *file, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
    FILE *f = fopen(path, "r");
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            v = atol(line + strlen(field));
    if (f)
        fclose(f);
    return v;
}

static int idle(int n)
{
    double t0 = now_ms();
    int deployed = 0;
    char (*hashes)[65] = calloc((size_t)n, 65);
    for (int i = 0; i < n; i++) {
        strongbox_options o;
        char key[512], crt[512], pol[512], hash[65], name[64];
        snprintf(name, sizeof name, "idle-%d.json", i);
        opts_for(&o, name, NULL, key, crt, pol);
        strongbox_error e;
        if (strongbox_deploy(&o, hash, &e) != 0) {
            fprintf(stderr, "bench_session: deploy %d: %s\n", i, e.message);
            break;
        }
        memcpy(hashes[deployed++], hash, 65);
    }
    double secs = (now_ms() - t0) / 1e3;
    strongbox_options o;
    char key[512], crt[512], pol[512];
    opts_for(&o, "idle-0.json", NULL, key, crt, pol);
    long ready = 0, rss = 0, pss = 0, max_rss = 0, anon = 0;
    for (int i = 0; i < deployed; i++) {
        /* Only this phase's computations (earlier phases left bigger ones running), one STATUS
         * each: the host's public port answers only for a given hash. */
        char *text;
        strongbox_error e;
        if (strongbox_host_status(&o, hashes[i], &text, &e) != 0)
            die("host status", &e);
        char *p = strstr(text, hashes[i]);
        if (!p || strncmp(p + 64, "\",\"state\":\"ready\"", 17) != 0) {
            free(text);
            continue;
        }
        char *q = strstr(p, "\"pid\":");
        int pid = q ? atoi(q + 6) : 0;
        free(text);
        long r = status_kib(pid, "status", "VmRSS:"), s = status_kib(pid, "smaps_rollup", "Pss:");
        if (r < 0 || s < 0)
            continue;
        ready++;
        anon += status_kib(pid, "smaps_rollup", "Anonymous:");
        rss += r;
        pss += s;
        if (r > max_rss)
            max_rss = r;
    }
    free(hashes);
    printf("== idle computations on one host\n");
    printf("  deployed and attested: %d of %d in %.1f s (%.1f ms each)\n", deployed, n, secs,
           deployed ? secs * 1e3 / deployed : 0);
    printf("  ready isolates measured: %ld; target >= 500 (%s)\n", ready, ready >= 500 ? "MET" : "NOT MET");
    if (ready) {
        double mean_rss = (double)rss / (double)ready / 1024, mean_pss = (double)pss / (double)ready / 1024;
        printf("  RSS per isolate: mean %.2f MiB, max %.2f MiB (shared libraries counted in full)\n",
               mean_rss, (double)max_rss / 1024);
        printf("  PSS per isolate: mean %.2f MiB (shared pages divided among sharers)\n", mean_pss);
        printf("  RSS split: anonymous (heap, stack, relocated data) %.2f MiB, pages of the runtime"
               " image %.2f MiB\n", (double)anon / (double)ready / 1024,
               (double)(rss - anon) / (double)ready / 1024);
        printf("  ratio RSS/3 MiB = %.2f (%s), PSS/3 MiB = %.2f (%s)\n", mean_rss / 3,
               mean_rss <= 3 ? "MET" : "NOT MET", mean_pss / 3, mean_pss <= 3 ? "MET" : "NOT MET");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_session latency|throughput|idle DIR HOST:PORT [N]\n");
        return 2;
    }
    dir = argv[2];
    host = argv[3];
    int n = argc > 4 ? atoi(argv[4]) : 10;
    if (strcmp(argv[1], "latency") == 0)
        return latency(n < 1 ? 1 : n);
    if (strcmp(argv[1], "throughput") == 0)
        return throughput(n);
    if (strcmp(argv[1], "idle") == 0)
        return idle(n);
    return 2;
}
