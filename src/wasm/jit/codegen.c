/* codegen.c - the compiled tier's code generator: translated code (compile.c one level up) to
 * x86-64 machine code, one pass per function.
 *
 * The input is the interpreter's validated, translated form of each function: operands are frame
 * slots, constants are immediates, fuel instructions sit at function entry and loop heads, and
 * every cell maps back to a wasm byte offset. Compiling from it rather than from the bytecode
 * means validation, fuel placement, frame layout and trap locations are shared by construction:
 * the compiled code charges the same fuel at the same points and reports a trap at the same code
 * index (hence the same byte offset) as the interpreter. See docs/engine.md, "Compiled tier".
 *
 * Registers while compiled code runs: r15 the jit_ctx, r14 the frame (slot 0 of the current
 * function), r13 the base and r12 the size of memory 0, rbx the fuel left, rbp the interrupt
 * flag's address. Everything else is scratch. Calls between compiled functions are native calls on a stack of their own. */
#include "wasm/jit/jc.h"
#include "wasm/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_CODE_BYTES (256u << 20) /* machine code per module */

static bool grow_arr(jc *j, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p) {
        j->nomem = true;
        return false;
    }
    *arr = p;
    *cap = ncap;
    return true;
}

bool jc_grow(jc *j, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    return grow_arr(j, arr, cap, need, elem);
}

static void unsupported(jc *j, const char *what)
{
    if (!j->why[0])
        snprintf(j->why, sizeof ((jit_module *)0)->unsupported, "%s", what);
}

/* ------------------------------------------------------------------ small emitters */

static const int pool_reg[6] = {RSI, RDI, R8, R9, R10, R11};

static void pool_clear(jc *j)
{
    for (int i = 0; i < 6; i++)
        j->pool_slot[i] = j->xpool_slot[i] = UINT64_MAX;
}

/* Loop pinning (see pin_loop): inside an innermost loop, chosen slots live in registers for the
 * whole loop, integers in the pool registers and f64 values (v128 values in a loop with SIMD)
 * in xmm8..xmm15. While pins are live the slot's memory is stale; every accessor below (and
 * simd.c's vget/vput) goes to the register instead. */

/* While a loop is compiled for measurement, counts how each slot is used (classes: jc.h). */
static void note_use(jc *j, uint64_t slot, int cls)
{
    if (!j->recording)
        return;
    for (uint32_t i = 0; i < j->nuse; i++)
        if (j->use[i].slot == slot) {
            j->use[i].n++;
            j->use[i].cls |= (uint8_t)cls;
            return;
        }
    if (j->nuse < JC_MAX_USES) /* slots past the table are just not pinned */
        j->use[j->nuse++] = (jpin_use){slot, 1, (uint8_t)cls};
}

static int pinned_gpr(jc *j, uint64_t slot)
{
    for (int i = 0; j->pins_live && i < 6; i++)
        if (j->pin_slot[i] == slot)
            return pool_reg[i];
    return -1;
}

void jc_note(jc *j, uint64_t slot, int cls) { note_use(j, slot, cls); }

/* The xmm register slot is pinned in, when xmm8..xmm15 hold pins of that kind (v128 or f64),
 * or -1. */
static int xpin_of(jc *j, uint64_t slot, bool v128)
{
    for (int i = 0; j->pins_live && j->xpin_v128 == v128 && i < 8; i++)
        if (j->xpin_slot[i] == slot)
            return 8 + i;
    return -1;
}

static int pinned_xmm(jc *j, uint64_t slot) { return xpin_of(j, slot, false); }
int jc_vpinned(jc *j, uint64_t slot) { return xpin_of(j, slot, true); }

/* movsd, or for v128 pins movdqu, between xmm8+i and its slot (load: 0x10, store: 0x11). */
static void xpin_move(jc *j, int i, bool store)
{
    if (j->xpin_v128)
        x_rm(&j->b, 0xF3, 0, store ? 0x0F7F : 0x0F6F, 2, 8 + i, R14, X_NOINDEX, 1,
             SLOT(j->xpin_slot[i]));
    else
        x_rm(&j->b, 0xF2, 0, store ? 0x0F11 : 0x0F10, 2, 8 + i, R14, X_NOINDEX, 1,
             SLOT(j->xpin_slot[i]));
}

/* The slot's memory is about to be read directly: write a pinned value back first. */
static void spill_pin(jc *j, uint64_t slot)
{
    int r = pinned_gpr(j, slot), x = pinned_xmm(j, slot);
    if (r >= 0)
        x_rm(&j->b, 0, 1, 0x89, 1, r, R14, X_NOINDEX, 1, SLOT(slot));
    else if (x >= 0)
        x_rm(&j->b, 0xF2, 0, 0x0F11, 2, x, R14, X_NOINDEX, 1, SLOT(slot)); /* movsd */
}

/* A read that needs the slot in memory (few operations do: their slots are not pinned). */
static void slot_mem(jc *j, uint64_t slot)
{
    note_use(j, slot, U_OTHER);
    spill_pin(j, slot);
}

void jc_slot_mem(jc *j, uint64_t slot) { slot_mem(j, slot); }

static void rm_slot(jc *j, int pfx, int w, uint32_t opc, int n, int reg, uint64_t slot)
{
    slot_mem(j, slot);
    x_rm(&j->b, pfx, w, opc, n, reg, R14, X_NOINDEX, 1, SLOT(slot));
}

/* Stores every pin to its slot: at each way out of a pinned loop. */
static void pins_writeback(jc *j)
{
    for (int i = 0; i < 6; i++)
        if (j->pin_slot[i] != UINT64_MAX)
            x_rm(&j->b, 0, 1, 0x89, 1, pool_reg[i], R14, X_NOINDEX, 1, SLOT(j->pin_slot[i]));
    for (int i = 0; i < 8; i++)
        if (j->xpin_slot[i] != UINT64_MAX)
            xpin_move(j, i, true);
}

/* The pool register holding slot's value, or -1 (the pool is off while pins use its registers). */
static int pooled(jc *j, uint64_t slot)
{
    if (!j->pool_on || j->pins_live)
        return -1;
    for (int i = 0; i < 6; i++)
        if (j->pool_slot[i] == slot)
            return pool_reg[i];
    return -1;
}

static void ld_w(jc *j, int w, int reg, uint64_t slot)
{
    note_use(j, slot, U_INT);
    int r = pinned_gpr(j, slot), x = pinned_xmm(j, slot);
    if (r < 0)
        r = pooled(j, slot);
    if (r >= 0)
        x_rr(&j->b, 0, w, 0x8B, 1, reg, r);
    else if (x >= 0)
        x_rr(&j->b, 0x66, w, 0x0F7E, 2, x, reg); /* movq/movd reg, xmm */
    else
        x_rm(&j->b, 0, w, 0x8B, 1, reg, R14, X_NOINDEX, 1, SLOT(slot));
}

void jc_ld(jc *j, int reg, uint64_t slot) { ld_w(j, 1, reg, slot); }
void jc_ld32(jc *j, int reg, uint64_t slot) { ld_w(j, 0, reg, slot); }

/* A slot is being written: forget copies of its old value (a v128 cached by simd.c included:
 * that cache lives on across scalar instructions). */
static void pool_forget(jc *j, uint64_t slot)
{
    for (int i = 0; i < 6; i++) {
        if (j->pool_slot[i] == slot)
            j->pool_slot[i] = UINT64_MAX;
        if (j->xpool_slot[i] == slot)
            j->xpool_slot[i] = UINT64_MAX;
    }
    for (int i = 0; i < JC_VC_N; i++)
        if (j->vc_slot[i] != UINT64_MAX && (j->vc_slot[i] == slot || j->vc_slot[i] + 1 == slot))
            j->vc_slot[i] = UINT64_MAX;
}

/* The xmm register holding slot's value as a float of the given width, or -1. */
static int xpooled(jc *j, uint64_t slot, int dbl)
{
    int x = pinned_xmm(j, slot);
    if (x >= 0 || !j->pool_on)
        return x;
    for (int i = 0; i < 6; i++)
        if (j->xpool_slot[i] == slot && j->xpool_dbl[i] == (dbl != 0))
            return 2 + i;
    return -1;
}

/* After xmm0 was stored to slot: keep a copy in the float pool. */
static void xpool_keep(jc *j, uint64_t slot, int dbl)
{
    if (!j->pool_on)
        return;
    uint32_t i = j->xpool_next++ % 6;
    x_rr(&j->b, 0, 0, 0x0F28, 2, 2 + (int)i, 0); /* movaps xmm(2+i), xmm0 */
    if (2 + i >= JC_VC_REG) /* xmm4..xmm7 are also simd.c's v128 cache */
        j->vc_slot[2 + i - JC_VC_REG] = UINT64_MAX;
    j->xpool_slot[i] = slot;
    j->xpool_dbl[i] = dbl != 0;
}

void jc_st(jc *j, uint64_t slot, int reg)
{
    note_use(j, slot, U_INT);
    pool_forget(j, slot);
    int r = pinned_gpr(j, slot), x = pinned_xmm(j, slot);
    if (r >= 0) {
        x_rr(&j->b, 0, 1, 0x8B, 1, r, reg);
        return;
    }
    if (x >= 0) {
        x_rr(&j->b, 0x66, 1, 0x0F6E, 2, x, reg); /* movq xmm, reg */
        return;
    }
    x_rm(&j->b, 0, 1, 0x89, 1, reg, R14, X_NOINDEX, 1, SLOT(slot));
    if (j->pool_on && !j->pins_live && reg == RAX) { /* keep the value: round-robin over the pool */
        uint32_t i = j->pool_next++ % 6;
        x_rr(&j->b, 0, 1, 0x8B, 1, pool_reg[i], RAX);
        j->pool_slot[i] = slot;
    }
}

/* The register holding an integer slot's value (pinned or pooled), or -1. */
static int reg_of(jc *j, uint64_t slot)
{
    int r = pinned_gpr(j, slot);
    return r >= 0 ? r : pooled(j, slot);
}

/* op reg, [slot] for an operation with a ModRM r/m operand, from a register when cached. */
static void op_slot(jc *j, int pfx, int w, uint32_t opc, int n, int reg, uint64_t slot)
{
    note_use(j, slot, U_INT);
    int r = pinned_gpr(j, slot);
    if (r < 0)
        r = pooled(j, slot);
    if (r >= 0) {
        x_rr(&j->b, pfx, w, opc, n, reg, r);
        return;
    }
    spill_pin(j, slot);
    x_rm(&j->b, pfx, w, opc, n, reg, R14, X_NOINDEX, 1, SLOT(slot));
}

/* Sets the flags as cmp [slot], 0 would. */
static void cmp0_slot(jc *j, int w, uint64_t slot)
{
    note_use(j, slot, U_INT);
    int r = pinned_gpr(j, slot);
    if (r < 0)
        r = pooled(j, slot);
    if (r >= 0) {
        x_rr(&j->b, 0, w, 0x85, 1, r, r);
        return;
    }
    spill_pin(j, slot);
    x_alu_imm_m(&j->b, w, 7, R14, SLOT(slot), 0);
}

/* A float operation with an xmm/m operand: op xmm, slot. */
static void fop_slot(jc *j, int pfx, uint32_t opc, int xmm, uint64_t slot, int dbl)
{
    note_use(j, slot, dbl ? U_F64 : U_OTHER);
    int r = xpooled(j, slot, dbl);
    if (r >= 0) {
        x_rr(&j->b, pfx, 0, opc, 2, xmm, r);
        return;
    }
    spill_pin(j, slot);
    x_rm(&j->b, pfx, 0, opc, 2, xmm, R14, X_NOINDEX, 1, SLOT(slot));
}
void jc_lea_slot(jc *j, int reg, uint64_t slot) { x_rm(&j->b, 0, 1, 0x8D, 1, reg, R14, X_NOINDEX, 1, SLOT(slot)); }
static void ctx_ld(jc *j, int reg, int32_t off) { x_rm(&j->b, 0, 1, 0x8B, 1, reg, R15, X_NOINDEX, 1, off); }
static void ctx_st(jc *j, int32_t off, int reg) { x_rm(&j->b, 0, 1, 0x89, 1, reg, R15, X_NOINDEX, 1, off); }
static void mov_rr(jc *j, int w, int dst, int src) { x_rr(&j->b, 0, w, 0x8B, 1, dst, src); }
void jc_call(jc *j, const void *fn) { x_call_abs(&j->b, fn); }

#define NONE UINT64_MAX

/* Nothing the previous instruction left in rax, xmm0 or as a constant is known any more: at a
 * function's start (else a new jc's calloc'd 0 names slot 0, the first parameter, and a reused
 * one the previous function's last instruction) and after a discarded recording pass. */
static void forget_prev(jc *j) { j->out_rax = j->out_x0 = j->out_k = NONE; }

/* rax = the slot's value (64-bit, or 32-bit zero-extended), from rax itself when the previous
 * instruction left it there. Only valid before the instruction has written rax. */
static void ld_first(jc *j, int w, uint64_t slot)
{
    if (j->in_rax == slot) {
        if (!w)
            mov_rr(j, 0, RAX, RAX);
        return;
    }
    if (w)
        jc_ld(j, RAX, slot);
    else
        jc_ld32(j, RAX, slot);
}

static void stub_at(jc *j, uint32_t at, uint32_t kind, uint32_t index, uint64_t addback, bool dyn)
{
    if (grow_arr(j, (void **)&j->stub, &j->stubcap, j->nstub + 1, sizeof(jstub)))
        j->stub[j->nstub++] = (jstub){at, kind, index, addback, dyn};
}

void jc_trap_if(jc *j, int cc, wasm_trapkind kind) /* cc < 0: always */
{
    stub_at(j, (uint32_t)(cc < 0 ? x_jmp32(&j->b) : x_jcc32(&j->b, cc)), kind, j->cur, 0, false);
}

void jc_trap_if_dyn(jc *j, int cc) { stub_at(j, (uint32_t)x_jcc32(&j->b, cc), 0, j->cur, 0, true); }

static void reload_mem(jc *j)
{
    ctx_ld(j, RAX, CTX(mem0));
    x_rm(&j->b, 0, 1, 0x8B, 1, R13, RAX, X_NOINDEX, 1, (int32_t)offsetof(wasm_memory, data));
    x_rm(&j->b, 0, 1, 0x8B, 1, R12, RAX, X_NOINDEX, 1, (int32_t)offsetof(wasm_memory, size));
}

/* The interrupt flag, polled where fuel is charged; traps at code index `index`. */
static void poll(jc *j, uint32_t index)
{
    x_alu_imm_m(&j->b, 0, 7, RBP, 0, 0); /* rbp: the interrupt flag's address */
    stub_at(j, (uint32_t)x_jcc32(&j->b, CC_NE), WASM_TRAP_INTERRUPTED, index, 0, false);
}

/* Charges n fuel (traps at `index` when less is left, leaving the fuel as it was). */
static void charge(jc *j, uint64_t n, uint32_t index)
{
    if (n <= INT32_MAX) {
        x_alu_imm(&j->b, 1, 5, RBX, (int32_t)n);
    } else {
        x_mov_imm(&j->b, RCX, n);
        x_rr(&j->b, 0, 1, 0x2B, 1, RBX, RCX);
    }
    stub_at(j, (uint32_t)x_jcc32(&j->b, CC_B), WASM_TRAP_OUT_OF_FUEL, index, n, false);
}

/* ------------------------------------------------------------------ branches */

/* Where a back-edge to loop head `target` enters: a pinned loop entered from outside its pinned
 * cells first reloads its pins. */
static uint32_t loop_entry(jc *j, uint32_t target)
{
    if (j->pins_live && j->pin_head == target)
        return j->native[target];
    for (uint32_t i = 0; i < j->npinned; i++)
        if (j->pinned[i].target == target)
            return j->pinned[i].at;
    return j->native[target];
}

static void backedge(jc *j, uint32_t target)
{
    /* as the interpreter's BR_TO: charge the loop's count, then poll; traps report the target */
    charge(j, j->code[target - 1].u, target);
    poll(j, target);
    size_t at = x_jmp32(&j->b);
    x_patch_rel(&j->b, at, loop_entry(j, target));
}

/* Jumps (cc < 0: always) to the cell `target`. */
static void branch(jc *j, int cc, uint32_t target)
{
    if (j->recording && target == j->rec_head)
        j->rec_back = true;
    if (j->pins_live && (target < j->pin_head || target >= j->pin_end)) {
        /* leaving a pinned loop: its slots go back to memory on the way */
        size_t skip = cc < 0 ? SIZE_MAX : x_jcc32(&j->b, cc ^ 1);
        pins_writeback(j);
        j->pins_live = false;
        branch(j, -1, target);
        j->pins_live = true;
        if (skip != SIZE_MAX)
            x_patch_rel(&j->b, skip, j->b.len);
        return;
    }
    if (target > j->cur) {
        size_t at = cc < 0 ? x_jmp32(&j->b) : x_jcc32(&j->b, cc);
        if (grow_arr(j, (void **)&j->fix, &j->fixcap, j->nfix + 1, sizeof(jfix)))
            j->fix[j->nfix++] = (jfix){(uint32_t)at, target};
        if (target <= j->fc->code_len)
            j->label[target] = 1;
        return;
    }
    if (j->native[target] == UINT32_MAX || target == 0) {
        unsupported(j, "internal: branch into an instruction");
        return;
    }
    if (cc < 0) {
        backedge(j, target);
        return;
    }
    size_t skip = x_jcc32(&j->b, cc ^ 1);
    backedge(j, target);
    x_patch_rel(&j->b, skip, j->b.len);
}

/* The target of the branch offset in cell k of the current instruction. */
static uint32_t target_of(jc *j, uint32_t k)
{
    return (uint32_t)((int64_t)(j->cur + k) + j->code[j->cur + k].i);
}

/* ------------------------------------------------------------------ integer operations */

static const uint8_t cmp_cc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE};

/* The accumulator forms take their first operand from the previous instruction's result. */
static uint32_t acc_slot(jc *j)
{
    if (!j->prev_acc)
        unsupported(j, "internal: accumulator operand without a producer");
    return j->prev_dst;
}

/* rax = rax <op> (second operand: slot sb, or immediate imm when is_imm). k: the i32 opcode. */
static void int_binop(jc *j, int w, uint32_t k, bool is_imm, uint64_t sb, uint64_t imm)
{
    static const uint8_t rm_op[] = {[0x6A] = 0x03, [0x6B] = 0x2B, [0x71] = 0x23, [0x72] = 0x0B,
                                    [0x73] = 0x33};
    static const uint8_t digit[] = {[0x6A] = 0, [0x6B] = 5, [0x71] = 4, [0x72] = 1, [0x73] = 6,
                                    [0x74] = 4, [0x75] = 7, [0x76] = 5, [0x77] = 0, [0x78] = 1};
    bool imm32 = !w || (int64_t)imm == (int32_t)imm;
    if (is_imm && !imm32) { /* a 64-bit constant: into rcx, then the register form */
        x_mov_imm(&j->b, RCX, imm);
        is_imm = false;
        sb = UINT64_MAX;
    }
    if (k >= 0x74) { /* shifts and rotates: count in cl or an immediate */
        if (is_imm) {
            x_shift_imm(&j->b, w, digit[k], RAX, (uint8_t)(imm & (w ? 63 : 31)));
            return;
        }
        if (sb != UINT64_MAX)
            jc_ld32(j, RCX, sb);
        x_rr(&j->b, 0, w, 0xD3, 1, digit[k], RAX);
        return;
    }
    if (k == 0x6C) { /* mul */
        if (is_imm) {
            x_rr(&j->b, 0, w, 0x69, 1, RAX, RAX);
            x_u32(&j->b, (uint32_t)imm);
        } else if (sb == UINT64_MAX) {
            x_rr(&j->b, 0, w, 0x0FAF, 2, RAX, RCX);
        } else {
            op_slot(j, 0, w, 0x0FAF, 2, RAX, sb);
        }
        return;
    }
    if (is_imm)
        x_alu_imm(&j->b, w, digit[k], RAX, (int32_t)imm);
    else if (sb == UINT64_MAX)
        x_rr(&j->b, 0, w, rm_op[k], 1, RAX, RCX);
    else
        op_slot(j, 0, w, rm_op[k], 1, RAX, sb);
}

/* Integer binary operation family member: form 0 (a, b, dst), 1 (a, imm, dst), 2 (b, dst) with
 * a in the accumulator, 3 (imm, dst) with a in the accumulator. Returns the cells used. */
static uint32_t ibin(jc *j, const cell *p, int w, uint32_t opc, int form)
{
    uint32_t k = w ? opc - 0x12 : opc;
    uint64_t a = form >= 2 ? acc_slot(j) : p[1].u;
    const cell *rest = form >= 2 ? p + 1 : p + 2;
    bool imm = form == 1 || form == 3;
    uint64_t sb = imm ? 0 : rest[0].u;
    if (!imm && j->in_rax == sb) { /* the second operand is in rax: move it to rcx first */
        mov_rr(j, 1, RCX, RAX);
        sb = NONE;
    }
    ld_first(j, w, a);
    int_binop(j, w, k, imm, sb, imm ? rest[0].u : 0);
    jc_st(j, rest[1].u, RAX);
    j->out_rax = rest[1].u;
    j->prev_dst = (uint32_t)rest[1].u;
    j->prev_acc = true;
    return form >= 2 ? 3 : 4;
}

/* Compares: form 0 (a, b, dst), 1 (a, imm, dst), 2 (a, b, target), 3 (a, imm, target). */
static uint32_t icmp(jc *j, const cell *p, int w, uint32_t idx, int form)
{
    bool imm = form == 1 || form == 3;
    bool b_in_rcx = !imm && j->in_rax == p[2].u;
    if (b_in_rcx)
        mov_rr(j, 1, RCX, RAX);
    ld_first(j, w, p[1].u);
    if (b_in_rcx) {
        x_rr(&j->b, 0, w, 0x3B, 1, RAX, RCX);
    } else if (imm && (!w || (int64_t)p[2].u == (int32_t)p[2].u)) {
        x_alu_imm(&j->b, w, 7, RAX, (int32_t)p[2].u);
    } else if (imm) {
        x_mov_imm(&j->b, RCX, p[2].u);
        x_rr(&j->b, 0, w, 0x3B, 1, RAX, RCX);
    } else {
        op_slot(j, 0, w, 0x3B, 1, RAX, p[2].u);
    }
    if (form >= 2) {
        branch(j, cmp_cc[idx], target_of(j, 3));
    } else {
        x_rr(&j->b, 0, 0, 0x0F90 | cmp_cc[idx], 2, 0, RAX); /* setcc al */
        x_rr(&j->b, 0, 0, 0x0FB6, 2, RAX, RAX);             /* movzx eax, al */
        jc_st(j, p[3].u, RAX);
        j->out_rax = p[3].u;
    }
    return 4;
}

static uint32_t idiv(jc *j, const cell *p, int w, bool is_rem, bool is_signed)
{
    xbuf *b = &j->b;
    if (w)
        jc_ld(j, RAX, p[1].u), jc_ld(j, RCX, p[2].u);
    else
        jc_ld32(j, RAX, p[1].u), jc_ld32(j, RCX, p[2].u);
    x_rr(b, 0, w, 0x85, 1, RCX, RCX);
    jc_trap_if(j, CC_E, WASM_TRAP_DIV_ZERO);
    size_t done = SIZE_MAX;
    if (is_signed) {
        x_alu_imm(b, w, 7, RCX, -1);
        size_t normal = x_jcc32(b, CC_NE);
        if (is_rem) {
            x_rr(b, 0, 0, 0x33, 1, RAX, RAX); /* x rem -1 = 0 */
        } else {
            /* the most negative value divided by -1 overflows */
            if (w) {
                x_mov_imm(b, RDX, 1ull << 63);
                x_rr(b, 0, 1, 0x3B, 1, RAX, RDX);
            } else {
                x_alu_imm(b, 0, 7, RAX, INT32_MIN);
            }
            jc_trap_if(j, CC_E, WASM_TRAP_INT_OVERFLOW);
            x_rr(b, 0, w, 0xF7, 1, 3, RAX); /* neg */
        }
        done = x_jmp32(b);
        x_patch_rel(b, normal, b->len);
        if (w)
            x_byte(b, 0x48);
        x_byte(b, 0x99); /* cdq / cqo */
        x_rr(b, 0, w, 0xF7, 1, 7, RCX); /* idiv */
    } else {
        x_rr(b, 0, 0, 0x33, 1, RDX, RDX);
        x_rr(b, 0, w, 0xF7, 1, 6, RCX); /* div */
    }
    if (is_rem)
        mov_rr(j, 1, RAX, RDX);
    if (done != SIZE_MAX)
        x_patch_rel(b, done, b->len);
    jc_st(j, p[3].u, RAX);
    j->out_rax = p[3].u;
    j->prev_dst = (uint32_t)p[3].u;
    j->prev_acc = true;
    return 4;
}

/* ------------------------------------------------------------------ float operations */

static void movsx_load(jc *j, int dbl, int xmm, uint64_t slot) /* movss/movsd xmm, [fp+slot] */
{
    note_use(j, slot, dbl ? U_F64 : U_OTHER);
    int r = xpooled(j, slot, dbl), g = pinned_gpr(j, slot);
    if (r >= 0)
        x_rr(&j->b, 0, 0, 0x0F28, 2, xmm, r); /* movaps */
    else if (g >= 0)
        x_rr(&j->b, 0x66, 1, 0x0F6E, 2, xmm, g); /* movq xmm, reg */
    else
        x_rm(&j->b, dbl ? 0xF2 : 0xF3, 0, 0x0F10, 2, xmm, R14, X_NOINDEX, 1, SLOT(slot));
}

/* Stores xmm0 as a slot: f32 zero-extended to 64 bits as the interpreter keeps it. */
static void store_x0(jc *j, int dbl, uint64_t slot)
{
    if (!dbl) {
        note_use(j, slot, U_OTHER);
        x_rr(&j->b, 0x66, 0, 0x0F7E, 2, 0, RAX); /* movd eax, xmm0 */
        jc_st(j, slot, RAX);
    } else {
        note_use(j, slot, U_F64);
        pool_forget(j, slot);
        int x = pinned_xmm(j, slot), g = pinned_gpr(j, slot);
        if (x >= 0)
            x_rr(&j->b, 0, 0, 0x0F28, 2, x, 0); /* movaps */
        else if (g >= 0)
            x_rr(&j->b, 0x66, 1, 0x0F7E, 2, 0, g); /* movq reg, xmm0 */
        else
            x_rm(&j->b, 0xF2, 0, 0x0F11, 2, 0, R14, X_NOINDEX, 1, SLOT(slot));
    }
    if (pinned_xmm(j, slot) < 0 && pinned_gpr(j, slot) < 0)
        xpool_keep(j, slot, dbl);
}

static void x1_from_imm(jc *j, uint64_t bits)
{
    x_mov_imm(&j->b, RAX, bits);
    x_rr(&j->b, 0x66, 1, 0x0F6E, 2, 1, RAX); /* movq xmm1, rax */
}

/* k: 0 add 1 sub 2 mul 3 div 4 min 5 max (the order of F32_BINOPS). */
static uint32_t fbin(jc *j, const cell *p, int dbl, int k, int form)
{
    static const uint8_t sse[4] = {0x58, 0x5C, 0x59, 0x5E};
    uint64_t a = form >= 2 ? acc_slot(j) : p[1].u;
    const cell *rest = form >= 2 ? p + 1 : p + 2;
    bool imm = form == 1 || form == 3;
    if (k >= 4) { /* min/max: the interpreter's C, so NaN and signed-zero results match bit for bit */
        jc_ld(j, RDI, a);
        if (imm)
            x_mov_imm(&j->b, RSI, rest[0].u);
        else
            jc_ld(j, RSI, rest[0].u);
        x_mov_imm(&j->b, RDX, (dbl ? 2u : 0u) + (uint64_t)(k - 4)); /* k >= 4 here */
        jc_call(j, (const void *)jit_h_fminmax);
        jc_st(j, rest[1].u, RAX);
    } else {
        bool b_in_x1 = !imm && j->in_x0 == rest[0].u;
        if (b_in_x1)
            x_rr(&j->b, 0, 0, 0x0F28, 2, 1, 0); /* movaps xmm1, xmm0 */
        if (j->in_x0 != a || b_in_x1)
            movsx_load(j, dbl, 0, a);
        if (imm || b_in_x1) {
            if (imm)
                x1_from_imm(j, rest[0].u);
            x_rr(&j->b, dbl ? 0xF2 : 0xF3, 0, 0x0F00 | sse[k], 2, 0, 1);
        } else {
            fop_slot(j, dbl ? 0xF2 : 0xF3, 0x0F00 | sse[k], 0, rest[0].u, dbl);
        }
        store_x0(j, dbl, rest[1].u);
        j->out_x0 = rest[1].u;
        if (!dbl)
            j->out_rax = rest[1].u;
    }
    j->prev_dst = (uint32_t)rest[1].u;
    j->prev_acc = true;
    return form >= 2 ? 3 : 4;
}

/* k: 0 eq 1 ne 2 lt 3 gt 4 le 5 ge. */
static uint32_t fcmp(jc *j, const cell *p, int dbl, int k)
{
    bool swap = k == 2 || k == 4; /* a < b is b > a: the unordered case then reads false */
    movsx_load(j, dbl, 0, swap ? p[2].u : p[1].u);
    fop_slot(j, dbl ? 0x66 : 0, 0x0F2E, 0, swap ? p[1].u : p[2].u, dbl);
    if (k == 0 || k == 1) {
        x_rr(&j->b, 0, 0, 0x0F90 | (k == 0 ? CC_E : CC_NE), 2, 0, RAX);
        x_rr(&j->b, 0, 0, 0x0F90 | (k == 0 ? CC_NP : CC_P), 2, 0, RCX);
        x_rr(&j->b, 0, 0, k == 0 ? 0x22 : 0x0A, 1, RAX, RCX); /* and / or al, cl */
    } else {
        x_rr(&j->b, 0, 0, 0x0F90 | (k <= 3 ? CC_A : CC_AE), 2, 0, RAX);
    }
    x_rr(&j->b, 0, 0, 0x0FB6, 2, RAX, RAX);
    jc_st(j, p[3].u, RAX);
    return 4;
}

/* Trapping float-to-integer truncation, checked as the interpreter checks it (in double). */
static uint32_t trunc_trap(jc *j, const cell *p, int src_dbl, int w, bool is_signed, double lo,
                           double hi)
{
    xbuf *b = &j->b;
    if (src_dbl)
        movsx_load(j, 1, 0, p[1].u);
    else
        rm_slot(j, 0xF3, 0, 0x0F5A, 2, 0, p[1].u); /* cvtss2sd */
    x_rr(b, 0x66, 0, 0x0F2E, 2, 0, 0);
    jc_trap_if(j, CC_P, WASM_TRAP_INVALID_CONVERSION);
    union { double d; uint64_t u; } l = {.d = lo}, h = {.d = hi}, t63 = {.d = 9223372036854775808.0};
    x1_from_imm(j, l.u);
    x_rr(b, 0x66, 0, 0x0F2E, 2, 0, 1); /* x > lo, else overflow */
    jc_trap_if(j, CC_BE, WASM_TRAP_INT_OVERFLOW);
    x1_from_imm(j, h.u);
    x_rr(b, 0x66, 0, 0x0F2E, 2, 1, 0); /* hi > x, else overflow */
    jc_trap_if(j, CC_BE, WASM_TRAP_INT_OVERFLOW);
    if (!w || is_signed) {
        x_rr(b, 0xF2, !is_signed || w, 0x0F2C, 2, RAX, 0); /* cvttsd2si */
        if (!w)
            mov_rr(j, 0, RAX, RAX);
    } else { /* u64: values from 2^63 up convert after subtracting 2^63 */
        x1_from_imm(j, t63.u);
        x_rr(b, 0x66, 0, 0x0F2E, 2, 0, 1);
        size_t big = x_jcc32(b, CC_AE);
        x_rr(b, 0xF2, 1, 0x0F2C, 2, RAX, 0);
        size_t done = x_jmp32(b);
        x_patch_rel(b, big, b->len);
        x_rr(b, 0xF2, 0, 0x0F5C, 2, 0, 1); /* subsd */
        x_rr(b, 0xF2, 1, 0x0F2C, 2, RAX, 0);
        x_rr(b, 0, 1, 0x0FBA, 2, 7, RAX); /* btc rax, 63 */
        x_byte(b, 63);
        x_patch_rel(b, done, b->len);
    }
    jc_st(j, p[2].u, RAX);
    j->out_rax = p[2].u;
    return 3;
}

/* ------------------------------------------------------------------ unary operations */

static void bit_count(jc *j, int w, uint64_t s, uint32_t kind) /* 0 clz 1 ctz 2 popcnt */
{
    xbuf *b = &j->b;
    if (kind == 2) {
        rm_slot(j, 0xF3, w, 0x0FB8, 2, RAX, s);
        return;
    }
    /* bsr/bsf leave the destination undefined for 0: select the defined answer with cmov */
    rm_slot(j, 0, w, kind == 0 ? 0x0FBD : 0x0FBC, 2, RAX, s);
    x_mov_imm(b, RCX, kind == 0 ? UINT64_MAX : (w ? 64 : 32));
    x_rr(b, 0, w, 0x0F44, 2, RAX, RCX); /* cmovz */
    if (kind == 0) {
        x_rr(b, 0, w, 0xF7, 1, 3, RAX);  /* neg: clz = (width - 1) - bsr */
        x_alu_imm(b, w, 0, RAX, w ? 63 : 31);
    }
}

static void round_x0(jc *j, int dbl, uint64_t s, uint8_t mode)
{
    rm_slot(j, 0x66, 0, dbl ? 0x0F3A0B : 0x0F3A0A, 3, 0, s);
    x_byte(&j->b, (uint8_t)(mode | 8));
}

static uint32_t unop(jc *j, const cell *p, uint32_t opc, int form)
{
    xbuf *b = &j->b;
    uint64_t s = form ? acc_slot(j) : p[1].u, dst = form ? p[1].u : p[2].u;
    bool x0 = false, dbl = false; /* the result is in xmm0 (else rax) */
    switch (opc) {
    case 0x45: case 0x50:
        cmp0_slot(j, opc == 0x50, s);
        x_rr(b, 0, 0, 0x0F94, 2, 0, RAX);
        x_rr(b, 0, 0, 0x0FB6, 2, RAX, RAX);
        break;
    case 0x67: case 0x68: case 0x69: bit_count(j, 0, s, opc - 0x67); break;
    case 0x79: case 0x7A: case 0x7B: bit_count(j, 1, s, opc - 0x79); break;
    case 0x8B: ld_first(j, 0, s); x_alu_imm(b, 0, 4, RAX, 0x7FFFFFFF); break;
    case 0x8C: ld_first(j, 0, s); x_alu_imm(b, 0, 6, RAX, INT32_MIN); break;
    case 0x99: case 0x9A:
        ld_first(j, 1, s);
        x_rr(b, 0, 1, 0x0FBA, 2, opc == 0x99 ? 6 : 7, RAX); /* btr / btc rax, 63 */
        x_byte(b, 63);
        break;
    case 0x8D: round_x0(j, 0, s, 2), x0 = true; break;
    case 0x8E: round_x0(j, 0, s, 1), x0 = true; break;
    case 0x8F: round_x0(j, 0, s, 3), x0 = true; break;
    case 0x90: round_x0(j, 0, s, 0), x0 = true; break;
    case 0x9B: round_x0(j, 1, s, 2), x0 = dbl = true; break;
    case 0x9C: round_x0(j, 1, s, 1), x0 = dbl = true; break;
    case 0x9D: round_x0(j, 1, s, 3), x0 = dbl = true; break;
    case 0x9E: round_x0(j, 1, s, 0), x0 = dbl = true; break;
    case 0x91: case 0x9F:
        dbl = opc == 0x9F, x0 = true;
        rm_slot(j, dbl ? 0xF2 : 0xF3, 0, 0x0F51, 2, 0, s);
        break;
    case 0xA7: case 0xAD: ld_first(j, 0, s); break;
    case 0xAC: rm_slot(j, 0, 1, 0x63, 1, RAX, s); break; /* movsxd */
    case 0xB2: case 0xB4: case 0xB7: case 0xB9: /* signed integer to float */
        dbl = opc >= 0xB7, x0 = true;
        x_rr(b, 0, 0, 0x0F57, 2, 0, 0); /* xorps: no false dependency */
        rm_slot(j, dbl ? 0xF2 : 0xF3, opc == 0xB4 || opc == 0xB9, 0x0F2A, 2, 0, s);
        break;
    case 0xB3: case 0xB8: /* u32: exact as a signed 64-bit value */
        dbl = opc == 0xB8, x0 = true;
        jc_ld32(j, RAX, s);
        x_rr(b, 0, 0, 0x0F57, 2, 0, 0);
        x_rr(b, dbl ? 0xF2 : 0xF3, 1, 0x0F2A, 2, 0, RAX);
        break;
    case 0xB5: case 0xBA:
        jc_ld(j, RDI, s);
        x_mov_imm(b, RSI, opc == 0xBA);
        jc_call(j, (const void *)jit_h_convert_u64);
        break;
    case 0xB6: rm_slot(j, 0xF2, 0, 0x0F5A, 2, 0, s), x0 = true; break;
    case 0xBB: rm_slot(j, 0xF3, 0, 0x0F5A, 2, 0, s), x0 = dbl = true; break;
    case 0xC0: rm_slot(j, 0, 0, 0x0FBE, 2, RAX, s); break;
    case 0xC1: rm_slot(j, 0, 0, 0x0FBF, 2, RAX, s); break;
    case 0xC2: rm_slot(j, 0, 1, 0x0FBE, 2, RAX, s); break;
    case 0xC3: rm_slot(j, 0, 1, 0x0FBF, 2, RAX, s); break;
    case 0xC4: rm_slot(j, 0, 1, 0x63, 1, RAX, s); break;
    default: unsupported(j, "internal: unknown unary operation"); break;
    }
    if (x0) {
        store_x0(j, dbl, dst);
        j->out_x0 = dst;
        if (!dbl)
            j->out_rax = dst;
    } else {
        jc_st(j, dst, RAX);
        j->out_rax = dst;
    }
    j->prev_dst = (uint32_t)dst;
    j->prev_acc = true;
    return form ? 2 : 3;
}

/* ------------------------------------------------------------------ memory */

/* rax = the effective address of a memory access (mode 0 slot, 1 slot + imm, 2 slot + slot,
 * 3 constant), checked against the memory size for an access of `bytes`. */
void jc_mem_ea(jc *j, int mode, const cell *p, uint32_t bytes)
{
    xbuf *b = &j->b;
    uint64_t off;
    int r = mode == 1 && j->in_rax != p[1].u ? reg_of(j, p[1].u) : -1;
    if (mode == 3) {
        x_mov_imm(b, RAX, p[1].u);
        off = 0;
    } else if (r >= 0) {
        /* lea eax, [reg + imm]: the 32-bit sum, wrapped as the i32.add it stands for */
        note_use(j, p[1].u, U_INT);
        x_rm(b, 0, 0, 0x8D, 1, RAX, r, X_NOINDEX, 1, (int32_t)(uint32_t)p[2].u);
        off = p[3].u;
    } else {
        ld_first(j, 0, p[1].u);
        if (mode == 1)
            x_alu_imm(b, 0, 0, RAX, (int32_t)(uint32_t)p[2].u);
        else if (mode == 2)
            op_slot(j, 0, 0, 0x03, 1, RAX, p[2].u);
        off = p[mode == 0 ? 2 : 3].u;
    }
    if (off > INT32_MAX) {
        x_mov_imm(b, RCX, off);
        x_rr(b, 0, 1, 0x03, 1, RAX, RCX);
    } else if (off) {
        x_alu_imm(b, 1, 0, RAX, (int32_t)off);
    }
    x_rm(b, 0, 1, 0x8D, 1, RCX, RAX, X_NOINDEX, 1, (int32_t)bytes); /* lea rcx, [rax + bytes] */
    x_rr(b, 0, 1, 0x3B, 1, RCX, R12);
    jc_trap_if(j, CC_A, WASM_TRAP_MEMORY_OOB);
}

static const uint32_t mem_len[4] = {4, 5, 5, 3};

static uint32_t load(jc *j, const cell *p, uint32_t opc, int mode)
{
    static const struct { uint8_t bytes, w; uint16_t op; } ld[] = {
        [0x28 - 0x28] = {4, 0, 0x8B},   [0x29 - 0x28] = {8, 1, 0x8B},   [0x2A - 0x28] = {4, 0, 0x8B},
        [0x2B - 0x28] = {8, 1, 0x8B},   [0x2C - 0x28] = {1, 0, 0x0FBE}, [0x2D - 0x28] = {1, 0, 0x0FB6},
        [0x2E - 0x28] = {2, 0, 0x0FBF}, [0x2F - 0x28] = {2, 0, 0x0FB7}, [0x30 - 0x28] = {1, 1, 0x0FBE},
        [0x31 - 0x28] = {1, 0, 0x0FB6}, [0x32 - 0x28] = {2, 1, 0x0FBF}, [0x33 - 0x28] = {2, 0, 0x0FB7},
        [0x34 - 0x28] = {4, 1, 0x63},   [0x35 - 0x28] = {4, 0, 0x8B}};
    uint32_t i = opc - 0x28, n = mem_len[mode];
    jc_mem_ea(j, mode, p, ld[i].bytes);
    if (opc == 0x2B) { /* f64: straight into xmm0, where its users want it */
        x_rm(&j->b, 0xF2, 0, 0x0F10, 2, 0, R13, RAX, 1, 0);
        store_x0(j, 1, p[n - 1].u);
        j->out_x0 = p[n - 1].u;
    } else {
        x_rm(&j->b, 0, ld[i].w, ld[i].op, ld[i].op > 0xFF ? 2 : 1, RAX, R13, RAX, 1, 0);
        jc_st(j, p[n - 1].u, RAX);
        j->out_rax = p[n - 1].u;
    }
    j->prev_dst = (uint32_t)p[n - 1].u;
    j->prev_acc = true;
    return n;
}

static uint32_t store(jc *j, const cell *p, uint32_t opc, int mode)
{
    static const uint8_t bytes[] = {4, 8, 4, 8, 1, 2, 1, 2, 4};
    uint32_t n = bytes[opc - 0x36], len = mem_len[mode];
    uint64_t v = p[len - 1].u;
    if (opc == 0x39) { /* f64: through an xmm register (the value is usually one already) */
        bool in_x0 = j->in_x0 == v;
        jc_mem_ea(j, mode, p, 8);
        if (!in_x0)
            movsx_load(j, 1, 1, v);
        x_rm(&j->b, 0xF2, 0, 0x0F11, 2, in_x0 ? 0 : 1, R13, RAX, 1, 0);
        return len;
    }
    bool v_in_rax = j->in_rax == p[len - 1].u;
    if (v_in_rax)
        mov_rr(j, 1, RDX, RAX);
    jc_mem_ea(j, mode, p, n);
    if (!v_in_rax)
        jc_ld(j, RDX, p[len - 1].u);
    if (n == 1)
        x_rm(&j->b, 0, 0, 0x88, 1, RDX, R13, RAX, 1, 0);
    else
        x_rm(&j->b, n == 2 ? 0x66 : 0, n == 8, 0x89, 1, RDX, R13, RAX, 1, 0);
    return len;
}

/* ------------------------------------------------------------------ calls */

static uint64_t where(jc *j) { return ((uint64_t)j->fidx << 32) | j->cur; }

static void after_helper_call(jc *j)
{
    ctx_ld(j, RBX, CTX(fuel));
    x_rr(&j->b, 0, 0, 0x85, 1, RAX, RAX);
    x_patch_rel(&j->b, x_jcc32(&j->b, CC_NE), j->propagate);
}

/* A call to defined function `def`: rel32 when its body is compiled (or compiled in this batch,
 * patched at the batch's end); else through its entry in jm->target, which holds the stub that
 * compiles it on first use until its body is published there. rax is free here. */
static void direct_call(jc *j, uint32_t def)
{
    xbuf *b = &j->b;
    if (j->in_batch[def] || __atomic_load_n(&j->jm->ready[def], __ATOMIC_ACQUIRE)) {
        size_t at = x_call32(b);
        if (!j->in_batch[def])
            x_patch_rel(b, at, j->jm->body[def]);
        else if (grow_arr(j, (void **)&j->calls, &j->callcap, j->ncalls + 1, sizeof(jcall)))
            j->calls[j->ncalls++] = (jcall){(uint32_t)at, def};
        return;
    }
    x_mov_imm(b, RAX, (uint64_t)(uintptr_t)&j->jm->target[def]);
    x_rm(b, 0, 0, 0xFF, 1, 2, RAX, X_NOINDEX, 1, 0); /* call [rax] */
}

static uint32_t call(jc *j, const cell *p)
{
    xbuf *b = &j->b;
    uint32_t callee = (uint32_t)p[1].u, off = (uint32_t)p[2].u;
    const wasm_module *m = j->m;
    if (callee < m->nimp_funcs) { /* host or another instance: the helper does all */
        ctx_st(j, CTX(fuel), RBX);
        mov_rr(j, 1, RDI, R15);
        ctx_ld(j, RAX, CTX(funcs));
        x_rm(b, 0, 1, 0x8B, 1, RSI, RAX, X_NOINDEX, 1, (int32_t)(callee * 8));
        jc_lea_slot(j, RDX, off);
        x_mov_imm(b, RCX, where(j));
        jc_call(j, (const void *)jit_h_call);
        after_helper_call(j);
        reload_mem(j);
        return 3;
    }
    const fcode *cf = &m->codes[callee - m->nimp_funcs];
    /* the interpreter's do_call: depth and stack, then interrupt, then the callee's entry fuel,
     * all reported at this call */
    x_rm(b, 0, 0, 0x8B, 1, RAX, R15, X_NOINDEX, 1, CTX(depth));
    x_alu_imm(b, 0, 0, RAX, 1);
    x_rm(b, 0, 0, 0x3B, 1, RAX, R15, X_NOINDEX, 1, CTX(max_depth));
    jc_trap_if(j, CC_AE, WASM_TRAP_STACK_EXHAUSTED);
    jc_lea_slot(j, RCX, (uint64_t)off + cf->frame_slots);
    x_rm(b, 0, 1, 0x3B, 1, RCX, R15, X_NOINDEX, 1, CTX(stack_end));
    jc_trap_if(j, CC_A, WASM_TRAP_STACK_EXHAUSTED);
    poll(j, j->cur);
    charge(j, cf->code[1].u, j->cur);
    x_rm(b, 0, 0, 0x89, 1, RAX, R15, X_NOINDEX, 1, CTX(depth));
    if (off)
        x_alu_imm(b, 1, 0, R14, SLOT(off));
    direct_call(j, callee - m->nimp_funcs);
    if (off)
        x_alu_imm(b, 1, 5, R14, SLOT(off));
    x_rm(b, 0, 0, 0xFF, 1, 1, R15, X_NOINDEX, 1, CTX(depth)); /* dec */
    reload_mem(j);
    return 3;
}

static uint32_t call_indirect(jc *j, const cell *p)
{
    xbuf *b = &j->b;
    uint32_t off = (uint32_t)p[3].u;
    ctx_st(j, CTX(fuel), RBX);
    mov_rr(j, 1, RDI, R15);
    x_mov_imm(b, RSI, p[1].u | (p[2].u << 32));
    jc_ld32(j, RDX, p[4].u);
    jc_lea_slot(j, RCX, off);
    x_mov_imm(b, R8, where(j));
    jc_call(j, (const void *)jit_h_indirect);
    ctx_ld(j, RBX, CTX(fuel));
    x_alu_imm(b, 1, 7, RAX, 1);
    size_t done = x_jcc32(b, CC_E); /* 1: the helper made the call */
    x_rr(b, 0, 1, 0x85, 1, RAX, RAX);
    x_patch_rel(b, x_jcc32(b, CC_E), j->propagate);
    /* else rax is the body of a compiled function of this instance, checks done */
    if (off)
        x_alu_imm(b, 1, 0, R14, SLOT(off));
    x_rr(b, 0, 0, 0xFF, 1, 2, RAX); /* call rax */
    if (off)
        x_alu_imm(b, 1, 5, R14, SLOT(off));
    x_rm(b, 0, 0, 0xFF, 1, 1, R15, X_NOINDEX, 1, CTX(depth));
    x_patch_rel(b, done, b->len);
    reload_mem(j);
    return 5;
}

static void func_return(jc *j)
{
    x_alu_imm(&j->b, 1, 0, RSP, 8);
    x_ret(&j->b);
}

/* ------------------------------------------------------------------ everything else */

/* Loads helper arguments: rdi = ctx, then up to 5 values (slots or immediates). */
typedef struct harg {
    bool slot;
    uint64_t v;
} harg;

static void helper(jc *j, const void *fn, const harg *a, int n)
{
    static const int regs[5] = {RSI, RDX, RCX, R8, R9};
    mov_rr(j, 1, RDI, R15);
    for (int i = 0; i < n; i++) {
        if (a[i].slot)
            jc_ld(j, regs[i], a[i].v);
        else
            x_mov_imm(&j->b, regs[i], a[i].v);
    }
    jc_call(j, fn);
}

#define S(x) ((harg){true, (x)})
#define I(x) ((harg){false, (x)})

static void global_ptr(jc *j, uint64_t idx) /* rax = &globals[idx]->val[0] */
{
    ctx_ld(j, RAX, CTX(globals));
    x_rm(&j->b, 0, 1, 0x8B, 1, RAX, RAX, X_NOINDEX, 1, (int32_t)(idx * 8));
    x_rm(&j->b, 0, 1, 0x8D, 1, RAX, RAX, X_NOINDEX, 1, (int32_t)offsetof(wasm_global, val));
}

/* br_table: a bounds-clamped index into a table of 32-bit offsets that follows the jump (read-only
 * data in the code pages); entries for loop targets point at stubs that charge the back-edge. */
static uint32_t br_table(jc *j, const cell *p)
{
    xbuf *b = &j->b;
    uint64_t n = p[2].u;
    if (n < 4) { /* a short compare chain */
        ld_first(j, 0, p[1].u);
        for (uint64_t i = 0; i < n; i++) {
            x_alu_imm(b, 0, 7, RAX, (int32_t)i);
            branch(j, CC_E, target_of(j, (uint32_t)(3 + i)));
        }
        branch(j, -1, target_of(j, (uint32_t)(3 + n)));
        return (uint32_t)(4 + n);
    }
    ld_first(j, 0, p[1].u);
    x_mov_imm(b, RCX, n);
    x_rr(b, 0, 0, 0x3B, 1, RAX, RCX);
    x_rr(b, 0, 0, 0x0F47, 2, RAX, RCX); /* cmova: past the end takes the default */
    x_byte(b, 0x48), x_byte(b, 0x8D), x_byte(b, 0x0D); /* lea rcx, [rip + table] */
    size_t disp = b->len;
    x_u32(b, 0);
    x_rm(b, 0, 1, 0x63, 1, RAX, RCX, RAX, 4, 0); /* movsxd rax, [rcx + rax*4] */
    x_rr(b, 0, 1, 0x03, 1, RAX, RCX);
    x_rr(b, 0, 0, 0xFF, 1, 4, RAX);             /* jmp rax */
    size_t table = b->len;
    x_put32(b, disp, (uint32_t)(table - (disp + 4)));
    for (uint64_t i = 0; i <= n; i++)
        x_u32(b, 0);
    for (uint64_t i = 0; i <= n && !b->failed; i++) {
        uint32_t t = target_of(j, (uint32_t)(3 + i));
        size_t at = table + 4 * i;
        if (t > j->cur) {
            if (!grow_arr(j, (void **)&j->jtab, &j->jtabcap, j->njtab + 1, sizeof(jfix)) ||
                !grow_arr(j, (void **)&j->jtab_base, &j->jbasecap, j->njtab + 1, sizeof(uint32_t)))
                break;
            j->jtab[j->njtab] = (jfix){(uint32_t)at, t};
            j->jtab_base[j->njtab++] = (uint32_t)table;
            if (t <= j->fc->code_len)
                j->label[t] = 1;
        } else {
            x_put32(b, at, (uint32_t)(b->len - table));
            branch(j, -1, t); /* a back-edge: charges fuel, then jumps */
        }
    }
    return (uint32_t)(4 + n);
}

/* ------------------------------------------------------------------ loop pinning */

static uint32_t instruction(jc *j);
static int cell_op(jc *j, uint32_t at);
static bool keeps_pool(int op);

#define PIN_SCAN_CELLS 600 /* loops longer than this are not pinned (bounds the extra pass) */

/* The operations a pinned loop may contain: those that leave the pool registers alone (no
 * calls or helpers), plain jumps, and inline SIMD (which uses rax, rcx and xmm0..xmm3 besides
 * the v128 cache and pins, and reads or writes pinned slots only through the accessors). */
static bool pinnable_op(int op)
{
    return op >= 0 && (keeps_pool(op) || op == OP_br || jit_simd_inline(op));
}

/* Whether slot is in the use table with exactly class cls. */
static bool used_only_as(const jc *j, uint64_t slot, int cls)
{
    for (uint32_t i = 0; i < j->nuse; i++)
        if (j->use[i].slot == slot)
            return j->use[i].cls == cls;
    return false; /* not measured (the table was full): unknown */
}

/* Picks the most used slot of class cls not yet taken, or NONE. A v128 (U_V128: its first slot)
 * also needs its second slot used as nothing else. */
static uint64_t pick_pin(jc *j, int cls)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < j->nuse; i++)
        if (j->use[i].cls == cls && (best == UINT32_MAX || j->use[i].n > j->use[best].n) &&
            (cls != U_V128 || used_only_as(j, j->use[i].slot + 1, U_V128_HI)))
            best = i;
    if (best == UINT32_MAX)
        return UINT64_MAX;
    j->use[best].cls = U_OTHER; /* taken */
    return j->use[best].slot;
}

/* At the head of a loop (cell `head`, after its fuel check): if the loop's cells up to its last
 * back-edge are all pinnable, compiles them once to count slot uses (the code is then discarded),
 * keeps the most used integer and f64 slots in registers for the loop and loads them here.
 * Leaving the pinned cells (a branch out, falling through the end) stores them back; a
 * back-edge from further on enters through the loads. Traps need no store: a trapped frame is
 * never read again. */
static void pin_loop(jc *j, uint32_t head)
{
    size_t len = j->b.len;
    uint32_t at = j->cur, nfix = j->nfix, nstub = j->nstub, nvconst = j->nvconst, end = 0, n = 0;
    bool simd = false; /* SIMD among the pinned cells */
    j->recording = true;
    j->rec_simd = false;
    j->nuse = j->nuse_end = 0;
    j->rec_head = head;
    for (j->cur = head; j->cur < j->fc->code_len && j->cur - head < PIN_SCAN_CELLS; j->cur += n) {
        if (!pinnable_op(cell_op(j, j->cur)) || j->why[0] || j->b.failed)
            break;
        j->native[j->cur] = (uint32_t)j->b.len;
        j->rec_back = false;
        if ((n = instruction(j)) == 0)
            break;
        if (j->rec_back) { /* the pinned cells end here so far: only their uses count */
            end = j->cur + n;
            memcpy(j->use_end, j->use, j->nuse * sizeof j->use[0]);
            j->nuse_end = j->nuse;
            simd = j->rec_simd;
        }
    }
    j->recording = false;
    memcpy(j->use, j->use_end, j->nuse_end * sizeof j->use[0]);
    j->nuse = j->nuse_end;
    j->b.len = len, j->nfix = nfix, j->nstub = nstub, j->nvconst = nvconst, j->cur = at;
    forget_prev(j);
    j->prev_acc = false;
    pool_clear(j);
    jc_vc_clear(j);
    /* xmm8..xmm15 hold f64 values, or in a loop with SIMD (whose v128 cache they are part of)
     * its v128 values */
    j->xpin_v128 = simd;
    int npins = 0;
    for (int i = 0; i < 6; i++)
        npins += (j->pin_slot[i] = end ? pick_pin(j, U_INT) : NONE) != NONE;
    for (int i = 0; i < 8; i++)
        npins += (j->xpin_slot[i] = end ? pick_pin(j, simd ? U_V128 : U_F64) : NONE) != NONE;
    if (!npins || !grow_arr(j, (void **)&j->pinned, &j->pinnedcap, j->npinned + 1, sizeof(jfix)))
        return;
    j->pinned[j->npinned++] = (jfix){(uint32_t)j->b.len, head};
    for (int i = 0; i < 6; i++)
        if (j->pin_slot[i] != NONE)
            x_rm(&j->b, 0, 1, 0x8B, 1, pool_reg[i], R14, X_NOINDEX, 1, SLOT(j->pin_slot[i]));
    for (int i = 0; i < 8; i++)
        if (j->xpin_slot[i] != NONE)
            xpin_move(j, i, false);
    j->pins_live = true;
    j->pin_head = head;
    j->pin_end = end;
}

static uint32_t misc(jc *j, int op, const cell *p)
{
    xbuf *b = &j->b;
    switch (op) {
    case OP_unreachable: jc_trap_if(j, -1, WASM_TRAP_UNREACHABLE); return 1;
    case OP_mov: ld_first(j, 1, p[1].u), jc_st(j, p[2].u, RAX), j->out_rax = p[2].u; return 3;
    case OP_mov2:
        ld_first(j, 1, p[1].u), jc_st(j, p[2].u, RAX);
        jc_ld(j, RAX, p[3].u), jc_st(j, p[4].u, RAX);
        j->out_rax = p[4].u;
        return 5;
    case OP_const:
        x_mov_imm(b, RAX, p[1].u), jc_st(j, p[2].u, RAX), j->out_rax = p[2].u;
        j->out_k = p[2].u, j->k_val = p[1].u; /* for simd.c: a shift by a constant count */
        return 3;
    case OP_select:
        jc_ld(j, RAX, p[1].u), jc_ld(j, RCX, p[2].u);
        cmp0_slot(j, 0, p[3].u);
        x_rr(b, 0, 1, 0x0F44, 2, RAX, RCX); /* cmovz */
        jc_st(j, p[4].u, RAX);
        return 5;
    case OP_br: branch(j, -1, target_of(j, 1)); return 2;
    case OP_br_if: case OP_br_unless: case OP_br_if64: case OP_br_unless64: {
        bool w = op == OP_br_if64 || op == OP_br_unless64;
        if (j->in_rax == p[1].u)
            x_rr(b, 0, w, 0x85, 1, RAX, RAX);
        else
            cmp0_slot(j, w, p[1].u);
        branch(j, op == OP_br_if || op == OP_br_if64 ? CC_NE : CC_E, target_of(j, 2));
        return 3;
    }
    case OP_br_table: return br_table(j, p);
    case OP_call: return call(j, p);
    case OP_call_indirect: return call_indirect(j, p);
    case OP_ret1: ld_first(j, 1, p[1].u), jc_st(j, 0, RAX); func_return(j); return 2;
    case OP_ret: func_return(j); return 1;
    case OP_fuel: /* a loop head follows: back-edges land there */
        poll(j, j->cur), charge(j, p[1].u, j->cur);
        if (j->cur + 2 <= j->fc->code_len) {
            bool entered_by_jump = j->label[j->cur + 2]; /* then pins would not be loaded */
            j->label[j->cur + 2] = 1;
            if (!entered_by_jump && !j->pins_live && j->cur + 2 < j->fc->code_len)
                pin_loop(j, j->cur + 2);
        }
        return 2;
    case OP_global_get:
        global_ptr(j, p[1].u), x_rm(b, 0, 1, 0x8B, 1, RAX, RAX, X_NOINDEX, 1, 0), jc_st(j, p[2].u, RAX);
        j->out_rax = p[2].u;
        return 3;
    case OP_global_set: global_ptr(j, p[1].u), jc_ld(j, RCX, p[2].u), x_rm(b, 0, 1, 0x89, 1, RCX, RAX, X_NOINDEX, 1, 0); return 3;
    case OP_memory_size:
        ctx_ld(j, RAX, CTX(mem0));
        x_rm(b, 0, 0, 0x8B, 1, RAX, RAX, X_NOINDEX, 1, (int32_t)offsetof(wasm_memory, pages));
        jc_st(j, p[1].u, RAX);
        return 2;
    case OP_memory_grow:
        helper(j, (const void *)jit_h_mem_grow, (harg[]){S(p[1].u)}, 1);
        jc_st(j, p[2].u, RAX);
        reload_mem(j);
        return 3;
    case OP_memory_fill:
        helper(j, (const void *)jit_h_mem_fill, (harg[]){S(p[1].u), S(p[2].u), S(p[3].u)}, 3);
        jc_trap_if_dyn(j, (x_rr(b, 0, 0, 0x85, 1, RAX, RAX), CC_NE));
        return 4;
    case OP_memory_copy:
        helper(j, (const void *)jit_h_mem_copy, (harg[]){S(p[1].u), S(p[2].u), S(p[3].u)}, 3);
        jc_trap_if_dyn(j, (x_rr(b, 0, 0, 0x85, 1, RAX, RAX), CC_NE));
        return 4;
    case OP_memory_init:
        helper(j, (const void *)jit_h_mem_init, (harg[]){I(p[1].u), S(p[2].u), S(p[3].u), S(p[4].u)}, 4);
        jc_trap_if_dyn(j, (x_rr(b, 0, 0, 0x85, 1, RAX, RAX), CC_NE));
        return 5;
    case OP_data_drop: helper(j, (const void *)jit_h_data_drop, (harg[]){I(p[1].u)}, 1); return 2;
    case OP_table_get:
        mov_rr(j, 1, RDI, R15);
        x_mov_imm(b, RSI, p[1].u);
        jc_ld32(j, RDX, p[2].u);
        jc_lea_slot(j, RCX, p[3].u);
        jc_call(j, (const void *)jit_h_table_get);
        jc_trap_if_dyn(j, (x_rr(b, 0, 0, 0x85, 1, RAX, RAX), CC_NE));
        return 4;
    case OP_table_set:
        helper(j, (const void *)jit_h_table_set, (harg[]){I(p[1].u), S(p[2].u), S(p[3].u)}, 3);
        jc_trap_if_dyn(j, (x_rr(b, 0, 0, 0x85, 1, RAX, RAX), CC_NE));
        return 4;
    case OP_table_size:
        ctx_ld(j, RAX, CTX(tables));
        x_rm(b, 0, 1, 0x8B, 1, RAX, RAX, X_NOINDEX, 1, (int32_t)(p[1].u * 8));
        x_rm(b, 0, 0, 0x8B, 1, RAX, RAX, X_NOINDEX, 1, (int32_t)offsetof(wasm_table, size));
        jc_st(j, p[2].u, RAX);
        return 3;
    case OP_table_grow:
        helper(j, (const void *)jit_h_table_grow, (harg[]){I(p[1].u), S(p[2].u), S(p[3].u)}, 3);
        jc_st(j, p[4].u, RAX);
        return 5;
    case OP_table_fill:
        helper(j, (const void *)jit_h_table_fill, (harg[]){I(p[1].u), S(p[2].u), S(p[3].u), S(p[4].u)}, 4);
        jc_trap_if_dyn(j, (x_rr(b, 0, 0, 0x85, 1, RAX, RAX), CC_NE));
        return 5;
    case OP_table_copy:
        helper(j, (const void *)jit_h_table_copy,
               (harg[]){I(p[1].u | (p[2].u << 32)), S(p[3].u), S(p[4].u), S(p[5].u)}, 4);
        jc_trap_if_dyn(j, (x_rr(b, 0, 0, 0x85, 1, RAX, RAX), CC_NE));
        return 6;
    case OP_table_init:
        helper(j, (const void *)jit_h_table_init,
               (harg[]){I(p[1].u | (p[2].u << 32)), S(p[3].u), S(p[4].u), S(p[5].u)}, 4);
        jc_trap_if_dyn(j, (x_rr(b, 0, 0, 0x85, 1, RAX, RAX), CC_NE));
        return 6;
    case OP_elem_drop: helper(j, (const void *)jit_h_elem_drop, (harg[]){I(p[1].u)}, 1); return 2;
    case OP_ref_is_null:
        cmp0_slot(j, 1, p[1].u);
        x_rr(b, 0, 0, 0x0F94, 2, 0, RAX);
        x_rr(b, 0, 0, 0x0FB6, 2, RAX, RAX);
        jc_st(j, p[2].u, RAX);
        return 3;
    case OP_ref_func:
        ctx_ld(j, RAX, CTX(funcs));
        x_rm(b, 0, 1, 0x8B, 1, RAX, RAX, X_NOINDEX, 1, (int32_t)(p[1].u * 8));
        jc_st(j, p[2].u, RAX);
        return 3;
    case OP_f32_copysign:
        jc_ld32(j, RAX, p[1].u), jc_ld32(j, RCX, p[2].u);
        x_alu_imm(b, 0, 4, RAX, 0x7FFFFFFF);
        x_alu_imm(b, 0, 4, RCX, INT32_MIN);
        x_rr(b, 0, 0, 0x0B, 1, RAX, RCX);
        jc_st(j, p[3].u, RAX);
        return 4;
    case OP_f64_copysign:
        jc_ld(j, RAX, p[1].u), jc_ld(j, RCX, p[2].u);
        x_rr(b, 0, 1, 0x0FBA, 2, 6, RAX), x_byte(b, 63); /* btr rax, 63 */
        x_shift_imm(b, 1, 5, RCX, 63);
        x_shift_imm(b, 1, 4, RCX, 63);
        x_rr(b, 0, 1, 0x0B, 1, RAX, RCX);
        jc_st(j, p[3].u, RAX);
        return 4;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ dispatch */

/* The operation of a handler address: an open-addressing hash table (a probe or two per
 * instruction; it was a binary search, which cost about a third of the compiler's own time). */
static uint32_t handler_slot(const jc *j, const void *h)
{
    return (uint32_t)((((uintptr_t)h >> 3) * 0x9E3779B97F4A7C15ull) >> 40) & j->nh;
}

static int handler_op(jc *j, const void *h)
{
    for (uint32_t i = handler_slot(j, h);; i = (i + 1) & j->nh) {
        if (j->hsorted[i] == h)
            return j->hops[i];
        if (!j->hsorted[i])
            return -1;
    }
}

/* The operation of the instruction at cell `at` (-1: none), looked up once per cell: the loop
 * measuring pass asks again for the same cells. */
_Static_assert(OP_COUNT < UINT16_MAX - 2, "opmemo holds an operation + 2");
static int cell_op(jc *j, uint32_t at)
{
    if (j->opmemo[at] == 0)
        j->opmemo[at] = (uint16_t)(handler_op(j, j->code[at].h) + 2);
    return j->opmemo[at] - 2;
}

/* Operations whose code uses only rax, rcx, rdx, xmm0 and xmm1 (no helper calls, no calls):
 * the register pool survives them. */
static bool keeps_pool(int op)
{
    switch (op) {
#define K_FOUR(opc, name, ...) case OP_##name: case OP_##name##_i: case OP_##name##_a: case OP_##name##_ai:
#define K_CMP(opc, name, ...) case OP_##name: case OP_##name##_i: case OP_##name##_br: case OP_##name##_ibr:
#define K_ONE(opc, name, ...) case OP_##name:
#define K_UN(opc, name, ...) case OP_##name: case OP_##name##_a:
#define K_MEM(opc, name, ...) case OP_##name: case OP_##name##_ai: case OP_##name##_aa: case OP_##name##_k:
        I32_BINOPS(K_FOUR) I64_BINOPS(K_FOUR) I32_CMPS(K_CMP) I64_CMPS(K_CMP)
        F32_CMPS(K_ONE) F64_CMPS(K_ONE) DIVOPS(K_ONE) LOADOPS(K_MEM) STOREOPS(K_MEM)
        UNOPS(K_UN)
    case OP_f32_add: case OP_f32_add_i: case OP_f32_add_a: case OP_f32_add_ai:
    case OP_f32_sub: case OP_f32_sub_i: case OP_f32_sub_a: case OP_f32_sub_ai:
    case OP_f32_mul: case OP_f32_mul_i: case OP_f32_mul_a: case OP_f32_mul_ai:
    case OP_f32_div: case OP_f32_div_i: case OP_f32_div_a: case OP_f32_div_ai:
    case OP_f64_add: case OP_f64_add_i: case OP_f64_add_a: case OP_f64_add_ai:
    case OP_f64_sub: case OP_f64_sub_i: case OP_f64_sub_a: case OP_f64_sub_ai:
    case OP_f64_mul: case OP_f64_mul_i: case OP_f64_mul_a: case OP_f64_mul_ai:
    case OP_f64_div: case OP_f64_div_i: case OP_f64_div_a: case OP_f64_div_ai:
    case OP_mov: case OP_mov2: case OP_const: case OP_br_if: case OP_br_unless:
    case OP_br_if64: case OP_br_unless64: case OP_global_get:
        return op != OP_f32_convert_i64_u && op != OP_f64_convert_i64_u &&
               op != OP_f32_convert_i64_u_a && op != OP_f64_convert_i64_u_a;
    default:
        return false;
    }
}

/* Compiles the instruction at the current cell; returns its length in cells (0: not compiled). */
static uint32_t instruction(jc *j)
{
    const cell *p = j->code + j->cur;
    int op = cell_op(j, j->cur);
    bool was_acc = j->prev_acc;
    j->prev_acc = false;
    bool landing = j->label[j->cur];
    j->pool_on = !landing && keeps_pool(op);
    if (!j->pool_on)
        pool_clear(j);
    if (landing || !(j->pool_on || jit_simd_inline(op)))
        jc_vc_clear(j);
    j->in_rax = landing ? NONE : j->out_rax;
    j->in_k = landing ? NONE : j->out_k;
    j->out_k = NONE;
    j->in_x0 = landing ? NONE : j->out_x0;
    j->out_rax = j->out_x0 = NONE;
    if (op < 0)
        return 0;
#define J_I32BIN(opc, name, e) case OP_##name: case OP_##name##_i: case OP_##name##_a: case OP_##name##_ai: \
    j->prev_acc = was_acc; return ibin(j, p, 0, opc, op - OP_##name);
#define J_I64BIN(opc, name, e) case OP_##name: case OP_##name##_i: case OP_##name##_a: case OP_##name##_ai: \
    j->prev_acc = was_acc; return ibin(j, p, 1, opc, op - OP_##name);
#define J_F32BIN(opc, name, e) case OP_##name: case OP_##name##_i: case OP_##name##_a: case OP_##name##_ai: \
    j->prev_acc = was_acc; return fbin(j, p, 0, opc - 0x92, op - OP_##name);
#define J_F64BIN(opc, name, e) case OP_##name: case OP_##name##_i: case OP_##name##_a: case OP_##name##_ai: \
    j->prev_acc = was_acc; return fbin(j, p, 1, opc - 0xA0, op - OP_##name);
#define J_I32CMP(opc, name, e) case OP_##name: case OP_##name##_i: case OP_##name##_br: case OP_##name##_ibr: \
    return icmp(j, p, 0, opc - 0x46, op - OP_##name);
#define J_I64CMP(opc, name, e) case OP_##name: case OP_##name##_i: case OP_##name##_br: case OP_##name##_ibr: \
    return icmp(j, p, 1, opc - 0x51, op - OP_##name);
#define J_F32CMP(opc, name, e) case OP_##name: return fcmp(j, p, 0, opc - 0x5B);
#define J_F64CMP(opc, name, e) case OP_##name: return fcmp(j, p, 1, opc - 0x61);
#define J_DIV(opc, name, T, ST, is_rem, is_signed) case OP_##name: return idiv(j, p, sizeof(T) == 8, is_rem, is_signed);
#define J_UN(opc, name, ...) case OP_##name: case OP_##name##_a: j->prev_acc = was_acc; return unop(j, p, opc, op - OP_##name);
#define J_TRUNC(opc, sat, name, IN, ctype, lo, hi, mn, mx)                                       \
    case OP_##name: return trunc_trap(j, p, IN##_is_dbl, sizeof(ctype) == 8, (lo) < -1.0, lo, hi); \
    case OP_##name##_sat:                                                                        \
        if (IN##_is_dbl) jc_ld(j, RDI, p[1].u);                                                  \
        else rm_slot(j, 0xF3, 0, 0x0F5A, 2, 0, p[1].u),                \
             x_rr(&j->b, 0x66, 1, 0x0F7E, 2, 0, RDI);                                            \
        x_mov_imm(&j->b, RSI, sat);                                                              \
        jc_call(j, (const void *)jit_h_trunc_sat);                                               \
        jc_st(j, p[2].u, RAX);                                                                   \
        return 3;
#define f32_is_dbl 0
#define f64_is_dbl 1
#define J_LOAD(opc, name, ...) case OP_##name: case OP_##name##_ai: case OP_##name##_aa: case OP_##name##_k: \
    return load(j, p, opc, op - OP_##name);
#define J_STORE(opc, name, ...) case OP_##name: case OP_##name##_ai: case OP_##name##_aa: case OP_##name##_k: \
    return store(j, p, opc, op - OP_##name);
    switch (op) {
        I32_BINOPS(J_I32BIN) I64_BINOPS(J_I64BIN) F32_BINOPS(J_F32BIN) F64_BINOPS(J_F64BIN)
        I32_CMPS(J_I32CMP) I64_CMPS(J_I64CMP) F32_CMPS(J_F32CMP) F64_CMPS(J_F64CMP)
        DIVOPS(J_DIV) UNOPS(J_UN) TRUNCOPS(J_TRUNC) LOADOPS(J_LOAD) STOREOPS(J_STORE)
    default:
        break;
    }
    uint32_t n = misc(j, op, p);
    if (n)
        return n;
    return jit_simd_op(j, op, p);
}

/* ------------------------------------------------------------------ functions and module */

static void zero_locals(jc *j)
{
    const fcode *fc = j->fc;
    uint32_t n = fc->nlocal_slots - fc->nparam_slots;
    if (n == 0)
        return;
    x_rr(&j->b, 0, 0, 0x33, 1, RAX, RAX);
    if (n <= 16) {
        for (uint32_t i = 0; i < n; i++)
            jc_st(j, fc->nparam_slots + i, RAX);
        return;
    }
    jc_lea_slot(j, RDI, fc->nparam_slots);
    x_mov_imm(&j->b, RCX, n);
    x_byte(&j->b, 0xF3), x_byte(&j->b, 0x48), x_byte(&j->b, 0xAB); /* rep stosq */
}

static void emit_stubs(jc *j)
{
    xbuf *b = &j->b;
    for (uint32_t i = 0; i < j->nstub; i++) {
        const jstub *s = &j->stub[i];
        x_patch_rel(b, s->at, b->len);
        if (s->addback > INT32_MAX) {
            x_mov_imm(b, RCX, s->addback);
            x_rr(b, 0, 1, 0x03, 1, RBX, RCX);
        } else if (s->addback) {
            x_alu_imm(b, 1, 0, RBX, (int32_t)s->addback);
        }
        if (s->dyn)
            mov_rr(j, 0, RDI, RAX);
        else
            x_mov_imm(b, RDI, s->kind);
        x_mov_imm(b, RSI, s->index);
        x_mov_imm(b, RDX, j->fidx);
        x_patch_rel(b, x_jmp32(b), j->trap_common);
    }
    j->nstub = 0;
}

static int compile_function(jc *j, uint32_t def)
{
    jit_module *jm = j->jm;
    const fcode *fc = &j->m->codes[def];
    j->fc = fc;
    j->fidx = j->m->nimp_funcs + def;
    j->code = fc->code;
    j->nfix = j->nstub = j->njtab = j->nvconst = 0; /* nothing left from a failed compilation */
    j->npinned = 0;
    j->pins_live = false;
    jc_vc_clear(j); /* simd.c's v128 cache never carries over from another function */
    j->prev_acc = false;
    uint32_t *native = j->native; /* both sized for the longest function (jit_jc_new) */
    for (uint32_t i = 0; i <= fc->code_len; i++)
        native[i] = UINT32_MAX;
    uint8_t *label = j->label;
    memset(label, 0, (size_t)fc->code_len + 1);
    uint16_t *opmemo = realloc(j->opmemo, ((size_t)fc->code_len + 1) * sizeof(uint16_t));
    if (!opmemo)
        return j->nomem = true, -1;
    j->opmemo = opmemo;
    memset(opmemo, 0, ((size_t)fc->code_len + 1) * sizeof(uint16_t));
    forget_prev(j);
    pool_clear(j);
    j->pool_on = false;
    /* entry: zero the locals, then the function's own fuel instruction (cell 0) */
    jm->entry[def] = (uint32_t)j->b.len;
    x_alu_imm(&j->b, 1, 5, RSP, 8); /* keeps rsp 16-aligned in the body for helper calls */
    zero_locals(j);
    j->cur = 0;
    native[0] = (uint32_t)j->b.len;
    poll(j, 0);
    charge(j, fc->code[1].u, 0);
    size_t to_body = x_jmp32(&j->b);
    jm->body[def] = (uint32_t)j->b.len;
    x_alu_imm(&j->b, 1, 5, RSP, 8);
    zero_locals(j);
    x_patch_rel(&j->b, to_body, j->b.len);
    for (j->cur = 2; j->cur < fc->code_len && !j->why[0] && !j->b.failed && !j->nomem;) {
        if (j->pins_live && j->cur >= j->pin_end) { /* fell out of a pinned loop */
            pins_writeback(j);
            j->pins_live = false;
        }
        native[j->cur] = (uint32_t)j->b.len;
        uint32_t n = instruction(j);
        if (n == 0) {
            unsupported(j, "internal: unknown operation");
            break;
        }
        j->cur += n;
    }
    for (uint32_t i = 0; i < j->nfix && !j->why[0]; i++) {
        uint32_t t = j->fix[i].target;
        if (t > fc->code_len || native[t] == UINT32_MAX)
            unsupported(j, "internal: branch target is not an instruction");
        else
            x_patch_rel(&j->b, j->fix[i].at, native[t]);
    }
    for (uint32_t i = 0; i < j->njtab && !j->why[0]; i++) {
        uint32_t t = j->jtab[i].target;
        if (t > fc->code_len || native[t] == UINT32_MAX)
            unsupported(j, "internal: branch target is not an instruction");
        else
            x_put32(&j->b, j->jtab[i].at, native[t] - j->jtab_base[i]);
    }
    j->njtab = 0;
    emit_stubs(j);
    jc_emit_consts(j);
    return j->why[0] || j->b.failed || j->nomem ? -1 : 0;
}

/* The trampoline from C: tramp(ctx, code, fp, stack_top or 0) returns 0 or a trap kind. Then
 * the common exits compiled code jumps to: trap (kind edi, code index esi, function edx) and
 * propagate (a helper already filled the trap in; kind in ctx->prop_kind). Then the lazy-compile
 * entry and one stub per defined function (esi = its index): a direct call to a function not yet
 * compiled lands there, jit_h_compile compiles it, and the call continues in its body. */
void jit_emit_runtime(jc *j)
{
    jit_module *jm = j->jm;
    xbuf *b = &j->b;
    jm->trampoline = (uint32_t)b->len;
    static const int saved[6] = {RBX, RBP, R12, R13, R14, R15};
    for (int i = 0; i < 6; i++)
        x_push(b, saved[i]);
    mov_rr(j, 1, RBP, RSP);
    x_rr(b, 0, 1, 0x85, 1, RCX, RCX);
    size_t same = x_jcc32(b, CC_E);
    mov_rr(j, 1, RSP, RCX);
    x_patch_rel(b, same, b->len);
    x_alu_imm(b, 1, 4, RSP, -16);
    x_push(b, RBP);
    x_alu_imm(b, 1, 5, RSP, 8);
    x_rm(b, 0, 1, 0x89, 1, RSP, RDI, X_NOINDEX, 1, CTX(saved_rsp));
    mov_rr(j, 1, R15, RDI);
    mov_rr(j, 1, R14, RDX);
    ctx_ld(j, RBP, CTX(intr)); /* the C stack pointer it held is saved above */
    ctx_ld(j, RBX, CTX(fuel));
    reload_mem(j);
    x_rr(b, 0, 0, 0xFF, 1, 2, RSI); /* call rsi */
    ctx_st(j, CTX(fuel), RBX);
    x_rr(b, 0, 0, 0x33, 1, RAX, RAX);
    size_t exit = b->len;
    ctx_ld(j, RSP, CTX(saved_rsp));
    x_alu_imm(b, 1, 0, RSP, 8);
    x_pop(b, RBP);
    mov_rr(j, 1, RSP, RBP);
    for (int i = 5; i >= 0; i--)
        x_pop(b, saved[i]);
    x_ret(b);

    j->trap_common = (uint32_t)b->len;
    x_rm(b, 0, 0, 0x89, 1, RDI, R15, X_NOINDEX, 1, CTX(trap_kind));
    x_rm(b, 0, 0, 0x89, 1, RSI, R15, X_NOINDEX, 1, CTX(trap_index));
    x_rm(b, 0, 0, 0x89, 1, RDX, R15, X_NOINDEX, 1, CTX(trap_func));
    x_rm(b, 0, 0, 0xC7, 1, 0, R15, X_NOINDEX, 1, CTX(trap_pending));
    x_u32(b, 1);
    mov_rr(j, 0, RAX, RDI);
    ctx_st(j, CTX(fuel), RBX);
    x_patch_rel(b, x_jmp32(b), exit);

    j->propagate = (uint32_t)b->len;
    x_rm(b, 0, 0, 0x8B, 1, RAX, R15, X_NOINDEX, 1, CTX(prop_kind));
    ctx_st(j, CTX(fuel), RBX);
    x_patch_rel(b, x_jmp32(b), exit);
    jm->trap_common = j->trap_common, jm->propagate = j->propagate;

    /* entered by a call: rsp is 8 below 16-aligned, as at a body's entry; only rbx, rbp and
     * r12-r15 (callee-saved in C) are live */
    jm->lazy_common = (uint32_t)b->len;
    x_alu_imm(b, 1, 5, RSP, 8);
    mov_rr(j, 1, RDI, R15);
    jc_call(j, (const void *)jit_h_compile);
    x_alu_imm(b, 1, 0, RSP, 8);
    x_rr(b, 0, 1, 0x85, 1, RAX, RAX);
    x_patch_rel(b, x_jcc32(b, CC_E), j->propagate); /* the helper filled in the trap */
    x_rr(b, 0, 0, 0xFF, 1, 4, RAX);                  /* jmp rax: the body, now compiled */
    for (uint32_t d = 0; d < jm->ndef && !b->failed; d++) {
        jm->target[d] = b->p + b->len;
        x_mov_imm(b, RSI, d);
        x_patch_rel(b, x_jmp32(b), jm->lazy_common);
    }
}

static int build_handler_map(jc *j)
{
    const void *const *H = wasm_interp_handlers();
    uint32_t size = 1;
    while (size < 4u * OP_COUNT) /* at most a quarter full: probes stay short */
        size *= 2;
    j->hsorted = calloc(size, sizeof(void *));
    j->hops = calloc(size, sizeof(uint16_t));
    if (!j->hsorted || !j->hops)
        return -1;
    j->nh = size - 1;
    for (int op = 0; op < OP_COUNT; op++) {
        if (!H[op])
            continue;
        uint32_t i = handler_slot(j, H[op]);
        while (j->hsorted[i] && j->hsorted[i] != H[op])
            i = (i + 1) & j->nh;
        if (!j->hsorted[i]) /* two operations sharing a handler: the first one names it */
            j->hsorted[i] = H[op], j->hops[i] = (uint16_t)op;
    }
    return 0;
}

/* The compiler's state for one module, kept with it so later functions compile without setting
 * up again: the handler map, and per-cell tables sized for the module's longest function. */
jc *jit_jc_new(const wasm_module *m, jit_module *jm)
{
    jc *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    uint32_t longest = 0;
    for (uint32_t i = 0; i < jm->ndef; i++)
        if (m->codes[i].code_len > longest)
            longest = m->codes[i].code_len;
    j->m = m;
    j->jm = jm;
    j->native = malloc(((size_t)longest + 1) * sizeof(uint32_t));
    j->label = malloc((size_t)longest + 1);
    j->in_batch = calloc(jm->ndef + 1, 1);
    if (!j->native || !j->label || !j->in_batch || build_handler_map(j) < 0) {
        jit_jc_free(j);
        return NULL;
    }
    return j;
}

void jit_jc_free(jc *j)
{
    if (!j)
        return;
    free(j->native), free(j->label), free(j->fix), free(j->jtab), free(j->jtab_base), free(j->stub);
    free(j->calls), free(j->in_batch), free(j->hsorted), free(j->hops), free(j->pinned), free(j->opmemo);
    free(j->vconst);
    free(j);
}

void jit_batch_begin(jc *j)
{
    j->ncalls = 0;
    j->nomem = false;
}

int jit_compile_more(jc *j, uint32_t def)
{
    size_t len0 = j->b.len;
    uint32_t calls0 = j->ncalls;
    if (compile_function(j, def) == 0 && !j->b.failed)
        return 0;
    if (j->b.failed && !j->nomem && !j->why[0])
        unsupported(j, "code space used up (module too large to compile)");
    j->b.len = len0, j->b.failed = false, j->ncalls = calls0; /* as before this function */
    return -1;
}

void jit_batch_end(jc *j)
{
    for (uint32_t i = 0; i < j->ncalls; i++)
        x_patch_rel(&j->b, j->calls[i].at, j->jm->body[j->calls[i].callee]);
}
