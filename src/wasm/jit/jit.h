/* jit.h - the compiled tier's entry points and the state its machine code runs with.
 * See docs/engine.md, "Compiled tier". */
#ifndef SB_WASM_JIT_H
#define SB_WASM_JIT_H

#include "wasm/internal.h"

#include <signal.h>

/* A module's machine code: one read+execute mapping, never writable while executable. */
typedef struct jit_module {
    uint8_t *code;        /* mmap'd, PROT_READ | PROT_EXEC once built */
    size_t size;          /* bytes mapped */
    uint32_t *entry;      /* per defined function: runs the entry fuel check, then the body */
    uint32_t *body;       /* per defined function: the body (the caller charged entry fuel) */
    uint32_t trampoline;  /* offset of the C-to-compiled-code trampoline */
    char unsupported[96]; /* non-empty: why this module cannot run compiled */
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

/* Compiles every defined function of m unless that was done already (m is validated and
 * translated). Returns 0; a module the tier cannot compile gets m->jit->unsupported set instead
 * (then instantiating it on the compiled tier fails with WASM_ERR_UNSUPPORTED). -1 with err set
 * on out-of-memory. */
int wasm_jit_prepare(const wasm_module *m, wasm_error *err);
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
