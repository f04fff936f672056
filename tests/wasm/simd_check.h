/* simd_check.h - one SIMD operation with its inputs (a simd_case), run through a form of simd.h
 * (a struct simd_impl of simd_tables.h), and the rules by which an accelerated form must agree
 * with the portable one. Shared by test_simd_ops (random cases) and fuzz_simd_ops / its replay
 * test (cases decoded from fuzzer bytes), so both judge by exactly the same rules:
 *  - float results (f32x4_* and f64x2_* unary/binary operations except abs, neg, pmin, pmax and
 *    the comparisons) may differ only in which NaN a lane holds; every NaN result must be quiet,
 *    and canonical when no input was a non-canonical NaN;
 *  - everything else bit for bit, and the shuffle also against its definition. */
#ifndef SB_TEST_SIMD_CHECK_H
#define SB_TEST_SIMD_CHECK_H

#include <stdio.h>

#include "simd_tables.h"

enum simd_family {
    SIMD_FAM_UN, SIMD_FAM_BIN, SIMD_FAM_TERN, SIMD_FAM_TEST, SIMD_FAM_SHIFT,
    SIMD_FAM_SPLAT, SIMD_FAM_LOAD, SIMD_FAM_SHUFFLE, SIMD_FAMILIES
};

typedef struct {
    enum simd_family family;
    unsigned op;          /* index into the family's table */
    v128 in[3];           /* vector operands (un, test, shift: 1; bin, shuffle: 2; tern: 3) */
    uint32_t count;       /* shift count, passed as is (the operation takes it modulo) */
    uint64_t scalar;      /* splat operand (low bits for the narrower splats) */
    uint8_t mem[16];      /* load: the first simd_load_bytes[op] bytes are memory */
    unsigned mem_offset;  /* load: misalignment (0..15) of those bytes in their heap block */
    uint8_t lanes[16];    /* shuffle lane indices, each < 32 */
} simd_case;

extern const char *const *const simd_op_names[SIMD_FAMILIES];
extern const unsigned simd_family_size[SIMD_FAMILIES];
extern const char *const simd_family_name[SIMD_FAMILIES];
extern const unsigned simd_load_bytes[SIMD_N_LOAD];

/* Finds an operation by name ("i8x16_add"); 0 if found, -1 if not. */
int simd_find_op(const char *name, enum simd_family *family, unsigned *op);
const char *simd_case_name(const simd_case *c);

/* Runs the case through impl. A test's i32 lands in lane 0 of *res, the rest zero. Loads read
 * from a heap block that ends exactly where the loaded bytes end, so ASan reports any read
 * beyond them. Returns -1 only if that block cannot be allocated. */
int simd_run_case(const struct simd_impl *impl, const simd_case *c, v128 *res);

/* 1 if the results of the accelerated and the portable form agree under the rules above. */
int simd_results_agree(const simd_case *c, v128 fast, v128 slow);

/* Runs the case through both forms; 0 if they agree, 1 if not (then, if out is not NULL, the
 * operation, its inputs and both results are printed there, headed by `form`), -1 if out of
 * memory. */
int simd_check_case(const struct simd_impl *fast, const struct simd_impl *slow, const simd_case *c,
                    const char *form, FILE *out);

/* Lane access and float classification, for lanes of `bytes` bytes (floats: 4 or 8). */
uint64_t simd_lane_get(v128 v, unsigned bytes, unsigned i);
void simd_lane_set(v128 *v, unsigned bytes, unsigned i, uint64_t x);
uint64_t simd_exp_mask(unsigned bytes);
uint64_t simd_quiet_bit(unsigned bytes);
uint64_t simd_sign_bit(unsigned bytes);
int simd_is_nan(uint64_t x, unsigned bytes);
int simd_is_canonical_nan(uint64_t x, unsigned bytes);
void simd_print_v128(FILE *out, const char *label, v128 v);

#endif
