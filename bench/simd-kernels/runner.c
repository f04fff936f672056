/* runner.c - bench-simd-kernels: what WebAssembly SIMD buys in Strongbox's engine. Each kernel is
 * one C file compiled three ways: wasm32 without SIMD ("scalar"), wasm32 with -msimd128 ("simd")
 * and natively (gcc -O2, the reference). The runner times all three in the same run (best of N,
 * load and instantiation excluded), plus V8 on the same two .wasm files when node is given, and
 * prints the scalar/simd speedup and simd/native ratio per kernel with their geometric means.
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

typedef struct build_result {
    double ms, v8_ms;                  /* best of runs; v8_ms < 0 when not measured */
    uint64_t sum, v8_sum;
    char problem[WASM_MSG_MAX + 64];   /* empty, or why this build has no valid time */
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
static int engine_setup(const options *o, const kernel *k, int build, engine_run *e,
                        build_result *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_sk_%s_%s.wasm", o->wasm_dir, k->name, build_names[build]);
    uint8_t *bytes;
    size_t len;
    sb_err se;
    *e = (engine_run){0};
    if (sb_read_file(path, 64u << 20, &bytes, &len, &se) != 0) {
        snprintf(r->problem, sizeof r->problem, "%s", se.msg);
        return -1;
    }
    wasm_error err;
    e->m = wasm_module_load(bytes, len, &err);
    free(bytes);
    if (!e->m) {
        snprintf(r->problem, sizeof r->problem, "load: %s", err.msg);
        return -1;
    }
    e->s = wasm_store_new();
    wasm_config cfg;
    wasm_config_default(&cfg);
    cfg.fuel = WASM_FUEL_UNLIMITED;
    if (!e->s || wasm_instantiate(e->s, e->m, NULL, 0, &cfg, &e->inst, &err) != 0) {
        snprintf(r->problem, sizeof r->problem, "instantiate: %s", e->s ? err.msg : "out of memory");
        return -1;
    }
    e->f = wasm_instance_export_func(e->inst, "bench_run");
    if (!e->f) {
        snprintf(r->problem, sizeof r->problem, "no bench_run export");
        return -1;
    }
    return 0;
}

static void engine_free(engine_run *e)
{
    wasm_store_free(e->s);
    wasm_module_free(e->m);
}

static void engine_time_once(kernel *k, engine_run *e, build_result *r)
{
    wasm_val arg = {.type = WASM_I32, .of.i32 = k->n}, res;
    wasm_trap trap;
    double t0 = now_ms();
    int rc = wasm_invoke(e->inst, e->f, &arg, 1, &res, 1, &trap);
    double ms = now_ms() - t0;
    if (rc != 0) {
        snprintf(r->problem, sizeof r->problem, "trap: %s", trap.msg);
        return;
    }
    r->sum = (uint64_t)res.of.i64;
    if (ms < r->ms)
        r->ms = ms;
}

/* Native, scalar and simd runs alternate, so all see the same machine load (it is shared). */
static void time_native_and_engine(kernel *k, const options *o)
{
    engine_run e[NBUILDS];
    k->native_ms = INFINITY;
    for (int b = 0; b < NBUILDS; b++) {
        k->b[b].ms = INFINITY;
        k->b[b].v8_ms = -1;
        if (o->engine_only >= 0 && b != o->engine_only) {
            e[b] = (engine_run){0};
            snprintf(k->b[b].problem, sizeof k->b[b].problem, "not run (--engine-only)");
            continue;
        }
        engine_setup(o, k, b, &e[b], &k->b[b]);
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
            if (!k->b[b].problem[0])
                engine_time_once(k, &e[b], &k->b[b]);
    }
    for (int b = 0; b < NBUILDS; b++)
        engine_free(&e[b]);
}

static void on_v8_line(void *ctx, const char *name, unsigned long long sum, double ms)
{
    kernel *k = ctx;
    for (int b = 0; b < NBUILDS; b++)
        if (strcmp(name, build_names[b]) == 0)
            k->b[b].v8_ms = ms, k->b[b].v8_sum = sum;
}

/* Both builds of one kernel in one node process, right after the engine runs. */
static void time_v8(kernel *k, const options *o)
{
    if (!o->node || !o->js || o->engine_only >= 0)
        return;
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "'%s' '%s' %d", o->node, o->js, o->runs);
    for (int b = 0; b < NBUILDS && n >= 0 && (size_t)n < sizeof cmd; b++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " '%s=%s/bench_sk_%s_%s.wasm:%u'",
                      build_names[b], o->wasm_dir, k->name, build_names[b], k->n);
    if (n < 0 || (size_t)n >= sizeof cmd) {
        fprintf(stderr, "bench-simd-kernels: node command line too long; skipping V8\n");
        return;
    }
    v8_run("bench-simd-kernels", k->name, cmd, on_v8_line, k);
}

/* Every measured checksum equals the native one; otherwise says which differs. */
static int checksums_agree(const kernel *k, const options *o, char *why, size_t why_len)
{
    for (int b = 0; b < NBUILDS; b++) {
        const build_result *r = &k->b[b];
        if (o->engine_only >= 0 && b != o->engine_only)
            continue;
        if (r->problem[0]) {
            snprintf(why, why_len, "engine %s: %s", build_names[b], r->problem);
            return 0;
        }
        if (o->engine_only < 0 && r->sum != k->native_sum) {
            snprintf(why, why_len, "engine %s checksum %016llx != native %016llx", build_names[b],
                     (unsigned long long)r->sum, (unsigned long long)k->native_sum);
            return 0;
        }
        if (r->v8_ms >= 0 && r->v8_sum != k->native_sum) {
            snprintf(why, why_len, "V8 %s checksum %016llx != native %016llx", build_names[b],
                     (unsigned long long)r->v8_sum, (unsigned long long)k->native_sum);
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

/* Prints the table; returns the number of kernels that failed. */
static int print_table(const options *o)
{
    geomean speedup = {0}, vs_native = {0}, v8_speedup = {0};
    int failed = 0;
    printf("%-10s %7s %9s %9s %9s %8s %9s | %9s %9s %8s\n", "kernel", "n", "native ms",
           "scalar ms", "simd ms", "speedup", "simd/nat", "V8 scal", "V8 simd", "V8 spdup");
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
            printf("%-10s %7u engine %s %.1f ms\n", k->name, k->n, build_names[o->engine_only],
                   k->b[o->engine_only].ms);
            continue;
        }
        printf("%-10s %7u %9.1f %9.1f %9.1f %7.2fx %8.2fx |", k->name, k->n, k->native_ms, sc->ms,
               sd->ms, sc->ms / sd->ms, sd->ms / k->native_ms);
        geo_add(&speedup, sc->ms / sd->ms);
        geo_add(&vs_native, sd->ms / k->native_ms);
        if (sc->v8_ms >= 0 && sd->v8_ms >= 0) {
            printf(" %9.1f %9.1f %7.2fx", sc->v8_ms, sd->v8_ms, sc->v8_ms / sd->v8_ms);
            geo_add(&v8_speedup, sc->v8_ms / sd->v8_ms);
        } else {
            printf(" %9s %9s %8s", "-", "-", "-");
        }
        printf("  %016llx ok\n", (unsigned long long)k->native_sum);
    }
    if (o->engine_only < 0) {
        printf("%-10s %7s %9s %9s %9s", "geomean", "", "", "", "");
        print_ratio(&speedup, 8);
        print_ratio(&vs_native, 9);
        printf(" | %9s %9s", "", "");
        print_ratio(&v8_speedup, 8);
        printf("\n");
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
