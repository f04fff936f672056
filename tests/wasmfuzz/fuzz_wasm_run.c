/* fuzz_wasm_run.c - libFuzzer target: load, instantiate with stub imports under small limits and
 * a fuel budget, and call every exported function with zero arguments. */
#include "fuzz_wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_wasm_run_one(data, size);
    return 0;
}
