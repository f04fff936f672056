/* text.c - names and messages for error and trap kinds, and configuration defaults. */
#include "wasm/wasm.h"

#include <string.h>

const char *wasm_trap_text(wasm_trapkind kind)
{
    static const char *const texts[] = {
        [WASM_TRAP_NONE] = "no trap",
        [WASM_TRAP_UNREACHABLE] = "unreachable",
        [WASM_TRAP_MEMORY_OOB] = "out of bounds memory access",
        [WASM_TRAP_TABLE_OOB] = "out of bounds table access",
        [WASM_TRAP_UNDEFINED_ELEMENT] = "undefined element",
        [WASM_TRAP_UNINIT_ELEMENT] = "uninitialized element",
        [WASM_TRAP_INDIRECT_MISMATCH] = "indirect call type mismatch",
        [WASM_TRAP_INT_OVERFLOW] = "integer overflow",
        [WASM_TRAP_DIV_ZERO] = "integer divide by zero",
        [WASM_TRAP_INVALID_CONVERSION] = "invalid conversion to integer",
        [WASM_TRAP_NULL_REF] = "null reference",
        [WASM_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
        [WASM_TRAP_OUT_OF_FUEL] = "out of fuel",
        [WASM_TRAP_HOST] = "host trap",
        [WASM_TRAP_EXIT] = "exit",
        [WASM_TRAP_INTERRUPTED] = "interrupted",
        [WASM_TRAP_COMPILE_FAILED] = "compile failed",
    };
    if ((unsigned)kind >= sizeof texts / sizeof texts[0])
        return "unknown trap";
    return texts[kind];
}

const char *wasm_errkind_name(wasm_errkind kind)
{
    static const char *const names[] = {
        [WASM_OK] = "ok",
        [WASM_ERR_MALFORMED] = "malformed",
        [WASM_ERR_INVALID] = "invalid",
        [WASM_ERR_UNLINKABLE] = "unlinkable",
        [WASM_ERR_LIMIT] = "limit exceeded",
        [WASM_ERR_TRAP] = "trap",
        [WASM_ERR_NOMEM] = "out of memory",
        [WASM_ERR_MISUSE] = "misuse",
        [WASM_ERR_UNSUPPORTED] = "unsupported",
    };
    if ((unsigned)kind >= sizeof names / sizeof names[0])
        return "unknown error";
    return names[kind];
}

void wasm_config_default(wasm_config *cfg)
{
    cfg->max_memory_pages = 65536;
    cfg->max_table_elems = 10000000;
    cfg->max_call_depth = 10000;
    cfg->max_stack_bytes = 8u << 20;
    cfg->fuel = WASM_FUEL_UNLIMITED;
    cfg->interrupt = NULL;
    cfg->engine = WASM_ENGINE_INTERPRETER;
}

const char *wasm_engine_name(wasm_engine e)
{
    switch (e) {
    case WASM_ENGINE_INTERPRETER: return "interpreter";
    case WASM_ENGINE_COMPILED: return "compiled";
    }
    return NULL;
}

int wasm_engine_parse(const char *name, wasm_engine *out)
{
    if (!name)
        return -1;
    for (wasm_engine e = WASM_ENGINE_INTERPRETER; e <= WASM_ENGINE_COMPILED; e++)
        if (strcmp(name, wasm_engine_name(e)) == 0) {
            *out = e;
            return 0;
        }
    return -1;
}

/* The compiled tier (src/wasm/jit/) replaces this with its own answer when it is built in. */
#ifndef SB_WASM_COMPILED_TIER
bool wasm_engine_available(wasm_engine e) { return e == WASM_ENGINE_INTERPRETER; }
#endif
