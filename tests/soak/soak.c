/* soak - the driver of the fault and soak harness (docs/soak.md; started by soak.sh, which brings
 * up strongbox-attestd with its state on a small tmpfs, strongbox-host, keys and one deployed
 * policy per computation).
 *
 * N parties x M computations: one thread per (party, computation) doing operations through
 * libstrongbox (include/strongbox.h) for T seconds, one fault thread (runtime kills, attestd
 * restarts, a full disk under attestd's state), then a final check that every acknowledged put
 * can still be read back with the same SHA-256. Everything random comes from --seed.
 *
 * Why C against libstrongbox rather than the CLI: an operation's duration is measured exactly
 * (stalls are the point), a slow or stalled reader is made by sleeping in the progress callback
 * (the library reads no further while it sleeps), and hashes stay in memory. Disconnects use the
 * CLI: a `strongbox put` killed with SIGKILL in mid-transfer is a real abrupt disconnect. */
#include "strongbox.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SLOTS 6               /* files per worker; the last one is the disconnect target */
#define MAYBE 8               /* contents a slot may hold after failed or interrupted puts */
#define STALL_SECONDS 5.0
#define BIG_SIZE (cfg.big_mib << 20) /* what slow and stalled readers read (default 24 MiB) */
#define SMALL_MAX (256u << 10)
#define DC_SIZE (2u << 20)
#define MAX_ERRS 48
#define OP_TIMEOUT_MS 8000    /* per network step: bounds every operation */
#define STALLED_READ_S 8.0    /* a stalled reader reads nothing this long */
#define FINAL_CHECK_S 15.0    /* the final check gives up (and fails) after this */
#define STOP_GRACE_S 10.0     /* operations still running this long after the end are stuck */

/* ---------------- configuration and shared state ---------------- */

typedef struct config {
    const char *dir, *cli, *attestd, *program;
    unsigned attestd_port, host_port;
    pid_t attestd_pid;
    int parties, comps, seconds;
    int slow_party;            /* 1: the last party of each computation reads slowly/not at all */
    unsigned big_mib;          /* the size of what it reads */
    unsigned long long seed;
} config;

typedef struct comp {
    int index;
    char policy[512], hash[65];
    atomic_int incarnation; /* bumped before the harness kills the isolate */
    atomic_int down;        /* killed and not yet deployed again */
    long pid;               /* the isolate deployed last (fault thread only) */
} comp;

typedef struct slot {
    int acked;                 /* the content below was acknowledged */
    uint8_t hash[32];
    uint8_t maybe[MAYBE][32];  /* contents of puts that failed or were cut: may have landed */
    int n_maybe;
    int overflow;              /* more cut puts than remembered: unknowable until read back */
    uint8_t retired[MAYBE][32]; /* the last cut puts taken as gone: to name such a loss */
    int n_retired;
} slot;

typedef struct worker {
    int party, ci, slow, specials;
    atomic_int done;           /* its thread has finished */
    comp *c;
    unsigned long long rng;
    int incarnation;
    slot slots[SLOTS];
    slot big;
    uint8_t *big_data;
    pthread_t th;
} worker;

typedef struct stats {
    pthread_mutex_t lock;
    long ops, acked, verified, lost, voided, failed, unclear, stalls, self_stalls, disconnects;
    long by_kind[6];
    long kills, attestd_restarts, full_disks, deploys_refused_full, deploy_failures;
    long unexpected_deaths, unchecked;
    struct { double t; char what[40]; } faults[256]; /* when each fault began (for stall lines) */
    int n_faults;
    struct { char msg[160]; long n; } errs[MAX_ERRS];
    int n_errs;
} stats;

static config cfg;
static comp *comps;
static stats st = {.lock = PTHREAD_MUTEX_INITIALIZER};
static atomic_int stopping;
static double t_start;
static const char *const kind_names[] = {"put", "get", "run", "slow-get", "stalled-get",
                                         "disconnect"};
enum { OP_PUT, OP_GET, OP_RUN, OP_SLOW_GET, OP_STALLED_GET, OP_DISCONNECT };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* xorshift64*: reproducible per worker from the seed. */
static unsigned long long next_rand(unsigned long long *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static unsigned pick(unsigned long long *s, unsigned n)
{
    return (unsigned)(next_rand(s) % n);
}

static void sha256(const void *d, size_t n, uint8_t out[32])
{
    EVP_Digest(d, n, out, NULL, EVP_sha256(), NULL);
}

/* ---------------- figures ---------------- */

static int hex_run(const char *p)
{
    int n = 0;
    while ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f'))
        n++;
    return n;
}

/* Counts a failure's message, hashes and numbers folded so that one cause is one line. */
static void record_error(const char *what, const strongbox_error *e)
{
    char norm[sizeof st.errs[0].msg];
    size_t k = (size_t)snprintf(norm, sizeof norm, "%s: ", what);
    for (const char *p = e->message; *p && k + 2 < sizeof norm;) {
        int h = hex_run(p), d = 0;
        while (p[d] >= '0' && p[d] <= '9')
            d++;
        if (h >= 16 || d > 0) { /* a hash, or a number */
            norm[k++] = h >= 16 ? 'H' : 'N';
            p += h >= 16 ? h : d;
        } else {
            norm[k++] = *p++;
        }
    }
    norm[k] = 0;
    pthread_mutex_lock(&st.lock);
    st.failed++;
    if (e->code == STRONGBOX_OK || e->message[0] == 0)
        st.unclear++;
    int i = 0;
    while (i < st.n_errs && strcmp(st.errs[i].msg, norm) != 0)
        i++;
    if (i == st.n_errs && st.n_errs < MAX_ERRS)
        snprintf(st.errs[st.n_errs++].msg, sizeof st.errs[0].msg, "%s", norm);
    if (i < st.n_errs)
        st.errs[i].n++;
    pthread_mutex_unlock(&st.lock);
}

static void count(long *field, long n)
{
    pthread_mutex_lock(&st.lock);
    *field += n;
    pthread_mutex_unlock(&st.lock);
}

static void log_fault(const char *what, int ci)
{
    pthread_mutex_lock(&st.lock);
    if (st.n_faults < (int)(sizeof st.faults / sizeof st.faults[0])) {
        st.faults[st.n_faults].t = now_s() - t_start;
        if (ci >= 0)
            snprintf(st.faults[st.n_faults++].what, sizeof st.faults[0].what, "%s c%d", what, ci);
        else
            snprintf(st.faults[st.n_faults++].what, sizeof st.faults[0].what, "%s", what);
    }
    pthread_mutex_unlock(&st.lock);
}

/* The faults that began within [from - 1 s, to], for a stall's line. */
static void faults_between(double from, double to, char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "none");
    pthread_mutex_lock(&st.lock);
    for (int i = 0, first = 1; i < st.n_faults && k < cap; i++)
        if (st.faults[i].t >= from - 1 && st.faults[i].t <= to) {
            k = first ? 0 : k;
            k += (size_t)snprintf(out + k, cap - k, "%s%s at %.1f s", first ? "" : ", ",
                                  st.faults[i].what, st.faults[i].t);
            first = 0;
        }
    pthread_mutex_unlock(&st.lock);
}

static void report_loss(const worker *w, const char *path, const char *why)
{
    count(&st.lost, 1);
    fprintf(stdout, "LOST: party p%d, computation c%d, %s: %s\n", w->party, w->ci, path, why);
}

/* ---------------- one operation ---------------- */

typedef struct pace {
    double per_chunk, once; /* seconds to sleep after each chunk, and once after the first */
    int chunks;
} pace;

static void slow_progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)done, (void)total;
    pace *p = ctx;
    if (p->chunks++ == 0 && p->once > 0)
        sleep_s(p->once);
    if (p->per_chunk > 0)
        sleep_s(p->per_chunk);
}

static int connect_as(const worker *w, pace *p, strongbox **s, strongbox_error *e)
{
    char key[600], cert[600];
    snprintf(key, sizeof key, "%s/p%d.key", cfg.dir, w->party);
    snprintf(cert, sizeof cert, "%s/p%d.crt", cfg.dir, w->party);
    strongbox_options o = {.policy_path = w->c->policy, .key_path = key, .cert_path = cert,
                           .timeout_ms = OP_TIMEOUT_MS, .progress = p ? slow_progress : NULL,
                           .progress_ctx = p};
    return strongbox_connect(&o, s, e);
}

static void slot_path(const worker *w, int i, char *out, size_t cap)
{
    if (i < 0)
        snprintf(out, cap, "/inputs/p%d/big", w->party);
    else
        snprintf(out, cap, "/inputs/p%d/s%d", w->party, i);
}

static void slot_maybe(slot *sl, const uint8_t h[32])
{
    if (sl->n_maybe < MAYBE)
        memcpy(sl->maybe[sl->n_maybe++], h, 32);
    else
        sl->overflow = 1;
}

static void reset_if_killed(worker *w);

/* A put was acknowledged (or not) for content `h`: what the slot may now hold. */
static void slot_after_put(worker *w, slot *sl, const uint8_t h[32], int ok, int run)
{
    if (run != atomic_load(&w->c->incarnation)) {
        /* The harness killed the isolate meanwhile: what the slot held is void, but this put may
         * have reached the isolate deployed since (a connection made while it was launching
         * waits for it), so its content stays possible there. */
        reset_if_killed(w);
        slot_maybe(sl, h);
        return;
    }
    if (ok) {
        /* The cut puts stay possible until this content has been read back (slot_check): one
         * may land between this put's answer and the read; after the read, one that lands is a
         * loss (docs/protocol.md "Uploads": a cut put lands before the party's next session or
         * never). */
        sl->acked = 1;
        memcpy(sl->hash, h, 32);
        count(&st.acked, 1);
    } else {
        slot_maybe(sl, h);
    }
}

/* Checks content read back against what the slot may hold; 1 verified, 0 lost. */
static int slot_check(worker *w, slot *sl, const char *path, const uint8_t *d, size_t n, int found)
{
    uint8_t h[32];
    sha256(d, n, h);
    if (sl->overflow) { /* cannot tell what it should hold: forget it */
        memset(sl, 0, sizeof *sl);
        return 1;
    }
    if (found && sl->acked && memcmp(h, sl->hash, 32) == 0) {
        count(&st.verified, 1);
        for (int i = 0; i < sl->n_maybe; i++) /* a cut put that has not landed by now is gone */
            memcpy(sl->retired[sl->n_retired++ % MAYBE], sl->maybe[i], 32);
        sl->n_maybe = 0;
        sl->overflow = 0;
        return 1;
    }
    for (int i = 0; found && i < sl->n_maybe; i++)
        if (memcmp(h, sl->maybe[i], 32) == 0) { /* a cut put did land: it is the content now */
            memcpy(sl->hash, h, 32);
            sl->acked = 1;
            sl->n_maybe = 0;
            return 1;
        }
    if (!found && !sl->acked)
        return 1; /* only cut puts: none landed */
    int late = 0;
    for (int i = 0; found && i < MAYBE && i < sl->n_retired; i++)
        late |= memcmp(h, sl->retired[i], 32) == 0;
    report_loss(w, path, late    ? "a cut put landed after a later put was acknowledged and read back"
                         : found ? "content differs from every put of it"
                                 : "not found");
    return 0;
}

static int put_op(worker *w, int i, const uint8_t *data, size_t n, strongbox_error *e)
{
    char path[64];
    slot_path(w, i, path, sizeof path);
    slot *sl = i < 0 ? &w->big : &w->slots[i];
    uint8_t h[32];
    sha256(data, n, h);
    int run = atomic_load(&w->c->incarnation);
    strongbox *s = NULL;
    int rc = connect_as(w, NULL, &s, e);
    if (rc == 0)
        rc = strongbox_put_buffer(s, data, n, path, 0, e);
    strongbox_close(s);
    slot_after_put(w, sl, h, rc == 0, run);
    return rc;
}

static int get_op(worker *w, int i, pace *p, strongbox_error *e)
{
    char path[64];
    slot_path(w, i, path, sizeof path);
    slot *sl = i < 0 ? &w->big : &w->slots[i];
    int run = atomic_load(&w->c->incarnation);
    strongbox *s = NULL;
    uint8_t *d = NULL;
    size_t n = 0;
    int rc = connect_as(w, p, &s, e);
    if (rc == 0)
        rc = strongbox_get_buffer(s, path, BIG_SIZE + 1, &d, &n, e);
    strongbox_close(s);
    /* status 3: no such file (docs/protocol.md) */
    int not_found = rc < 0 && e->code == STRONGBOX_E_REFUSED && e->remote_status == 3;
    if (run == atomic_load(&w->c->incarnation) && (rc == 0 || not_found))
        slot_check(w, sl, path, d, n, rc == 0);
    free(d);
    return rc == 0 || not_found ? 0 : -1;
}

static int run_op(worker *w, strongbox_error *e)
{
    uint8_t *prog = NULL;
    FILE *f = fopen(cfg.program, "rb");
    size_t n = 0;
    if (f) {
        prog = malloc(1 << 20);
        n = prog ? fread(prog, 1, 1 << 20, f) : 0;
        fclose(f);
    }
    strongbox *s = NULL;
    strongbox_run_result res = {0};
    int rc = connect_as(w, NULL, &s, e);
    if (rc == 0)
        rc = strongbox_put_buffer(s, prog, n, "/programs/echo.wasm", 0, e);
    if (rc == 0)
        rc = strongbox_run(s, "/programs/echo.wasm", NULL, 0, &res, e);
    if (rc == 0 && (res.outcome != STRONGBOX_EXITED || res.exit_code != 0 || !res.out ||
                    strcmp((char *)res.out, "echo\n") != 0)) {
        count(&st.lost, 1);
        printf("WRONG RESULT: party p%d, computation c%d: outcome %d exit %u out '%.40s'\n",
               w->party, w->ci, res.outcome, res.exit_code, res.out ? (char *)res.out : "");
    }
    strongbox_run_result_free(&res);
    strongbox_close(s);
    free(prog);
    return rc;
}

/* `strongbox put` of a 2 MiB file, killed with SIGKILL after 0..250 ms: an abrupt disconnect. */
static void disconnect_op(worker *w)
{
    char local[600], key[600], cert[600], remote[64];
    snprintf(local, sizeof local, "%s/dc-p%d-c%d.bin", cfg.dir, w->party, w->ci);
    snprintf(key, sizeof key, "%s/p%d.key", cfg.dir, w->party);
    snprintf(cert, sizeof cert, "%s/p%d.crt", cfg.dir, w->party);
    slot_path(w, SLOTS - 1, remote, sizeof remote);
    uint8_t *data = malloc(DC_SIZE), h[32];
    if (!data)
        return;
    for (size_t i = 0; i < DC_SIZE; i += 8) {
        unsigned long long r = next_rand(&w->rng);
        memcpy(data + i, &r, 8);
    }
    sha256(data, DC_SIZE, h);
    int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, data, DC_SIZE) == (ssize_t)DC_SIZE;
    if (fd >= 0)
        close(fd);
    free(data);
    if (!ok)
        return;
    int run = atomic_load(&w->c->incarnation);
    char *argv[] = {(char *)cfg.cli, "put", w->c->policy, "--key", key, "--cert", cert, "-q",
                    local, remote, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    if (posix_spawn(&pid, cfg.cli, &fa, NULL, argv, environ) == 0) {
        sleep_s(pick(&w->rng, 250) / 1000.0);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        count(&st.disconnects, 1);
        if (run != atomic_load(&w->c->incarnation))
            reset_if_killed(w); /* as in slot_after_put: it may be in the next isolate */
        slot_maybe(&w->slots[SLOTS - 1], h);
    }
    posix_spawn_file_actions_destroy(&fa);
    unlink(local);
}

/* After the harness killed this computation's isolate, what it held is gone by design. */
static void reset_if_killed(worker *w)
{
    int run = atomic_load(&w->c->incarnation);
    if (run == w->incarnation)
        return;
    long voided = w->big.acked;
    for (int i = 0; i < SLOTS; i++)
        voided += w->slots[i].acked;
    count(&st.voided, voided);
    memset(w->slots, 0, sizeof w->slots);
    memset(&w->big, 0, sizeof w->big);
    w->incarnation = run;
}

static int choose_op(worker *w)
{
    unsigned r = pick(&w->rng, 100);
    if (w->slow && r < 40) /* every third read of the big file is a stalled one, the first too */
        return !w->big.acked ? OP_PUT : w->specials++ % 3 == 0 ? OP_STALLED_GET : OP_SLOW_GET;
    if (w->slots[SLOTS - 1].n_maybe >= MAYBE - 1) /* settle the disconnect slot: a put, then */
        return w->slots[SLOTS - 1].acked ? OP_GET : OP_PUT; /* reading it back */
    return r < 45 ? OP_PUT : r < 75 ? OP_GET : r < 88 ? OP_RUN : OP_DISCONNECT;
}

static void one_op(worker *w, uint8_t *buf)
{
    reset_if_killed(w);
    int kind = choose_op(w), rc = 0;
    strongbox_error e = {0};
    pace p = {0};
    double t0 = now_s();
    if (kind == OP_PUT && w->slow && !w->big.acked) {
        rc = put_op(w, -1, w->big_data, BIG_SIZE, &e);
    } else if (kind == OP_PUT) {
        int i = w->slots[SLOTS - 1].n_maybe >= MAYBE - 1 ? SLOTS - 1 : (int)pick(&w->rng, SLOTS);
        size_t n = 1 + pick(&w->rng, SMALL_MAX);
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)next_rand(&w->rng);
        rc = put_op(w, i, buf, n, &e);
    } else if (kind == OP_GET) {
        int i = w->slots[SLOTS - 1].n_maybe >= MAYBE - 1 ? SLOTS - 1 : (int)pick(&w->rng, SLOTS);
        rc = get_op(w, i, NULL, &e);
    } else if (kind == OP_RUN) {
        rc = run_op(w, &e);
    } else if (kind == OP_DISCONNECT) {
        disconnect_op(w);
    } else {
        p.per_chunk = kind == OP_SLOW_GET ? 0.004 : 0;
        p.once = kind == OP_STALLED_GET ? STALLED_READ_S : 0;
        rc = get_op(w, -1, &p, &e);
    }
    double dt = now_s() - t0;
    count(&st.ops, 1);
    count(&st.by_kind[kind], 1);
    if (rc < 0)
        record_error(kind_names[kind], &e);
    int self_stalling = kind == OP_SLOW_GET || kind == OP_STALLED_GET || kind == OP_DISCONNECT;
    if (dt > STALL_SECONDS) {
        count(self_stalling ? &st.self_stalls : &st.stalls, 1);
        char during[400];
        faults_between(t0 - t_start, t0 - t_start + dt, during, sizeof during);
        if (!self_stalling)
            printf("STALL: party p%d (not stalling itself), computation c%d, %s took %.1f s from "
                   "t=%.1f s (faults then: %s)%s%s\n",
                   w->party, w->ci, kind_names[kind], dt, t0 - t_start, during,
                   rc < 0 ? ": " : "", rc < 0 ? e.message : "");
    }
    if (rc < 0)
        sleep_s(0.2); /* a failing computation is retried, not hammered */
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    uint8_t *buf = malloc(SMALL_MAX);
    w->incarnation = atomic_load(&w->c->incarnation);
    while (buf && !atomic_load(&stopping))
        one_op(w, buf);
    free(buf);
    atomic_store(&w->done, 1);
    return NULL;
}

/* ---------------- faults ---------------- */

static long isolate_pid(const comp *c)
{
    char hp[32], *text = NULL;
    snprintf(hp, sizeof hp, "127.0.0.1:%u", cfg.host_port);
    strongbox_options o = {.host = hp, .timeout_ms = 5000};
    strongbox_error e;
    long pid = -1;
    if (strongbox_host_status(&o, c->hash, &text, &e) == 0) {
        json_t *j = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
        const char *state = json_string_value(json_object_get(j, "state"));
        if (state && strcmp(state, "ready") == 0)
            pid = (long)json_integer_value(json_object_get(j, "pid"));
        json_decref(j);
    }
    free(text);
    return pid;
}

/* Deploys until a ready isolate other than `dead` runs (60 s at most). */
static int deploy(comp *c, long dead)
{
    for (int i = 0; i < 120; i++) {
        strongbox_options o = {.policy_path = c->policy, .timeout_ms = 10000,
                               .ready_timeout_ms = 20000};
        strongbox_error e = {0};
        char hash[65];
        if (strongbox_deploy(&o, hash, &e) == 0) {
            long pid = isolate_pid(c);
            if (pid > 0 && pid != dead) {
                c->pid = pid;
                atomic_store(&c->down, 0);
                return 0;
            }
        } else {
            record_error("deploy (harness)", &e);
            count(&st.deploy_failures, 1);
        }
        sleep_s(0.5);
    }
    printf("FAULT: computation c%d could not be deployed again\n", c->index);
    return -1;
}

/* Kills the computation's isolate (a child of the host soak.sh started); returns its pid. */
static void unexpected_death(const comp *c, long pid)
{
    count(&st.unexpected_deaths, 1);
    printf("UNEXPECTED: computation c%d's isolate (pid %ld) is gone or replaced (now: %ld) and "
           "the harness did not kill it\n", c->index, c->pid, pid);
}

static long kill_runtime(comp *c)
{
    long pid = isolate_pid(c);
    if (pid != c->pid && !atomic_load(&c->down))
        unexpected_death(c, pid);
    if (pid <= 0)
        return -1;
    atomic_fetch_add(&c->incarnation, 1);
    atomic_store(&c->down, 1);
    log_fault("runtime kill", c->index);
    kill((pid_t)pid, SIGKILL);
    count(&st.kills, 1);
    return pid;
}

static int process_gone(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static pid_t attestd_child = -1; /* the attestd this driver started (it reaps that one) */

static int attestd_stop(void)
{
    if (kill(cfg.attestd_pid, SIGTERM) < 0)
        return -1;
    for (int i = 0; i < 100; i++) {
        if (cfg.attestd_pid == attestd_child ? waitpid(attestd_child, NULL, WNOHANG) > 0
                                              : process_gone(cfg.attestd_pid))
            return 0;
        sleep_s(0.1);
    }
    printf("FAULT: attestd (pid %d) did not stop within 10 s\n", (int)cfg.attestd_pid);
    return -1;
}

static int attestd_start(void)
{
    char state[600], port[16], port_file[600], log[600];
    snprintf(state, sizeof state, "%s/attestd", cfg.dir);
    snprintf(port, sizeof port, "%u", cfg.attestd_port);
    snprintf(port_file, sizeof port_file, "%s/attestd.port.restart", cfg.dir);
    snprintf(log, sizeof log, "%s/attestd.log", cfg.dir);
    unlink(port_file);
    char *argv[] = {(char *)cfg.attestd, "--state", state, "--port", port, "--port-file",
                    port_file, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_APPEND | O_CREAT, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, cfg.attestd, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    for (int i = 0; i < 100; i++) {
        if (access(port_file, R_OK) == 0) {
            cfg.attestd_pid = attestd_child = pid;
            return 0;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1; /* e.g. could not open its store: the caller retries */
        sleep_s(0.1);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void attestd_restart(void)
{
    log_fault("attestd restart", -1);
    if (attestd_stop() < 0)
        return;
    sleep_s(0.5);
    for (int i = 0; i < 30 && attestd_start() < 0; i++)
        sleep_s(1);
    count(&st.attestd_restarts, 1);
}

static void filler_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/attestd/soak-filler", cfg.dir);
}

static void fill_disk(void)
{
    char path[600];
    filler_path(path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    static char chunk[65536];
    while (fd >= 0 && write(fd, chunk, sizeof chunk) > 0)
        ;
    while (fd >= 0 && write(fd, chunk, 1) == 1)
        ;
    if (fd >= 0)
        close(fd);
}

/* Fills attestd's disk, kills one isolate: deploying it again must be refused clearly while the
 * disk is full, and work once space is back. */
static void full_disk_episode(comp *c)
{
    log_fault("attestd disk full", -1);
    fill_disk();
    long dead = kill_runtime(c);
    sleep_s(0.3);
    strongbox_options o = {.policy_path = c->policy, .timeout_ms = 10000,
                           .ready_timeout_ms = 20000};
    strongbox_error e = {0};
    char hash[65];
    if (strongbox_deploy(&o, hash, &e) < 0) {
        count(&st.deploys_refused_full, 1);
        record_error("deploy while attestd's disk is full (harness)", &e);
    } else {
        printf("NOTE: a deploy succeeded while attestd's disk was full\n");
    }
    sleep_s(2);
    char path[600];
    filler_path(path, sizeof path);
    unlink(path);
    count(&st.full_disks, 1);
    deploy(c, dead);
}

static void *fault_main(void *arg)
{
    unsigned long long rng = cfg.seed ^ 0x5eed5eedull;
    (void)arg;
    int order[3] = {0, 1, 2}; /* the first three faults: one of each kind, seeded order */
    for (int i = 2; i > 0; i--) {
        int j = (int)pick(&rng, (unsigned)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int n = 0; !atomic_load(&stopping); n++) {
        double wait = 1.5 + pick(&rng, 2500) / 1000.0;
        for (double t = 0; t < wait && !atomic_load(&stopping); t += 0.1)
            sleep_s(0.1);
        if (atomic_load(&stopping))
            break;
        comp *c = &comps[pick(&rng, (unsigned)cfg.comps)];
        int kind = n < 3 ? order[n] : (int)pick(&rng, 3);
        if (kind == 0) {
            deploy(c, kill_runtime(c));
        } else if (kind == 1) {
            attestd_restart();
        } else {
            full_disk_episode(c);
        }
    }
    return NULL;
}

/* ---------------- the final check ---------------- */

static void final_check(worker *w, double deadline)
{
    reset_if_killed(w);
    strongbox_error e;
    for (int i = -1; i < SLOTS; i++) {
        slot *sl = i < 0 ? &w->big : &w->slots[i];
        if (!sl->acked && sl->n_maybe == 0)
            continue;
        if (sl->overflow)
            continue;
        if (now_s() > deadline) {
            count(&st.unchecked, 1);
            continue;
        }
        e = (strongbox_error){0};
        if (get_op(w, i, NULL, &e) < 0) {
            char path[64];
            slot_path(w, i, path, sizeof path);
            if (sl->acked)
                report_loss(w, path, e.message);
        }
    }
}

/* Joins the workers that finish within STOP_GRACE_S; the others are stuck in an operation: each
 * is a stall (unless it is the slow party), and its slots count as unchecked. */
static int wait_for_workers(worker *ws, int n)
{
    double until = now_s() + STOP_GRACE_S;
    int pending = n;
    while (pending > 0 && now_s() < until) {
        pending = 0;
        for (int i = 0; i < n; i++)
            pending += !atomic_load(&ws[i].done);
        if (pending)
            sleep_s(0.1);
    }
    int stuck = 0;
    for (int i = 0; i < n; i++) {
        if (atomic_load(&ws[i].done)) {
            pthread_join(ws[i].th, NULL);
            continue;
        }
        stuck++;
        pthread_detach(ws[i].th);
        count(ws[i].slow ? &st.self_stalls : &st.stalls, 1);
        count(&st.unchecked, SLOTS + 1);
        printf("STALL: party p%d, computation c%d: still in its operation %.0f s after the end\n",
               ws[i].party, ws[i].ci, STOP_GRACE_S);
    }
    return stuck;
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--dir")) cfg.dir = v;
        else if (!strcmp(a, "--cli")) cfg.cli = v;
        else if (!strcmp(a, "--attestd")) cfg.attestd = v;
        else if (!strcmp(a, "--program")) cfg.program = v;
        else if (!strcmp(a, "--attestd-port")) cfg.attestd_port = (unsigned)atoi(v);
        else if (!strcmp(a, "--attestd-pid")) cfg.attestd_pid = atoi(v);
        else if (!strcmp(a, "--host-port")) cfg.host_port = (unsigned)atoi(v);
        else if (!strcmp(a, "--parties")) cfg.parties = atoi(v);
        else if (!strcmp(a, "--computations")) cfg.comps = atoi(v);
        else if (!strcmp(a, "--seconds")) cfg.seconds = atoi(v);
        else if (!strcmp(a, "--seed")) cfg.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--slow-party")) cfg.slow_party = atoi(v);
        else if (!strcmp(a, "--big-mib")) cfg.big_mib = (unsigned)atoi(v);
        else return -1;
    }
    return cfg.dir && cfg.cli && cfg.attestd && cfg.program && cfg.attestd_port &&
                   cfg.attestd_pid > 0 && cfg.host_port && cfg.parties >= 2 &&
                   cfg.parties <= 64 && cfg.comps >= 1 && cfg.comps <= 16 && cfg.seconds > 0 &&
                   cfg.big_mib >= 1 && cfg.big_mib <= 64
               ? 0
               : -1;
}

static void print_figures(void)
{
    printf("\nsoak figures (seed %llu, %d parties x %d computations, %d s%s):\n", cfg.seed,
           cfg.parties, cfg.comps, cfg.seconds, cfg.slow_party ? "" : ", no slow party");
    printf("  operations   %ld (", st.ops);
    for (int k = 0; k < 6; k++)
        printf("%s%s %ld", k ? ", " : "", kind_names[k], st.by_kind[k]);
    printf(")\n  acknowledged %ld (puts)\n  verified     %ld (reads matching an acknowledged put)\n",
           st.acked, st.verified);
    printf("  voided       %ld (acknowledged, then the harness killed the isolate holding them)\n",
           st.voided);
    printf("  lost         %ld\n", st.lost);
    if (st.unchecked)
        printf("  UNCHECKED    %ld (the final check ran out of time)\n", st.unchecked);
    printf("  failed       %ld with an error message, %ld without one\n", st.failed - st.unclear,
           st.unclear);
    printf("  stalls > %.0f s of parties not stalling themselves: %ld (slow/stalled readers and "
           "disconnects over %.0f s: %ld)\n",
           STALL_SECONDS, st.stalls, STALL_SECONDS, st.self_stalls);
    printf("  faults: %ld runtime kills, %ld attestd restarts, %ld full-disk episodes (%ld deploys "
           "refused while full), %ld disconnects; %ld unexpected isolate deaths\n",
           st.kills, st.attestd_restarts, st.full_disks, st.deploys_refused_full,
           st.disconnects, st.unexpected_deaths);
    if (st.n_errs)
        printf("  errors seen:\n");
    for (int i = 0; i < st.n_errs; i++)
        printf("    %5ld x %s\n", st.errs[i].n, st.errs[i].msg);
}

int main(int argc, char **argv)
{
    cfg.slow_party = 1;
    cfg.big_mib = 24;
    if (parse_args(argc, argv) < 0) {
        fprintf(stderr, "usage: soak --dir D --cli STRONGBOX --attestd BIN --program WASM "
                        "--attestd-port P --attestd-pid PID --host-port P --parties N(2..64) "
                        "--computations M(1..16) --seconds T --seed S [--slow-party 0|1] "
                        "[--big-mib 1..64]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* STALL and LOST lines as they happen */
    comps = calloc((size_t)cfg.comps, sizeof *comps);
    int n_workers = cfg.parties * cfg.comps;
    worker *ws = calloc((size_t)n_workers, sizeof *ws);
    if (!comps || !ws)
        return 1;
    for (int c = 0; c < cfg.comps; c++) {
        comps[c].index = c;
        snprintf(comps[c].policy, sizeof comps[c].policy, "%s/c%d.json", cfg.dir, c);
        strongbox_options o = {.policy_path = comps[c].policy, .ready_timeout_ms = 30000};
        strongbox_error e = {0};
        if (strongbox_deploy(&o, comps[c].hash, &e) < 0 || (comps[c].pid = isolate_pid(&comps[c])) <= 0) {
            fprintf(stderr, "soak: deploying c%d: %s\n", c, e.message);
            return 1;
        }
    }
    t_start = now_s();
    for (int i = 0; i < n_workers; i++) {
        worker *w = &ws[i];
        w->party = i % cfg.parties;
        w->ci = i / cfg.parties;
        w->c = &comps[w->ci];
        w->slow = cfg.slow_party && w->party == cfg.parties - 1; /* reads slowly or not at all */
        w->rng = ((cfg.seed + 1) * 0x9e3779b97f4a7c15ull ^ (unsigned long long)(i + 1) << 20) | 1;
        if (w->slow) {
            w->big_data = malloc(BIG_SIZE);
            for (size_t k = 0; w->big_data && k < BIG_SIZE; k += 8) {
                unsigned long long r = next_rand(&w->rng);
                memcpy(w->big_data + k, &r, 8);
            }
        }
        pthread_create(&w->th, NULL, worker_main, w);
    }
    pthread_t fault;
    pthread_create(&fault, NULL, fault_main, NULL);
    while (now_s() - t_start < cfg.seconds)
        sleep_s(0.2);
    atomic_store(&stopping, 1);
    pthread_join(fault, NULL);
    int stuck = wait_for_workers(ws, n_workers);
    /* every computation is up again (a fault may have been cut short), then read everything */
    for (int c = 0; c < cfg.comps; c++) {
        long pid = isolate_pid(&comps[c]);
        if (!atomic_load(&comps[c].down) && pid != comps[c].pid)
            unexpected_death(&comps[c], pid);
        if (atomic_load(&comps[c].down) || pid <= 0)
            deploy(&comps[c], -1);
    }
    double deadline = now_s() + FINAL_CHECK_S;
    for (int i = 0; i < n_workers; i++)
        if (atomic_load(&ws[i].done))
            final_check(&ws[i], deadline);
    if (attestd_child > 0) { /* the one started here; soak.sh stops the original */
        kill(attestd_child, SIGTERM);
        waitpid(attestd_child, NULL, 0);
    }
    print_figures();
    for (int i = 0; stuck == 0 && i < n_workers; i++)
        free(ws[i].big_data);
    if (stuck == 0) { /* a stuck thread may still use them until the process exits */
        free(ws);
        free(comps);
    }
    int vacuous = st.verified == 0 || st.kills == 0 || st.attestd_restarts == 0 ||
                  st.full_disks == 0 || st.disconnects == 0 ||
                  (cfg.slow_party && (st.by_kind[OP_SLOW_GET] == 0 ||
                                      st.by_kind[OP_STALLED_GET] == 0));
    if (vacuous)
        printf("FAIL: the run exercised too little (nothing verified, or a fault or reader kind "
               "never happened): run longer\n");
    int ok = !vacuous && st.lost == 0 && st.stalls == 0 && st.unclear == 0 &&
             st.unexpected_deaths == 0 && st.unchecked == 0;
    printf("soak: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
