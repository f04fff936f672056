/* regress.c - replays fuzz inputs through both fuzz entry points without libFuzzer, so the seed
 * corpus and every fixed crash in regressions/ stay checked by ctest (also under ASan/UBSan).
 *
 * Usage: wasmfuzz_regress DIR|FILE ...   (prints how many inputs ran; a crash fails the test) */
#include <stdio.h>

#include "corpus.h"
#include "fuzz_wasm.h"

#define MAX_FUZZ_INPUT (16u << 20)

typedef struct tally {
    unsigned inputs, loaded, instantiated;
    unsigned long calls;
} tally;

static int run_input(const uint8_t *data, size_t len, const char *path, void *ctx)
{
    tally *t = ctx;
    (void)path;
    t->inputs++;
    t->loaded += (unsigned)fuzz_wasm_load_one(data, len);
    int calls = fuzz_wasm_run_one(data, len);
    if (calls >= 0) {
        t->instantiated++;
        t->calls += (unsigned long)calls;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE ...\n", argv[0]);
        return 2;
    }
    tally t = {0};
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (sb_corpus_each(argv[i], MAX_FUZZ_INPUT, run_input, &t) != 0)
            rc = 1;
    printf("%u inputs replayed through fuzz_wasm_load and fuzz_wasm_run: %u loaded, %u "
           "instantiated, %lu exported functions called\n",
           t.inputs, t.loaded, t.instantiated, t.calls);
    if (t.inputs == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    return rc;
}
