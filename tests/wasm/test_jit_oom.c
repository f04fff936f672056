/* test_jit_oom.c - out of memory during a lazy compile (the compiled tier compiles a function at
 * its first call, src/wasm/jit/module.c). Linked with -Wl,--wrap for malloc, calloc and realloc,
 * so that the test can fail the k-th allocation made during one call, for every k in turn (as
 * SQLite's OOM tests do). Each time the call must either succeed with the right result (a failure
 * the compiler can absorb: a function that only filled the page is left out) or stop with the
 * trap "compile failed: function N: out of memory" and nothing else; and the same instance must
 * then run the call to the interpreter's result and fuel, since a failed compile publishes
 * nothing and keeps nothing half-made. */
#include "check.h"
#include "wasm/wasm.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

/* The allocation to fail: the countdown-th from when it is armed (-1: none). Test-program state,
 * not the library's. */
static long countdown = -1;
static bool failed_one;

static bool fail_now(void)
{
    if (countdown < 0)
        return false;
    if (countdown-- > 0)
        return false;
    failed_one = true;
    return true;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }

#define FUEL 1000000

static int compile_traps, absorbed;

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 16);
    *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
    fclose(f);
    return buf;
}

typedef struct run {
    wasm_store *store;
    wasm_instance *inst;
} run;

static int start(wasm_module *m, wasm_engine engine, run *r)
{
    wasm_error err;
    wasm_config cfg;
    wasm_config_default(&cfg);
    cfg.engine = engine;
    cfg.fuel = FUEL;
    r->store = wasm_store_new();
    if (!r->store || wasm_instantiate(r->store, m, NULL, 0, &cfg, &r->inst, &err) != 0) {
        fprintf(stderr, "instantiate: %s\n", r->store ? err.msg : "no store");
        return -1;
    }
    return 0;
}

static int call(run *r, uint32_t n, wasm_val *res, wasm_trap *trap)
{
    wasm_val arg = {.type = WASM_I32};
    arg.of.i32 = n;
    memset(trap, 0, sizeof *trap);
    return wasm_invoke(r->inst, wasm_instance_export_func(r->inst, "run"), &arg, 1, res, 1, trap);
}

/* Fails the k-th allocation of the first call; returns whether an allocation was failed (false:
 * k is past the last one, so every allocation has been tried). */
static bool try_failing(const uint8_t *bytes, size_t len, long k, uint32_t want, uint64_t want_fuel)
{
    wasm_error err;
    wasm_module *m = wasm_module_load(bytes, len, &err);
    run r = {0};
    if (!m || start(m, WASM_ENGINE_COMPILED, &r) != 0) {
        CHECK(!"module loads and instantiates");
        return false;
    }
    wasm_val res = {0};
    wasm_trap trap;
    failed_one = false;
    countdown = k;
    int rc = call(&r, 300, &res, &trap);
    countdown = -1;
    bool failed = failed_one;
    if (rc == 0) {
        absorbed += failed;
        CHECK(res.of.i32 == want);
    } else {
        /* the call's own value stack (rc -1, as on the interpreter), or a compile */
        bool stack = rc == -1 && strcmp(trap.msg, "out of memory for the value stack") == 0;
        bool compile = rc == WASM_TRAP_COMPILE_FAILED && trap.kind == WASM_TRAP_COMPILE_FAILED &&
                       strncmp(trap.msg, "compile failed: function ", 25) == 0 &&
                       strstr(trap.msg, ": out of memory") != NULL;
        compile_traps += compile;
        checks++;
        if (!failed || !(stack || compile)) {
            failures++;
            fprintf(stderr, "allocation %ld failed: rc %d, trap %d \"%s\"\n", k, rc, trap.kind,
                    trap.msg);
        }
        /* the same instance, now with memory: the interpreter's answer, for the same fuel */
        uint64_t before = wasm_instance_fuel(r.inst);
        rc = call(&r, 300, &res, &trap);
        CHECK(rc == 0 && res.of.i32 == want && before - wasm_instance_fuel(r.inst) == want_fuel);
    }
    wasm_store_free(r.store);
    wasm_module_free(m);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s JIT_OOM_WASM\n", argv[0]);
        return 2;
    }
    size_t len;
    uint8_t *bytes = read_all(argv[1], &len);
    if (!bytes || len == 0) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    if (!wasm_engine_available(WASM_ENGINE_COMPILED)) {
        printf("compiled tier not available: nothing to test\n");
        free(bytes);
        return 0;
    }
    /* the reference: the interpreter's result and fuel left */
    wasm_error err;
    wasm_module *m = wasm_module_load(bytes, len, &err);
    run r = {0};
    wasm_val res = {0};
    wasm_trap trap;
    if (!m || start(m, WASM_ENGINE_INTERPRETER, &r) != 0 || call(&r, 300, &res, &trap) != 0) {
        fprintf(stderr, "the interpreter cannot run the module\n");
        return 2;
    }
    uint32_t want = res.of.i32;
    uint64_t want_fuel = FUEL - wasm_instance_fuel(r.inst); /* fuel used */
    wasm_store_free(r.store);
    wasm_module_free(m);

    long k = 0;
    while (k < 100000 && try_failing(bytes, len, k, want, want_fuel))
        k++;
    CHECK(k >= 5 && k < 100000); /* the first call allocates a few times, and not forever */
    /* both outcomes of a compile without memory: the called function's (a trap), and the page
     * fill's (the function left out, compiled at its own first call) */
    CHECK(compile_traps >= 2 && absorbed >= 2);
    printf("jit oom: each of the %ld allocations of a first call failed in turn (%d trapped in the "
           "compile, %d absorbed); %d checks, %d failures\n", k, compile_traps, absorbed, checks,
           failures);
    free(bytes);
    return failures ? 1 : 0;
}
