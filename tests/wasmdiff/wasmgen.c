/* wasmgen.c - modules valid by construction from a stream of choices (wasmgen.h).
 *
 * Code is generated as expressions and statements: value(t) emits code that leaves exactly one
 * value of type t on the stack, stmt() emits code that leaves the stack as it was. Every
 * instruction is chosen among those whose operands the generator has just emitted, so the
 * result validates without a value stack; only the enclosing labels' types are tracked (for
 * br, br_if, br_table), and code after a branch is still valid because the stack is then
 * polymorphic. Choice 0 is always the cheapest one (a constant, the end of a list), so a short
 * input gives a short module. Recursion is bounded by GEN_MAX_DEPTH (expressions) times
 * GEN_MAX_NEST (statement lists), and each body's size by an instruction budget. */
#include "wasmgen.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/simdops.h"

enum {
    T_I32 = 0x7f, T_I64 = 0x7e, T_F32 = 0x7d, T_F64 = 0x7c, T_V128 = 0x7b,
    T_FUNCREF = 0x70, T_EXTERNREF = 0x6f,
};
/* The names simdops.h uses for scalar types. */
#define GT_I32 T_I32
#define GT_I64 T_I64
#define GT_F32 T_F32
#define GT_F64 T_F64

#define GEN_MAX_BUF (1u << 20)   /* one growable buffer (a section or a body) */
#define GEN_MAX_DEPTH 7          /* nesting of expressions and blocks: bounds the recursion */
#define GEN_MAX_TYPES 60         /* type indices stay one-byte s33 block types */
#define GEN_MAX_FUNCS 8          /* defined functions */
#define GEN_MAX_SIG 8            /* params + results of one type */
#define GEN_MAX_LOCALS 256
#define GEN_MAX_LABELS 32
#define GEN_MAX_NEST 5           /* nesting of statement lists (blocks in blocks) */
#define GEN_BUDGET 700           /* instructions per function body */
#define GEN_NGLOBALS 10          /* 1 imported + 9 defined */

static const uint8_t all_types[] = {T_I32, T_I64, T_F32, T_F64, T_V128, T_FUNCREF, T_EXTERNREF};
static const uint8_t num_types[] = {T_I32, T_I64, T_F32, T_F64};
/* Global types: index 0 is the imported one; the last two are immutable. */
static const uint8_t global_types[GEN_NGLOBALS] = {T_I64, T_I32, T_I64, T_F32, T_F64, T_V128,
                                                   T_FUNCREF, T_EXTERNREF, T_I32, T_F64};
static const bool global_mut[GEN_NGLOBALS] = {true, true, true, true, true, true, true, true,
                                              false, false};

/* ---------------------------------------------------------------- output buffers */

typedef struct gbuf {
    uint8_t *p;
    size_t len, cap;
    bool full; /* a write did not fit: the module is abandoned */
} gbuf;

static void put(gbuf *b, uint8_t x)
{
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        uint8_t *p = cap <= GEN_MAX_BUF ? realloc(b->p, cap) : NULL;
        if (!p) {
            b->full = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    b->p[b->len++] = x;
}

static void put_bytes(gbuf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(b, p[i]);
}

static void uleb(gbuf *b, uint64_t v)
{
    do {
        uint8_t x = v & 0x7f;
        v >>= 7;
        put(b, (uint8_t)(x | (v ? 0x80 : 0)));
    } while (v);
}

static void sleb(gbuf *b, int64_t v)
{
    for (;;) {
        uint8_t x = (uint8_t)(v & 0x7f);
        v >>= 7; /* arithmetic on every supported compiler */
        bool done = (v == 0 && !(x & 0x40)) || (v == -1 && (x & 0x40));
        put(b, (uint8_t)(x | (done ? 0 : 0x80)));
        if (done)
            return;
    }
}

static void put_name(gbuf *b, const char *s)
{
    size_t n = strlen(s);
    uleb(b, n);
    put_bytes(b, (const uint8_t *)s, n);
}

/* ---------------------------------------------------------------- generator state */

typedef struct gtype {
    uint8_t np, nr;
    uint8_t v[GEN_MAX_SIG]; /* params, then results */
} gtype;

typedef struct label {
    uint8_t n;
    uint8_t t[GEN_MAX_SIG];
    bool loop;
} label;

typedef struct gen {
    const uint8_t *in;
    size_t n, pos;
    uint32_t budget, depth, nest;
    gtype types[GEN_MAX_TYPES];
    uint32_t ntypes;
    uint32_t nfuncs;                     /* 1 import + defined */
    uint32_t ftype[GEN_MAX_FUNCS + 1];   /* type index of each function */
    uint32_t table0, table1;             /* initial sizes */
    uint32_t pages;                      /* initial memory pages */
    /* the function being generated */
    gbuf *code;
    uint8_t ltype[GEN_MAX_LOCALS];
    uint32_t nlocals;
    uint32_t cur;                        /* its function index */
    label labels[GEN_MAX_LABELS];
    uint32_t nlabels;
    int64_t counter;                     /* the innermost counted loop's local, or -1 */
    uint32_t no_calls;                   /* inside a loop kept free of calls */
    uint32_t pinnable;                   /* inside a loop of register-friendly operations only */
    uint32_t simd_loop;                  /* inside a loop walking memory with vectors */
} gen;

/* ---------------------------------------------------------------- choices */

static uint32_t byte(gen *g)
{
    return g->pos < g->n ? g->in[g->pos++] : 0;
}

static uint32_t pick(gen *g, uint32_t n)
{
    return n ? byte(g) % n : 0;
}

static uint32_t pick16(gen *g, uint32_t n)
{
    uint32_t v = byte(g);
    return n ? ((v << 8) | byte(g)) % n : 0;
}

static uint32_t rnd32(gen *g)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | byte(g);
    return v;
}

/* True with about pct percent; false once the input is used up. */
static bool chance(gen *g, uint32_t pct)
{
    return g->pos < g->n && byte(g) % 100 < pct;
}

static uint8_t pick_type(gen *g, bool refs)
{
    uint32_t r = pick(g, refs ? 16 : 14);
    if (r >= 14)
        return r == 14 ? T_FUNCREF : T_EXTERNREF;
    static const uint8_t weighted[14] = {T_I32, T_I32, T_I32, T_I32, T_I64, T_I64, T_I64,
                                         T_F32, T_F32, T_F64, T_F64, T_F64, T_V128, T_V128};
    return weighted[r];
}

/* ---------------------------------------------------------------- types */

static bool same_types(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb)
{
    return na == nb && memcmp(a, b, na) == 0;
}

/* The index of type t, added when new; -1 when the list is full. */
static int type_index(gen *g, const gtype *t)
{
    for (uint32_t i = 0; i < g->ntypes; i++)
        if (g->types[i].np == t->np && g->types[i].nr == t->nr &&
            memcmp(g->types[i].v, t->v, (size_t)t->np + t->nr) == 0)
            return (int)i;
    if (g->ntypes == GEN_MAX_TYPES)
        return -1;
    g->types[g->ntypes] = *t;
    return (int)g->ntypes++;
}

static void random_sig(gen *g, gtype *t, uint32_t maxp, uint32_t maxr, bool refs)
{
    memset(t, 0, sizeof *t);
    t->np = (uint8_t)pick(g, maxp + 1);
    t->nr = (uint8_t)pick(g, maxr + 1);
    for (uint32_t i = 0; i < (uint32_t)t->np + t->nr; i++)
        t->v[i] = pick_type(g, refs);
}

/* ---------------------------------------------------------------- emitting */

static void op(gen *g, uint8_t x)
{
    put(g->code, x);
}

static void op_u(gen *g, uint8_t x, uint64_t imm)
{
    put(g->code, x);
    uleb(g->code, imm);
}

static void simd(gen *g, uint32_t sub)
{
    put(g->code, 0xfd);
    uleb(g->code, sub);
}

static void fc(gen *g, uint32_t sub)
{
    put(g->code, 0xfc);
    uleb(g->code, sub);
}

static void i32c(gen *g, uint32_t v)
{
    op(g, 0x41);
    sleb(g->code, (int32_t)v);
}

static void value(gen *g, uint8_t t);
static void stmts(gen *g);

/* ---------------------------------------------------------------- constants */

static uint32_t const_i32(gen *g)
{
    static const uint32_t v[] = {0, 1, 0xffffffffu, 0x80000000u, 0x7fffffffu, 31, 32, 33, 63, 64,
                                 0xffff, 0x10000, 0xfff0, 0x8000, 0x80, 0xff, 2, 0xfffffffe};
    uint32_t r = pick(g, 24);
    if (r < sizeof v / sizeof v[0])
        return v[r];
    return r == 18 ? rnd32(g) : byte(g);
}

static uint64_t const_i64(gen *g)
{
    static const uint64_t v[] = {0, 1, ~0ull, 1ull << 63, (1ull << 63) - 1, 63, 64, 65, 31, 32,
                                 0xffffffffull, 1ull << 32, 0x80000000ull, 0xffffffff80000000ull,
                                 0xfff8, 2};
    uint32_t r = pick(g, 22);
    if (r < sizeof v / sizeof v[0])
        return v[r];
    if (r == 16)
        return ((uint64_t)rnd32(g) << 32) | rnd32(g);
    return r == 17 ? rnd32(g) : byte(g);
}

static uint32_t const_f32(gen *g)
{
    static const uint32_t v[] = {
        0, 0x80000000u, 0x7fc00000u, 0xffc00000u, 0x7fa00001u, 0x7fc12345u, 0xff812345u,
        0x7f800000u, 0xff800000u, 0x00000001u, 0x807fffffu, 0x3f800000u, 0xbf800000u,
        0x4f000000u, 0xcf000000u, 0x5f000000u, 0xdf000000u, 0x3f000000u, 0x3fc00000u,
        0x40200000u, 0xbfc00000u, 0x7f7fffffu, 0x4effffffu, 0x4f800000u, 0xcf000001u};
    uint32_t r = pick(g, 30);
    if (r < sizeof v / sizeof v[0])
        return v[r];
    return r == 25 ? rnd32(g) : (0x40000000u | (byte(g) << 16)); /* 2.0 .. about 8 */
}

static uint64_t const_f64(gen *g)
{
    static const uint64_t v[] = {
        0, 1ull << 63, 0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff4000000000001ull,
        0x7ff8000012345678ull, 0xfff0000000000001ull, 0x7ff0000000000000ull,
        0xfff0000000000000ull, 1, 0x800fffffffffffffull, 0x3ff0000000000000ull,
        0xbff0000000000000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull,
        0x43e0000000000000ull, 0xc3e0000000000000ull, 0x3fe0000000000000ull,
        0x3ff8000000000000ull, 0x4004000000000000ull, 0xbff8000000000000ull,
        0x7fefffffffffffffull, 0x41efffffffe00000ull, 0x41dfffffffffffffull,
        0xc1e0000000200000ull, 0x43f0000000000000ull};
    uint32_t r = pick(g, 31);
    if (r < sizeof v / sizeof v[0])
        return v[r];
    if (r == 26)
        return ((uint64_t)rnd32(g) << 32) | rnd32(g);
    return 0x4000000000000000ull | ((uint64_t)byte(g) << 44);
}

/* v128 constants: lanes of one of the scalar patterns above, or random bytes. */
static void const_v128(gen *g, uint8_t out[16])
{
    uint32_t shape = pick(g, 6);
    for (int i = 0; i < 16;) {
        uint64_t x;
        int w;
        switch (shape) {
        case 1: x = const_i32(g), w = 4; break;
        case 2: x = const_i64(g), w = 8; break;
        case 3: x = const_f32(g), w = 4; break;
        case 4: x = const_f64(g), w = 8; break;
        case 5: x = byte(g), w = 1; break;
        default: x = 0, w = 16; break;
        }
        for (int k = 0; k < w && i < 16; k++, i++)
            out[i] = (uint8_t)(k < 8 ? x >> (8 * k) : 0);
    }
}

/* The n low bytes of v, little-endian (the bits of an f32/f64.const). */
static void put_le(gbuf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        put(b, (uint8_t)(v >> (8 * i)));
}

static void constant(gen *g, uint8_t t)
{
    switch (t) {
    case T_I32: i32c(g, const_i32(g)); break;
    case T_I64: op(g, 0x42), sleb(g->code, (int64_t)const_i64(g)); break;
    case T_F32: op(g, 0x43), put_le(g->code, const_f32(g), 4); break;
    case T_F64: op(g, 0x44), put_le(g->code, const_f64(g), 8); break;
    case T_V128: {
        uint8_t v[16];
        const_v128(g, v);
        simd(g, SIMD_OP_CONST);
        put_bytes(g->code, v, 16);
        break;
    }
    case T_FUNCREF:
        if (chance(g, 60))
            op_u(g, 0xd2, pick(g, g->nfuncs));
        else
            op(g, 0xd0), op(g, T_FUNCREF);
        break;
    default: op(g, 0xd0), op(g, T_EXTERNREF); break;
    }
}

/* ---------------------------------------------------------------- locals, globals */

/* A local of type t: every function declares at least one of each type. */
static uint32_t local_of(gen *g, uint8_t t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->nlocals; i++)
        n += g->ltype[i] == t;
    uint32_t k = pick(g, n);
    for (uint32_t i = 0; i < g->nlocals; i++)
        if (g->ltype[i] == t && k-- == 0)
            return i;
    return 0; /* not reached: n >= 1 */
}

/* The first declared local of type t: a scratch slot used between two adjacent instructions. */
static uint32_t scratch_of(gen *g, uint8_t t)
{
    uint32_t np = g->types[g->ftype[g->cur]].np;
    for (uint32_t i = np; i < g->nlocals; i++)
        if (g->ltype[i] == t)
            return i;
    return 0;
}

static int global_of(gen *g, uint8_t t, bool mut)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < GEN_NGLOBALS; i++)
        n += global_types[i] == t && (!mut || global_mut[i]);
    if (!n)
        return -1;
    uint32_t k = pick(g, n);
    for (uint32_t i = 0; i < GEN_NGLOBALS; i++)
        if (global_types[i] == t && (!mut || global_mut[i]) && k-- == 0)
            return (int)i;
    return -1;
}

static void leaf(gen *g, uint8_t t)
{
    uint32_t r = pick(g, 4);
    int gl = r == 2 ? global_of(g, t, false) : -1;
    if (r == 1 || r == 3)
        op_u(g, 0x20, local_of(g, t));
    else if (gl >= 0)
        op_u(g, 0x23, (uint32_t)gl);
    else
        constant(g, t);
}

/* ---------------------------------------------------------------- scalar operators */

/* Opcodes lo..hi (0x100 + n: 0xFC n) with result type res and operand types a, b (0: unary). */
typedef struct oprange {
    uint16_t lo, hi;
    uint8_t res, a, b;
} oprange;

static const oprange scalar_ops[] = {
    {0x45, 0x45, T_I32, T_I32, 0},       {0x67, 0x69, T_I32, T_I32, 0},
    {0xc0, 0xc1, T_I32, T_I32, 0},       {0x50, 0x50, T_I32, T_I64, 0},
    {0xa7, 0xa7, T_I32, T_I64, 0},       {0xa8, 0xa9, T_I32, T_F32, 0},
    {0xbc, 0xbc, T_I32, T_F32, 0},       {0x100, 0x101, T_I32, T_F32, 0},
    {0xaa, 0xab, T_I32, T_F64, 0},       {0x102, 0x103, T_I32, T_F64, 0},
    {0x46, 0x4f, T_I32, T_I32, T_I32},   {0x6a, 0x78, T_I32, T_I32, T_I32},
    {0x6d, 0x70, T_I32, T_I32, T_I32},   /* div/rem twice as often */
    {0x51, 0x5a, T_I32, T_I64, T_I64},   {0x5b, 0x60, T_I32, T_F32, T_F32},
    {0x61, 0x66, T_I32, T_F64, T_F64},
    {0x79, 0x7b, T_I64, T_I64, 0},       {0xc2, 0xc4, T_I64, T_I64, 0},
    {0xac, 0xad, T_I64, T_I32, 0},       {0xae, 0xaf, T_I64, T_F32, 0},
    {0x104, 0x105, T_I64, T_F32, 0},     {0xb0, 0xb1, T_I64, T_F64, 0},
    {0xbd, 0xbd, T_I64, T_F64, 0},       {0x106, 0x107, T_I64, T_F64, 0},
    {0x7c, 0x8a, T_I64, T_I64, T_I64},   {0x7f, 0x82, T_I64, T_I64, T_I64},
    {0x8b, 0x91, T_F32, T_F32, 0},       {0xb2, 0xb3, T_F32, T_I32, 0},
    {0xbe, 0xbe, T_F32, T_I32, 0},       {0xb4, 0xb5, T_F32, T_I64, 0},
    {0xb6, 0xb6, T_F32, T_F64, 0},       {0x92, 0x98, T_F32, T_F32, T_F32},
    {0x96, 0x98, T_F32, T_F32, T_F32},   /* min/max/copysign twice as often */
    {0x99, 0x9f, T_F64, T_F64, 0},       {0xb7, 0xb8, T_F64, T_I32, 0},
    {0xb9, 0xba, T_F64, T_I64, 0},       {0xbf, 0xbf, T_F64, T_I64, 0},
    {0xbb, 0xbb, T_F64, T_F32, 0},       {0xa0, 0xa6, T_F64, T_F64, T_F64},
    {0xa4, 0xa6, T_F64, T_F64, T_F64},
};

static void emit_scalar_op(gen *g, uint16_t code)
{
    if (code >= 0x100)
        fc(g, code - 0x100u);
    else
        op(g, (uint8_t)code);
}

/* Operators the compiled tier keeps in registers inside pinned loops (integer arithmetic and
 * compares, f32/f64 add, sub, mul, div and compares); the others call helpers or use SIMD. */
static bool pinnable_code(uint16_t code)
{
    return code <= 0x8a || (code >= 0x92 && code <= 0x95) || (code >= 0xa0 && code <= 0xa3);
}

static bool op_fits(const oprange *o, uint16_t code, uint8_t t, bool binary_same, bool pin)
{
    return o->res == t && (!binary_same || (o->a == t && o->b == t)) &&
           (!pin || pinnable_code(code));
}

/* An operator producing t; binary_same: only t t -> t (for accumulations); pin: only pinnable
 * ones. NULL when there is none. */
static const oprange *pick_scalar(gen *g, uint8_t t, bool binary_same, uint16_t *code)
{
    const size_t n = sizeof scalar_ops / sizeof scalar_ops[0];
    bool pin = g->pinnable > 0;
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++)
        for (uint16_t c = scalar_ops[i].lo; c <= scalar_ops[i].hi; c++)
            total += op_fits(&scalar_ops[i], c, t, binary_same, pin);
    if (total == 0)
        return NULL;
    uint32_t k = pick16(g, total);
    for (size_t i = 0; i < n; i++)
        for (uint16_t c = scalar_ops[i].lo; c <= scalar_ops[i].hi; c++)
            if (op_fits(&scalar_ops[i], c, t, binary_same, pin) && k-- == 0) {
                *code = c;
                return &scalar_ops[i];
            }
    return NULL;
}

static void scalar_op(gen *g, uint8_t t)
{
    uint16_t code;
    const oprange *o = pick_scalar(g, t, false, &code);
    if (!o) {
        constant(g, t);
        return;
    }
    value(g, o->a);
    if (o->b)
        value(g, o->b);
    emit_scalar_op(g, code);
}

/* ---------------------------------------------------------------- memory */

typedef struct memop {
    uint8_t code, type, align;
} memop;

static const memop loads[] = {
    {0x28, T_I32, 2}, {0x29, T_I64, 3}, {0x2a, T_F32, 2}, {0x2b, T_F64, 3}, {0x2c, T_I32, 0},
    {0x2d, T_I32, 0}, {0x2e, T_I32, 1}, {0x2f, T_I32, 1}, {0x30, T_I64, 0}, {0x31, T_I64, 0},
    {0x32, T_I64, 1}, {0x33, T_I64, 1}, {0x34, T_I64, 2}, {0x35, T_I64, 2},
};
static const memop stores[] = {
    {0x36, T_I32, 2}, {0x37, T_I64, 3}, {0x38, T_F32, 2}, {0x39, T_F64, 3}, {0x3a, T_I32, 0},
    {0x3b, T_I32, 1}, {0x3c, T_I64, 0}, {0x3d, T_I64, 1}, {0x3e, T_I64, 2},
};

static void memarg(gen *g, uint32_t natural)
{
    static const uint32_t near_end[] = {65536, 65535, 65532, 65528, 65520, 65534, 131072 - 8};
    uleb(g->code, natural - pick(g, natural + 1)); /* any alignment up to the natural one */
    uint32_t off;
    switch (pick(g, 12)) {
    case 5:
    case 6: off = byte(g); break;
    case 7: off = near_end[pick(g, 7)]; break;
    case 8: off = pick16(g, 65536); break;
    case 9: off = 0xffffffffu - pick(g, 16); break;
    default: off = 0; break;
    }
    uleb(g->code, off);
}

/* An address: in bounds, just below the end (static or current), from the counter, anything. */
static void address(gen *g)
{
    uint32_t end = g->pages * 65536u;
    uint32_t r = pick(g, 10);
    if ((g->pinnable && r == 2) || (g->simd_loop && r >= 5))
        r = 3; /* the counter, not memory.size (a helper call) or arbitrary values */
    switch (r) {
    case 1: i32c(g, end - pick(g, 24)); return;
    case 2: /* the current end, after any memory.grow */
        op_u(g, 0x3f, 0), i32c(g, 16), op(g, 0x74), i32c(g, pick(g, 24)), op(g, 0x6b);
        return;
    case 3:
    case 4: /* scaled counter: loops walking memory */
        op_u(g, 0x20, g->counter >= 0 ? (uint32_t)g->counter : local_of(g, T_I32));
        i32c(g, 1u << pick(g, 5)), op(g, 0x6c), i32c(g, byte(g)), op(g, 0x6a);
        return;
    case 5: value(g, T_I32), i32c(g, 0xffff), op(g, 0x71); return;
    case 6: value(g, T_I32); return;
    case 7: i32c(g, rnd32(g)); return;
    default: i32c(g, byte(g) * (1u + pick(g, 64))); return;
    }
}

static void load(gen *g, uint8_t t)
{
    uint32_t n = 0, k;
    for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++)
        n += loads[i].type == t;
    k = pick(g, n);
    for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++)
        if (loads[i].type == t && k-- == 0) {
            address(g);
            op(g, loads[i].code);
            memarg(g, loads[i].align);
            return;
        }
}

static void store(gen *g)
{
    const memop *s = &stores[pick(g, sizeof stores / sizeof stores[0])];
    address(g);
    value(g, s->type);
    op(g, s->code);
    memarg(g, s->align);
}

/* A length for bulk operations: short, zero, or reaching past the end. */
static void length(gen *g)
{
    switch (pick(g, 6)) {
    case 1: i32c(g, 0); return;
    case 2: value(g, T_I32); return;
    case 3: i32c(g, g->pages * 65536u - pick16(g, 300)); return;
    default: i32c(g, pick(g, 80)); return;
    }
}

static void memory_bulk(gen *g)
{
    switch (pick(g, 4)) {
    case 0: address(g), value(g, T_I32), length(g), fc(g, 11), op(g, 0); return;  /* fill */
    case 1: address(g), address(g), length(g), fc(g, 10), op(g, 0), op(g, 0); return; /* copy */
    case 2: /* memory.init from the passive segment 1 (64 bytes) */
        address(g), i32c(g, pick(g, 72)), length(g), fc(g, 8), uleb(g->code, 1), op(g, 0);
        return;
    default: fc(g, 9), uleb(g->code, pick(g, 2)); return; /* data.drop */
    }
}

/* ---------------------------------------------------------------- SIMD */

#define OPC(code, name) code,
#define OPC_TYPED(code, name, type, lanes) {code, GT_##type, lanes},
#define OPC_MEM(code, name, bytes, x) {code, bytes, x},
static const uint8_t simd_unops[] = {SIMD_UNOPS(OPC)};
static const uint8_t simd_binops[] = {SIMD_BINOPS(OPC)};
static const uint8_t simd_tests[] = {SIMD_TESTS(OPC)};
static const uint8_t simd_shifts[] = {SIMD_SHIFTS(OPC)};
typedef struct simdop {
    uint8_t code, a, b; /* scalar type and lanes, or bytes and alignment/lanes */
} simdop;
#define OPC_SPLAT(code, name, type) {code, GT_##type, 0},
static const simdop simd_splats[] = {SIMD_SPLATS(OPC_SPLAT)};
static const simdop simd_extracts[] = {SIMD_EXTRACTS(OPC_TYPED)};
static const simdop simd_replaces[] = {SIMD_REPLACES(OPC_TYPED)};
static const simdop simd_loads[] = {SIMD_LOADS(OPC_MEM)};
static const simdop simd_lane_loads[] = {SIMD_LANE_LOADS(OPC_MEM)};
static const simdop simd_lane_stores[] = {SIMD_LANE_STORES(OPC_MEM)};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t log2_of(uint32_t bytes)
{
    uint32_t l = 0;
    while ((1u << l) < bytes)
        l++;
    return l;
}

/* A lane load or store from `ops`: address, the vector, the memarg and the lane. */
static void simd_lane_access(gen *g, const simdop *ops, uint32_t n)
{
    const simdop *o = &ops[pick(g, n)];
    address(g), value(g, T_V128), simd(g, o->code);
    memarg(g, log2_of(o->a));
    put(g->code, (uint8_t)pick(g, o->b));
}

static void simd_load(gen *g)
{
    if (chance(g, 30)) {
        simd_lane_access(g, simd_lane_loads, COUNT(simd_lane_loads));
        return;
    }
    const simdop *o = &simd_loads[pick(g, COUNT(simd_loads))];
    address(g), simd(g, o->code);
    memarg(g, o->b);
}

static void simd_store(gen *g)
{
    if (chance(g, 40)) {
        simd_lane_access(g, simd_lane_stores, COUNT(simd_lane_stores));
        return;
    }
    address(g), value(g, T_V128), simd(g, SIMD_OP_STORE);
    memarg(g, 4);
}

static void simd_value(gen *g)
{
    switch (pick(g, 12)) {
    case 1: {
        const simdop *o = &simd_splats[pick(g, COUNT(simd_splats))];
        value(g, o->a), simd(g, o->code);
        return;
    }
    case 2: value(g, T_V128), simd(g, simd_unops[pick(g, COUNT(simd_unops))]); return;
    case 3:
    case 4:
    case 5:
        value(g, T_V128), value(g, T_V128);
        simd(g, simd_binops[pick(g, COUNT(simd_binops))]);
        return;
    case 6: value(g, T_V128), value(g, T_V128), value(g, T_V128), simd(g, 82); return;
    case 7:
        value(g, T_V128), value(g, T_I32), simd(g, simd_shifts[pick(g, COUNT(simd_shifts))]);
        return;
    case 8: {
        const simdop *o = &simd_replaces[pick(g, COUNT(simd_replaces))];
        value(g, T_V128), value(g, o->a), simd(g, o->code), put(g->code, (uint8_t)pick(g, o->b));
        return;
    }
    case 9:
        value(g, T_V128), value(g, T_V128), simd(g, SIMD_OP_SHUFFLE);
        for (int i = 0; i < 16; i++)
            put(g->code, (uint8_t)pick(g, 32));
        return;
    case 10: simd_load(g); return;
    default: constant(g, T_V128); return;
    }
}

/* A scalar of type t from a vector, when some operation gives one. */
static bool simd_scalar(gen *g, uint8_t t)
{
    if (t == T_I32 && chance(g, 50)) {
        value(g, T_V128), simd(g, simd_tests[pick(g, COUNT(simd_tests))]);
        return true;
    }
    uint32_t n = 0;
    for (size_t i = 0; i < COUNT(simd_extracts); i++)
        n += simd_extracts[i].a == t;
    uint32_t k = pick(g, n);
    for (size_t i = 0; i < COUNT(simd_extracts); i++)
        if (simd_extracts[i].a == t && k-- == 0) {
            value(g, T_V128), simd(g, simd_extracts[i].code);
            put(g->code, (uint8_t)pick(g, simd_extracts[i].b));
            return true;
        }
    return false;
}

/* ---------------------------------------------------------------- control */

/* Keeps result k of the values `res` (on the stack) and drops the others. */
static void keep_one(gen *g, const uint8_t *res, uint32_t nr, uint32_t k)
{
    uint32_t s = scratch_of(g, res[k]);
    for (uint32_t i = nr; i-- > 0;) {
        if (i == k)
            op_u(g, 0x21, s);
        else
            op(g, 0x1a);
    }
    op_u(g, 0x20, s);
}

static void drop_all(gen *g, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        op(g, 0x1a);
}

static void values(gen *g, const uint8_t *t, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        value(g, t[i]);
}

/* Writes a fitted block type: [], one result, or a type index. */
static void block_type(gen *g, const gtype *bt)
{
    if (bt->np == 0 && bt->nr == 0) {
        op(g, 0x40);
    } else if (bt->np == 0 && bt->nr == 1) {
        op(g, bt->v[0]);
    } else {
        int idx = type_index(g, bt);
        sleb(g->code, idx < 0 ? 0 : idx); /* found: fit_type added it */
    }
}

/* The body of a block, loop or if arm whose params are on the stack. */
static void block_body(gen *g, const gtype *bt)
{
    const uint8_t *p = bt->v, *r = bt->v + bt->np;
    bool through = same_types(p, bt->np, r, bt->nr) && chance(g, 50);
    if (!through) { /* consume the params: into locals or dropped */
        for (uint32_t i = bt->np; i-- > 0;) {
            if (chance(g, 50))
                op_u(g, 0x21, local_of(g, p[i]));
            else
                op(g, 0x1a);
        }
    }
    stmts(g);
    if (!through)
        values(g, r, bt->nr);
}

/* Makes bt expressible as a block type: without a free type index, at most one result and no
 * params (callers that keep a result ask for one). */
static void fit_type(gen *g, gtype *bt)
{
    gtype copy = *bt;
    if ((bt->np || bt->nr > 1) && type_index(g, &copy) < 0) {
        bt->v[0] = bt->v[bt->np];
        bt->np = 0;
        bt->nr = bt->nr ? 1 : 0;
    }
}

/* block, loop or if (kind 2, 3, 4) of type bt (fitted; a label is free), params emitted here. */
static void structured(gen *g, uint8_t kind, gtype *bt)
{
    values(g, bt->v, bt->np);
    if (kind == 4)
        value(g, T_I32);
    op(g, kind);
    block_type(g, bt);
    label *l = &g->labels[g->nlabels++];
    l->loop = kind == 3;
    l->n = kind == 3 ? bt->np : bt->nr;
    memcpy(l->t, kind == 3 ? bt->v : bt->v + bt->np, l->n);
    block_body(g, bt);
    if (kind == 4 && (!same_types(bt->v, bt->np, bt->v + bt->np, bt->nr) || chance(g, 60))) {
        op(g, 0x05);
        block_body(g, bt);
    }
    op(g, 0x0b);
    g->nlabels--;
}

/* A structured instruction leaving one t (with its other results dropped). */
static bool structured_value(gen *g, uint8_t kind, uint8_t t)
{
    if (g->nlabels == GEN_MAX_LABELS)
        return false;
    gtype bt;
    random_sig(g, &bt, 2, 2, false);
    if (bt.nr == 0)
        bt.nr = 1;
    uint32_t k = pick(g, bt.nr);
    bt.v[bt.np + k] = t;
    gtype copy = bt;
    if ((bt.np || bt.nr > 1) && type_index(g, &copy) < 0)
        bt.np = 0, bt.nr = 1, bt.v[0] = t, k = 0;
    structured(g, kind, &bt);
    if (bt.nr > 1)
        keep_one(g, bt.v + bt.np, bt.nr, k);
    return true;
}

/* Label depth for a branch; loops less often (a backward branch repeats until fuel runs out). */
static uint32_t branch_depth(gen *g)
{
    uint32_t d = pick(g, g->nlabels);
    if (g->labels[g->nlabels - 1 - d].loop && !chance(g, 20))
        d = g->nlabels - 1; /* the function's own label */
    return d;
}

static void br_table(gen *g)
{
    uint32_t d = branch_depth(g);
    const label *l = &g->labels[g->nlabels - 1 - d];
    uint32_t cand[GEN_MAX_LABELS], nc = 0;
    for (uint32_t i = 0; i < g->nlabels; i++) {
        const label *o = &g->labels[g->nlabels - 1 - i];
        if (same_types(o->t, o->n, l->t, l->n))
            cand[nc++] = i;
    }
    uint32_t n = chance(g, 25) ? pick16(g, 400) : pick(g, 9);
    values(g, l->t, l->n);
    if (chance(g, 50))
        i32c(g, pick(g, n + 3));
    else
        value(g, T_I32);
    op_u(g, 0x0e, n);
    for (uint32_t i = 0; i < n; i++)
        uleb(g->code, cand[pick(g, nc)]);
    uleb(g->code, d);
}

/* Leaves the current path: what follows is unreachable (and still valid). With may_nop, a nop
 * instead now and then (statements need not diverge; values must). */
static void diverge(gen *g, bool may_nop)
{
    switch (pick(g, may_nop ? 6 : 5)) {
    case 2: br_table(g); return;
    case 3: {
        const gtype *ft = &g->types[g->ftype[g->cur]];
        values(g, ft->v + ft->np, ft->nr);
        op(g, 0x0f);
        return;
    }
    case 4: op(g, 0x00); return; /* unreachable: rarest, its trap ends the call at once */
    case 5: op(g, 0x01); return; /* nop */
    default: {
        uint32_t d = branch_depth(g);
        const label *l = &g->labels[g->nlabels - 1 - d];
        values(g, l->t, l->n);
        op_u(g, 0x0c, d);
        return;
    }
    }
}

/* br_if to a label whose types are exactly [t]: a value of type t. */
static bool br_if_value(gen *g, uint8_t t)
{
    for (uint32_t d = 0; d < g->nlabels; d++) {
        const label *l = &g->labels[g->nlabels - 1 - d];
        if (l->n == 1 && l->t[0] == t && !l->loop && chance(g, 50)) {
            value(g, t), value(g, T_I32), op_u(g, 0x0d, d);
            return true;
        }
    }
    return false;
}

static void br_if_stmt(gen *g)
{
    uint32_t d = branch_depth(g);
    const label *l = &g->labels[g->nlabels - 1 - d];
    values(g, l->t, l->n);
    value(g, T_I32);
    op_u(g, 0x0d, d);
    drop_all(g, l->n);
}

/* ---------------------------------------------------------------- calls */

/* Calls a function (direct or through table 0) and leaves result t, or all results when t is 0
 * (then drops them). False when no function has such a result. */
static bool call(gen *g, uint8_t t, bool indirect)
{
    if (g->no_calls)
        return false;
    uint32_t n = indirect ? g->ntypes : g->nfuncs;
    uint32_t start = pick(g, n);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = (start + j) % n;
        const gtype *ft = &g->types[indirect ? i : g->ftype[i]];
        int k = -1;
        for (uint32_t r = 0; r < ft->nr && t; r++)
            if (ft->v[ft->np + r] == t)
                k = (int)r;
        if (t && k < 0)
            continue;
        values(g, ft->v, ft->np);
        if (indirect) {
            if (chance(g, 60))
                i32c(g, pick(g, g->table0 + 3));
            else
                value(g, T_I32);
            op_u(g, 0x11, i), uleb(g->code, 0);
        } else {
            op_u(g, 0x10, i);
        }
        if (t)
            keep_one(g, ft->v + ft->np, ft->nr, (uint32_t)k);
        else
            drop_all(g, ft->nr);
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- tables and references */

static void table_index(gen *g, uint32_t size)
{
    if (chance(g, 70))
        i32c(g, pick(g, size + 3));
    else
        value(g, T_I32);
}

static void ref_value(gen *g, uint8_t t)
{
    uint32_t tab = t == T_FUNCREF ? 0 : 1;
    switch (pick(g, 4)) {
    case 1: table_index(g, tab ? g->table1 : g->table0), op_u(g, 0x25, tab); return;
    case 2: leaf(g, t); return;
    default: constant(g, t); return;
    }
}

static void table_stmt(gen *g)
{
    uint32_t tab = pick(g, 2), size = tab ? g->table1 : g->table0;
    uint8_t t = tab ? T_EXTERNREF : T_FUNCREF;
    switch (pick(g, 6)) {
    case 0: table_index(g, size), value(g, t), op_u(g, 0x26, tab); return;
    case 1: table_index(g, size), value(g, t), table_index(g, size), fc(g, 17), uleb(g->code, tab);
        return;
    case 2:
        table_index(g, size), table_index(g, size), table_index(g, size), fc(g, 14);
        uleb(g->code, tab), uleb(g->code, tab);
        return;
    case 3: /* table.init from the passive segment 1 (4 entries) */
        table_index(g, g->table0), i32c(g, pick(g, 6)), i32c(g, pick(g, 6)), fc(g, 12);
        uleb(g->code, 1), uleb(g->code, 0);
        return;
    case 4: fc(g, 13), uleb(g->code, pick(g, 2)); return; /* elem.drop */
    default:
        value(g, t), i32c(g, chance(g, 80) ? pick(g, 4) : rnd32(g)), fc(g, 15), uleb(g->code, tab);
        op(g, 0x1a);
        return;
    }
}

/* i32 values with no operator table entry: sizes, grows, null tests. */
static void i32_misc(gen *g)
{
    switch (pick(g, 5)) {
    case 0: op_u(g, 0x3f, 0); return;
    case 1:
        if (chance(g, 80))
            i32c(g, pick(g, 3));
        else
            value(g, T_I32);
        op_u(g, 0x40, 0);
        return;
    case 2: fc(g, 16), uleb(g->code, pick(g, 2)); return;
    case 3: value(g, chance(g, 50) ? T_FUNCREF : T_EXTERNREF), op(g, 0xd1); return;
    default: {
        uint32_t tab = pick(g, 2);
        value(g, tab ? T_EXTERNREF : T_FUNCREF), i32c(g, pick(g, 4)), fc(g, 15);
        uleb(g->code, tab);
        return;
    }
    }
}

/* ---------------------------------------------------------------- values */

static void select_value(gen *g, uint8_t t)
{
    value(g, t), value(g, t), value(g, T_I32);
    if (t == T_FUNCREF || t == T_EXTERNREF || chance(g, 30))
        op(g, 0x1c), op(g, 1), op(g, t);
    else
        op(g, 0x1b);
}

/* The operator families of a type: arithmetic for numbers, SIMD for v128, tables for refs. */
static void typed_op(gen *g, uint8_t t)
{
    if (t == T_V128)
        simd_value(g);
    else if (t == T_FUNCREF || t == T_EXTERNREF)
        ref_value(g, t);
    else
        scalar_op(g, t);
}

static bool value_more(gen *g, uint8_t t, uint32_t r)
{
    switch (r) {
    case 13: return structured_value(g, 2, t);
    case 14: return structured_value(g, 4, t);
    case 15: return structured_value(g, 3, t);
    case 16: return call(g, t, false);
    case 17: return call(g, t, true);
    case 18: return br_if_value(g, t);
    case 19:
        if (!chance(g, 10)) /* the rest of the block becomes dead code */
            return false;
        diverge(g, false);
        return true;
    case 20: return t != T_V128 && t != T_FUNCREF && t != T_EXTERNREF && simd_scalar(g, t);
    case 21:
        if (t != T_I32)
            return false;
        i32_misc(g);
        return true;
    default: return false;
    }
}

static void value_body(gen *g, uint8_t t)
{
    uint32_t r = pick(g, 32);
    bool num = t != T_FUNCREF && t != T_EXTERNREF;
    switch (r) {
    case 0: constant(g, t); return;
    case 1:
    case 2: op_u(g, 0x20, local_of(g, t)); return;
    case 3: leaf(g, t); return;
    case 4: value(g, t), op_u(g, 0x22, local_of(g, t)); return;
    case 10:
    case 11:
        if (num && t != T_V128) {
            load(g, t);
            return;
        }
        break;
    case 12: select_value(g, t); return;
    default:
        if (r >= 13 && r <= 21 && value_more(g, t, r))
            return;
        if (r >= 22 || (r >= 5 && r <= 9)) {
            typed_op(g, t);
            return;
        }
        break;
    }
    leaf(g, t);
}

/* Values inside a pinnable loop: locals, constants, scalar arithmetic, loads. */
static void value_pinnable(gen *g, uint8_t t)
{
    bool num = t == T_I32 || t == T_I64 || t == T_F32 || t == T_F64;
    switch (num ? pick(g, 10) : 0) {
    case 1:
    case 2:
    case 3: op_u(g, 0x20, local_of(g, t)); return;
    case 4: value(g, t), op_u(g, 0x22, local_of(g, t)); return;
    case 5:
    case 6:
    case 7: scalar_op(g, t); return;
    case 8: load(g, t); return;
    case 9:
        if (br_if_value(g, t))
            return;
        break;
    default: break;
    }
    leaf(g, t);
}

static void value(gen *g, uint8_t t)
{
    if (g->depth >= GEN_MAX_DEPTH || g->budget == 0 || g->code->full) {
        leaf(g, t);
        return;
    }
    g->depth++;
    g->budget--;
    if (g->pinnable)
        value_pinnable(g, t);
    else
        value_body(g, t);
    g->depth--;
}

/* ---------------------------------------------------------------- statements */

/* local op= value: the shape of loop-carried accumulators. */
static void accumulate(gen *g)
{
    uint8_t t = num_types[pick(g, 4)];
    if (chance(g, 40))
        t = T_F64;
    uint32_t l = local_of(g, t);
    uint16_t code;
    op_u(g, 0x20, l);
    value(g, t);
    if (pick_scalar(g, t, true, &code))
        emit_scalar_op(g, code);
    else
        op(g, 0x1a);
    op_u(g, 0x21, l);
}

/* A loop counting a local down (or up) to its exit, often free of calls so that the compiled
 * tier keeps its hottest locals in registers across iterations. */
static void counted_loop(gen *g)
{
    if (g->nlabels == GEN_MAX_LABELS || g->nest + 1 >= GEN_MAX_NEST) /* keep room for a body */
        return;
    uint32_t c = local_of(g, T_I32);
    bool up = chance(g, 40);
    uint32_t n = 1 + pick(g, 40);
    i32c(g, up ? 0 : n), op_u(g, 0x21, c);
    op(g, 0x03), op(g, 0x40);
    label *l = &g->labels[g->nlabels++];
    l->n = 0, l->loop = true;
    int64_t old_counter = g->counter;
    bool pure = chance(g, 60), vec = !pure && chance(g, 50);
    g->counter = c;
    g->no_calls += pure;
    g->pinnable += pure;
    g->simd_loop += vec;
    stmts(g);
    g->simd_loop -= vec;
    g->pinnable -= pure;
    g->no_calls -= pure;
    g->counter = old_counter;
    op_u(g, 0x20, c), i32c(g, 1), op(g, up ? 0x6a : 0x6b), op_u(g, 0x22, c);
    if (up)
        i32c(g, n), op(g, 0x48); /* i32.lt_s */
    op_u(g, 0x0d, 0);
    op(g, 0x0b);
    g->nlabels--;
}

static void stmt_block(gen *g, uint8_t kind)
{
    if (g->nlabels == GEN_MAX_LABELS)
        return;
    gtype bt;
    random_sig(g, &bt, 2, 2, chance(g, 10));
    fit_type(g, &bt);
    structured(g, kind, &bt);
    drop_all(g, bt.nr);
}

/* Statements inside a pinnable loop: local updates, scalar stores, branches, nested loops. */
static void stmt_pinnable(gen *g)
{
    uint8_t t = num_types[pick(g, 4)];
    switch (pick(g, 10)) {
    case 0:
    case 1: value(g, t), op_u(g, 0x21, local_of(g, t)); return;
    case 2: store(g); return;
    case 3:
    case 4:
    case 5: accumulate(g); return;
    case 6: br_if_stmt(g); return;
    case 7:
        if (g->nlabels < GEN_MAX_LABELS) { /* if [] -> [] or [t] -> [t] (no type index needed) */
            gtype bt = {.np = 0, .nr = 0};
            structured(g, chance(g, 50) ? 4 : 2, &bt);
        }
        return;
    case 8:
        if (chance(g, 30)) /* mostly innermost loops: those are pinned */
            counted_loop(g);
        return;
    default: op(g, 0x01); return;
    }
}

static void stmt(gen *g)
{
    uint8_t t;
    if (g->pinnable) {
        stmt_pinnable(g);
        return;
    }
    if (g->simd_loop && chance(g, 40)) { /* vectors loaded, combined and stored along the counter */
        simd_store(g);
        return;
    }
    switch (pick(g, 24)) {
    case 0:
    case 1: t = pick_type(g, true), value(g, t), op_u(g, 0x21, local_of(g, t)); return;
    case 2: {
        t = pick_type(g, true);
        int gl = global_of(g, t, true);
        if (gl >= 0)
            value(g, t), op_u(g, 0x24, (uint32_t)gl);
        return;
    }
    case 3:
    case 4: store(g); return;
    case 5: value(g, pick_type(g, true)), op(g, 0x1a); return;
    case 6: stmt_block(g, 2); return;
    case 7: stmt_block(g, 3); return;
    case 8:
    case 9: stmt_block(g, 4); return;
    case 10:
    case 11: counted_loop(g); return;
    case 12: br_if_stmt(g); return;
    case 13: call(g, 0, false); return;
    case 14: call(g, 0, true); return;
    case 15: memory_bulk(g); return;
    case 16: table_stmt(g); return;
    case 17: simd_store(g); return;
    case 18:
    case 19:
    case 20: accumulate(g); return;
    case 21:
        if (chance(g, 40))
            diverge(g, true);
        return;
    default: op(g, 0x01); return;
    }
}

/* Up to a dozen statements (none once the input is used up or the budget spent). */
static void stmts(gen *g)
{
    if (g->nest >= GEN_MAX_NEST)
        return;
    g->nest++;
    uint32_t n = pick(g, g->nest == 1 ? 16 : 9); /* the function's own list is longer */
    for (uint32_t i = 0; i < n && g->budget > 0 && !g->code->full; i++) {
        g->budget--;
        stmt(g);
    }
    g->nest--;
}

/* ---------------------------------------------------------------- functions */

/* Declares the locals: at least one of each type (a scratch slot), often many. */
static void locals(gen *g, gbuf *body)
{
    const gtype *ft = &g->types[g->ftype[g->cur]];
    g->nlocals = ft->np;
    memcpy(g->ltype, ft->v, ft->np);
    uleb(body, COUNT(all_types));
    for (size_t i = 0; i < COUNT(all_types); i++) {
        uint32_t n = 1 + pick(g, 4);
        if (chance(g, 20))
            n += pick(g, 24); /* many: more than the registers the compiled tier pins */
        uleb(body, n);
        put(body, all_types[i]);
        for (uint32_t k = 0; k < n && g->nlocals < GEN_MAX_LOCALS; k++)
            g->ltype[g->nlocals++] = all_types[i];
    }
}

static void function_body(gen *g, uint32_t f, gbuf *code)
{
    const gtype *ft = &g->types[g->ftype[f]];
    g->cur = f;
    g->depth = 0;
    g->nest = 0;
    g->budget = GEN_BUDGET;
    g->counter = -1;
    g->no_calls = 0;
    g->nlabels = 1;
    g->labels[0].n = ft->nr;
    g->labels[0].loop = false;
    memcpy(g->labels[0].t, ft->v + ft->np, ft->nr);
    gbuf body = {0};
    g->code = &body;
    locals(g, &body);
    stmts(g);
    values(g, ft->v + ft->np, ft->nr);
    op(g, 0x0b);
    code->full |= body.full;
    uleb(code, body.len);
    put_bytes(code, body.p, body.len);
    free(body.p);
    g->code = NULL;
}

/* ---------------------------------------------------------------- module sections */

static void section(gbuf *out, uint8_t id, gbuf *content)
{
    put(out, id);
    uleb(out, content->len);
    put_bytes(out, content->p, content->len);
    out->full |= content->full;
    free(content->p);
    memset(content, 0, sizeof *content);
}

static void const_expr(gbuf *b, uint8_t t, uint64_t bits, uint32_t func)
{
    switch (t) {
    case T_I32: put(b, 0x41), sleb(b, (int32_t)bits); break;
    case T_I64: put(b, 0x42), sleb(b, (int64_t)bits); break;
    case T_F32:
        put(b, 0x43);
        for (int i = 0; i < 4; i++)
            put(b, (uint8_t)(bits >> (8 * i)));
        break;
    case T_F64:
        put(b, 0x44);
        for (int i = 0; i < 8; i++)
            put(b, (uint8_t)(bits >> (8 * i)));
        break;
    case T_V128:
        put(b, 0xfd), uleb(b, SIMD_OP_CONST);
        for (int i = 0; i < 16; i++)
            put(b, (uint8_t)(bits >> (8 * (i % 8))));
        break;
    case T_FUNCREF:
        if (func)
            put(b, 0xd2), uleb(b, func - 1);
        else
            put(b, 0xd0), put(b, T_FUNCREF);
        break;
    default: put(b, 0xd0), put(b, T_EXTERNREF); break;
    }
    put(b, 0x0b);
}

static void type_section(gen *g, gbuf *out)
{
    gbuf s = {0};
    uleb(&s, g->ntypes);
    for (uint32_t i = 0; i < g->ntypes; i++) {
        const gtype *t = &g->types[i];
        put(&s, 0x60);
        uleb(&s, t->np);
        put_bytes(&s, t->v, t->np);
        uleb(&s, t->nr);
        put_bytes(&s, t->v + t->np, t->nr);
    }
    section(out, 1, &s);
}

static void import_section(gen *g, gbuf *out)
{
    gbuf s = {0};
    uleb(&s, 2);
    put_name(&s, "env"), put_name(&s, "host"), put(&s, 0x00), uleb(&s, g->ftype[0]);
    put_name(&s, "env"), put_name(&s, "glob"), put(&s, 0x03), put(&s, global_types[0]), put(&s, 1);
    section(out, 2, &s);
}

static void function_section(gen *g, gbuf *out)
{
    gbuf s = {0};
    uleb(&s, g->nfuncs - 1);
    for (uint32_t f = 1; f < g->nfuncs; f++)
        uleb(&s, g->ftype[f]);
    section(out, 3, &s);
}

static void table_memory_sections(gen *g, gbuf *out, bool max)
{
    gbuf s = {0};
    uleb(&s, 2);
    put(&s, T_FUNCREF), put(&s, 0x01), uleb(&s, g->table0), uleb(&s, g->table0 + 40);
    put(&s, T_EXTERNREF), put(&s, 0x00), uleb(&s, g->table1);
    section(out, 4, &s);
    uleb(&s, 1);
    if (max)
        put(&s, 0x01), uleb(&s, g->pages), uleb(&s, g->pages + 3);
    else
        put(&s, 0x00), uleb(&s, g->pages);
    section(out, 5, &s);
}

static void global_section(gen *g, gbuf *out)
{
    gbuf s = {0};
    uleb(&s, GEN_NGLOBALS - 1);
    for (uint32_t i = 1; i < GEN_NGLOBALS; i++) {
        uint8_t t = global_types[i];
        put(&s, t), put(&s, global_mut[i]);
        uint64_t bits = t == T_I32 || t == T_I64 ? const_i64(g) : t == T_F32 ? const_f32(g)
                                                                             : const_f64(g);
        const_expr(&s, t, bits, pick(g, g->nfuncs + 1));
    }
    section(out, 6, &s);
}

static void export_section(gen *g, gbuf *out)
{
    gbuf s = {0};
    char name[16];
    uleb(&s, (g->nfuncs - 1) + 3 + GEN_NGLOBALS - 1);
    for (uint32_t f = 1; f < g->nfuncs; f++) {
        name[0] = 'f', name[1] = (char)('0' + f), name[2] = '\0';
        put_name(&s, name), put(&s, 0x00), uleb(&s, f);
    }
    put_name(&s, "mem"), put(&s, 0x02), uleb(&s, 0);
    put_name(&s, "tab0"), put(&s, 0x01), uleb(&s, 0);
    put_name(&s, "tab1"), put(&s, 0x01), uleb(&s, 1);
    for (uint32_t i = 1; i < GEN_NGLOBALS; i++) {
        name[0] = 'g', name[1] = (char)('0' + i), name[2] = '\0';
        put_name(&s, name), put(&s, 0x03), uleb(&s, i);
    }
    section(out, 7, &s);
}

/* Segment 0: active at 0 in table 0 (functions and nulls); 1: passive, 4 entries; 2: declarative. */
static void element_section(gen *g, gbuf *out)
{
    gbuf s = {0};
    uint32_t n = pick(g, g->table0 + 1);
    uleb(&s, 3);
    put(&s, 0x04), const_expr(&s, T_I32, 0, 0), uleb(&s, n);
    for (uint32_t i = 0; i < n; i++)
        const_expr(&s, T_FUNCREF, 0, chance(g, 80) ? 1 + pick(g, g->nfuncs) : 0);
    put(&s, 0x05), put(&s, T_FUNCREF), uleb(&s, 4);
    for (uint32_t i = 0; i < 4; i++)
        const_expr(&s, T_FUNCREF, 0, chance(g, 80) ? 1 + pick(g, g->nfuncs) : 0);
    put(&s, 0x03), put(&s, 0x00), uleb(&s, g->nfuncs); /* declares every function for ref.func */
    for (uint32_t f = 0; f < g->nfuncs; f++)
        uleb(&s, f);
    section(out, 9, &s);
}

/* Segment 0: active, somewhere in the first page; segment 1: passive, 64 bytes. */
static void data_section(gen *g, gbuf *out)
{
    gbuf s = {0};
    uint32_t n = pick(g, 48);
    uleb(&s, 2);
    put(&s, 0x00), const_expr(&s, T_I32, pick16(g, 65536 - 48), 0), uleb(&s, n);
    for (uint32_t i = 0; i < n; i++)
        put(&s, (uint8_t)byte(g));
    put(&s, 0x01), uleb(&s, 64);
    for (uint32_t i = 0; i < 64; i++)
        put(&s, (uint8_t)(byte(g) ^ (i * 37)));
    section(out, 11, &s);
}

static void code_section(gen *g, gbuf *out)
{
    gbuf s = {0};
    uleb(&s, g->nfuncs - 1);
    for (uint32_t f = 1; f < g->nfuncs && !s.full; f++)
        function_body(g, f, &s);
    section(out, 10, &s);
}

/* Signatures first: calls and call_indirect need every function's type before any body. */
static void signatures(gen *g)
{
    g->nfuncs = 2 + pick(g, GEN_MAX_FUNCS);
    for (uint32_t f = 0; f < g->nfuncs; f++) {
        gtype t;
        random_sig(g, &t, f ? 5 : 3, f ? 3 : 2, chance(g, 15));
        int idx = type_index(g, &t);
        g->ftype[f] = idx < 0 ? 0 : (uint32_t)idx;
    }
}

size_t wasmgen_module(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
    static const uint8_t header[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    gen *g = calloc(1, sizeof *g);
    if (!g)
        return 0;
    g->in = data, g->n = size;
    signatures(g);
    g->table0 = 2 + pick(g, 14);
    g->table1 = pick(g, 5);
    g->pages = 1 + pick(g, 2);
    bool max = chance(g, 50);
    /* The code is generated first (it adds block types); sections are then written in order. */
    gbuf code = {0}, mod = {0};
    gbuf globals = {0}, elems = {0}, datas = {0};
    global_section(g, &globals);
    element_section(g, &elems);
    data_section(g, &datas);
    code_section(g, &code);
    put_bytes(&mod, header, sizeof header);
    type_section(g, &mod);
    import_section(g, &mod);
    function_section(g, &mod);
    table_memory_sections(g, &mod, max);
    put_bytes(&mod, globals.p, globals.len);
    export_section(g, &mod);
    put_bytes(&mod, elems.p, elems.len);
    put(&mod, 12), put(&mod, 1), put(&mod, 2); /* data count: 2 */
    put_bytes(&mod, code.p, code.len);
    put_bytes(&mod, datas.p, datas.len);
    bool ok = !mod.full && !code.full && !globals.full && !elems.full && !datas.full &&
              mod.len <= cap && mod.len <= WASMGEN_MAX_MODULE;
    size_t len = ok ? mod.len : 0;
    if (ok)
        memcpy(out, mod.p, len);
    free(mod.p), free(code.p), free(globals.p), free(elems.p), free(datas.p);
    free(g);
    return len;
}
