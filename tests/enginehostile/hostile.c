/* hostile.c - hostile programs under both engine tiers: each must be stopped with the right trap
 * (never a crash of the process), and the two tiers must agree on everything about it: status,
 * trap kind, function index, code offset and fuel left.
 *
 *   infinite loops (fuel; the interrupt flag, set from another thread, with and without calls in
 *   the loop), a memory bomb, recursion bombs (call depth; value-stack bytes; through
 *   call_indirect), out-of-bounds accesses at every width (the last in-bounds address, one past
 *   it, the end of memory, 4 GiB - 1, and the 4 GiB edge with offset 0xFFFFFFFF), misaligned and
 *   unaligned accesses (allowed: the values are checked), bulk memory at the edge, a br_table
 *   with 100,000 targets, and 5,000 nested blocks (10,000 + 1 refused at load).
 *
 * Usage: test_enginehostile WASM_DIR   (fails when the build has no compiled tier) */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "wasm/wasm.h"
#include "wasm_bytes.h"
#include "widths.h"

static int checks, failures;
#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

static const wasm_engine tiers[2] = {WASM_ENGINE_INTERPRETER, WASM_ENGINE_COMPILED};

/* One instance per tier of one module. */
typedef struct pair {
    wasm_module *module;
    wasm_store *store[2];
    wasm_instance *inst[2];
} pair;

typedef struct outcome {
    int rc;
    wasm_trap trap;
    uint64_t fuel_left;
    wasm_val result;
} outcome;

static wasm_config config(wasm_engine e)
{
    wasm_config c;
    wasm_config_default(&c);
    c.engine = e;
    return c;
}

static int open_pair(const void *bytes, size_t len, const wasm_config *base, pair *p)
{
    wasm_error err;
    memset(p, 0, sizeof *p);
    p->module = wasm_module_load(bytes, len, &err);
    if (!p->module) {
        fprintf(stderr, "load: %s\n", err.msg);
        return -1;
    }
    for (int t = 0; t < 2; t++) {
        wasm_config c = *base;
        c.engine = tiers[t];
        p->store[t] = wasm_store_new();
        if (!p->store[t] || wasm_instantiate(p->store[t], p->module, NULL, 0, &c, &p->inst[t], &err)) {
            fprintf(stderr, "instantiate (%s): %s\n", wasm_engine_name(tiers[t]), err.msg);
            return -1;
        }
    }
    return 0;
}

static int open_file(const char *dir, const char *name, const wasm_config *base, pair *p)
{
    char path[4096];
    uint8_t *data;
    size_t len;
    sb_err e;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sb_read_file(path, 16u << 20, &data, &len, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    int rc = open_pair(data, len, base, p);
    free(data);
    return rc;
}

static void close_pair(pair *p)
{
    for (int t = 0; t < 2; t++)
        wasm_store_free(p->store[t]);
    wasm_module_free(p->module);
}

static outcome call_one(wasm_instance *inst, const char *name, const wasm_val *args, size_t nargs)
{
    outcome o;
    memset(&o, 0, sizeof o);
    wasm_func *f = wasm_instance_export_func(inst, name);
    if (!f) {
        o.rc = -2;
        return o;
    }
    size_t nres = wasm_func_type(f)->nresults;
    o.rc = wasm_invoke(inst, f, args, nargs, &o.result, nres, &o.trap);
    o.fuel_left = wasm_instance_fuel(inst);
    return o;
}

/* Equal bit patterns, compared at the value's own width (the rest of the union is unspecified). */
static bool same_value(const wasm_val *a, const wasm_val *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case WASM_I32:
    case WASM_F32: return a->of.i32 == b->of.i32;
    case WASM_I64:
    case WASM_F64: return a->of.i64 == b->of.i64;
    case WASM_V128: return memcmp(a->of.v128, b->of.v128, 16) == 0;
    default: return true;
    }
}

/* Calls `name` under both tiers (fuel reset to `fuel` first) and checks the trap kind is `want`
 * (WASM_TRAP_NONE: success) in both, and that the tiers agree on where and at what fuel. Returns
 * the compiled tier's outcome. */
static outcome expect_both(pair *p, const char *name, const wasm_val *args, size_t nargs,
                           uint64_t fuel, wasm_trapkind want, const char *what)
{
    outcome o[2];
    for (int t = 0; t < 2; t++) {
        wasm_instance_set_fuel(p->inst[t], fuel);
        o[t] = call_one(p->inst[t], name, args, nargs);
        CHECKF(o[t].rc == (int)want, "%s under the %s tier: rc %d (%s), expected %s", what,
               wasm_engine_name(tiers[t]), o[t].rc, o[t].rc > 0 ? o[t].trap.msg : "",
               want ? wasm_trap_text(want) : "success");
    }
    CHECKF(o[0].rc == o[1].rc && o[0].trap.kind == o[1].trap.kind &&
               o[0].trap.func_index == o[1].trap.func_index &&
               o[0].trap.code_offset == o[1].trap.code_offset && o[0].fuel_left == o[1].fuel_left,
           "%s: the tiers differ: interpreter rc %d func %u offset %u fuel %llu, compiled rc %d "
           "func %u offset %u fuel %llu", what, o[0].rc, o[0].trap.func_index,
           o[0].trap.code_offset, (unsigned long long)o[0].fuel_left, o[1].rc,
           o[1].trap.func_index, o[1].trap.code_offset, (unsigned long long)o[1].fuel_left);
    CHECKF(o[0].rc != 0 || same_value(&o[0].result, &o[1].result),
           "%s: the tiers return different values", what);
    return o[1];
}

static wasm_val i32v(uint32_t v) { return (wasm_val){.type = WASM_I32, .of.i32 = v}; }
static wasm_val i64v(uint64_t v) { return (wasm_val){.type = WASM_I64, .of.i64 = v}; }

/* ---------------------------------------------------------------- infinite loops */

typedef struct alarm_job {
    volatile sig_atomic_t *flag;
    long ms;
} alarm_job;

static void *raise_later(void *arg)
{
    const alarm_job *j = arg;
    struct timespec ts = {j->ms / 1000, (j->ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    *j->flag = 1;
    return NULL;
}

static void test_loops(const char *dir)
{
    pair p;
    wasm_config c = config(WASM_ENGINE_INTERPRETER);
    if (open_file(dir, "hostile.wasm", &c, &p) != 0) {
        CHECKF(0, "hostile.wasm did not open");
        return;
    }
    expect_both(&p, "spin", NULL, 0, 1000000, WASM_TRAP_OUT_OF_FUEL, "infinite loop, fuel");
    expect_both(&p, "spin_calls", NULL, 0, 1000001, WASM_TRAP_OUT_OF_FUEL,
                "infinite loop of calls, fuel");
    close_pair(&p);

    /* Unlimited fuel: only the interrupt flag stops them (polled at back-edges and entries). */
    const char *loops[] = {"spin", "spin_calls"};
    for (int t = 0; t < 2; t++) {
        for (int l = 0; l < 2; l++) {
            volatile sig_atomic_t flag = 0;
            wasm_config ci = config(tiers[t]);
            ci.interrupt = &flag;
            pair q;
            if (open_file(dir, "hostile.wasm", &ci, &q) != 0) {
                CHECKF(0, "hostile.wasm did not open");
                return;
            }
            alarm_job job = {&flag, 100};
            pthread_t th;
            pthread_create(&th, NULL, raise_later, &job);
            outcome o = call_one(q.inst[t], loops[l], NULL, 0);
            pthread_join(th, NULL);
            CHECKF(o.rc == WASM_TRAP_INTERRUPTED, "%s, interrupt, %s tier: rc %d", loops[l],
                   wasm_engine_name(tiers[t]), o.rc);
            close_pair(&q);
        }
    }
}

/* ---------------------------------------------------------------- recursion and memory bombs */

static void test_bombs(const char *dir)
{
    pair p;
    wasm_config c = config(WASM_ENGINE_INTERPRETER);
    c.max_call_depth = 5000;
    c.max_stack_bytes = 1u << 20;
    if (open_file(dir, "hostile.wasm", &c, &p) != 0) {
        CHECKF(0, "hostile.wasm did not open");
        return;
    }
    wasm_val four[4] = {i64v(1), i64v(2), i64v(3), i64v(4)};
    expect_both(&p, "recurse", NULL, 0, WASM_FUEL_UNLIMITED, WASM_TRAP_STACK_EXHAUSTED,
                "recursion bomb");
    expect_both(&p, "recurse", NULL, 0, 1000000, WASM_TRAP_STACK_EXHAUSTED,
                "recursion bomb with fuel");
    expect_both(&p, "recurse_args", four, 4, 1000000, WASM_TRAP_STACK_EXHAUSTED,
                "recursion bomb with arguments");
    expect_both(&p, "recurse_locals", NULL, 0, 1000000, WASM_TRAP_STACK_EXHAUSTED,
                "recursion bomb with 256 bytes of locals a frame (value-stack limit)");
    expect_both(&p, "mutual", NULL, 0, 1000000, WASM_TRAP_STACK_EXHAUSTED,
                "recursion through call_indirect");
    /* and the instance still works afterwards */
    wasm_val a = i32v(0);
    expect_both(&p, "read32", &a, 1, 1000, WASM_TRAP_NONE, "a call after the bombs");
    close_pair(&p);

    c = config(WASM_ENGINE_INTERPRETER);
    c.max_memory_pages = 64;
    if (open_file(dir, "bomb.wasm", &c, &p) != 0) {
        CHECKF(0, "bomb.wasm did not open");
        return;
    }
    outcome o = expect_both(&p, "grow_all", NULL, 0, 10000000, WASM_TRAP_NONE,
                            "memory bomb (grow a page at a time)");
    CHECKF(o.result.of.i32 == 64, "memory bomb: %u pages, expected the limit of 64",
           o.result.of.i32);
    o = expect_both(&p, "grow_max", NULL, 0, 1000, WASM_TRAP_NONE, "memory.grow 65535");
    CHECKF(o.result.of.i32 == UINT32_MAX, "memory.grow 65535 returned %d, expected -1",
           (int)o.result.of.i32);
    close_pair(&p);
    /* 4 GiB declared up front: refused at instantiation under both tiers */
    char path[4096];
    uint8_t *data;
    size_t len;
    sb_err e;
    snprintf(path, sizeof path, "%s/huge_min.wasm", dir);
    if (sb_read_file(path, 1u << 20, &data, &len, &e) != 0) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    wasm_error err;
    wasm_module *m = wasm_module_load(data, len, &err);
    CHECKF(m != NULL, "huge_min.wasm: %s", err.msg);
    for (int t = 0; m && t < 2; t++) {
        wasm_config ct = config(tiers[t]);
        ct.max_memory_pages = 64;
        wasm_store *s = wasm_store_new();
        wasm_instance *inst;
        CHECKF(wasm_instantiate(s, m, NULL, 0, &ct, &inst, &err) == -1 &&
                   err.kind == WASM_ERR_LIMIT,
               "4 GiB minimum under the %s tier: kind %d", wasm_engine_name(tiers[t]), err.kind);
        wasm_store_free(s);
    }
    wasm_module_free(m);
    free(data);
}

/* ---------------------------------------------------------------- bounds */

static void test_bounds(const char *dir)
{
    pair p;
    wasm_config c = config(WASM_ENGINE_INTERPRETER);
    if (open_file(dir, "hostile.wasm", &c, &p) != 0) {
        CHECKF(0, "hostile.wasm did not open");
        return;
    }
    const uint32_t size = 65536;
    char what[128], edge[64];
    for (size_t i = 0; i < sizeof accesses / sizeof accesses[0]; i++) {
        const char *n = accesses[i].name;
        uint32_t w = accesses[i].width;
        const struct {
            uint32_t addr;
            bool ok;
        } cases[] = {{0, true}, {size - w, true}, {size - w + 1, false}, {size - 1, w == 1},
                     {size, false}, {0x7FFFFFFF, false}, {0xFFFFFFFF, false}};
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            wasm_val a = i32v(cases[k].addr);
            snprintf(what, sizeof what, "%s at %#x", n, cases[k].addr);
            expect_both(&p, n, &a, 1, 1000, cases[k].ok ? WASM_TRAP_NONE : WASM_TRAP_MEMORY_OOB,
                        what);
        }
        /* offset 0xFFFFFFFF: the effective address passes 4 GiB for every base address */
        snprintf(edge, sizeof edge, "%s@edge", n);
        const uint32_t bases[] = {0, 1, size, 0xFFFFFFFF};
        for (size_t k = 0; k < sizeof bases / sizeof bases[0]; k++) {
            wasm_val a = i32v(bases[k]);
            snprintf(what, sizeof what, "%s offset=0xFFFFFFFF at %#x", n, bases[k]);
            expect_both(&p, edge, &a, 1, 1000, WASM_TRAP_MEMORY_OOB, what);
        }
    }
    /* bulk memory at the end: length 0 at the end is fine, one byte past is not */
    wasm_val fill_ok[2] = {i32v(size - 16), i32v(16)}, fill_end[2] = {i32v(size), i32v(0)},
             fill_bad[2] = {i32v(size - 16), i32v(17)}, fill_wrap[2] = {i32v(16), i32v(0xFFFFFFF8)};
    expect_both(&p, "fill", fill_ok, 2, 1000, WASM_TRAP_NONE, "memory.fill up to the end");
    expect_both(&p, "fill", fill_end, 2, 1000, WASM_TRAP_NONE, "memory.fill of 0 at the end");
    expect_both(&p, "fill", fill_bad, 2, 1000, WASM_TRAP_MEMORY_OOB, "memory.fill one past");
    expect_both(&p, "fill", fill_wrap, 2, 1000, WASM_TRAP_MEMORY_OOB, "memory.fill wrapping");
    wasm_val copy_bad[3] = {i32v(0), i32v(size - 8), i32v(9)};
    expect_both(&p, "copy", copy_bad, 3, 1000, WASM_TRAP_MEMORY_OOB, "memory.copy one past");
    close_pair(&p);
}

static void test_misaligned(const char *dir)
{
    pair p;
    wasm_config c = config(WASM_ENGINE_INTERPRETER);
    if (open_file(dir, "hostile.wasm", &c, &p) != 0) {
        CHECKF(0, "hostile.wasm did not open");
        return;
    }
    const uint64_t pattern = 0x0123456789ABCDEFull;
    for (uint32_t addr = 1; addr < 16; addr += 2) {
        wasm_val w[2] = {i32v(addr), i64v(pattern ^ addr)}, a = i32v(addr);
        char what[64];
        snprintf(what, sizeof what, "unaligned i64.store at %u", addr);
        expect_both(&p, "write64", w, 2, 1000, WASM_TRAP_NONE, what);
        snprintf(what, sizeof what, "misaligned i64.load at %u", addr);
        outcome o = expect_both(&p, "read64", &a, 1, 1000, WASM_TRAP_NONE, what);
        CHECKF(o.result.of.i64 == (pattern ^ addr), "%s: %#llx", what,
               (unsigned long long)o.result.of.i64);
        snprintf(what, sizeof what, "misaligned i32.load at %u", addr);
        o = expect_both(&p, "read32", &a, 1, 1000, WASM_TRAP_NONE, what);
        CHECKF(o.result.of.i32 == (uint32_t)(pattern ^ addr), "%s: %#x", what, o.result.of.i32);
        snprintf(what, sizeof what, "unaligned i32.load16_u at %u", addr);
        expect_both(&p, "read16", &a, 1, 1000, WASM_TRAP_NONE, what);
        wasm_val v = i32v(addr >= 8 ? addr - 8 : addr);
        snprintf(what, sizeof what, "misaligned v128.load at %u", v.of.i32);
        expect_both(&p, "readv", &v, 1, 1000, WASM_TRAP_NONE, what);
    }
    close_pair(&p);
}

/* ---------------------------------------------------------------- generated modules */

/* A module with one function "f" of type (i32) -> (i32) whose body (without locals) is `code`. */
static wasm_bytes module_of(const wasm_bytes *code)
{
    wasm_bytes m = {0}, sec = {0}, body = {0};
    wb_header(&m);
    wb_put(&sec, "\x01\x60\x01\x7F\x01\x7F", 6); /* one type: (i32) -> (i32) */
    wb_section(&m, 1, &sec);
    sec.len = 0;
    wb_put(&sec, "\x01\x00", 2); /* one function of type 0 */
    wb_section(&m, 3, &sec);
    sec.len = 0;
    wb_put(&sec, "\x01\x01" "f" "\x00\x00", 5); /* export "f" = func 0 */
    wb_section(&m, 7, &sec);
    wb_byte(&body, 0); /* no locals */
    wb_put(&body, code->p, code->len);
    sec.len = 0;
    wb_byte(&sec, 1);
    wb_u32(&sec, (uint32_t)body.len);
    wb_put(&sec, body.p, body.len);
    wb_section(&m, 10, &sec);
    free(sec.p);
    free(body.p);
    return m;
}

#define BR_TABLE_TARGETS 100000u

/* block block block (br_table t0..tN-1 default 2 (local.get 0)) end 10 return end 11 return end
 * 12: index x < N lands on label x % 3 (results 10, 11, 12), anything else on the default. */
static void test_huge_br_table(void)
{
    wasm_bytes code = {0};
    wb_put(&code, "\x02\x40\x02\x40\x02\x40\x20\x00\x0E", 9);
    wb_u32(&code, BR_TABLE_TARGETS);
    for (uint32_t i = 0; i < BR_TABLE_TARGETS; i++)
        wb_u32(&code, i % 3);
    wb_u32(&code, 2);
    wb_put(&code, "\x0B\x41\x0A\x0F\x0B\x41\x0B\x0F\x0B\x41\x0C\x0B", 12);
    wasm_bytes m = module_of(&code);
    pair p;
    wasm_config c = config(WASM_ENGINE_INTERPRETER);
    if (open_pair(m.p, m.len, &c, &p) == 0) {
        const uint32_t xs[] = {0, 1, 2, 3, 50000, BR_TABLE_TARGETS - 1, BR_TABLE_TARGETS,
                               0x7FFFFFFF, 0xFFFFFFFF};
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
            wasm_val a = i32v(xs[i]);
            char what[64];
            snprintf(what, sizeof what, "br_table of %u targets, index %u", BR_TABLE_TARGETS, xs[i]);
            outcome o = expect_both(&p, "f", &a, 1, 1000, WASM_TRAP_NONE, what);
            uint32_t want = xs[i] < BR_TABLE_TARGETS ? 10 + xs[i] % 3 : 12;
            CHECKF(o.result.of.i32 == want, "%s: %u, expected %u", what, o.result.of.i32, want);
        }
    } else {
        CHECKF(0, "the br_table module did not load");
    }
    close_pair(&p);
    free(code.p);
    free(m.p);
}

/* `depth` nested blocks around (i32.const 7), each ending with it: valid up to the engine's
 * nesting limit (10,000), refused beyond it at load, for both tiers alike (one module). */
static wasm_bytes nested(uint32_t depth)
{
    wasm_bytes code = {0};
    for (uint32_t i = 0; i < depth; i++)
        wb_put(&code, "\x02\x7F", 2); /* block (result i32) */
    wb_put(&code, "\x41\x07", 2);
    for (uint32_t i = 0; i < depth; i++)
        wb_byte(&code, 0x0B);
    wb_byte(&code, 0x0B);
    wasm_bytes m = module_of(&code);
    free(code.p);
    return m;
}

static void test_deep_nesting(void)
{
    wasm_bytes m = nested(5000);
    pair p;
    wasm_config c = config(WASM_ENGINE_INTERPRETER);
    if (open_pair(m.p, m.len, &c, &p) == 0) {
        wasm_val a = i32v(0);
        outcome o = expect_both(&p, "f", &a, 1, 100000, WASM_TRAP_NONE, "5,000 nested blocks");
        CHECKF(o.result.of.i32 == 7, "5,000 nested blocks: %u", o.result.of.i32);
    } else {
        CHECKF(0, "5,000 nested blocks did not load");
    }
    close_pair(&p);
    free(m.p);
    m = nested(10001);
    wasm_error err;
    wasm_module *mod = wasm_module_load(m.p, m.len, &err);
    CHECKF(!mod && err.msg[0], "10,001 nested blocks loaded");
    wasm_module_free(mod);
    free(m.p);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_enginehostile WASM_DIR\n");
        return 2;
    }
    if (!wasm_engine_available(WASM_ENGINE_COMPILED)) {
        fprintf(stderr, "FAIL: this build has no compiled tier\n");
        return 1;
    }
    test_loops(argv[1]);
    test_bombs(argv[1]);
    test_bounds(argv[1]);
    test_misaligned(argv[1]);
    test_huge_br_table();
    test_deep_nesting();
    printf("enginehostile: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
