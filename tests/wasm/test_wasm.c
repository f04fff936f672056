/* test_wasm.c - engine unit tests: host calls and exit, linking between instances, imports,
 * limits, traps, fuel, API misuse and load errors. Modules come from the .wat files in tests/wasm/wat
 * (converted by wat2wasm at build time, directory passed as argv[1]) or are built as bytes here. */
#include "common/common.h"
#include "wasm/wasm.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static int failures, checks;
static const char *wasm_dir;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        checks++;                                                                                \
        if (!(cond)) {                                                                           \
            failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);             \
        }                                                                                        \
    } while (0)

static wasm_module *load_named(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.wasm", wasm_dir, name);
    uint8_t *bytes;
    size_t len;
    sb_err e;
    if (sb_read_file(path, 1 << 20, &bytes, &len, &e) < 0) {
        fprintf(stderr, "cannot read %s: %s\n", path, e.msg);
        exit(2);
    }
    wasm_error err;
    wasm_module *m = wasm_module_load(bytes, len, &err);
    free(bytes);
    if (!m) {
        fprintf(stderr, "%s: %s at %zu\n", name, err.msg, err.offset);
        exit(2);
    }
    return m;
}

static wasm_val i32v(uint32_t v) { wasm_val x = {.type = WASM_I32}; x.of.i32 = v; return x; }

/* ------------------------------------------------------------------ host functions */

static int host_add(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)caller;
    (*(int *)user)++;
    results[0] = i32v(args[0].of.i32 + args[1].of.i32);
    return 0;
}

static int host_exit(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)user, (void)results;
    return wasm_host_exit(caller, (int32_t)args[0].of.i32);
}

static int host_fail(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)user, (void)args, (void)results;
    return wasm_host_trap(caller, WASM_TRAP_HOST, "host says no (%d)", 17);
}

/* Reads up to 8 bytes of the caller's memory through the checked-range helper. */
static int host_peek(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)user;
    uint8_t *p = wasm_memory_range(wasm_instance_memory(caller), args[0].of.i32, args[1].of.i32);
    if (!p || args[1].of.i32 > 8)
        return wasm_host_trap(caller, WASM_TRAP_HOST, "peek out of range");
    uint64_t v = 0;
    memcpy(&v, p, args[1].of.i32);
    results[0] = (wasm_val){.type = WASM_I64};
    results[0].of.i64 = v;
    return 0;
}

/* Calls back into the instance that is running: must be refused, not corrupt the stack. */
static int host_reenter(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)args;
    wasm_trap trap;
    wasm_val a[2] = {i32v(1), i32v(2)}, r[1];
    int rc = wasm_invoke(caller, user, a, 2, r, 1, &trap);
    results[0] = i32v(rc == -1 && strstr(trap.msg, "reentrant") ? 1 : 0);
    return 0;
}

static const wasm_valtype II[] = {WASM_I32, WASM_I32}, I1[] = {WASM_I32}, L1[] = {WASM_I64};

typedef struct host_env {
    wasm_store *store;
    wasm_module *mod;
    wasm_instance *inst;
    int add_calls;
} host_env;

static void make_imports(wasm_store *s, wasm_host_fn add, void *add_user, wasm_extern imports[4])
{
    wasm_error err;
    wasm_functype add_t = {2, 1, II, I1}, exit_t = {1, 0, I1, NULL}, fail_t = {0, 0, NULL, NULL},
                  peek_t = {2, 1, II, L1};
    wasm_func *f[4] = {wasm_func_new_host(s, &add_t, add, add_user, &err),
                       wasm_func_new_host(s, &exit_t, host_exit, NULL, &err),
                       wasm_func_new_host(s, &fail_t, host_fail, NULL, &err),
                       wasm_func_new_host(s, &peek_t, host_peek, NULL, &err)};
    for (int i = 0; i < 4; i++)
        imports[i] = (wasm_extern){WASM_EXTERN_FUNC, {.func = f[i]}};
}

static void host_setup(host_env *env, const wasm_config *cfg)
{
    env->store = wasm_store_new();
    env->mod = load_named("host");
    env->add_calls = 0;
    wasm_error err;
    wasm_extern imports[4];
    make_imports(env->store, host_add, &env->add_calls, imports);
    CHECK(wasm_instantiate(env->store, env->mod, imports, 4, cfg, &env->inst, &err) == 0);
}

static void host_teardown(host_env *env)
{
    wasm_store_free(env->store);
    wasm_module_free(env->mod);
}

static int call_i32(wasm_instance *inst, const char *name, const wasm_val *args, size_t n,
                    uint32_t *out, wasm_trap *trap)
{
    wasm_val r[1];
    int rc = wasm_invoke(inst, wasm_instance_export_func(inst, name), args, n, r, 1, trap);
    if (rc == 0)
        *out = r[0].of.i32;
    return rc;
}

static void test_host_calls(void)
{
    host_env env;
    host_setup(&env, NULL);
    wasm_trap trap;
    uint32_t r = 0;
    wasm_val a3[3] = {i32v(1), i32v(20), i32v(300)};
    CHECK(call_i32(env.inst, "add3", a3, 3, &r, &trap) == 0 && r == 321);
    CHECK(env.add_calls == 2);

    /* proc_exit-style exit: a distinct trap kind carrying the code */
    wasm_val a1[1] = {i32v(7)};
    CHECK(call_i32(env.inst, "exit_with", a1, 1, &r, &trap) == WASM_TRAP_EXIT);
    CHECK(trap.kind == WASM_TRAP_EXIT && trap.exit_code == 7);

    /* host trap with its own message; the instance stays usable afterwards */
    CHECK(wasm_invoke(env.inst, wasm_instance_export_func(env.inst, "fail"), NULL, 0, NULL, 0, &trap) == WASM_TRAP_HOST);
    CHECK(strcmp(trap.msg, "host says no (17)") == 0);
    CHECK(trap.func_index == 6 && trap.code_offset > 0); /* located at the calling instruction */
    CHECK(call_i32(env.inst, "add3", a3, 3, &r, &trap) == 0 && r == 321);

    /* host reads guest memory (data segment "strongbox" at 16) */
    wasm_val pk[2] = {i32v(16), i32v(6)}, res[1];
    CHECK(wasm_invoke(env.inst, wasm_instance_export_func(env.inst, "peek"), pk, 2, res, 1, &trap) == 0);
    CHECK(res[0].type == WASM_I64 && memcmp(&res[0].of.i64, "strong", 6) == 0);
    wasm_val pk_bad[2] = {i32v(65535), i32v(2)};
    CHECK(wasm_invoke(env.inst, wasm_instance_export_func(env.inst, "peek"), pk_bad, 2, res, 1, &trap) == WASM_TRAP_HOST);
    CHECK(strcmp(trap.msg, "peek out of range") == 0);

    /* host memory access */
    wasm_memory *mem = wasm_instance_export_memory(env.inst, "memory");
    CHECK(mem && wasm_memory_size(mem) == 65536);
    CHECK(memcmp(wasm_memory_data(mem) + 16, "strongbox", 9) == 0);
    CHECK(wasm_memory_range(mem, 65536, 0) != NULL);
    CHECK(wasm_memory_range(mem, 65536, 1) == NULL);
    CHECK(wasm_memory_range(mem, UINT64_MAX, 2) == NULL);
    host_teardown(&env);
}

static void test_reentrancy(void)
{
    host_env env;
    host_setup(&env, NULL);
    wasm_func *own = wasm_instance_export_func(env.inst, "div");
    /* a second instance whose "add" import invokes `own` with itself as context while running */
    wasm_extern imports[4];
    make_imports(env.store, host_reenter, own, imports);
    wasm_instance *inst2;
    wasm_error err;
    CHECK(wasm_instantiate(env.store, env.mod, imports, 4, NULL, &inst2, &err) == 0);
    wasm_trap trap;
    uint32_t r = 0;
    wasm_val a3[3] = {i32v(0), i32v(0), i32v(0)};
    CHECK(call_i32(inst2, "add3", a3, 3, &r, &trap) == 0 && r == 1);
    host_teardown(&env);
}

/* ------------------------------------------------------------------ traps, limits, fuel */

static void test_traps(void)
{
    host_env env;
    host_setup(&env, NULL);
    wasm_trap trap;
    uint32_t r;
    wasm_val a[2] = {i32v(1), i32v(0)};
    CHECK(call_i32(env.inst, "div", a, 2, &r, &trap) == WASM_TRAP_DIV_ZERO);
    CHECK(strcmp(trap.msg, "integer divide by zero") == 0);
    CHECK(trap.func_index == 9 && trap.code_offset > 0); /* 4 imports + div is the 6th defined */
    wasm_val o[2] = {i32v(0x80000000u), i32v(0xFFFFFFFFu)};
    CHECK(call_i32(env.inst, "div", o, 2, &r, &trap) == WASM_TRAP_INT_OVERFLOW);
    CHECK(strcmp(trap.msg, "integer overflow") == 0);
    CHECK(strcmp(wasm_trap_text(WASM_TRAP_MEMORY_OOB), "out of bounds memory access") == 0);
    host_teardown(&env);
}

static void test_limits(void)
{
    wasm_config cfg;
    wasm_config_default(&cfg);
    cfg.max_memory_pages = 2;
    cfg.max_call_depth = 100;
    cfg.max_stack_bytes = 1 << 16;
    host_env env;
    host_setup(&env, &cfg);
    wasm_trap trap;
    uint32_t r = 0;
    wasm_val one = i32v(1);
    CHECK(call_i32(env.inst, "grow", &one, 1, &r, &trap) == 0 && r == 1);  /* 1 -> 2 pages */
    CHECK(call_i32(env.inst, "grow", &one, 1, &r, &trap) == 0 && r == 0xFFFFFFFFu); /* capped */
    wasm_val zero = i32v(0);
    CHECK(call_i32(env.inst, "recurse", &zero, 1, &r, &trap) == WASM_TRAP_STACK_EXHAUSTED);
    CHECK(strcmp(trap.msg, "call stack exhausted") == 0);
    /* the instance still works after exhaustion */
    wasm_val a3[3] = {i32v(1), i32v(2), i32v(3)};
    CHECK(call_i32(env.inst, "add3", a3, 3, &r, &trap) == 0 && r == 6);
    host_teardown(&env);

    /* a declared minimum above the host's cap is a distinct instantiation error */
    wasm_store *s = wasm_store_new();
    wasm_module *m = load_named("bigmem");
    wasm_instance *inst;
    wasm_error err;
    cfg.max_memory_pages = 10;
    CHECK(wasm_instantiate(s, m, NULL, 0, &cfg, &inst, &err) == -1);
    CHECK(err.kind == WASM_ERR_LIMIT && strstr(err.msg, "memory"));
    cfg.max_memory_pages = 20;
    cfg.max_table_elems = 50;
    CHECK(wasm_instantiate(s, m, NULL, 0, &cfg, &inst, &err) == -1);
    CHECK(err.kind == WASM_ERR_LIMIT && strstr(err.msg, "table"));
    cfg.max_table_elems = 100;
    CHECK(wasm_instantiate(s, m, NULL, 0, &cfg, &inst, &err) == 0);
    wasm_store_free(s);
    wasm_module_free(m);
}

static void test_fuel(void)
{
    wasm_config cfg;
    wasm_config_default(&cfg);
    cfg.fuel = 10000;
    host_env env;
    host_setup(&env, &cfg);
    wasm_trap trap;
    CHECK(wasm_invoke(env.inst, wasm_instance_export_func(env.inst, "spin"), NULL, 0, NULL, 0, &trap) == WASM_TRAP_OUT_OF_FUEL);
    CHECK(strcmp(trap.msg, "out of fuel") == 0);
    CHECK(wasm_instance_fuel(env.inst) < 10000);
    /* deterministic: the same call costs the same fuel every time */
    uint32_t r = 0;
    wasm_val n = i32v(50);
    wasm_instance_set_fuel(env.inst, 100000);
    CHECK(call_i32(env.inst, "count", &n, 1, &r, &trap) == 0 && r == 150);
    uint64_t used1 = 100000 - wasm_instance_fuel(env.inst);
    wasm_instance_set_fuel(env.inst, 100000);
    CHECK(call_i32(env.inst, "count", &n, 1, &r, &trap) == 0 && r == 150);
    uint64_t used2 = 100000 - wasm_instance_fuel(env.inst);
    CHECK(used1 == used2 && used1 > 50);
    /* refuelling lets the same call finish; too little fuel stops it */
    wasm_instance_set_fuel(env.inst, used1 - 1);
    CHECK(call_i32(env.inst, "count", &n, 1, &r, &trap) == WASM_TRAP_OUT_OF_FUEL);
    wasm_instance_set_fuel(env.inst, WASM_FUEL_UNLIMITED);
    CHECK(call_i32(env.inst, "count", &n, 1, &r, &trap) == 0 && r == 150);
    CHECK(wasm_instance_fuel(env.inst) == WASM_FUEL_UNLIMITED);
    host_teardown(&env);
}

/* The interrupt flag as a host sets it: from a host function or from a signal handler. */
static volatile sig_atomic_t interrupt_flag;

static int host_add_interrupt(wasm_instance *caller, void *user, const wasm_val *args,
                              wasm_val *results)
{
    interrupt_flag = 1;
    return host_add(caller, user, args, results);
}

static void on_alarm(int sig)
{
    (void)sig;
    interrupt_flag = 1;
}

/* A flag raised by SIGALRM while the guest spins stops it (fuel 2^36 is only a backstop so a
 * broken poll fails the test instead of hanging it). */
static void check_interrupt_by_signal(host_env *env)
{
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGALRM, &sa, &old) == 0);
    interrupt_flag = 0;
    wasm_instance_set_fuel(env->inst, (uint64_t)1 << 36);
    struct itimerval t = {.it_value = {.tv_usec = 50000}}, off = {0};
    CHECK(setitimer(ITIMER_REAL, &t, NULL) == 0);
    wasm_trap trap;
    int rc = wasm_invoke(env->inst, wasm_instance_export_func(env->inst, "spin"), NULL, 0, NULL, 0,
                         &trap);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    CHECK(rc == WASM_TRAP_INTERRUPTED && interrupt_flag == 1);
}

static void test_interrupt(void)
{
    wasm_config cfg;
    wasm_config_default(&cfg);
    CHECK(cfg.interrupt == NULL);
    cfg.interrupt = &interrupt_flag;
    host_env env;
    env.store = wasm_store_new();
    env.mod = load_named("host");
    env.add_calls = 0;
    wasm_error err;
    wasm_extern imports[4];
    make_imports(env.store, host_add_interrupt, &env.add_calls, imports);
    CHECK(wasm_instantiate(env.store, env.mod, imports, 4, &cfg, &env.inst, &err) == 0);
    wasm_func *spin = wasm_instance_export_func(env.inst, "spin");
    wasm_trap trap;
    /* a flag already set stops (loop br 0) with unlimited fuel; the engine leaves it set */
    interrupt_flag = 1;
    CHECK(wasm_invoke(env.inst, spin, NULL, 0, NULL, 0, &trap) == WASM_TRAP_INTERRUPTED);
    CHECK(trap.kind == WASM_TRAP_INTERRUPTED && strcmp(trap.msg, "interrupted") == 0);
    CHECK(strcmp(wasm_trap_text(WASM_TRAP_INTERRUPTED), "interrupted") == 0);
    CHECK(interrupt_flag == 1 && wasm_instance_fuel(env.inst) == WASM_FUEL_UNLIMITED);
    /* cleared by the host, the instance runs normally again */
    interrupt_flag = 0;
    uint32_t r = 0;
    wasm_val n = i32v(50);
    CHECK(call_i32(env.inst, "count", &n, 1, &r, &trap) == 0 && r == 150);
    /* set during the run (by a host call): the next function entry traps, before the unbounded
     * recursion would exhaust the stack */
    wasm_val ab[2] = {i32v(1), i32v(2)};
    CHECK(call_i32(env.inst, "add_then_recurse", ab, 2, &r, &trap) == WASM_TRAP_INTERRUPTED);
    CHECK(env.add_calls == 1);
    check_interrupt_by_signal(&env);
    interrupt_flag = 0;
    host_teardown(&env);
}

/* ------------------------------------------------------------------ values and API misuse */

static void test_values_and_misuse(void)
{
    host_env env;
    host_setup(&env, NULL);
    wasm_trap trap;
    /* NaN payloads survive a round trip */
    wasm_val nan = {.type = WASM_F32}, res[1];
    nan.of.f32 = 0x7FA12345u; /* signalling NaN with payload */
    CHECK(wasm_invoke(env.inst, wasm_instance_export_func(env.inst, "f32_id"), &nan, 1, res, 1, &trap) == 0);
    CHECK(res[0].type == WASM_F32 && res[0].of.f32 == 0x7FA12345u);
    wasm_val d = {.type = WASM_F64};
    d.of.f64 = 0x7FF0000000000123ull;
    CHECK(wasm_invoke(env.inst, wasm_instance_export_func(env.inst, "f64_neg"), &d, 1, res, 1, &trap) == 0);
    CHECK(res[0].of.f64 == 0xFFF0000000000123ull);
    /* externref passes through unchanged */
    int cookie;
    wasm_val e = {.type = WASM_EXTERNREF};
    e.of.externref = &cookie;
    CHECK(wasm_invoke(env.inst, wasm_instance_export_func(env.inst, "ext_id"), &e, 1, res, 1, &trap) == 0);
    CHECK(res[0].type == WASM_EXTERNREF && res[0].of.externref == &cookie);

    /* misuse: wrong count, wrong type, no function, too little room for results */
    wasm_func *div = wasm_instance_export_func(env.inst, "div");
    wasm_val one = i32v(1);
    CHECK(wasm_invoke(env.inst, div, &one, 1, res, 1, &trap) == -1 && trap.kind == WASM_TRAP_NONE);
    CHECK(strstr(trap.msg, "count") != NULL);
    wasm_val bad[2] = {i32v(1), d};
    CHECK(wasm_invoke(env.inst, div, bad, 2, res, 1, &trap) == -1 && strstr(trap.msg, "type"));
    CHECK(wasm_invoke(env.inst, NULL, NULL, 0, NULL, 0, &trap) == -1);
    wasm_val two[2] = {i32v(4), i32v(2)};
    CHECK(wasm_invoke(env.inst, div, two, 2, res, 0, &trap) == -1);
    CHECK(wasm_instance_export_func(env.inst, "nope") == NULL);
    CHECK(wasm_instance_export_func(env.inst, "memory") == NULL); /* wrong kind */

    /* globals: typed get/set, immutable and wrong-type sets refused */
    wasm_extern g, c;
    CHECK(wasm_instance_export(env.inst, "g", &g) == 0 && g.kind == WASM_EXTERN_GLOBAL);
    wasm_val v = {.type = WASM_I64};
    v.of.i64 = 1234567890123ull;
    wasm_error err;
    CHECK(wasm_global_set(g.of.global, &v, &err) == 0);
    CHECK(wasm_invoke(env.inst, wasm_instance_export_func(env.inst, "get_g"), NULL, 0, res, 1, &trap) == 0);
    CHECK(res[0].of.i64 == 1234567890123ull);
    CHECK(wasm_global_set(g.of.global, &one, &err) == -1 && err.kind == WASM_ERR_MISUSE);
    CHECK(wasm_instance_export(env.inst, "c", &c) == 0);
    CHECK(wasm_global_set(c.of.global, &one, &err) == -1 && strstr(err.msg, "immutable"));
    wasm_global_get(c.of.global, &v);
    CHECK(v.type == WASM_I32 && v.of.i32 == 7);

    /* tables: bounds and element type checked */
    wasm_extern t;
    CHECK(wasm_instance_export(env.inst, "table", &t) == 0 && wasm_table_size(t.of.table) == 2);
    wasm_val fr = {.type = WASM_FUNCREF};
    fr.of.funcref = div;
    CHECK(wasm_table_set(t.of.table, 1, &fr) == 0);
    CHECK(wasm_table_set(t.of.table, 2, &fr) == -1);
    CHECK(wasm_table_set(t.of.table, 0, &one) == -1);
    CHECK(wasm_table_get(t.of.table, 1, &v) == 0 && v.of.funcref == div);

    /* host object creation with bad arguments */
    wasm_functype bad_t = {1, 0, (const wasm_valtype[]){(wasm_valtype)0x12}, NULL};
    CHECK(wasm_func_new_host(env.store, &bad_t, host_fail, NULL, &err) == NULL && err.kind == WASM_ERR_MISUSE);
    CHECK(wasm_global_new(env.store, (wasm_globaltype){WASM_I64, false}, one, &err) == NULL);
    CHECK(wasm_memory_new(env.store, (wasm_limits){3, 2, true}, 0, &err) == NULL);
    CHECK(wasm_table_new(env.store, (wasm_tabletype){WASM_I32, {1, 1, true}}, one, &err) == NULL);
    host_teardown(&env);
}

/* ------------------------------------------------------------------ linking */

static void test_linking(void)
{
    wasm_store *s = wasm_store_new();
    wasm_module *pm = load_named("provider"), *cm = load_named("consumer"),
                *part = load_named("partial"), *bad = load_named("badimport");
    wasm_error err;
    wasm_instance *prov, *cons, *pi;
    CHECK(wasm_instantiate(s, pm, NULL, 0, NULL, &prov, &err) == 0);
    /* unresolved by name before registration */
    CHECK(wasm_instantiate(s, cm, NULL, 0, NULL, &cons, &err) == -1);
    CHECK(err.kind == WASM_ERR_UNLINKABLE && strstr(err.msg, "unknown import"));
    CHECK(wasm_store_register(s, "prov", prov, &err) == 0);
    CHECK(wasm_instantiate(s, cm, NULL, 0, NULL, &cons, &err) == 0);

    wasm_trap trap;
    uint32_t r = 0;
    /* consumer's data segment wrote into the shared memory */
    wasm_val at = i32v(100);
    CHECK(call_i32(prov, "load", &at, 1, &r, &trap) == 0 && r == 0x2a);
    wasm_val st[2] = {i32v(5), i32v(77)}, five = i32v(5);
    CHECK(wasm_invoke(cons, wasm_instance_export_func(cons, "store"), st, 2, NULL, 0, &trap) == 0);
    CHECK(call_i32(prov, "load", &five, 1, &r, &trap) == 0 && r == 77);
    /* consumer's element segment put its function into the shared table */
    wasm_val slot1 = i32v(1), slot0 = i32v(0), slot3 = i32v(3);
    CHECK(call_i32(prov, "call_slot", &slot1, 1, &r, &trap) == 0 && r == 7);
    CHECK(call_i32(prov, "call_slot", &slot0, 1, &r, &trap) == 0 && r == 42);
    CHECK(call_i32(prov, "call_slot", &slot3, 1, &r, &trap) == WASM_TRAP_UNINIT_ELEMENT);
    wasm_val slot9 = i32v(9);
    CHECK(call_i32(prov, "call_slot", &slot9, 1, &r, &trap) == WASM_TRAP_UNDEFINED_ELEMENT);
    /* the mutable global is shared */
    CHECK(call_i32(prov, "bump", NULL, 0, &r, &trap) == 0 && r == 1);
    CHECK(call_i32(cons, "sum", NULL, 0, &r, &trap) == 0 && r == 43);

    /* a trap part-way through instantiation keeps the earlier segment's write */
    CHECK(wasm_instantiate(s, part, NULL, 0, NULL, &pi, &err) == -1);
    CHECK(err.kind == WASM_ERR_TRAP && strcmp(err.msg, "out of bounds memory access") == 0);
    wasm_val a200 = i32v(200);
    CHECK(call_i32(prov, "load", &a200, 1, &r, &trap) == 0 && r == 0x63);

    /* limits subtyping: the provider's memory has 1 page, the import wants at least 3 */
    CHECK(wasm_instantiate(s, bad, NULL, 0, NULL, &pi, &err) == -1);
    CHECK(err.kind == WASM_ERR_UNLINKABLE && strstr(err.msg, "incompatible import type"));
    /* explicit imports of the wrong kind or type */
    wasm_extern wrong = {WASM_EXTERN_GLOBAL, {.global = NULL}};
    CHECK(wasm_instantiate(s, bad, &wrong, 1, NULL, &pi, &err) == -1 && err.kind == WASM_ERR_UNLINKABLE);
    CHECK(wasm_instantiate(s, bad, &wrong, 2, NULL, &pi, &err) == -1 && err.kind == WASM_ERR_MISUSE);
    wasm_memory *m3 = wasm_memory_new(s, (wasm_limits){3, 0, false}, 0, &err);
    wasm_extern good = {WASM_EXTERN_MEMORY, {.memory = m3}};
    CHECK(wasm_instantiate(s, bad, &good, 1, NULL, &pi, &err) == 0);

    /* definitions of an unknown kind or without an object are refused */
    wasm_extern junk = {(wasm_externkind)7, {.memory = m3}};
    CHECK(wasm_store_define(s, "x", "y", junk, &err) == -1 && err.kind == WASM_ERR_MISUSE);
    junk.kind = WASM_EXTERN_MEMORY, junk.of.memory = NULL;
    CHECK(wasm_store_define(s, "x", "y", junk, &err) == -1 && err.kind == WASM_ERR_MISUSE);
    /* function type must match exactly; global mutability too */
    wasm_functype ft = {0, 1, NULL, (const wasm_valtype[]){WASM_I64}};
    wasm_func *wrongf = wasm_func_new_host(s, &ft, host_fail, NULL, &err);
    CHECK(wasm_store_define(s, "prov", "forty_two", (wasm_extern){WASM_EXTERN_FUNC, {.func = wrongf}}, &err) == 0);
    CHECK(wasm_instantiate(s, cm, NULL, 0, NULL, &cons, &err) == -1 && strstr(err.msg, "incompatible"));
    wasm_global *imm = wasm_global_new(s, (wasm_globaltype){WASM_I32, false}, i32v(0), &err);
    CHECK(wasm_store_register(s, "prov", prov, &err) == 0); /* restore the real function */
    CHECK(wasm_store_define(s, "prov", "counter", (wasm_extern){WASM_EXTERN_GLOBAL, {.global = imm}}, &err) == 0);
    CHECK(wasm_instantiate(s, cm, NULL, 0, NULL, &cons, &err) == -1 && strstr(err.msg, "incompatible"));

    /* a start function that traps */
    wasm_module *sm = load_named("start_trap");
    CHECK(wasm_instantiate(s, sm, NULL, 0, NULL, &pi, &err) == -1);
    CHECK(err.kind == WASM_ERR_TRAP && err.trap.kind == WASM_TRAP_UNREACHABLE);
    CHECK(strcmp(err.msg, "unreachable") == 0);

    wasm_store_free(s);
    wasm_module_free(pm), wasm_module_free(cm), wasm_module_free(part), wasm_module_free(bad);
    wasm_module_free(sm);
}

/* ------------------------------------------------------------------ translator cases */

static uint32_t call2(wasm_instance *inst, const char *name, uint32_t a, uint32_t b, size_t nargs,
                      int *rc)
{
    wasm_val args[2] = {i32v(a), i32v(b)}, r[1];
    wasm_trap trap;
    *rc = wasm_invoke(inst, wasm_instance_export_func(inst, name), args, nargs, r, 1, &trap);
    return r[0].of.i32;
}

static void test_translator(void)
{
    wasm_store *s = wasm_store_new();
    wasm_module *m = load_named("translator");
    wasm_instance *inst;
    wasm_error err;
    CHECK(wasm_instantiate(s, m, NULL, 0, NULL, &inst, &err) == 0);
    int rc;
    CHECK(call2(inst, "stale_local", 5, 0, 1, &rc) == 105 && rc == 0);
    CHECK(call2(inst, "stale_in_block", 5, 0, 1, &rc) == (uint32_t)-10 && rc == 0);
    CHECK(call2(inst, "tee_self", 5, 0, 1, &rc) == 20 && rc == 0);
    CHECK(call2(inst, "swap_sub", 3, 10, 2, &rc) == 7 && rc == 0);
    CHECK(call2(inst, "br_if_value", 1, 0, 1, &rc) == 1007 && call2(inst, "br_if_value", 0, 0, 1, &rc) == 1009);
    CHECK(call2(inst, "table", 0, 0, 1, &rc) == 13 && call2(inst, "table", 1, 0, 1, &rc) == 12);
    CHECK(call2(inst, "table", 2, 0, 1, &rc) == 10 && call2(inst, "table", 99, 0, 1, &rc) == 10);
    CHECK(call2(inst, "loop_params", 4, 0, 1, &rc) == 10 && call2(inst, "loop_params", 100, 0, 1, &rc) == 5050);
    CHECK(call2(inst, "if_params", 2, 5, 2, &rc) == (uint32_t)-3 && call2(inst, "if_params", 5, 2, 2, &rc) == 7);
    CHECK(call2(inst, "select_const", 3, 0, 1, &rc) == 11 && call2(inst, "select_const", 9, 0, 1, &rc) == 22);
    CHECK(call2(inst, "wrap", 0, 0, 0, &rc) == 77 && rc == 0);
    CHECK(call2(inst, "wrap_local", 0xFFFFFFF8u, 0, 1, &rc) == 78 && rc == 0);
    call2(inst, "oob_offset", 0x20, 0, 1, &rc);
    CHECK(rc == WASM_TRAP_MEMORY_OOB);
    CHECK(call2(inst, "rotate", 1, 0, 1, &rc) == 312 && call2(inst, "rotate", 2, 0, 1, &rc) == 231);
    CHECK(call2(inst, "rotate", 3, 0, 1, &rc) == 123);
    wasm_val l2[2] = {{.type = WASM_I64}, {.type = WASM_I64}}, r2[2];
    l2[0].of.i64 = 1, l2[1].of.i64 = 2;
    wasm_trap trap;
    CHECK(wasm_invoke(inst, wasm_instance_export_func(inst, "ret_swap"), l2, 2, r2, 2, &trap) == 0);
    CHECK(r2[0].of.i64 == 2 && r2[1].of.i64 == 1);
    wasm_val mem_args[2] = {i32v(100), i32v(3)};
    CHECK(wasm_invoke(inst, wasm_instance_export_func(inst, "mem"), mem_args, 2, r2, 1, &trap) == 0);
    CHECK(r2[0].of.i64 == 0x1122334455667788ull);
    CHECK(wasm_memory_data(wasm_instance_memory(inst))[103] == 0xAB);
    wasm_val z = {.type = WASM_I64};
    z.of.i64 = 0;
    CHECK(wasm_invoke(inst, wasm_instance_export_func(inst, "eqz64"), &z, 1, r2, 1, &trap) == 0 && r2[0].of.i32 == 0);
    z.of.i64 = 1ull << 40; /* zero in the low 32 bits: must not look like zero */
    CHECK(wasm_invoke(inst, wasm_instance_export_func(inst, "eqz64"), &z, 1, r2, 1, &trap) == 0 && r2[0].of.i32 == 1);
    wasm_store_free(s);
    wasm_module_free(m);
}

/* ------------------------------------------------------------------ introspection */

static void test_introspection(void)
{
    wasm_module *m = load_named("consumer");
    CHECK(wasm_module_import_count(m) == 4);
    const char *mod, *name;
    wasm_externtype t;
    CHECK(wasm_module_import(m, 0, &mod, &name, &t) == 0);
    CHECK(!strcmp(mod, "prov") && !strcmp(name, "mem") && t.kind == WASM_EXTERN_MEMORY && t.of.memory.min == 1);
    CHECK(wasm_module_import(m, 2, &mod, &name, &t) == 0 && t.kind == WASM_EXTERN_GLOBAL);
    CHECK(t.of.global.type == WASM_I32 && t.of.global.mutable_);
    CHECK(wasm_module_import(m, 3, &mod, &name, &t) == 0 && t.kind == WASM_EXTERN_FUNC);
    CHECK(t.of.func.nparams == 0 && t.of.func.nresults == 1 && t.of.func.results[0] == WASM_I32);
    CHECK(wasm_module_import(m, 4, &mod, &name, &t) == -1);
    CHECK(wasm_module_export_count(m) == 2);
    CHECK(wasm_module_export(m, 0, &name, &t) == 0 && !strcmp(name, "store") && t.kind == WASM_EXTERN_FUNC);
    CHECK(t.of.func.nparams == 2);
    CHECK(wasm_module_export(m, 2, &name, &t) == -1);
    wasm_module_free(m);
}

/* ------------------------------------------------------------------ load errors */

static int load_error(const uint8_t *bytes, size_t len, wasm_error *err)
{
    wasm_module *m = wasm_module_load(bytes, len, err);
    if (m) {
        wasm_module_free(m);
        return WASM_OK;
    }
    return err->kind;
}

#define HDR 0, 'a', 's', 'm', 1, 0, 0, 0

static void test_load_errors(void)
{
    wasm_error err;
    static const uint8_t empty_ok[] = {HDR};
    CHECK(load_error(empty_ok, sizeof empty_ok, &err) == WASM_OK);
    static const uint8_t magic[] = {0, 'a', 's', 'x', 1, 0, 0, 0};
    CHECK(load_error(magic, sizeof magic, &err) == WASM_ERR_MALFORMED);
    CHECK(!strcmp(err.msg, "magic header not detected") && err.offset == 0);
    static const uint8_t version[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
    CHECK(load_error(version, sizeof version, &err) == WASM_ERR_MALFORMED && !strcmp(err.msg, "unknown binary version"));
    CHECK(load_error(NULL, 0, &err) == WASM_ERR_MALFORMED);
    /* type section: count 1, 0x60, 1 param given with an overlong LEB (6 bytes) */
    static const uint8_t overlong[] = {HDR, 1, 9, 1, 0x60, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0};
    CHECK(load_error(overlong, sizeof overlong, &err) == WASM_ERR_MALFORMED);
    CHECK(!strcmp(err.msg, "integer representation too long") && err.offset > 8);
    /* unused bits set in the last byte of a u32 */
    static const uint8_t toolarge[] = {HDR, 1, 8, 1, 0x60, 0x80, 0x80, 0x80, 0x80, 0x70, 0};
    CHECK(load_error(toolarge, sizeof toolarge, &err) == WASM_ERR_MALFORMED && !strcmp(err.msg, "integer too large"));
    /* section longer than the file */
    static const uint8_t sec_len[] = {HDR, 1, 20, 0};
    CHECK(load_error(sec_len, sizeof sec_len, &err) == WASM_ERR_MALFORMED);
    /* function returning i32 whose body is empty: invalid, with the body's offset */
    static const uint8_t mismatch[] = {HDR, 1, 5, 1, 0x60, 0, 1, 0x7F, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0B};
    CHECK(load_error(mismatch, sizeof mismatch, &err) == WASM_ERR_INVALID);
    CHECK(!strcmp(err.msg, "type mismatch") && err.offset == sizeof mismatch - 1);
    /* SIMD: v128 types load; bad SIMD code is reported with the spec's kind and message */
    static const uint8_t simd[] = {HDR, 1, 5, 1, 0x60, 0, 1, 0x7B};
    CHECK(load_error(simd, sizeof simd, &err) == WASM_OK);
    static const uint8_t simd_cut[] = {HDR, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 6, 1, 4, 0, 0xFD, 0x0C, 0x0B};
    CHECK(load_error(simd_cut, sizeof simd_cut, &err) == WASM_ERR_MALFORMED);
    static const uint8_t simd_hole[] = {HDR, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 7, 1, 5, 0, 0xFD, 0x9A, 0x01, 0x0B};
    CHECK(load_error(simd_hole, sizeof simd_hole, &err) == WASM_ERR_MALFORMED && !strcmp(err.msg, "illegal opcode"));
    /* () -> i32: i32.const 0, i8x16.splat, i8x16.extract_lane_u 16 */
    static const uint8_t simd_lane[] = {HDR, 1, 5, 1, 0x60, 0, 1, 0x7F, 3, 2, 1, 0,
                                        10, 11, 1, 9, 0, 0x41, 0, 0xFD, 15, 0xFD, 22, 16, 0x0B};
    CHECK(load_error(simd_lane, sizeof simd_lane, &err) == WASM_ERR_INVALID && !strcmp(err.msg, "invalid lane index"));
    CHECK(err.offset == sizeof simd_lane - 4); /* at the extract_lane instruction */
    static const uint8_t simd_type[] = {HDR, 1, 5, 1, 0x60, 0, 1, 0x7F, 3, 2, 1, 0,
                                        10, 10, 1, 8, 0, 0x41, 0, 0xFD, 15, 0xFD, 15, 0x0B};
    CHECK(load_error(simd_type, sizeof simd_type, &err) == WASM_ERR_INVALID && !strcmp(err.msg, "type mismatch"));
    /* After a validation error (i32.add on an empty stack) the rest is only decoded: every SIMD
     * immediate must be skipped exactly, or a byte 0x0B in one (lane 11, constant bytes) would
     * be taken for `end` and the body reported malformed */
    static const uint8_t simd_skim[] = {HDR, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 31, 1, 29, 0, 0x6A,
                                        0xFD, 84, 0, 0, 0x0B, /* v128.load8_lane, lane 11 */
                                        0xFD, 12, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B,
                                        0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, /* v128.const */
                                        0xFD, 21, 0x0B, /* i8x16.extract_lane_s 11 */ 0x0B};
    CHECK(load_error(simd_skim, sizeof simd_skim, &err) == WASM_ERR_INVALID && !strcmp(err.msg, "type mismatch"));
    uint8_t simd_skim_bad[sizeof simd_skim];
    memcpy(simd_skim_bad, simd_skim, sizeof simd_skim);
    simd_skim_bad[sizeof simd_skim - 3] = 0x9A; /* an opcode that does not exist, after the error */
    simd_skim_bad[sizeof simd_skim - 2] = 0x01;
    CHECK(load_error(simd_skim_bad, sizeof simd_skim_bad, &err) == WASM_ERR_MALFORMED && !strcmp(err.msg, "illegal opcode"));
    /* too many locals (2^32-1 declared) */
    static const uint8_t locals[] = {HDR, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
                                     10, 10, 1, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B};
    CHECK(load_error(locals, sizeof locals, &err) == WASM_ERR_MALFORMED && !strcmp(err.msg, "too many locals"));
    /* a count far larger than the bytes left is refused before any allocation */
    static const uint8_t huge[] = {HDR, 1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x60};
    CHECK(load_error(huge, sizeof huge, &err) == WASM_ERR_MALFORMED);
    /* bad UTF-8 in an export name */
    static const uint8_t utf8[] = {HDR, 7, 5, 1, 2, 0xC0, 0x80, 0};
    CHECK(load_error(utf8, sizeof utf8, &err) == WASM_ERR_MALFORMED && !strcmp(err.msg, "malformed UTF-8 encoding"));
    /* sections out of order */
    static const uint8_t order[] = {HDR, 3, 1, 0, 1, 1, 0};
    CHECK(load_error(order, sizeof order, &err) == WASM_ERR_MALFORMED);
}

/* Nesting far beyond the cap: refused with a limit error instead of recursing or exhausting. */
static wasm_val v128v(uint64_t lo, uint64_t hi)
{
    wasm_val x = {.type = WASM_V128};
    memcpy(x.of.v128, &lo, 8);
    memcpy(x.of.v128 + 8, &hi, 8);
    return x;
}

static bool is_v128(const wasm_val *v, uint64_t lo, uint64_t hi)
{
    wasm_val want = v128v(lo, hi);
    return v->type == WASM_V128 && memcmp(v->of.v128, want.of.v128, 16) == 0;
}

/* (i32 x, v128 v, i64 y) -> (v128 with its halves swapped, i32 x + y) */
static int host_vswap(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)caller, (void)user;
    results[0].type = WASM_V128;
    memcpy(results[0].of.v128, args[1].of.v128 + 8, 8);
    memcpy(results[0].of.v128 + 8, args[1].of.v128, 8);
    results[1] = i32v(args[0].of.i32 + (uint32_t)args[2].of.i64);
    return 0;
}

static int invoke(wasm_instance *inst, const char *name, const wasm_val *args, size_t n,
                  wasm_val *res, size_t nres)
{
    wasm_trap trap;
    return wasm_invoke(inst, wasm_instance_export_func(inst, name), args, n, res, nres, &trap);
}

static void test_simd_values(void)
{
    wasm_store *s = wasm_store_new();
    wasm_module *m = load_named("simd");
    wasm_error err;
    static const wasm_valtype vp[] = {WASM_I32, WASM_V128, WASM_I64}, vr[] = {WASM_V128, WASM_I32};
    wasm_functype vt = {3, 2, vp, vr};
    wasm_extern imp = {WASM_EXTERN_FUNC, {.func = wasm_func_new_host(s, &vt, host_vswap, NULL, &err)}};
    wasm_instance *inst = NULL;
    CHECK(m && wasm_instantiate(s, m, &imp, 1, NULL, &inst, &err) == 0);
    if (!inst) {
        wasm_store_free(s), wasm_module_free(m);
        return;
    }
    wasm_val res[2];
    wasm_val f64v = {.type = WASM_F64};
    double d = 40.0;
    memcpy(&f64v.of.f64, &d, 8);
    wasm_val mix[4] = {i32v(2), v128v(0x0000000200000005ull, 0x0000000400000003ull), f64v,
                       v128v(0x0000000000000010ull, 0xFFFFFFFFFFFFFFFFull)};
    CHECK(invoke(inst, "mix", mix, 4, res, 2) == 0 && is_v128(&res[0], 0x0000000200000015ull, 0x0000000400000003ull));
    CHECK(res[1].type == WASM_I32 && res[1].of.i32 == 42);
    CHECK(invoke(inst, "mix_indirect", mix, 4, res, 2) == 0 && is_v128(&res[0], 0x0000000200000015ull, 0x0000000400000003ull));
    CHECK(res[1].of.i32 == 42);
    wasm_val hv[3] = {i32v(5), v128v(1, 2), {.type = WASM_I64, .of.i64 = 37}};
    CHECK(invoke(inst, "host", hv, 3, res, 2) == 0 && is_v128(&res[0], 2, 1) && res[1].of.i32 == 42);
    /* the same host function called directly, without an instance */
    CHECK(wasm_invoke(NULL, imp.of.func, hv, 3, res, 2, NULL) == 0 && is_v128(&res[0], 2, 1));
    wasm_val n[1] = {i32v(1000)};
    CHECK(invoke(inst, "count", n, 1, res, 1) == 0 && is_v128(&res[0], 1000ull << 32, 0));
    wasm_val pk[3] = {i32v(1), v128v(1, 2), v128v(3, 4)};
    CHECK(invoke(inst, "pick", pk, 3, res, 1) == 0 && is_v128(&res[0], 1, 2));
    pk[0] = i32v(0);
    CHECK(invoke(inst, "pick", pk, 3, res, 1) == 0 && is_v128(&res[0], 3, 4));
    CHECK(invoke(inst, "pick_typed", pk, 3, res, 1) == 0 && is_v128(&res[0], 3, 4));
    wasm_val br[2] = {i32v(1), v128v(8, 9)};
    CHECK(invoke(inst, "branch", br, 2, res, 2) == 0 && is_v128(&res[0], 8, 9) && res[1].of.i32 == 1);
    br[0] = i32v(0);
    CHECK(invoke(inst, "branch", br, 2, res, 2) == 0 && is_v128(&res[0], 5, 6) && res[1].of.i32 == 2);
    for (uint32_t i = 0; i < 4; i++) {
        wasm_val ti[1] = {i32v(i)};
        uint64_t lane0 = 100 + (i < 2 ? i : 2);
        CHECK(invoke(inst, "table", ti, 1, res, 1) == 0 && is_v128(&res[0], 11ull << 32 | lane0, 13ull << 32 | 12));
    }
    CHECK(invoke(inst, "globals", NULL, 0, res, 1) == 0 && is_v128(&res[0], 2ull << 32 | 1, 7));
    wasm_extern g;
    CHECK(wasm_instance_export(inst, "g", &g) == 0 && g.kind == WASM_EXTERN_GLOBAL);
    wasm_val gv;
    wasm_global_get(g.of.global, &gv);
    CHECK(is_v128(&gv, 2ull << 32 | 1, 7));
    wasm_val set = v128v(0x1122334455667788ull, 0x99AABBCCDDEEFF00ull), wrong = i32v(1);
    CHECK(wasm_global_set(g.of.global, &set, &err) == 0);
    CHECK(wasm_global_set(g.of.global, &wrong, &err) < 0 && err.kind == WASM_ERR_MISUSE);
    wasm_global_get(g.of.global, &gv);
    CHECK(is_v128(&gv, 0x1122334455667788ull, 0x99AABBCCDDEEFF00ull));
    wasm_val rt[2] = {i32v(65536 - 19), set};
    CHECK(invoke(inst, "roundtrip", rt, 2, res, 1) == 0 && is_v128(&res[0], 0x1122334455667788ull, 0x99AABBCCDDEEFF00ull));
    rt[0] = i32v(65536 - 18); /* one byte past the end */
    CHECK(invoke(inst, "roundtrip", rt, 2, res, 1) == WASM_TRAP_MEMORY_OOB);
    wasm_val sh[2] = {v128v(0x0706050403020100ull, 0x0F0E0D0C0B0A0908ull), v128v(0x1716151413121110ull, 0x1F1E1D1C1B1A1918ull)};
    CHECK(invoke(inst, "shuffle", sh, 2, res, 1) == 0 && is_v128(&res[0], 0x031C021D011E001Full, 0x07180619051A041Bull));
    wasm_val lv[1] = {v128v(77, 88)};
    CHECK(invoke(inst, "live_across_call", lv, 1, res, 1) == 0 && is_v128(&res[0], 77, 88));
    /* a v128 argument of the wrong type is misuse, not a crash */
    wasm_val bad[2] = {i32v(1), i32v(2)};
    CHECK(invoke(inst, "shuffle", bad, 2, res, 1) < 0);
    wasm_store_free(s);
    wasm_module_free(m);
}

static void test_hostile_nesting(void)
{
    size_t depth = 20000, n = 0;
    uint8_t *b = malloc(64 + 3 * depth);
    static const uint8_t head[] = {HDR, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0};
    memcpy(b, head, sizeof head);
    n = sizeof head;
    size_t body = 1 + 2 * depth + depth + 1; /* locals count, blocks, ends, final end */
    size_t code = 1 + 3 + body;               /* count + size LEB (3 bytes) + body */
    b[n++] = 10;
    b[n++] = (uint8_t)(0x80 | (code & 0x7F)), b[n++] = (uint8_t)(0x80 | ((code >> 7) & 0x7F)), b[n++] = (uint8_t)(code >> 14);
    b[n++] = 1;
    b[n++] = (uint8_t)(0x80 | (body & 0x7F)), b[n++] = (uint8_t)(0x80 | ((body >> 7) & 0x7F)), b[n++] = (uint8_t)(body >> 14);
    b[n++] = 0;
    for (size_t i = 0; i < depth; i++)
        b[n++] = 0x02, b[n++] = 0x40;
    for (size_t i = 0; i <= depth; i++)
        b[n++] = 0x0B;
    wasm_error err;
    CHECK(load_error(b, n, &err) == WASM_ERR_LIMIT);
    free(b);
}

/* Appends an unsigned LEB128. */
static size_t put_leb(uint8_t *b, size_t n, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7F;
        v >>= 7;
        b[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    return n;
}

/* A br_table whose 100,000 labels each need 1,000 values moved: translation would produce
 * hundreds of millions of cells; the engine stops with a limit error instead. */
static void test_hostile_br_table(void)
{
    enum { VALUES = 1000, LABELS = 100000 };
    uint8_t *body = malloc(16 + 2 * VALUES + 6 * LABELS + 2 * VALUES), *b = malloc(64 + 20 + 16 + 2 * VALUES + 6 * LABELS + 2 * VALUES + 64);
    size_t n = 0;
    body[n++] = 0;                          /* no locals */
    body[n++] = 0x02, body[n++] = 0x01;     /* block (type 1): [] -> [i32 x VALUES] */
    for (int i = 0; i < VALUES; i++)
        body[n++] = 0x41, body[n++] = 0x00; /* i32.const 0 */
    body[n++] = 0x41, body[n++] = 0x00;     /* the index */
    body[n++] = 0x0E;
    n = put_leb(body, n, LABELS);
    for (int i = 0; i <= LABELS; i++)
        body[n++] = 0x00;
    body[n++] = 0x0B;                       /* end of block */
    for (int i = 0; i < VALUES; i++)
        body[n++] = 0x1A;                   /* drop */
    body[n++] = 0x0B;
    static const uint8_t head[] = {HDR};
    size_t m = sizeof head;
    memcpy(b, head, m);
    /* type section: () -> () and () -> (i32 x VALUES) */
    uint8_t types[8 + VALUES];
    size_t t = 0;
    types[t++] = 2, types[t++] = 0x60, types[t++] = 0, types[t++] = 0, types[t++] = 0x60, types[t++] = 0;
    t = put_leb(types, t, VALUES);
    for (int i = 0; i < VALUES; i++)
        types[t++] = 0x7F;
    b[m++] = 1;
    m = put_leb(b, m, (uint32_t)t);
    memcpy(b + m, types, t), m += t;
    static const uint8_t funcs[] = {3, 2, 1, 0};
    memcpy(b + m, funcs, sizeof funcs), m += sizeof funcs;
    uint8_t size_leb[8];
    size_t sl = put_leb(size_leb, 0, (uint32_t)n);
    b[m++] = 10;
    m = put_leb(b, m, (uint32_t)(1 + sl + n));
    b[m++] = 1;
    memcpy(b + m, size_leb, sl), m += sl;
    memcpy(b + m, body, n), m += n;
    wasm_error err;
    CHECK(load_error(b, m, &err) == WASM_ERR_LIMIT && strstr(err.msg, "too large to translate"));
    free(body);
    free(b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s WASM_DIR\n", argv[0]);
        return 2;
    }
    wasm_dir = argv[1];
    test_host_calls();
    test_reentrancy();
    test_traps();
    test_limits();
    test_fuel();
    test_interrupt();
    test_values_and_misuse();
    test_linking();
    test_translator();
    test_introspection();
    test_load_errors();
    test_simd_values();
    test_hostile_nesting();
    test_hostile_br_table();
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
