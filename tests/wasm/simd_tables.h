/* simd_tables.h - every operation of src/wasm/simd.h as function-pointer tables built from the
 * X-macro families of simdops.h. Included once normally (test_simd_ops.c: the accelerated forms)
 * and once after defining SB_SIMD_PORTABLE (simd_portable.c: the portable forms). */
#ifndef SB_TEST_SIMD_TABLES_H
#define SB_TEST_SIMD_TABLES_H

#include "wasm/simd.h"
#include "wasm/simdops.h"

#define SIMD_T_ONE(...) +1
#define SIMD_T_FN(op, name, ...) simd_##name,
#define SIMD_T_NAME(op, name, ...) #name,
#define SIMD_T_BYTES(op, name, bytes, align) bytes,

enum {
    SIMD_N_UN = 0 SIMD_UNOPS(SIMD_T_ONE),
    SIMD_N_BIN = 0 SIMD_BINOPS(SIMD_T_ONE),
    SIMD_N_TERN = 0 SIMD_TERNOPS(SIMD_T_ONE),
    SIMD_N_TEST = 0 SIMD_TESTS(SIMD_T_ONE),
    SIMD_N_SHIFT = 0 SIMD_SHIFTS(SIMD_T_ONE),
    SIMD_N_SPLAT = 0 SIMD_SPLATS(SIMD_T_ONE),
    SIMD_N_LOAD = 0 SIMD_LOADS(SIMD_T_ONE),
};

struct simd_impl {
    v128 (*un[SIMD_N_UN])(v128);
    v128 (*bin[SIMD_N_BIN])(v128, v128);
    v128 (*tern[SIMD_N_TERN])(v128, v128, v128);
    uint32_t (*test[SIMD_N_TEST])(v128);
    v128 (*shift[SIMD_N_SHIFT])(v128, uint32_t);
    v128 (*splat[SIMD_N_SPLAT])(uint64_t);
    v128 (*load[SIMD_N_LOAD])(const uint8_t *);
    v128 (*shuffle)(v128, v128, const uint8_t[16]);
};

#define SIMD_IMPL_INIT                                                                         \
    {{SIMD_UNOPS(SIMD_T_FN)}, {SIMD_BINOPS(SIMD_T_FN)}, {SIMD_TERNOPS(SIMD_T_FN)},             \
     {SIMD_TESTS(SIMD_T_FN)}, {SIMD_SHIFTS(SIMD_T_FN)}, {SIMD_SPLATS(SIMD_T_FN)},              \
     {SIMD_LOADS(SIMD_T_FN)}, simd_i8x16_shuffle}

extern const struct simd_impl simd_portable_impl;

#endif
