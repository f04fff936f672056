/* bench-simd: CPU time per operation, accelerated and portable forms, each inlined into a loop
 * over interpreter-style 8-byte slots (bench_loops.c, built once per form); prints
 * portable/accelerated ratios per family and the operations where acceleration matters most. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_loops.h"

static const char *const un_names[] = {SIMD_UNOPS(SIMD_T_NAME)};
static const char *const bin_names[] = {SIMD_BINOPS(SIMD_T_NAME)};

enum { VECS = 256, REPS = 4000 };
static uint64_t inputs[2 * VECS], outputs[2 * VECS];

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ns per operation (best of three runs, the machine is shared) */
static double time_loop(bench_loop loop, uint64_t *sink) {
    double best = 1e30;
    for (unsigned run = 0; run < 3; run++) {
        double t0 = cpu_seconds();
        for (unsigned r = 0; r < REPS; r++) {
            loop(outputs, inputs, VECS);
            *sink ^= outputs[r % (2 * VECS)];
        }
        double t = (cpu_seconds() - t0) * 1e9 / ((double)REPS * VECS);
        best = t < best ? t : best;
    }
    return best;
}

typedef struct {
    const char *name;
    double fast, sse2, slow;
} result;

static int by_ratio(const void *a, const void *b) {
    const result *x = a, *y = b;
    double rx = x->slow / x->fast, ry = y->slow / y->fast;
    return rx < ry ? 1 : rx > ry ? -1 : 0;
}

static void summarise(const char *family, result *res, unsigned n) {
    double log_sum = 0, log_sse2 = 0, fast = 0, slow = 0;
    for (unsigned i = 0; i < n; i++) {
        log_sum += log(res[i].slow / res[i].fast), log_sse2 += log(res[i].sse2 / res[i].fast);
        fast += res[i].fast, slow += res[i].slow;
    }
    qsort(res, n, sizeof *res, by_ratio);
    printf("%-6s %3u ops: accelerated %.2f ns/op, portable %.2f ns/op on average; portable/accelerated geomean %.2fx"
           " (SSE2-only/accelerated %.2fx)\n", family, n, fast / n, slow / n, exp(log_sum / n), exp(log_sse2 / n));
    for (unsigned i = 0; i < n && i < 8; i++)
        printf("    %-32s %6.2f ns vs %6.2f ns  %5.1fx\n", res[i].name, res[i].fast, res[i].slow, res[i].slow / res[i].fast);
    printf("    slowest accelerated: ");
    unsigned worst = 0;
    for (unsigned i = 1; i < n; i++)
        if (res[i].fast > res[worst].fast) worst = i;
    printf("%s %.2f ns\n", res[worst].name, res[worst].fast);
}

int main(void) {
    uint64_t seed = 0x9E3779B97F4A7C15ull, sink = 0;
    for (unsigned i = 0; i < VECS; i++)
        for (unsigned k = 0; k < 2; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            inputs[2 * i + k] = (i % 4 == 0) ? seed & 0x3FFF3FFF3FFF3FFFull : seed; /* some ordinary floats */
        }
    static result un[SIMD_N_UN], bin[SIMD_N_BIN];
    for (unsigned k = 0; k < SIMD_N_UN; k++)
        un[k] = (result){un_names[k], time_loop(bench_loops_accel.un[k], &sink), time_loop(bench_loops_sse2.un[k], &sink), time_loop(bench_loops_portable.un[k], &sink)};
    for (unsigned k = 0; k < SIMD_N_BIN; k++)
        bin[k] = (result){bin_names[k], time_loop(bench_loops_accel.bin[k], &sink), time_loop(bench_loops_sse2.bin[k], &sink), time_loop(bench_loops_portable.bin[k], &sink)};
    printf("bench-simd: accelerated (SSE4.1 on x86-64) vs portable forms, -O2, inlined in slot loops\n");
    summarise("unary", un, SIMD_N_UN);
    summarise("binary", bin, SIMD_N_BIN);
    printf("(sink %llx)\n", (unsigned long long)sink);
    return 0;
}
