/* compile.c - validation and translation of function bodies in one pass.
 *
 * The validator is the spec appendix's algorithm: an operand stack whose entries may be "unknown"
 * (type 0) after unreachable code, and a stack of control frames. Each operand-stack entry also
 * says where its value lives at run time (a virtual stack): in its home slot (TEMP), still in a
 * local (LOCAL, so local.get costs nothing), or as a constant (CONST, so constants become
 * immediates). Frame layout: [params+locals][operand stack homes][scratch], where a v128 takes
 * two consecutive slots wherever it lives. See docs/engine.md. */
#include "wasm/decode.h"
#include "wasm/ops.h"
#include "wasm/simdops.h"

#include <stdlib.h>

enum { K_TEMP, K_LOCAL, K_CONST };
#define VT_i32 WASM_I32
#define VT_i64 WASM_I64
#define VT_f32 WASM_F32
#define VT_f64 WASM_F64
#define SCRATCH_BASE 0x80000000u /* slot ids >= this are scratch slots, relocated at the end */
#define NO_FIXUP (-1)

typedef struct ventry {
    uint8_t t;    /* wasm_valtype, 0 = unknown (unreachable code) */
    uint8_t kind; /* K_TEMP / K_LOCAL / K_CONST */
    uint32_t slot;
    uint64_t k;   /* constant bits for K_CONST */
} ventry;

typedef struct ctl {
    uint8_t op;          /* 0 function, 0x02 block, 0x03 loop, 0x04 if */
    bool unreachable;    /* validation: stack is polymorphic */
    bool dead;           /* translation: no code is emitted */
    bool entry_dead, has_else;
    uint32_t height;     /* operand stack height below the block's values */
    uint32_t np, nr;
    const wasm_valtype *pt, *rt;
    uint32_t loop_pc;    /* loop: branch target */
    int64_t fixups;      /* chain of forward-branch cells to patch at end */
    int64_t else_fixup;  /* if: the false branch's cell */
    uint32_t saved;      /* if: index of saved parameter entries in comp.saved */
    uint64_t checked_gen; /* br_table validation mark */
} ctl;

typedef struct comp {
    reader r;
    wasm_module *m;
    const void *const *H;
    const ftype *ft;
    wasm_valtype *ltypes;
    uint32_t nlocals, nlslots; /* locals, and the slots they take */
    uint32_t *loff;          /* slot of each local */
    uint32_t *lref;          /* number of LOCAL entries naming each local (by slot) */
    ventry *st;
    uint32_t *hoff;          /* home of each operand-stack height, from the first operand slot */
    uint32_t sh, scap, hcap, max_h, clean; /* entries below `clean` are TEMP in their home slot */
    ctl *cs;
    uint32_t ch, ccap;
    ventry *saved;
    uint32_t nsaved, savedcap;
    cell *code;              /* all functions' code, one after the other */
    uint32_t len, cap, base; /* base: where the current function starts */
    srcmap *map;
    uint32_t nmap, mapcap, map_base;
    uint32_t ltcap, lrcap, locap;
    uint32_t code_budget;    /* cells this module may translate to (guards against blow-up) */
    uint64_t gen;
    uint32_t *sfix;
    uint32_t nsfix, sfixcap, nscratch, scratch_live;
    uint32_t fuel_pos;
    uint64_t fuel_count;
    uint32_t fold_pos, fold_end, fold_h, fold_start; /* the last value-producing instruction */
    uint32_t last_mov, label_pos; /* where the last mov starts; the latest branch target */
    uint32_t acc_src;        /* slot whose value an `_a` instruction took from the accumulator */
    int fold_op;
    uint32_t cur_off, cur_depth; /* the instruction being translated and the blocks open then */
    bool mapped, oom;
    bool emitting;           /* the current instruction is being emitted (live code) */
    ventry bottom;
    ventry tmp[WASM_MAX_PARAMS];
} comp;

static const wasm_valtype single_types[] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64, WASM_V128,
                                            WASM_FUNCREF, WASM_EXTERNREF};

/* Malformed input is reported where decoding stopped; validation errors at the start of the
 * offending instruction. */
static int fail(comp *c, wasm_errkind kind, const char *msg)
{
    if (kind != WASM_ERR_MALFORMED && !c->r.failed && c->cur_off)
        c->r.p = c->r.base + c->cur_off;
    return rd_fail(&c->r, kind, msg);
}

static int invalid(comp *c, const char *msg) { return fail(c, WASM_ERR_INVALID, msg); }

#define MAX_ARRAY (1u << 28) /* elements in any translation buffer: bounds code per module */

static bool grow_slow(comp *c, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need > MAX_ARRAY || (arr == (void **)&c->code && need > c->code_budget)) {
        c->oom = true;
        fail(c, WASM_ERR_LIMIT, "module too large to translate");
        return false;
    }
    uint64_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p) {
        c->oom = true;
        fail(c, WASM_ERR_NOMEM, "out of memory");
        return false;
    }
    *arr = p;
    *cap = (uint32_t)ncap;
    return true;
}

static inline bool grow(comp *c, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    return need <= *cap || grow_slow(c, arr, cap, need, elem);
}

/* Functions that run for every instruction or operand translated (push, pop, instruction(), the
 * emitters): forcing them inline makes loading a 1 MiB module ~8% faster each (gcc 12 -O2 keeps
 * them out of line otherwise). */
#define HOT_INLINE static inline __attribute__((always_inline))

static ctl *cur(comp *c) { return &c->cs[c->ch - 1]; }
static bool live(comp *c) { return !c->r.failed && !cur(c)->dead; }
/* The home slot of operand-stack height h: valid for every height up to the current one, and
 * for the heights of operands the current instruction has just popped. max_h is in slots. */
static uint32_t home(comp *c, uint32_t h) { return c->nlslots + c->hoff[h]; }

/* ------------------------------------------------------------------ emission */

/* Immediates follow their handler: they are emitted exactly when emit_op emitted one. */
static inline void emit_u(comp *c, uint64_t v)
{
    if (c->emitting && grow(c, (void **)&c->code, &c->cap, c->len + 1, sizeof(cell)))
        c->code[c->len++].u = v;
}

static void emit_op(comp *c, int op)
{
    c->last_mov = UINT32_MAX; /* move_to sets it again after its own mov */
    c->emitting = live(c);
    if (!c->emitting)
        return;
    if (!c->mapped && grow(c, (void **)&c->map, &c->mapcap, c->nmap + 1, sizeof(srcmap))) {
        c->map[c->nmap++] = (srcmap){c->len - c->base, c->cur_off};
        c->mapped = true;
    }
    c->fold_start = c->len;
    c->fold_op = op;
    if (grow(c, (void **)&c->code, &c->cap, c->len + 1, sizeof(cell)))
        c->code[c->len++].h = c->H[op];
}

HOT_INLINE void emit_slot(comp *c, uint32_t slot)
{
    if (live(c) && slot >= SCRATCH_BASE && grow(c, (void **)&c->sfix, &c->sfixcap, c->nsfix + 1, 4))
        c->sfix[c->nsfix++] = c->len;
    emit_u(c, slot);
}

/* The destination cell of a value-producing instruction: remembered so that a following
 * local.set can retarget it (the result then goes straight into the local). */
HOT_INLINE void emit_dst(comp *c, uint32_t h)
{
    emit_u(c, home(c, h));
    c->fold_pos = c->len - 1;
    c->fold_end = c->len;
    c->fold_h = h;
}

/* Never across a label: a branch target at c->len would land inside the rewritten instruction
 * (and the value at h may come from the branch). */
static bool folds_with_last(comp *c, uint32_t h)
{
    return live(c) && c->fold_end == c->len && c->fold_h == h && c->len > 0 &&
           c->label_pos != c->len;
}

/* Whether the interpreter's accumulator holds the value of `slot` when the next instruction
 * runs: the last instruction emitted wrote it and is of the accumulator family. */
static bool acc_holds(comp *c, uint32_t slot)
{
    return live(c) && c->fold_end == c->len && c->len > 0 && c->label_pos != c->len &&
           c->fold_op < OP_ACC_END && c->code[c->fold_pos].u == slot;
}

/* Patches a chain of forward-branch cells to jump to `target`. */
static void patch_chain(comp *c, int64_t pos, uint32_t target)
{
    while (pos != NO_FIXUP) {
        int64_t next = c->code[pos].i;
        c->code[pos].i = (int64_t)target - pos;
        pos = next;
    }
}

static void emit_fwd(comp *c, int64_t *chain)
{
    if (!live(c))
        return;
    emit_u(c, (uint64_t)*chain);
    if (!c->r.failed)
        *chain = c->len - 1;
}

static void emit_back(comp *c, uint32_t target)
{
    emit_u(c, (uint64_t)((int64_t)target - (int64_t)c->len));
}

static void emit_fuel(comp *c)
{
    if (!live(c))
        return;
    if (c->fuel_pos)
        c->code[c->fuel_pos].u = c->fuel_count ? c->fuel_count : 1;
    emit_op(c, OP_fuel);
    emit_u(c, 1);
    c->fuel_pos = c->len - 1;
    c->fuel_count = 0;
}

/* ------------------------------------------------------------------ virtual operand stack */

static void unref(comp *c, const ventry *e)
{
    if (e->kind == K_LOCAL)
        c->lref[e->slot]--;
    else if (e->kind == K_TEMP && e->slot >= SCRATCH_BASE)
        c->scratch_live--;
}

/* The operand stack and its homes grow together: hoff has one entry more than st. */
static bool grow_stack(comp *c)
{
    return grow(c, (void **)&c->st, &c->scap, c->sh + 2, sizeof(ventry)) &&
           grow(c, (void **)&c->hoff, &c->hcap, c->scap + 1, sizeof(uint32_t));
}


HOT_INLINE void push(comp *c, uint8_t t, uint8_t kind, uint32_t slot, uint64_t k)
{
    if (c->sh >= WASM_MAX_FRAME_SLOTS) {
        fail(c, WASM_ERR_LIMIT, "operand stack too deep");
        return;
    }
    if (c->sh + 1 >= c->scap && !grow_stack(c))
        return;
    c->st[c->sh++] = (ventry){t, kind, slot, k};
    uint32_t top = c->hoff[c->sh - 1] + valtype_slots(t);
    c->hoff[c->sh] = top;
    if (top > c->max_h)
        c->max_h = top;
    if (kind == K_LOCAL)
        c->lref[slot]++;
    else if (kind == K_TEMP && slot >= SCRATCH_BASE)
        c->scratch_live++;
}

static void push_temp(comp *c, uint8_t t) { push(c, t, K_TEMP, home(c, c->sh), 0); }

/* Pops one value, checking its type (want 0 = any). The result stays valid until the next push. */
HOT_INLINE ventry *pop(comp *c, uint8_t want)
{
    ctl *f = cur(c);
    if (c->sh == f->height) {
        if (!f->unreachable)
            invalid(c, "type mismatch");
        c->bottom = (ventry){0, K_TEMP, home(c, c->sh), 0};
        return &c->bottom;
    }
    ventry *e = &c->st[--c->sh];
    if (want && e->t && e->t != want)
        invalid(c, "type mismatch");
    if (c->clean > c->sh)
        c->clean = c->sh;
    unref(c, e);
    return e;
}

/* Pops n values of the given types into c->tmp (in stack order). */
static void pop_n(comp *c, uint32_t n, const wasm_valtype *types)
{
    for (uint32_t i = n; i-- > 0;)
        c->tmp[i] = *pop(c, (uint8_t)types[i]);
}

/* Moves the value of a popped entry into slot dst (no code if it is already there). */
static void move_to(comp *c, const ventry *e, uint32_t dst)
{
    if (e->t == WASM_V128) { /* never a constant: v128.const writes its home */
        if (e->slot != dst) {
            emit_op(c, OP_v128_mov);
            emit_slot(c, e->slot);
            emit_slot(c, dst);
        }
        c->last_mov = UINT32_MAX;
    } else if (e->kind == K_CONST) {
        emit_op(c, OP_const);
        emit_u(c, e->k);
        emit_slot(c, dst);
    } else if (e->slot != dst && live(c) && c->len >= 3 && c->last_mov == c->len - 3 &&
               c->label_pos != c->len) {
        /* two moves in a row (phi moves at block ends, loop rotations) share one dispatch */
        c->code[c->last_mov].h = c->H[OP_mov2];
        c->last_mov = UINT32_MAX;
        c->emitting = true;
        emit_slot(c, e->slot);
        emit_slot(c, dst);
    } else if (e->slot != dst) {
        emit_op(c, OP_mov);
        /* in dead code nothing is emitted: a position recorded there would name whatever
         * live code later puts at that cell */
        c->last_mov = c->emitting ? c->len - 1 : UINT32_MAX;
        emit_slot(c, e->slot);
        emit_slot(c, dst);
    }
}

/* The slot to read a popped entry (which stood at height h) from; constants are written to the
 * entry's home slot first. */
static uint32_t rd(comp *c, const ventry *e, uint32_t h)
{
    if (e->kind != K_CONST)
        return e->slot;
    move_to(c, e, home(c, h));
    return home(c, h);
}

/* Makes live stack entry i a TEMP in its home slot. */
static void settle(comp *c, uint32_t i)
{
    ventry *e = &c->st[i];
    if (e->kind == K_TEMP && e->slot == home(c, i))
        return;
    unref(c, e);
    move_to(c, e, home(c, i));
    e->kind = K_TEMP;
    e->slot = home(c, i);
}

/* Before control flow merges, every value below the new block must be in its home slot so that
 * all paths agree on where values live. */
static void settle_all(comp *c)
{
    for (uint32_t i = c->clean; i < c->sh; i++)
        settle(c, i);
    c->clean = c->sh;
}

static void settle_local_refs(comp *c, uint32_t local)
{
    for (uint32_t i = c->sh; i-- > 0 && c->lref[local] > 0;)
        if (c->st[i].kind == K_LOCAL && c->st[i].slot == local)
            settle(c, i);
}

static void settle_scratch(comp *c)
{
    for (uint32_t i = c->sh; i-- > 0 && c->scratch_live > 0;)
        if (c->st[i].kind == K_TEMP && c->st[i].slot >= SCRATCH_BASE)
            settle(c, i);
}

/* Moves n popped values (c->tmp) to consecutive slots from dst. For the function's result area
 * (dst below the operand homes), values still in locals or scratch are first copied to their own
 * homes so that writing result slot i cannot clobber a later source. */
static void move_vals(comp *c, const ventry *vals, uint32_t n, uint32_t dst, uint32_t h0)
{
    bool two_phase = dst < c->nlslots && n > 1;
    for (uint32_t i = 0; i < n && two_phase; i++)
        if (vals[i].kind == K_LOCAL || (vals[i].kind == K_TEMP && vals[i].slot >= SCRATCH_BASE))
            move_to(c, &vals[i], home(c, h0 + i));
    for (uint32_t i = 0; i < n; dst += valtype_slots(vals[i++].t)) {
        ventry v = vals[i];
        if (two_phase && (v.kind == K_LOCAL || (v.kind == K_TEMP && v.slot >= SCRATCH_BASE)))
            v.kind = K_TEMP, v.slot = home(c, h0 + i);
        move_to(c, &v, dst);
    }
}

static bool needs_moves(const ventry *vals, uint32_t n, uint32_t dst)
{
    for (uint32_t i = 0; i < n; dst += valtype_slots(vals[i++].t))
        if (vals[i].kind != K_TEMP || vals[i].slot != dst)
            return true;
    return false;
}

/* ------------------------------------------------------------------ control */

static uint32_t label_arity(const ctl *t) { return t->op == 0x03 ? t->np : t->nr; }
static const wasm_valtype *label_types(const ctl *t) { return t->op == 0x03 ? t->pt : t->rt; }
static uint32_t label_dst(comp *c, const ctl *t) { return t->op == 0 ? 0 : home(c, t->height); }

static void emit_return(comp *c, const ventry *vals, uint32_t n, uint32_t h0)
{
    if (n == 1 && vals[0].t != WASM_V128) {
        uint32_t s = rd(c, &vals[0], h0);
        emit_op(c, OP_ret1);
        emit_slot(c, s);
        return;
    }
    move_vals(c, vals, n, 0, h0);
    emit_op(c, OP_ret);
}

/* Unconditional jump to label t with the n values in c->tmp (which stood from height h0). */
static void emit_jump(comp *c, ctl *t, uint32_t n, uint32_t h0)
{
    if (t->op == 0) {
        emit_return(c, c->tmp, n, h0);
        return;
    }
    move_vals(c, c->tmp, n, label_dst(c, t), h0);
    emit_op(c, OP_br);
    if (t->op == 0x03)
        emit_back(c, t->loop_pc);
    else
        emit_fwd(c, &t->fixups);
}

/* The branch-target cell of a conditional jump just emitted. */
static void emit_target(comp *c, ctl *t)
{
    if (t->op == 0x03)
        emit_back(c, t->loop_pc);
    else
        emit_fwd(c, &t->fixups);
}

static bool is_cmp(int op)
{
    return (op >= OP_i32_eq && op < OP_i32_eq + 40) || (op >= OP_i64_eq && op < OP_i64_eq + 40);
}

/* Index (0..9) of a compare's inverse, in the order eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u. */
static int cmp_inverse(int k)
{
    static const int8_t inv[10] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};
    return inv[k];
}

/* Emits "branch if cond (or if !cond when negate) to the cell chain/target that the caller then
 * appends". Fuses with the compare or eqz that produced cond when it was the last instruction. */
static void emit_cond_branch(comp *c, const ventry *cond, uint32_t h, bool negate)
{
    if (cond->kind == K_TEMP && folds_with_last(c, h) &&
        (is_cmp(c->fold_op) || c->fold_op == OP_i32_eqz || c->fold_op == OP_i64_eqz)) {
        int op = c->fold_op;
        uint64_t a = c->code[c->fold_start + 1].u, b = c->code[c->fold_start + 2].u;
        c->len = c->fold_start;
        c->fold_end = 0;
        while (c->nsfix > 0 && c->sfix[c->nsfix - 1] >= c->len)
            c->nsfix--; /* the re-emitted operands register their scratch uses again */
        if (op == OP_i32_eqz || op == OP_i64_eqz) {
            bool wide = op == OP_i64_eqz;
            emit_op(c, negate ? (wide ? OP_br_if64 : OP_br_if) : (wide ? OP_br_unless64 : OP_br_unless));
            emit_slot(c, (uint32_t)a);
            return;
        }
        int base = op >= OP_i64_eq ? OP_i64_eq : OP_i32_eq;
        int k = (op - base) / 4, imm = (op - base) % 4 == 1;
        if (negate)
            k = cmp_inverse(k);
        emit_op(c, base + 4 * k + (imm ? 3 : 2));
        emit_slot(c, (uint32_t)a);
        if (imm)
            emit_u(c, b);
        else
            emit_slot(c, (uint32_t)b);
        return;
    }
    uint32_t s = rd(c, cond, h);
    emit_op(c, negate ? OP_br_unless : OP_br_if);
    emit_slot(c, s);
}

static int read_blocktype(comp *c, uint32_t *np, const wasm_valtype **pt, uint32_t *nr,
                          const wasm_valtype **rt)
{
    reader *r = &c->r;
    if (r->p >= r->end)
        return rd_u8(r), -1;
    uint8_t b = *r->p;
    *np = 0;
    *pt = NULL;
    if (b == 0x40) {
        r->p++;
        *nr = 0;
        *rt = NULL;
        return 0;
    }
    for (unsigned i = 0; i < sizeof single_types / sizeof single_types[0]; i++)
        if (b == single_types[i]) {
            r->p++;
            *nr = 1;
            *rt = &single_types[i];
            return 0;
        }
    int64_t idx = rd_s33(r);
    if (r->failed)
        return -1;
    if (idx < 0)
        return fail(c, WASM_ERR_MALFORMED, "malformed value type");
    if (idx >= c->m->ntypes)
        return invalid(c, "unknown type");
    const ftype *t = &c->m->types[idx];
    *np = t->np, *pt = t->t, *nr = t->nr, *rt = t->t + t->np;
    return 0;
}

static ctl *push_ctl(comp *c, uint8_t op)
{
    if (c->ch >= WASM_MAX_NESTING) {
        fail(c, WASM_ERR_LIMIT, "blocks nested too deeply");
        return NULL;
    }
    if (!grow(c, (void **)&c->cs, &c->ccap, c->ch + 1, sizeof(ctl)))
        return NULL;
    bool dead = c->ch ? cur(c)->dead : false;
    ctl *f = &c->cs[c->ch++];
    *f = (ctl){.op = op, .dead = dead, .entry_dead = dead, .height = c->sh,
               .fixups = NO_FIXUP, .else_fixup = NO_FIXUP};
    return f;
}

static void set_unreachable(comp *c)
{
    ctl *f = cur(c);
    while (c->sh > f->height)
        unref(c, &c->st[--c->sh]);
    if (c->clean > c->sh)
        c->clean = c->sh;
    f->unreachable = true;
    f->dead = true;
}

static int op_block(comp *c, uint8_t op)
{
    uint32_t np = 0, nr = 0;
    const wasm_valtype *pt = NULL, *rt = NULL;
    if (read_blocktype(c, &np, &pt, &nr, &rt) < 0)
        return -1;
    ventry cond = {0};
    uint32_t cond_h = 0;
    if (op == 0x04) {
        cond = *pop(c, WASM_I32);
        cond_h = c->sh;
    }
    pop_n(c, np, pt);
    settle_all(c);
    bool dead = !live(c);
    ctl *f = push_ctl(c, op);
    if (!f)
        return -1;
    f->np = np, f->pt = pt, f->nr = nr, f->rt = rt;
    if (op == 0x04 && (uint64_t)c->nsaved + c->nscratch + 3 * np > WASM_MAX_FRAME_SLOTS)
        return fail(c, WASM_ERR_LIMIT, "block parameters nested too deeply");
    for (uint32_t i = 0; i < np; i++) {
        ventry e = c->tmp[i];
        uint32_t h = c->sh;
        if (op == 0x03 || (op == 0x04 && e.kind == K_TEMP)) {
            /* loop params live in their homes (back-edges write them); if params that are
             * temporaries move to scratch slots so the then-arm cannot clobber what the
             * else-arm reads */
            uint32_t dst = op == 0x03 ? home(c, h) : SCRATCH_BASE + c->nscratch;
            if (op == 0x04)
                c->nscratch += valtype_slots(pt[i]);
            if (!dead)
                move_to(c, &e, dst);
            e.kind = K_TEMP, e.slot = dst;
        }
        push(c, (uint8_t)pt[i], e.kind, e.slot, e.k);
    }
    if (op == 0x03) {
        /* back-edges jump past this fuel check and charge its count themselves */
        emit_fuel(c);
        f->loop_pc = c->len;
        c->label_pos = c->len;
    } else if (op == 0x04) {
        f->saved = c->nsaved;
        if (!grow(c, (void **)&c->saved, &c->savedcap, c->nsaved + np, sizeof(ventry)))
            return -1;
        if (np)
            memcpy(c->saved + c->nsaved, c->st + c->sh - np, np * sizeof(ventry));
        c->nsaved += np;
        if (!dead) {
            emit_cond_branch(c, &cond, cond_h, true);
            emit_fwd(c, &f->else_fixup);
        }
    }
    return 0;
}

/* Pops the block's results, checks nothing else is left, and moves them to the result slots. */
static void finish_arm(comp *c, ctl *f)
{
    pop_n(c, f->nr, f->rt);
    if (c->sh != f->height)
        invalid(c, "type mismatch");
    if (!live(c))
        return;
    if (f->op == 0)
        emit_return(c, c->tmp, f->nr, f->height);
    else
        move_vals(c, c->tmp, f->nr, home(c, f->height), f->height);
}

static int op_else(comp *c)
{
    ctl *f = cur(c);
    if (f->op != 0x04 || f->has_else)
        return invalid(c, "else without if");
    finish_arm(c, f);
    if (live(c)) {
        emit_op(c, OP_br);
        emit_fwd(c, &f->fixups);
    }
    f->has_else = true;
    f->unreachable = false;
    f->dead = f->entry_dead;
    if (live(c))
        patch_chain(c, f->else_fixup, c->len);
    c->label_pos = c->len;
    f->else_fixup = NO_FIXUP;
    for (uint32_t i = 0; i < f->np; i++) {
        ventry e = c->saved[f->saved + i];
        push(c, e.t, e.kind, e.slot, e.k);
    }
    c->nsaved = f->saved;
    return 0;
}

static int op_end(comp *c)
{
    ctl *f = cur(c);
    if (f->op == 0x04 && !f->has_else) {
        if (f->np != f->nr || (f->np && memcmp(f->pt, f->rt, f->np * sizeof(wasm_valtype)) != 0))
            return invalid(c, "type mismatch");
        if (f->np > 0 && op_else(c) < 0)
            return -1;
    }
    finish_arm(c, f);
    if (c->r.failed)
        return -1;
    if (f->op == 0) {
        c->ch--;
        return 0;
    }
    bool was_dead = f->entry_dead;
    if (!was_dead && !c->oom) {
        patch_chain(c, f->fixups, c->len);
        patch_chain(c, f->else_fixup, c->len);
    }
    if (f->op == 0x04)
        c->nsaved = f->saved;
    uint32_t nr = f->nr, height = f->height;
    const wasm_valtype *rt = f->rt;
    c->ch--;
    c->fold_end = 0; /* a label: the previous instruction may not be patched any more */
    c->label_pos = c->len;
    for (uint32_t i = 0; i < nr; i++)
        push(c, (uint8_t)rt[i], K_TEMP, home(c, height + i), 0);
    return 0;
}

static ctl *label(comp *c, uint32_t depth)
{
    if (depth >= c->ch) {
        invalid(c, "unknown label");
        return NULL;
    }
    return &c->cs[c->ch - 1 - depth];
}

static int op_br(comp *c, uint32_t depth)
{
    ctl *t = label(c, depth);
    if (!t)
        return -1;
    uint32_t n = label_arity(t);
    pop_n(c, n, label_types(t));
    if (live(c))
        emit_jump(c, t, n, c->sh);
    set_unreachable(c);
    return 0;
}

static int op_br_if(comp *c, uint32_t depth)
{
    ctl *t = label(c, depth);
    if (!t)
        return -1;
    ventry cond = *pop(c, WASM_I32);
    uint32_t cond_h = c->sh, n = label_arity(t);
    const wasm_valtype *types = label_types(t);
    pop_n(c, n, types);
    uint32_t h0 = c->sh;
    for (uint32_t i = 0; i < n; i++)
        push(c, (uint8_t)types[i], c->tmp[i].kind, c->tmp[i].slot, c->tmp[i].k);
    if (!live(c))
        return 0;
    if (t->op != 0 && !needs_moves(c->tmp, n, label_dst(c, t))) {
        emit_cond_branch(c, &cond, cond_h, false);
        emit_target(c, t);
        return 0;
    }
    int64_t skip = NO_FIXUP;
    emit_cond_branch(c, &cond, cond_h, true);
    emit_fwd(c, &skip);
    emit_jump(c, t, n, h0);
    patch_chain(c, skip, c->len);
    c->fold_end = 0;
    c->label_pos = c->len;
    return 0;
}

static int op_br_table(comp *c)
{
    uint32_t n = rd_count(&c->r, 1);
    if (c->r.failed)
        return -1;
    uint32_t *depths = malloc(((size_t)n + 1) * sizeof(uint32_t));
    if (!depths)
        return fail(c, WASM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i <= n && !c->r.failed; i++)
        if ((depths[i] = rd_u32(&c->r)), !c->r.failed && !label(c, depths[i]))
            break;
    ventry idx = *pop(c, WASM_I32);
    uint32_t idx_h = c->sh;
    if (c->r.failed)
        return free(depths), -1;
    ctl *def = label(c, depths[n]);
    uint32_t arity = label_arity(def);
    /* every label must accept the values on the stack; each target block is checked once per
     * br_table (a generation mark), so a huge label list costs O(labels + blocks * arity) */
    c->gen++;
    for (uint32_t i = 0; i <= n && !c->r.failed; i++) {
        ctl *t = label(c, depths[i]);
        if (label_arity(t) != arity) {
            invalid(c, "type mismatch");
            break;
        }
        if (t->checked_gen == c->gen)
            continue;
        t->checked_gen = c->gen;
        pop_n(c, arity, label_types(t));
        for (uint32_t k = 0; k < arity; k++)
            push(c, c->tmp[k].t, c->tmp[k].kind, c->tmp[k].slot, c->tmp[k].k);
    }
    pop_n(c, arity, label_types(def));
    uint32_t h0 = c->sh;
    if (live(c)) {
        uint32_t s = rd(c, &idx, idx_h);
        emit_op(c, OP_br_table);
        emit_slot(c, s);
        emit_u(c, n);
        uint32_t table = c->len;
        for (uint32_t i = 0; i <= n; i++)
            emit_u(c, 0);
        for (uint32_t i = 0; i <= n && live(c); i++) {
            ctl *t = label(c, depths[i]);
            if (t->op != 0 && !needs_moves(c->tmp, arity, label_dst(c, t))) {
                if (t->op == 0x03) {
                    c->code[table + i].i = (int64_t)t->loop_pc - (table + i);
                } else {
                    c->code[table + i].i = t->fixups;
                    t->fixups = table + i;
                }
                continue;
            }
            c->code[table + i].i = (int64_t)c->len - (table + i); /* a stub that moves values */
            c->label_pos = c->len;
            emit_jump(c, t, arity, h0);
        }
    }
    free(depths);
    set_unreachable(c);
    return 0;
}

/* ------------------------------------------------------------------ instructions */

static int emit_call(comp *c, const ftype *t, int op, uint32_t type_index, uint32_t table,
                     uint32_t f_index)
{
    ventry idx = {0};
    uint32_t idx_h = 0;
    if (op == OP_call_indirect) {
        idx = *pop(c, WASM_I32);
        idx_h = c->sh;
    }
    pop_n(c, t->np, t->t);
    uint32_t h0 = c->sh;
    if (live(c)) {
        settle_scratch(c); /* the callee's frame starts at our operand stack */
        uint32_t idx_slot = op == OP_call_indirect ? rd(c, &idx, idx_h) : 0;
        for (uint32_t i = 0; i < t->np; i++)
            move_to(c, &c->tmp[i], home(c, h0 + i));
        emit_op(c, op);
        if (op == OP_call) {
            emit_u(c, f_index);
            emit_u(c, home(c, h0));
        } else {
            emit_u(c, type_index);
            emit_u(c, table);
            emit_u(c, home(c, h0));
            emit_slot(c, idx_slot);
        }
    }
    for (uint32_t i = 0; i < t->nr; i++)
        push_temp(c, (uint8_t)t->t[t->np + i]);
    c->fold_end = 0;
    return 0;
}

static void emit_unop(comp *c, int op, uint8_t in, uint8_t out)
{
    ventry a = *pop(c, in);
    uint32_t h = c->sh;
    /* eqz stays in slot form: it usually fuses into the following branch */
    if (op < OP_ACC_END && op != OP_i32_eqz && op != OP_i64_eqz && a.kind == K_TEMP &&
        acc_holds(c, a.slot)) {
        c->acc_src = a.slot;
        emit_op(c, op + 1);
    } else {
        uint32_t s = rd(c, &a, h);
        emit_op(c, op);
        emit_slot(c, s);
    }
    emit_dst(c, h);
    push_temp(c, out);
}

static bool commutative(int op)
{
    switch (op) {
    case OP_i32_add: case OP_i32_mul: case OP_i32_and: case OP_i32_or: case OP_i32_xor:
    case OP_i32_eq: case OP_i32_ne: case OP_i64_add: case OP_i64_mul: case OP_i64_and:
    case OP_i64_or: case OP_i64_xor: case OP_i64_eq: case OP_i64_ne: case OP_f32_add:
    case OP_f32_mul: case OP_f64_add: case OP_f64_mul:
        return true;
    default:
        return false;
    }
}

static void emit_binop(comp *c, int op, int op_imm, uint8_t in, uint8_t out)
{
    ventry b = *pop(c, in), a = *pop(c, in);
    uint32_t h = c->sh;
    bool acc_forms = op_imm >= 0 && op < OP_ACC_END;
    if (commutative(op) && ((a.kind == K_CONST && b.kind != K_CONST) ||
                            (acc_forms && a.kind != K_CONST && b.kind == K_TEMP &&
                             acc_holds(c, b.slot)))) {
        ventry t = a; /* constant on the left, or the previous result on the right: swap so */
        a = b, b = t; /* the immediate or accumulator form applies */
    }
    if (acc_forms && a.kind == K_TEMP && acc_holds(c, a.slot)) {
        c->acc_src = a.slot;
        if (b.kind == K_CONST) {
            emit_op(c, op + 3);
            emit_u(c, b.k);
        } else {
            uint32_t sb = rd(c, &b, h + 1);
            emit_op(c, op + 2);
            emit_slot(c, sb);
        }
        emit_dst(c, h);
        push_temp(c, out);
        return;
    }
    if (op_imm >= 0 && b.kind == K_CONST) {
        uint32_t sa = rd(c, &a, h);
        emit_op(c, op_imm);
        emit_slot(c, sa);
        emit_u(c, b.k);
    } else {
        uint32_t sa = rd(c, &a, h), sb = rd(c, &b, h + 1);
        emit_op(c, op);
        emit_slot(c, sa);
        emit_slot(c, sb);
    }
    emit_dst(c, h);
    push_temp(c, out);
}

static int check_memory(comp *c)
{
    return c->m->nmems ? 0 : invalid(c, "unknown memory 0");
}

/* If the address (at height h) was computed by the instruction just emitted and that was an
 * i32.add, removes the add and returns 1 (slot + immediate) or 2 (slot + slot) with its operands,
 * so the memory access can compute the address itself. */
static int take_address_add(comp *c, const ventry *addr, uint32_t h, uint64_t ops[2], bool allow_aa)
{
    if (addr->kind != K_TEMP || !folds_with_last(c, h))
        return 0;
    int op = c->fold_op;
    bool from_acc = op == OP_i32_add_ai || op == OP_i32_add_a; /* first operand: acc_src's slot */
    int mode = op == OP_i32_add_i || op == OP_i32_add_ai ? 1
               : (op == OP_i32_add || op == OP_i32_add_a) && allow_aa ? 2 : 0;
    if (!mode)
        return 0;
    ops[0] = from_acc ? c->acc_src : c->code[c->fold_start + 1].u;
    ops[1] = c->code[c->fold_start + (from_acc ? 1 : 2)].u;
    c->len = c->fold_start;
    c->fold_end = 0;
    while (c->nsfix > 0 && c->sfix[c->nsfix - 1] >= c->len)
        c->nsfix--;
    return mode;
}

/* Mode 3: a constant address, folded with the offset into one immediate. */
static void emit_address(comp *c, int mode, uint32_t addr_slot, const uint64_t ops[2])
{
    if (mode == 3) {
        emit_u(c, ops[0]);
        return;
    }
    if (mode == 0) {
        emit_slot(c, addr_slot);
        return;
    }
    emit_slot(c, (uint32_t)ops[0]);
    if (mode == 1)
        emit_u(c, ops[1]);
    else
        emit_slot(c, (uint32_t)ops[1]);
}

static int emit_memop(comp *c, int op, uint8_t vt, uint32_t natural, bool store)
{
    uint32_t align = rd_u32(&c->r), offset = rd_u32(&c->r);
    if (c->r.failed || check_memory(c) < 0)
        return -1;
    if (align > natural)
        return invalid(c, "alignment must not be larger than natural");
    uint64_t ops[2];
    if (store) {
        ventry v = *pop(c, vt), a = *pop(c, WASM_I32);
        uint32_t h = c->sh;
        /* a constant value is written to home(h+1), which a slot+slot address may still need */
        int mode = a.kind == K_CONST ? 3 : live(c) ? take_address_add(c, &a, h, ops, v.kind != K_CONST) : 0;
        ops[0] = mode == 3 ? (uint32_t)a.k + (uint64_t)offset : ops[0];
        uint32_t sa = mode ? 0 : rd(c, &a, h), sv = rd(c, &v, h + 1);
        emit_op(c, op + mode);
        emit_address(c, mode, sa, ops);
        if (mode != 3)
            emit_u(c, offset);
        emit_slot(c, sv);
        return 0;
    }
    ventry a = *pop(c, WASM_I32);
    uint32_t h = c->sh;
    int mode = a.kind == K_CONST ? 3 : live(c) ? take_address_add(c, &a, h, ops, true) : 0;
    ops[0] = mode == 3 ? (uint32_t)a.k + (uint64_t)offset : ops[0];
    uint32_t sa = mode ? 0 : rd(c, &a, h);
    emit_op(c, op + mode);
    emit_address(c, mode, sa, ops);
    if (mode != 3)
        emit_u(c, offset);
    emit_dst(c, h);
    push_temp(c, vt);
    return 0;
}

/* Pops n operands of the given types and emits op followed by `imm` immediates and their slots;
 * with a result type, a destination follows. */
static void emit_generic(comp *c, int op, const uint64_t *imm, uint32_t nimm, const uint8_t *types,
                         uint32_t n, uint8_t result)
{
    ventry vals[6];
    for (uint32_t i = n; i-- > 0;)
        vals[i] = *pop(c, types[i]);
    uint32_t h = c->sh, slots[6];
    for (uint32_t i = 0; i < n; i++)
        slots[i] = rd(c, &vals[i], h + i);
    emit_op(c, op);
    for (uint32_t i = 0; i < nimm; i++)
        emit_u(c, imm[i]);
    for (uint32_t i = 0; i < n; i++)
        emit_slot(c, slots[i]);
    if (result) {
        emit_dst(c, h);
        push_temp(c, result);
    } else {
        c->fold_end = 0;
    }
}

static int local_index(comp *c, uint32_t *x)
{
    *x = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    return *x < c->nlocals ? 0 : invalid(c, "unknown local");
}

static int op_local_set(comp *c, bool tee)
{
    uint32_t x;
    if (local_index(c, &x) < 0)
        return -1;
    ventry v = *pop(c, (uint8_t)c->ltypes[x]);
    uint32_t h = c->sh, slot = c->loff[x];
    if (live(c)) {
        if (c->lref[slot] > 0)
            settle_local_refs(c, slot);
        if (v.kind == K_TEMP && v.slot == home(c, h) && folds_with_last(c, h))
            c->code[c->fold_pos].u = slot;
        else if (!(v.kind == K_LOCAL && v.slot == slot))
            move_to(c, &v, slot);
    }
    c->fold_end = 0;
    if (tee)
        push(c, (uint8_t)c->ltypes[x], K_LOCAL, slot, 0);
    return 0;
}

static int table_index(comp *c, uint32_t *t)
{
    *t = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    return *t < c->m->ntables ? 0 : invalid(c, "unknown table");
}

static int elem_index(comp *c, uint32_t *e)
{
    *e = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    return *e < c->m->nelems ? 0 : invalid(c, "unknown elem segment");
}

/* Data indices need the data count section when there are data segments; without any segment
 * every index is simply unknown (as the spec tests expect). */
static int check_data_index(comp *c, uint32_t d)
{
    if (c->m->data_count < 0 && c->m->ndatas > 0)
        return fail(c, WASM_ERR_MALFORMED, "data count section required");
    return d < c->m->ndatas ? 0 : invalid(c, "unknown data segment");
}

static int data_index(comp *c, uint32_t *d)
{
    *d = rd_u32(&c->r);
    return c->r.failed ? -1 : check_data_index(c, *d);
}

static int zero_byte(comp *c)
{
    uint8_t b = rd_u8(&c->r);
    if (c->r.failed)
        return -1;
    return b == 0 ? 0 : fail(c, WASM_ERR_MALFORMED, "zero byte expected");
}

static int op_prefixed(comp *c)
{
    uint32_t sub = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    static const uint8_t I = WASM_I32;
    uint32_t x, y;
    switch (sub) {
#define TRUNC_SAT(opc, sat, name, IN, ctype, ...)                                                \
    case sat: emit_unop(c, OP_##name##_sat, VT_##IN, sizeof(ctype) == 4 ? WASM_I32 : WASM_I64); \
        return 0;
        TRUNCOPS(TRUNC_SAT)
    case 8: /* memory.init */
        x = rd_u32(&c->r);
        if (c->r.failed || zero_byte(c) < 0 || check_memory(c) < 0 || check_data_index(c, x) < 0)
            return -1;
        emit_generic(c, OP_memory_init, (uint64_t[]){x}, 1, (uint8_t[]){I, I, I}, 3, 0);
        return 0;
    case 9:
        if (data_index(c, &x) < 0)
            return -1;
        emit_generic(c, OP_data_drop, (uint64_t[]){x}, 1, NULL, 0, 0);
        return 0;
    case 10: /* memory.copy */
        if (zero_byte(c) < 0 || zero_byte(c) < 0 || check_memory(c) < 0)
            return -1;
        emit_generic(c, OP_memory_copy, NULL, 0, (uint8_t[]){I, I, I}, 3, 0);
        return 0;
    case 11: /* memory.fill */
        if (zero_byte(c) < 0 || check_memory(c) < 0)
            return -1;
        emit_generic(c, OP_memory_fill, NULL, 0, (uint8_t[]){I, I, I}, 3, 0);
        return 0;
    case 12: /* table.init elem table */
        if (elem_index(c, &y) < 0 || table_index(c, &x) < 0)
            return -1;
        if (c->m->tables[x].elem != c->m->elems[y].type)
            return invalid(c, "type mismatch");
        emit_generic(c, OP_table_init, (uint64_t[]){x, y}, 2, (uint8_t[]){I, I, I}, 3, 0);
        return 0;
    case 13:
        if (elem_index(c, &x) < 0)
            return -1;
        emit_generic(c, OP_elem_drop, (uint64_t[]){x}, 1, NULL, 0, 0);
        return 0;
    case 14: /* table.copy dst src */
        if (table_index(c, &x) < 0 || table_index(c, &y) < 0)
            return -1;
        if (c->m->tables[x].elem != c->m->tables[y].elem)
            return invalid(c, "type mismatch");
        emit_generic(c, OP_table_copy, (uint64_t[]){x, y}, 2, (uint8_t[]){I, I, I}, 3, 0);
        return 0;
    case 15: /* table.grow */
        if (table_index(c, &x) < 0)
            return -1;
        emit_generic(c, OP_table_grow, (uint64_t[]){x}, 1,
                     (uint8_t[]){(uint8_t)c->m->tables[x].elem, I}, 2, I);
        return 0;
    case 16:
        if (table_index(c, &x) < 0)
            return -1;
        emit_generic(c, OP_table_size, (uint64_t[]){x}, 1, NULL, 0, I);
        return 0;
    case 17: /* table.fill */
        if (table_index(c, &x) < 0)
            return -1;
        emit_generic(c, OP_table_fill, (uint64_t[]){x}, 1,
                     (uint8_t[]){I, (uint8_t)c->m->tables[x].elem, I}, 3, 0);
        return 0;
    default:
        return fail(c, WASM_ERR_MALFORMED, "illegal opcode");
    }
}

/* ------------------------------------------------------------------ SIMD */

/* A lane immediate: one byte, below the shape's lane count. */
static int lane_index(comp *c, uint32_t lanes, uint64_t *lane)
{
    uint8_t b = rd_u8(&c->r);
    if (c->r.failed)
        return -1;
    *lane = b;
    return b < lanes ? 0 : invalid(c, "invalid lane index");
}

/* Lane loads and stores: memarg then lane; the operands are the address and the vector. */
static int simd_lane_mem(comp *c, int op, uint32_t bytes, uint32_t lanes, bool store)
{
    uint32_t align = rd_u32(&c->r), offset = rd_u32(&c->r);
    uint64_t imm[2] = {offset, 0};
    if (c->r.failed || lane_index(c, lanes, &imm[1]) < 0 || check_memory(c) < 0)
        return -1;
    if (align > (uint32_t)__builtin_ctz(bytes))
        return invalid(c, "alignment must not be larger than natural");
    emit_generic(c, op, imm, 2, (uint8_t[]){WASM_I32, WASM_V128}, 2, store ? 0 : WASM_V128);
    return 0;
}

static int simd_shuffle(comp *c)
{
    uint8_t lanes[16];
    uint64_t imm[2];
    for (int i = 0; i < 16; i++)
        lanes[i] = rd_u8(&c->r);
    if (c->r.failed)
        return -1;
    for (int i = 0; i < 16; i++)
        if (lanes[i] >= 32)
            return invalid(c, "invalid lane index");
    memcpy(imm, lanes, 16);
    emit_generic(c, OP_i8x16_shuffle, imm, 2, (uint8_t[]){WASM_V128, WASM_V128}, 2, WASM_V128);
    return 0;
}

/* Kept out of line: inlined, the SIMD cases would bloat instruction() enough that it is no longer
 * inlined into the body loop (~20% slower loading of scalar code). */
__attribute__((noinline)) static int op_simd(comp *c)
{
    uint32_t sub = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    const uint8_t V = WASM_V128, I = WASM_I32;
    uint64_t imm[2];
    switch (sub) {
#define S_SHAPE(name, result, ...)                                                               \
    emit_generic(c, OP_##name, NULL, 0, (uint8_t[]){__VA_ARGS__},                                \
                 sizeof((uint8_t[]){__VA_ARGS__}), result);                                      \
    return 0;
#define S_UN(n, name) case n: S_SHAPE(name, V, V)
#define S_BIN(n, name) case n: S_SHAPE(name, V, V, V)
#define S_TERN(n, name) case n: S_SHAPE(name, V, V, V, V)
#define S_TEST(n, name) case n: S_SHAPE(name, I, V)
#define S_SHIFT(n, name) case n: S_SHAPE(name, V, V, I)
#define S_SPLAT(n, name, T) case n: S_SHAPE(name, V, WASM_##T)
#define S_LANE(n, name, result, lanes, ...)                                                      \
    case n:                                                                                      \
        if (lane_index(c, lanes, imm) < 0)                                                       \
            return -1;                                                                           \
        emit_generic(c, OP_##name, imm, 1, (uint8_t[]){__VA_ARGS__},                             \
                     sizeof((uint8_t[]){__VA_ARGS__}), result);                                  \
        return 0;
#define S_EXTRACT(n, name, T, lanes) S_LANE(n, name, WASM_##T, lanes, V)
#define S_REPLACE(n, name, T, lanes) S_LANE(n, name, V, lanes, V, WASM_##T)
#define S_LOAD(n, name, bytes, align) case n: return emit_memop(c, OP_##name, V, align, false);
#define S_LANE_LOAD(n, name, bytes, lanes) case n: return simd_lane_mem(c, OP_##name, bytes, lanes, false);
#define S_LANE_STORE(n, name, bytes, lanes) case n: return simd_lane_mem(c, OP_##name, bytes, lanes, true);
        SIMD_UNOPS(S_UN) SIMD_BINOPS(S_BIN) SIMD_TERNOPS(S_TERN) SIMD_TESTS(S_TEST)
        SIMD_SHIFTS(S_SHIFT) SIMD_SPLATS(S_SPLAT) SIMD_EXTRACTS(S_EXTRACT)
        SIMD_REPLACES(S_REPLACE) SIMD_LOADS(S_LOAD) SIMD_LANE_LOADS(S_LANE_LOAD)
        SIMD_LANE_STORES(S_LANE_STORE)
    case SIMD_OP_STORE: return emit_memop(c, OP_v128_store, V, 4, true);
    case SIMD_OP_SHUFFLE: return simd_shuffle(c);
    case SIMD_OP_CONST:
        imm[0] = rd_fixed64(&c->r);
        imm[1] = rd_fixed64(&c->r);
        if (c->r.failed)
            return -1;
        emit_generic(c, OP_v128_const, imm, 2, NULL, 0, V);
        return 0;
    default:
        return fail(c, WASM_ERR_MALFORMED, "illegal opcode");
    }
}

static int op_select(comp *c, bool typed)
{
    uint8_t want = 0;
    if (typed) {
        uint32_t n = rd_u32(&c->r);
        if (c->r.failed)
            return -1;
        if (n != 1)
            return invalid(c, "invalid result arity");
        wasm_valtype t;
        if (rd_valtype(&c->r, &t) < 0)
            return -1;
        want = (uint8_t)t;
    }
    ventry cond = *pop(c, WASM_I32);
    ventry b = *pop(c, want), a = *pop(c, want);
    uint8_t t = want ? want : (a.t ? a.t : b.t);
    if (!typed && ((a.t && valtype_is_ref(a.t)) || (b.t && valtype_is_ref(b.t)) ||
                   (a.t && b.t && a.t != b.t)))
        return invalid(c, "type mismatch");
    uint32_t h = c->sh;
    uint32_t sa = rd(c, &a, h), sb = rd(c, &b, h + 1), sc = rd(c, &cond, h + 2);
    emit_op(c, t == WASM_V128 ? OP_v128_select : OP_select);
    emit_slot(c, sa);
    emit_slot(c, sb);
    emit_slot(c, sc);
    emit_dst(c, h);
    push_temp(c, t);
    return 0;
}

static int op_global(comp *c, bool set)
{
    uint32_t g = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    if (g >= c->m->nglobals)
        return invalid(c, "unknown global");
    wasm_globaltype gt = c->m->globals[g].type;
    bool wide = gt.type == WASM_V128;
    if (!set) {
        emit_op(c, wide ? OP_v128_global_get : OP_global_get);
        emit_u(c, g);
        emit_dst(c, c->sh);
        push_temp(c, (uint8_t)gt.type);
        return 0;
    }
    if (!gt.mutable_)
        return invalid(c, "global is immutable");
    emit_generic(c, wide ? OP_v128_global_set : OP_global_set, (uint64_t[]){g}, 1,
                 (uint8_t[]){(uint8_t)gt.type}, 1, 0);
    return 0;
}

static int op_call(comp *c, bool indirect)
{
    uint32_t a = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    if (!indirect) {
        if (a >= c->m->nfuncs)
            return invalid(c, "unknown function");
        return emit_call(c, &c->m->types[c->m->func_types[a]], OP_call, 0, 0, a);
    }
    uint32_t t = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    if (t >= c->m->ntables)
        return invalid(c, "unknown table");
    if (a >= c->m->ntypes)
        return invalid(c, "unknown type");
    if (c->m->tables[t].elem != WASM_FUNCREF)
        return invalid(c, "type mismatch");
    return emit_call(c, &c->m->types[a], OP_call_indirect, a, t, 0);
}

static int op_ref(comp *c, uint8_t op)
{
    if (op == 0xD0) {
        wasm_valtype t;
        uint8_t b = rd_u8(&c->r);
        if (c->r.failed)
            return -1;
        if (b != WASM_FUNCREF && b != WASM_EXTERNREF)
            return fail(c, WASM_ERR_MALFORMED, "malformed reference type");
        t = (wasm_valtype)b;
        push(c, (uint8_t)t, K_CONST, 0, 0);
        return 0;
    }
    if (op == 0xD1) {
        ventry e = *pop(c, 0);
        if (e.t && !valtype_is_ref(e.t))
            return invalid(c, "type mismatch");
        uint32_t h = c->sh, s = rd(c, &e, h);
        emit_op(c, OP_ref_is_null);
        emit_slot(c, s);
        emit_dst(c, h);
        push_temp(c, WASM_I32);
        return 0;
    }
    uint32_t f = rd_u32(&c->r);
    if (c->r.failed)
        return -1;
    if (f >= c->m->nfuncs)
        return invalid(c, "unknown function");
    if (!c->m->declared_funcs[f])
        return invalid(c, "undeclared function reference");
    emit_generic(c, OP_ref_func, (uint64_t[]){f}, 1, NULL, 0, WASM_FUNCREF);
    return 0;
}

static int op_table_getset(comp *c, bool set)
{
    uint32_t t;
    if (table_index(c, &t) < 0)
        return -1;
    uint8_t et = (uint8_t)c->m->tables[t].elem;
    if (set)
        emit_generic(c, OP_table_set, (uint64_t[]){t}, 1, (uint8_t[]){WASM_I32, et}, 2, 0);
    else
        emit_generic(c, OP_table_get, (uint64_t[]){t}, 1, (uint8_t[]){WASM_I32}, 1, et);
    return 0;
}

static int op_numeric(comp *c, uint8_t op)
{
    switch (op) {
#define C_I32BIN(opc, name, e) case opc: emit_binop(c, OP_##name, OP_##name##_i, WASM_I32, WASM_I32); return 0;
#define C_I64BIN(opc, name, e) case opc: emit_binop(c, OP_##name, OP_##name##_i, WASM_I64, WASM_I64); return 0;
#define C_I32CMP(opc, name, e) case opc: emit_binop(c, OP_##name, OP_##name##_i, WASM_I32, WASM_I32); return 0;
#define C_I64CMP(opc, name, e) case opc: emit_binop(c, OP_##name, OP_##name##_i, WASM_I64, WASM_I32); return 0;
#define C_F32BIN(opc, name, e) case opc: emit_binop(c, OP_##name, OP_##name##_i, WASM_F32, WASM_F32); return 0;
#define C_F64BIN(opc, name, e) case opc: emit_binop(c, OP_##name, OP_##name##_i, WASM_F64, WASM_F64); return 0;
#define C_F32CMP(opc, name, e) case opc: emit_binop(c, OP_##name, -1, WASM_F32, WASM_I32); return 0;
#define C_F64CMP(opc, name, e) case opc: emit_binop(c, OP_##name, -1, WASM_F64, WASM_I32); return 0;
#define C_DIV(opc, name, T, ST, r, s)                                                            \
    case opc: emit_binop(c, OP_##name, -1, sizeof(T) == 4 ? WASM_I32 : WASM_I64,                 \
                         sizeof(T) == 4 ? WASM_I32 : WASM_I64); return 0;
#define C_UN(opc, name, IN, OUT, e) case opc: emit_unop(c, OP_##name, VT_##IN, VT_##OUT); return 0;
#define C_TRUNC(opc, sat, name, IN, ctype, ...)                                                  \
    case opc: emit_unop(c, OP_##name, VT_##IN, sizeof(ctype) == 4 ? WASM_I32 : WASM_I64); return 0;
        I32_BINOPS(C_I32BIN) I64_BINOPS(C_I64BIN) I32_CMPS(C_I32CMP) I64_CMPS(C_I64CMP)
        F32_BINOPS(C_F32BIN) F64_BINOPS(C_F64BIN) F32_CMPS(C_F32CMP) F64_CMPS(C_F64CMP)
        DIVOPS(C_DIV) UNOPS(C_UN) TRUNCOPS(C_TRUNC)
    case 0x98: emit_binop(c, OP_f32_copysign, -1, WASM_F32, WASM_F32); return 0;
    case 0xA6: emit_binop(c, OP_f64_copysign, -1, WASM_F64, WASM_F64); return 0;
    case 0xBC: case 0xBD: case 0xBE: case 0xBF: { /* reinterpretations: same bits, new type */
        static const uint8_t from[4] = {WASM_F32, WASM_F64, WASM_I32, WASM_I64};
        static const uint8_t to[4] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64};
        ventry v = *pop(c, from[op - 0xBC]);
        push(c, to[op - 0xBC], v.kind, v.slot, v.k);
        if (folds_with_last(c, c->sh - 1) && v.kind == K_TEMP)
            c->fold_end = c->len; /* still foldable */
        return 0;
    }
#define C_LOAD(opc, name, n, MT, VT, al) case opc: return emit_memop(c, OP_##name, WASM_##VT, al, false);
#define C_STORE(opc, name, n, MT, VT, al) case opc: return emit_memop(c, OP_##name, WASM_##VT, al, true);
        LOADOPS(C_LOAD) STOREOPS(C_STORE)
    default:
        return fail(c, WASM_ERR_MALFORMED, "illegal opcode");
    }
}

static int op_const(comp *c, uint8_t op)
{
    reader *r = &c->r;
    switch (op) {
    case 0x41: push(c, WASM_I32, K_CONST, 0, (uint32_t)rd_s32(r)); break;
    case 0x42: push(c, WASM_I64, K_CONST, 0, (uint64_t)rd_s64(r)); break;
    case 0x43: push(c, WASM_F32, K_CONST, 0, rd_fixed32(r)); break;
    default: push(c, WASM_F64, K_CONST, 0, rd_fixed64(r)); break;
    }
    return r->failed ? -1 : 0;
}

static int op_memsize(comp *c, bool grow_op)
{
    if (zero_byte(c) < 0 || check_memory(c) < 0)
        return -1;
    if (grow_op)
        emit_unop(c, OP_memory_grow, WASM_I32, WASM_I32);
    else
        emit_generic(c, OP_memory_size, NULL, 0, NULL, 0, WASM_I32);
    return 0;
}

HOT_INLINE int instruction(comp *c)
{
    c->cur_off = (uint32_t)(c->r.p - c->r.base);
    c->cur_depth = c->ch;
    c->mapped = false;
    c->fuel_count++;
    uint8_t op = rd_u8(&c->r);
    if (c->r.failed)
        return -1;
    uint32_t x;
    switch (op) {
    case 0x00: emit_op(c, OP_unreachable); set_unreachable(c); return 0;
    case 0x01: return 0;
    case 0x02: case 0x03: case 0x04: return op_block(c, op);
    case 0x05: return op_else(c);
    case 0x0B: return op_end(c);
    case 0x0C: case 0x0D: case 0x0F:
        x = op == 0x0F ? c->ch - 1 : rd_u32(&c->r);
        if (c->r.failed)
            return -1;
        return op == 0x0D ? op_br_if(c, x) : op_br(c, x);
    case 0x0E: return op_br_table(c);
    case 0x10: case 0x11: return op_call(c, op == 0x11);
    case 0x1A: pop(c, 0); return 0;
    case 0x1B: case 0x1C: return op_select(c, op == 0x1C);
    case 0x20:
        if (local_index(c, &x) < 0)
            return -1;
        push(c, (uint8_t)c->ltypes[x], K_LOCAL, c->loff[x], 0);
        return 0;
    case 0x21: case 0x22: return op_local_set(c, op == 0x22);
    case 0x23: case 0x24: return op_global(c, op == 0x24);
    case 0x25: case 0x26: return op_table_getset(c, op == 0x26);
    case 0x3F: case 0x40: return op_memsize(c, op == 0x40);
    case 0x41: case 0x42: case 0x43: case 0x44: return op_const(c, op);
    case 0xD0: case 0xD1: case 0xD2: return op_ref(c, op);
    case 0xFC: return op_prefixed(c);
    case 0xFD: return op_simd(c);
    default:
        if (op >= 0x28 && op <= 0xC4)
            return op_numeric(c, op);
        return fail(c, WASM_ERR_MALFORMED, "illegal opcode");
    }
}

/* ------------------------------------------------------------------ functions */

static int read_locals(comp *c, const ftype *t)
{
    reader *r = &c->r;
    uint32_t ngroups = rd_count(r, 2);
    if (r->failed)
        return -1;
    const uint8_t *groups = r->p;
    uint64_t total = t->np;
    for (uint32_t i = 0; i < ngroups; i++) {
        total += rd_u32(r);
        wasm_valtype vt;
        if (rd_valtype(r, &vt) < 0)
            return -1;
        if (total > WASM_MAX_LOCALS)
            return fail(c, WASM_ERR_MALFORMED, "too many locals");
    }
    c->nlocals = (uint32_t)total;
    if (!grow(c, (void **)&c->ltypes, &c->ltcap, c->nlocals + 1, sizeof(wasm_valtype)) ||
        !grow(c, (void **)&c->loff, &c->locap, c->nlocals + 1, sizeof(uint32_t)) ||
        !grow(c, (void **)&c->lref, &c->lrcap, 2 * c->nlocals + 1, sizeof(uint32_t)))
        return -1;
    memset(c->lref, 0, (2 * c->nlocals + 1) * sizeof(uint32_t));
    memcpy(c->ltypes, t->t, t->np * sizeof(wasm_valtype));
    r->p = groups;
    uint32_t at = t->np;
    for (uint32_t i = 0; i < ngroups; i++) {
        uint32_t n = rd_u32(r);
        wasm_valtype vt;
        rd_valtype(r, &vt);
        for (uint32_t k = 0; k < n; k++)
            c->ltypes[at++] = vt;
    }
    c->nlslots = 0;
    for (uint32_t i = 0; i < c->nlocals; i++) {
        c->loff[i] = c->nlslots;
        c->nlslots += valtype_slots(c->ltypes[i]);
    }
    return 0;
}

/* ------------------------------------------------------------------ decode-only skim
 * The spec decodes a whole module before validating it, so a body that is invalid early but
 * malformed later must be reported as malformed. After a validation error, the rest of the
 * module's code is skimmed for decoding errors only. */

static bool simd_op_exists(uint32_t sub)
{
#define S_CASE(n, ...) case n:
    switch (sub) {
    SIMD_UNOPS(S_CASE) SIMD_BINOPS(S_CASE) SIMD_TERNOPS(S_CASE) SIMD_TESTS(S_CASE)
    SIMD_SHIFTS(S_CASE) SIMD_SPLATS(S_CASE) SIMD_EXTRACTS(S_CASE) SIMD_REPLACES(S_CASE)
    SIMD_LOADS(S_CASE) SIMD_LANE_LOADS(S_CASE) SIMD_LANE_STORES(S_CASE)
    case SIMD_OP_STORE: case SIMD_OP_CONST: case SIMD_OP_SHUFFLE:
        return true;
    default:
        return false;
    }
}

static void skim_simd(reader *r)
{
    uint32_t sub = rd_u32(r);
    if (r->failed)
        return;
    switch (sub) {
    SIMD_LOADS(S_CASE) case SIMD_OP_STORE: /* memarg */
        rd_u32(r), rd_u32(r);
        break;
    SIMD_LANE_LOADS(S_CASE) SIMD_LANE_STORES(S_CASE) /* memarg, lane */
        rd_u32(r), rd_u32(r), rd_u8(r);
        break;
    SIMD_EXTRACTS(S_CASE) SIMD_REPLACES(S_CASE) /* lane */
        rd_u8(r);
        break;
    case SIMD_OP_CONST: case SIMD_OP_SHUFFLE: /* 16 bytes */
        for (int i = 0; i < 16; i++)
            rd_u8(r);
        break;
    default:
        if (!simd_op_exists(sub))
            rd_fail(r, WASM_ERR_MALFORMED, "illegal opcode");
    }
}

static void skim_immediates(reader *r, uint8_t op)
{
    switch (op) {
    case 0x02: case 0x03: case 0x04: {
        uint8_t b = r->p < r->end ? *r->p : 0;
        if (b == 0x40 || b == 0x7F || b == 0x7E || b == 0x7D || b == 0x7C || b == 0x7B ||
            b == 0x70 || b == 0x6F)
            rd_u8(r);
        else
            rd_s33(r);
        break;
    }
    case 0x0E: for (uint32_t n = rd_count(r, 1) + 1; n-- > 0 && !r->failed;) rd_u32(r); break;
    case 0x11: case 0x28 ... 0x3E: rd_u32(r); rd_u32(r); break;
    case 0x0C: case 0x0D: case 0x10: case 0x20 ... 0x26: case 0xD2: rd_u32(r); break;
    case 0x1C: for (uint32_t n = rd_count(r, 1); n-- > 0 && !r->failed;) rd_u8(r); break;
    case 0x3F: case 0x40: case 0xD0: rd_u8(r); break;
    case 0x41: rd_s32(r); break;
    case 0x42: rd_s64(r); break;
    case 0x43: rd_fixed32(r); break;
    case 0x44: rd_fixed64(r); break;
    case 0xFC: {
        uint32_t sub = rd_u32(r);
        if (sub == 12 || sub == 14) rd_u32(r);
        if (sub >= 8 && sub <= 17 && sub != 10 && sub != 11) rd_u32(r);
        if (sub == 8 || sub == 10 || sub == 11) rd_u8(r);
        if (sub == 10) rd_u8(r);
        if (sub > 17 && !r->failed) rd_fail(r, WASM_ERR_MALFORMED, "illegal opcode");
        break;
    }
    case 0xFD: skim_simd(r); break;
    default:
        if (op == 0x06 || op == 0x07 || op == 0x08 || op == 0x09 || op == 0x0A ||
            (op >= 0x12 && op <= 0x19) || op == 0x1D || op == 0x1E || op == 0x1F || op == 0x27 ||
            (op >= 0xC5 && op <= 0xCF) || (op >= 0xD3 && op != 0xFC && op != 0xFD))
            rd_fail(r, WASM_ERR_MALFORMED, "illegal opcode");
    }
}

/* Skims instructions until `depth` open blocks are closed and checks the body ends there. */
static void skim_body(reader *r, uint32_t depth)
{
    while (depth > 0 && !r->failed) {
        uint8_t op = rd_u8(r);
        if (r->failed)
            return;
        if (op == 0x02 || op == 0x03 || op == 0x04)
            depth++;
        else if (op == 0x0B)
            depth--;
        skim_immediates(r, op);
    }
    if (!r->failed && r->p != r->end)
        rd_fail(r, WASM_ERR_MALFORMED, "section size mismatch");
}

static void skim_locals(reader *r)
{
    uint32_t n = rd_count(r, 2);
    uint64_t total = 0;
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        total += rd_u32(r);
        wasm_valtype vt;
        rd_valtype(r, &vt);
        if (total > WASM_MAX_LOCALS && !r->failed)
            rd_fail(r, WASM_ERR_MALFORMED, "too many locals");
    }
}

/* Replaces a validation error in body `index` (failing at the instruction at `at`, with `depth`
 * blocks open) by a decoding error found later in the code, if there is one. */
static void prefer_malformed(wasm_module *m, uint32_t index, uint32_t at, uint32_t depth,
                             wasm_error *err)
{
    wasm_error later = {0};
    for (uint32_t i = index; i < m->nfuncs - m->nimp_funcs && later.kind == WASM_OK; i++) {
        fcode *fc = &m->codes[i];
        reader r = {.p = m->bin + (i == index ? at : fc->body_offset),
                    .end = m->bin + fc->body_offset + fc->body_len, .base = m->bin, .err = &later,
                    .eof_msg = "unexpected end"};
        if (i != index)
            skim_locals(&r);
        skim_body(&r, i == index ? depth : 1);
    }
    if (later.kind == WASM_ERR_MALFORMED)
        *err = later;
}

static void relocate_scratch(comp *c)
{
    for (uint32_t i = 0; i < c->nsfix; i++)
        c->code[c->sfix[i]].u = c->nlslots + c->max_h + (c->code[c->sfix[i]].u - SCRATCH_BASE);
}

static int compile_body(comp *c, fcode *fc)
{
    reader *r = &c->r;
    c->ft = &c->m->types[fc->type_index];
    if (read_locals(c, c->ft) < 0)
        return -1;
    ctl *f = push_ctl(c, 0);
    if (!f)
        return -1;
    f->nr = c->ft->nr;
    f->rt = c->ft->t + c->ft->np;
    c->cur_off = fc->body_offset;
    emit_fuel(c);
    while (c->ch > 0 && !r->failed)
        instruction(c);
    if (r->failed)
        return -1;
    if (r->p != r->end)
        return fail(c, WASM_ERR_MALFORMED, "section size mismatch");
    if (c->fuel_pos)
        c->code[c->fuel_pos].u = c->fuel_count ? c->fuel_count : 1;
    uint64_t nslots = (uint64_t)c->nlslots + c->max_h + c->nscratch;
    if (nslots > WASM_MAX_FRAME_SLOTS)
        return fail(c, WASM_ERR_LIMIT, "function frame too large");
    relocate_scratch(c);
    fc->nparam_slots = c->ft->ps;
    fc->nlocal_slots = c->nlslots;
    fc->frame_slots = (uint32_t)nslots;
    fc->code_start = c->base, fc->code_len = c->len - c->base;
    fc->map_start = c->map_base, fc->nmap = c->nmap - c->map_base;
    return 0;
}

static void reset(comp *c)
{
    c->base = c->len;
    c->map_base = c->nmap;
    c->sh = c->max_h = c->clean = c->ch = c->nsaved = 0;
    c->nsfix = c->nscratch = c->scratch_live = c->fuel_pos = 0;
    c->last_mov = UINT32_MAX;
    c->label_pos = 0;
    c->fuel_count = 0;
    c->fold_end = 0;
}

int wasm_compile_module(wasm_module *m, wasm_error *err)
{
    comp *c = calloc(1, sizeof *c);
    if (!c)
        return wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
    c->m = m;
    c->H = wasm_interp_handlers();
    /* Translated code takes about 0.7 cells per body byte: reserve that much up front so the
     * arenas rarely move (untouched reserve costs no memory until used). */
    uint64_t body_bytes = 0;
    for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++)
        body_bytes += m->codes[i].body_len;
    if (body_bytes > MAX_ARRAY / 2)
        body_bytes = MAX_ARRAY / 2;
    /* real code needs about 0.7 cells per byte; 32 leaves room for anything legitimate while a
     * crafted module (e.g. br_table stubs moving many values) cannot make us allocate gigabytes */
    c->code_budget = (uint32_t)(body_bytes * 32 + 4096 < MAX_ARRAY ? body_bytes * 32 + 4096 : MAX_ARRAY);
    if (!grow(c, (void **)&c->hoff, &c->hcap, 16, sizeof(uint32_t)) ||
        !grow(c, (void **)&c->code, &c->cap, (uint32_t)(body_bytes + 64), sizeof(cell)) ||
        !grow(c, (void **)&c->map, &c->mapcap, (uint32_t)(body_bytes / 4 + 16), sizeof(srcmap)))
        return free(c->code), free(c->hoff), free(c),
               wasm_error_set(err, WASM_ERR_NOMEM, 0, "out of memory");
    c->hoff[0] = 0;
    int rc = 0;
    for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs && rc == 0; i++) {
        fcode *fc = &m->codes[i];
        c->r = (reader){.p = m->bin + fc->body_offset, .end = m->bin + fc->body_offset + fc->body_len,
                        .base = m->bin, .err = err,
                        .eof_msg = "unexpected end of section or function"};
        rc = compile_body(c, fc);
        if (rc < 0 && err && err->kind == WASM_ERR_INVALID)
            prefer_malformed(m, i, c->cur_off, c->cur_depth, err);
        reset(c);
    }
    if (rc == 0) { /* hand the arenas to the module; functions point into them */
        m->code_arena = c->code, m->map_arena = c->map;
        for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++) {
            m->codes[i].code = c->code + m->codes[i].code_start;
            m->codes[i].map = c->map + m->codes[i].map_start;
        }
    } else {
        free(c->code), free(c->map);
    }
    free(c->st), free(c->hoff), free(c->cs), free(c->saved), free(c->sfix), free(c->ltypes);
    free(c->loff), free(c->lref);
    free(c);
    return rc;
}
