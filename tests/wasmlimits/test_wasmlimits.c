/* test_wasmlimits.c - the engine's resource limits and trap reporting, driven through wasm.h.
 *
 * Usage: test_wasmlimits WASM_DIR   (the .wasm files built from the wat/ folder)
 *
 * Covers: fuel exhaustion and deterministic fuel accounting; memory and table limits at
 * instantiation and on grow; call depth without host C recursion (run on a 256 KiB thread);
 * the value-stack byte limit; every trap kind with its function index and code offset; and
 * hostile binaries (100k nested blocks, huge local counts, giant section sizes and counts)
 * rejected at load time before any allocation of their claimed size. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "wasm/wasm.h"
#include "wasm_bytes.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#include "../common/check.h"

static const char *wasm_dir;

/* ---------------------------------------------------------------- helpers */

typedef struct loaded {
    uint8_t *bytes;
    size_t len;
    wasm_module *module;
    wasm_store *store;
    wasm_instance *inst;
} loaded;

static int load_file(const char *name, loaded *l)
{
    char path[4096];
    sb_err e;
    memset(l, 0, sizeof *l);
    snprintf(path, sizeof path, "%s/%s", wasm_dir, name);
    if (sb_read_file(path, 1u << 20, &l->bytes, &l->len, &e) != 0) {
        printf("FAIL cannot read %s: %s\n", path, e.msg);
        failures++;
        return -1;
    }
    wasm_error err;
    l->module = wasm_module_load(l->bytes, l->len, &err);
    l->store = wasm_store_new();
    if (!l->module || !l->store) {
        printf("FAIL %s: load: %s\n", name, l->module ? "no store" : err.msg);
        failures++;
        return -1;
    }
    return 0;
}

/* Loads and instantiates `name` under cfg; returns 0, or -1 with *err filled. */
static int instantiate(const char *name, const wasm_config *cfg, const wasm_extern *imports,
                       size_t nimports, loaded *l, wasm_error *err)
{
    memset(err, 0, sizeof *err);
    if (load_file(name, l) != 0)
        return -1;
    return wasm_instantiate(l->store, l->module, imports, nimports, cfg, &l->inst, err);
}

static void unload(loaded *l)
{
    wasm_store_free(l->store);
    wasm_module_free(l->module);
    free(l->bytes);
    memset(l, 0, sizeof *l);
}

static int call(loaded *l, const char *name, const wasm_val *args, size_t nargs, wasm_val *res,
                size_t nres, wasm_trap *trap)
{
    wasm_func *f = wasm_instance_export_func(l->inst, name);
    memset(trap, 0, sizeof *trap);
    if (!f) {
        printf("FAIL no export %s\n", name);
        failures++;
        return -1;
    }
    return wasm_invoke(l->inst, f, args, nargs, res, nres, trap);
}

static wasm_val i32(uint32_t v) { return (wasm_val){.type = WASM_I32, .of.i32 = v}; }

static wasm_config config(void)
{
    wasm_config cfg;
    wasm_config_default(&cfg);
    return cfg;
}

/* ---------------------------------------------------------------- fuel */

static void test_fuel_exhaustion(void)
{
    wasm_config cfg = config();
    cfg.fuel = 100000;
    loaded l;
    wasm_error err;
    wasm_trap trap;
    if (instantiate("fuel.wasm", &cfg, NULL, 0, &l, &err) == 0) {
        int rc = call(&l, "spin", NULL, 0, NULL, 0, &trap);
        CHECKF(rc == WASM_TRAP_OUT_OF_FUEL, "rc %d (%s)", rc, trap.msg);
        CHECKF(trap.kind == WASM_TRAP_OUT_OF_FUEL, "kind %d", trap.kind);
        CHECKF(strcmp(trap.msg, "out of fuel") == 0, "msg \"%s\"", trap.msg);
        CHECKF(trap.func_index == 0, "func_index %u", trap.func_index);
        CHECKF(wasm_instance_fuel(l.inst) == 0, "fuel left %llu",
               (unsigned long long)wasm_instance_fuel(l.inst));
        /* Refuelled, the instance works again. */
        wasm_instance_set_fuel(l.inst, 1000000);
        wasm_val r;
        rc = call(&l, "count", (wasm_val[]){i32(10)}, 1, &r, 1, &trap);
        CHECKF(rc == 0 && r.of.i32 == 55, "after refuel: rc %d result %u", rc, r.of.i32);
    } else {
        CHECKF(0, "instantiate fuel.wasm: %s", err.msg);
    }
    unload(&l);
}

/* Fuel used by count(n) on a fresh instance given `fuel`; UINT64_MAX on failure. */
static uint64_t fuel_used(uint32_t n, uint64_t fuel, int *rc_out)
{
    wasm_config cfg = config();
    cfg.fuel = fuel;
    loaded l;
    wasm_error err;
    wasm_trap trap;
    uint64_t used = UINT64_MAX;
    *rc_out = -1;
    if (instantiate("fuel.wasm", &cfg, NULL, 0, &l, &err) == 0) {
        wasm_val r;
        *rc_out = call(&l, "count", (wasm_val[]){i32(n)}, 1, &r, 1, &trap);
        if (*rc_out == 0 && r.of.i32 == n * (n + 1) / 2)
            used = fuel - wasm_instance_fuel(l.inst);
    }
    unload(&l);
    return used;
}

static void test_fuel_deterministic(void)
{
    int rc;
    uint64_t a = fuel_used(1000, 10000000, &rc), b = fuel_used(1000, 10000000, &rc);
    CHECKF(a != UINT64_MAX && a == b, "two runs used %llu and %llu", (unsigned long long)a,
           (unsigned long long)b);
    CHECKF(a >= 1000 && a < 10000000, "count(1000) used %llu fuel: not one unit per iteration or more",
           (unsigned long long)a);
    uint64_t more = fuel_used(2000, 10000000, &rc);
    CHECKF(more > a, "count(2000) used %llu, count(1000) %llu", (unsigned long long)more,
           (unsigned long long)a);
    /* Exactly the measured amount suffices; one unit less runs out. */
    uint64_t exact = fuel_used(1000, a, &rc);
    CHECKF(exact == a && rc == 0, "with exactly %llu fuel: rc %d", (unsigned long long)a, rc);
    fuel_used(1000, a - 1, &rc);
    CHECKF(rc == WASM_TRAP_OUT_OF_FUEL, "with %llu fuel: rc %d", (unsigned long long)(a - 1), rc);
}

/* ---------------------------------------------------------------- memory and table limits */

static void test_memory_min_limit(void)
{
    wasm_config cfg = config();
    cfg.max_memory_pages = 10;
    loaded l;
    wasm_error err;
    int rc = instantiate("memory_min.wasm", &cfg, NULL, 0, &l, &err);
    CHECKF(rc == -1 && err.kind == WASM_ERR_LIMIT && err.msg[0], "rc %d kind %d msg \"%s\"", rc,
           err.kind, err.msg);
    unload(&l);
    cfg.max_memory_pages = 100; /* the declared minimum itself is allowed */
    rc = instantiate("memory_min.wasm", &cfg, NULL, 0, &l, &err);
    CHECKF(rc == 0, "at the limit: %s", err.msg);
    unload(&l);
}

static void test_memory_grow_limit(void)
{
    wasm_config cfg = config();
    cfg.max_memory_pages = 4;
    loaded l;
    wasm_error err;
    wasm_trap trap;
    wasm_val r;
    if (instantiate("memory_grow.wasm", &cfg, NULL, 0, &l, &err) != 0) {
        CHECKF(0, "instantiate: %s", err.msg);
        unload(&l);
        return;
    }
    call(&l, "poke", (wasm_val[]){i32(0), i32(0xAB)}, 2, NULL, 0, &trap);
    int rc = call(&l, "grow", (wasm_val[]){i32(3)}, 1, &r, 1, &trap);
    CHECKF(rc == 0 && r.of.i32 == 1, "grow(3): rc %d old size %d", rc, (int)r.of.i32);
    rc = call(&l, "grow", (wasm_val[]){i32(1)}, 1, &r, 1, &trap);
    CHECKF(rc == 0 && r.of.i32 == UINT32_MAX, "grow past the limit: rc %d result %d", rc,
           (int)r.of.i32);
    rc = call(&l, "size", NULL, 0, &r, 1, &trap);
    CHECKF(rc == 0 && r.of.i32 == 4, "size after refused grow: %u", r.of.i32);
    rc = call(&l, "peek", (wasm_val[]){i32(0)}, 1, &r, 1, &trap);
    CHECKF(rc == 0 && r.of.i32 == 0xAB, "memory contents after refused grow: %u", r.of.i32);
    wasm_memory *mem = wasm_instance_export_memory(l.inst, "mem");
    CHECKF(mem && wasm_memory_size(mem) == 4 * 65536ull, "host sees %llu bytes",
           mem ? (unsigned long long)wasm_memory_size(mem) : 0ull);
    CHECKF(mem && wasm_memory_grow(mem, 1) == -1, "host grow past the limit allowed");
    CHECKF(mem && wasm_memory_range(mem, 4 * 65536ull - 4, 4) != NULL, "last word not addressable");
    CHECKF(mem && wasm_memory_range(mem, 4 * 65536ull - 3, 4) == NULL, "range past the end given");
    rc = call(&l, "grow", (wasm_val[]){i32(0x10000)}, 1, &r, 1, &trap);
    CHECKF(rc == 0 && r.of.i32 == UINT32_MAX, "grow by 65536 pages: %d", (int)r.of.i32);
    unload(&l);
}

static void test_table_limits(void)
{
    wasm_config cfg = config();
    cfg.max_table_elems = 100;
    loaded l;
    wasm_error err;
    wasm_trap trap;
    wasm_val r;
    int rc = instantiate("table_min.wasm", &cfg, NULL, 0, &l, &err);
    CHECKF(rc == -1 && err.kind == WASM_ERR_LIMIT && err.msg[0], "rc %d kind %d msg \"%s\"", rc,
           err.kind, err.msg);
    unload(&l);
    cfg.max_table_elems = 5;
    if (instantiate("table_grow.wasm", &cfg, NULL, 0, &l, &err) == 0) {
        rc = call(&l, "grow", (wasm_val[]){i32(3)}, 1, &r, 1, &trap);
        CHECKF(rc == 0 && r.of.i32 == 2, "grow(3): %d", (int)r.of.i32);
        rc = call(&l, "grow", (wasm_val[]){i32(1)}, 1, &r, 1, &trap);
        CHECKF(rc == 0 && r.of.i32 == UINT32_MAX, "grow past the limit: %d", (int)r.of.i32);
        rc = call(&l, "size", NULL, 0, &r, 1, &trap);
        CHECKF(rc == 0 && r.of.i32 == 5, "size: %u", r.of.i32);
    } else {
        CHECKF(0, "instantiate table_grow: %s", err.msg);
    }
    unload(&l);
}

/* ---------------------------------------------------------------- call depth and stack bytes */

typedef struct depth_job {
    uint32_t max_depth, max_stack_bytes;
    const char *func;
    uint32_t arg;             /* for "down" */
    int rc;
    wasm_trap trap;
    uint32_t result, depth_global;
} depth_job;

static void *depth_thread(void *p)
{
    depth_job *job = p;
    wasm_config cfg = config();
    cfg.max_call_depth = job->max_depth;
    cfg.max_stack_bytes = job->max_stack_bytes;
    loaded l;
    wasm_error err;
    job->rc = -2;
    if (instantiate("recursion.wasm", &cfg, NULL, 0, &l, &err) == 0) {
        wasm_val r = {0}, arg = i32(job->arg);
        bool has_arg = strcmp(job->func, "down") == 0;
        job->rc = call(&l, job->func, &arg, has_arg, &r, has_arg, &job->trap);
        job->result = r.of.i32;
        wasm_extern g;
        if (wasm_instance_export(l.inst, "depth", &g) == 0 && g.kind == WASM_EXTERN_GLOBAL) {
            wasm_global_get(g.of.global, &r);
            job->depth_global = r.of.i32;
        }
    }
    unload(&l);
    return NULL;
}

/* Runs the job on a thread with a 256 KiB C stack: deep wasm recursion must not recurse in C. */
static void run_on_small_stack(depth_job *job)
{
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&t, &attr, depth_thread, job);
    pthread_attr_destroy(&attr);
    CHECKF(rc == 0, "pthread_create: %d", rc);
    if (rc == 0)
        pthread_join(t, NULL);
}

static void test_call_depth(void)
{
    depth_job job = {.max_depth = 100000, .max_stack_bytes = 64u << 20, .func = "forever"};
    run_on_small_stack(&job);
    CHECKF(job.rc == WASM_TRAP_STACK_EXHAUSTED, "unbounded recursion: rc %d (%s)", job.rc,
           job.trap.msg);
    CHECKF(strcmp(job.trap.msg, "call stack exhausted") == 0, "msg \"%s\"", job.trap.msg);
    CHECKF(job.trap.func_index == 0, "func_index %u", job.trap.func_index);
    /* A legitimately deep recursion (50,000 frames) completes on the same small C stack. */
    job = (depth_job){.max_depth = 100000, .max_stack_bytes = 64u << 20, .func = "down", .arg = 50000};
    run_on_small_stack(&job);
    CHECKF(job.rc == 0 && job.result == 50000, "down(50000): rc %d result %u (%s)", job.rc,
           job.result, job.trap.msg);
    /* The depth limit is where it says it is (allowing a frame or two of bookkeeping). */
    job = (depth_job){.max_depth = 1000, .max_stack_bytes = 64u << 20, .func = "down", .arg = 990};
    run_on_small_stack(&job);
    CHECKF(job.rc == 0, "down(990) under depth 1000: rc %d (%s)", job.rc, job.trap.msg);
    job = (depth_job){.max_depth = 1000, .max_stack_bytes = 64u << 20, .func = "down", .arg = 1010};
    run_on_small_stack(&job);
    CHECKF(job.rc == WASM_TRAP_STACK_EXHAUSTED, "down(1010) under depth 1000: rc %d", job.rc);
}

static void test_stack_bytes(void)
{
    /* Frames of 200 i64 locals (1600 bytes): the byte limit, not the depth limit, must stop it,
     * and the reached depth must scale with the byte budget. */
    depth_job small = {.max_depth = 1000000, .max_stack_bytes = 1u << 20, .func = "fat"};
    depth_job big = {.max_depth = 1000000, .max_stack_bytes = 4u << 20, .func = "fat"};
    run_on_small_stack(&small);
    run_on_small_stack(&big);
    CHECKF(small.rc == WASM_TRAP_STACK_EXHAUSTED, "1 MiB: rc %d (%s)", small.rc, small.trap.msg);
    CHECKF(big.rc == WASM_TRAP_STACK_EXHAUSTED, "4 MiB: rc %d (%s)", big.rc, big.trap.msg);
    CHECKF(small.depth_global > 100 && small.depth_global <= (1u << 20) / 1600 + 1,
           "1 MiB of value stack allowed depth %u (1600-byte frames)", small.depth_global);
    CHECKF(big.depth_global > 3 * small.depth_global && big.depth_global < 5 * small.depth_global,
           "depth %u at 4 MiB vs %u at 1 MiB", big.depth_global, small.depth_global);
}

/* ---------------------------------------------------------------- traps */

static int host_trap_fn(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)user, (void)args, (void)results;
    return wasm_host_trap(caller, WASM_TRAP_HOST, "custom %d", 42);
}

static int host_exit_fn(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)user, (void)args, (void)results;
    return wasm_host_exit(caller, 7);
}

typedef struct trap_case {
    const char *export_name;
    wasm_trapkind kind;
    uint32_t func_index;
    int opcode; /* byte at code_offset, or -1 when not checked (host traps) */
} trap_case;

static void test_traps(void)
{
    static const trap_case cases[] = {
        {"unreachable", WASM_TRAP_UNREACHABLE, 3, 0x00},
        {"memory_oob", WASM_TRAP_MEMORY_OOB, 4, 0x28},
        {"table_oob", WASM_TRAP_TABLE_OOB, 5, 0x25},
        {"undefined_element", WASM_TRAP_UNDEFINED_ELEMENT, 6, 0x11},
        {"uninit_element", WASM_TRAP_UNINIT_ELEMENT, 7, 0x11},
        {"indirect_mismatch", WASM_TRAP_INDIRECT_MISMATCH, 8, 0x11},
        {"int_overflow", WASM_TRAP_INT_OVERFLOW, 9, 0x6D},
        {"div_zero", WASM_TRAP_DIV_ZERO, 10, 0x70},
        {"invalid_conversion", WASM_TRAP_INVALID_CONVERSION, 11, 0xA8},
        {"host_trap", WASM_TRAP_HOST, 12, -1},
        {"host_exit", WASM_TRAP_EXIT, 13, -1},
        {"nested", WASM_TRAP_UNREACHABLE, 14, 0x00},
    };
    loaded l;
    wasm_error err;
    if (load_file("traps.wasm", &l) != 0) {
        unload(&l);
        return;
    }
    wasm_functype none = {0};
    wasm_func *ht = wasm_func_new_host(l.store, &none, host_trap_fn, NULL, &err);
    wasm_func *he = wasm_func_new_host(l.store, &none, host_exit_fn, NULL, &err);
    wasm_extern imports[2] = {{.kind = WASM_EXTERN_FUNC, .of.func = ht},
                              {.kind = WASM_EXTERN_FUNC, .of.func = he}};
    if (!ht || !he || wasm_instantiate(l.store, l.module, imports, 2, NULL, &l.inst, &err) != 0) {
        CHECKF(0, "instantiate traps.wasm: %s", err.msg);
        unload(&l);
        return;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const trap_case *c = &cases[i];
        wasm_trap trap;
        wasm_val r[1];
        wasm_func *f = wasm_instance_export_func(l.inst, c->export_name);
        size_t nres = f ? wasm_func_type(f)->nresults : 0;
        int rc = call(&l, c->export_name, NULL, 0, r, nres, &trap);
        CHECKF(rc == (int)c->kind && trap.kind == c->kind, "%s: rc %d kind %d (%s)", c->export_name,
               rc, trap.kind, trap.msg);
        CHECKF(trap.func_index == c->func_index, "%s: func_index %u, expected %u", c->export_name,
               trap.func_index, c->func_index);
        if (c->opcode >= 0) {
            CHECKF(strcmp(trap.msg, wasm_trap_text(c->kind)) == 0, "%s: msg \"%s\"", c->export_name,
                   trap.msg);
            CHECKF(trap.code_offset > 8 && trap.code_offset < l.len &&
                       l.bytes[trap.code_offset] == c->opcode,
                   "%s: code_offset %u does not point at opcode 0x%02x", c->export_name,
                   trap.code_offset, c->opcode);
        }
        if (c->kind == WASM_TRAP_HOST)
            CHECKF(strcmp(trap.msg, "custom 42") == 0, "host trap msg \"%s\"", trap.msg);
        if (c->kind == WASM_TRAP_EXIT)
            CHECKF(trap.exit_code == 7, "exit code %d", trap.exit_code);
    }
    unload(&l);
}

/* ---------------------------------------------------------------- hostile binaries */

/* A module with one function of type [] -> [] whose code entry is `code` (locals + body). */
static wasm_bytes module_with_code(const wasm_bytes *code)
{
    wasm_bytes m = {0}, s = {0};
    wb_header(&m);
    wb_put(&s, "\x01\x60\x00\x00", 4);
    wb_section(&m, 1, &s);
    s.len = 0;
    wb_put(&s, "\x01\x00", 2);
    wb_section(&m, 3, &s);
    s.len = 0;
    wb_u32(&s, 1);
    wb_u32(&s, (uint32_t)code->len);
    wb_put(&s, code->p, code->len);
    wb_section(&m, 10, &s);
    free(s.p);
    return m;
}

static wasm_bytes nested_blocks(uint32_t depth)
{
    wasm_bytes code = {0};
    wb_byte(&code, 0); /* no locals */
    for (uint32_t i = 0; i < depth; i++)
        wb_put(&code, "\x02\x40", 2); /* block (empty type) */
    for (uint32_t i = 0; i <= depth; i++)
        wb_byte(&code, 0x0B); /* end */
    wasm_bytes m = module_with_code(&code);
    free(code.p);
    return m;
}

static void expect_rejected(const char *what, const wasm_bytes *m, wasm_errkind want, const char *msg)
{
    wasm_error err;
    memset(&err, 0, sizeof err);
    wasm_module *mod = wasm_module_load(m->p, m->len, &err);
    CHECKF(!mod, "%s: loaded", what);
    if (want != WASM_OK)
        CHECKF(err.kind == want, "%s: kind %s (%s), expected %s", what, wasm_errkind_name(err.kind),
               err.msg, wasm_errkind_name(want));
    else
        CHECKF(err.kind == WASM_ERR_MALFORMED || err.kind == WASM_ERR_INVALID ||
                   err.kind == WASM_ERR_LIMIT,
               "%s: kind %s (%s)", what, wasm_errkind_name(err.kind), err.msg);
    CHECKF(err.msg[0] && (!msg || strstr(err.msg, msg)), "%s: message \"%s\"", what, err.msg);
    if (!mod)
        printf("rejected %s: %s: %s\n", what, wasm_errkind_name(err.kind), err.msg);
    wasm_module_free(mod);
}

static void test_deep_nesting(void)
{
    /* Moderate nesting is valid WebAssembly and must load and run. */
    wasm_bytes m = nested_blocks(1000);
    wasm_error err;
    wasm_module *mod = wasm_module_load(m.p, m.len, &err);
    CHECKF(mod, "1000 nested blocks: %s", err.msg);
    wasm_module_free(mod);
    free(m.p);
    /* 100k nesting is refused at load time with a clear error, not a crash. */
    m = nested_blocks(100000);
    expect_rejected("100k nested blocks", &m, WASM_OK, "nested");
    free(m.p);
}

static wasm_bytes module_with_locals(const uint32_t *counts, size_t n)
{
    wasm_bytes code = {0};
    wb_u32(&code, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        wb_u32(&code, counts[i]);
        wb_byte(&code, 0x7E); /* i64 */
    }
    wb_byte(&code, 0x0B);
    wasm_bytes m = module_with_code(&code);
    free(code.p);
    return m;
}

static void test_huge_locals(void)
{
    wasm_bytes m = module_with_locals((const uint32_t[]){0xFFFFFFFFu}, 1);
    expect_rejected("2^32-1 locals", &m, WASM_ERR_MALFORMED, "too many locals");
    free(m.p);
    m = module_with_locals((const uint32_t[]){0x80000000u, 0x80000000u}, 2);
    expect_rejected("2 x 2^31 locals", &m, WASM_ERR_MALFORMED, "too many locals");
    free(m.p);
    /* 100M locals is within the spec's 2^32 but no frame of 800 MB can run: refused at load. */
    m = module_with_locals((const uint32_t[]){100000000u}, 1);
    expect_rejected("100M locals", &m, WASM_OK, NULL);
    free(m.p);
}

/* Giant declared sizes and counts. Each load runs in a child whose address space is capped at
 * 1 GiB (not under ASan, which reserves terabytes of shadow): allocating what the binary claims
 * would fail there, so a MALFORMED verdict shows the claim was checked against the input first. */
static int load_in_capped_child(const wasm_bytes *m, wasm_errkind *kind)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!UNDER_ASAN) {
            struct rlimit rl = {1u << 30, 1u << 30};
            setrlimit(RLIMIT_AS, &rl);
        }
        alarm(20);
        wasm_error err;
        wasm_module *mod = wasm_module_load(m->p, m->len, &err);
        _exit(mod ? 100 : (int)err.kind);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    *kind = (wasm_errkind)WEXITSTATUS(status);
    return 0;
}

static void giant(const char *what, uint8_t section_id, const void *body, size_t body_len,
                  uint32_t claimed_size)
{
    wasm_bytes m = {0};
    wb_header(&m);
    if (section_id == 11)
        wb_put(&m, "\x05\x03\x01\x00\x01", 5); /* a memory, so data segments are otherwise valid */
    if (section_id == 10) /* one function of type [] -> [], so only the code entry is wrong */
        wb_put(&m, "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00", 10);
    wb_byte(&m, section_id);
    wb_u32(&m, claimed_size ? claimed_size : (uint32_t)body_len);
    wb_put(&m, body, body_len);
    wasm_errkind kind = WASM_OK;
    int rc = load_in_capped_child(&m, &kind);
    CHECKF(rc == 0, "%s: the loader crashed or hung", what);
    CHECKF(rc != 0 || kind == WASM_ERR_MALFORMED, "%s: verdict %s (%d)", what,
           (int)kind == 100 ? "loaded" : wasm_errkind_name(kind), (int)kind);
    expect_rejected(what, &m, WASM_ERR_MALFORMED, NULL);
    free(m.p);
}

static void test_giant_sizes(void)
{
    /* Section sizes far beyond the input. */
    giant("type section of 4 GiB", 1, "\x01\x60\x00\x00", 4, 0xFFFFFFFFu);
    giant("custom section of 2 GiB", 0, "\x01x", 2, 0x7FFFFFFFu);
    /* Counts far beyond what the section's bytes could hold. */
    giant("2^31 types", 1, "\xff\xff\xff\xff\x07\x60\x00\x00", 8, 0);
    giant("2^28 functions", 3, "\x80\x80\x80\x80\x01\x00", 6, 0);
    giant("2^31 imports", 2, "\xff\xff\xff\xff\x07\x01m\x01n\x00\x00", 11, 0);
    giant("2^31 globals", 6, "\xff\xff\xff\xff\x07\x7f\x00\x41\x00\x0b", 10, 0);
    giant("2^31 exports", 7, "\xff\xff\xff\xff\x07\x01x\x00\x00", 9, 0);
    giant("2^31 data segments", 11, "\xff\xff\xff\xff\x07\x00\x41\x00\x0b\x00", 10, 0);
    giant("2^31 element segments", 9, "\xff\xff\xff\xff\x07\x00\x41\x00\x0b\x00", 10, 0);
    giant("2^31 code entries", 10, "\xff\xff\xff\xff\x07\x02\x00\x0b", 8, 0);
    /* Lengths inside a section: a 4 GiB name, a 4 GiB data segment. */
    giant("import name of 4 GiB", 2, "\x01\xff\xff\xff\xff\x0fm", 7, 0);
    giant("custom name of 4 GiB", 0, "\xff\xff\xff\xff\x0f", 5, 0);
    giant("data segment of 4 GiB", 11, "\x01\x00\x41\x00\x0b\xff\xff\xff\xff\x0f", 10, 0);
    giant("2^31 locals entries", 10, "\x01\x07\xff\xff\xff\xff\x07\x7f\x0b", 9, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s WASM_DIR\n", argv[0]);
        return 2;
    }
    wasm_dir = argv[1];
    test_fuel_exhaustion();
    test_fuel_deterministic();
    test_memory_min_limit();
    test_memory_grow_limit();
    test_table_limits();
    test_call_depth();
    test_stack_bytes();
    test_traps();
    test_deep_nesting();
    test_huge_locals();
    test_giant_sizes();
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all wasm limit checks passed\n");
    return 0;
}
