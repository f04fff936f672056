/* wasmgen.h - a generator of WebAssembly modules that are valid by construction, for the
 * differential fuzzer fuzz_wasm_gen.c and its replay (gen_replay.c).
 *
 * The input bytes are a stream of choices (when they run out, every choice is 0: the smallest
 * module, the shortest body, constants). The module keeps within the limits of diff_wasm.c
 * (16 pages of memory, tables under 1,000 entries, at most 64 parameters or results) and exports
 * every function it defines, its memory, both tables and every global, so that wasmdiff_one()
 * calls and compares all of it. */
#ifndef SB_WASMGEN_H
#define SB_WASMGEN_H

#include <stddef.h>
#include <stdint.h>

/* Largest module wasmgen_module() writes; a smaller `cap` may make it return 0. */
#define WASMGEN_MAX_MODULE (256u << 10)

/* Writes a module built from the choices in data[0..size) to out[0..cap). Returns its length,
 * or 0 when it does not fit in cap (or memory ran out). Deterministic: the same bytes give the
 * same module. Uses no global mutable state. */
size_t wasmgen_module(const uint8_t *data, size_t size, uint8_t *out, size_t cap);

#endif
