/* simd.c - SIMD (v128) operations for the compiled tier.
 *
 * A v128 lives in two consecutive frame slots, as in the interpreter. Nearly every operation is
 * inline SSE2/SSSE3/SSE4.1 (the compiled tier runs only where the CPU has SSE4.1 and POPCNT:
 * wasm_engine_available in run.c): a short program over xmm0..xmm3 from the table below, the
 * same instructions as the SSE4.1 form in simd.h that the interpreter runs, so results agree bit
 * for bit, NaNs included (simd.h pins which operand's NaN an arithmetic result carries). The few
 * left (the i64x2 signed compares, whose pcmpgtq is SSE4.2, and the f64x2 -> i32x4 saturating
 * truncations) call an out-of-line helper that runs the interpreter's own code on the slots.
 *
 * Operands are loaded with movdqu (frame slots are only 8-byte aligned, so no 16-byte memory
 * operand is used) and each result is written with one 16-byte store. Scratch: xmm0..xmm3, rax,
 * rcx; codegen.c has emptied its register caches before anything here runs. */
#include "wasm/jit/jc.h"
#include "wasm/ops.h"
#include "wasm/simd.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ out-of-line helpers */

/* The operations not inlined: the i64x2 signed compares (pcmpgtq is SSE4.2, which the tier does
 * not require) and the f64x2 -> i32x4 saturating truncations (rare; their SSE form needs a
 * 64-bit constant). */
#define HELPER_BINOPS(X) X(i64x2_lt_s) X(i64x2_gt_s) X(i64x2_le_s) X(i64x2_ge_s)
#define HELPER_UNOPS(X) X(i32x4_trunc_sat_f64x2_s_zero) X(i32x4_trunc_sat_f64x2_u_zero)
#define D_SUN(name) \
    static void h_##name(slot_t *d, const slot_t *a) { v128_put(d, simd_##name(v128_get(a))); }
#define D_SBIN(name)                                                                             \
    static void h_##name(slot_t *d, const slot_t *a, const slot_t *b)                            \
    {                                                                                            \
        v128_put(d, simd_##name(v128_get(a), v128_get(b)));                                      \
    }
HELPER_UNOPS(D_SUN) HELPER_BINOPS(D_SBIN)

/* ------------------------------------------------------------------ instruction tables */

/* One step of an inline operation. The instruction's prefix and opcode bytes are named as in
 * the Intel manual (0x0F3840 is 0F 38 40); registers are xmm numbers. */
enum {
    S_RR,   /* op xmm d, xmm s */
    S_RRI,  /* op xmm d, xmm s, imm8 */
    S_SHI,  /* shift group by imm8: 66 opc /s ib on xmm d (s: the /digit) */
    S_K32,  /* xmm d = the 32-bit constant opc in every lane (mov eax; movd; pshufd) */
    S_MEM,  /* op xmm d, [operand s]: s < MEMORY: the frame slot in cell s; MEMORY: [r13 + rax] */
    S_MEMI, /* the same with imm8 */
};
#define MEMORY 15
typedef struct step {
    uint8_t kind;
    uint32_t op; /* I(prefix, opcode), or S_K32's constant */
    uint8_t d, s, imm;
} step;
/* An instruction: mandatory prefix (or 0) in the top byte, then 2 or 3 opcode bytes. */
#define I(pfx, opc) ((uint32_t)(pfx) << 24 | (opc))

/* How an operation's operands are laid out in its cells: vector inputs loaded into xmm0.. before
 * the steps, and the cell that names the destination. */
enum { UN, BIN, TERN, SCALAR, LOAD };
static const uint8_t shape_inputs[] = {[UN] = 1, [BIN] = 2, [TERN] = 3, [SCALAR] = 0, [LOAD] = 0};

typedef struct inline_op {
    uint16_t op;
    uint8_t shape, res, n;
    const step *s;
} inline_op;

#define R(ins, d, s) {S_RR, ins, d, s, 0}
#define RI(ins, d, s, imm) {S_RRI, ins, d, s, imm}
#define SHI(opc, digit, d, n) {S_SHI, I(0x66, opc), d, digit, n}
#define K32(d, v) {S_K32, v, d, 0, 0}
#define M(ins, d, s) {S_MEM, ins, d, s, 0}
#define MI(ins, d, s, imm) {S_MEMI, ins, d, s, imm}
#define STEPS(...) (const step[]){__VA_ARGS__}
#define NSTEPS(...) (uint8_t)(sizeof(STEPS(__VA_ARGS__)) / sizeof(step))
#define E(name, shape, res, ...) {OP_##name, shape, res, NSTEPS(__VA_ARGS__), STEPS(__VA_ARGS__)},

#define PADDB I(0x66, 0x0FFC)
#define PADDW I(0x66, 0x0FFD)
#define PADDD I(0x66, 0x0FFE)
#define PADDQ I(0x66, 0x0FD4)
#define PSUBB I(0x66, 0x0FF8)
#define PSUBW I(0x66, 0x0FF9)
#define PSUBD I(0x66, 0x0FFA)
#define PSUBQ I(0x66, 0x0FFB)
#define PADDSB I(0x66, 0x0FEC)
#define PADDSW I(0x66, 0x0FED)
#define PADDUSB I(0x66, 0x0FDC)
#define PADDUSW I(0x66, 0x0FDD)
#define PSUBSB I(0x66, 0x0FE8)
#define PSUBSW I(0x66, 0x0FE9)
#define PSUBUSB I(0x66, 0x0FD8)
#define PSUBUSW I(0x66, 0x0FD9)
#define PAVGB I(0x66, 0x0FE0)
#define PAVGW I(0x66, 0x0FE3)
#define PMULLW I(0x66, 0x0FD5)
#define PMULLD I(0x66, 0x0F3840)
#define PMULUDQ I(0x66, 0x0FF4)
#define PMULDQ I(0x66, 0x0F3828)
#define PMADDWD I(0x66, 0x0FF5)
#define PMADDUBSW I(0x66, 0x0F3804)
#define PMULHRSW I(0x66, 0x0F380B)
#define PMINUB I(0x66, 0x0FDA)
#define PMAXUB I(0x66, 0x0FDE)
#define PMINSW I(0x66, 0x0FEA)
#define PMAXSW I(0x66, 0x0FEE)
#define PMINSB I(0x66, 0x0F3838)
#define PMAXSB I(0x66, 0x0F383C)
#define PMINUW I(0x66, 0x0F383A)
#define PMAXUW I(0x66, 0x0F383E)
#define PMINSD I(0x66, 0x0F3839)
#define PMAXSD I(0x66, 0x0F383D)
#define PMINUD I(0x66, 0x0F383B)
#define PMAXUD I(0x66, 0x0F383F)
#define PCMPEQB I(0x66, 0x0F74)
#define PCMPEQW I(0x66, 0x0F75)
#define PCMPEQD I(0x66, 0x0F76)
#define PCMPEQQ I(0x66, 0x0F3829)
#define PCMPGTB I(0x66, 0x0F64)
#define PCMPGTW I(0x66, 0x0F65)
#define PCMPGTD I(0x66, 0x0F66)
#define PACKSSWB I(0x66, 0x0F63)
#define PACKUSWB I(0x66, 0x0F67)
#define PACKSSDW I(0x66, 0x0F6B)
#define PACKUSDW I(0x66, 0x0F382B)
#define PAND I(0x66, 0x0FDB)
#define PANDN I(0x66, 0x0FDF)
#define POR I(0x66, 0x0FEB)
#define PXOR I(0x66, 0x0FEF)
#define PABSB I(0x66, 0x0F381C)
#define PABSW I(0x66, 0x0F381D)
#define PABSD I(0x66, 0x0F381E)
#define PMOVSXBW I(0x66, 0x0F3820)
#define PMOVSXWD I(0x66, 0x0F3823)
#define PMOVSXDQ I(0x66, 0x0F3825)
#define PMOVZXBW I(0x66, 0x0F3830)
#define PMOVZXWD I(0x66, 0x0F3833)
#define PMOVZXDQ I(0x66, 0x0F3835)
#define PSHUFB I(0x66, 0x0F3800)
#define PSHUFD I(0x66, 0x0F70)
#define PSHUFLW I(0xF2, 0x0F70)
#define PUNPCKLBW I(0x66, 0x0F60)
#define PUNPCKHBW I(0x66, 0x0F68)
#define PUNPCKLDQ I(0x66, 0x0F62)
#define PUNPCKLQDQ I(0x66, 0x0F6C)
#define MOVDQA I(0x66, 0x0F6F)
#define MOVD I(0x66, 0x0F6E)
#define MOVQ I(0xF3, 0x0F7E)
#define PINSRB I(0x66, 0x0F3A20)
#define PINSRW I(0x66, 0x0FC4)
#define PMOVMSKB I(0x66, 0x0FD7)
#define ADDPS I(0, 0x0F58)
#define SUBPS I(0, 0x0F5C)
#define MULPS I(0, 0x0F59)
#define DIVPS I(0, 0x0F5E)
#define MINPS I(0, 0x0F5D)
#define MAXPS I(0, 0x0F5F)
#define SQRTPS I(0, 0x0F51)
#define CMPPS I(0, 0x0FC2)
#define ADDPD I(0x66, 0x0F58)
#define SUBPD I(0x66, 0x0F5C)
#define MULPD I(0x66, 0x0F59)
#define DIVPD I(0x66, 0x0F5E)
#define MINPD I(0x66, 0x0F5D)
#define MAXPD I(0x66, 0x0F5F)
#define SQRTPD I(0x66, 0x0F51)
#define CMPPD I(0x66, 0x0FC2)
#define ANDPS I(0, 0x0F54)
#define ANDNPS I(0, 0x0F55)
#define ORPS I(0, 0x0F56)
#define MOVAPS I(0, 0x0F28)
#define ROUNDPS I(0x66, 0x0F3A08)
#define ROUNDPD I(0x66, 0x0F3A09)
#define CVTDQ2PS I(0, 0x0F5B)
#define CVTTPS2DQ I(0xF3, 0x0F5B)
#define CVTDQ2PD I(0xF3, 0x0FE6)
#define CVTPD2PS I(0x66, 0x0F5A)
#define CVTPS2PD I(0, 0x0F5A)
/* immediate shifts: 66 0F 71 (words) / 72 (dwords) / 73 (qwords, and psrldq /3) */
#define PSRLWI(d, n) SHI(0x0F71, 2, d, n)
#define PSRAWI(d, n) SHI(0x0F71, 4, d, n)
#define PSLLWI(d, n) SHI(0x0F71, 6, d, n)
#define PSRLDI(d, n) SHI(0x0F72, 2, d, n)
#define PSRADI(d, n) SHI(0x0F72, 4, d, n)
#define PSLLDI(d, n) SHI(0x0F72, 6, d, n)
#define PSRLQI(d, n) SHI(0x0F73, 2, d, n)
#define PSLLQI(d, n) SHI(0x0F73, 6, d, n)
#define PSRLDQI(d, n) SHI(0x0F73, 3, d, n)
#define ONES(r) R(PCMPEQD, r, r)
#define ZERO(r) R(PXOR, r, r)
#define NOT0 ONES(3), R(PXOR, 0, 3) /* xmm0 = ~xmm0 */

/* Integer shapes: eq/gt for the signed compares, min/max for the unsigned ones (a <=u b is
 * min(a, b) == a), add/sub/neg. */
#define ICMP(P, EQ, GT, MINU, MAXU)                                                              \
    E(P##_eq, BIN, 0, R(EQ, 0, 1))                                                               \
    E(P##_ne, BIN, 0, R(EQ, 0, 1), NOT0)                                                         \
    E(P##_gt_s, BIN, 0, R(GT, 0, 1))                                                             \
    E(P##_lt_s, BIN, 1, R(GT, 1, 0))                                                             \
    E(P##_le_s, BIN, 0, R(GT, 0, 1), NOT0)                                                       \
    E(P##_ge_s, BIN, 0, R(GT, 1, 0), R(MOVDQA, 0, 1), NOT0)                                      \
    E(P##_le_u, BIN, 0, R(MOVDQA, 2, 0), R(MINU, 0, 1), R(EQ, 0, 2))                             \
    E(P##_ge_u, BIN, 0, R(MOVDQA, 2, 0), R(MAXU, 0, 1), R(EQ, 0, 2))                             \
    E(P##_gt_u, BIN, 0, R(MOVDQA, 2, 0), R(MINU, 0, 1), R(EQ, 0, 2), NOT0)                       \
    E(P##_lt_u, BIN, 0, R(MOVDQA, 2, 0), R(MAXU, 0, 1), R(EQ, 0, 2), NOT0)
#define IARITH(P, ADD, SUB)                                                                      \
    E(P##_add, BIN, 0, R(ADD, 0, 1))                                                             \
    E(P##_sub, BIN, 0, R(SUB, 0, 1))                                                             \
    E(P##_neg, UN, 1, ZERO(1), R(SUB, 1, 0))
#define MINMAX(P, MINS, MAXS, MINU, MAXU)                                                        \
    E(P##_min_s, BIN, 0, R(MINS, 0, 1)) E(P##_max_s, BIN, 0, R(MAXS, 0, 1))                      \
    E(P##_min_u, BIN, 0, R(MINU, 0, 1)) E(P##_max_u, BIN, 0, R(MAXU, 0, 1))
/* D from S: sign/zero extension of the low half (the high half shifted down first), and the
 * extending multiplications as extend-both-then-multiply (exact in the wider lanes). */
#define WIDEN(D, S, SX, ZX, MULS, MULU)                                                          \
    E(D##_extend_low_##S##_s, UN, 0, R(SX, 0, 0))                                                \
    E(D##_extend_high_##S##_s, UN, 0, PSRLDQI(0, 8), R(SX, 0, 0))                                \
    E(D##_extend_low_##S##_u, UN, 0, R(ZX, 0, 0))                                                \
    E(D##_extend_high_##S##_u, UN, 0, PSRLDQI(0, 8), R(ZX, 0, 0))                                \
    E(D##_extmul_low_##S##_s, BIN, 0, R(SX, 0, 0), R(SX, 1, 1), R(MULS, 0, 1))                   \
    E(D##_extmul_high_##S##_s, BIN, 0, PSRLDQI(0, 8), PSRLDQI(1, 8), R(SX, 0, 0), R(SX, 1, 1),   \
      R(MULS, 0, 1))                                                                             \
    E(D##_extmul_low_##S##_u, BIN, 0, R(ZX, 0, 0), R(ZX, 1, 1), R(MULU, 0, 1))                   \
    E(D##_extmul_high_##S##_u, BIN, 0, PSRLDQI(0, 8), PSRLDQI(1, 8), R(ZX, 0, 0), R(ZX, 1, 1),   \
      R(MULU, 0, 1))
/* Floats. min/max as simd.h's SSE form: min in both operand orders ORed (-0 wins; x86 returns
 * the second operand for NaNs and equal values), max ANDed (+0 wins), then NaN lanes become the
 * canonical NaN with the sign set (the unordered mask shifted right by SH leaves its sign and
 * exponent and quiet bit). pmin/pmax are x86's min/max with the operands swapped, which is
 * exactly their definition (b < a ? b : a). */
#define FLOAT(P, ADD, SUB, MUL, DIV, MIN, MAX, SQRT, CMP, ROUND, OR_, AND_, SRLI, SH, ABSSH, SIGN) \
    E(P##_add, BIN, 0, R(ADD, 0, 1)) E(P##_sub, BIN, 0, R(SUB, 0, 1))                            \
    E(P##_mul, BIN, 0, R(MUL, 0, 1)) E(P##_div, BIN, 0, R(DIV, 0, 1))                            \
    E(P##_eq, BIN, 0, RI(CMP, 0, 1, 0)) E(P##_ne, BIN, 0, RI(CMP, 0, 1, 4))                      \
    E(P##_lt, BIN, 0, RI(CMP, 0, 1, 1)) E(P##_le, BIN, 0, RI(CMP, 0, 1, 2))                      \
    E(P##_gt, BIN, 1, RI(CMP, 1, 0, 1)) E(P##_ge, BIN, 1, RI(CMP, 1, 0, 2))                      \
    E(P##_pmin, BIN, 1, R(MIN, 1, 0)) E(P##_pmax, BIN, 1, R(MAX, 1, 0))                          \
    E(P##_min, BIN, 3, R(MOVAPS, 2, 0), R(MIN, 2, 1), R(MOVAPS, 3, 1), R(MIN, 3, 0),             \
      R(OR_, 2, 3), R(MOVAPS, 3, 0), RI(CMP, 3, 1, 3), R(OR_, 2, 3), SRLI(3, SH), R(ANDNPS, 3, 2)) \
    E(P##_max, BIN, 3, R(MOVAPS, 2, 0), R(MAX, 2, 1), R(MOVAPS, 3, 1), R(MAX, 3, 0),             \
      R(AND_, 2, 3), R(MOVAPS, 3, 0), RI(CMP, 3, 1, 3), R(OR_, 2, 3), SRLI(3, SH), R(ANDNPS, 3, 2)) \
    E(P##_sqrt, UN, 0, R(SQRT, 0, 0))                                                            \
    E(P##_nearest, UN, 0, RI(ROUND, 0, 0, 8)) E(P##_floor, UN, 0, RI(ROUND, 0, 0, 9))            \
    E(P##_ceil, UN, 0, RI(ROUND, 0, 0, 10)) E(P##_trunc, UN, 0, RI(ROUND, 0, 0, 11))             \
    E(P##_abs, UN, 0, ONES(1), SRLI(1, 1), R(PAND, 0, 1))                                        \
    E(P##_neg, UN, 0, ONES(1), SIGN(1, ABSSH), R(PXOR, 0, 1))

static const inline_op inline_ops[] = {
    E(v128_not, UN, 0, NOT0)
    E(v128_and, BIN, 0, R(PAND, 0, 1)) E(v128_or, BIN, 0, R(POR, 0, 1))
    E(v128_xor, BIN, 0, R(PXOR, 0, 1)) E(v128_andnot, BIN, 1, R(PANDN, 1, 0))
    E(v128_bitselect, TERN, 0, R(PAND, 0, 2), R(PANDN, 2, 1), R(POR, 0, 2))
    ICMP(i8x16, PCMPEQB, PCMPGTB, PMINUB, PMAXUB)
    ICMP(i16x8, PCMPEQW, PCMPGTW, PMINUW, PMAXUW)
    ICMP(i32x4, PCMPEQD, PCMPGTD, PMINUD, PMAXUD)
    E(i64x2_eq, BIN, 0, R(PCMPEQQ, 0, 1)) E(i64x2_ne, BIN, 0, R(PCMPEQQ, 0, 1), NOT0)
    IARITH(i8x16, PADDB, PSUBB) IARITH(i16x8, PADDW, PSUBW)
    IARITH(i32x4, PADDD, PSUBD) IARITH(i64x2, PADDQ, PSUBQ)
    E(i8x16_add_sat_s, BIN, 0, R(PADDSB, 0, 1)) E(i8x16_add_sat_u, BIN, 0, R(PADDUSB, 0, 1))
    E(i8x16_sub_sat_s, BIN, 0, R(PSUBSB, 0, 1)) E(i8x16_sub_sat_u, BIN, 0, R(PSUBUSB, 0, 1))
    E(i16x8_add_sat_s, BIN, 0, R(PADDSW, 0, 1)) E(i16x8_add_sat_u, BIN, 0, R(PADDUSW, 0, 1))
    E(i16x8_sub_sat_s, BIN, 0, R(PSUBSW, 0, 1)) E(i16x8_sub_sat_u, BIN, 0, R(PSUBUSW, 0, 1))
    E(i8x16_avgr_u, BIN, 0, R(PAVGB, 0, 1)) E(i16x8_avgr_u, BIN, 0, R(PAVGW, 0, 1))
    MINMAX(i8x16, PMINSB, PMAXSB, PMINUB, PMAXUB) MINMAX(i16x8, PMINSW, PMAXSW, PMINUW, PMAXUW)
    MINMAX(i32x4, PMINSD, PMAXSD, PMINUD, PMAXUD)
    E(i8x16_abs, UN, 0, R(PABSB, 0, 0)) E(i16x8_abs, UN, 0, R(PABSW, 0, 0))
    E(i32x4_abs, UN, 0, R(PABSD, 0, 0))
    /* |x| = (x ^ s) - s, s = the sign of each 64-bit lane (the high dword's, copied) */
    E(i64x2_abs, UN, 0, R(MOVDQA, 1, 0), PSRADI(1, 31), RI(PSHUFD, 1, 1, 0xF5), R(PXOR, 0, 1),
      R(PSUBQ, 0, 1))
    E(i16x8_mul, BIN, 0, R(PMULLW, 0, 1)) E(i32x4_mul, BIN, 0, R(PMULLD, 0, 1))
    /* lo*lo + ((hi*lo + lo*hi) << 32), as simd.h */
    E(i64x2_mul, BIN, 0, R(MOVDQA, 2, 0), PSRLQI(2, 32), R(PMULUDQ, 2, 1), R(MOVDQA, 3, 1),
      PSRLQI(3, 32), R(PMULUDQ, 3, 0), R(PADDQ, 2, 3), PSLLQI(2, 32), R(PMULUDQ, 0, 1),
      R(PADDQ, 0, 2))
    E(i32x4_dot_i16x8_s, BIN, 0, R(PMADDWD, 0, 1))
    /* pmulhrsw overflows only for -32768 * -32768, to -32768: flip those lanes to 32767 */
    E(i16x8_q15mulr_sat_s, BIN, 0, R(PMULHRSW, 0, 1), K32(1, 0x80008000), R(PCMPEQW, 1, 0),
      R(PXOR, 0, 1))
    E(i8x16_narrow_i16x8_s, BIN, 0, R(PACKSSWB, 0, 1)) E(i8x16_narrow_i16x8_u, BIN, 0, R(PACKUSWB, 0, 1))
    E(i16x8_narrow_i32x4_s, BIN, 0, R(PACKSSDW, 0, 1)) E(i16x8_narrow_i32x4_u, BIN, 0, R(PACKUSDW, 0, 1))
    WIDEN(i16x8, i8x16, PMOVSXBW, PMOVZXBW, PMULLW, PMULLW)
    WIDEN(i32x4, i16x8, PMOVSXWD, PMOVZXWD, PMULLD, PMULLD)
    WIDEN(i64x2, i32x4, PMOVSXDQ, PMOVZXDQ, PMULDQ, PMULUDQ)
    E(i16x8_extadd_pairwise_i8x16_s, UN, 1, K32(1, 0x01010101), R(PMADDUBSW, 1, 0))
    E(i16x8_extadd_pairwise_i8x16_u, UN, 0, K32(1, 0x01010101), R(PMADDUBSW, 0, 1))
    E(i32x4_extadd_pairwise_i16x8_s, UN, 0, K32(1, 0x00010001), R(PMADDWD, 0, 1))
    E(i32x4_extadd_pairwise_i16x8_u, UN, 0, R(MOVDQA, 1, 0), PSLLDI(0, 16), PSRLDI(0, 16),
      PSRLDI(1, 16), R(PADDD, 0, 1))
    /* bit counts per byte, as simd.h's sv_popcnt8 */
    E(i8x16_popcnt, UN, 0, R(MOVDQA, 1, 0), PSRLWI(1, 1), K32(2, 0x55555555), R(PAND, 1, 2),
      R(PSUBB, 0, 1), K32(2, 0x33333333), R(MOVDQA, 1, 0), R(PAND, 0, 2), PSRLWI(1, 2),
      R(PAND, 1, 2), R(PADDB, 0, 1), R(MOVDQA, 1, 0), PSRLWI(1, 4), R(PADDB, 0, 1),
      K32(2, 0x0F0F0F0F), R(PAND, 0, 2))
    /* out-of-range indices (>= 16) are pushed to >= 0x80, which pshufb turns into 0 */
    E(i8x16_swizzle, BIN, 0, K32(2, 0x70707070), R(PADDUSB, 1, 2), R(PSHUFB, 0, 1))
    FLOAT(f32x4, ADDPS, SUBPS, MULPS, DIVPS, MINPS, MAXPS, SQRTPS, CMPPS, ROUNDPS, ORPS, ANDPS,
          PSRLDI, 10, 31, PSLLDI)
    FLOAT(f64x2, ADDPD, SUBPD, MULPD, DIVPD, MINPD, MAXPD, SQRTPD, CMPPD, ROUNDPD, ORPS, ANDPS,
          PSRLQI, 13, 63, PSLLQI)
    E(f32x4_demote_f64x2_zero, UN, 0, R(CVTPD2PS, 0, 0))
    E(f64x2_promote_low_f32x4, UN, 0, R(CVTPS2PD, 0, 0))
    E(f32x4_convert_i32x4_s, UN, 0, R(CVTDQ2PS, 0, 0))
    E(f64x2_convert_low_i32x4_s, UN, 0, R(CVTDQ2PD, 0, 0))
    /* both 16-bit halves convert exactly, the sum rounds once (simd.h's sv_convert_u32) */
    E(f32x4_convert_i32x4_u, UN, 1, R(MOVDQA, 1, 0), PSRLDI(1, 16), R(CVTDQ2PS, 1, 1),
      K32(2, 0x47800000 /* 65536.0f */), R(MULPS, 1, 2), PSLLDI(0, 16), PSRLDI(0, 16),
      R(CVTDQ2PS, 0, 0), R(ADDPS, 1, 0))
    /* the high halves of 2^52 beside x give 2^52 + x exactly; subtract 2^52 */
    E(f64x2_convert_low_i32x4_u, UN, 0, K32(1, 0x43300000), R(PUNPCKLDQ, 0, 1), PSLLQI(1, 32),
      R(SUBPD, 0, 1))
    /* cvttps2dq gives 0x80000000 for NaN and out of range: NaNs zeroed first, lanes >= 2^31
     * flipped to 0x7FFFFFFF (simd.h's sv_trunc_sat_s32) */
    E(i32x4_trunc_sat_f32x4_s, UN, 1, R(MOVAPS, 1, 0), RI(CMPPS, 1, 0, 7), R(ANDPS, 1, 0),
      R(CVTTPS2DQ, 1, 1), K32(2, 0x4F000000 /* 2^31 */), RI(CMPPS, 2, 0, 2), R(PXOR, 1, 2))
    /* negatives and NaN -> 0 (maxps returns its second operand for NaN); lanes >= 2^31 take
     * x - 2^31 converted, ORed with 0x80000000; lanes >= 2^32 all ones (sv_trunc_sat_u32) */
    E(i32x4_trunc_sat_f32x4_u, UN, 1, ZERO(1), R(MAXPS, 0, 1), K32(2, 0x4F000000),
      R(MOVAPS, 3, 0), R(SUBPS, 3, 2), R(CVTTPS2DQ, 3, 3), RI(CMPPS, 2, 0, 2), R(PAND, 3, 2),
      R(CVTTPS2DQ, 1, 0), R(POR, 1, 3), K32(2, 0x4F800000 /* 2^32 */), RI(CMPPS, 2, 0, 2),
      R(POR, 1, 2))
    /* splats from the scalar's slot (cell 1) */
    E(i8x16_splat, SCALAR, 0, M(MOVD, 0, 1), ZERO(1), R(PSHUFB, 0, 1))
    E(i16x8_splat, SCALAR, 0, M(MOVD, 0, 1), RI(PSHUFLW, 0, 0, 0), RI(PSHUFD, 0, 0, 0))
    E(i32x4_splat, SCALAR, 0, M(MOVD, 0, 1), RI(PSHUFD, 0, 0, 0))
    E(f32x4_splat, SCALAR, 0, M(MOVD, 0, 1), RI(PSHUFD, 0, 0, 0))
    E(i64x2_splat, SCALAR, 0, M(MOVQ, 0, 1), R(PUNPCKLQDQ, 0, 0))
    E(f64x2_splat, SCALAR, 0, M(MOVQ, 0, 1), R(PUNPCKLQDQ, 0, 0))
    /* loads from [r13 + rax] (the checked address) */
    E(v128_load, LOAD, 0, M(I(0xF3, 0x0F6F) /* movdqu */, 0, MEMORY))
    E(v128_load8x8_s, LOAD, 0, M(PMOVSXBW, 0, MEMORY)) E(v128_load8x8_u, LOAD, 0, M(PMOVZXBW, 0, MEMORY))
    E(v128_load16x4_s, LOAD, 0, M(PMOVSXWD, 0, MEMORY)) E(v128_load16x4_u, LOAD, 0, M(PMOVZXWD, 0, MEMORY))
    E(v128_load32x2_s, LOAD, 0, M(PMOVSXDQ, 0, MEMORY)) E(v128_load32x2_u, LOAD, 0, M(PMOVZXDQ, 0, MEMORY))
    E(v128_load8_splat, LOAD, 0, MI(PINSRB, 0, MEMORY, 0), ZERO(1), R(PSHUFB, 0, 1))
    E(v128_load16_splat, LOAD, 0, MI(PINSRW, 0, MEMORY, 0), RI(PSHUFLW, 0, 0, 0), RI(PSHUFD, 0, 0, 0))
    E(v128_load32_splat, LOAD, 0, M(MOVD, 0, MEMORY), RI(PSHUFD, 0, 0, 0))
    E(v128_load64_splat, LOAD, 0, M(MOVQ, 0, MEMORY), R(PUNPCKLQDQ, 0, 0))
    E(v128_load32_zero, LOAD, 0, M(MOVD, 0, MEMORY)) E(v128_load64_zero, LOAD, 0, M(MOVQ, 0, MEMORY))
};

static const inline_op *find_inline(int op)
{
    for (size_t i = 0; i < sizeof inline_ops / sizeof inline_ops[0]; i++)
        if (inline_ops[i].op == op)
            return &inline_ops[i];
    return NULL;
}

/* ------------------------------------------------------------------ emitters */

static void movdqu_load(jc *j, int xmm, int base, int32_t disp)
{
    x_rm(&j->b, 0xF3, 0, 0x0F6F, 2, xmm, base, X_NOINDEX, 1, disp);
}

static void movdqu_store(jc *j, int xmm, int base, int32_t disp)
{
    x_rm(&j->b, 0xF3, 0, 0x0F7F, 2, xmm, base, X_NOINDEX, 1, disp);
}

/* The v128 cache (jc.h): a result stays in one of xmm4..xmm15 (round-robin, skipping the
 * registers of v128 pins) until a label, a call or an instruction that uses those registers, so
 * a chain of dependent operations does not wait for each result's store to be forwarded to the
 * next load. Slots are still always written (except pinned ones: codegen.c, pin_loop). */
void jc_vc_clear(jc *j)
{
    for (int i = 0; i < JC_VC_N; i++)
        j->vc_slot[i] = UINT64_MAX;
    j->v_x0 = UINT64_MAX;
}

/* Forgets cached vectors overlapping slots [s, s + n). */
static void vc_forget(jc *j, uint64_t s, uint64_t n)
{
    for (int i = 0; i < JC_VC_N; i++)
        if (j->vc_slot[i] != UINT64_MAX && j->vc_slot[i] < s + n && s < j->vc_slot[i] + 2)
            j->vc_slot[i] = UINT64_MAX;
}

/* The next cache entry to reuse: its register must not hold a v128 pin. */
static uint32_t vc_victim(jc *j)
{
    for (;;) {
        uint32_t i = j->vc_round++ % JC_VC_N, x = JC_VC_REG + i;
        if (x < 8 || !j->pins_live || !j->xpin_v128 || j->xpin_slot[x - 8] == UINT64_MAX)
            return i;
    }
}

/* A v128 read or written whole: both its slots are noted for loop pinning. */
static void vnote(jc *j, uint64_t s)
{
    jc_note(j, s, U_V128);
    jc_note(j, s + 1, U_V128_HI);
}

/* The register holding the v128 in slots s, s + 1 (a pin or the cache), or -1. */
static int vreg(jc *j, uint64_t s)
{
    int r = jc_vpinned(j, s);
    for (int i = 0; r < 0 && i < JC_VC_N; i++)
        if (j->vc_slot[i] == s)
            r = JC_VC_REG + i;
    return r;
}

/* xmm = the v128 in slots s, s + 1 (nothing to do when the previous SIMD instruction left it
 * in xmm0 and no code followed). */
static void vget(jc *j, int xmm, uint64_t s)
{
    vnote(j, s);
    if (xmm == 0 && s == j->v_x0 && j->b.len == j->v_x0_at)
        return;
    int r = vreg(j, s);
    if (r >= 0)
        x_rr(&j->b, 0x66, 0, 0x0F6F, 2, xmm, r); /* movdqa */
    else
        movdqu_load(j, xmm, R14, SLOT(s));
}

/* A register holding the v128 in slots s, s + 1 to read as a source operand: its pin or cache
 * register, else xmm loaded with it. */
static int vsrc(jc *j, int xmm, uint64_t s)
{
    int r = vreg(j, s);
    if (r < 0) {
        vget(j, xmm, s);
        return xmm;
    }
    vnote(j, s);
    return r;
}

/* slots d, d + 1 = xmm, with a copy kept in the cache; or only the pin's register. */
static void vput(jc *j, int xmm, uint64_t d)
{
    vnote(j, d);
    vc_forget(j, d, 2);
    int r = jc_vpinned(j, d);
    if (r >= 0) {
        x_rr(&j->b, 0x66, 0, 0x0F6F, 2, r, xmm);
    } else {
        movdqu_store(j, xmm, R14, SLOT(d));
        uint32_t i = vc_victim(j);
        x_rr(&j->b, 0x66, 0, 0x0F6F, 2, JC_VC_REG + (int)i, xmm);
        j->vc_slot[i] = d;
    }
    j->v_x0 = xmm == 0 ? d : UINT64_MAX;
    j->v_x0_at = j->b.len;
}

/* A v128 read or written in memory by other means: its slots are not pinned. */
static void vmem(jc *j, uint64_t s)
{
    jc_slot_mem(j, s);
    jc_slot_mem(j, s + 1);
}

static int opc_len(uint32_t opc) { return opc > 0xFFFF ? 3 : 2; }

/* Runs the steps; x1: the register standing for xmm1 as a source (see emit_inline). */
static void run_steps(jc *j, const inline_op *e, const cell *p, int x1)
{
    xbuf *b = &j->b;
    for (const step *s = e->s; s < e->s + e->n; s++) {
        int pfx = (int)(s->op >> 24);
        uint32_t opc = s->op & 0xFFFFFF;
        int n = opc_len(opc), src = s->s == 1 ? x1 : s->s;
        switch (s->kind) {
        case S_RR: x_rr(b, pfx, 0, opc, n, s->d, src); break;
        case S_RRI: x_rr(b, pfx, 0, opc, n, s->d, src), x_byte(b, s->imm); break;
        case S_SHI: x_rr(b, pfx, 0, opc, n, s->s, s->d), x_byte(b, s->imm); break;
        case S_K32:
            x_mov_imm(b, RAX, s->op);
            x_rr(b, 0x66, 0, 0x0F6E, 2, s->d, RAX);             /* movd xmm, eax */
            x_rr(b, 0x66, 0, 0x0F70, 2, s->d, s->d), x_byte(b, 0); /* pshufd xmm, xmm, 0 */
            break;
        default: /* S_MEM, S_MEMI */
            if (s->s == MEMORY) {
                x_rm(b, pfx, 0, opc, n, s->d, R13, RAX, 1, 0);
            } else {
                jc_slot_mem(j, p[s->s].u);
                x_rm(b, pfx, 0, opc, n, s->d, R14, X_NOINDEX, 1, SLOT(p[s->s].u));
            }
            if (s->kind == S_MEMI)
                x_byte(b, s->imm);
            break;
        }
    }
}

/* Whether no step writes xmm1 (then a second operand already in a register is read there). */
static bool reads_x1_only(const inline_op *e)
{
    for (int i = 0; i < e->n; i++)
        if (e->s[i].d == 1)
            return false;
    return e->res != 1;
}

/* Whether the operation is one integer instruction op xmm0, xmm1 whose operands commute
 * exactly (no float: x86 returns the first operand's NaN). */
static bool commutes(const inline_op *e)
{
    if (e->shape != BIN || e->n != 1 || e->res != 0 || e->s[0].kind != S_RR)
        return false;
    switch (e->s[0].op) {
    case PADDB: case PADDW: case PADDD: case PADDQ: case PMULLW: case PMULLD: case PMADDWD:
    case PAND: case POR: case PXOR: case PCMPEQB: case PCMPEQW: case PCMPEQD:
        return true;
    default:
        return false;
    }
}

/* An operation of the table: inputs from cells 1.., result to cell `dst`. */
static void emit_inline(jc *j, const inline_op *e, const cell *p, uint64_t dst)
{
    uint64_t in[3] = {p[1].u, p[2].u, p[3].u};
    if (commutes(e) && in[1] == j->v_x0 && j->b.len == j->v_x0_at) { /* xmm0 holds b: b op a */
        in[1] = in[0];
        in[0] = j->v_x0;
    }
    int x1 = 1;
    for (int i = 0; i < shape_inputs[e->shape]; i++) {
        if (i == 1 && reads_x1_only(e))
            x1 = vsrc(j, 1, in[1]);
        else
            vget(j, i, in[i]);
    }
    run_steps(j, e, p, x1);
    vput(j, e->res, dst);
}

/* helper(&slot[a0], &slot[a1], ...): every argument a frame slot address. */
static void slot_helper(jc *j, const void *fn, const uint64_t *slots, int n)
{
    static const int regs[4] = {RDI, RSI, RDX, RCX};
    for (int i = 0; i < n; i++) {
        vmem(j, slots[i]);
        jc_lea_slot(j, regs[i], slots[i]);
    }
    jc_call(j, fn);
    jc_vc_clear(j); /* the call clobbers xmm4..xmm15 and writes the result slots */
}

#define SH(fn, ...)                                                                              \
    slot_helper(j, (const void *)(fn), (const uint64_t[]){__VA_ARGS__},                          \
                (int)(sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)))

static const uint32_t mem_len[4] = {4, 5, 5, 3};

/* Loads: the checked address in rax, then the table's steps read [r13 + rax]. */
static uint32_t vload(jc *j, const cell *p, int mode, uint32_t bytes, int base)
{
    uint32_t n = mem_len[mode];
    const inline_op *e = find_inline(base);
    if (!e)
        return 0;
    jc_mem_ea(j, mode, p, bytes);
    uint64_t dst = p[n - 1].u;
    int r = jc_vpinned(j, dst);
    if (r >= 0 && e->n == 1) { /* one instruction that writes all 16 bytes: into the pin */
        uint32_t opc = e->s[0].op & 0xFFFFFF;
        x_rm(&j->b, (int)(e->s[0].op >> 24), 0, opc, opc_len(opc), r, R13, RAX, 1, 0);
        vnote(j, dst);
        vc_forget(j, dst, 2);
        j->v_x0 = UINT64_MAX;
        return n;
    }
    emit_inline(j, e, p, dst);
    return n;
}

static uint32_t vstore(jc *j, const cell *p, int mode)
{
    uint32_t n = mem_len[mode];
    jc_mem_ea(j, mode, p, 16);
    vget(j, 0, p[n - 1].u);
    x_rm(&j->b, 0xF3, 0, 0x0F7F, 2, 0, R13, RAX, 1, 0);
    return n;
}

/* pinsr{b,w,d,q} / pextr{b,w,d,q} by lane size: prefix 66, opcode, REX.W */
static const uint32_t pinsr[9] = {[1] = 0x0F3A20, [2] = 0x0FC4, [4] = 0x0F3A22, [8] = 0x0F3A22};
static const uint32_t pextr[9] = {[1] = 0x0F3A14, [2] = 0x0F3A15, [4] = 0x0F3A16, [8] = 0x0F3A16};

/* Lane loads and stores: offset, lane, address slot, vector slot [, result]. A lane load
 * inserts into the vector in a register (pinsr), so the result is written with one 16-byte
 * store: a narrow store into it would stall the next 16-byte load (no store forwarding). */
static uint32_t lane_mem(jc *j, const cell *p, uint32_t bytes, bool is_load)
{
    cell addr[3];
    addr[1].u = p[3].u, addr[2].u = p[1].u;
    jc_mem_ea(j, 0, addr, bytes);
    uint8_t lane = (uint8_t)p[2].u;
    vget(j, 0, p[4].u);
    const uint32_t *tab = is_load ? pinsr : pextr;
    x_rm(&j->b, 0x66, bytes == 8, tab[bytes], opc_len(tab[bytes]), 0, R13, RAX, 1, 0);
    x_byte(&j->b, lane);
    if (!is_load)
        return 5;
    vput(j, 0, p[5].u);
    return 6;
}

static uint32_t extract(jc *j, const cell *p, uint32_t opc, int w, uint32_t size)
{
    vmem(j, p[2].u);
    x_rm(&j->b, 0, w, opc, opc > 0xFF ? 2 : 1, RAX, R14, X_NOINDEX, 1,
         SLOT(p[2].u) + (int32_t)(p[1].u * size));
    jc_st(j, p[3].u, RAX); /* forgets a cached vector it overwrites */
    return 4;
}

/* replace_lane: lane, vector slot, scalar slot, result; the scalar is inserted from its slot. */
static uint32_t replace(jc *j, const cell *p, uint32_t size)
{
    vget(j, 0, p[2].u);
    jc_slot_mem(j, p[3].u);
    x_rm(&j->b, 0x66, size == 8, pinsr[size], opc_len(pinsr[size]), 0, R14, X_NOINDEX, 1,
         SLOT(p[3].u));
    x_byte(&j->b, (uint8_t)p[1].u);
    vput(j, 0, p[4].u);
    return 5;
}

/* Shifts: vector, count slot, result. The count is taken modulo the lane width, as the spec
 * says (x86 would zero the lanes for counts >= the width). */
static uint32_t shift(jc *j, const cell *p, int op)
{
    static const struct { uint16_t op; uint8_t bits; uint32_t opc; } sh[] = {
        {OP_i8x16_shl, 8, 0x0FF1}, {OP_i8x16_shr_u, 8, 0x0FD1}, {OP_i8x16_shr_s, 8, 0x0FE1},
        {OP_i16x8_shl, 16, 0x0FF1}, {OP_i16x8_shr_u, 16, 0x0FD1}, {OP_i16x8_shr_s, 16, 0x0FE1},
        {OP_i32x4_shl, 32, 0x0FF2}, {OP_i32x4_shr_u, 32, 0x0FD2}, {OP_i32x4_shr_s, 32, 0x0FE2},
        {OP_i64x2_shl, 64, 0x0FF3}, {OP_i64x2_shr_u, 64, 0x0FD3}, {OP_i64x2_shr_s, 64, 0x0FD3}};
    unsigned i = 0;
    while (sh[i].op != op)
        i++;
    xbuf *b = &j->b;
    if (j->in_k == p[2].u && sh[i].bits >= 16 && op != OP_i64x2_shr_s) {
        /* the count is the constant the previous instruction wrote: the immediate form
         * (66 0F 71/72/73 by lane width; /6 shl, /2 shr_u, /4 shr_s) */
        static const uint8_t digit[3] = {6, 2, 4};
        uint32_t grp = sh[i].bits == 16 ? 0x0F71 : sh[i].bits == 32 ? 0x0F72 : 0x0F73;
        vget(j, 0, p[1].u);
        x_rr(b, 0x66, 0, grp, 2, digit[i % 3], 0);
        x_byte(b, (uint8_t)(j->k_val & (sh[i].bits - 1u)));
        vput(j, 0, p[3].u);
        return 4;
    }
    jc_ld32(j, RCX, p[2].u);
    x_alu_imm(b, 0, 4, RCX, sh[i].bits - 1); /* and ecx, bits - 1 */
    vget(j, 0, p[1].u);
    if (op == OP_i8x16_shr_s) {
        /* each byte doubled into a word, shifted arithmetically by 8 + n, packed back */
        x_alu_imm(b, 0, 0, RCX, 8);
        x_rr(b, 0x66, 0, 0x0F6E, 2, 1, RCX);
        x_rr(b, 0x66, 0, 0x0F6F, 2, 2, 0);
        x_rr(b, 0x66, 0, 0x0F60, 2, 0, 0); /* punpcklbw */
        x_rr(b, 0x66, 0, 0x0F68, 2, 2, 2); /* punpckhbw */
        x_rr(b, 0x66, 0, 0x0FE1, 2, 0, 1);
        x_rr(b, 0x66, 0, 0x0FE1, 2, 2, 1);
        x_rr(b, 0x66, 0, 0x0F63, 2, 0, 2); /* packsswb */
    } else {
        x_rr(b, 0x66, 0, 0x0F6E, 2, 1, RCX); /* movd xmm1, ecx */
        x_rr(b, 0x66, 0, sh[i].opc, 2, 0, 1);
    }
    if (op == OP_i8x16_shl || op == OP_i8x16_shr_u) {
        /* the 16-bit shift moved bits across bytes: keep the byte's own (0xFF shifted, in every
         * byte) */
        x_mov_imm(b, RAX, 0xFF);
        x_rr(b, 0, 0, 0xD3, 1, op == OP_i8x16_shl ? 4 : 5, RAX); /* shl/shr eax, cl */
        x_rr(b, 0x66, 0, 0x0F6E, 2, 2, RAX);
        x_rr(b, 0x66, 0, 0x0FEF, 2, 3, 3);
        x_rr(b, 0x66, 0, 0x0F3800, 3, 2, 3); /* pshufb: byte 0 everywhere */
        x_rr(b, 0x66, 0, 0x0FDB, 2, 0, 2);
    } else if (op == OP_i64x2_shr_s) {
        /* (x >>u n ^ m) - m, m = the sign bit shifted likewise */
        x_mov_imm(b, RAX, 0x8000000000000000ull);
        x_rr(b, 0, 1, 0xD3, 1, 5, RAX); /* shr rax, cl */
        x_rr(b, 0x66, 1, 0x0F6E, 2, 2, RAX); /* movq xmm2, rax */
        x_rr(b, 0x66, 0, 0x0F6C, 2, 2, 2);
        x_rr(b, 0x66, 0, 0x0FEF, 2, 0, 2);
        x_rr(b, 0x66, 0, 0x0FFB, 2, 0, 2);
    }
    vput(j, 0, p[3].u);
    return 4;
}

/* v128 -> i32 tests: any_true, all_true (no lane equal to zero), bitmask. */
static uint32_t test(jc *j, const cell *p, int op)
{
    static const struct { uint16_t op; uint32_t eq; } all[] = {
        {OP_i8x16_all_true, 0x0F74}, {OP_i16x8_all_true, 0x0F75}, {OP_i32x4_all_true, 0x0F76},
        {OP_i64x2_all_true, 0x0F3829}};
    xbuf *b = &j->b;
    vget(j, 0, p[1].u);
    x_rr(b, 0, 0, 0x33, 1, RAX, RAX); /* xor eax, eax */
    switch (op) {
    case OP_i8x16_bitmask: x_rr(b, 0x66, 0, 0x0FD7, 2, RAX, 0); break;
    case OP_i16x8_bitmask: /* the words' signs packed into bytes, then pmovmskb */
        x_rr(b, 0x66, 0, 0x0FEF, 2, 1, 1);
        x_rr(b, 0x66, 0, 0x0F63, 2, 0, 1);
        x_rr(b, 0x66, 0, 0x0FD7, 2, RAX, 0);
        break;
    case OP_i32x4_bitmask: x_rr(b, 0, 0, 0x0F50, 2, RAX, 0); break;
    case OP_i64x2_bitmask: x_rr(b, 0x66, 0, 0x0F50, 2, RAX, 0); break;
    case OP_v128_any_true:
        x_rr(b, 0x66, 0, 0x0F3817, 3, 0, 0); /* ptest */
        x_rr8(b, 0x0F95, 2, 0, RAX);         /* setnz al */
        break;
    default:
        for (unsigned i = 0; i < 4; i++) {
            if (all[i].op != op)
                continue;
            x_rr(b, 0x66, 0, 0x0FEF, 2, 1, 1);
            x_rr(b, 0x66, 0, all[i].eq, opc_len(all[i].eq), 1, 0); /* lanes equal to zero */
            x_rr(b, 0x66, 0, 0x0F3817, 3, 1, 1);
            x_rr8(b, 0x0F94, 2, 0, RAX); /* setz al */
        }
        break;
    }
    jc_st(j, p[2].u, RAX); /* forgets a cached vector it overwrites */
    return 3;
}

/* op xmm, [rip + c]: c the 16-byte constant (lo, hi), placed after the function's code by
 * jc_emit_consts (16-byte aligned, as a legacy SSE memory operand must be). */
static void rip_const(jc *j, int pfx, uint32_t opc, int xmm, uint64_t lo, uint64_t hi)
{
    size_t at = x_rip(&j->b, pfx, 0, opc, opc_len(opc), xmm);
    if (jc_grow(j, (void **)&j->vconst, &j->vconstcap, j->nvconst + 1, sizeof(jconst)))
        j->vconst[j->nvconst++] = (jconst){(uint32_t)at, lo, hi};
}

static bool same_const(const jconst *a, const jconst *b) { return a->lo == b->lo && a->hi == b->hi; }

void jc_emit_consts(jc *j)
{
    xbuf *b = &j->b;
    if (!j->nvconst)
        return;
    while (b->len % 16 && !b->failed)
        x_byte(b, 0xCC); /* int3 */
    for (uint32_t i = 0; i < j->nvconst; i++) {
        jconst *c = &j->vconst[i];
        size_t pos = SIZE_MAX;
        /* the same constant as a recent one (a shuffle repeated in an unrolled loop): shared;
         * a bounded look-back keeps this linear */
        for (uint32_t k = i > 32 ? i - 32 : 0; k < i && pos == SIZE_MAX; k++)
            if (same_const(&j->vconst[k], c))
                pos = j->vconst[k].at; /* already its constant's position */
        if (pos == SIZE_MAX) {
            pos = b->len;
            x_u64(b, c->lo);
            x_u64(b, c->hi);
        }
        x_patch_rel(b, c->at, pos);
        c->at = (uint32_t)pos;
    }
    j->nvconst = 0;
}

/* A shuffle that moves whole 32-bit lanes, as an i32x4 shuffle: its lanes' indices (0..7)
 * packed 2 bits each (index & 3), and which lanes come from the second operand (bit k: lane
 * k); -1 if some lane is not a whole aligned dword. */
static int dword_shuffle(const uint8_t *lanes, int *from_b)
{
    int imm = 0;
    *from_b = 0;
    for (int k = 0; k < 4; k++) {
        const uint8_t *l = lanes + 4 * k;
        if (l[0] % 4 || l[1] != l[0] + 1 || l[2] != l[0] + 2 || l[3] != l[0] + 3)
            return -1;
        imm |= (l[0] / 4 % 4) << (2 * k);
        *from_b |= (l[0] >= 16) << k;
    }
    return imm;
}

/* Shuffle: as pshufd or shufps when it moves whole dwords the way those can (both are exact bit
 * moves); else pshufb with masks computed here, once (0x80 zeroes a lane), from the constant
 * pool. */
static uint32_t shuffle(jc *j, const cell *p)
{
    uint8_t lanes[16], ma[16], mb[16];
    memcpy(lanes, &p[1], 16);
    xbuf *b = &j->b;
    int from_b, imm = dword_shuffle(lanes, &from_b);
    if (imm >= 0 && (from_b == 0 || from_b == 15)) { /* one source: pshufd */
        int r = vsrc(j, 0, from_b ? p[4].u : p[3].u);
        x_rr(b, 0x66, 0, 0x0F70, 2, 0, r), x_byte(b, (uint8_t)imm);
        vput(j, 0, p[5].u);
        return 6;
    }
    if (imm >= 0 && from_b == 12) { /* lanes 0, 1 from a, 2, 3 from b: shufps */
        vget(j, 0, p[3].u);
        x_rr(b, 0, 0, 0x0FC6, 2, 0, vsrc(j, 1, p[4].u)), x_byte(b, (uint8_t)imm);
        vput(j, 0, p[5].u);
        return 6;
    }
    bool any_b = false;
    for (int i = 0; i < 16; i++) {
        ma[i] = lanes[i] < 16 ? lanes[i] : 0x80;
        mb[i] = lanes[i] >= 16 ? (uint8_t)(lanes[i] - 16) : 0x80;
        any_b |= lanes[i] >= 16;
    }
    uint64_t m[4];
    memcpy(m, ma, 16), memcpy(m + 2, mb, 16);
    vget(j, 0, p[3].u);
    rip_const(j, 0x66, 0x0F3800, 0, m[0], m[1]); /* pshufb xmm0, [mask a] */
    if (any_b) {
        vget(j, 1, p[4].u);
        rip_const(j, 0x66, 0x0F3800, 1, m[2], m[3]);
        x_rr(b, 0x66, 0, 0x0FEB, 2, 0, 1);
    }
    vput(j, 0, p[5].u);
    return 6;
}

/* select: a if the i32 condition is non-zero, else b, without a branch: mask = c == 0 ? ~0 : 0
 * (cmp eax, 1 borrows only for 0; sbb spreads it). */
static uint32_t vselect(jc *j, const cell *p)
{
    xbuf *b = &j->b;
    jc_ld32(j, RAX, p[3].u);
    x_alu_imm(b, 0, 7, RAX, 1);
    x_rr(b, 0, 0, 0x1B, 1, RAX, RAX);
    vget(j, 0, p[1].u);
    vget(j, 1, p[2].u);
    x_rr(b, 0x66, 0, 0x0F6E, 2, 2, RAX);
    x_rr(b, 0x66, 0, 0x0F70, 2, 2, 2), x_byte(b, 0);
    x_rr(b, 0x66, 0, 0x0FDB, 2, 1, 2); /* b & mask */
    x_rr(b, 0x66, 0, 0x0FDF, 2, 2, 0); /* a & ~mask */
    x_rr(b, 0x66, 0, 0x0FEB, 2, 1, 2);
    vput(j, 1, p[4].u);
    return 5;
}

static uint32_t simd_op(jc *j, int op, const cell *p)
{
    const inline_op *e = find_inline(op);
    if (e && e->shape != LOAD) {
        static const uint8_t len[] = {[UN] = 3, [BIN] = 4, [TERN] = 5, [SCALAR] = 3};
        emit_inline(j, e, p, p[len[e->shape] - 1].u);
        return len[e->shape];
    }
    switch (op) {
#define C_SUN(name) case OP_##name: SH(h_##name, p[2].u, p[1].u); return 3;
#define C_SBIN(name) case OP_##name: SH(h_##name, p[3].u, p[1].u, p[2].u); return 4;
#define C_CASE(n, name) case OP_##name:
        HELPER_UNOPS(C_SUN) HELPER_BINOPS(C_SBIN)
        SIMD_TESTS(C_CASE)
        return test(j, p, op);
        SIMD_SHIFTS(C_CASE)
        return shift(j, p, op);
#define C_SLOAD(n, name, bytes, align)                                                           \
    case OP_##name: case OP_##name##_ai: case OP_##name##_aa: case OP_##name##_k:                \
        return vload(j, p, op - OP_##name, bytes, OP_##name);
        SIMD_LOADS(C_SLOAD)
    case OP_v128_store: case OP_v128_store_ai: case OP_v128_store_aa: case OP_v128_store_k:
        return vstore(j, p, op - OP_v128_store);
#define C_LANE_LOAD(n, name, bytes, lanes) case OP_##name: return lane_mem(j, p, bytes, true);
#define C_LANE_STORE(n, name, bytes, lanes) case OP_##name: return lane_mem(j, p, bytes, false);
        SIMD_LANE_LOADS(C_LANE_LOAD) SIMD_LANE_STORES(C_LANE_STORE)
    case OP_i8x16_extract_lane_s: return extract(j, p, 0x0FBE, 0, 1);
    case OP_i8x16_extract_lane_u: return extract(j, p, 0x0FB6, 0, 1);
    case OP_i16x8_extract_lane_s: return extract(j, p, 0x0FBF, 0, 2);
    case OP_i16x8_extract_lane_u: return extract(j, p, 0x0FB7, 0, 2);
    case OP_i32x4_extract_lane: case OP_f32x4_extract_lane: return extract(j, p, 0x8B, 0, 4);
    case OP_i64x2_extract_lane: case OP_f64x2_extract_lane: return extract(j, p, 0x8B, 1, 8);
#define C_REPLACE(n, name, T, lanes) case OP_##name: return replace(j, p, 16 / lanes);
        SIMD_REPLACES(C_REPLACE)
    case OP_v128_mov:
        vget(j, 0, p[1].u);
        vput(j, 0, p[2].u);
        return 3;
    case OP_v128_select: return vselect(j, p);
    case OP_v128_global_get: case OP_v128_global_set: {
        x_rm(&j->b, 0, 1, 0x8B, 1, RAX, R15, X_NOINDEX, 1, CTX(globals));
        x_rm(&j->b, 0, 1, 0x8B, 1, RAX, RAX, X_NOINDEX, 1, (int32_t)(p[1].u * 8));
        int32_t val = (int32_t)offsetof(wasm_global, val);
        if (op == OP_v128_global_get) {
            movdqu_load(j, 0, RAX, val);
            vput(j, 0, p[2].u);
        } else {
            vget(j, 0, p[2].u);
            movdqu_store(j, 0, RAX, val);
        }
        return 3;
    }
    case OP_v128_const: /* in a register (zero) or from the constant pool, then written with
                         * one 16-byte store (two 8-byte ones would stall the next 16-byte load,
                         * which cannot be forwarded from them) */
        if (p[1].u == 0 && p[2].u == 0)
            x_rr(&j->b, 0x66, 0, 0x0FEF, 2, 0, 0); /* pxor xmm0, xmm0 */
        else
            rip_const(j, 0xF3, 0x0F6F, 0, p[1].u, p[2].u); /* movdqu xmm0, [c] */
        vput(j, 0, p[3].u);
        return 4;
    case OP_i8x16_shuffle: return shuffle(j, p);
    default:
        return 0;
    }
}

uint32_t jit_simd_op(jc *j, int op, const cell *p)
{
    uint32_t n = simd_op(j, op, p);
    if (j->recording && n)
        j->rec_simd = true;
    return n;
}

bool jit_simd_inline(int op)
{
    switch (op) {
#define C_HELPER(name) case OP_##name:
        HELPER_UNOPS(C_HELPER) HELPER_BINOPS(C_HELPER)
        return false;
    default:
        return op >= OP_v128_not && op < OP_COUNT;
    }
}
