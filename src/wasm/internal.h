/* internal.h - data structures shared by the engine's decoder, translator, interpreter and runtime.
 * Not part of the public API. */
#ifndef SB_WASM_INTERNAL_H
#define SB_WASM_INTERNAL_H

#include "wasm/wasm.h"

#include <string.h>

/* Implementation limits that protect the host from hostile modules (all far above what real
 * toolchains produce; the spec permits engines to impose such limits). */
#define WASM_MAX_PARAMS 1000        /* per function type, and results */
#define WASM_MAX_LOCALS 50000       /* params + locals per function */
#define WASM_MAX_NESTING 10000      /* control-structure nesting within one function */
#define WASM_MAX_FRAME_SLOTS 200000 /* locals + operand-stack slots per function */
#define WASM_PAGE 65536u

typedef uint64_t slot_t; /* one value-stack slot; a v128 takes two consecutive slots */

/* One word of translated code: a handler address or an immediate. */
typedef union cell {
    const void *h;
    int64_t i;
    uint64_t u;
} cell;

typedef struct ftype {
    uint32_t np, nr;
    wasm_valtype *t; /* np params then nr results */
    uint32_t ps, rs; /* slots the params and the results take (a v128 takes two) */
} ftype;

/* A constant expression (WebAssembly 2.0: exactly one instruction before `end`). */
typedef struct cexpr {
    uint8_t op;  /* 0x41 i32.const, 0x42 i64, 0x43 f32, 0x44 f64, 0xD0 ref.null, 0xD2 ref.func,
                    0x23 global.get */
    uint64_t v;  /* the constant's bits, or the function / global index */
    uint64_t hi; /* 0xFD v128.const: the high 8 bytes (v holds the low 8) */
} cexpr;

typedef struct import {
    const char *mod, *name; /* NUL-terminated copies */
    uint32_t mod_len, name_len;
    wasm_externtype type;   /* func types point into the module's type table */
    uint32_t type_index;    /* for functions */
} import;

typedef struct export {
    const char *name;
    uint32_t name_len;
    wasm_externkind kind;
    uint32_t index;
} export;

typedef struct global_def {
    wasm_globaltype type;
    cexpr init;
} global_def;

enum seg_mode { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE };

typedef struct elem_seg {
    enum seg_mode mode;
    uint32_t table;
    cexpr offset;
    wasm_valtype type;
    uint32_t count;
    cexpr *items;
} elem_seg;

typedef struct data_seg {
    enum seg_mode mode;
    uint32_t mem;
    cexpr offset;
    uint32_t len;
    const uint8_t *bytes; /* into the module's copy of the binary */
} data_seg;

/* Where translated code traps: code index -> offset in the binary (sorted by code index). */
typedef struct srcmap {
    uint32_t code_index, byte_offset;
} srcmap;

/* A defined function after translation. */
typedef struct fcode {
    uint32_t type_index;
    uint32_t body_offset, body_len;  /* in the binary */
    uint32_t nparam_slots, nlocal_slots; /* locals include params */
    uint32_t frame_slots;            /* locals + deepest operand stack */
    cell *code;                      /* into the module's code arena */
    uint32_t code_start, code_len;
    srcmap *map;                     /* into the module's map arena; code_index is per function */
    uint32_t map_start, nmap;
} fcode;

struct wasm_module {
    uint8_t *bin; /* private copy of the binary: names and data segments point into it */
    size_t bin_len;
    ftype *types;
    uint32_t ntypes;
    import *imports;
    uint32_t nimports;
    uint32_t nfuncs, nimp_funcs;    /* function index space: imports first */
    uint32_t *func_types;           /* type index per function */
    fcode *codes;                   /* nfuncs - nimp_funcs */
    cell *code_arena;               /* translated code of all functions */
    srcmap *map_arena;
    wasm_tabletype *tables;
    uint32_t ntables, nimp_tables;
    wasm_limits *mems;
    uint32_t nmems, nimp_mems;
    global_def *globals;            /* imported ones have only .type */
    uint32_t nglobals, nimp_globals;
    export *exports;
    uint32_t nexports;
    int64_t start;                  /* -1 = none */
    elem_seg *elems;
    uint32_t nelems;
    data_seg *datas;
    uint32_t ndatas;
    int64_t data_count;             /* -1 = no data count section */
    struct jit_module *jit;         /* machine code of the compiled tier (NULL without it) */
    uint8_t *declared_funcs;        /* 1 = may be referenced by ref.func in code */
};

/* ------------------------------------------------------------------ runtime objects */

struct wasm_func {
    const ftype *type;
    wasm_instance *inst;      /* owning instance (NULL for host functions) */
    uint32_t index;           /* in the owning module's function index space */
    const fcode *code;        /* NULL for host functions */
    wasm_host_fn host;
    void *user;
    wasm_functype pub;        /* the public view of type */
};

struct wasm_table {
    wasm_valtype elem;
    uint32_t size, max, cap;  /* max: effective (limits and host cap) */
    bool has_max;
    uint32_t decl_max;
    void **elems;             /* wasm_func* or host pointers */
};

struct wasm_memory {
    uint8_t *data;
    uint64_t size;            /* bytes */
    uint32_t pages, max_pages;/* max_pages: effective growth cap */
    bool has_max;
    uint32_t decl_max;
};

struct wasm_global {
    wasm_globaltype type;
    slot_t val[2]; /* val[1] only for v128 */
};

/* One activation record on the engine-owned call stack. */
typedef struct frame {
    const cell *ret_ip;
    slot_t *fp;
    wasm_func *func;          /* the function this record's callee is */
} frame;

struct wasm_instance {
    wasm_store *store;
    const wasm_module *mod;
    wasm_func **funcs;
    wasm_table **tables;
    wasm_memory **mems;
    wasm_global **globals;
    wasm_memory *mem0;        /* memory 0 or NULL */
    void ***elem_refs;        /* evaluated element segments */
    uint32_t *elem_len;       /* 0 once dropped */
    uint32_t *data_len;       /* 0 once dropped */
    wasm_func *own_funcs;     /* the module's defined functions */
    wasm_config cfg;
    uint64_t fuel;
    /* execution state, allocated on first call */
    slot_t *stack;
    size_t stack_slots;
    frame *frames;
    void *jit_stack;          /* the compiled tier's native stack (mapped on first use) */
    size_t jit_stack_size;
    bool running;
    /* host call in progress: message and exit code it set */
    wasm_trap *host_trap;
    wasm_trap scratch_trap;
};

/* Objects owned by a store are kept in a singly linked list of allocations. */
typedef struct store_obj {
    struct store_obj *next;
    void (*release)(void *);
    void *obj;
} store_obj;

typedef struct definition {
    char *mod, *name;
    wasm_extern ext;
} definition;

struct wasm_store {
    store_obj *objs;
    definition *defs;
    size_t ndefs, cap_defs;
};

/* decode.c */
int wasm_error_set(wasm_error *err, wasm_errkind kind, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* compile.c: validates and translates every function body of m. */
int wasm_compile_module(wasm_module *m, wasm_error *err);

/* interp.c */
const void *const *wasm_interp_handlers(void);
/* Runs f on inst's stack with arguments already in inst->stack[0..]. Results land in
 * stack[0..nr). Returns 0 or a trap kind with trap filled. */
int wasm_interp_run(wasm_instance *inst, wasm_func *f, wasm_trap *trap);
/* Runs f as a callee of compiled code: frame at fp, call depth `depth`; the caller has already
 * made the call's depth, stack, interrupt and entry-fuel checks (as the interpreter's own calls
 * do). Fuel is read from and written back to inst->fuel. */
int wasm_interp_run_called(wasm_instance *inst, wasm_func *f, slot_t *fp, uint32_t depth,
                           wasm_trap *trap);
/* Calls a host function with arguments/results in slots. Returns 0 or a trap kind. */
int wasm_call_host(wasm_instance *caller, wasm_func *f, slot_t *args, wasm_trap *trap);

/* runtime.c helpers used by the interpreter */
int64_t wasm_mem_grow(wasm_memory *mem, uint32_t delta);
int64_t wasm_tab_grow(wasm_table *t, uint32_t delta, void *init);
bool wasm_ftype_eq(const ftype *a, const ftype *b);
void wasm_trap_set(wasm_trap *trap, wasm_trapkind kind, const wasm_func *f, uint32_t code_index);
/* Fills only func_index and code_offset (for host traps, which bring their own message). */
void wasm_trap_locate(wasm_trap *trap, const wasm_func *f, uint32_t code_index);

static inline bool valtype_is_ref(wasm_valtype t)
{
    return t == WASM_FUNCREF || t == WASM_EXTERNREF;
}

/* Values of a list of types are laid out one after another in slots: a v128 takes two. */
static inline uint32_t valtype_slots(wasm_valtype t) { return t == WASM_V128 ? 2u : 1u; }
static inline uint32_t types_slots(const wasm_valtype *t, uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += valtype_slots(t[i]);
    return s;
}

/* runtime.c: a value to and from its slots (one, or two for a v128). */
void wasm_val_to_slots(const wasm_val *v, slot_t *s);
void wasm_slots_to_val(wasm_valtype t, const slot_t *s, wasm_val *v);

#endif
