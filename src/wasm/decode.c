/* decode.c - binary module decoder: sections, types, imports, exports, segments, constant
 * expressions. Function bodies are recorded here and validated + translated by compile.c.
 *
 * Every count read from the binary is checked against the bytes that remain before anything is
 * allocated for it, so allocations are proportional to the input size. */
#include "wasm/decode.h"
#ifdef SB_WASM_COMPILED_TIER
#include "wasm/jit/jit.h"
#endif

#include <stdio.h>
#include <stdlib.h>

int wasm_error_set(wasm_error *err, wasm_errkind kind, size_t offset, const char *fmt, ...)
{
    if (!err)
        return -1;
    if (err->kind != WASM_OK)
        return -1; /* keep the first (innermost) error */
    err->kind = kind;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* ------------------------------------------------------------------ reader */

int rd_fail(reader *r, wasm_errkind kind, const char *msg)
{
    if (!r->failed)
        wasm_error_set(r->err, kind, (size_t)(r->p - r->base), "%s", msg);
    r->failed = true;
    r->p = r->end; /* every later read fails fast */
    return -1;
}

uint8_t rd_u8_slow(reader *r)
{
    if (r->p >= r->end) {
        rd_fail(r, WASM_ERR_MALFORMED, r->eof_msg ? r->eof_msg : "unexpected end");
        return 0;
    }
    return *r->p++;
}

/* Strict LEB128 of `bits` bits: at most ceil(bits/7) bytes and unused bits of the last byte
 * must be zero (unsigned) or copies of the sign bit (signed). */
uint64_t rd_leb_slow(reader *r, unsigned bits, bool is_signed)
{
    if (r->p < r->end && !(*r->p & 0x80)) { /* one byte: the common case */
        uint8_t b = *r->p++;
        return is_signed && (b & 0x40) ? (uint64_t)b | ~(uint64_t)0x7F : b;
    }
    uint64_t result = 0;
    unsigned shift = 0;
    unsigned max_bytes = (bits + 6) / 7;
    for (unsigned i = 0; i < max_bytes; i++) {
        uint8_t b = rd_u8(r);
        if (r->failed)
            return 0;
        bool last = i == max_bytes - 1;
        if (last) {
            if (b & 0x80) {
                rd_fail(r, WASM_ERR_MALFORMED, "integer representation too long");
                return 0;
            }
            unsigned used = bits - shift; /* value bits in this byte */
            uint8_t unused = (uint8_t)(b & 0x7F) >> used;
            if (is_signed) {
                uint8_t sign = (b >> (used - 1)) & 1;
                uint8_t want = sign ? (uint8_t)(0x7F >> used) : 0;
                if (unused != want) {
                    rd_fail(r, WASM_ERR_MALFORMED, "integer too large");
                    return 0;
                }
            } else if (unused) {
                rd_fail(r, WASM_ERR_MALFORMED, "integer too large");
                return 0;
            }
        }
        result |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (is_signed && shift < 64 && (b & 0x40))
                result |= ~(uint64_t)0 << shift;
            return result;
        }
    }
    return result;
}

int64_t rd_s64(reader *r) { return (int64_t)rd_leb_slow(r, 64, true); }
int64_t rd_s33(reader *r) { return (int64_t)rd_leb_slow(r, 33, true); }

uint32_t rd_fixed32(reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)rd_u8(r) << (8 * i);
    return v;
}

uint64_t rd_fixed64(reader *r)
{
    uint64_t lo = rd_fixed32(r);
    return lo | (uint64_t)rd_fixed32(r) << 32;
}

/* A vector count, checked against the remaining bytes (each element takes at least min_size). */
uint32_t rd_count(reader *r, size_t min_size)
{
    uint32_t n = rd_u32(r);
    if (!r->failed && (uint64_t)n * min_size > (uint64_t)(r->end - r->p)) {
        rd_fail(r, WASM_ERR_MALFORMED, r->eof_msg ? r->eof_msg : "unexpected end");
        return 0;
    }
    return n;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* A name: checked UTF-8, returned as a NUL-terminated copy in the module's binary copy?  The
 * binary has no room for NULs, so names are copied into a fresh allocation owned by the module. */
char *rd_name(reader *r, uint32_t *len_out)
{
    uint32_t n = rd_count(r, 1);
    if (r->failed)
        return NULL;
    if (!utf8_valid(r->p, n)) {
        rd_fail(r, WASM_ERR_MALFORMED, "malformed UTF-8 encoding");
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        rd_fail(r, WASM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(s, r->p, n);
    s[n] = 0;
    r->p += n;
    *len_out = n;
    return s;
}

/* ------------------------------------------------------------------ types */

int rd_valtype(reader *r, wasm_valtype *out)
{
    uint8_t b = rd_u8(r);
    if (r->failed)
        return -1;
    switch (b) {
    case WASM_I32: case WASM_I64: case WASM_F32: case WASM_F64: case WASM_V128:
    case WASM_FUNCREF: case WASM_EXTERNREF:
        *out = (wasm_valtype)b;
        return 0;
    default:
        r->p--;
        return rd_fail(r, WASM_ERR_MALFORMED, "malformed value type");
    }
}

static int rd_reftype(reader *r, wasm_valtype *out)
{
    uint8_t b = rd_u8(r);
    if (r->failed)
        return -1;
    if (b != WASM_FUNCREF && b != WASM_EXTERNREF) {
        r->p--;
        return rd_fail(r, WASM_ERR_MALFORMED, "malformed reference type");
    }
    *out = (wasm_valtype)b;
    return 0;
}

static int rd_limits(reader *r, wasm_limits *l, uint32_t bound, const char *bound_msg)
{
    const uint8_t *at = r->p;
    uint8_t flag = rd_u8(r);
    if (r->failed)
        return -1;
    if (flag > 1) {
        r->p = at;
        return rd_fail(r, WASM_ERR_MALFORMED, "integer too large");
    }
    l->min = rd_u32(r);
    l->has_max = flag == 1;
    l->max = l->has_max ? rd_u32(r) : 0;
    if (r->failed)
        return -1;
    if (l->min > bound || (l->has_max && l->max > bound))
        return rd_fail(r, WASM_ERR_INVALID, bound_msg);
    if (l->has_max && l->min > l->max)
        return rd_fail(r, WASM_ERR_INVALID, "size minimum must not be greater than maximum");
    return 0;
}

static int rd_tabletype(reader *r, wasm_tabletype *t)
{
    if (rd_reftype(r, &t->elem) < 0)
        return -1;
    return rd_limits(r, &t->limits, UINT32_MAX, "table size");
}

static int rd_memtype(reader *r, wasm_limits *l)
{
    return rd_limits(r, l, 65536, "memory size must be at most 65536 pages (4GiB)");
}

static int rd_globaltype(reader *r, wasm_globaltype *g)
{
    if (rd_valtype(r, &g->type) < 0)
        return -1;
    uint8_t m = rd_u8(r);
    if (r->failed)
        return -1;
    if (m > 1) {
        r->p--;
        return rd_fail(r, WASM_ERR_MALFORMED, "malformed mutability");
    }
    g->mutable_ = m == 1;
    return 0;
}

/* ------------------------------------------------------------------ constant expressions */

/* Whether a one-byte opcode exists at all (else decoding fails as malformed, not invalid). */
static bool opcode_exists(uint8_t op)
{
    return op <= 0x05 || (op >= 0x0B && op <= 0x11) || (op >= 0x1A && op <= 0x1C) ||
           (op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0xC4) ||
           (op >= 0xD0 && op <= 0xD2) || op == 0xFC || op == 0xFD;
}

static wasm_valtype global_type_at(const wasm_module *m, uint32_t i)
{
    return m->globals[i].type.type;
}

/* Reads a constant expression of type `want`. Only globals below `nglobals_visible` that are
 * imported and immutable may be read (WebAssembly 2.0). */
static int rd_cexpr(reader *r, wasm_module *m, wasm_valtype want, cexpr *e)
{
    uint8_t op = rd_u8(r);
    wasm_valtype got = 0;
    e->op = op;
    switch (op) {
    case 0x41: e->v = (uint32_t)rd_s32(r); got = WASM_I32; break;
    case 0x42: e->v = (uint64_t)rd_s64(r); got = WASM_I64; break;
    case 0x43: e->v = rd_fixed32(r); got = WASM_F32; break;
    case 0x44: e->v = rd_fixed64(r); got = WASM_F64; break;
    case 0xD0: if (rd_reftype(r, &got) < 0) return -1; e->v = 0; break;
    case 0xFD:
        if (rd_u32(r) != 12 && !r->failed)
            return rd_fail(r, WASM_ERR_INVALID, "constant expression required");
        e->v = rd_fixed64(r);
        e->hi = rd_fixed64(r);
        got = WASM_V128;
        break;
    case 0xD2:
        e->v = rd_u32(r);
        if (!r->failed && e->v >= m->nfuncs)
            return rd_fail(r, WASM_ERR_INVALID, "unknown function");
        if (!r->failed)
            m->declared_funcs[e->v] = 1;
        got = WASM_FUNCREF;
        break;
    case 0x23:
        e->v = rd_u32(r);
        if (r->failed)
            return -1;
        if (e->v >= m->nimp_globals)
            return rd_fail(r, WASM_ERR_INVALID, "unknown global");
        if (m->globals[e->v].type.mutable_)
            return rd_fail(r, WASM_ERR_INVALID, "constant expression required");
        got = global_type_at(m, (uint32_t)e->v);
        break;
    case 0x0B:
        return rd_fail(r, WASM_ERR_INVALID, "type mismatch");
    default:
        if (r->failed)
            return -1;
        return rd_fail(r, opcode_exists(op) ? WASM_ERR_INVALID : WASM_ERR_MALFORMED,
                       opcode_exists(op) ? "constant expression required" : "illegal opcode");
    }
    if (r->failed)
        return -1;
    uint8_t end = rd_u8(r);
    if (r->failed)
        return -1;
    if (end != 0x0B) {
        bool is_const = end == 0x41 || end == 0x42 || end == 0x43 || end == 0x44 || end == 0xD0 ||
                        end == 0xD2 || end == 0x23 || end == 0xFD;
        return rd_fail(r, WASM_ERR_INVALID,
                       is_const ? "type mismatch" : "constant expression required");
    }
    if (got != want)
        return rd_fail(r, WASM_ERR_INVALID, "type mismatch");
    return 0;
}

/* ------------------------------------------------------------------ sections */

static int grow_array(reader *r, void **arr, uint32_t old_n, uint32_t add, size_t elem)
{
    if (add == 0)
        return 0;
    void *p = realloc(*arr, ((size_t)old_n + add) * elem);
    if (!p)
        return rd_fail(r, WASM_ERR_NOMEM, "out of memory");
    memset((char *)p + (size_t)old_n * elem, 0, (size_t)add * elem);
    *arr = p;
    return 0;
}

static int sec_type(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 3);
    if (r->failed || grow_array(r, (void **)&m->types, 0, n, sizeof(ftype)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (rd_u8(r) != 0x60 && !r->failed) {
            r->p--;
            return rd_fail(r, WASM_ERR_MALFORMED, "integer representation too long");
        }
        ftype *t = &m->types[i];
        m->ntypes = i + 1;
        uint32_t np = rd_count(r, 1);
        if (np > WASM_MAX_PARAMS)
            return rd_fail(r, WASM_ERR_INVALID, "too many parameters");
        const uint8_t *params_at = r->p;
        r->p += r->failed ? 0 : np;
        uint32_t nr = rd_count(r, 1);
        if (nr > WASM_MAX_PARAMS)
            return rd_fail(r, WASM_ERR_INVALID, "too many results");
        if (r->failed)
            return -1;
        const uint8_t *results_at = r->p;
        t->t = calloc((size_t)np + nr + 1, sizeof(wasm_valtype));
        if (!t->t)
            return rd_fail(r, WASM_ERR_NOMEM, "out of memory");
        t->np = np;
        t->nr = nr;
        const uint8_t *resume = r->p + nr;
        r->p = params_at;
        for (uint32_t k = 0; k < np; k++)
            rd_valtype(r, &t->t[k]);
        r->p = results_at;
        for (uint32_t k = 0; k < nr; k++)
            rd_valtype(r, &t->t[np + k]);
        if (r->failed)
            return -1;
        t->ps = types_slots(t->t, np);
        t->rs = types_slots(t->t + np, nr);
        r->p = resume;
    }
    return 0;
}

static int sec_import(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 4);
    if (r->failed || grow_array(r, (void **)&m->imports, 0, n, sizeof(import)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        import *im = &m->imports[i];
        m->nimports = i + 1;
        im->mod = rd_name(r, &im->mod_len);
        im->name = rd_name(r, &im->name_len);
        uint8_t kind = rd_u8(r);
        if (r->failed)
            return -1;
        im->type.kind = (wasm_externkind)kind;
        switch (kind) {
        case WASM_EXTERN_FUNC:
            im->type_index = rd_u32(r);
            if (!r->failed && im->type_index >= m->ntypes)
                return rd_fail(r, WASM_ERR_INVALID, "unknown type");
            m->nimp_funcs++;
            break;
        case WASM_EXTERN_TABLE:
            if (rd_tabletype(r, &im->type.of.table) < 0)
                return -1;
            m->nimp_tables++;
            break;
        case WASM_EXTERN_MEMORY:
            if (rd_memtype(r, &im->type.of.memory) < 0)
                return -1;
            m->nimp_mems++;
            break;
        case WASM_EXTERN_GLOBAL:
            if (rd_globaltype(r, &im->type.of.global) < 0)
                return -1;
            m->nimp_globals++;
            break;
        default:
            r->p--;
            return rd_fail(r, WASM_ERR_MALFORMED, "malformed import kind");
        }
    }
    if (r->failed)
        return -1;
    /* Lay out the index spaces: imported entities come first. */
    if (grow_array(r, (void **)&m->func_types, 0, m->nimp_funcs, sizeof(uint32_t)) < 0 ||
        grow_array(r, (void **)&m->tables, 0, m->nimp_tables, sizeof(wasm_tabletype)) < 0 ||
        grow_array(r, (void **)&m->mems, 0, m->nimp_mems, sizeof(wasm_limits)) < 0 ||
        grow_array(r, (void **)&m->globals, 0, m->nimp_globals, sizeof(global_def)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        import *im = &m->imports[i];
        switch (im->type.kind) {
        case WASM_EXTERN_FUNC: m->func_types[m->nfuncs++] = im->type_index; break;
        case WASM_EXTERN_TABLE: m->tables[m->ntables++] = im->type.of.table; break;
        case WASM_EXTERN_MEMORY: m->mems[m->nmems++] = im->type.of.memory; break;
        case WASM_EXTERN_GLOBAL: m->globals[m->nglobals++].type = im->type.of.global; break;
        }
    }
    return 0;
}

static int sec_function(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 1);
    if (r->failed || grow_array(r, (void **)&m->func_types, m->nfuncs, n, sizeof(uint32_t)) < 0 ||
        grow_array(r, (void **)&m->codes, 0, n, sizeof(fcode)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = rd_u32(r);
        if (r->failed)
            return -1;
        if (t >= m->ntypes)
            return rd_fail(r, WASM_ERR_INVALID, "unknown type");
        m->func_types[m->nfuncs++] = t;
        m->codes[i].type_index = t;
    }
    return 0;
}

static int sec_table(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 3);
    if (r->failed || grow_array(r, (void **)&m->tables, m->ntables, n, sizeof(wasm_tabletype)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (rd_tabletype(r, &m->tables[m->ntables++]) < 0)
            return -1;
    return 0;
}

static int sec_memory(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 2);
    if (r->failed || grow_array(r, (void **)&m->mems, m->nmems, n, sizeof(wasm_limits)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (rd_memtype(r, &m->mems[m->nmems++]) < 0)
            return -1;
    if (m->nmems > 1)
        return rd_fail(r, WASM_ERR_INVALID, "multiple memories");
    return 0;
}

static int sec_global(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 3);
    if (r->failed || grow_array(r, (void **)&m->globals, m->nglobals, n, sizeof(global_def)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        global_def *g = &m->globals[m->nglobals];
        if (rd_globaltype(r, &g->type) < 0 || rd_cexpr(r, m, g->type.type, &g->init) < 0)
            return -1;
        m->nglobals++;
    }
    return 0;
}

static int export_cmp(const void *a, const void *b)
{
    const export *x = *(const export *const *)a, *y = *(const export *const *)b;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, x->name_len);
}

static int check_export_names(reader *r, wasm_module *m)
{
    if (m->nexports < 2)
        return 0;
    const export **sorted = malloc(sizeof(*sorted) * m->nexports);
    if (!sorted)
        return rd_fail(r, WASM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof(*sorted), export_cmp);
    int dup = 0;
    for (uint32_t i = 1; i < m->nexports && !dup; i++)
        dup = export_cmp(&sorted[i - 1], &sorted[i]) == 0;
    free(sorted);
    return dup ? rd_fail(r, WASM_ERR_INVALID, "duplicate export name") : 0;
}

static int sec_export(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 3);
    if (r->failed || grow_array(r, (void **)&m->exports, 0, n, sizeof(export)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        export *e = &m->exports[i];
        m->nexports = i + 1;
        e->name = rd_name(r, &e->name_len);
        uint8_t kind = rd_u8(r);
        e->index = rd_u32(r);
        if (r->failed)
            return -1;
        static const char *const unknown[] = {"unknown function", "unknown table",
                                              "unknown memory", "unknown global"};
        uint32_t limit;
        switch (kind) {
        case WASM_EXTERN_FUNC: limit = m->nfuncs; break;
        case WASM_EXTERN_TABLE: limit = m->ntables; break;
        case WASM_EXTERN_MEMORY: limit = m->nmems; break;
        case WASM_EXTERN_GLOBAL: limit = m->nglobals; break;
        default: return rd_fail(r, WASM_ERR_MALFORMED, "malformed export kind");
        }
        e->kind = (wasm_externkind)kind;
        if (e->index >= limit)
            return rd_fail(r, WASM_ERR_INVALID, unknown[kind]);
        if (kind == WASM_EXTERN_FUNC)
            m->declared_funcs[e->index] = 1;
    }
    return check_export_names(r, m);
}

static int sec_start(reader *r, wasm_module *m)
{
    uint32_t f = rd_u32(r);
    if (r->failed)
        return -1;
    if (f >= m->nfuncs)
        return rd_fail(r, WASM_ERR_INVALID, "unknown function");
    const ftype *t = &m->types[m->func_types[f]];
    if (t->np || t->nr)
        return rd_fail(r, WASM_ERR_INVALID, "start function");
    m->start = f;
    return 0;
}

static int rd_elem_items(reader *r, wasm_module *m, elem_seg *s, bool exprs)
{
    s->count = rd_count(r, 1);
    if (r->failed)
        return -1;
    s->items = calloc(s->count ? s->count : 1, sizeof(cexpr));
    if (!s->items)
        return rd_fail(r, WASM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < s->count; i++) {
        if (exprs) {
            if (rd_cexpr(r, m, s->type, &s->items[i]) < 0)
                return -1;
            continue;
        }
        uint32_t f = rd_u32(r);
        if (r->failed)
            return -1;
        if (f >= m->nfuncs)
            return rd_fail(r, WASM_ERR_INVALID, "unknown function");
        m->declared_funcs[f] = 1;
        s->items[i] = (cexpr){.op = 0xD2, .v = f};
    }
    return 0;
}

static int rd_elem_seg(reader *r, wasm_module *m, elem_seg *s)
{
    uint32_t flags = rd_u32(r);
    if (r->failed)
        return -1;
    if (flags > 7)
        return rd_fail(r, WASM_ERR_MALFORMED, "malformed elements segment kind");
    bool exprs = flags & 4;
    s->mode = (flags & 1) ? ((flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE) : SEG_ACTIVE;
    s->table = (flags & 3) == 2 ? rd_u32(r) : 0;
    s->type = WASM_FUNCREF;
    if (s->mode == SEG_ACTIVE) {
        if (!r->failed && s->table >= m->ntables)
            return rd_fail(r, WASM_ERR_INVALID, "unknown table");
        if (rd_cexpr(r, m, WASM_I32, &s->offset) < 0)
            return -1;
    }
    if (flags & 3) { /* explicit element kind or reference type */
        if (exprs) {
            if (rd_reftype(r, &s->type) < 0)
                return -1;
        } else if (rd_u8(r) != 0x00 && !r->failed) {
            r->p--;
            return rd_fail(r, WASM_ERR_MALFORMED, "malformed element kind");
        }
    }
    if (rd_elem_items(r, m, s, exprs) < 0)
        return -1;
    if (s->mode == SEG_ACTIVE && m->tables[s->table].elem != s->type)
        return rd_fail(r, WASM_ERR_INVALID, "type mismatch");
    return 0;
}

static int sec_element(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 2);
    if (r->failed || grow_array(r, (void **)&m->elems, 0, n, sizeof(elem_seg)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        m->nelems = i + 1;
        if (rd_elem_seg(r, m, &m->elems[i]) < 0)
            return -1;
    }
    return 0;
}

static int sec_data(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 2);
    if (r->failed)
        return -1;
    if (m->data_count >= 0 && n != m->data_count)
        return rd_fail(r, WASM_ERR_MALFORMED,
                       "data count and data section have inconsistent lengths");
    if (grow_array(r, (void **)&m->datas, 0, n, sizeof(data_seg)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        data_seg *d = &m->datas[i];
        m->ndatas = i + 1;
        uint32_t flags = rd_u32(r);
        if (r->failed)
            return -1;
        if (flags > 2)
            return rd_fail(r, WASM_ERR_MALFORMED, "malformed data segment kind");
        d->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
        d->mem = flags == 2 ? rd_u32(r) : 0;
        if (d->mode == SEG_ACTIVE) {
            if (!r->failed && d->mem >= m->nmems)
                return rd_fail(r, WASM_ERR_INVALID, "unknown memory");
            if (rd_cexpr(r, m, WASM_I32, &d->offset) < 0)
                return -1;
        }
        d->len = rd_count(r, 1);
        if (r->failed)
            return -1;
        d->bytes = r->p;
        r->p += d->len;
    }
    return 0;
}

static int sec_code(reader *r, wasm_module *m)
{
    uint32_t n = rd_count(r, 1);
    if (r->failed)
        return -1;
    if (n != m->nfuncs - m->nimp_funcs)
        return rd_fail(r, WASM_ERR_MALFORMED, "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size = rd_count(r, 1);
        if (r->failed)
            return -1;
        m->codes[i].body_offset = (uint32_t)(r->p - r->base);
        m->codes[i].body_len = size;
        r->p += size;
    }
    return 0;
}

/* Section ids in their required order (custom sections, id 0, may appear anywhere). */
static int section_rank(uint8_t id)
{
    static const int8_t rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id < 13 ? rank[id] : -1;
}

static int parse_section(reader *r, wasm_module *m, uint8_t id)
{
    switch (id) {
    case 0: { uint32_t len; char *name = rd_name(r, &len); free(name); r->p = r->end;
              return r->failed ? -1 : 0; }
    case 1: return sec_type(r, m);
    case 2: return sec_import(r, m);
    case 3: return sec_function(r, m);
    case 4: return sec_table(r, m);
    case 5: return sec_memory(r, m);
    case 6: return sec_global(r, m);
    case 7: return sec_export(r, m);
    case 8: return sec_start(r, m);
    case 9: return sec_element(r, m);
    case 10: return sec_code(r, m);
    case 11: return sec_data(r, m);
    default: /* 12 */
        m->data_count = rd_u32(r);
        return r->failed ? -1 : 0;
    }
}

/* Once the function section is known, the declared-reference set can be sized. */
static int ensure_declared(reader *r, wasm_module *m)
{
    if (m->declared_funcs)
        return 0;
    m->declared_funcs = calloc(m->nfuncs ? m->nfuncs : 1, 1);
    return m->declared_funcs ? 0 : rd_fail(r, WASM_ERR_NOMEM, "out of memory");
}

static int decode_sections(reader *r, wasm_module *m)
{
    const uint8_t *file_end = r->end;
    int last_rank = 0;
    bool have_code = false, have_funcs = false;
    while (r->p < file_end) {
        r->end = file_end;
        r->eof_msg = NULL;
        uint8_t id = rd_u8(r);
        int rank = section_rank(id);
        if (rank < 0) {
            r->p--;
            return rd_fail(r, WASM_ERR_MALFORMED, "malformed section id");
        }
        uint32_t size = rd_u32(r);
        if (r->failed)
            return -1;
        if (size > (size_t)(file_end - r->p))
            return rd_fail(r, WASM_ERR_MALFORMED, "length out of bounds");
        if (id != 0) {
            if (rank <= last_rank)
                return rd_fail(r, WASM_ERR_MALFORMED, "unexpected content after last section");
            last_rank = rank;
        }
        if (id > 3 && ensure_declared(r, m) < 0)
            return -1;
        have_code |= id == 10 && size > 0;
        have_funcs |= id == 3;
        const uint8_t *sec_end = r->p + size;
        r->end = sec_end;
        r->eof_msg = "unexpected end of section or function";
        if (parse_section(r, m, id) < 0)
            return -1;
        if (r->p != sec_end)
            return rd_fail(r, WASM_ERR_MALFORMED, "section size mismatch");
    }
    r->end = file_end;
    if (ensure_declared(r, m) < 0)
        return -1;
    if (m->nfuncs > m->nimp_funcs && !have_code)
        return rd_fail(r, WASM_ERR_MALFORMED, "function and code section have inconsistent lengths");
    if (m->data_count >= 0 && m->ndatas != m->data_count)
        return rd_fail(r, WASM_ERR_MALFORMED, "data count and data section have inconsistent lengths");
    if (m->nmems > 1)
        return rd_fail(r, WASM_ERR_INVALID, "multiple memories");
    (void)have_funcs;
    return 0;
}

void wasm_module_free(wasm_module *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->ntypes; i++)
        free(m->types[i].t);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free((char *)m->imports[i].mod);
        free((char *)m->imports[i].name);
    }
    for (uint32_t i = 0; i < m->nexports; i++)
        free((char *)m->exports[i].name);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
#ifdef SB_WASM_COMPILED_TIER
    wasm_jit_free(m);
#endif
    free(m->code_arena);
    free(m->map_arena);
    free(m->types); free(m->imports); free(m->exports); free(m->elems); free(m->datas);
    free(m->func_types); free(m->codes); free(m->tables); free(m->mems); free(m->globals);
    free(m->declared_funcs); free(m->bin);
    free(m);
}

wasm_module *wasm_module_load(const uint8_t *bytes, size_t len, wasm_error *err)
{
    wasm_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!bytes && len)
        return wasm_error_set(err, WASM_ERR_MISUSE, 0, "no module bytes"), NULL;
    if (len > UINT32_MAX)
        return wasm_error_set(err, WASM_ERR_MALFORMED, 0, "module too large"), NULL;
    wasm_module *m = calloc(1, sizeof *m);
    if (!m || !(m->bin = malloc(len ? len : 1))) {
        free(m);
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory"), NULL;
    }
    if (len)
        memcpy(m->bin, bytes, len);
    m->bin_len = len;
    m->start = -1;
    m->data_count = -1;
    reader r = {.p = m->bin, .end = m->bin + len, .base = m->bin, .err = err};
    if (len < 4 || memcmp(m->bin, "\0asm", 4) != 0)
        rd_fail(&r, WASM_ERR_MALFORMED, "magic header not detected");
    else if (len < 8 || memcmp(m->bin + 4, "\1\0\0\0", 4) != 0)
        r.p += 4, rd_fail(&r, WASM_ERR_MALFORMED, "unknown binary version");
    else
        r.p += 8;
    if (r.failed || decode_sections(&r, m) < 0 || wasm_compile_module(m, err) < 0) {
        wasm_module_free(m);
        return NULL;
    }
    return m;
}

/* ------------------------------------------------------------------ introspection */

uint32_t wasm_module_import_count(const wasm_module *m) { return m ? m->nimports : 0; }
uint32_t wasm_module_export_count(const wasm_module *m) { return m ? m->nexports : 0; }

static void fill_functype(const wasm_module *m, uint32_t type_index, wasm_functype *out)
{
    const ftype *t = &m->types[type_index];
    out->nparams = t->np;
    out->nresults = t->nr;
    out->params = t->t;
    out->results = t->t + t->np;
}

int wasm_module_import(const wasm_module *m, uint32_t index, const char **module_name,
                       const char **name, wasm_externtype *type)
{
    if (!m || index >= m->nimports)
        return -1;
    const import *im = &m->imports[index];
    if (module_name)
        *module_name = im->mod;
    if (name)
        *name = im->name;
    if (type) {
        *type = im->type;
        if (im->type.kind == WASM_EXTERN_FUNC)
            fill_functype(m, im->type_index, &type->of.func);
    }
    return 0;
}

int wasm_module_export(const wasm_module *m, uint32_t index, const char **name,
                       wasm_externtype *type)
{
    if (!m || index >= m->nexports)
        return -1;
    const export *e = &m->exports[index];
    if (name)
        *name = e->name;
    if (!type)
        return 0;
    type->kind = e->kind;
    switch (e->kind) {
    case WASM_EXTERN_FUNC: fill_functype(m, m->func_types[e->index], &type->of.func); break;
    case WASM_EXTERN_TABLE: type->of.table = m->tables[e->index]; break;
    case WASM_EXTERN_MEMORY: type->of.memory = m->mems[e->index]; break;
    case WASM_EXTERN_GLOBAL: type->of.global = m->globals[e->index].type; break;
    }
    return 0;
}
