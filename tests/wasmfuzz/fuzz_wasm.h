/* fuzz_wasm.h - the fuzz entry points, shared by the libFuzzer targets and the plain regression
 * runner (which replays the seed corpus and regressions/ under ctest). */
#ifndef SB_FUZZ_WASM_H
#define SB_FUZZ_WASM_H

#include <stddef.h>
#include <stdint.h>

/* Decodes and validates arbitrary bytes, then walks the module's imports and exports.
 * Returns 1 if the module loaded, 0 if it was rejected. */
int fuzz_wasm_load_one(const uint8_t *data, size_t size);
/* Loads, instantiates with stub imports under small limits and a fuel budget, and calls every
 * exported function with zero arguments. Returns the number of calls made, or -1 when the module
 * did not load or instantiate. */
int fuzz_wasm_run_one(const uint8_t *data, size_t size);

#endif
