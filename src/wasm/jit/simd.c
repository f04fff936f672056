/* simd.c - SIMD (v128) operations for the compiled tier.
 *
 * A v128 lives in two consecutive frame slots, as in the interpreter. Moves, constants, lane
 * access, plain loads and stores and the bitwise operations are inline SSE; every other operation
 * calls an out-of-line helper that runs the interpreter's own implementation from simd.h on the
 * slots, so results (NaN bits included) are the same on both tiers by construction. */
#include "wasm/jit/jc.h"
#include "wasm/ops.h"
#include "wasm/simd.h"

#include <stdio.h>

/* ------------------------------------------------------------------ out-of-line helpers */

#define D_SUN(n, name) \
    static void h_##name(slot_t *d, const slot_t *a) { v128_put(d, simd_##name(v128_get(a))); }
#define D_SBIN(n, name)                                                                          \
    static void h_##name(slot_t *d, const slot_t *a, const slot_t *b)                            \
    {                                                                                            \
        v128_put(d, simd_##name(v128_get(a), v128_get(b)));                                      \
    }
#define D_STERN(n, name)                                                                         \
    static void h_##name(slot_t *d, const slot_t *a, const slot_t *b, const slot_t *c)           \
    {                                                                                            \
        v128_put(d, simd_##name(v128_get(a), v128_get(b), v128_get(c)));                         \
    }
#define D_STEST(n, name) static void h_##name(slot_t *d, const slot_t *a) { *d = simd_##name(v128_get(a)); }
#define D_SSHIFT(n, name)                                                                        \
    static void h_##name(slot_t *d, const slot_t *a, const slot_t *s)                            \
    {                                                                                            \
        v128_put(d, simd_##name(v128_get(a), (uint32_t)*s));                                     \
    }
#define D_SSPLAT(n, name, T) static void h_##name(slot_t *d, const slot_t *a) { v128_put(d, simd_##name(*a)); }
#define D_SLOAD(n, name, bytes, align) \
    static void h_##name(slot_t *d, const uint8_t *p) { v128_put(d, simd_##name(p)); }
SIMD_UNOPS(D_SUN) SIMD_BINOPS(D_SBIN) SIMD_TERNOPS(D_STERN) SIMD_TESTS(D_STEST)
SIMD_SHIFTS(D_SSHIFT) SIMD_SPLATS(D_SSPLAT) SIMD_LOADS(D_SLOAD)

static void h_shuffle(slot_t *d, const slot_t *a, const slot_t *b, const uint8_t *lanes)
{
    v128_put(d, simd_i8x16_shuffle(v128_get(a), v128_get(b), lanes));
}

static void h_select(slot_t *d, const slot_t *a, const slot_t *b, const slot_t *c)
{
    v128_put(d, v128_get((uint32_t)*c ? a : b));
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

/* helper(&slot[a0], &slot[a1], ...): every argument a frame slot address. */
static void slot_helper(jc *j, const void *fn, const uint64_t *slots, int n)
{
    static const int regs[4] = {RDI, RSI, RDX, RCX};
    for (int i = 0; i < n; i++)
        jc_lea_slot(j, regs[i], slots[i]);
    jc_call(j, fn);
}

#define SH(fn, ...)                                                                              \
    slot_helper(j, (const void *)(fn), (const uint64_t[]){__VA_ARGS__},                          \
                (int)(sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)))

static uint32_t bitwise(jc *j, const cell *p, uint32_t opc2) /* pand, pandn, por, pxor */
{
    movdqu_load(j, 0, R14, SLOT(p[1].u));
    movdqu_load(j, 1, R14, SLOT(p[2].u));
    if (opc2 == 0xDF) { /* v128.andnot a b = a & ~b: pandn computes ~dst & src */
        x_rr(&j->b, 0x66, 0, 0x0FDF, 2, 1, 0);
        movdqu_store(j, 1, R14, SLOT(p[3].u));
    } else {
        x_rr(&j->b, 0x66, 0, 0x0F00 | opc2, 2, 0, 1);
        movdqu_store(j, 0, R14, SLOT(p[3].u));
    }
    return 4;
}

static const uint32_t mem_len[4] = {4, 5, 5, 3};

static uint32_t vload(jc *j, const cell *p, int mode, uint32_t bytes, const void *fn, bool plain)
{
    uint32_t n = mem_len[mode];
    jc_mem_ea(j, mode, p, bytes);
    if (plain) {
        x_rm(&j->b, 0xF3, 0, 0x0F6F, 2, 0, R13, RAX, 1, 0);
        movdqu_store(j, 0, R14, SLOT(p[n - 1].u));
        return n;
    }
    x_rm(&j->b, 0, 1, 0x8D, 1, RSI, R13, RAX, 1, 0); /* lea rsi, [mem + ea] */
    jc_lea_slot(j, RDI, p[n - 1].u);
    jc_call(j, fn);
    return n;
}

static uint32_t vstore(jc *j, const cell *p, int mode)
{
    uint32_t n = mem_len[mode];
    jc_mem_ea(j, mode, p, 16);
    movdqu_load(j, 0, R14, SLOT(p[n - 1].u));
    x_rm(&j->b, 0xF3, 0, 0x0F7F, 2, 0, R13, RAX, 1, 0);
    return n;
}

/* Lane loads and stores: offset, lane, address slot, vector slot [, result]. */
static uint32_t lane_mem(jc *j, const cell *p, uint32_t bytes, bool is_load)
{
    cell addr[3];
    addr[1].u = p[3].u, addr[2].u = p[1].u;
    jc_mem_ea(j, 0, addr, bytes);
    uint32_t lane_off = (uint32_t)(p[2].u * bytes);
    static const uint32_t ld[] = {[1] = 0x0FB6, [2] = 0x0FB7, [4] = 0x8B, [8] = 0x8B};
    if (is_load) {
        uint64_t dst = p[5].u;
        x_rm(&j->b, 0, bytes == 8, ld[bytes], bytes <= 2 ? 2 : 1, RCX, R13, RAX, 1, 0);
        movdqu_load(j, 0, R14, SLOT(p[4].u));
        movdqu_store(j, 0, R14, SLOT(dst));
        x_rm(&j->b, bytes == 2 ? 0x66 : 0, bytes == 8, bytes == 1 ? 0x88 : 0x89, 1, RCX, R14,
             X_NOINDEX, 1, SLOT(dst) + (int32_t)lane_off);
        return 6;
    }
    x_rm(&j->b, 0, bytes == 8, ld[bytes], bytes <= 2 ? 2 : 1, RCX, R14, X_NOINDEX, 1,
         SLOT(p[4].u) + (int32_t)lane_off);
    x_rm(&j->b, bytes == 2 ? 0x66 : 0, bytes == 8, bytes == 1 ? 0x88 : 0x89, 1, RCX, R13, RAX, 1, 0);
    return 5;
}

static uint32_t extract(jc *j, const cell *p, uint32_t opc, int w, uint32_t size)
{
    x_rm(&j->b, 0, w, opc, opc > 0xFF ? 2 : 1, RAX, R14, X_NOINDEX, 1,
         SLOT(p[2].u) + (int32_t)(p[1].u * size));
    jc_st(j, p[3].u, RAX);
    return 4;
}

static uint32_t replace(jc *j, const cell *p, uint32_t size)
{
    jc_ld(j, RCX, p[3].u); /* the scalar first: it may share a slot with the result */
    movdqu_load(j, 0, R14, SLOT(p[2].u));
    movdqu_store(j, 0, R14, SLOT(p[4].u));
    int32_t at = SLOT(p[4].u) + (int32_t)(p[1].u * size);
    x_rm(&j->b, size == 2 ? 0x66 : 0, size == 8, size == 1 ? 0x88 : 0x89, 1, RCX, R14, X_NOINDEX, 1, at);
    return 5;
}

uint32_t jit_simd_op(jc *j, int op, const cell *p)
{
    if (op == OP_v128_and || op == OP_v128_or || op == OP_v128_xor || op == OP_v128_andnot)
        return bitwise(j, p, op == OP_v128_and ? 0xDB : op == OP_v128_or ? 0xEB : op == OP_v128_xor ? 0xEF : 0xDF);
    switch (op) {
#define C_SUN(n, name) case OP_##name: SH(h_##name, p[2].u, p[1].u); return 3;
#define C_SBIN(n, name) case OP_##name: SH(h_##name, p[3].u, p[1].u, p[2].u); return 4;
#define C_STERN(n, name) case OP_##name: SH(h_##name, p[4].u, p[1].u, p[2].u, p[3].u); return 5;
#define C_STEST(n, name) case OP_##name: SH(h_##name, p[2].u, p[1].u); return 3;
#define C_SSHIFT(n, name) case OP_##name: SH(h_##name, p[3].u, p[1].u, p[2].u); return 4;
#define C_SSPLAT(n, name, T) case OP_##name: SH(h_##name, p[2].u, p[1].u); return 3;
        SIMD_UNOPS(C_SUN) SIMD_BINOPS(C_SBIN) SIMD_TERNOPS(C_STERN) SIMD_TESTS(C_STEST)
        SIMD_SHIFTS(C_SSHIFT) SIMD_SPLATS(C_SSPLAT)
#define C_SLOAD(n, name, bytes, align)                                                           \
    case OP_##name: case OP_##name##_ai: case OP_##name##_aa: case OP_##name##_k:                \
        return vload(j, p, op - OP_##name, bytes, (const void *)h_##name, n == 0);
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
        movdqu_load(j, 0, R14, SLOT(p[1].u));
        movdqu_store(j, 0, R14, SLOT(p[2].u));
        return 3;
    case OP_v128_select: SH(h_select, p[4].u, p[1].u, p[2].u, p[3].u); return 5;
    case OP_v128_global_get: case OP_v128_global_set: {
        x_rm(&j->b, 0, 1, 0x8B, 1, RAX, R15, X_NOINDEX, 1, CTX(globals));
        x_rm(&j->b, 0, 1, 0x8B, 1, RAX, RAX, X_NOINDEX, 1, (int32_t)(p[1].u * 8));
        int32_t val = (int32_t)offsetof(wasm_global, val);
        if (op == OP_v128_global_get) {
            movdqu_load(j, 0, RAX, val);
            movdqu_store(j, 0, R14, SLOT(p[2].u));
        } else {
            movdqu_load(j, 0, R14, SLOT(p[2].u));
            movdqu_store(j, 0, RAX, val);
        }
        return 3;
    }
    case OP_v128_const:
        x_mov_imm(&j->b, RAX, p[1].u), jc_st(j, p[3].u, RAX);
        x_mov_imm(&j->b, RAX, p[2].u), jc_st(j, p[3].u + 1, RAX);
        return 4;
    case OP_i8x16_shuffle: {
        /* the 16 lane indices go to the stack: rsp is 16-aligned here, 16 bytes below it are
         * free to use for the duration of the helper call if we reserve them */
        x_alu_imm(&j->b, 1, 5, RSP, 16);
        x_mov_imm(&j->b, RAX, p[1].u);
        x_rm(&j->b, 0, 1, 0x89, 1, RAX, RSP, X_NOINDEX, 1, 0);
        x_mov_imm(&j->b, RAX, p[2].u);
        x_rm(&j->b, 0, 1, 0x89, 1, RAX, RSP, X_NOINDEX, 1, 8);
        jc_lea_slot(j, RDI, p[5].u);
        jc_lea_slot(j, RSI, p[3].u);
        jc_lea_slot(j, RDX, p[4].u);
        x_rr(&j->b, 0, 1, 0x8B, 1, RCX, RSP);
        jc_call(j, (const void *)h_shuffle);
        x_alu_imm(&j->b, 1, 0, RSP, 16);
        return 6;
    }
    default:
        return 0;
    }
}
