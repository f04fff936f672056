/* gen_replay.c - the generator's differential test without libFuzzer (ctest wasmdiff.gen_replay):
 * modules generated from N deterministic byte strings (a fixed-seed xorshift PRNG, lengths 16 to
 * 4096) and from every file in gen-regressions/, each run under both tiers.
 *
 * Usage: wasmdiff_gen_replay [--count N] [--seed S] [--min-compared-pct P] [DIR|FILE ...]
 * Fails on any mismatch, on any generated module that does not validate (a generator bug), or
 * when fewer than P percent (default 90) of the modules could be compared. --seed (default the
 * fixed one ctest uses) makes a long run of other inputs without clang (tests/wasmdiff/
 * gen-soak.sh); each failing input is written to gen-fail-SEED-I.bin in the current folder.
 *
 *        wasmdiff_gen_replay --emit INPUT OUT.wasm
 * writes the module generated from the file INPUT (e.g. a fuzzer's crash-<sha1>) to OUT.wasm,
 * to inspect it (wasm2wat) or to keep it in regressions/ for wasmdiff.replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "diff_wasm.h"
#include "wasm/wasm.h"
#include "wasmgen.h"

#define MAX_GEN_INPUT (1u << 20)

typedef struct replay {
    wasmdiff_tally t;
    unsigned long empty;
    uint8_t *mod;
} replay;

/* Generates, validates, compares one input. Nonzero on a mismatch or an invalid module. */
static int run_input(const uint8_t *data, size_t len, const char *label, void *ctx)
{
    replay *r = ctx;
    size_t n = wasmgen_module(data, len, r->mod, WASMGEN_MAX_MODULE);
    if (n == 0) {
        r->empty++;
        return 0;
    }
    wasm_error err;
    wasm_module *m = wasm_module_load(r->mod, n, &err);
    if (!m) {
        fprintf(stderr, "FAIL %s: generated module does not validate: %s at offset %zu: %s\n",
                label, wasm_errkind_name(err.kind), err.offset, err.msg);
        r->t.inputs++;
        r->t.invalid++;
        return 1;
    }
    wasm_module_free(m);
    return wasmdiff_one(r->mod, n, label, &r->t);
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Keeps a failing input for --emit and gen-regressions/ (a long run must not lose it). */
static void save_input(const uint8_t *buf, size_t len, unsigned long seed, unsigned long i)
{
    char name[96];
    snprintf(name, sizeof name, "gen-fail-%lu-%lu.bin", seed, i);
    FILE *f = fopen(name, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
        fprintf(stderr, "cannot write %s\n", name);
    else
        fprintf(stderr, "input saved as %s\n", name);
}

static int run_random(replay *r, unsigned long count, unsigned long seed_arg)
{
    static uint8_t buf[4096];
    uint64_t seed = seed_arg ? 0x5eed0f5b0c5a11ull ^ ((uint64_t)seed_arg * 0x9e3779b97f4a7c15ull)
                             : 0x5eed0f5b0c5a11ull;
    if (!seed)
        seed = 1; /* xorshift's one fixed point */
    int rc = 0;
    for (unsigned long i = 0; i < count; i++) {
        size_t len = 16 + (size_t)(xorshift(&seed) % (sizeof buf - 15));
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)xorshift(&seed);
        char label[64];
        snprintf(label, sizeof label, "random input %lu", i);
        if (run_input(buf, len, label, r) != 0) {
            rc = 1;
            save_input(buf, len, seed_arg, i);
        }
    }
    return rc;
}

static int number(const char *opt, const char *s, unsigned long *out)
{
    char *end;
    *out = strtoul(s, &end, 10);
    if (*end || !*s) {
        fprintf(stderr, "%s %s: expected a number\n", opt, s);
        return -1;
    }
    return 0;
}

static int emit(const char *in, const char *out)
{
    static uint8_t data[MAX_GEN_INPUT], mod[WASMGEN_MAX_MODULE];
    FILE *f = fopen(in, "rb");
    if (!f) {
        perror(in);
        return 1;
    }
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    size_t n = wasmgen_module(data, len, mod, sizeof mod);
    f = n ? fopen(out, "wb") : NULL;
    if (!f || fwrite(mod, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "%s: nothing generated, or cannot write %s\n", in, out);
        return 1;
    }
    printf("%s: %zu bytes\n", out, n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--emit") == 0)
        return emit(argv[2], argv[3]);
    unsigned long count = 3000, min_pct = 90, seed = 0;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        unsigned long *dst = strcmp(argv[i], "--count") == 0              ? &count
                             : strcmp(argv[i], "--seed") == 0             ? &seed
                             : strcmp(argv[i], "--min-compared-pct") == 0 ? &min_pct
                                                                          : NULL;
        if (!dst || number(argv[i], argv[i + 1], dst) != 0) {
            fprintf(stderr, "usage: %s [--count N] [--seed S] [--min-compared-pct P] [DIR|FILE ...]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!wasm_engine_available(WASM_ENGINE_COMPILED)) {
        fprintf(stderr, "FAIL: this build has no compiled tier: there is nothing to compare\n");
        return 1;
    }
    replay r = {.mod = malloc(WASMGEN_MAX_MODULE)};
    if (!r.mod)
        return 1;
    int rc = run_random(&r, count, seed);
    for (; i < argc; i++)
        if (sb_corpus_each(argv[i], MAX_GEN_INPUT, run_input, &r) != 0)
            rc = 1;
    printf("wasmdiff gen: %lu modules generated (%lu inputs generated nothing): %lu compared under "
           "both tiers (%lu export calls), %lu mismatches, %lu invalid; %lu skipped as "
           "unsupported by the compiled tier, %lu over the harness limits\n",
           r.t.inputs, r.empty, r.t.compared, r.t.calls, r.t.mismatches, r.t.invalid,
           r.t.unsupported, r.t.too_big);
    if (r.t.compared * 100 < min_pct * (r.t.inputs + r.empty)) {
        fprintf(stderr, "FAIL: only %lu of %lu modules compared (at least %lu%% expected)\n",
                r.t.compared, r.t.inputs + r.empty, min_pct);
        rc = 1;
    }
    free(r.mod);
    return rc;
}
