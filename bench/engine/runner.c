/* runner.c - bench-engine: times each benchmark kernel natively (gcc -O2), in Strongbox's Wasm
 * engine and in node's V8 (reference JIT), checks that all three agree on the checksum, and prints
 * the ratios against native with their geometric means. Then times load + validate + instantiate
 * of a ~1 MiB module against V8's compile + instantiate of the same bytes.
 *
 * Usage: bench-engine-runner --wasm-dir DIR --big BIG.wasm [--node NODE --js v8_bench.js]
 *                            [--runs N] [--scale PERCENT]
 * Load/instantiate time is excluded from the kernel times; each time is the best of N runs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/v8_run.h"
#include "common/common.h"
#include "wasm/wasm.h"

/* Each kernel's work factor is sized to run roughly 0.3 s natively on the reference machine. */
#define KERNELS(X)          \
    X(sha256, 1300)          \
    X(matmul, 4000)         \
    X(sort, 60)             \
    X(vm, 13000)            \
    X(nbody, 7000000)       \
    X(strsearch, 25)        \
    X(crc32, 2600)          \
    X(lz77, 700)            \
    X(fib, 41)

#define DECLARE(name, n) uint64_t bench_native_##name(uint32_t);
KERNELS(DECLARE)
#undef DECLARE

typedef struct kernel {
    const char *name;
    uint64_t (*native)(uint32_t);
    uint32_t n;
    double native_ms, engine_ms, v8_ms; /* best of runs; v8_ms < 0 when not measured */
    uint64_t native_sum, engine_sum, v8_sum;
    const char *problem;                 /* NULL, or why the engine column is missing */
} kernel;

#define ENTRY(name, n) {#name, bench_native_##name, n, 0, 0, -1, 0, 0, 0, NULL},
static kernel kernels[] = {KERNELS(ENTRY)};
#undef ENTRY
#define NKERNELS (sizeof kernels / sizeof kernels[0])

typedef struct options {
    const char *wasm_dir, *big, *node, *js;
    int runs;
    double scale;
} options;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Loads and instantiates `path`; on failure fills why[]. */
static int engine_setup(const char *path, wasm_module **m, wasm_store **s, wasm_instance **inst,
                        char *why, size_t why_len)
{
    uint8_t *bytes;
    size_t len;
    sb_err e;
    if (sb_read_file(path, 64u << 20, &bytes, &len, &e) != 0) {
        snprintf(why, why_len, "%s", e.msg);
        return -1;
    }
    wasm_error err;
    *m = wasm_module_load(bytes, len, &err);
    free(bytes);
    if (!*m) {
        snprintf(why, why_len, "load: %s", err.msg);
        return -1;
    }
    *s = wasm_store_new();
    wasm_config cfg;
    wasm_config_default(&cfg);
    if (!*s || wasm_instantiate(*s, *m, NULL, 0, &cfg, inst, &err) != 0) {
        snprintf(why, why_len, "instantiate: %s", *s ? err.msg : "out of memory");
        wasm_store_free(*s);
        wasm_module_free(*m);
        *s = NULL;
        *m = NULL;
        return -1;
    }
    return 0;
}

/* Native and engine runs alternate, so both see the same machine load (the machine is shared). */
static void time_native_and_engine(kernel *k, const options *o)
{
    static char why[NKERNELS][WASM_MSG_MAX + 64];
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_%s.wasm", o->wasm_dir, k->name);
    wasm_module *m = NULL;
    wasm_store *s = NULL;
    wasm_instance *inst = NULL;
    char *slot = why[k - kernels];
    if (engine_setup(path, &m, &s, &inst, slot, sizeof why[0]) != 0)
        k->problem = slot;
    wasm_func *f = k->problem ? NULL : wasm_instance_export_func(inst, "bench_run");
    if (!k->problem && !f)
        k->problem = "no bench_run export";
    k->native_ms = k->engine_ms = INFINITY;
    for (int r = 0; r < o->runs; r++) {
        double t0 = now_ms();
        k->native_sum = k->native(k->n);
        double ms = now_ms() - t0;
        if (ms < k->native_ms)
            k->native_ms = ms;
        if (k->problem)
            continue;
        wasm_val arg = {.type = WASM_I32, .of.i32 = k->n}, res;
        wasm_trap trap;
        t0 = now_ms();
        int rc = wasm_invoke(inst, f, &arg, 1, &res, 1, &trap);
        ms = now_ms() - t0;
        if (rc != 0) {
            snprintf(slot, sizeof why[0], "trap: %s", trap.msg);
            k->problem = slot;
            continue;
        }
        k->engine_sum = res.of.i64;
        if (ms < k->engine_ms)
            k->engine_ms = ms;
    }
    wasm_store_free(s);
    wasm_module_free(m);
}

static void on_v8_kernel(void *ctx, const char *name, unsigned long long sum, double ms)
{
    kernel *k = ctx;
    if (strcmp(name, k->name) == 0)
        k->v8_ms = ms, k->v8_sum = sum;
}

static void on_v8_load(void *ctx, const char *name, unsigned long long sum, double ms)
{
    (void)sum;
    if (strcmp(name, "load") == 0)
        *(double *)ctx = ms;
}

/* Times one kernel under node (a process per kernel, right after the native and engine runs, so
 * all three columns see the same machine load); fills v8_ms / v8_sum from its output line. */
static void time_v8(kernel *k, const options *o)
{
    if (!o->node || !o->js)
        return;
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "'%s' '%s' %d '%s=%s/bench_%s.wasm:%u'", o->node, o->js,
                     o->runs, k->name, o->wasm_dir, k->name, k->n);
    if (n < 0 || (size_t)n >= sizeof cmd) {
        fprintf(stderr, "bench-engine: node command line too long; skipping V8\n");
        return;
    }
    v8_run("bench-engine", k->name, cmd, on_v8_kernel, k);
}

static int print_table(void)
{
    double log_engine = 0, log_v8 = 0;
    int n_engine = 0, n_v8 = 0, mismatches = 0;
    printf("%-10s %11s %11s %11s %12s %9s  %s\n", "kernel", "n", "native ms", "engine ms",
           "engine/nat", "V8/nat", "checksum");
    for (size_t i = 0; i < NKERNELS; i++) {
        kernel *k = &kernels[i];
        printf("%-10s %11u %11.1f ", k->name, k->n, k->native_ms);
        if (k->problem) {
            printf("%11s %12s ", "-", "-");
        } else {
            double ratio = k->engine_ms / k->native_ms;
            printf("%11.1f %11.2fx ", k->engine_ms, ratio);
            log_engine += log(ratio);
            n_engine++;
        }
        if (k->v8_ms >= 0) {
            double ratio = k->v8_ms / k->native_ms;
            printf("%8.2fx ", ratio);
            log_v8 += log(ratio);
            n_v8++;
        } else {
            printf("%9s ", "-");
        }
        int ok = (k->problem || k->engine_sum == k->native_sum) &&
                 (k->v8_ms < 0 || k->v8_sum == k->native_sum);
        mismatches += !ok;
        printf(" %016llx %s", (unsigned long long)k->native_sum, ok ? "ok" : "MISMATCH");
        if (k->problem)
            printf(" (engine: %s)", k->problem);
        if (!ok)
            printf(" (engine %016llx, v8 %016llx)", (unsigned long long)k->engine_sum,
                   (unsigned long long)k->v8_sum);
        printf("\n");
    }
    printf("%-10s %11s %11s %11s ", "geomean", "", "", "");
    if (n_engine)
        printf("%11.2fx ", exp(log_engine / n_engine));
    else
        printf("%12s ", "-");
    if (n_v8)
        printf("%8.2fx", exp(log_v8 / n_v8));
    printf("\n");
    if (n_engine)
        printf("target: engine/native geomean <= 10x: %s\n",
               exp(log_engine / n_engine) <= 10.0 ? "met" : "NOT met");
    return mismatches;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Load + validate + instantiate of a big module: best and median of 15, against V8. */
static int time_big_module(const options *o)
{
    uint8_t *bytes;
    size_t len;
    sb_err e;
    if (sb_read_file(o->big, 64u << 20, &bytes, &len, &e) != 0) {
        fprintf(stderr, "bench-engine: %s\n", e.msg);
        return -1;
    }
    enum { REPS = 15 };
    double times[REPS];
    for (int r = 0; r < REPS; r++) {
        wasm_error err;
        double t0 = now_ms();
        wasm_module *m = wasm_module_load(bytes, len, &err);
        wasm_store *s = m ? wasm_store_new() : NULL;
        wasm_instance *inst;
        int rc = s ? wasm_instantiate(s, m, NULL, 0, NULL, &inst, &err) : -1;
        times[r] = now_ms() - t0;
        wasm_store_free(s);
        wasm_module_free(m);
        if (rc != 0) {
            fprintf(stderr, "bench-engine: big module: %s\n", err.msg);
            free(bytes);
            return -1;
        }
    }
    free(bytes);
    qsort(times, REPS, sizeof times[0], cmp_double);
    printf("\nbig module: %zu bytes (%.2f MiB): load+validate+instantiate best %.2f ms, median %.2f ms"
           " (target <= 5 ms: %s)\n",
           len, (double)len / (1 << 20), times[0], times[REPS / 2], times[0] <= 5.0 ? "met" : "NOT met");
    /* V8 compiles lazily by default (functions are validated and compiled on first call), so
     * it is shown both ways: lazy, and eager (every function compiled by Liftoff up front). */
    static const char *const modes[][2] = {{"", "lazy"}, {"--no-wasm-lazy-compilation ", "eager"}};
    for (size_t i = 0; o->node && o->js && i < 2; i++) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "'%s' %s'%s' %d 'load=%s:0'", o->node, modes[i][0], o->js, REPS,
                 o->big);
        double ms = 0;
        if (v8_run("bench-engine", "the big module", cmd, on_v8_load, &ms) == 0 && ms > 0)
            printf("V8 compile+instantiate of the same module (%s): best %.2f ms (engine/V8 %.2fx)\n",
                   modes[i][1], ms, times[0] / ms);
    }
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.runs = 3, .scale = 100};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (strcmp(a, "--wasm-dir") == 0) o->wasm_dir = v;
        else if (strcmp(a, "--big") == 0) o->big = v;
        else if (strcmp(a, "--node") == 0) o->node = v;
        else if (strcmp(a, "--js") == 0) o->js = v;
        else if (strcmp(a, "--runs") == 0) o->runs = atoi(v);
        else if (strcmp(a, "--scale") == 0) o->scale = atof(v);
        else return -1;
    }
    if (!o->wasm_dir || o->runs < 1 || o->runs > 100 || !(o->scale > 0 && o->scale <= 1000))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: %s --wasm-dir DIR [--big BIG.wasm] [--node NODE --js v8_bench.js]"
                        " [--runs N (1-100)] [--scale PERCENT (work factor, default 100)]\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < NKERNELS; i++) {
        kernel *k = &kernels[i];
        if (strcmp(k->name, "fib") != 0) /* fib's work is exponential in n: never scale it */
            k->n = (uint32_t)(k->n * o.scale / 100.0) ? (uint32_t)(k->n * o.scale / 100.0) : 1;
        time_native_and_engine(k, &o);
        time_v8(k, &o);
        fprintf(stderr, "  %s done\n", k->name);
    }
    printf("best of %d runs; load/instantiate excluded\n", o.runs);
    int bad = print_table();
    if (o.big && time_big_module(&o) != 0)
        bad++;
    return bad ? 1 : 0;
}
