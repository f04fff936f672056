/* runtime.c - stores, host objects, linking, instantiation, invocation and the accessor API. */
#include "wasm/internal.h"
#ifdef SB_WASM_COMPILED_TIER
#include "wasm/jit/jit.h"
#endif

#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ store */

wasm_store *wasm_store_new(void)
{
    return calloc(1, sizeof(wasm_store));
}

/* Registers an allocation with the store; on failure releases it and returns NULL. */
static void *own(wasm_store *s, void *obj, void (*release)(void *))
{
    if (!obj)
        return NULL;
    store_obj *o = malloc(sizeof *o);
    if (!o) {
        release(obj);
        return NULL;
    }
    *o = (store_obj){.next = s->objs, .release = release, .obj = obj};
    s->objs = o;
    return obj;
}

void wasm_store_free(wasm_store *s)
{
    if (!s)
        return;
    for (store_obj *o = s->objs, *next; o; o = next) {
        next = o->next;
        o->release(o->obj);
        free(o);
    }
    for (size_t i = 0; i < s->ndefs; i++) {
        free(s->defs[i].mod);
        free(s->defs[i].name);
    }
    free(s->defs);
    free(s);
}

static void release_func(void *p)
{
    wasm_func *f = p;
    if (!f->inst) /* host functions own their type */
        free(f->type->t), free((void *)f->type);
    free(f);
}

static void release_table(void *p) { free(((wasm_table *)p)->elems); free(p); }
static void release_memory(void *p) { free(((wasm_memory *)p)->data); free(p); }

static void release_instance(void *p)
{
    wasm_instance *inst = p;
    for (uint32_t i = 0; inst->elem_refs && i < inst->mod->nelems; i++)
        free(inst->elem_refs[i]);
    free(inst->elem_refs), free(inst->elem_len), free(inst->data_len);
    free(inst->funcs), free(inst->tables), free(inst->mems), free(inst->globals);
    free(inst->own_funcs), free(inst->stack), free(inst->frames);
#ifdef SB_WASM_COMPILED_TIER
    wasm_jit_instance_free(inst);
#endif
    free(inst);
}

static bool type_ok(wasm_valtype t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 || t == WASM_V128 ||
           t == WASM_FUNCREF || t == WASM_EXTERNREF;
}

static void set_pub(wasm_func *f)
{
    f->pub = (wasm_functype){f->type->np, f->type->nr, f->type->t, f->type->t + f->type->np};
}

wasm_func *wasm_func_new_host(wasm_store *s, const wasm_functype *type, wasm_host_fn fn,
                              void *user, wasm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!s || !type || !fn || type->nparams > WASM_MAX_PARAMS || type->nresults > WASM_MAX_PARAMS)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "bad host function arguments"), NULL;
    for (uint32_t i = 0; i < type->nparams + type->nresults; i++) {
        wasm_valtype t = i < type->nparams ? type->params[i] : type->results[i - type->nparams];
        if (!type_ok(t))
            return wasm_error_set(err, WASM_ERR_MISUSE, 0, "bad value type in host function type"), NULL;
    }
    wasm_func *f = calloc(1, sizeof *f);
    ftype *t = calloc(1, sizeof *t);
    wasm_valtype *vt = malloc(sizeof(wasm_valtype) * (type->nparams + type->nresults + 1));
    if (!f || !t || !vt) {
        free(f), free(t), free(vt);
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory"), NULL;
    }
    if (type->nparams)
        memcpy(vt, type->params, type->nparams * sizeof *vt);
    if (type->nresults)
        memcpy(vt + type->nparams, type->results, type->nresults * sizeof *vt);
    *t = (ftype){type->nparams, type->nresults, vt, types_slots(vt, type->nparams),
                 types_slots(vt + type->nparams, type->nresults)};
    *f = (wasm_func){.type = t, .host = fn, .user = user};
    set_pub(f);
    if (!own(s, f, release_func))
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory"), NULL;
    return f;
}

void wasm_val_to_slots(const wasm_val *v, slot_t *s)
{
    if (v->type == WASM_V128)
        memcpy(s, v->of.v128, 16);
    else
        s[0] = v->type == WASM_I32 || v->type == WASM_F32 ? v->of.i32 : v->of.i64;
}

void wasm_slots_to_val(wasm_valtype t, const slot_t *s, wasm_val *v)
{
    memset(v, 0, sizeof *v);
    v->type = t;
    if (t == WASM_V128)
        memcpy(v->of.v128, s, 16);
    else
        v->of.i64 = s[0];
}

wasm_global *wasm_global_new(wasm_store *s, wasm_globaltype type, wasm_val init, wasm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!s || !type_ok(type.type) || init.type != type.type)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "global initial value has the wrong type"), NULL;
    wasm_global *g = own(s, calloc(1, sizeof *g), free);
    if (!g)
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory"), NULL;
    g->type = type;
    wasm_val_to_slots(&init, g->val);
    return g;
}

static wasm_table *table_create(wasm_store *s, wasm_tabletype type, uint32_t cap, void *init)
{
    wasm_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->elems = calloc(type.limits.min ? type.limits.min : 1, sizeof(void *));
    if (!t->elems) {
        free(t);
        return NULL;
    }
    for (uint32_t i = 0; i < type.limits.min; i++)
        t->elems[i] = init;
    t->elem = type.elem;
    t->size = t->cap = type.limits.min;
    t->has_max = type.limits.has_max;
    t->decl_max = type.limits.max;
    t->max = type.limits.has_max && type.limits.max < cap ? type.limits.max : cap;
    return own(s, t, release_table);
}

wasm_table *wasm_table_new(wasm_store *s, wasm_tabletype type, wasm_val init, wasm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!s || !valtype_is_ref(type.elem) || init.type != type.elem ||
        (type.limits.has_max && type.limits.max < type.limits.min))
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "bad table type or initial value"), NULL;
    wasm_table *t = table_create(s, type, UINT32_MAX, init.of.externref);
    if (!t)
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory"), NULL;
    return t;
}

static wasm_memory *memory_create(wasm_store *s, wasm_limits l, uint32_t cap)
{
    wasm_memory *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    uint64_t bytes = (uint64_t)l.min * WASM_PAGE;
    m->data = calloc(bytes ? bytes : 1, 1);
    if (!m->data) {
        free(m);
        return NULL;
    }
    m->size = bytes;
    m->pages = l.min;
    m->has_max = l.has_max;
    m->decl_max = l.max;
    uint32_t max = l.has_max ? l.max : 65536;
    m->max_pages = max < cap ? max : cap;
    return own(s, m, release_memory);
}

wasm_memory *wasm_memory_new(wasm_store *s, wasm_limits limits, uint32_t max_pages,
                             wasm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!s || limits.min > 65536 || (limits.has_max && (limits.max > 65536 || limits.max < limits.min)))
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "bad memory limits"), NULL;
    wasm_memory *m = memory_create(s, limits, max_pages ? max_pages : 65536);
    if (!m)
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory"), NULL;
    return m;
}

int64_t wasm_mem_grow(wasm_memory *mem, uint32_t delta)
{
    uint32_t old = mem->pages;
    if (delta == 0)
        return old;
    if ((uint64_t)old + delta > mem->max_pages)
        return -1;
    uint64_t bytes = (uint64_t)(old + delta) * WASM_PAGE;
    if (bytes > SIZE_MAX)
        return -1;
    uint8_t *p = realloc(mem->data, bytes);
    if (!p)
        return -1;
    memset(p + mem->size, 0, bytes - mem->size);
    mem->data = p;
    mem->size = bytes;
    mem->pages = old + delta;
    return old;
}

int64_t wasm_memory_grow(wasm_memory *mem, uint32_t delta)
{
    return mem ? wasm_mem_grow(mem, delta) : -1;
}

int64_t wasm_tab_grow(wasm_table *t, uint32_t delta, void *init)
{
    uint32_t old = t->size;
    if ((uint64_t)old + delta > t->max)
        return -1;
    uint32_t n = old + delta;
    if (n > t->cap) {
        void **p = realloc(t->elems, (size_t)n * sizeof(void *));
        if (!p)
            return -1;
        t->elems = p;
        t->cap = n;
    }
    for (uint32_t i = old; i < n; i++)
        t->elems[i] = init;
    t->size = n;
    return old;
}

bool wasm_ftype_eq(const ftype *a, const ftype *b)
{
    return a->np == b->np && a->nr == b->nr &&
           memcmp(a->t, b->t, (a->np + a->nr) * sizeof(wasm_valtype)) == 0;
}

void wasm_trap_locate(wasm_trap *trap, const wasm_func *f, uint32_t code_index)
{
    trap->func_index = f ? f->index : 0;
    trap->code_offset = 0;
    if (f && f->code && f->code->nmap) {
        const fcode *c = f->code;
        uint32_t lo = 0, hi = c->nmap; /* last entry with code_index <= the trapping one */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (c->map[mid].code_index <= code_index)
                lo = mid;
            else
                hi = mid;
        }
        trap->code_offset = c->map[lo].byte_offset;
    }
}

void wasm_trap_set(wasm_trap *trap, wasm_trapkind kind, const wasm_func *f, uint32_t code_index)
{
    trap->kind = kind;
    trap->exit_code = 0;
    wasm_trap_locate(trap, f, code_index);
    snprintf(trap->msg, sizeof trap->msg, "%s", wasm_trap_text(kind));
}

int wasm_host_trap(wasm_instance *caller, wasm_trapkind kind, const char *fmt, ...)
{
    if (caller && caller->host_trap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(caller->host_trap->msg, sizeof caller->host_trap->msg, fmt, ap);
        va_end(ap);
    }
    return kind;
}

int wasm_host_exit(wasm_instance *caller, int32_t code)
{
    if (caller && caller->host_trap) {
        caller->host_trap->exit_code = code;
        snprintf(caller->host_trap->msg, sizeof caller->host_trap->msg, "exit %d", (int)code);
    }
    return WASM_TRAP_EXIT;
}

/* ------------------------------------------------------------------ definitions */

int wasm_store_define(wasm_store *s, const char *module_name, const char *name, wasm_extern ext,
                      wasm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!s || !module_name || !name || !ext.of.func || (unsigned)ext.kind > WASM_EXTERN_GLOBAL)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "bad definition");
    for (size_t i = 0; i < s->ndefs; i++)
        if (!strcmp(s->defs[i].mod, module_name) && !strcmp(s->defs[i].name, name)) {
            s->defs[i].ext = ext;
            return 0;
        }
    if (s->ndefs == s->cap_defs) {
        size_t cap = s->cap_defs ? 2 * s->cap_defs : 16;
        definition *d = realloc(s->defs, cap * sizeof *d);
        if (!d)
            return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
        s->defs = d, s->cap_defs = cap;
    }
    char *m = strdup(module_name), *n = strdup(name);
    if (!m || !n) {
        free(m), free(n);
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
    }
    s->defs[s->ndefs++] = (definition){m, n, ext};
    return 0;
}

int wasm_store_register(wasm_store *s, const char *module_name, wasm_instance *inst,
                        wasm_error *err)
{
    if (!s || !inst || inst->store != s)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "instance belongs to another store");
    for (uint32_t i = 0; i < inst->mod->nexports; i++) {
        wasm_extern ext;
        const export *e = &inst->mod->exports[i];
        if (memchr(e->name, 0, e->name_len))
            continue; /* such names cannot be spelled in a C-string import lookup */
        wasm_instance_export_n(inst, e->name, e->name_len, &ext);
        if (wasm_store_define(s, module_name, e->name, ext, err) < 0)
            return -1;
    }
    return 0;
}

static const wasm_extern *lookup(const wasm_store *s, const import *im)
{
    for (size_t i = s->ndefs; i-- > 0;)
        if (strlen(s->defs[i].mod) == im->mod_len && strlen(s->defs[i].name) == im->name_len &&
            !memcmp(s->defs[i].mod, im->mod, im->mod_len) &&
            !memcmp(s->defs[i].name, im->name, im->name_len))
            return &s->defs[i].ext;
    return NULL;
}

/* ------------------------------------------------------------------ import matching */

static bool limits_match(uint32_t size, bool has_max, uint32_t max, const wasm_limits *want)
{
    if (size < want->min)
        return false;
    if (!want->has_max)
        return true;
    return has_max && max <= want->max;
}

static bool import_matches(const wasm_module *m, const import *im, const wasm_extern *ext)
{
    if (ext->kind != im->type.kind || !ext->of.func)
        return false;
    switch (ext->kind) {
    case WASM_EXTERN_FUNC:
        return wasm_ftype_eq(ext->of.func->type, &m->types[im->type_index]);
    case WASM_EXTERN_TABLE: {
        const wasm_table *t = ext->of.table;
        return t->elem == im->type.of.table.elem &&
               limits_match(t->size, t->has_max, t->decl_max, &im->type.of.table.limits);
    }
    case WASM_EXTERN_MEMORY: {
        const wasm_memory *mm = ext->of.memory;
        return limits_match(mm->pages, mm->has_max, mm->decl_max, &im->type.of.memory);
    }
    case WASM_EXTERN_GLOBAL:
        return ext->of.global->type.type == im->type.of.global.type &&
               ext->of.global->type.mutable_ == im->type.of.global.mutable_;
    }
    return false;
}

/* ------------------------------------------------------------------ instantiation */

static int inst_alloc(wasm_instance *inst, const wasm_module *m)
{
    inst->funcs = calloc(m->nfuncs + 1, sizeof(wasm_func *));
    inst->own_funcs = calloc(m->nfuncs - m->nimp_funcs + 1, sizeof(wasm_func));
    inst->tables = calloc(m->ntables + 1, sizeof(wasm_table *));
    inst->mems = calloc(m->nmems + 1, sizeof(wasm_memory *));
    inst->globals = calloc(m->nglobals + 1, sizeof(wasm_global *));
    inst->elem_refs = calloc(m->nelems + 1, sizeof(void **));
    inst->elem_len = calloc(m->nelems + 1, sizeof(uint32_t));
    inst->data_len = calloc(m->ndatas + 1, sizeof(uint32_t));
    return inst->funcs && inst->own_funcs && inst->tables && inst->mems && inst->globals &&
                   inst->elem_refs && inst->elem_len && inst->data_len
               ? 0
               : -1;
}

static int link_imports(wasm_instance *inst, const wasm_extern *imports, wasm_error *err)
{
    const wasm_module *m = inst->mod;
    uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const import *im = &m->imports[i];
        const wasm_extern *ext = imports ? &imports[i] : lookup(inst->store, im);
        if (!ext)
            return wasm_error_set(err, WASM_ERR_UNLINKABLE, 0, "unknown import %s.%s", im->mod, im->name);
        if (!import_matches(m, im, ext))
            return wasm_error_set(err, WASM_ERR_UNLINKABLE, 0, "incompatible import type for %s.%s",
                                  im->mod, im->name);
        switch (ext->kind) {
        case WASM_EXTERN_FUNC: inst->funcs[nf++] = ext->of.func; break;
        case WASM_EXTERN_TABLE: inst->tables[nt++] = ext->of.table; break;
        case WASM_EXTERN_MEMORY: inst->mems[nm++] = ext->of.memory; break;
        case WASM_EXTERN_GLOBAL: inst->globals[ng++] = ext->of.global; break;
        }
    }
    return 0;
}

/* The value of a constant expression: out[1] is set for a v128 only. */
static slot_t eval_cexpr(const wasm_instance *inst, const cexpr *e, slot_t out[2])
{
    out[1] = e->hi;
    switch (e->op) {
    case 0x23: out[1] = inst->globals[e->v]->val[1]; return out[0] = inst->globals[e->v]->val[0];
    case 0xD2: return out[0] = (slot_t)(uintptr_t)inst->funcs[e->v];
    default: return out[0] = e->v;
    }
}

static int create_defined(wasm_instance *inst, wasm_error *err)
{
    const wasm_module *m = inst->mod;
    const wasm_config *cfg = &inst->cfg;
    for (uint32_t i = m->nimp_funcs; i < m->nfuncs; i++) {
        wasm_func *f = &inst->own_funcs[i - m->nimp_funcs];
        *f = (wasm_func){.type = &m->types[m->func_types[i]], .inst = inst, .index = i,
                         .code = &m->codes[i - m->nimp_funcs]};
        set_pub(f);
        inst->funcs[i] = f;
    }
    for (uint32_t i = m->nimp_tables; i < m->ntables; i++) {
        if (m->tables[i].limits.min > cfg->max_table_elems)
            return wasm_error_set(err, WASM_ERR_LIMIT, 0, "table %u: %u elements exceed the limit of %u",
                                  i, m->tables[i].limits.min, cfg->max_table_elems);
        if (!(inst->tables[i] = table_create(inst->store, m->tables[i], cfg->max_table_elems, NULL)))
            return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
    }
    for (uint32_t i = m->nimp_mems; i < m->nmems; i++) {
        if (m->mems[i].min > cfg->max_memory_pages)
            return wasm_error_set(err, WASM_ERR_LIMIT, 0, "memory: %u pages exceed the limit of %u",
                                  m->mems[i].min, cfg->max_memory_pages);
        if (!(inst->mems[i] = memory_create(inst->store, m->mems[i], cfg->max_memory_pages)))
            return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory for linear memory");
    }
    inst->mem0 = m->nmems ? inst->mems[0] : NULL;
    for (uint32_t i = m->nimp_globals; i < m->nglobals; i++) {
        wasm_global *g = own(inst->store, calloc(1, sizeof *g), free);
        if (!g)
            return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
        g->type = m->globals[i].type;
        eval_cexpr(inst, &m->globals[i].init, g->val);
        inst->globals[i] = g;
    }
    return 0;
}

static int init_segments(wasm_instance *inst, wasm_error *err)
{
    const wasm_module *m = inst->mod;
    slot_t tmp[2];
    for (uint32_t i = 0; i < m->nelems; i++) {
        const elem_seg *s = &m->elems[i];
        inst->elem_refs[i] = malloc(((size_t)s->count + 1) * sizeof(void *));
        if (!inst->elem_refs[i])
            return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
        for (uint32_t k = 0; k < s->count; k++)
            inst->elem_refs[i][k] = (void *)(uintptr_t)eval_cexpr(inst, &s->items[k], tmp);
        inst->elem_len[i] = s->mode == SEG_PASSIVE ? s->count : 0;
    }
    for (uint32_t i = 0; i < m->ndatas; i++)
        inst->data_len[i] = m->datas[i].mode == SEG_PASSIVE ? m->datas[i].len : 0;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const elem_seg *s = &m->elems[i];
        if (s->mode != SEG_ACTIVE)
            continue;
        wasm_table *t = inst->tables[s->table];
        uint32_t off = (uint32_t)eval_cexpr(inst, &s->offset, tmp);
        if ((uint64_t)off + s->count > t->size) {
            wasm_trap_set(&err->trap, WASM_TRAP_TABLE_OOB, NULL, 0);
            return wasm_error_set(err, WASM_ERR_TRAP, 0, "out of bounds table access");
        }
        memcpy(t->elems + off, inst->elem_refs[i], (size_t)s->count * sizeof(void *));
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const data_seg *d = &m->datas[i];
        if (d->mode != SEG_ACTIVE)
            continue;
        wasm_memory *mem = inst->mems[d->mem];
        uint32_t off = (uint32_t)eval_cexpr(inst, &d->offset, tmp);
        if ((uint64_t)off + d->len > mem->size) {
            wasm_trap_set(&err->trap, WASM_TRAP_MEMORY_OOB, NULL, 0);
            return wasm_error_set(err, WASM_ERR_TRAP, 0, "out of bounds memory access");
        }
        if (d->len)
            memcpy(mem->data + off, d->bytes, d->len);
    }
    return 0;
}

int wasm_module_compile(const wasm_module *m, wasm_error *err)
{
    wasm_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!m)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "module is required");
    if (!wasm_engine_available(WASM_ENGINE_COMPILED))
        return wasm_error_set(err, WASM_ERR_UNSUPPORTED, 0, "engine tier compiled is not built in");
#ifdef SB_WASM_COMPILED_TIER
    if (wasm_jit_prepare(m, err) < 0)
        return -1;
    const char *why = wasm_jit_unsupported(m);
    if (why)
        return wasm_error_set(err, WASM_ERR_UNSUPPORTED, 0, "compiled tier: %s", why);
    char reason[sizeof m->jit->unsupported];
    if (wasm_jit_compile_all(m, reason) < 0)
        return wasm_error_set(err, strstr(reason, "out of memory") ? WASM_ERR_NOMEM : WASM_ERR_UNSUPPORTED,
                              0, "compiled tier: %s", reason);
#endif
    return 0;
}

int wasm_instantiate(wasm_store *s, const wasm_module *m, const wasm_extern *imports,
                     size_t nimports, const wasm_config *cfg, wasm_instance **out,
                     wasm_error *err)
{
    wasm_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!s || !m || !out)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "store, module and out are required");
    *out = NULL;
    if (imports && nimports != m->nimports)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "module has %u imports, %zu given",
                              m->nimports, nimports);
    wasm_instance *inst = own(s, calloc(1, sizeof *inst), release_instance);
    if (!inst)
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
    inst->store = s;
    inst->mod = m;
    if (cfg)
        inst->cfg = *cfg;
    else
        wasm_config_default(&inst->cfg);
    if (!wasm_engine_available(inst->cfg.engine))
        return wasm_error_set(err, WASM_ERR_UNSUPPORTED, 0, "engine tier %s is not built in",
                              wasm_engine_name(inst->cfg.engine) ? wasm_engine_name(inst->cfg.engine)
                                                                 : "(unknown)");
#ifdef SB_WASM_COMPILED_TIER
    if (inst->cfg.engine == WASM_ENGINE_COMPILED && wasm_jit_prepare(m, err) < 0)
        return -1;
    const char *why = inst->cfg.engine == WASM_ENGINE_COMPILED ? wasm_jit_unsupported(m) : NULL;
    if (why)
        return wasm_error_set(err, WASM_ERR_UNSUPPORTED, 0, "compiled tier: %s", why);
#endif
    inst->fuel = inst->cfg.fuel;
    if (inst_alloc(inst, m) < 0)
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
    if (link_imports(inst, imports, err) < 0 || create_defined(inst, err) < 0 ||
        init_segments(inst, err) < 0)
        return -1;
    if (m->start >= 0) {
        int k = wasm_invoke(inst, inst->funcs[m->start], NULL, 0, NULL, 0, &err->trap);
        if (k != 0)
            return wasm_error_set(err, k > 0 ? WASM_ERR_TRAP : WASM_ERR_MISUSE, 0, "%s",
                                  err->trap.msg);
    }
    *out = inst;
    return 0;
}

const wasm_module *wasm_instance_module(const wasm_instance *inst) { return inst ? inst->mod : NULL; }

/* ------------------------------------------------------------------ exports */

int wasm_instance_export_n(const wasm_instance *inst, const char *name, size_t name_len,
                           wasm_extern *out)
{
    if (!inst || !name || !out)
        return -1;
    const wasm_module *m = inst->mod;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const export *e = &m->exports[i];
        if (e->name_len != name_len || memcmp(e->name, name, name_len) != 0)
            continue;
        out->kind = e->kind;
        switch (e->kind) {
        case WASM_EXTERN_FUNC: out->of.func = inst->funcs[e->index]; break;
        case WASM_EXTERN_TABLE: out->of.table = inst->tables[e->index]; break;
        case WASM_EXTERN_MEMORY: out->of.memory = inst->mems[e->index]; break;
        case WASM_EXTERN_GLOBAL: out->of.global = inst->globals[e->index]; break;
        }
        return 0;
    }
    return -1;
}

int wasm_instance_export(const wasm_instance *inst, const char *name, wasm_extern *out)
{
    return name ? wasm_instance_export_n(inst, name, strlen(name), out) : -1;
}

wasm_func *wasm_instance_export_func(const wasm_instance *inst, const char *name)
{
    wasm_extern e;
    return wasm_instance_export(inst, name, &e) == 0 && e.kind == WASM_EXTERN_FUNC ? e.of.func : NULL;
}

wasm_memory *wasm_instance_export_memory(const wasm_instance *inst, const char *name)
{
    wasm_extern e;
    return wasm_instance_export(inst, name, &e) == 0 && e.kind == WASM_EXTERN_MEMORY ? e.of.memory
                                                                                   : NULL;
}

wasm_memory *wasm_instance_memory(const wasm_instance *inst) { return inst ? inst->mem0 : NULL; }
const wasm_functype *wasm_func_type(const wasm_func *f) { return f ? &f->pub : NULL; }

/* ------------------------------------------------------------------ invocation */

static int misuse(wasm_trap *trap, const char *msg)
{
    trap->kind = WASM_TRAP_NONE;
    snprintf(trap->msg, sizeof trap->msg, "%s", msg);
    return -1;
}

static int ensure_stack(wasm_instance *inst)
{
    if (inst->stack)
        return 0;
    size_t slots = inst->cfg.max_stack_bytes / sizeof(slot_t);
    inst->stack = malloc((slots ? slots : 1) * sizeof(slot_t));
    inst->frames = malloc(((size_t)inst->cfg.max_call_depth + 1) * sizeof(frame));
    if (!inst->stack || !inst->frames) {
        free(inst->stack), free(inst->frames);
        inst->stack = NULL, inst->frames = NULL;
        return -1;
    }
    inst->stack_slots = slots;
    return 0;
}

static int check_args(const ftype *t, const wasm_val *args, size_t nargs, size_t nresults,
                      wasm_trap *trap)
{
    if (nargs != t->np || nresults < t->nr)
        return misuse(trap, "argument or result count does not match the function type");
    for (uint32_t i = 0; i < t->np; i++)
        if (args[i].type != t->t[i])
            return misuse(trap, "argument type does not match the function type");
    return 0;
}

/* f runs on its instance's tier (on ctx's stack, with ctx's limits and fuel). */
static int run_wasm(wasm_instance *ctx, wasm_func *f, wasm_trap *trap)
{
#ifdef SB_WASM_COMPILED_TIER
    if (wasm_jit_runs(f))
        return wasm_jit_run(ctx, f, trap);
#endif
    return wasm_interp_run(ctx, f, trap);
}

/* Lays the arguments out in slots, runs f and reads the results back from the same slots. */
static int call_with_vals(wasm_instance *ctx, wasm_func *f, slot_t *slots, const wasm_val *args,
                          wasm_val *results, wasm_trap *trap)
{
    const ftype *t = f->type;
    for (uint32_t i = 0, at = 0; i < t->np; at += valtype_slots(t->t[i++]))
        wasm_val_to_slots(&args[i], slots + at);
    int k = f->host ? wasm_call_host(ctx, f, slots, trap) : run_wasm(ctx, f, trap);
    for (uint32_t i = 0, at = 0; k == 0 && i < t->nr; at += valtype_slots(t->t[t->np + i++]))
        wasm_slots_to_val(t->t[t->np + i], slots + at, &results[i]);
    return k;
}

int wasm_invoke(wasm_instance *ctx, wasm_func *f, const wasm_val *args, size_t nargs,
                wasm_val *results, size_t nresults, wasm_trap *trap)
{
    wasm_trap local;
    if (!trap)
        trap = &local;
    memset(trap, 0, sizeof *trap);
    if (!f)
        return misuse(trap, "no function");
    if (check_args(f->type, args, nargs, nresults, trap) < 0)
        return -1;
    const ftype *t = f->type;
    if (f->host && !ctx) {
        slot_t slots[2 * WASM_MAX_PARAMS];
        return call_with_vals(NULL, f, slots, args, results, trap);
    }
    if (!ctx)
        ctx = f->inst;
    if (ctx->running)
        return misuse(trap, "instance is already running (reentrant call)");
    if (ensure_stack(ctx) < 0)
        return misuse(trap, "out of memory for the value stack");
    if (ctx->stack_slots < (t->ps > t->rs ? t->ps : t->rs)) {
        wasm_trap_set(trap, WASM_TRAP_STACK_EXHAUSTED, f, 0);
        return WASM_TRAP_STACK_EXHAUSTED;
    }
    ctx->running = true;
    int k = call_with_vals(ctx, f, ctx->stack, args, results, trap);
    ctx->running = false;
    return k;
}

uint64_t wasm_instance_fuel(const wasm_instance *inst) { return inst ? inst->fuel : 0; }
void wasm_instance_set_fuel(wasm_instance *inst, uint64_t fuel) { if (inst) inst->fuel = fuel; }

/* ------------------------------------------------------------------ globals, tables, memories */

wasm_globaltype wasm_global_type(const wasm_global *g)
{
    return g ? g->type : (wasm_globaltype){0};
}

void wasm_global_get(const wasm_global *g, wasm_val *out)
{
    if (g && out)
        wasm_slots_to_val(g->type.type, g->val, out);
}

int wasm_global_set(wasm_global *g, const wasm_val *v, wasm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!g || !v)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "no global or value");
    if (!g->type.mutable_)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "global is immutable");
    if (v->type != g->type.type)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "value type does not match the global");
    wasm_val_to_slots(v, g->val);
    return 0;
}

wasm_tabletype wasm_table_type(const wasm_table *t)
{
    return t ? (wasm_tabletype){t->elem, {t->size, t->decl_max, t->has_max}} : (wasm_tabletype){0};
}

uint32_t wasm_table_size(const wasm_table *t) { return t ? t->size : 0; }

int wasm_table_get(const wasm_table *t, uint32_t index, wasm_val *out)
{
    if (!t || !out || index >= t->size)
        return -1;
    memset(out, 0, sizeof *out);
    out->type = t->elem;
    out->of.externref = t->elems[index];
    return 0;
}

int wasm_table_set(wasm_table *t, uint32_t index, const wasm_val *v)
{
    if (!t || !v || index >= t->size || v->type != t->elem)
        return -1;
    t->elems[index] = v->of.externref;
    return 0;
}

uint8_t *wasm_memory_data(wasm_memory *mem) { return mem ? mem->data : NULL; }
uint64_t wasm_memory_size(const wasm_memory *mem) { return mem ? mem->size : 0; }

wasm_limits wasm_memory_limits(const wasm_memory *mem)
{
    return mem ? (wasm_limits){mem->pages, mem->decl_max, mem->has_max} : (wasm_limits){0};
}

void *wasm_memory_range(wasm_memory *mem, uint64_t offset, uint64_t len)
{
    if (!mem || offset > mem->size || len > mem->size - offset)
        return NULL;
    return mem->data + offset;
}
