/* jc.h - the compiler's state, shared by codegen.c and simd.c. */
#ifndef SB_WASM_JIT_JC_H
#define SB_WASM_JIT_JC_H

#include "wasm/jit/rt.h"
#include "wasm/jit/x64.h"

/* A forward branch: the rel32 at `at` jumps to cell `target` once that cell is compiled. */
typedef struct jfix {
    uint32_t at, target;
} jfix;

/* A trap site: the rel32 of a conditional jump at `at` goes to an out-of-line stub that adds
 * `addback` fuel (a failed charge), then traps with `kind` (or the kind in eax when dyn) at
 * code index `index`. */
typedef struct jstub {
    uint32_t at, kind, index;
    uint64_t addback;
    bool dyn;
} jstub;

/* A 16-byte constant a SIMD instruction reads with the rip-relative disp32 at `at` (simd.c):
 * placed after the function's trap stubs, 16-byte aligned (pshufb's memory operand needs it). */
typedef struct jconst {
    uint32_t at;
    uint64_t lo, hi;
} jconst;

typedef struct jcall {
    uint32_t at, callee; /* rel32 of a direct call to defined function `callee` */
} jcall;

/* How a slot is used inside a loop being measured for pinning (codegen.c, pin_loop): as an
 * integer, an f64, the first or the second slot of a v128 read or written whole (simd.c's
 * vget/vput), or anything else (never pinned). A slot is pinned only when used one way. */
enum { U_INT = 1, U_F64 = 2, U_OTHER = 4, U_V128 = 8, U_V128_HI = 16 };

typedef struct jpin_use {
    uint64_t slot;
    uint32_t n;   /* accesses */
    uint8_t cls;  /* U_* bits */
} jpin_use;
#define JC_MAX_USES 64

#define JC_VC_REG 4 /* the v128 cache: xmm4.. */
#define JC_VC_N 12

typedef struct jc {
    xbuf b;                 /* the module's code reservation, written from jm->sealed up */
    const wasm_module *m;
    jit_module *jm;
    uint8_t *in_batch;      /* per defined function: compiled in the current batch */
    const fcode *fc;
    uint32_t fidx;          /* the function being compiled, in the module's index space */
    const cell *code;
    uint32_t cur;           /* cell index of the instruction being compiled */
    uint32_t *native;       /* per cell of the function: its machine code offset, or UINT32_MAX */
    jfix *fix;
    uint32_t nfix, fixcap;
    jstub *stub;
    uint32_t nstub, stubcap;
    jfix *jtab;             /* br_table entries: `at` holds target - base, base in jtab_base */
    uint32_t *jtab_base;
    uint32_t njtab, jtabcap, jbasecap;
    jconst *vconst;
    uint32_t nvconst, vconstcap;
    jcall *calls;
    uint32_t ncalls, callcap;
    uint32_t prev_dst;      /* the slot the previous accumulator-family instruction wrote */
    bool prev_acc;
    /* A one-instruction register cache. Slots are always written (write-through); an
     * instruction that leaves a slot's value in rax or xmm0 says so in out_rax / out_x0, and
     * the next instruction, unless a branch can land on it, may read that register instead of
     * memory (in_rax / in_x0). This keeps the chains of dependent operations the translator
     * emits (the interpreter's accumulator forms) in registers. */
    uint64_t in_rax, in_x0, out_rax, out_x0;
    /* The same for a constant: the previous instruction was OP_const, writing in_k = k_val. */
    uint64_t in_k, out_k, k_val;
    uint8_t *label;         /* per cell: a branch may land here */
    /* A write-through cache of slots in registers across straight-line code: pool_slot[i] is
     * the slot whose current value pool register i holds (or none). Only the instructions that
     * never touch the pool registers keep it (pool_on); any other instruction, a label, a call
     * or a helper empties it first. */
    uint64_t pool_slot[6];
    uint64_t xpool_slot[6];  /* the same for floats in xmm2..xmm7 */
    bool xpool_dbl[6];
    uint32_t xpool_next;
    uint32_t pool_next;
    bool pool_on;
    uint32_t trap_common, propagate;
    const void **hsorted;   /* handler addresses (a hash table; NULL: empty) and their operations */
    uint16_t *hops;
    uint32_t nh;            /* the table's size - 1 (a power of two) */
    /* simd.c's write-through cache of recent v128 results in xmm4..xmm15 (vc_slot[i]: the
     * first slot of the vector in xmm(JC_VC_REG + i), or UINT64_MAX). It survives the
     * instructions that leave those registers alone (inline SIMD, and the scalar instructions
     * that keep the pools: codegen.c forgets what they overwrite); a label, a call, a helper or
     * any other instruction empties it (codegen.c, instruction). */
    uint64_t vc_slot[JC_VC_N];
    uint32_t vc_round;
    uint64_t v_x0;          /* xmm0 holds this v128 (simd.c's vput) while no code follows... */
    size_t v_x0_at;         /* ...since this position (and no label) */
    char *why;              /* set when the module uses something the tier does not compile */
    bool nomem;
    /* Loop pinning (codegen.c): while pins_live, pin_slot[i] lives in pool register i and
     * xpin_slot[i] in xmm8+i instead of memory, for the cells [pin_head, pin_end): an f64, or
     * in a loop with SIMD (xpin_v128) the v128 in slots xpin_slot[i], xpin_slot[i] + 1. */
    uint64_t pin_slot[6], xpin_slot[8];
    bool pins_live, xpin_v128;
    uint32_t pin_head, pin_end;
    jfix *pinned;           /* pinned loops: `at` reloads the pins, then runs loop head `target` */
    uint32_t npinned, pinnedcap;
    bool recording, rec_back; /* measuring a loop; a back-edge to rec_head was just emitted */
    bool rec_simd;            /* the loop being measured has SIMD instructions */
    uint32_t rec_head, nuse, nuse_end;
    jpin_use use[JC_MAX_USES];
    jpin_use use_end[JC_MAX_USES]; /* the uses up to the last back-edge measured so far */
    uint16_t *opmemo;       /* per cell: its operation + 2 once looked up, else 0 */
} jc;

/* codegen.c: the driver module.c uses (j->b is set up, the module lock held) */
jc *jit_jc_new(const wasm_module *m, jit_module *jm);
void jit_jc_free(jc *j);
void jit_emit_runtime(jc *j);  /* trampoline, exits, lazy-compile entry and per-function stubs */
/* A batch: functions compiled one after another into j->b (each marked in j->in_batch before
 * it is compiled); direct calls to compiled functions and to earlier ones of the batch are rel32,
 * those to batch members patched by jit_batch_end. jit_compile_more returns 0, or -1 with j->why
 * set or j->nomem, the buffer and the batch as they were before it. */
void jit_batch_begin(jc *j);
int jit_compile_more(jc *j, uint32_t def);
void jit_batch_end(jc *j);

#define SLOT(s) ((int32_t)((s) * 8u))
#define CTX(field) ((int32_t)offsetof(jit_ctx, field))

/* codegen.c: small emitters simd.c uses too */
void jc_ld(jc *j, int reg, uint64_t slot);             /* mov reg, [fp + slot] (64-bit) */
void jc_ld32(jc *j, int reg, uint64_t slot);
void jc_st(jc *j, uint64_t slot, int reg);
void jc_lea_slot(jc *j, int reg, uint64_t slot);       /* lea reg, [fp + slot] */
void jc_trap_if(jc *j, int cc, wasm_trapkind kind);    /* at the current instruction */
void jc_trap_if_dyn(jc *j, int cc);                    /* kind in eax */
void jc_mem_ea(jc *j, int mode, const cell *p, uint32_t bytes); /* rax = checked address */
void jc_call(jc *j, const void *fn);
bool jc_grow(jc *j, void **arr, uint32_t *cap, uint32_t need, size_t elem); /* false: no memory */
void jc_emit_consts(jc *j);                            /* simd.c: the function's constants */
void jc_note(jc *j, uint64_t slot, int cls);           /* a use of the slot (measuring a loop) */
void jc_slot_mem(jc *j, uint64_t slot);                /* about to read the slot's memory */
int jc_vpinned(jc *j, uint64_t slot);                  /* the xmm a v128 is pinned in, or -1 */
void jc_vc_clear(jc *j);                               /* empties simd.c's v128 cache */

#endif
