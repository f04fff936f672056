/* One loop per SIMD operation in the interpreter's style: operands read from 8-byte slots with
 * v128_get, the operation inlined, the result written back with v128_put (n: a power of two). Compiled twice, as
 * bench_loops_accel (the accelerated forms) and bench_loops_portable (SB_SIMD_PORTABLE). */
#include "bench_loops.h"

#define LOOP_UN(op, name)                                                                      \
    static void loop_##name(uint64_t *out, const uint64_t *in, unsigned n) {                   \
        for (unsigned i = 0; i < n; i++) v128_put(out + 2 * i, simd_##name(v128_get(in + 2 * i))); \
    }
#define LOOP_BIN(op, name)                                                                     \
    static void loop_##name(uint64_t *out, const uint64_t *in, unsigned n) {                   \
        for (unsigned i = 0; i < n; i++)                                                       \
            v128_put(out + 2 * i, simd_##name(v128_get(in + 2 * i), v128_get(in + 2 * ((i + 1) & (n - 1))))); \
    }
SIMD_UNOPS(LOOP_UN)
SIMD_BINOPS(LOOP_BIN)

#define LOOP_REF(op, name) loop_##name,
const struct bench_loops BENCH_LOOPS = {{SIMD_UNOPS(LOOP_REF)}, {SIMD_BINOPS(LOOP_REF)}};
