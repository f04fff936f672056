/* replay.c - replays the differential corpus (the spec testsuite's modules and regressions/)
 * through both engine tiers without libFuzzer, in every test run (ctest wasmdiff.replay).
 *
 * Usage: wasmdiff_replay [--min-compared N] DIR|FILE ...
 * Fails on any mismatch, when the build has no compiled tier, or when fewer than N modules
 * (default 1) could be compared: a replay that compares nothing proves nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "diff_wasm.h"
#include "wasm/wasm.h"

#define MAX_DIFF_INPUT (16u << 20)

static int run_input(const uint8_t *data, size_t len, const char *path, void *ctx)
{
    return wasmdiff_one(data, len, path, ctx);
}

int main(int argc, char **argv)
{
    unsigned long min_compared = 1;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--min-compared") == 0) {
        char *end;
        min_compared = strtoul(argv[2], &end, 10);
        if (*end || !*argv[2]) {
            fprintf(stderr, "--min-compared %s: expected a number\n", argv[2]);
            return 2;
        }
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [--min-compared N] DIR|FILE ...\n", argv[0]);
        return 2;
    }
    if (!wasm_engine_available(WASM_ENGINE_COMPILED)) {
        fprintf(stderr, "FAIL: this build has no compiled tier: there is nothing to compare\n");
        return 1;
    }
    wasmdiff_tally t = {0};
    int rc = 0;
    for (int i = first; i < argc; i++)
        if (sb_corpus_each(argv[i], MAX_DIFF_INPUT, run_input, &t) != 0)
            rc = 1;
    printf("wasmdiff: %lu modules: %lu compared under both tiers (%lu export calls), %lu mismatches; "
           "%lu skipped: the compiled tier does not support them (WASM_ERR_UNSUPPORTED); "
           "%lu over the harness limits; %lu invalid\n",
           t.inputs, t.compared, t.calls, t.mismatches, t.unsupported, t.too_big, t.invalid);
    if (t.compared < min_compared) {
        fprintf(stderr, "FAIL: only %lu modules compared (at least %lu expected)\n", t.compared,
                min_compared);
        return 1;
    }
    return rc;
}
