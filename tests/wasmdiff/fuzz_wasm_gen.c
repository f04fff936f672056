/* fuzz_wasm_gen.c - libFuzzer target: the input is a stream of choices from which wasmgen.c
 * builds a module that is valid by construction; the module runs under both engine tiers
 * (wasmdiff_one) and any difference aborts. A generated module the validator rejects is a
 * generator bug: it aborts too, with the validator's message. */
#include <stdio.h>
#include <stdlib.h>

#include "diff_wasm.h"
#include "wasm/wasm.h"
#include "wasmgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void invalid_module(const uint8_t *mod, size_t len)
{
    wasm_error err;
    wasm_module *m = wasm_module_load(mod, len, &err);
    wasm_module_free(m);
    fprintf(stderr, "fuzz_wasm_gen: the generated module (%zu bytes) does not validate: %s at "
            "offset %zu: %s\n", len, wasm_errkind_name(err.kind), err.offset, err.msg);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* This fuzzer's own counts and module buffer (a test program, not the engine). */
    static wasmdiff_tally tally;
    static unsigned long empty;
    static uint8_t mod[WASMGEN_MAX_MODULE];
    if (!wasm_engine_available(WASM_ENGINE_COMPILED)) {
        fprintf(stderr, "fuzz_wasm_gen: this build has no compiled tier: nothing to compare\n");
        abort();
    }
    size_t len = wasmgen_module(data, size, mod, sizeof mod);
    if (len == 0) {
        empty++; /* out of memory or over the size cap: nothing generated */
        return 0;
    }
    unsigned long invalid = tally.invalid;
    if (wasmdiff_one(mod, len, "generated module", &tally) != 0)
        abort();
    if (tally.invalid != invalid)
        invalid_module(mod, len);
    if (tally.inputs % 100000 == 0)
        fprintf(stderr, "fuzz_wasm_gen: %lu modules generated, %lu failed to validate, %lu "
                "compared (%lu calls), %lu skipped as unsupported by the compiled tier, %lu over "
                "the limits, %lu inputs generated nothing\n",
                tally.inputs, tally.invalid, tally.compared, tally.calls, tally.unsupported,
                tally.too_big, empty);
    return 0;
}
