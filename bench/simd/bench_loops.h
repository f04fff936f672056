/* bench_loops.h - the per-operation loops of bench_loops.c, built once per SIMD form. */
#ifndef SB_BENCH_SIMD_LOOPS_H
#define SB_BENCH_SIMD_LOOPS_H
#include "simd_tables.h"

typedef void (*bench_loop)(uint64_t *out, const uint64_t *in, unsigned n);
struct bench_loops {
    bench_loop un[SIMD_N_UN], bin[SIMD_N_BIN];
};
extern const struct bench_loops bench_loops_accel, bench_loops_sse2, bench_loops_portable;
#endif
