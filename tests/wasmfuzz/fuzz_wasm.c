/* fuzz_wasm.c - fuzz entry points for the Wasm engine (see fuzz_wasm.h).
 * Every engine result is accepted as long as it is one the API documents; contradictions (a
 * failure without a message, an index the module reported refused...) abort so the fuzzer
 * reports them. Crashes and sanitizer reports inside the engine are the main catch. */
#include "fuzz_wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

/* Small limits keep each input fast and bounded in memory. */
#define FUZZ_MAX_PAGES 16
#define FUZZ_MAX_TABLE 1000
#define FUZZ_FUEL 20000
#define FUZZ_MAX_VALUES 256

static void require(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_wasm: contract violated: %s\n", what);
        abort();
    }
}

static void check_error(const wasm_error *err)
{
    require(err->kind != WASM_OK, "failure reported with kind WASM_OK");
    require(memchr(err->msg, '\0', sizeof err->msg) != NULL, "error message not terminated");
    require(err->msg[0] != '\0', "failure without a message");
}

static void walk_module(const wasm_module *m)
{
    uint32_t n = wasm_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *mod, *name;
        wasm_externtype t;
        require(wasm_module_import(m, i, &mod, &name, &t) == 0, "import index in range refused");
        require(mod && name, "import without names");
    }
    n = wasm_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *name;
        wasm_externtype t;
        require(wasm_module_export(m, i, &name, &t) == 0, "export index in range refused");
        require(name != NULL, "export without a name");
    }
}

int fuzz_wasm_load_one(const uint8_t *data, size_t size)
{
    wasm_error err;
    wasm_module *m = wasm_module_load(data, size, &err);
    if (!m) {
        check_error(&err);
        return 0;
    }
    walk_module(m);
    wasm_module_free(m);
    return 1;
}

static wasm_val zero_of(wasm_valtype t)
{
    wasm_val v;
    memset(&v, 0, sizeof v);
    v.type = t;
    return v;
}

/* Stub import function: returns zeros of its declared result types. `user` is its type, whose
 * arrays belong to the module (which outlives the store). */
static int stub_fn(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    const wasm_functype *t = user;
    (void)caller, (void)args;
    for (uint32_t i = 0; i < t->nresults; i++)
        results[i] = zero_of(t->results[i]);
    return 0;
}

/* Creates a stub for import `i`. Returns -1 when the module asks for more than the fuzz limits
 * allow (the input is then simply not run). */
static int make_stub(wasm_store *s, const wasm_module *m, uint32_t i, wasm_functype *ftype,
                     wasm_extern *out)
{
    const char *mod, *name;
    wasm_externtype t;
    wasm_error err;
    if (wasm_module_import(m, i, &mod, &name, &t) != 0)
        return -1;
    out->kind = t.kind;
    switch (t.kind) {
    case WASM_EXTERN_FUNC:
        *ftype = t.of.func;
        out->of.func = wasm_func_new_host(s, ftype, stub_fn, ftype, &err);
        return out->of.func ? 0 : -1;
    case WASM_EXTERN_TABLE:
        if (t.of.table.limits.min > FUZZ_MAX_TABLE)
            return -1;
        out->of.table = wasm_table_new(s, t.of.table, zero_of(t.of.table.elem), &err);
        return out->of.table ? 0 : -1;
    case WASM_EXTERN_MEMORY:
        if (t.of.memory.min > FUZZ_MAX_PAGES)
            return -1;
        out->of.memory = wasm_memory_new(s, t.of.memory, FUZZ_MAX_PAGES, &err);
        return out->of.memory ? 0 : -1;
    case WASM_EXTERN_GLOBAL:
        out->of.global = wasm_global_new(s, t.of.global, zero_of(t.of.global.type), &err);
        return out->of.global ? 0 : -1;
    }
    return -1;
}

static int call_exports(wasm_instance *inst, const wasm_module *m)
{
    int calls = 0;
    wasm_val args[FUZZ_MAX_VALUES], results[FUZZ_MAX_VALUES];
    uint32_t n = wasm_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *name;
        wasm_externtype t;
        wasm_extern ext;
        if (wasm_module_export(m, i, &name, &t) != 0 || t.kind != WASM_EXTERN_FUNC)
            continue;
        /* A name with an embedded NUL finds another export or none: harmless for fuzzing. */
        if (wasm_instance_export(inst, name, &ext) != 0 || ext.kind != WASM_EXTERN_FUNC)
            continue;
        const wasm_functype *ft = wasm_func_type(ext.of.func);
        if (ft->nparams > FUZZ_MAX_VALUES || ft->nresults > FUZZ_MAX_VALUES)
            continue;
        for (uint32_t k = 0; k < ft->nparams; k++)
            args[k] = zero_of(ft->params[k]);
        wasm_instance_set_fuel(inst, FUZZ_FUEL);
        wasm_trap trap;
        int rc = wasm_invoke(inst, ext.of.func, args, ft->nparams, results, ft->nresults, &trap);
        calls++;
        require(rc >= 0, "invoke with matching arguments refused");
        if (rc > 0)
            require(trap.kind == (wasm_trapkind)rc && trap.msg[0], "trap without kind or message");
        for (uint32_t k = 0; rc == 0 && k < ft->nresults; k++)
            require(results[k].type == ft->results[k], "result of the wrong type");
    }
    return calls;
}

int fuzz_wasm_run_one(const uint8_t *data, size_t size)
{
    wasm_error err;
    wasm_module *m = wasm_module_load(data, size, &err);
    if (!m) {
        check_error(&err);
        return -1;
    }
    int calls = -1;
    wasm_store *s = wasm_store_new();
    uint32_t nimports = wasm_module_import_count(m);
    wasm_extern *imports = calloc(nimports ? nimports : 1, sizeof *imports);
    wasm_functype *ftypes = calloc(nimports ? nimports : 1, sizeof *ftypes);
    int ok = s && imports && ftypes;
    for (uint32_t i = 0; ok && i < nimports; i++)
        ok = make_stub(s, m, i, &ftypes[i], &imports[i]) == 0;
    if (ok) {
        wasm_config cfg;
        wasm_config_default(&cfg);
        cfg.max_memory_pages = FUZZ_MAX_PAGES;
        cfg.max_table_elems = FUZZ_MAX_TABLE;
        cfg.max_call_depth = 500;
        cfg.max_stack_bytes = 1u << 20;
        cfg.fuel = FUZZ_FUEL; /* also bounds the start function */
        wasm_instance *inst;
        if (wasm_instantiate(s, m, imports, nimports, &cfg, &inst, &err) == 0)
            calls = call_exports(inst, m);
        else
            check_error(&err);
    }
    wasm_store_free(s);
    free(imports);
    free(ftypes);
    wasm_module_free(m);
    return calls;
}
