/* fuzz_simd_ops.c - libFuzzer target: one SIMD operation of any family with inputs from the
 * fuzzer's bytes (format in simd_fuzz.h), every accelerated form against the portable one under
 * test_simd_ops' rules (simd_check.h). A disagreement prints the operation, its inputs and both
 * results, then aborts; ASan catches loads that read past their bytes.
 *
 *   CC=clang cmake -S . -B build/fuzz -DSB_FUZZ=ON && cmake --build build/fuzz --target fuzz_simd_ops
 *   UBSAN_OPTIONS=halt_on_error=1 build/fuzz/tests/wasm/fuzz_simd_ops -max_len=64 \
 *       CORPUS_DIR tests/wasm/simd_fuzz_seeds
 * A crash input replays without libFuzzer: simd_fuzz_replay FILE (from any build); keep it in
 * simd_fuzz_seeds/ once the bug is fixed, so wasm_simd_fuzz_replay checks it from then on. */
#include <stdlib.h>

#include "simd_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    simd_case c;
    if (simd_fuzz_check(data, size, &c, stderr) != 0) abort(); /* a mismatch or out of memory */
    return 0;
}
