/* run.c - running compiled code: the context, the native stack, and the C helpers compiled code
 * calls for what is not worth inlining (host calls, calls across instances or tiers,
 * call_indirect's checks, bulk memory and tables, a few float operations). Each helper does what
 * the interpreter's handler does, in the same order, so traps and fuel agree. */
#include "wasm/fnum.h"
#include "wasm/jit/rt.h"
#include "wasm/ops.h"

#include <stdio.h>
#include <sys/mman.h>

#define NATIVE_HEADROOM (2u << 20) /* native stack for helpers and host functions */
#define NATIVE_PER_CALL 16u        /* what one compiled call takes: return address + padding */
#define NESTED_RESERVE (256u << 10) /* a nested run needs at least this much stack left */

typedef int (*tramp_fn)(jit_ctx *c, const void *code, slot_t *fp, void *stack_top);

bool wasm_engine_available(wasm_engine e)
{
    if (e == WASM_ENGINE_INTERPRETER)
        return true;
    if (e != WASM_ENGINE_COMPILED)
        return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("popcnt");
}

bool wasm_jit_runs(const wasm_func *f)
{
    return f->code && f->inst && f->inst->cfg.engine == WASM_ENGINE_COMPILED &&
           f->inst->mod->jit && !f->inst->mod->jit->unsupported[0] && f->inst->mod->jit->code;
}

static void switch_to(jit_ctx *c, wasm_instance *inst)
{
    c->inst = inst;
    c->funcs = inst->funcs;
    c->globals = inst->globals;
    c->tables = inst->tables;
    c->mem0 = inst->mem0 ? inst->mem0 : &c->no_memory;
}

/* Reports that f could not be compiled at its first call: a trap at f's entry, with the reason. */
static int compile_failed(jit_ctx *c, wasm_trap *trap, const wasm_func *f, const char *why)
{
    wasm_trap_set(trap, WASM_TRAP_COMPILE_FAILED, f, 0);
    snprintf(trap->msg, sizeof trap->msg, "compile failed: function %u: %s", f->index, why);
    if (c)
        c->prop_kind = WASM_TRAP_COMPILE_FAILED;
    return WASM_TRAP_COMPILE_FAILED;
}

/* f's entry or body (compiled now if this is its first call), or NULL with the trap filled in. */
static const void *code_of(jit_ctx *c, wasm_trap *trap, const wasm_func *f, bool entry)
{
    const wasm_module *m = f->inst->mod;
    uint32_t def = f->index - m->nimp_funcs;
    char why[sizeof m->jit->unsupported];
    if (wasm_jit_function(m, def, why) < 0)
        return compile_failed(c, trap, f, why), NULL;
    return m->jit->code + (entry ? m->jit->entry[def] : m->jit->body[def]);
}

void *jit_h_compile(jit_ctx *c, uint32_t def)
{
    return (void *)code_of(c, c->trap, c->funcs[c->inst->mod->nimp_funcs + def], false);
}

static tramp_fn trampoline(const wasm_module *m)
{
    union { const void *p; tramp_fn f; } u = {.p = m->jit->code + m->jit->trampoline};
    return u.f;
}

/* Fills the trap a helper reports at the calling instruction and makes it the propagated one. */
static int fail(jit_ctx *c, wasm_trapkind kind, uint64_t where)
{
    wasm_trap_set(c->trap, kind, c->funcs[where >> 32], (uint32_t)where);
    c->prop_kind = kind;
    return kind;
}

static void fuel_to_root(jit_ctx *c) { c->root->fuel = c->unlimited ? WASM_FUEL_UNLIMITED : c->fuel; }
static void fuel_from_root(jit_ctx *c)
{
    c->unlimited = c->root->fuel == WASM_FUEL_UNLIMITED;
    c->fuel = c->root->fuel;
}

static int call_host(jit_ctx *c, wasm_func *f, slot_t *fp, uint64_t where)
{
    fuel_to_root(c);
    int k = wasm_call_host(c->inst, f, fp, c->trap);
    fuel_from_root(c);
    if (k) { /* the host's message stays; the location is the call */
        wasm_trap_locate(c->trap, c->funcs[where >> 32], (uint32_t)where);
        c->prop_kind = (uint32_t)k;
    }
    return k;
}

/* The interpreter's do_call checks for a wasm callee, in its order; charges the entry fuel. */
static int call_checks(jit_ctx *c, const wasm_func *f, slot_t *fp, uint64_t where)
{
    const fcode *code = f->code;
    if (c->depth + 1 >= c->max_depth || fp + code->frame_slots > c->stack_end)
        return fail(c, WASM_TRAP_STACK_EXHAUSTED, where);
    if (*c->intr)
        return fail(c, WASM_TRAP_INTERRUPTED, where);
    if (c->fuel < code->code[1].u)
        return fail(c, WASM_TRAP_OUT_OF_FUEL, where);
    c->fuel -= code->code[1].u;
    return 0;
}

/* A wasm function of another instance, compiled or interpreted, run nested. */
static int call_other(jit_ctx *c, wasm_func *f, slot_t *fp, uint64_t where)
{
    int k = call_checks(c, f, fp, where);
    if (k)
        return k;
    char here;
    if ((uintptr_t)&here < c->native_low)
        return fail(c, WASM_TRAP_STACK_EXHAUSTED, where);
    c->depth++;
    wasm_instance *caller = c->inst;
    const void *body = wasm_jit_runs(f) ? code_of(c, c->trap, f, false) : NULL;
    if (body) {
        void *saved_rsp = c->saved_rsp;
        switch_to(c, f->inst);
        k = trampoline(f->inst->mod)(c, body, fp, NULL);
        if (k && c->trap_pending) {
            wasm_trap_set(c->trap, k, c->funcs[c->trap_func], c->trap_index);
            c->trap_pending = 0;
        }
        c->saved_rsp = saved_rsp;
    } else if (wasm_jit_runs(f)) {
        k = WASM_TRAP_COMPILE_FAILED; /* code_of filled in the trap */
    } else {
        fuel_to_root(c);
        k = wasm_interp_run_called(c->root, f, fp, c->depth, c->trap);
        fuel_from_root(c);
    }
    switch_to(c, caller);
    c->depth--;
    if (k)
        c->prop_kind = (uint32_t)k;
    return k;
}

int jit_h_call(jit_ctx *c, wasm_func *f, slot_t *fp, uint64_t where)
{
    return f->host ? call_host(c, f, fp, where) : call_other(c, f, fp, where);
}

void *jit_h_indirect(jit_ctx *c, uint64_t type_table, uint32_t elem, slot_t *fp, uint64_t where)
{
    wasm_table *t = c->tables[type_table >> 32];
    if (elem >= t->size)
        return fail(c, WASM_TRAP_UNDEFINED_ELEMENT, where), NULL;
    wasm_func *f = t->elems[elem];
    if (!f)
        return fail(c, WASM_TRAP_UNINIT_ELEMENT, where), NULL;
    const ftype *want = &c->inst->mod->types[(uint32_t)type_table];
    if (f->type != want && !wasm_ftype_eq(f->type, want))
        return fail(c, WASM_TRAP_INDIRECT_MISMATCH, where), NULL;
    if (f->host)
        return call_host(c, f, fp, where) ? NULL : (void *)1;
    if (f->inst != c->inst)
        return call_other(c, f, fp, where) ? NULL : (void *)1;
    if (call_checks(c, f, fp, where))
        return NULL;
    const void *body = code_of(c, c->trap, f, false);
    if (body)
        c->depth++; /* the compiled caller calls the body and counts the return */
    return (void *)body;
}

uint32_t jit_h_mem_grow(jit_ctx *c, uint32_t delta)
{
    return (uint32_t)(int32_t)wasm_mem_grow(c->inst->mem0, delta);
}

int jit_h_mem_fill(jit_ctx *c, uint32_t d, uint32_t val, uint32_t n)
{
    wasm_memory *m = c->inst->mem0;
    if ((uint64_t)d + n > m->size)
        return WASM_TRAP_MEMORY_OOB;
    memset(m->data + d, (int)(uint8_t)val, n);
    return 0;
}

int jit_h_mem_copy(jit_ctx *c, uint32_t d, uint32_t s, uint32_t n)
{
    wasm_memory *m = c->inst->mem0;
    if ((uint64_t)d + n > m->size || (uint64_t)s + n > m->size)
        return WASM_TRAP_MEMORY_OOB;
    memmove(m->data + d, m->data + s, n);
    return 0;
}

int jit_h_mem_init(jit_ctx *c, uint32_t seg, uint32_t d, uint32_t s, uint32_t n)
{
    wasm_memory *m = c->inst->mem0;
    if ((uint64_t)s + n > c->inst->data_len[seg] || (uint64_t)d + n > m->size)
        return WASM_TRAP_MEMORY_OOB;
    if (n)
        memcpy(m->data + d, c->inst->mod->datas[seg].bytes + s, n);
    return 0;
}

void jit_h_data_drop(jit_ctx *c, uint32_t seg) { c->inst->data_len[seg] = 0; }

int jit_h_table_get(jit_ctx *c, uint32_t t, uint32_t i, slot_t *dst)
{
    wasm_table *tb = c->tables[t];
    if (i >= tb->size)
        return WASM_TRAP_TABLE_OOB;
    *dst = (slot_t)(uintptr_t)tb->elems[i];
    return 0;
}

int jit_h_table_set(jit_ctx *c, uint32_t t, uint32_t i, uint64_t v)
{
    wasm_table *tb = c->tables[t];
    if (i >= tb->size)
        return WASM_TRAP_TABLE_OOB;
    tb->elems[i] = (void *)(uintptr_t)v;
    return 0;
}

uint32_t jit_h_table_grow(jit_ctx *c, uint32_t t, uint64_t init, uint32_t n)
{
    return (uint32_t)(int32_t)wasm_tab_grow(c->tables[t], n, (void *)(uintptr_t)init);
}

int jit_h_table_fill(jit_ctx *c, uint32_t t, uint32_t i, uint64_t v, uint32_t n)
{
    wasm_table *tb = c->tables[t];
    if ((uint64_t)i + n > tb->size)
        return WASM_TRAP_TABLE_OOB;
    for (uint32_t k = 0; k < n; k++)
        tb->elems[i + k] = (void *)(uintptr_t)v;
    return 0;
}

int jit_h_table_copy(jit_ctx *c, uint64_t dt_st, uint32_t d, uint32_t s, uint32_t n)
{
    wasm_table *dt = c->tables[(uint32_t)dt_st], *st = c->tables[dt_st >> 32];
    if ((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size)
        return WASM_TRAP_TABLE_OOB;
    memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
    return 0;
}

int jit_h_table_init(jit_ctx *c, uint64_t t_seg, uint32_t d, uint32_t s, uint32_t n)
{
    wasm_table *t = c->tables[(uint32_t)t_seg];
    uint32_t seg = (uint32_t)(t_seg >> 32);
    if ((uint64_t)s + n > c->inst->elem_len[seg] || (uint64_t)d + n > t->size)
        return WASM_TRAP_TABLE_OOB;
    if (n)
        memcpy(t->elems + d, c->inst->elem_refs[seg] + s, (size_t)n * sizeof(void *));
    return 0;
}

void jit_h_elem_drop(jit_ctx *c, uint32_t seg) { c->inst->elem_len[seg] = 0; }

uint64_t jit_h_fminmax(uint64_t a, uint64_t b, uint32_t which)
{
    switch (which) {
    case 0: return slot_f32(fmin32(f32_of(a), f32_of(b)));
    case 1: return slot_f32(fmax32(f32_of(a), f32_of(b)));
    case 2: return slot_f64(fmin64(f64_of(a), f64_of(b)));
    default: return slot_f64(fmax64(f64_of(a), f64_of(b)));
    }
}

uint64_t jit_h_convert_u64(uint64_t a, uint32_t to_f64)
{
    return to_f64 ? slot_f64((double)a) : slot_f32((float)a);
}

#define TRUNC_PUT(ctype, v) (sizeof(ctype) == 4 ? (slot_t)(uint32_t)(ctype)(v) : (slot_t)(uint64_t)(ctype)(v))
uint64_t jit_h_trunc_sat(uint64_t bits, uint32_t which)
{
    double x = f64_of(bits); /* f32 operands arrive widened, as the interpreter widens them */
    switch (which) {
#define SAT_CASE(opc, sat, name, IN, ctype, lo, hi, mn, mx)                                      \
    case sat: {                                                                                  \
        ctype v = x != x ? 0 : x <= lo ? (ctype)mn : x >= hi ? (ctype)mx : (ctype)x;             \
        return TRUNC_PUT(ctype, v);                                                              \
    }
        TRUNCOPS(SAT_CASE)
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ entry */

/* The native stack compiled code runs on: room for max_call_depth compiled frames plus
 * headroom for helpers and host functions, under a guard page; mapped once per instance. */
static int ensure_native_stack(wasm_instance *root)
{
    if (root->jit_stack)
        return 0;
    size_t size = (size_t)root->cfg.max_call_depth * NATIVE_PER_CALL + NATIVE_HEADROOM;
    size = (size + 4095) & ~(size_t)4095;
    uint8_t *p = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    if (mprotect(p, 4096, PROT_NONE) != 0) {
        munmap(p, size + 4096);
        return -1;
    }
    root->jit_stack = p;
    root->jit_stack_size = size + 4096;
    return 0;
}

void wasm_jit_instance_free(wasm_instance *inst)
{
    if (inst && inst->jit_stack)
        munmap(inst->jit_stack, inst->jit_stack_size);
}

int wasm_jit_run(wasm_instance *root, wasm_func *f, wasm_trap *trap)
{
    jit_ctx c;
    memset(&c, 0, sizeof c);
    c.root = root;
    c.trap = trap;
    c.max_depth = root->cfg.max_call_depth;
    c.stack_end = root->stack + root->stack_slots;
    c.intr = root->cfg.interrupt ? root->cfg.interrupt : &c.no_interrupt;
    fuel_from_root(&c);
    switch_to(&c, f->inst);
    if (c.max_depth == 0 || root->stack + f->code->frame_slots > c.stack_end) {
        wasm_trap_set(trap, WASM_TRAP_STACK_EXHAUSTED, f, 0);
        return WASM_TRAP_STACK_EXHAUSTED;
    }
    if (ensure_native_stack(root) < 0) {
        wasm_trap_set(trap, WASM_TRAP_STACK_EXHAUSTED, f, 0);
        snprintf(trap->msg, sizeof trap->msg, "out of memory for the native stack");
        return WASM_TRAP_STACK_EXHAUSTED;
    }
    uint8_t *stack = root->jit_stack;
    c.native_low = (uintptr_t)stack + 4096 + NESTED_RESERVE;
    const void *entry = code_of(NULL, trap, f, true);
    if (!entry)
        return WASM_TRAP_COMPILE_FAILED;
    int k = trampoline(f->inst->mod)(&c, entry, root->stack, stack + root->jit_stack_size);
    fuel_to_root(&c);
    if (k && c.trap_pending)
        wasm_trap_set(trap, k, c.funcs[c.trap_func], c.trap_index);
    return k;
}
