/* runner.c - bench-simd-kernels: what WebAssembly SIMD buys in Strongbox's engine. Each kernel is
 * one C file compiled three ways: wasm32 without SIMD ("scalar"), wasm32 with -msimd128 ("simd")
 * and natively (gcc -O2, the reference). The runner times all of them in the same run (best of N,
 * load and instantiation excluded) under both engine tiers (interpreter, compiled), plus V8 both
 * ways on the same two .wasm files when node is given (Liftoff alone: --liftoff
 * --no-wasm-tier-up; TurboFan alone: --no-liftoff), and prints per kernel each tier's
 * scalar/simd speedup and every column's simd/native ratio, with their geometric means.
 * All checksums must agree: any mismatch, load failure or trap prints FAIL, no ratio is reported
 * for that kernel and the exit status is 1.
 *
 * Usage: bench-simd-kernels-runner --wasm-dir DIR [--node NODE --js v8_bench.js] [--runs N]
 *                                  [--scale PERCENT] [--kernel NAME] [--engine-only BUILD]
 * --engine-only scalar|simd runs just that engine build (no native, no V8): for profiling. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/v8_run.h"
#include "common/common.h"
#include "wasm/wasm.h"

/* Work factors: roughly 20-40 ms natively on the reference machine, 0.5-1.5 s for the engine's
 * scalar build (every configuration runs N times on a shared machine). */
#define KERNELS(X)        \
    X(matmul_f32, 1000)   \
    X(blur_u8, 500)       \
    X(dot_i16, 100000)    \
    X(luma_rgba, 6000)

#define DECLARE(name, n) uint64_t bench_native_##name(uint32_t);
KERNELS(DECLARE)
#undef DECLARE

enum { SCALAR, SIMD, NBUILDS };
static const char *const build_names[NBUILDS] = {"scalar", "simd"};
/* The engine's tiers (wasm_engine values) and V8's two (node flags). */
#define NTIERS 2
#define NV8 2
static const char *const v8_flags[NV8] = {"--liftoff --no-wasm-tier-up", "--no-liftoff"};
static const char *const v8_names[NV8] = {"Liftoff", "TurboFan"};

typedef struct build_result {
    double ms[NTIERS], v8_ms[NV8];          /* best of runs; v8_ms < 0 when not measured */
    uint64_t sum[NTIERS], v8_sum[NV8];
    char problem[NTIERS][WASM_MSG_MAX + 64]; /* empty, or why this build has no valid time */
} build_result;

typedef struct kernel {
    const char *name;
    uint64_t (*native)(uint32_t);
    uint32_t n;
    double native_ms;
    uint64_t native_sum;
    build_result b[NBUILDS];
} kernel;

#define ENTRY(kname, work) {.name = #kname, .native = bench_native_##kname, .n = work},
static kernel kernels[] = {KERNELS(ENTRY)};
#undef ENTRY
#define NKERNELS (sizeof kernels / sizeof kernels[0])

typedef struct options {
    const char *wasm_dir, *node, *js, *only_kernel;
    int runs, engine_only; /* engine_only: -1, or the one build to run */
    double scale;
} options;

/* One loaded engine build of a kernel. */
typedef struct engine_run {
    wasm_module *m;
    wasm_store *s;
    wasm_instance *inst;
    wasm_func *f;
} engine_run;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Loads and instantiates DIR/bench_sk_<kernel>_<build>.wasm with unlimited fuel (the default). */
static int engine_setup(const options *o, const kernel *k, int build, int tier, engine_run *e,
                        build_result *r)
{
    char *problem = r->problem[tier];
    size_t problem_len = sizeof r->problem[tier];
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_sk_%s_%s.wasm", o->wasm_dir, k->name, build_names[build]);
    uint8_t *bytes;
    size_t len;
    sb_err se;
    *e = (engine_run){0};
    if (sb_read_file(path, 64u << 20, &bytes, &len, &se) != 0) {
        snprintf(problem, problem_len, "%s", se.msg);
        return -1;
    }
    wasm_error err;
    e->m = wasm_module_load(bytes, len, &err);
    free(bytes);
    if (!e->m) {
        snprintf(problem, problem_len, "load: %s", err.msg);
        return -1;
    }
    e->s = wasm_store_new();
    wasm_config cfg;
    wasm_config_default(&cfg);
    cfg.fuel = WASM_FUEL_UNLIMITED;
    cfg.engine = (wasm_engine)tier;
    if (!e->s || wasm_instantiate(e->s, e->m, NULL, 0, &cfg, &e->inst, &err) != 0) {
        snprintf(problem, problem_len, "instantiate: %s", e->s ? err.msg : "out of memory");
        return -1;
    }
    e->f = wasm_instance_export_func(e->inst, "bench_run");
    if (!e->f) {
        snprintf(problem, problem_len, "no bench_run export");
        return -1;
    }
    return 0;
}

static void engine_free(engine_run *e)
{
    wasm_store_free(e->s);
    wasm_module_free(e->m);
}

static void engine_time_once(kernel *k, engine_run *e, build_result *r, int tier)
{
    char *problem = r->problem[tier];
    size_t problem_len = sizeof r->problem[tier];
    wasm_val arg = {.type = WASM_I32, .of.i32 = k->n}, res;
    wasm_trap trap;
    double t0 = now_ms();
    int rc = wasm_invoke(e->inst, e->f, &arg, 1, &res, 1, &trap);
    double ms = now_ms() - t0;
    if (rc != 0) {
        snprintf(problem, problem_len, "trap: %s", trap.msg);
        return;
    }
    r->sum[tier] = (uint64_t)res.of.i64;
    if (ms < r->ms[tier])
        r->ms[tier] = ms;
}

/* Native, scalar and simd runs under both tiers alternate, so all see the same machine load. */
static void time_native_and_engine(kernel *k, const options *o)
{
    engine_run e[NBUILDS][NTIERS];
    k->native_ms = INFINITY;
    for (int b = 0; b < NBUILDS; b++) {
        for (int v = 0; v < NV8; v++)
            k->b[b].v8_ms[v] = -1;
        for (int t = 0; t < NTIERS; t++) {
            k->b[b].ms[t] = INFINITY;
            e[b][t] = (engine_run){0};
            if (o->engine_only >= 0 && b != o->engine_only)
                snprintf(k->b[b].problem[t], sizeof k->b[b].problem[t], "not run (--engine-only)");
            else if (!wasm_engine_available((wasm_engine)t))
                snprintf(k->b[b].problem[t], sizeof k->b[b].problem[t], "not in this build");
            else
                engine_setup(o, k, b, t, &e[b][t], &k->b[b]);
        }
    }
    for (int run = 0; run < o->runs; run++) {
        if (o->engine_only < 0) {
            double t0 = now_ms();
            k->native_sum = k->native(k->n);
            double ms = now_ms() - t0;
            if (ms < k->native_ms)
                k->native_ms = ms;
        }
        for (int b = 0; b < NBUILDS; b++)
            for (int t = 0; t < NTIERS; t++)
                if (!k->b[b].problem[t][0])
                    engine_time_once(k, &e[b][t], &k->b[b], t);
    }
    for (int b = 0; b < NBUILDS; b++)
        for (int t = 0; t < NTIERS; t++)
            engine_free(&e[b][t]);
}

typedef struct v8_slot {
    kernel *k;
    int mode;
} v8_slot;

static void on_v8_line(void *ctx, const char *name, unsigned long long sum, double ms)
{
    v8_slot *v = ctx;
    for (int b = 0; b < NBUILDS; b++)
        if (strcmp(name, build_names[b]) == 0)
            v->k->b[b].v8_ms[v->mode] = ms, v->k->b[b].v8_sum[v->mode] = sum;
}

/* Both builds of one kernel in one node process per V8 tier, right after the engine runs. */
static void time_v8(kernel *k, const options *o)
{
    if (!o->node || !o->js || o->engine_only >= 0)
        return;
    for (int mode = 0; mode < NV8; mode++) {
        char cmd[8192];
        int n = snprintf(cmd, sizeof cmd, "'%s' %s '%s' %d", o->node, v8_flags[mode], o->js, o->runs);
        for (int b = 0; b < NBUILDS && n >= 0 && (size_t)n < sizeof cmd; b++)
            n += snprintf(cmd + n, sizeof cmd - (size_t)n, " '%s=%s/bench_sk_%s_%s.wasm:%u'",
                          build_names[b], o->wasm_dir, k->name, build_names[b], k->n);
        if (n < 0 || (size_t)n >= sizeof cmd) {
            fprintf(stderr, "bench-simd-kernels: node command line too long; skipping V8\n");
            return;
        }
        v8_slot v = {k, mode};
        v8_run("bench-simd-kernels", k->name, cmd, on_v8_line, &v);
    }
}

/* Every measured checksum equals the native one; otherwise says which differs. */
static int checksums_agree(const kernel *k, const options *o, char *why, size_t why_len)
{
    for (int b = 0; b < NBUILDS; b++) {
        const build_result *r = &k->b[b];
        if (o->engine_only >= 0 && b != o->engine_only)
            continue;
        for (int t = 0; t < NTIERS; t++) {
            const char *tier = wasm_engine_name((wasm_engine)t);
            if (r->problem[t][0]) {
                snprintf(why, why_len, "engine %s, %s tier: %s", build_names[b], tier, r->problem[t]);
                return 0;
            }
            if (o->engine_only < 0 && r->sum[t] != k->native_sum) {
                snprintf(why, why_len, "engine %s, %s tier: checksum %016llx != native %016llx",
                         build_names[b], tier, (unsigned long long)r->sum[t],
                         (unsigned long long)k->native_sum);
                return 0;
            }
        }
        for (int v = 0; v < NV8; v++)
            if (r->v8_ms[v] >= 0 && r->v8_sum[v] != k->native_sum) {
                snprintf(why, why_len, "V8 %s %s checksum %016llx != native %016llx",
                         v8_names[v], build_names[b], (unsigned long long)r->v8_sum[v],
                         (unsigned long long)k->native_sum);
                return 0;
            }
    }
    return 1;
}

typedef struct geomean {
    double log_sum;
    int count;
} geomean;

static void geo_add(geomean *g, double ratio)
{
    g->log_sum += log(ratio);
    g->count++;
}

static void print_ratio(const geomean *g, int width)
{
    if (g->count)
        printf(" %*.2fx", width - 1, exp(g->log_sum / g->count));
    else
        printf(" %*s", width, "-");
}

/* Prints the table; returns the number of kernels that failed. Per tier: the scalar/simd speedup
 * and simd/native; per V8 tier: simd/native. */
static int print_table(const options *o)
{
    geomean speedup[NTIERS] = {{0}}, vs_native[NTIERS] = {{0}}, v8_vs_native[NV8] = {{0}};
    double worst_compiled = 0;
    int failed = 0;
    printf("%-10s %7s %9s | %-18s | %-18s | %9s %9s\n", "", "", "", "interpreter", "compiled",
           "Liftoff", "TurboFan");
    printf("%-10s %7s %9s | %8s %9s | %8s %9s | %9s %9s\n", "kernel", "n", "native ms", "speedup",
           "simd/nat", "speedup", "simd/nat", "simd/nat", "simd/nat");
    for (size_t i = 0; i < NKERNELS; i++) {
        kernel *k = &kernels[i];
        if (o->only_kernel && strcmp(o->only_kernel, k->name) != 0)
            continue;
        char why[2 * WASM_MSG_MAX];
        if (!checksums_agree(k, o, why, sizeof why)) {
            printf("%-10s %7u FAIL: %s\n", k->name, k->n, why);
            failed++;
            continue;
        }
        const build_result *sc = &k->b[SCALAR], *sd = &k->b[SIMD];
        if (o->engine_only >= 0) {
            printf("%-10s %7u engine %s: interpreter %.1f ms, compiled %.1f ms\n", k->name, k->n,
                   build_names[o->engine_only], k->b[o->engine_only].ms[0],
                   k->b[o->engine_only].ms[1]);
            continue;
        }
        printf("%-10s %7u %9.1f |", k->name, k->n, k->native_ms);
        for (int t = 0; t < NTIERS; t++) {
            printf(" %7.2fx %8.2fx |", sc->ms[t] / sd->ms[t], sd->ms[t] / k->native_ms);
            geo_add(&speedup[t], sc->ms[t] / sd->ms[t]);
            geo_add(&vs_native[t], sd->ms[t] / k->native_ms);
        }
        if (sd->ms[1] / k->native_ms > worst_compiled)
            worst_compiled = sd->ms[1] / k->native_ms;
        for (int v = 0; v < NV8; v++) {
            if (sd->v8_ms[v] >= 0) {
                printf(" %8.2fx", sd->v8_ms[v] / k->native_ms);
                geo_add(&v8_vs_native[v], sd->v8_ms[v] / k->native_ms);
            } else {
                printf(" %9s", "-");
            }
        }
        printf("  %016llx ok\n", (unsigned long long)k->native_sum);
    }
    if (o->engine_only < 0) {
        printf("%-10s %7s %9s |", "geomean", "", "");
        for (int t = 0; t < NTIERS; t++) {
            print_ratio(&speedup[t], 8);
            print_ratio(&vs_native[t], 9);
            printf(" |");
        }
        for (int v = 0; v < NV8; v++)
            print_ratio(&v8_vs_native[v], 9);
        printf("\n");
        if (vs_native[1].count)
            printf("target: compiled simd/native no kernel worse than 4x: %s (worst %.2fx)\n",
                   worst_compiled <= 4.0 ? "met" : "NOT met", worst_compiled);
    }
    return failed;
}

static int parse_build(const char *v)
{
    for (int b = 0; b < NBUILDS; b++)
        if (strcmp(v, build_names[b]) == 0)
            return b;
    return -2;
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.runs = 5, .scale = 100, .engine_only = -1};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (strcmp(a, "--wasm-dir") == 0) o->wasm_dir = v;
        else if (strcmp(a, "--node") == 0) o->node = v;
        else if (strcmp(a, "--js") == 0) o->js = v;
        else if (strcmp(a, "--runs") == 0) o->runs = atoi(v);
        else if (strcmp(a, "--scale") == 0) o->scale = atof(v);
        else if (strcmp(a, "--kernel") == 0) o->only_kernel = v;
        else if (strcmp(a, "--engine-only") == 0) o->engine_only = parse_build(v);
        else return -1;
    }
    if (!o->wasm_dir || o->runs < 1 || o->runs > 100 || !(o->scale > 0 && o->scale <= 1000) ||
        o->engine_only == -2)
        return -1;
    for (size_t i = 0; o->only_kernel && i < NKERNELS; i++)
        if (strcmp(o->only_kernel, kernels[i].name) == 0)
            return 0;
    return o->only_kernel ? -1 : 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: %s --wasm-dir DIR [--node NODE --js v8_bench.js] [--runs N (1-100)]"
                        " [--scale PERCENT (work factor, default 100)] [--kernel NAME]"
                        " [--engine-only scalar|simd]\nkernels:", argv[0]);
        for (size_t i = 0; i < NKERNELS; i++)
            fprintf(stderr, " %s", kernels[i].name);
        fprintf(stderr, "\n");
        return 2;
    }
    for (size_t i = 0; i < NKERNELS; i++) {
        kernel *k = &kernels[i];
        if (o.only_kernel && strcmp(o.only_kernel, k->name) != 0)
            continue;
        double n = k->n * o.scale / 100.0;
        k->n = n >= 1 ? (uint32_t)n : 1;
        time_native_and_engine(k, &o);
        time_v8(k, &o);
        fprintf(stderr, "  %s done\n", k->name);
    }
    printf("best of %d runs; load/instantiate excluded; speedup = engine scalar / engine simd\n",
           o.runs);
    int failed = print_table(&o);
    if (failed)
        printf("FAIL: %d kernel(s) disagree or did not run; no ratio reported for them\n", failed);
    return failed ? 1 : 0;
}
