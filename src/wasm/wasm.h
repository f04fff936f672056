/* wasm.h - Strongbox's WebAssembly 2.0 engine: public API.
 *
 * Lifecycle:  wasm_module_load() -> wasm_store_new() -> [create host objects / define imports]
 *             -> wasm_instantiate() -> wasm_instance_export*() -> wasm_invoke() ... -> wasm_store_free()
 *             -> wasm_module_free().
 *
 * Ownership: a wasm_module is independent of any store and must outlive every instance made from
 * it. Everything else (instances, functions, tables, memories, globals, host objects) belongs to a
 * wasm_store and is released by wasm_store_free(). Handles stay valid until then.
 *
 * The engine has no global state, performs no I/O and never aborts on bad input. It is not
 * thread-safe per store: use one store per thread.
 *
 * Values: wasm_val carries a type tag and raw bit patterns (f32/f64 are stored as their IEEE bits so
 * NaN payloads survive). funcref values are wasm_func handles (NULL = ref.null func); externref
 * values are host void* pointers (NULL = ref.null extern). */
#ifndef SB_WASM_H
#define SB_WASM_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- types and values */

typedef enum wasm_valtype {
    WASM_I32 = 0x7F,
    WASM_I64 = 0x7E,
    WASM_F32 = 0x7D,
    WASM_F64 = 0x7C,
    WASM_V128 = 0x7B, /* fixed-width SIMD: 16 bytes, lane 0 first, lanes little-endian */
    WASM_FUNCREF = 0x70,
    WASM_EXTERNREF = 0x6F,
} wasm_valtype;

typedef enum wasm_externkind {
    WASM_EXTERN_FUNC = 0,
    WASM_EXTERN_TABLE = 1,
    WASM_EXTERN_MEMORY = 2,
    WASM_EXTERN_GLOBAL = 3,
} wasm_externkind;

typedef struct wasm_store wasm_store;
typedef struct wasm_module wasm_module;
typedef struct wasm_instance wasm_instance;
typedef struct wasm_func wasm_func;
typedef struct wasm_table wasm_table;
typedef struct wasm_memory wasm_memory;
typedef struct wasm_global wasm_global;

typedef struct wasm_val {
    wasm_valtype type;
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32;     /* IEEE-754 bit pattern */
        uint64_t f64;     /* IEEE-754 bit pattern */
        uint8_t v128[16]; /* lane 0 first, each lane little-endian */
        wasm_func *funcref;
        void *externref;
    } of;
} wasm_val;

/* A function type. The arrays are owned by whoever made the struct (the module for types it
 * reports; the host for types it passes in, which the engine copies). */
typedef struct wasm_functype {
    uint32_t nparams, nresults;
    const wasm_valtype *params;
    const wasm_valtype *results;
} wasm_functype;

/* Limits in pages (memories, 64 KiB each) or elements (tables). */
typedef struct wasm_limits {
    uint32_t min;
    uint32_t max;
    bool has_max;
} wasm_limits;

typedef struct wasm_tabletype {
    wasm_valtype elem; /* WASM_FUNCREF or WASM_EXTERNREF */
    wasm_limits limits;
} wasm_tabletype;

typedef struct wasm_globaltype {
    wasm_valtype type;
    bool mutable_;
} wasm_globaltype;

/* The type of an import or export. */
typedef struct wasm_externtype {
    wasm_externkind kind;
    union {
        wasm_functype func;
        wasm_tabletype table;
        wasm_limits memory;
        wasm_globaltype global;
    } of;
} wasm_externtype;

/* A reference to a store object, used to supply imports and to read exports. */
typedef struct wasm_extern {
    wasm_externkind kind;
    union {
        wasm_func *func;
        wasm_table *table;
        wasm_memory *memory;
        wasm_global *global;
    } of;
} wasm_extern;

/* ---------------------------------------------------------------- errors and traps */

typedef enum wasm_errkind {
    WASM_OK = 0,
    WASM_ERR_MALFORMED,    /* binary does not decode (spec: assert_malformed) */
    WASM_ERR_INVALID,      /* decodes but fails validation (spec: assert_invalid) */
    WASM_ERR_UNLINKABLE,   /* "unknown import" / "incompatible import type" (assert_unlinkable) */
    WASM_ERR_LIMIT,        /* a host-set instantiation limit was exceeded (memory pages, table size) */
    WASM_ERR_TRAP,         /* instantiation trapped (segment out of bounds, start function trap) */
    WASM_ERR_NOMEM,        /* allocation failed */
    WASM_ERR_MISUSE,       /* API called with bad arguments (wrong store, NULL, wrong arity...) */
    WASM_ERR_UNSUPPORTED,  /* a feature this engine does not implement (none of WebAssembly 2.0;
                            * kept for proposals beyond it) */
} wasm_errkind;

typedef enum wasm_trapkind {
    WASM_TRAP_NONE = 0,
    WASM_TRAP_UNREACHABLE,        /* "unreachable" */
    WASM_TRAP_MEMORY_OOB,         /* "out of bounds memory access" */
    WASM_TRAP_TABLE_OOB,          /* "out of bounds table access" */
    WASM_TRAP_UNDEFINED_ELEMENT,  /* "undefined element" (call_indirect index >= table size) */
    WASM_TRAP_UNINIT_ELEMENT,     /* "uninitialized element" (call_indirect through null) */
    WASM_TRAP_INDIRECT_MISMATCH,  /* "indirect call type mismatch" */
    WASM_TRAP_INT_OVERFLOW,       /* "integer overflow" */
    WASM_TRAP_DIV_ZERO,           /* "integer divide by zero" */
    WASM_TRAP_INVALID_CONVERSION, /* "invalid conversion to integer" */
    WASM_TRAP_NULL_REF,           /* "null reference" */
    WASM_TRAP_STACK_EXHAUSTED,    /* "call stack exhausted" (call depth or value-stack bytes) */
    WASM_TRAP_OUT_OF_FUEL,        /* "out of fuel" */
    WASM_TRAP_HOST,               /* a host function trapped; message set by the host */
    WASM_TRAP_EXIT,               /* a host function requested a normal exit (WASI proc_exit) */
    WASM_TRAP_INTERRUPTED,        /* "interrupted": *wasm_config.interrupt became non-zero */
    WASM_TRAP_COMPILE_FAILED,     /* "compile failed": the compiled tier could not compile a
                                   * function at its first call (out of memory, code space used
                                   * up); the message names the reason */
} wasm_trapkind;

#define WASM_MSG_MAX 192

/* A trap is a value: where it happened and why. func_index is the index (in its module's function
 * index space) of the innermost wasm function executing; code_offset is the byte offset in the
 * module binary of the trapping instruction (0 when not known, e.g. host traps). */
typedef struct wasm_trap {
    wasm_trapkind kind;
    uint32_t func_index;
    uint32_t code_offset;
    int32_t exit_code;       /* for WASM_TRAP_EXIT */
    char msg[WASM_MSG_MAX];  /* spec-testsuite text for engine traps; the host's text otherwise */
} wasm_trap;

/* Load, link and instantiation errors. offset: byte offset in the module binary (decode and
 * validation errors), else 0. For WASM_ERR_TRAP, trap describes the trap. */
typedef struct wasm_error {
    wasm_errkind kind;
    size_t offset;
    char msg[WASM_MSG_MAX]; /* spec-testsuite text where one exists, e.g. "type mismatch" */
    wasm_trap trap;
} wasm_error;

/* Spec text for a trap kind ("integer divide by zero", ...); never NULL. */
const char *wasm_trap_text(wasm_trapkind kind);
/* Short name of an error kind ("malformed", "invalid", ...); never NULL. */
const char *wasm_errkind_name(wasm_errkind kind);

/* ---------------------------------------------------------------- modules */

/* Decodes and validates `len` bytes (not retained: the engine copies what it needs). Returns a
 * module, or NULL with err filled: WASM_ERR_MALFORMED or WASM_ERR_INVALID (with offset and the
 * spec's message), WASM_ERR_LIMIT (an implementation limit), WASM_ERR_NOMEM. err may be NULL. */
wasm_module *wasm_module_load(const uint8_t *bytes, size_t len, wasm_error *err);
void wasm_module_free(wasm_module *m);

/* Introspection. Indices run 0..count-1 in declaration order. The returned strings and types point
 * into the module and live as long as it does. Names are UTF-8 and may contain NUL bytes: their
 * byte length is returned through *name_len when that is not NULL. */
uint32_t wasm_module_import_count(const wasm_module *m);
int wasm_module_import(const wasm_module *m, uint32_t index, const char **module_name,
                       const char **name, wasm_externtype *type);
uint32_t wasm_module_export_count(const wasm_module *m);
int wasm_module_export(const wasm_module *m, uint32_t index, const char **name,
                       wasm_externtype *type);

/* ---------------------------------------------------------------- store and host objects */

wasm_store *wasm_store_new(void);
/* Frees the store and every object in it (instances, functions, tables, memories, globals). */
void wasm_store_free(wasm_store *s);

/* A host function. args holds the parameters (typed per the function type); the callback writes
 * every result (type tag included). Return 0 to continue, or a trap kind: WASM_TRAP_EXIT for a
 * normal exit (see wasm_host_exit), WASM_TRAP_HOST (or any other kind) to trap. Optionally set a
 * message with wasm_host_trap(). `caller` is the instance whose code made the call (NULL when the
 * host invoked the function directly); use it to reach the caller's memory. */
typedef int (*wasm_host_fn)(wasm_instance *caller, void *user, const wasm_val *args,
                            wasm_val *results);

/* Sets the trap message for the current host call and returns `kind` (use as
 * `return wasm_host_trap(caller, WASM_TRAP_HOST, "fd %d: bad", fd);`). caller may be NULL. */
int wasm_host_trap(wasm_instance *caller, wasm_trapkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records exit code `code` and returns WASM_TRAP_EXIT: the invocation stops and wasm_invoke()
 * reports WASM_TRAP_EXIT with trap->exit_code = code, which the host treats as a normal exit. */
int wasm_host_exit(wasm_instance *caller, int32_t code);

/* Creates objects owned by the store. Types are copied. Return NULL on bad arguments or memory
 * exhaustion (err filled, err may be NULL). */
wasm_func *wasm_func_new_host(wasm_store *s, const wasm_functype *type, wasm_host_fn fn,
                              void *user, wasm_error *err);
wasm_global *wasm_global_new(wasm_store *s, wasm_globaltype type, wasm_val init, wasm_error *err);
/* Every element starts as `init` (a null or non-null reference of the table's element type). */
wasm_table *wasm_table_new(wasm_store *s, wasm_tabletype type, wasm_val init, wasm_error *err);
/* max_pages caps growth regardless of limits.max (0 = only limits.max / 65536 pages). */
wasm_memory *wasm_memory_new(wasm_store *s, wasm_limits limits, uint32_t max_pages,
                             wasm_error *err);

/* Names an object for import resolution: a module importing (module_name, name) gets it. A later
 * definition of the same pair replaces the earlier one. Returns 0, or -1 (err filled). */
int wasm_store_define(wasm_store *s, const char *module_name, const char *name, wasm_extern ext,
                      wasm_error *err);
/* Defines every export of `inst` under module name `module_name` (spec-test `register`). */
int wasm_store_register(wasm_store *s, const char *module_name, wasm_instance *inst,
                        wasm_error *err);

/* ---------------------------------------------------------------- instantiation */

#define WASM_FUEL_UNLIMITED UINT64_MAX

/* wasm_config has the `interrupt` field (a host-owned flag, e.g. set by a signal handler). */
#define WASM_HAS_INTERRUPT 1

/* Which tier runs an instance's code. The interpreter is the reference and is always built; the
 * compiled tier (x86-64 machine code, src/wasm/jit/) exists only where wasm_engine_available()
 * says so. Both tiers give the same results, traps and fuel use. */
typedef enum wasm_engine {
    WASM_ENGINE_INTERPRETER = 0,
    WASM_ENGINE_COMPILED = 1,
} wasm_engine;

/* True when this build of the engine can run instances on tier e. */
bool wasm_engine_available(wasm_engine e);
/* "interpreter" / "compiled" (NULL for other values), and back: 0 with *out set, -1 unknown. */
const char *wasm_engine_name(wasm_engine e);
int wasm_engine_parse(const char *name, wasm_engine *out);
/* The compiled tier compiles each function on its first call. This compiles all of m's functions
 * now instead (no compilation, and no compile failure, later; costs time and memory for functions
 * that may never run). 0, or -1 with err set (WASM_ERR_UNSUPPORTED when the tier is not
 * available or cannot compile m, WASM_ERR_NOMEM). */
int wasm_module_compile(const wasm_module *m, wasm_error *err);

/* Per-instance limits, set by the host. */
typedef struct wasm_config {
    uint32_t max_memory_pages; /* defined memories: a larger declared minimum fails instantiation
                                  with WASM_ERR_LIMIT; memory.grow beyond it returns -1 */
    uint32_t max_table_elems;  /* the same for tables (WASM_ERR_LIMIT / table.grow returns -1) */
    uint32_t max_call_depth;   /* nested wasm calls; deeper -> WASM_TRAP_STACK_EXHAUSTED */
    uint32_t max_stack_bytes;  /* value-stack bytes (locals + operands of all active frames) */
    uint64_t fuel;             /* instruction budget, WASM_FUEL_UNLIMITED for none */
    volatile sig_atomic_t *interrupt; /* NULL = none; when *interrupt becomes non-zero, the
                                         running invocation traps with WASM_TRAP_INTERRUPTED at
                                         its next loop back-edge, loop entry or function entry
                                         (fuel limited or not). The engine only reads it: the
                                         host resets it. */
    wasm_engine engine;        /* the tier; instantiation fails with WASM_ERR_UNSUPPORTED when
                                  !wasm_engine_available(engine) */
} wasm_config;

/* Defaults: 65536 pages, 10,000,000 table elements, depth 10,000, 8 MiB of value stack, unlimited
 * fuel, no interrupt flag, the interpreter. */
void wasm_config_default(wasm_config *cfg);

/* Instantiates `m` in store `s`. Imports: when `imports` is non-NULL it holds exactly
 * wasm_module_import_count(m) objects in import order; when NULL they are resolved by name from
 * wasm_store_define/register definitions. Import types are matched by the spec's rules (limits
 * subtyping, exact function types, global type and mutability); failures give WASM_ERR_UNLINKABLE
 * with "unknown import" or "incompatible import type". Then tables/memories are created (within
 * cfg), globals initialised, element and data segments applied in order and the start function run.
 * A trap part-way (WASM_ERR_TRAP) leaves earlier segment writes in shared tables/memories in place,
 * as WebAssembly 2.0 requires. cfg NULL = defaults. Returns 0 with *out set, or -1 with err filled
 * (err may be NULL). */
int wasm_instantiate(wasm_store *s, const wasm_module *m, const wasm_extern *imports,
                     size_t nimports, const wasm_config *cfg, wasm_instance **out,
                     wasm_error *err);

const wasm_module *wasm_instance_module(const wasm_instance *inst);

/* ---------------------------------------------------------------- exports and calls */

/* Looks up an export by name (NUL-terminated) or by name and byte length (names may hold NUL).
 * Return 0 with *out set, or -1 when there is no such export. */
int wasm_instance_export(const wasm_instance *inst, const char *name, wasm_extern *out);
int wasm_instance_export_n(const wasm_instance *inst, const char *name, size_t name_len,
                           wasm_extern *out);
/* Convenience: the exported function / memory of that name, or NULL. */
wasm_func *wasm_instance_export_func(const wasm_instance *inst, const char *name);
wasm_memory *wasm_instance_export_memory(const wasm_instance *inst, const char *name);
/* The instance's memory 0 (imported or defined), or NULL if it has none. */
wasm_memory *wasm_instance_memory(const wasm_instance *inst);

const wasm_functype *wasm_func_type(const wasm_func *f);

/* Calls f with nargs typed arguments and room for nresults results. Runs under ctx's limits and
 * fuel (ctx: the instance on whose behalf the host calls; may be NULL only for host functions).
 * Returns 0 on success; a positive wasm_trapkind with *trap filled when execution trapped (or the
 * host exited: WASM_TRAP_EXIT); -1 on misuse (argument count or types do not match the function
 * type, reentrant call while ctx is running) with trap->msg saying why. trap may be NULL. */
int wasm_invoke(wasm_instance *ctx, wasm_func *f, const wasm_val *args, size_t nargs,
                wasm_val *results, size_t nresults, wasm_trap *trap);

/* Remaining fuel of an instance (WASM_FUEL_UNLIMITED when unlimited) and refuelling. */
uint64_t wasm_instance_fuel(const wasm_instance *inst);
void wasm_instance_set_fuel(wasm_instance *inst, uint64_t fuel);

/* ---------------------------------------------------------------- globals, tables, memories */

wasm_globaltype wasm_global_type(const wasm_global *g);
void wasm_global_get(const wasm_global *g, wasm_val *out);
/* Fails (-1, err filled) if the global is immutable or the value's type differs. */
int wasm_global_set(wasm_global *g, const wasm_val *v, wasm_error *err);

wasm_tabletype wasm_table_type(const wasm_table *t); /* limits.min = current size */
uint32_t wasm_table_size(const wasm_table *t);
/* Return 0, or -1 when index is out of range or the value has the wrong type. */
int wasm_table_get(const wasm_table *t, uint32_t index, wasm_val *out);
int wasm_table_set(wasm_table *t, uint32_t index, const wasm_val *v);

/* Base pointer and current size in bytes of a memory. The pointer is valid only until the next
 * call into wasm (memory.grow may move it). */
uint8_t *wasm_memory_data(wasm_memory *mem);
uint64_t wasm_memory_size(const wasm_memory *mem);
wasm_limits wasm_memory_limits(const wasm_memory *mem); /* min = current pages */
/* Pointer to [offset, offset+len) if that range lies inside the memory, else NULL. Same lifetime
 * as wasm_memory_data(). len 0 is allowed at offset == size. */
void *wasm_memory_range(wasm_memory *mem, uint64_t offset, uint64_t len);
/* Grows by delta pages; returns the old size in pages or -1 (limit). */
int64_t wasm_memory_grow(wasm_memory *mem, uint32_t delta);

#endif
