/* fuzz_wasm_load.c - libFuzzer target: decode + validate arbitrary bytes. */
#include "fuzz_wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_wasm_load_one(data, size);
    return 0;
}
