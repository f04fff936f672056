/* diff_wasm.h - differential testing of the engine's two tiers: one module, run once under the
 * interpreter and once under the compiled tier, everything observable compared. Shared by the
 * libFuzzer target (fuzz_wasm_diff.c) and the seed replay under ctest (replay.c). */
#ifndef SB_DIFF_WASM_H
#define SB_DIFF_WASM_H

#include <stddef.h>
#include <stdint.h>

typedef struct wasmdiff_tally {
    unsigned long inputs;      /* modules tried */
    unsigned long invalid;     /* rejected by the decoder/validator (not run) */
    unsigned long too_big;     /* asked for more than the harness's limits (not run) */
    unsigned long unsupported; /* the compiled tier refused them (WASM_ERR_UNSUPPORTED): skipped */
    unsigned long compared;    /* run under both tiers and compared */
    unsigned long calls;       /* exported-function calls compared */
    unsigned long mismatches;  /* modules whose two transcripts differ */
} wasmdiff_tally;

/* Loads `data` once, instantiates it in a fresh store per tier with the same deterministic stub
 * imports and limits, calls every exported function with several argument sets, and compares the
 * tiers' transcripts: instantiation outcome, every call's status, trap (kind, function index,
 * code offset), results (bit patterns, NaN payloads included), fuel left, the stub calls made (with their arguments),
 * and afterwards memory 0 (size and bytes), every global the harness can see (imported and
 * exported) and exported table sizes. Returns 0 when they agree or the input is skipped, 1 on a
 * mismatch (the first difference is printed on stderr, prefixed with `label`). */
int wasmdiff_one(const uint8_t *data, size_t size, const char *label, wasmdiff_tally *t);

#endif
