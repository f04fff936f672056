/* diff_wasm.c - differential testing of the interpreter and the compiled tier (diff_wasm.h).
 *
 * Each tier's run is written down as a transcript, one line per observable event, and the two
 * transcripts must be equal byte for byte, NaN payloads included (compare()). Values are compared
 * as bit patterns. Only funcref results are compared by null-ness, since function handles belong
 * to each tier's own store. */
#include "diff_wasm.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

/* Small limits keep each input fast and bounded (the same as tests/wasmfuzz). */
#define DIFF_MAX_PAGES 16
#define DIFF_MAX_TABLE 1000
#define DIFF_FUEL 20000
#define DIFF_MAX_VALUES 64
#define DIFF_ARG_ROUNDS 3
#define DIFF_MAX_TRANSCRIPT (4u << 20) /* a longer one is cut (and the cut itself compared) */

/* ---------------------------------------------------------------- transcripts */

typedef struct transcript {
    char *text;
    size_t len, cap;
    bool cut;
} transcript;

__attribute__((format(printf, 2, 3))) static void note(transcript *tr, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || tr->cut)
        return;
    size_t add = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (tr->len + add + 2 > DIFF_MAX_TRANSCRIPT) {
        tr->cut = true;
        return;
    }
    if (tr->len + add + 2 > tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 4096;
        while (cap < tr->len + add + 2)
            cap *= 2;
        char *p = realloc(tr->text, cap);
        if (!p) {
            fprintf(stderr, "wasmdiff: out of memory\n");
            abort();
        }
        tr->text = p;
        tr->cap = cap;
    }
    memcpy(tr->text + tr->len, line, add);
    tr->len += add;
    tr->text[tr->len++] = '\n';
    tr->text[tr->len] = '\0';
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* A value as text: its type and bit pattern. */
static void value_text(const wasm_val *v, char *out, size_t cap)
{
    switch (v->type) {
    case WASM_I32: snprintf(out, cap, "i32:%08x", v->of.i32); break;
    case WASM_F32: snprintf(out, cap, "f32:%08x", v->of.f32); break;
    case WASM_I64: snprintf(out, cap, "i64:%016llx", (unsigned long long)v->of.i64); break;
    case WASM_F64: snprintf(out, cap, "f64:%016llx", (unsigned long long)v->of.f64); break;
    case WASM_V128: {
        int n = snprintf(out, cap, "v128:");
        for (int i = 0; i < 16 && n > 0 && (size_t)n + 3 < cap; i++)
            n += snprintf(out + n, cap - (size_t)n, "%02x", v->of.v128[i]);
        break;
    }
    case WASM_FUNCREF: snprintf(out, cap, "funcref:%s", v->of.funcref ? "func" : "null"); break;
    case WASM_EXTERNREF: snprintf(out, cap, "externref:%p", v->of.externref); break;
    default: snprintf(out, cap, "type-%d", (int)v->type); break;
    }
}

static void values_text(const wasm_val *v, uint32_t n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < n && used + 48 < cap; i++) {
        char one[48];
        value_text(&v[i], one, sizeof one);
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? " " : "", one);
    }
}

/* ---------------------------------------------------------------- deterministic values */

/* Argument round r, parameter k: zeros first, then edge values of each type. */
static wasm_val arg_value(wasm_valtype t, uint32_t round, uint32_t k)
{
    static const uint32_t i32s[] = {0, 1, 0xFFFFFFFFu, 0x80000000u, 0x7FFFFFFFu, 65536, 3, 0xFFF0};
    static const uint64_t i64s[] = {0, 1, ~0ull, 1ull << 63, (1ull << 63) - 1, 1ull << 32, 7, 0xFFF8};
    static const uint32_t f32s[] = {0, 0x3F800000u, 0x80000000u, 0x7FC00000u, 0x7F800000u,
                                    0xCF000000u, 0x4F000000u, 0x7FA00001u};
    static const uint64_t f64s[] = {0, 0x3FF0000000000000ull, 1ull << 63, 0x7FF8000000000000ull,
                                    0x7FF0000000000000ull, 0xC1E0000000000000ull,
                                    0x43E0000000000000ull, 0x7FF4000000000001ull};
    uint32_t i = round == 0 ? 0 : (round * 3 + k) % 8;
    wasm_val v;
    memset(&v, 0, sizeof v);
    v.type = t;
    switch (t) {
    case WASM_I32: v.of.i32 = i32s[i]; break;
    case WASM_I64: v.of.i64 = i64s[i]; break;
    case WASM_F32: v.of.f32 = f32s[i]; break;
    case WASM_F64: v.of.f64 = f64s[i]; break;
    case WASM_V128:
        for (int b = 0; b < 16; b++)
            v.of.v128[b] = round == 0 ? 0 : (uint8_t)(i32s[i] >> (8 * (b % 4))) ^ (uint8_t)(b * 17);
        break;
    case WASM_EXTERNREF: v.of.externref = round == 0 ? NULL : (void *)(uintptr_t)(0x1000 + k); break;
    default: break; /* funcref: null */
    }
    return v;
}

/* A value's bits as a number, the same in both tiers (function handles by null-ness only). */
static uint64_t value_bits(const wasm_val *v)
{
    switch (v->type) {
    case WASM_I32:
    case WASM_F32: return v->of.i32;
    case WASM_I64:
    case WASM_F64: return v->of.i64;
    case WASM_V128: return fnv1a(v->of.v128, 16);
    case WASM_FUNCREF: return v->of.funcref != NULL;
    default: return (uintptr_t)v->of.externref;
    }
}

/* ---------------------------------------------------------------- stub imports */

/* A stub import function: writes down its arguments and returns values mixed from them, so that
 * argument passing and result handling across the host boundary are compared too. */
typedef struct stub {
    wasm_functype type; /* arrays owned by the module */
    uint32_t index;
    transcript *tr;
} stub;

static int stub_fn(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    const stub *s = user;
    char text[DIFF_MAX_VALUES * 48];
    (void)caller;
    values_text(args, s->type.nparams, text, sizeof text);
    note(s->tr, "host %u (%s)", s->index, text);
    uint64_t mix = s->index + 1;
    for (uint32_t i = 0; i < s->type.nparams; i++)
        mix = mix * 31 + value_bits(&args[i]);
    for (uint32_t i = 0; i < s->type.nresults; i++)
        results[i] = arg_value(s->type.results[i], 1 + (uint32_t)(mix % 7), i);
    return 0;
}

typedef struct tier_run {
    wasm_store *store;
    wasm_extern *imports;
    stub *stubs;
    uint32_t nimports;
    transcript tr;
} tier_run;

/* Builds import i. Returns -1 when it asks for more than the harness's limits. */
static int make_import(tier_run *run, const wasm_module *m, uint32_t i)
{
    const char *mod, *name;
    wasm_externtype t;
    wasm_error err;
    wasm_extern *out = &run->imports[i];
    if (wasm_module_import(m, i, &mod, &name, &t) != 0)
        return -1;
    out->kind = t.kind;
    switch (t.kind) {
    case WASM_EXTERN_FUNC:
        if (t.of.func.nparams > DIFF_MAX_VALUES || t.of.func.nresults > DIFF_MAX_VALUES)
            return -1;
        run->stubs[i] = (stub){t.of.func, i, &run->tr};
        out->of.func = wasm_func_new_host(run->store, &run->stubs[i].type, stub_fn,
                                          &run->stubs[i], &err);
        return out->of.func ? 0 : -1;
    case WASM_EXTERN_TABLE: {
        if (t.of.table.limits.min > DIFF_MAX_TABLE)
            return -1;
        wasm_val init = arg_value(t.of.table.elem, 0, 0);
        out->of.table = wasm_table_new(run->store, t.of.table, init, &err);
        return out->of.table ? 0 : -1;
    }
    case WASM_EXTERN_MEMORY:
        if (t.of.memory.min > DIFF_MAX_PAGES)
            return -1;
        out->of.memory = wasm_memory_new(run->store, t.of.memory, DIFF_MAX_PAGES, &err);
        return out->of.memory ? 0 : -1;
    case WASM_EXTERN_GLOBAL:
        out->of.global = wasm_global_new(run->store, t.of.global,
                                         arg_value(t.of.global.type, 1, i), &err);
        return out->of.global ? 0 : -1;
    }
    return -1;
}

/* ---------------------------------------------------------------- one tier */

static void note_trap(transcript *tr, const char *what, int rc, const wasm_trap *trap)
{
    note(tr, "%s: rc %d trap %d in func %u at offset %u exit %d", what, rc, (int)trap->kind,
         trap->func_index, trap->code_offset, trap->exit_code);
}

static void call_exports(tier_run *run, wasm_instance *inst, const wasm_module *m,
                         unsigned long *calls)
{
    wasm_val args[DIFF_MAX_VALUES], results[DIFF_MAX_VALUES];
    char text[DIFF_MAX_VALUES * 48];
    uint32_t n = wasm_module_export_count(m);
    for (uint32_t round = 0; round < DIFF_ARG_ROUNDS; round++) {
        for (uint32_t i = 0; i < n; i++) {
            const char *name;
            wasm_externtype t;
            wasm_extern ext;
            if (wasm_module_export(m, i, &name, &t) != 0 || t.kind != WASM_EXTERN_FUNC ||
                wasm_instance_export(inst, name, &ext) != 0 || ext.kind != WASM_EXTERN_FUNC)
                continue;
            const wasm_functype *ft = wasm_func_type(ext.of.func);
            if (ft->nparams > DIFF_MAX_VALUES || ft->nresults > DIFF_MAX_VALUES)
                continue;
            for (uint32_t k = 0; k < ft->nparams; k++)
                args[k] = arg_value(ft->params[k], round, k);
            wasm_instance_set_fuel(inst, DIFF_FUEL);
            wasm_trap trap;
            memset(&trap, 0, sizeof trap);
            memset(results, 0, sizeof results);
            int rc = wasm_invoke(inst, ext.of.func, args, ft->nparams, results, ft->nresults, &trap);
            (*calls)++;
            char what[64];
            snprintf(what, sizeof what, "call export %u round %u", i, round);
            note_trap(&run->tr, what, rc, &trap);
            if (rc == 0) {
                values_text(results, ft->nresults, text, sizeof text);
                note(&run->tr, "  results %s", text);
            }
            note(&run->tr, "  fuel left %llu", (unsigned long long)wasm_instance_fuel(inst));
        }
    }
}

/* The state left behind: memory 0, every global the harness can reach, exported table sizes. */
static void note_state(tier_run *run, wasm_instance *inst, const wasm_module *m)
{
    char text[64];
    wasm_memory *mem = inst ? wasm_instance_memory(inst) : NULL;
    for (uint32_t i = 0; !mem && i < run->nimports; i++)
        if (run->imports[i].kind == WASM_EXTERN_MEMORY)
            mem = run->imports[i].of.memory;
    if (mem) {
        uint64_t size = wasm_memory_size(mem);
        note(&run->tr, "memory %llu bytes, fnv1a %016llx", (unsigned long long)size,
             (unsigned long long)fnv1a(wasm_memory_data(mem), (size_t)size));
    }
    for (uint32_t i = 0; i < run->nimports; i++) {
        if (run->imports[i].kind != WASM_EXTERN_GLOBAL)
            continue;
        wasm_val v;
        wasm_global_get(run->imports[i].of.global, &v);
        value_text(&v, text, sizeof text);
        note(&run->tr, "imported global %u %s", i, text);
    }
    uint32_t n = inst ? wasm_module_export_count(m) : 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *name;
        wasm_externtype t;
        wasm_extern ext;
        if (wasm_module_export(m, i, &name, &t) != 0 || wasm_instance_export(inst, name, &ext) != 0)
            continue;
        if (ext.kind == WASM_EXTERN_GLOBAL) {
            wasm_val v;
            wasm_global_get(ext.of.global, &v);
            value_text(&v, text, sizeof text);
            note(&run->tr, "exported global %u %s", i, text);
        } else if (ext.kind == WASM_EXTERN_TABLE) {
            note(&run->tr, "exported table %u size %u", i, wasm_table_size(ext.of.table));
        }
    }
}

typedef enum { RUN_DONE, RUN_TOO_BIG, RUN_UNSUPPORTED } run_status;

static run_status run_tier(tier_run *run, const wasm_module *m, wasm_engine engine,
                           unsigned long *calls)
{
    run->nimports = wasm_module_import_count(m);
    run->store = wasm_store_new();
    run->imports = calloc(run->nimports + 1, sizeof *run->imports);
    run->stubs = calloc(run->nimports + 1, sizeof *run->stubs);
    if (!run->store || !run->imports || !run->stubs) {
        fprintf(stderr, "wasmdiff: out of memory\n");
        abort();
    }
    for (uint32_t i = 0; i < run->nimports; i++)
        if (make_import(run, m, i) != 0)
            return RUN_TOO_BIG;
    wasm_config cfg;
    wasm_config_default(&cfg);
    cfg.max_memory_pages = DIFF_MAX_PAGES;
    cfg.max_table_elems = DIFF_MAX_TABLE;
    cfg.max_call_depth = 500;
    cfg.max_stack_bytes = 1u << 20;
    cfg.fuel = DIFF_FUEL; /* also bounds the start function */
    cfg.engine = engine;
    wasm_instance *inst = NULL;
    wasm_error err;
    memset(&err, 0, sizeof err);
    if (wasm_instantiate(run->store, m, run->imports, run->nimports, &cfg, &inst, &err) != 0) {
        if (err.kind == WASM_ERR_UNSUPPORTED)
            return RUN_UNSUPPORTED;
        note(&run->tr, "instantiate: error %d", (int)err.kind);
        if (err.kind == WASM_ERR_TRAP)
            note_trap(&run->tr, "  start", 0, &err.trap);
        note_state(run, NULL, m);
        return RUN_DONE;
    }
    note(&run->tr, "instantiate: ok, fuel left %llu", (unsigned long long)wasm_instance_fuel(inst));
    call_exports(run, inst, m, calls);
    note_state(run, inst, m);
    return RUN_DONE;
}

static void tier_free(tier_run *run)
{
    wasm_store_free(run->store);
    free(run->imports);
    free(run->stubs);
    free(run->tr.text);
}

/* ---------------------------------------------------------------- comparison */

static const char *line_at(const char *text, size_t off, char *out, size_t cap)
{
    size_t start = off;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    size_t end = start;
    while (text[end] && text[end] != '\n')
        end++;
    snprintf(out, cap, "%.*s", (int)(end - start), text + start);
    return out;
}

/* Everything must be identical, NaN payloads included: the spec leaves an arithmetic NaN's payload
 * open, but both tiers run the same SSE instructions with the same operand order (simd.h pins
 * the interpreter's), so a payload difference is a bug like any other. */
static int compare(const char *label, const tier_run *a, const tier_run *b)
{
    const char *x = a->tr.text ? a->tr.text : "", *y = b->tr.text ? b->tr.text : "";
    if (a->tr.cut == b->tr.cut && strcmp(x, y) == 0)
        return 0;
    size_t i = 0;
    while (x[i] && x[i] == y[i])
        i++;
    char lx[600], ly[600];
    fprintf(stderr, "MISMATCH %s\n  interpreter: %s\n  compiled:    %s\n", label,
            x[i] || i ? line_at(x, i, lx, sizeof lx) : "(nothing)",
            y[i] || i ? line_at(y, i, ly, sizeof ly) : "(nothing)");
    return 1;
}

int wasmdiff_one(const uint8_t *data, size_t size, const char *label, wasmdiff_tally *t)
{
    t->inputs++;
    wasm_error err;
    wasm_module *m = wasm_module_load(data, size, &err);
    if (!m) {
        t->invalid++;
        return 0;
    }
    tier_run interp, compiled;
    memset(&interp, 0, sizeof interp);
    memset(&compiled, 0, sizeof compiled);
    unsigned long calls_i = 0, calls_c = 0;
    int rc = 0;
    run_status sc = run_tier(&compiled, m, WASM_ENGINE_COMPILED, &calls_c);
    if (sc == RUN_UNSUPPORTED) {
        t->unsupported++;
    } else if (sc == RUN_TOO_BIG) {
        t->too_big++;
    } else {
        run_tier(&interp, m, WASM_ENGINE_INTERPRETER, &calls_i);
        t->compared++;
        t->calls += calls_i;
        rc = compare(label, &interp, &compiled);
        t->mismatches += (unsigned long)rc;
    }
    tier_free(&interp);
    tier_free(&compiled);
    wasm_module_free(m);
    return rc;
}
