/* ops.h - the internal instruction set, as X-macro families shared by the translator (which maps
 * WebAssembly opcodes to internal operations) and the interpreter (which defines one handler per
 * operation). In expressions, `a` and `b` are the operands already converted to the family's C
 * type (uint32_t / uint64_t / float / double). */
#ifndef SB_WASM_OPS_H
#define SB_WASM_OPS_H

#include "wasm/simdops.h"

/* Integer binary operations that also get an immediate-operand variant (`name_i`). */
#define I32_BINOPS(X)                                                                          \
    X(0x6A, i32_add, a + b) X(0x6B, i32_sub, a - b) X(0x6C, i32_mul, a * b)                    \
    X(0x71, i32_and, a & b) X(0x72, i32_or, a | b) X(0x73, i32_xor, a ^ b)                     \
    X(0x74, i32_shl, a << (b & 31)) X(0x75, i32_shr_s, (uint32_t)((int32_t)a >> (b & 31)))     \
    X(0x76, i32_shr_u, a >> (b & 31)) X(0x77, i32_rotl, rotl32(a, b))                          \
    X(0x78, i32_rotr, rotr32(a, b))
#define I32_CMPS(X)                                                                            \
    X(0x46, i32_eq, a == b) X(0x47, i32_ne, a != b) X(0x48, i32_lt_s, (int32_t)a < (int32_t)b) \
    X(0x49, i32_lt_u, a < b) X(0x4A, i32_gt_s, (int32_t)a > (int32_t)b) X(0x4B, i32_gt_u, a > b) \
    X(0x4C, i32_le_s, (int32_t)a <= (int32_t)b) X(0x4D, i32_le_u, a <= b)                      \
    X(0x4E, i32_ge_s, (int32_t)a >= (int32_t)b) X(0x4F, i32_ge_u, a >= b)
#define I64_BINOPS(X)                                                                          \
    X(0x7C, i64_add, a + b) X(0x7D, i64_sub, a - b) X(0x7E, i64_mul, a * b)                    \
    X(0x83, i64_and, a & b) X(0x84, i64_or, a | b) X(0x85, i64_xor, a ^ b)                     \
    X(0x86, i64_shl, a << (b & 63)) X(0x87, i64_shr_s, (uint64_t)((int64_t)a >> (b & 63)))     \
    X(0x88, i64_shr_u, a >> (b & 63)) X(0x89, i64_rotl, rotl64(a, b))                          \
    X(0x8A, i64_rotr, rotr64(a, b))
#define I64_CMPS(X)                                                                            \
    X(0x51, i64_eq, a == b) X(0x52, i64_ne, a != b) X(0x53, i64_lt_s, (int64_t)a < (int64_t)b) \
    X(0x54, i64_lt_u, a < b) X(0x55, i64_gt_s, (int64_t)a > (int64_t)b) X(0x56, i64_gt_u, a > b) \
    X(0x57, i64_le_s, (int64_t)a <= (int64_t)b) X(0x58, i64_le_u, a <= b)                      \
    X(0x59, i64_ge_s, (int64_t)a >= (int64_t)b) X(0x5A, i64_ge_u, a >= b)

/* Float binary operations (with `_i` forms) and comparisons. */
#define F32_BINOPS(X)                                                                          \
    X(0x92, f32_add, a + b) X(0x93, f32_sub, a - b) X(0x94, f32_mul, a * b)                    \
    X(0x95, f32_div, a / b) X(0x96, f32_min, fmin32(a, b)) X(0x97, f32_max, fmax32(a, b))
#define F64_BINOPS(X)                                                                          \
    X(0xA0, f64_add, a + b) X(0xA1, f64_sub, a - b) X(0xA2, f64_mul, a * b)                    \
    X(0xA3, f64_div, a / b) X(0xA4, f64_min, fmin64(a, b)) X(0xA5, f64_max, fmax64(a, b))
#define F32_CMPS(X)                                                                            \
    X(0x5B, f32_eq, a == b) X(0x5C, f32_ne, a != b) X(0x5D, f32_lt, a < b)                     \
    X(0x5E, f32_gt, a > b) X(0x5F, f32_le, a <= b) X(0x60, f32_ge, a >= b)
#define F64_CMPS(X)                                                                            \
    X(0x61, f64_eq, a == b) X(0x62, f64_ne, a != b) X(0x63, f64_lt, a < b)                     \
    X(0x64, f64_gt, a > b) X(0x65, f64_le, a <= b) X(0x66, f64_ge, a >= b)

/* Trapping integer division: X(opcode, name, type, signed type, is_rem, is_signed). */
#define DIVOPS(X)                                                                              \
    X(0x6D, i32_div_s, uint32_t, int32_t, 0, 1) X(0x6E, i32_div_u, uint32_t, int32_t, 0, 0)    \
    X(0x6F, i32_rem_s, uint32_t, int32_t, 1, 1) X(0x70, i32_rem_u, uint32_t, int32_t, 1, 0)    \
    X(0x7F, i64_div_s, uint64_t, int64_t, 0, 1) X(0x80, i64_div_u, uint64_t, int64_t, 0, 0)    \
    X(0x81, i64_rem_s, uint64_t, int64_t, 1, 1) X(0x82, i64_rem_u, uint64_t, int64_t, 1, 0)

/* Rounding keeps a signalling NaN's bits in libm; WebAssembly wants a quiet (arithmetic) NaN. */
#define QNAN(a, e) ((a) != (a) ? (a) + (a) : (e))

/* Unary operations: X(opcode, name, operand type, result type, expression of a). Types are the
 * suffixes of the GET_/PUT_ conversion macros: i32 i64 f32 f64. Reinterpretations are absent:
 * values are kept as raw bits, so they translate to nothing. */
#define UNOPS(X)                                                                               \
    X(0x45, i32_eqz, i32, i32, a == 0) X(0x67, i32_clz, i32, i32, a ? __builtin_clz(a) : 32)   \
    X(0x68, i32_ctz, i32, i32, a ? __builtin_ctz(a) : 32)                                      \
    X(0x69, i32_popcnt, i32, i32, __builtin_popcount(a))                                       \
    X(0x50, i64_eqz, i64, i32, a == 0) X(0x79, i64_clz, i64, i64, a ? __builtin_clzll(a) : 64) \
    X(0x7A, i64_ctz, i64, i64, a ? __builtin_ctzll(a) : 64)                                    \
    X(0x7B, i64_popcnt, i64, i64, __builtin_popcountll(a))                                     \
    X(0x8B, f32_abs, f32, f32, fabsf(a)) X(0x8C, f32_neg, f32, f32, -a)                        \
    X(0x8D, f32_ceil, f32, f32, QNAN(a, ceilf(a))) X(0x8E, f32_floor, f32, f32, QNAN(a, floorf(a)))              \
    X(0x8F, f32_trunc, f32, f32, QNAN(a, truncf(a))) X(0x90, f32_nearest, f32, f32, QNAN(a, rintf(a)))           \
    X(0x91, f32_sqrt, f32, f32, sqrtf(a)) \
    X(0x99, f64_abs, f64, f64, fabs(a)) X(0x9A, f64_neg, f64, f64, -a)                         \
    X(0x9B, f64_ceil, f64, f64, QNAN(a, ceil(a))) X(0x9C, f64_floor, f64, f64, QNAN(a, floor(a)))                \
    X(0x9D, f64_trunc, f64, f64, QNAN(a, trunc(a))) X(0x9E, f64_nearest, f64, f64, QNAN(a, rint(a)))             \
    X(0x9F, f64_sqrt, f64, f64, sqrt(a))                                                       \
    X(0xA7, i32_wrap_i64, i64, i32, (uint32_t)a)                                               \
    X(0xAC, i64_extend_i32_s, i32, i64, (uint64_t)(int64_t)(int32_t)a)                         \
    X(0xAD, i64_extend_i32_u, i32, i64, (uint64_t)a)                                           \
    X(0xB2, f32_convert_i32_s, i32, f32, (float)(int32_t)a)                                    \
    X(0xB3, f32_convert_i32_u, i32, f32, (float)a)                                             \
    X(0xB4, f32_convert_i64_s, i64, f32, (float)(int64_t)a)                                    \
    X(0xB5, f32_convert_i64_u, i64, f32, (float)a)                                             \
    X(0xB6, f32_demote_f64, f64, f32, (float)a)                                                \
    X(0xB7, f64_convert_i32_s, i32, f64, (double)(int32_t)a)                                   \
    X(0xB8, f64_convert_i32_u, i32, f64, (double)a)                                            \
    X(0xB9, f64_convert_i64_s, i64, f64, (double)(int64_t)a)                                   \
    X(0xBA, f64_convert_i64_u, i64, f64, (double)a)                                            \
    X(0xBB, f64_promote_f32, f32, f64, (double)a)                                              \
    X(0xC0, i32_extend8_s, i32, i32, (uint32_t)(int32_t)(int8_t)a)                             \
    X(0xC1, i32_extend16_s, i32, i32, (uint32_t)(int32_t)(int16_t)a)                           \
    X(0xC2, i64_extend8_s, i64, i64, (uint64_t)(int64_t)(int8_t)a)                             \
    X(0xC3, i64_extend16_s, i64, i64, (uint64_t)(int64_t)(int16_t)a)                           \
    X(0xC4, i64_extend32_s, i64, i64, (uint64_t)(int64_t)(int32_t)a)

/* Float-to-integer truncation: X(opcode, saturating opcode (after 0xFC), name, operand type,
 * result C type, exclusive lower bound, exclusive upper bound, min, max). */
#define TRUNCOPS(X)                                                                            \
    X(0xA8, 0, i32_trunc_f32_s, f32, int32_t, -2147483649.0, 2147483648.0, INT32_MIN, INT32_MAX) \
    X(0xA9, 1, i32_trunc_f32_u, f32, uint32_t, -1.0, 4294967296.0, 0, UINT32_MAX)              \
    X(0xAA, 2, i32_trunc_f64_s, f64, int32_t, -2147483649.0, 2147483648.0, INT32_MIN, INT32_MAX) \
    X(0xAB, 3, i32_trunc_f64_u, f64, uint32_t, -1.0, 4294967296.0, 0, UINT32_MAX)              \
    X(0xAE, 4, i64_trunc_f32_s, f32, int64_t, -9223372036854777856.0, 9223372036854775808.0,   \
      INT64_MIN, INT64_MAX)                                                                    \
    X(0xAF, 5, i64_trunc_f32_u, f32, uint64_t, -1.0, 18446744073709551616.0, 0, UINT64_MAX)    \
    X(0xB0, 6, i64_trunc_f64_s, f64, int64_t, -9223372036854777856.0, 9223372036854775808.0,   \
      INT64_MIN, INT64_MAX)                                                                    \
    X(0xB1, 7, i64_trunc_f64_u, f64, uint64_t, -1.0, 18446744073709551616.0, 0, UINT64_MAX)

/* Loads and stores: X(opcode, name, bytes, C type of memory, result/operand value type, natural
 * alignment log2). Loads widen the memory type to the slot by the C conversion. */
#define LOADOPS(X)                                                                             \
    X(0x28, i32_load, 4, uint32_t, I32, 2) X(0x29, i64_load, 8, uint64_t, I64, 3)              \
    X(0x2A, f32_load, 4, uint32_t, F32, 2) X(0x2B, f64_load, 8, uint64_t, F64, 3)              \
    X(0x2C, i32_load8_s, 1, int8_t, I32, 0) X(0x2D, i32_load8_u, 1, uint8_t, I32, 0)           \
    X(0x2E, i32_load16_s, 2, int16_t, I32, 1) X(0x2F, i32_load16_u, 2, uint16_t, I32, 1)       \
    X(0x30, i64_load8_s, 1, int8_t, I64, 0) X(0x31, i64_load8_u, 1, uint8_t, I64, 0)           \
    X(0x32, i64_load16_s, 2, int16_t, I64, 1) X(0x33, i64_load16_u, 2, uint16_t, I64, 1)       \
    X(0x34, i64_load32_s, 4, int32_t, I64, 2) X(0x35, i64_load32_u, 4, uint32_t, I64, 2)
#define STOREOPS(X)                                                                            \
    X(0x36, i32_store, 4, uint32_t, I32, 2) X(0x37, i64_store, 8, uint64_t, I64, 3)            \
    X(0x38, f32_store, 4, uint32_t, F32, 2) X(0x39, f64_store, 8, uint64_t, F64, 3)            \
    X(0x3A, i32_store8, 1, uint8_t, I32, 0) X(0x3B, i32_store16, 2, uint16_t, I32, 1)          \
    X(0x3C, i64_store8, 1, uint8_t, I64, 0) X(0x3D, i64_store16, 2, uint16_t, I64, 1)          \
    X(0x3E, i64_store32, 4, uint32_t, I64, 2)

/* Everything else (control, variables, memory and table management). */
#define MISCOPS(X)                                                                             \
    X(unreachable) X(mov) X(const) X(select) X(br) X(br_if) X(br_unless) X(br_table)           \
    X(call) X(call_indirect) X(ret) X(ret1) X(fuel) X(global_get) X(global_set)                 \
    X(memory_size) X(memory_grow) X(memory_fill) X(memory_copy) X(memory_init) X(data_drop)    \
    X(table_get) X(table_set) X(table_size) X(table_grow) X(table_fill) X(table_copy)          \
    X(table_init) X(elem_drop) X(ref_is_null) X(ref_func) X(f32_copysign) X(f64_copysign)      \
    X(br_if64) X(br_unless64) X(mov2)

/* SIMD operations the translator emits besides simdops.h's families (v128 moves, select and
 * globals take two slots), and v128.store, which gets the same address forms as other stores. */
#define SIMD_MISCOPS(X)                                                                        \
    X(v128_mov) X(v128_select) X(v128_global_get) X(v128_global_set) X(v128_const)             \
    X(i8x16_shuffle)
#define SIMD_STORE(X) X(11, v128_store, 16, 4)

/* The enumeration of every handler. Compare ops get a fused compare-and-branch form (`_br`,
 * branch when true) with register and immediate second operands. Loads and stores get forms
 * that compute the address themselves: `_ai` (slot + immediate, wrapped to 32 bits) and `_aa`
 * (slot + slot), absorbing the i32.add that compilers emit before most memory accesses, and `_k`
 * (constant address: C globals). Integer and float binary operations have `_i` forms taking the
 * second operand as an immediate. */
#define OPS_ENUM_BIN(opc, name, expr) OP_##name, OP_##name##_i, OP_##name##_a, OP_##name##_ai,
#define OPS_ENUM_UN(opc, name, ...) OP_##name, OP_##name##_a,
#define OPS_ENUM_CMP(opc, name, expr) OP_##name, OP_##name##_i, OP_##name##_br, OP_##name##_ibr,
#define OPS_ENUM_ONE(opc, name, ...) OP_##name,
#define OPS_ENUM_TRUNC(opc, sat, name, ...) OP_##name, OP_##name##_sat,
#define OPS_ENUM_MEM(opc, name, ...) OP_##name, OP_##name##_ai, OP_##name##_aa, OP_##name##_k,
#define OPS_ENUM_MISC(name) OP_##name,
enum op {
    /* Operations before OP_ACC_END also leave their result in the interpreter's accumulator
     * register; their `_a` forms take the first operand from it instead of a slot, which
     * spares a store-to-load round trip when an instruction consumes the previous result. */
    I32_BINOPS(OPS_ENUM_BIN) I64_BINOPS(OPS_ENUM_BIN) F32_BINOPS(OPS_ENUM_BIN)
    F64_BINOPS(OPS_ENUM_BIN) UNOPS(OPS_ENUM_UN) DIVOPS(OPS_ENUM_ONE) LOADOPS(OPS_ENUM_MEM)
    OP_ACC_END,
    I32_CMPS(OPS_ENUM_CMP) I64_CMPS(OPS_ENUM_CMP) F32_CMPS(OPS_ENUM_ONE) F64_CMPS(OPS_ENUM_ONE)
    TRUNCOPS(OPS_ENUM_TRUNC) STOREOPS(OPS_ENUM_MEM) MISCOPS(OPS_ENUM_MISC)
    SIMD_UNOPS(OPS_ENUM_ONE) SIMD_BINOPS(OPS_ENUM_ONE) SIMD_TERNOPS(OPS_ENUM_ONE)
    SIMD_TESTS(OPS_ENUM_ONE) SIMD_SHIFTS(OPS_ENUM_ONE) SIMD_SPLATS(OPS_ENUM_ONE)
    SIMD_EXTRACTS(OPS_ENUM_ONE) SIMD_REPLACES(OPS_ENUM_ONE) SIMD_LOADS(OPS_ENUM_MEM)
    SIMD_STORE(OPS_ENUM_MEM) SIMD_LANE_LOADS(OPS_ENUM_ONE) SIMD_LANE_STORES(OPS_ENUM_ONE)
    SIMD_MISCOPS(OPS_ENUM_MISC)
    OP_COUNT
};

#endif
