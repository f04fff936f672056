/* interp.c - the interpreter: threaded dispatch over translated code (see docs/engine.md).
 *
 * Code is an array of cells: a handler address (computed goto) followed by its immediates. Operands
 * are frame-slot indices resolved by the translator, so handlers read and write fp[index] directly.
 * Wasm calls push records on an engine-owned frame array: no C recursion per wasm call. */
#include "wasm/internal.h"
#include "wasm/ops.h"
#include "wasm/simd.h"

#include <math.h>
#include <stdio.h>

static inline uint32_t rotl32(uint32_t a, uint32_t b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
static inline uint32_t rotr32(uint32_t a, uint32_t b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
static inline uint64_t rotl64(uint64_t a, uint64_t b) { b &= 63; return (a << b) | (a >> ((64 - b) & 63)); }
static inline uint64_t rotr64(uint64_t a, uint64_t b) { b &= 63; return (a >> b) | (a << ((64 - b) & 63)); }

#include "wasm/fnum.h"

#define CT_i32 uint32_t
#define CT_i64 uint64_t
#define CT_f32 float
#define CT_f64 double
#define GET_i32(s) ((uint32_t)(s))
#define GET_i64(s) ((uint64_t)(s))
#define GET_f32(s) f32_of(s)
#define GET_f64(s) f64_of(s)
#define PUT_i32(v) ((slot_t)(uint32_t)(v))
#define PUT_i64(v) ((slot_t)(uint64_t)(v))
#define PUT_f32(v) slot_f32(v)
#define PUT_f64(v) slot_f64(v)
#define LOADCONV_I32(v) ((slot_t)(uint32_t)(v))
#define LOADCONV_F32(v) ((slot_t)(uint32_t)(v))
#define LOADCONV_I64(v) ((slot_t)(uint64_t)(v))
#define LOADCONV_F64(v) ((slot_t)(uint64_t)(v))

int wasm_call_host(wasm_instance *caller, wasm_func *f, slot_t *slots, wasm_trap *trap)
{
    const ftype *t = f->type;
    wasm_val args[t->np ? t->np : 1], res[t->nr ? t->nr : 1];
    for (uint32_t i = 0, at = 0; i < t->np; at += valtype_slots(t->t[i++]))
        wasm_slots_to_val(t->t[i], slots + at, &args[i]);
    memset(res, 0, sizeof res);
    wasm_trap *saved = caller ? caller->host_trap : NULL;
    if (caller)
        caller->host_trap = trap;
    trap->msg[0] = 0;
    trap->exit_code = 0;
    int k = f->host(caller, f->user, args, res);
    if (caller)
        caller->host_trap = saved;
    for (uint32_t i = 0, at = 0; k == 0 && i < t->nr; at += valtype_slots(res[i++].type)) {
        if (res[i].type != t->t[t->np + i]) {
            k = WASM_TRAP_HOST;
            snprintf(trap->msg, sizeof trap->msg, "host function result %u has the wrong type", i);
            break;
        }
        wasm_val_to_slots(&res[i], slots + at);
    }
    if (k != 0) {
        if (k < 0 || k > WASM_TRAP_EXIT)
            k = WASM_TRAP_HOST;
        trap->kind = (wasm_trapkind)k;
        trap->func_index = f->index;
        trap->code_offset = 0;
        if (!trap->msg[0])
            snprintf(trap->msg, sizeof trap->msg, "%s", wasm_trap_text(trap->kind));
    }
    return k;
}

#define NEXT() goto *ip->h
#define R(k) fp[ip[k].u]
#define TRAP(kind) do { trapk = (kind); goto trap; } while (0)
#define RELOAD_MEM() do { if (inst->mem0) { mem = inst->mem0->data; msize = inst->mem0->size; } } while (0)
#define RELOAD_INST() do { funcs = inst->funcs; globals = inst->globals; tables = inst->tables; \
                           RELOAD_MEM(); } while (0)
/* The host's interrupt flag is polled wherever fuel is charged (loop entry and back-edge,
 * function entry): every non-terminating guest passes one of them, so an interrupt stops it
 * within a bounded number of instructions, with or without a fuel limit. */
#define POLL_INTERRUPT() do { if (__builtin_expect(intr && *intr, 0)) TRAP(WASM_TRAP_INTERRUPTED); } while (0)
/* Jumps to the offset in cell k. A backward jump is a loop back-edge: it lands just after the
 * loop's fuel instruction and charges that instruction's count (the cell before the target). */
#define BR_TO(k)                                                                                 \
    do {                                                                                         \
        int64_t off_ = ip[k].i;                                                                  \
        ip = &ip[k] + off_;                                                                      \
        if (off_ < 0) {                                                                          \
            if (__builtin_expect(fuel < ip[-1].u, 0)) TRAP(WASM_TRAP_OUT_OF_FUEL);               \
            fuel -= ip[-1].u;                                                                    \
            POLL_INTERRUPT();                                                                    \
        }                                                                                        \
    } while (0)

/* The whole interpreter. Called with f == NULL it only hands out its handler table. */
static int interp(wasm_instance *ri, wasm_func *f, slot_t *fp0, uint32_t depth0, bool called,
                  wasm_trap *trap, const void *const **table)
{
#define LBL_BIN(opc, name, expr) &&L_##name, &&L_##name##_i, &&L_##name##_a, &&L_##name##_ai,
#define LBL_UN(opc, name, ...) &&L_##name, &&L_##name##_a,
#define LBL_CMP(opc, name, expr) &&L_##name, &&L_##name##_i, &&L_##name##_br, &&L_##name##_ibr,
#define LBL_ONE(opc, name, ...) &&L_##name,
#define LBL_TRUNC(opc, sat, name, ...) &&L_##name, &&L_##name##_sat,
#define LBL_MEM(opc, name, ...) &&L_##name, &&L_##name##_ai, &&L_##name##_aa, &&L_##name##_k,
#define LBL_MISC(name) &&L_##name,
    static const void *const labels[OP_COUNT] = {
        I32_BINOPS(LBL_BIN) I64_BINOPS(LBL_BIN) F32_BINOPS(LBL_BIN) F64_BINOPS(LBL_BIN)
        UNOPS(LBL_UN) DIVOPS(LBL_ONE) LOADOPS(LBL_MEM) NULL,
        I32_CMPS(LBL_CMP) I64_CMPS(LBL_CMP) F32_CMPS(LBL_ONE) F64_CMPS(LBL_ONE)
        TRUNCOPS(LBL_TRUNC) STOREOPS(LBL_MEM) MISCOPS(LBL_MISC)
        SIMD_UNOPS(LBL_ONE) SIMD_BINOPS(LBL_ONE) SIMD_TERNOPS(LBL_ONE) SIMD_TESTS(LBL_ONE)
        SIMD_SHIFTS(LBL_ONE) SIMD_SPLATS(LBL_ONE) SIMD_EXTRACTS(LBL_ONE) SIMD_REPLACES(LBL_ONE)
        SIMD_LOADS(LBL_MEM) SIMD_STORE(LBL_MEM) SIMD_LANE_LOADS(LBL_ONE) SIMD_LANE_STORES(LBL_ONE)
        SIMD_MISCOPS(LBL_MISC)};
    if (!f) {
        *table = labels;
        return 0;
    }
    wasm_instance *inst = f->inst;
    wasm_func **funcs;
    wasm_global **globals;
    wasm_table **tables;
    uint8_t *mem = NULL;
    uint64_t msize = 0;
    RELOAD_INST();
    frame *frames = ri->frames;
    uint32_t depth = depth0, max_depth = ri->cfg.max_call_depth;
    slot_t *fp = fp0, *stack_end = ri->stack + ri->stack_slots;
    bool unlimited = ri->fuel == WASM_FUEL_UNLIMITED;
    uint64_t fuel = ri->fuel;
    volatile sig_atomic_t *const intr = ri->cfg.interrupt;
    int trapk = 0;
    slot_t acc = 0; /* the last result of an OP_ACC_END-family operation */
    bool host_trapped = false;
    const cell *ip = f->code->code, *ret_ip;
    slot_t *newfp;
    const fcode *code = f->code;
    if (!called && (max_depth == 0 || fp + code->frame_slots > stack_end)) {
        trapk = WASM_TRAP_STACK_EXHAUSTED;
        wasm_trap_set(trap, trapk, f, 0);
        return trapk;
    }
    frames[depth] = (frame){.ret_ip = NULL, .fp = fp, .func = f};
    memset(fp + code->nparam_slots, 0, (code->nlocal_slots - code->nparam_slots) * sizeof(slot_t));
    if (called) /* the caller (compiled code) made do_call's checks and charged the entry fuel */
        ip = code->code + 2;
    NEXT();

#define H_BIN(name, T, G, P, expr)                                                               \
    L_##name: { T a = G(R(1)), b = G(R(2)); R(3) = acc = P(expr); ip += 4; NEXT(); }            \
    L_##name##_i: { T a = G(R(1)), b = G(ip[2].u); R(3) = acc = P(expr); ip += 4; NEXT(); }     \
    L_##name##_a: { T a = G(acc), b = G(R(1)); R(2) = acc = P(expr); ip += 3; NEXT(); }         \
    L_##name##_ai: { T a = G(acc), b = G(ip[1].u); R(2) = acc = P(expr); ip += 3; NEXT(); }
#define H_CMP(name, T, G, expr)                                                                  \
    L_##name: { T a = G(R(1)), b = G(R(2)); R(3) = PUT_i32(expr); ip += 4; NEXT(); }            \
    L_##name##_i: { T a = G(R(1)), b = G(ip[2].u); R(3) = PUT_i32(expr); ip += 4; NEXT(); }     \
    L_##name##_br: { T a = G(R(1)), b = G(R(2)); if (expr) BR_TO(3); else ip += 4; NEXT(); }    \
    L_##name##_ibr: { T a = G(R(1)), b = G(ip[2].u); if (expr) BR_TO(3); else ip += 4; NEXT(); }
#define H_I32BIN(opc, name, expr) H_BIN(name, uint32_t, GET_i32, PUT_i32, expr)
#define H_I64BIN(opc, name, expr) H_BIN(name, uint64_t, GET_i64, PUT_i64, expr)
#define H_I32CMP(opc, name, expr) H_CMP(name, uint32_t, GET_i32, expr)
#define H_I64CMP(opc, name, expr) H_CMP(name, uint64_t, GET_i64, expr)
    I32_BINOPS(H_I32BIN) I64_BINOPS(H_I64BIN) I32_CMPS(H_I32CMP) I64_CMPS(H_I64CMP)

#define H_F(name, T, G, P, expr) L_##name: { T a = G(R(1)), b = G(R(2)); R(3) = P(expr); ip += 4; NEXT(); }
#define H_F32BIN(opc, name, expr) H_BIN(name, float, GET_f32, PUT_f32, expr)
#define H_F64BIN(opc, name, expr) H_BIN(name, double, GET_f64, PUT_f64, expr)
#define H_F32CMP(opc, name, expr) H_F(name, float, GET_f32, PUT_i32, expr)
#define H_F64CMP(opc, name, expr) H_F(name, double, GET_f64, PUT_i32, expr)
    F32_BINOPS(H_F32BIN) F64_BINOPS(H_F64BIN) F32_CMPS(H_F32CMP) F64_CMPS(H_F64CMP)

#define H_DIV(opc, name, T, ST, is_rem, is_signed)                                               \
    L_##name: {                                                                                  \
        T a = (T)R(1), b = (T)R(2), r;                                                           \
        if (b == 0) TRAP(WASM_TRAP_DIV_ZERO);                                                    \
        if (is_signed && b == (T)-1) {                                                           \
            if (!is_rem && a == (T)1 << (sizeof(T) * 8 - 1)) TRAP(WASM_TRAP_INT_OVERFLOW);       \
            r = is_rem ? 0 : (T)0 - a;                                                           \
        } else if (is_signed) {                                                                  \
            r = is_rem ? (T)((ST)a % (ST)b) : (T)((ST)a / (ST)b);                                \
        } else {                                                                                 \
            r = is_rem ? a % b : a / b;                                                          \
        }                                                                                        \
        R(3) = acc = r; ip += 4; NEXT();                                                         \
    }
    DIVOPS(H_DIV)

#define H_UN(opc, name, IN, OUT, expr)                                                           \
    L_##name: { CT_##IN a = GET_##IN(R(1)); R(2) = acc = PUT_##OUT(expr); ip += 3; NEXT(); }    \
    L_##name##_a: { CT_##IN a = GET_##IN(acc); R(1) = acc = PUT_##OUT(expr); ip += 2; NEXT(); }
    UNOPS(H_UN)

#define TRUNC_PUT(ctype, v) (sizeof(ctype) == 4 ? (slot_t)(uint32_t)(ctype)(v) : (slot_t)(uint64_t)(ctype)(v))
#define H_TRUNC(opc, sat, name, IN, ctype, lo, hi, mn, mx)                                       \
    L_##name: {                                                                                  \
        double x = GET_##IN(R(1));                                                               \
        if (x != x) TRAP(WASM_TRAP_INVALID_CONVERSION);                                          \
        if (!(x > lo && x < hi)) TRAP(WASM_TRAP_INT_OVERFLOW);                                   \
        R(2) = TRUNC_PUT(ctype, x); ip += 3; NEXT();                                             \
    }                                                                                            \
    L_##name##_sat: {                                                                            \
        double x = GET_##IN(R(1));                                                               \
        ctype v = x != x ? 0 : x <= lo ? (ctype)mn : x >= hi ? (ctype)mx : (ctype)x;             \
        R(2) = TRUNC_PUT(ctype, v); ip += 3; NEXT();                                             \
    }
    TRUNCOPS(H_TRUNC)

#define EA_PLAIN ((uint64_t)(uint32_t)R(1) + ip[2].u)
#define EA_AI ((uint64_t)(uint32_t)(R(1) + ip[2].u) + ip[3].u)
#define EA_AA ((uint64_t)(uint32_t)(R(1) + R(2)) + ip[3].u)
#define LOAD_H(label, EA, k, n, MT, VT)                                                           \
    label: {                                                                                     \
        uint64_t ea = EA;                                                                        \
        if (__builtin_expect(ea + n > msize, 0)) TRAP(WASM_TRAP_MEMORY_OOB);                     \
        MT v; memcpy(&v, mem + ea, n); R(k) = acc = LOADCONV_##VT(v); ip += k + 1; NEXT();      \
    }
#define STORE_H(label, EA, k, n, MT)                                                             \
    label: {                                                                                     \
        uint64_t ea = EA;                                                                        \
        if (__builtin_expect(ea + n > msize, 0)) TRAP(WASM_TRAP_MEMORY_OOB);                     \
        MT v = (MT)R(k); memcpy(mem + ea, &v, n); ip += k + 1; NEXT();                          \
    }
#define H_LOAD(opc, name, n, MT, VT, align)                                                      \
    LOAD_H(L_##name, EA_PLAIN, 3, n, MT, VT) LOAD_H(L_##name##_ai, EA_AI, 4, n, MT, VT)           \
    LOAD_H(L_##name##_aa, EA_AA, 4, n, MT, VT) LOAD_H(L_##name##_k, ip[1].u, 2, n, MT, VT)
#define H_STORE(opc, name, n, MT, VT, align)                                                     \
    STORE_H(L_##name, EA_PLAIN, 3, n, MT) STORE_H(L_##name##_ai, EA_AI, 4, n, MT)                 \
    STORE_H(L_##name##_aa, EA_AA, 4, n, MT) STORE_H(L_##name##_k, ip[1].u, 2, n, MT)
    LOADOPS(H_LOAD) STOREOPS(H_STORE)

    /* SIMD: a v128 operand or result is two consecutive slots from R(k). Every handler reads
     * its operands before it writes its result, which may be an operand's slots. */
#define V(k) v128_get(&R(k))
#define VPUT(k, v) v128_put(&R(k), v)
#define H_SUN(n, name) L_##name: VPUT(2, simd_##name(V(1))); ip += 3; NEXT();
#define H_SBIN(n, name) L_##name: VPUT(3, simd_##name(V(1), V(2))); ip += 4; NEXT();
#define H_STERN(n, name) L_##name: VPUT(4, simd_##name(V(1), V(2), V(3))); ip += 5; NEXT();
#define H_STEST(n, name) L_##name: R(2) = simd_##name(V(1)); ip += 3; NEXT();
#define H_SSHIFT(n, name) L_##name: VPUT(3, simd_##name(V(1), (uint32_t)R(2))); ip += 4; NEXT();
#define H_SSPLAT(n, name, T) L_##name: VPUT(2, simd_##name(R(1))); ip += 3; NEXT();
    SIMD_UNOPS(H_SUN) SIMD_BINOPS(H_SBIN) SIMD_TERNOPS(H_STERN) SIMD_TESTS(H_STEST)
    SIMD_SHIFTS(H_SSHIFT) SIMD_SPLATS(H_SSPLAT)
    /* lane access: bytes of the vector's slots, lane i at byte i * size (little-endian host) */
#define LANE(k, size) ((uint8_t *)&R(k) + ip[1].u * (size))
#define H_EXTRACT(name, MT, conv)                                                                \
    L_##name: { MT x; memcpy(&x, LANE(2, sizeof x), sizeof x); R(3) = conv; ip += 4; NEXT(); }
    H_EXTRACT(i8x16_extract_lane_s, int8_t, (uint32_t)(int32_t)x)
    H_EXTRACT(i8x16_extract_lane_u, uint8_t, x)
    H_EXTRACT(i16x8_extract_lane_s, int16_t, (uint32_t)(int32_t)x)
    H_EXTRACT(i16x8_extract_lane_u, uint16_t, x)
    H_EXTRACT(i32x4_extract_lane, uint32_t, x) H_EXTRACT(f32x4_extract_lane, uint32_t, x)
    H_EXTRACT(i64x2_extract_lane, uint64_t, x) H_EXTRACT(f64x2_extract_lane, uint64_t, x)
    /* v128 results are written with one 16-byte store (never two 8-byte ones): the next handler
     * reads them with one 16-byte load, which cannot be forwarded from two smaller stores. */
#define H_REPLACE(n, name, T, lanes)                                                             \
    L_##name: VPUT(4, v128_insert_lane(V(2), (unsigned)ip[1].u, 16 / lanes, R(3))); ip += 5; NEXT();
    SIMD_REPLACES(H_REPLACE)
#define H_VLOAD(n, name, bytes, align)                                                           \
    VLOAD_H(L_##name, EA_PLAIN, 3, bytes, name) VLOAD_H(L_##name##_ai, EA_AI, 4, bytes, name)    \
    VLOAD_H(L_##name##_aa, EA_AA, 4, bytes, name) VLOAD_H(L_##name##_k, ip[1].u, 2, bytes, name)
#define VLOAD_H(label, EA, k, n, name)                                                           \
    label: {                                                                                     \
        uint64_t ea = EA;                                                                        \
        if (__builtin_expect(ea + n > msize, 0)) TRAP(WASM_TRAP_MEMORY_OOB);                     \
        VPUT(k, simd_##name(mem + ea)); ip += k + 1; NEXT();                                     \
    }
#define VSTORE_H(label, EA, k)                                                                   \
    label: {                                                                                     \
        uint64_t ea = EA;                                                                        \
        if (__builtin_expect(ea + 16 > msize, 0)) TRAP(WASM_TRAP_MEMORY_OOB);                    \
        memcpy(mem + ea, &R(k), 16); ip += k + 1; NEXT();                                        \
    }
    SIMD_LOADS(H_VLOAD)
    VSTORE_H(L_v128_store, EA_PLAIN, 3) VSTORE_H(L_v128_store_ai, EA_AI, 4)
    VSTORE_H(L_v128_store_aa, EA_AA, 4) VSTORE_H(L_v128_store_k, ip[1].u, 2)
    /* lane loads and stores: offset, lane, address, vector [, result] */
#define H_LANE_LOAD(n, name, bytes, lanes)                                                       \
    L_##name: {                                                                                  \
        uint64_t ea = (uint64_t)(uint32_t)R(3) + ip[1].u;                                        \
        if (__builtin_expect(ea + bytes > msize, 0)) TRAP(WASM_TRAP_MEMORY_OOB);                 \
        uint64_t x = 0;                                                                          \
        memcpy(&x, mem + ea, bytes);                                                             \
        VPUT(5, v128_insert_lane(V(4), (unsigned)ip[2].u, bytes, x)); ip += 6; NEXT();           \
    }
#define H_LANE_STORE(n, name, bytes, lanes)                                                      \
    L_##name: {                                                                                  \
        uint64_t ea = (uint64_t)(uint32_t)R(3) + ip[1].u;                                        \
        if (__builtin_expect(ea + bytes > msize, 0)) TRAP(WASM_TRAP_MEMORY_OOB);                 \
        memcpy(mem + ea, (uint8_t *)&R(4) + ip[2].u * bytes, bytes); ip += 5; NEXT();            \
    }
    SIMD_LANE_LOADS(H_LANE_LOAD) SIMD_LANE_STORES(H_LANE_STORE)
L_v128_mov: VPUT(2, V(1)); ip += 3; NEXT(); /* one load first: the slots may overlap */
L_v128_select: VPUT(4, v128_get((uint32_t)R(3) ? &R(1) : &R(2))); ip += 5; NEXT();
L_v128_global_get: VPUT(2, v128_get(globals[ip[1].u]->val)); ip += 3; NEXT();
L_v128_global_set: v128_put(globals[ip[1].u]->val, V(2)); ip += 3; NEXT();
L_v128_const: VPUT(3, v128_get(&ip[1])); ip += 4; NEXT();
L_i8x16_shuffle: VPUT(5, simd_i8x16_shuffle(V(3), V(4), (const uint8_t *)&ip[1])); ip += 6; NEXT();

L_f32_copysign: R(3) = (R(1) & 0x7FFFFFFFu) | (R(2) & 0x80000000u); ip += 4; NEXT();
L_f64_copysign: R(3) = (R(1) & ~(1ull << 63)) | (R(2) & (1ull << 63)); ip += 4; NEXT();
L_unreachable: TRAP(WASM_TRAP_UNREACHABLE);
L_mov: R(2) = R(1); ip += 3; NEXT();
L_mov2: R(2) = R(1); R(4) = R(3); ip += 5; NEXT();
L_const: R(2) = ip[1].u; ip += 3; NEXT();
L_select: R(4) = (uint32_t)R(3) ? R(1) : R(2); ip += 5; NEXT();
L_br: BR_TO(1); NEXT();
L_br_if: if ((uint32_t)R(1)) BR_TO(2); else ip += 3; NEXT();
L_br_unless: if (!(uint32_t)R(1)) BR_TO(2); else ip += 3; NEXT();
L_br_if64: if (R(1)) BR_TO(2); else ip += 3; NEXT();
L_br_unless64: if (!R(1)) BR_TO(2); else ip += 3; NEXT();
L_br_table: {
        /* 64-bit on purpose: a 32-bit min becomes SSE4.1 pminud through vector registers */
        uint64_t i = (uint32_t)R(1), n = ip[2].u;
        if (i > n) i = n;
        BR_TO(3 + i);
        NEXT();
    }
L_fuel:
    POLL_INTERRUPT();
    if (__builtin_expect(fuel < ip[1].u, 0)) TRAP(WASM_TRAP_OUT_OF_FUEL);
    fuel -= ip[1].u; ip += 2; NEXT();
L_global_get: R(2) = globals[ip[1].u]->val[0]; ip += 3; NEXT();
L_global_set: globals[ip[1].u]->val[0] = R(2); ip += 3; NEXT();
L_ref_is_null: R(2) = R(1) == 0; ip += 3; NEXT();
L_ref_func: R(2) = (slot_t)(uintptr_t)funcs[ip[1].u]; ip += 3; NEXT();

L_call:
    f = funcs[ip[1].u];
    newfp = fp + ip[2].u;
    ret_ip = ip + 3;
    goto do_call;
L_call_indirect: {
        wasm_table *t = tables[ip[2].u];
        uint32_t i = (uint32_t)R(4);
        if (i >= t->size) TRAP(WASM_TRAP_UNDEFINED_ELEMENT);
        f = t->elems[i];
        if (!f) TRAP(WASM_TRAP_UNINIT_ELEMENT);
        const ftype *want = &inst->mod->types[ip[1].u];
        if (f->type != want && !wasm_ftype_eq(f->type, want)) TRAP(WASM_TRAP_INDIRECT_MISMATCH);
        newfp = fp + ip[3].u;
        ret_ip = ip + 5;
        goto do_call;
    }
do_call:
    if (f->host) {
        ri->fuel = unlimited ? WASM_FUEL_UNLIMITED : fuel;
        int k = wasm_call_host(inst, f, newfp, trap);
        unlimited = ri->fuel == WASM_FUEL_UNLIMITED;
        fuel = ri->fuel;
        if (k) {
            trapk = k;
            host_trapped = true;
            goto trap;
        }
        RELOAD_MEM();
        ip = ret_ip;
        NEXT();
    }
    code = f->code;
    if (__builtin_expect(depth + 1 >= max_depth || newfp + code->frame_slots > stack_end, 0))
        TRAP(WASM_TRAP_STACK_EXHAUSTED);
    /* the callee's entry fuel instruction is charged here and skipped */
    POLL_INTERRUPT();
    if (__builtin_expect(fuel < code->code[1].u, 0))
        TRAP(WASM_TRAP_OUT_OF_FUEL);
    fuel -= code->code[1].u;
    frames[++depth] = (frame){.ret_ip = ret_ip, .fp = newfp, .func = f};
    fp = newfp;
    for (slot_t *p = fp + code->nparam_slots, *end = fp + code->nlocal_slots; p < end; p++)
        *p = 0;
    if (f->inst != inst) {
        inst = f->inst;
        RELOAD_INST();
    }
    ip = code->code + 2;
    NEXT();

L_ret1:
    fp[0] = R(1);
L_ret:
    if (depth == depth0)
        goto done;
    ip = frames[depth].ret_ip;
    depth--;
    fp = frames[depth].fp;
    if (frames[depth].func->inst != inst) {
        inst = frames[depth].func->inst;
        RELOAD_INST();
    } else {
        RELOAD_MEM();
    }
    NEXT();

L_memory_size: R(1) = inst->mem0->pages; ip += 2; NEXT();
L_memory_grow:
    R(2) = (uint32_t)(int32_t)wasm_mem_grow(inst->mem0, (uint32_t)R(1));
    RELOAD_MEM(); ip += 3; NEXT();
L_memory_fill: {
        uint32_t d = (uint32_t)R(1), n = (uint32_t)R(3);
        if ((uint64_t)d + n > msize) TRAP(WASM_TRAP_MEMORY_OOB);
        memset(mem + d, (int)(uint8_t)R(2), n); ip += 4; NEXT();
    }
L_memory_copy: {
        uint32_t d = (uint32_t)R(1), s = (uint32_t)R(2), n = (uint32_t)R(3);
        if ((uint64_t)d + n > msize || (uint64_t)s + n > msize) TRAP(WASM_TRAP_MEMORY_OOB);
        memmove(mem + d, mem + s, n); ip += 4; NEXT();
    }
L_memory_init: {
        uint32_t seg = (uint32_t)ip[1].u, d = (uint32_t)R(2), s = (uint32_t)R(3), n = (uint32_t)R(4);
        if ((uint64_t)s + n > inst->data_len[seg] || (uint64_t)d + n > msize) TRAP(WASM_TRAP_MEMORY_OOB);
        if (n) memcpy(mem + d, inst->mod->datas[seg].bytes + s, n);
        ip += 5; NEXT();
    }
L_data_drop: inst->data_len[ip[1].u] = 0; ip += 2; NEXT();
L_table_get: {
        wasm_table *t = tables[ip[1].u];
        uint32_t i = (uint32_t)R(2);
        if (i >= t->size) TRAP(WASM_TRAP_TABLE_OOB);
        R(3) = (slot_t)(uintptr_t)t->elems[i]; ip += 4; NEXT();
    }
L_table_set: {
        wasm_table *t = tables[ip[1].u];
        uint32_t i = (uint32_t)R(2);
        if (i >= t->size) TRAP(WASM_TRAP_TABLE_OOB);
        t->elems[i] = (void *)(uintptr_t)R(3); ip += 4; NEXT();
    }
L_table_size: R(2) = tables[ip[1].u]->size; ip += 3; NEXT();
L_table_grow:
    R(4) = (uint32_t)(int32_t)wasm_tab_grow(tables[ip[1].u], (uint32_t)R(3), (void *)(uintptr_t)R(2));
    ip += 5; NEXT();
L_table_fill: {
        wasm_table *t = tables[ip[1].u];
        uint32_t i = (uint32_t)R(2), n = (uint32_t)R(4);
        if ((uint64_t)i + n > t->size) TRAP(WASM_TRAP_TABLE_OOB);
        for (uint32_t k = 0; k < n; k++) t->elems[i + k] = (void *)(uintptr_t)R(3);
        ip += 5; NEXT();
    }
L_table_copy: {
        wasm_table *dt = tables[ip[1].u], *st = tables[ip[2].u];
        uint32_t d = (uint32_t)R(3), s = (uint32_t)R(4), n = (uint32_t)R(5);
        if ((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size) TRAP(WASM_TRAP_TABLE_OOB);
        memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
        ip += 6; NEXT();
    }
L_table_init: {
        wasm_table *t = tables[ip[1].u];
        uint32_t seg = (uint32_t)ip[2].u, d = (uint32_t)R(3), s = (uint32_t)R(4), n = (uint32_t)R(5);
        if ((uint64_t)s + n > inst->elem_len[seg] || (uint64_t)d + n > t->size) TRAP(WASM_TRAP_TABLE_OOB);
        if (n) memcpy(t->elems + d, inst->elem_refs[seg] + s, (size_t)n * sizeof(void *));
        ip += 6; NEXT();
    }
L_elem_drop: inst->elem_len[ip[1].u] = 0; ip += 2; NEXT();

done:
    ri->fuel = unlimited ? WASM_FUEL_UNLIMITED : fuel;
    return 0;
trap:
    ri->fuel = unlimited ? WASM_FUEL_UNLIMITED : fuel;
    if (host_trapped) /* the host's message stays; the location is the calling instruction */
        wasm_trap_locate(trap, frames[depth].func, (uint32_t)(ip - frames[depth].func->code->code));
    else
        wasm_trap_set(trap, (wasm_trapkind)trapk, frames[depth].func,
                      (uint32_t)(ip - frames[depth].func->code->code));
    return trapk;
}

const void *const *wasm_interp_handlers(void)
{
    const void *const *table = NULL;
    interp(NULL, NULL, NULL, 0, false, NULL, &table);
    return table;
}

int wasm_interp_run(wasm_instance *inst, wasm_func *f, wasm_trap *trap)
{
    return interp(inst, f, inst->stack, 0, false, trap, NULL);
}

int wasm_interp_run_called(wasm_instance *inst, wasm_func *f, slot_t *fp, uint32_t depth,
                           wasm_trap *trap)
{
    return interp(inst, f, fp, depth, true, trap, NULL);
}
