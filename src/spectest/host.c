/* host.c - the `spectest` host module every spec script may import from. */
#include "spectest/spectest.h"

#include <string.h>

/* The print functions exist to be imported and called; the reference interpreter prints their
 * arguments, which only clutters a driver's output, so they do nothing. */
static int print_nothing(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)caller, (void)user, (void)args, (void)results;
    return 0;
}

static int define_print(wasm_store *s, const char *name, const wasm_valtype *params,
                        uint32_t nparams, wasm_error *err)
{
    wasm_functype type = {.nparams = nparams, .nresults = 0, .params = params, .results = NULL};
    wasm_func *f = wasm_func_new_host(s, &type, print_nothing, NULL, err);
    if (!f)
        return -1;
    return wasm_store_define(s, "spectest", name, (wasm_extern){.kind = WASM_EXTERN_FUNC, .of.func = f},
                             err);
}

static int define_global(wasm_store *s, const char *name, wasm_val v, wasm_error *err)
{
    wasm_global *g = wasm_global_new(s, (wasm_globaltype){.type = v.type, .mutable_ = false}, v, err);
    if (!g)
        return -1;
    return wasm_store_define(s, "spectest", name,
                             (wasm_extern){.kind = WASM_EXTERN_GLOBAL, .of.global = g}, err);
}

static int define_prints(wasm_store *s, wasm_error *err)
{
    static const wasm_valtype i32[] = {WASM_I32}, i64[] = {WASM_I64}, f32[] = {WASM_F32},
                              f64[] = {WASM_F64}, i32_f32[] = {WASM_I32, WASM_F32},
                              f64_f64[] = {WASM_F64, WASM_F64};
    if (define_print(s, "print", NULL, 0, err) || define_print(s, "print_i32", i32, 1, err) ||
        define_print(s, "print_i64", i64, 1, err) || define_print(s, "print_f32", f32, 1, err) ||
        define_print(s, "print_f64", f64, 1, err) ||
        define_print(s, "print_i32_f32", i32_f32, 2, err) ||
        define_print(s, "print_f64_f64", f64_f64, 2, err))
        return -1;
    return 0;
}

static int define_globals(wasm_store *s, wasm_error *err)
{
    float f32 = 666.6f;
    double f64 = 666.6;
    wasm_val v32 = {.type = WASM_F32}, v64 = {.type = WASM_F64};
    memcpy(&v32.of.f32, &f32, sizeof f32);
    memcpy(&v64.of.f64, &f64, sizeof f64);
    if (define_global(s, "global_i32", (wasm_val){.type = WASM_I32, .of.i32 = 666}, err) ||
        define_global(s, "global_i64", (wasm_val){.type = WASM_I64, .of.i64 = 666}, err) ||
        define_global(s, "global_f32", v32, err) || define_global(s, "global_f64", v64, err))
        return -1;
    return 0;
}

int spectest_host_define(wasm_store *s, wasm_error *err)
{
    if (define_prints(s, err) || define_globals(s, err))
        return -1;
    wasm_tabletype tt = {.elem = WASM_FUNCREF, .limits = {.min = 10, .max = 20, .has_max = true}};
    wasm_table *t = wasm_table_new(s, tt, (wasm_val){.type = WASM_FUNCREF, .of.funcref = NULL}, err);
    if (!t || wasm_store_define(s, "spectest", "table",
                                (wasm_extern){.kind = WASM_EXTERN_TABLE, .of.table = t}, err))
        return -1;
    wasm_memory *m = wasm_memory_new(s, (wasm_limits){.min = 1, .max = 2, .has_max = true}, 0, err);
    if (!m || wasm_store_define(s, "spectest", "memory",
                                (wasm_extern){.kind = WASM_EXTERN_MEMORY, .of.memory = m}, err))
        return -1;
    return 0;
}
