/* runner.c - bench-engine: times each benchmark kernel natively (gcc -O2), under both tiers of
 * Strongbox's Wasm engine (interpreter, compiled) and under node's V8 both ways (Liftoff alone:
 * --liftoff --no-wasm-tier-up; TurboFan alone: --no-liftoff), all in one run, checks that every
 * column agrees on the checksum, and prints the ratios against native with their geometric means.
 * Then times how soon a ~1 MiB module is ready (load + validate + instantiate; the compiled tier
 * compiles each function on its first call) under each tier, the compiled tier's full compile
 * (wasm_module_compile), and V8's compile + instantiate of the same bytes.
 *
 * Usage: bench-engine-runner --wasm-dir DIR --big BIG.wasm [--node NODE --js v8_bench.js]
 *                            [--runs N] [--scale PERCENT] [--only big]
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

/* The engine's tiers (wasm_engine values) and V8's two (node flags), each a column. */
#define NTIERS 2
#define NV8 2
static const char *const v8_flags[NV8] = {"--liftoff --no-wasm-tier-up", "--no-liftoff"};

typedef struct kernel {
    const char *name;
    uint64_t (*native)(uint32_t);
    uint32_t n;
    double native_ms, engine_ms[NTIERS], v8_ms[NV8]; /* best of runs; v8_ms < 0: not measured */
    uint64_t native_sum, engine_sum[NTIERS], v8_sum[NV8];
    const char *problem[NTIERS];          /* NULL, or why that engine column is missing */
} kernel;

#define ENTRY(name, n) {#name, bench_native_##name, n, 0, {0, 0}, {-1, -1}, 0, {0, 0}, {0, 0}, {NULL, NULL}},
static kernel kernels[] = {KERNELS(ENTRY)};
#undef ENTRY
#define NKERNELS (sizeof kernels / sizeof kernels[0])

typedef struct options {
    const char *wasm_dir, *big, *node, *js;
    int runs;
    double scale;
    bool big_only; /* --only big: skip the kernels, time only the big module */
} options;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Loads and instantiates `path`; on failure fills why[]. */
static int engine_setup(const char *path, wasm_engine tier, wasm_module **m, wasm_store **s,
                        wasm_instance **inst, char *why, size_t why_len)
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
    cfg.engine = tier;
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

/* Native and both tiers' runs alternate, so all see the same machine load (it is shared). */
static void time_native_and_engine(kernel *k, const options *o)
{
    static char why[NKERNELS][NTIERS][WASM_MSG_MAX + 64];
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_%s.wasm", o->wasm_dir, k->name);
    wasm_module *m[NTIERS] = {NULL};
    wasm_store *s[NTIERS] = {NULL};
    wasm_instance *inst[NTIERS] = {NULL};
    wasm_func *f[NTIERS] = {NULL};
    for (int t = 0; t < NTIERS; t++) {
        char *slot = why[k - kernels][t];
        if (!wasm_engine_available((wasm_engine)t))
            k->problem[t] = "not in this build";
        else if (engine_setup(path, (wasm_engine)t, &m[t], &s[t], &inst[t], slot, sizeof why[0][0]))
            k->problem[t] = slot;
        f[t] = k->problem[t] ? NULL : wasm_instance_export_func(inst[t], "bench_run");
        if (!k->problem[t] && !f[t])
            k->problem[t] = "no bench_run export";
        k->engine_ms[t] = INFINITY;
    }
    k->native_ms = INFINITY;
    for (int r = 0; r < o->runs; r++) {
        double t0 = now_ms();
        k->native_sum = k->native(k->n);
        double ms = now_ms() - t0;
        if (ms < k->native_ms)
            k->native_ms = ms;
        for (int t = 0; t < NTIERS; t++) {
            if (k->problem[t])
                continue;
            wasm_val arg = {.type = WASM_I32, .of.i32 = k->n}, res;
            wasm_trap trap;
            t0 = now_ms();
            int rc = wasm_invoke(inst[t], f[t], &arg, 1, &res, 1, &trap);
            ms = now_ms() - t0;
            if (rc != 0) {
                snprintf(why[k - kernels][t], sizeof why[0][0], "trap: %s", trap.msg);
                k->problem[t] = why[k - kernels][t];
                continue;
            }
            k->engine_sum[t] = res.of.i64;
            if (ms < k->engine_ms[t])
                k->engine_ms[t] = ms;
        }
    }
    for (int t = 0; t < NTIERS; t++) {
        wasm_store_free(s[t]);
        wasm_module_free(m[t]);
    }
}

typedef struct v8_slot {
    kernel *k;
    int mode;
} v8_slot;

static void on_v8_kernel(void *ctx, const char *name, unsigned long long sum, double ms)
{
    v8_slot *v = ctx;
    if (strcmp(name, v->k->name) == 0)
        v->k->v8_ms[v->mode] = ms, v->k->v8_sum[v->mode] = sum;
}

static void on_v8_load(void *ctx, const char *name, unsigned long long sum, double ms)
{
    (void)sum;
    if (strcmp(name, "load") == 0)
        *(double *)ctx = ms;
}

/* Times one kernel under node, once per V8 tier: Liftoff alone (--liftoff --no-wasm-tier-up)
 * and TurboFan alone (--no-liftoff); a process each, right after the native and engine runs, so
 * every column sees the same machine load. Fills v8_ms / v8_sum from the output lines. */
static void time_v8(kernel *k, const options *o)
{
    if (!o->node || !o->js)
        return;
    for (int mode = 0; mode < NV8; mode++) {
        char cmd[8192];
        int n = snprintf(cmd, sizeof cmd, "'%s' %s '%s' %d '%s=%s/bench_%s.wasm:%u'", o->node,
                         v8_flags[mode], o->js, o->runs, k->name, o->wasm_dir, k->name, k->n);
        if (n < 0 || (size_t)n >= sizeof cmd) {
            fprintf(stderr, "bench-engine: node command line too long; skipping V8\n");
            return;
        }
        v8_slot v = {k, mode};
        v8_run("bench-engine", k->name, cmd, on_v8_kernel, &v);
    }
}

static void print_ratio(double ms, double native_ms, double *log_sum, int *n)
{
    if (ms < 0 || !isfinite(ms)) {
        printf(" %9s", "-");
        return;
    }
    printf(" %8.2fx", ms / native_ms);
    *log_sum += log(ms / native_ms);
    (*n)++;
}

/* One row per kernel: native time, then each column's time over native, all from this run. */
static int print_table(void)
{
    double log_engine[NTIERS] = {0}, log_v8[NV8] = {0}, worst_compiled = 0;
    int n_engine[NTIERS] = {0}, n_v8[NV8] = {0}, mismatches = 0;
    printf("%-10s %11s %10s %9s %9s %9s %9s  %s\n", "kernel", "n", "native ms", "interp/n",
           "compiled/n", "Liftoff/n", "TurboF/n", "checksum");
    for (size_t i = 0; i < NKERNELS; i++) {
        kernel *k = &kernels[i];
        printf("%-10s %11u %10.1f", k->name, k->n, k->native_ms);
        int ok = 1;
        for (int t = 0; t < NTIERS; t++) {
            print_ratio(k->problem[t] ? -1 : k->engine_ms[t], k->native_ms, &log_engine[t],
                        &n_engine[t]);
            ok &= k->problem[t] || k->engine_sum[t] == k->native_sum;
        }
        if (!k->problem[WASM_ENGINE_COMPILED] &&
            k->engine_ms[WASM_ENGINE_COMPILED] / k->native_ms > worst_compiled)
            worst_compiled = k->engine_ms[WASM_ENGINE_COMPILED] / k->native_ms;
        for (int v = 0; v < NV8; v++) {
            print_ratio(k->v8_ms[v], k->native_ms, &log_v8[v], &n_v8[v]);
            ok &= k->v8_ms[v] < 0 || k->v8_sum[v] == k->native_sum;
        }
        mismatches += !ok;
        printf("  %016llx %s", (unsigned long long)k->native_sum, ok ? "ok" : "MISMATCH");
        for (int t = 0; t < NTIERS; t++)
            if (k->problem[t])
                printf(" (%s: %s)", wasm_engine_name((wasm_engine)t), k->problem[t]);
        if (!ok)
            printf(" (interpreter %016llx, compiled %016llx, Liftoff %016llx, TurboFan %016llx)",
                   (unsigned long long)k->engine_sum[0], (unsigned long long)k->engine_sum[1],
                   (unsigned long long)k->v8_sum[0], (unsigned long long)k->v8_sum[1]);
        printf("\n");
    }
    printf("%-10s %11s %10s", "geomean", "", "");
    for (int t = 0; t < NTIERS; t++)
        n_engine[t] ? printf(" %8.2fx", exp(log_engine[t] / n_engine[t])) : printf(" %9s", "-");
    for (int v = 0; v < NV8; v++)
        n_v8[v] ? printf(" %8.2fx", exp(log_v8[v] / n_v8[v])) : printf(" %9s", "-");
    printf("\n");
    if (n_engine[WASM_ENGINE_INTERPRETER])
        printf("target: interpreter/native geomean <= 10x: %s\n",
               exp(log_engine[0] / n_engine[0]) <= 10.0 ? "met" : "NOT met");
    if (n_engine[WASM_ENGINE_COMPILED])
        printf("target: compiled/native geomean <= 2.0x: %s; no kernel worse than 4x: %s "
               "(worst %.2fx)\n",
               exp(log_engine[1] / n_engine[1]) <= 2.0 ? "met" : "NOT met",
               worst_compiled <= 4.0 ? "met" : "NOT met", worst_compiled);
    return mismatches;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Load + validate + instantiate of a big module (and a full compile): best and median of 15,
 * against V8. */
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
    double times[REPS], best = 0;
    printf("\nbig module: %zu bytes (%.2f MiB), load + validate + instantiate (\"ready\"):\n", len,
           (double)len / (1 << 20));
    /* rows: the interpreter; the compiled tier as it runs (each function compiled on its first
     * call, so none is compiled yet when the module is ready); the compiled tier with every
     * function compiled up front (wasm_module_compile), for the full compile cost */
    static const struct { wasm_engine engine; bool compile_all; const char *name; } rows[] = {
        {WASM_ENGINE_INTERPRETER, false, "interpreter"},
        {WASM_ENGINE_COMPILED, false, "compiled"},
        {WASM_ENGINE_COMPILED, true, "compiled, full compile"},
    };
    for (size_t t = 0; t < sizeof rows / sizeof rows[0]; t++) {
        if (!wasm_engine_available(rows[t].engine))
            continue;
        wasm_config cfg;
        wasm_config_default(&cfg);
        cfg.engine = rows[t].engine;
        for (int r = 0; r < REPS; r++) {
            wasm_error err;
            double t0 = now_ms();
            wasm_module *m = wasm_module_load(bytes, len, &err);
            wasm_store *s = m ? wasm_store_new() : NULL;
            wasm_instance *inst;
            int rc = s ? wasm_instantiate(s, m, NULL, 0, &cfg, &inst, &err) : -1;
            if (rc == 0 && rows[t].compile_all)
                rc = wasm_module_compile(m, &err);
            times[r] = now_ms() - t0;
            wasm_store_free(s);
            wasm_module_free(m);
            if (rc != 0) {
                fprintf(stderr, "bench-engine: big module: %s\n", err.msg);
                free(bytes);
                return -1;
            }
        }
        qsort(times, REPS, sizeof times[0], cmp_double);
        if (!rows[t].compile_all)
            best = times[0];
        printf("  %-24s best %.2f ms, median %.2f ms", rows[t].name, times[0], times[REPS / 2]);
        if (rows[t].compile_all)
            printf(" (+ compiling all %s)\n", "functions");
        else
            printf(" (target <= 15 ms: %s)\n", times[0] <= 15.0 ? "met" : "NOT met");
    }
    printf("  (the compiled tier compiles each function on its first call: \"ready\" excludes that;\n"
           "   the full-compile row compiles every function up front)\n");
    free(bytes);
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
                   modes[i][1], ms, best / ms);
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
        else if (strcmp(a, "--only") == 0 && strcmp(v, "big") == 0) o->big_only = true;
        else return -1;
    }
    if (!o->wasm_dir || (o->big_only && !o->big) || o->runs < 1 || o->runs > 100 || !(o->scale > 0 && o->scale <= 1000))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: %s --wasm-dir DIR [--big BIG.wasm] [--node NODE --js v8_bench.js]"
                        " [--runs N (1-100)] [--scale PERCENT (work factor, default 100)]"
                        " [--only big]\n", argv[0]);
        return 2;
    }
    if (o.big_only)
        return time_big_module(&o) != 0;
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
