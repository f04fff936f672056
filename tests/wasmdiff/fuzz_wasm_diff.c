/* fuzz_wasm_diff.c - libFuzzer target: every input that validates runs under both engine tiers,
 * and any difference between them aborts (libFuzzer keeps the input). The corpus starts from the
 * spec testsuite's modules; libFuzzer's mutations of them that no longer validate are rejected by
 * the validator and counted, those that do are compared. */
#include <stdio.h>
#include <stdlib.h>

#include "diff_wasm.h"
#include "wasm/wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wasmdiff_tally tally; /* this fuzzer's own counts (a test program, not the engine) */
    if (!wasm_engine_available(WASM_ENGINE_COMPILED)) {
        fprintf(stderr, "fuzz_wasm_diff: this build has no compiled tier: nothing to compare\n");
        abort();
    }
    if (wasmdiff_one(data, size, "fuzz input", &tally) != 0)
        abort();
    if (tally.inputs % 100000 == 0)
        fprintf(stderr, "fuzz_wasm_diff: %lu inputs, %lu invalid, %lu compared (%lu calls), "
                "%lu skipped as unsupported by the compiled tier, %lu over the limits\n",
                tally.inputs, tally.invalid, tally.compared, tally.calls, tally.unsupported,
                tally.too_big);
    return 0;
}
