/* jit.h - the compiled tier's entry points and the state its machine code runs with.
 * See docs/engine.md, "Compiled tier". */
#ifndef SB_WASM_JIT_H
#define SB_WASM_JIT_H

#include "wasm/internal.h"

#include <signal.h>

/* A module's machine code, compiled one function at a time on its first call (module.c).
 * One reservation holds all of it, so rel32 jumps and calls reach across functions: pages below
 * `sealed` are PROT_READ | PROT_EXEC and never written again; the pages from `sealed` up are
 * PROT_READ | PROT_WRITE, never executable, and receive the next function(s) before they are
 * sealed in turn. No page is writable and executable at once. */
typedef struct jit_module {
    uint8_t *code;        /* the reservation (mmap) */
    size_t size;          /* bytes reserved */
    size_t sealed;        /* page-aligned end of the read+execute part */
    uint32_t ndef;        /* defined functions */
    uint32_t *entry;      /* per defined function: runs the entry fuel check, then the body */
    uint32_t *body;       /* per defined function: the body (the caller charged entry fuel) */
    uint8_t *ready;       /* per defined function: 1 once compiled and sealed (atomic) */
    const void **target;  /* per defined function: what a direct call jumps to (its body once
                           * compiled, before that a stub that compiles it); atomic */
    uint32_t trampoline;  /* offset of the C-to-compiled-code trampoline */
    uint32_t trap_common, propagate, lazy_common; /* the shared exits and the lazy-compile entry */
    uint32_t *batch;      /* the functions of the compilation under way */
    struct jc *jc;        /* the compiler's state, reused for every function (under lock) */
    void *lock;           /* a pthread_mutex_t: one compilation at a time per module */
    char unsupported[96]; /* non-empty: why this module cannot run compiled at all */
} jit_module;

/* The state compiled code reads through r15. Field offsets are used by the code generator
 * (offsetof), so the layout is free to change. */
typedef struct jit_ctx {
    uint64_t fuel;               /* synced with rbx around helper calls */
    void *saved_rsp;             /* the trampoline's stack pointer: traps unwind to it */
    wasm_memory *mem0;           /* current instance's memory 0 (a zero-sized one if none) */
    volatile sig_atomic_t *intr; /* never NULL */
    uint32_t depth, max_depth;
    slot_t *stack_end;
    wasm_instance *inst;         /* the instance whose code runs now */
    wasm_instance *root;         /* whose stack, frames, fuel and limits are used */
    wasm_func **funcs;
    wasm_global **globals;
    wasm_table **tables;
    wasm_trap *trap;
    uint32_t trap_kind, trap_index, trap_func; /* a trap raised by compiled code */
    uint32_t trap_pending;
    uint32_t prop_kind;          /* a trap a helper has already filled in */
    bool unlimited;
    uintptr_t native_low;        /* helpers refuse to nest below this native stack address */
    sig_atomic_t no_interrupt;
    wasm_memory no_memory;
} jit_ctx;

/* Prepares m for the compiled tier unless that was done already (m is validated and
 * translated): reserves its code space and emits the shared runtime code. Functions are compiled
 * on their first call (wasm_jit_function). Returns 0; a module the tier cannot run gets
 * m->jit->unsupported set instead (then instantiating it on the compiled tier fails with
 * WASM_ERR_UNSUPPORTED). -1 with err set on out-of-memory. */
int wasm_jit_prepare(const wasm_module *m, wasm_error *err);
/* Compiles defined function `def` of m (prepared) unless it is compiled already. Returns 0, or -1
 * with the reason in why[96] (out of memory, code space exhausted, an internal inconsistency). */
int wasm_jit_function(const wasm_module *m, uint32_t def, char *why);
/* Compiles every defined function not compiled yet, sealing once (the eager mode: benchmarks
 * and tests). Same results as wasm_jit_function. */
int wasm_jit_compile_all(const wasm_module *m, char *why);
/* How many defined functions of m are compiled (tests and benchmarks). */
uint32_t wasm_jit_compiled_count(const wasm_module *m);
void wasm_jit_free(wasm_module *m);
/* NULL when m runs compiled, else the reason it cannot. */
const char *wasm_jit_unsupported(const wasm_module *m);
/* Runs f (a defined function of an instance on the compiled tier) on ctx_inst's stack, with
 * arguments in ctx_inst->stack[0..]: the counterpart of wasm_interp_run. */
int wasm_jit_run(wasm_instance *ctx_inst, wasm_func *f, wasm_trap *trap);
/* True when f's instance runs on the compiled tier. */
bool wasm_jit_runs(const wasm_func *f);
/* Releases an instance's native stack for compiled code. */
void wasm_jit_instance_free(wasm_instance *inst);

#endif
