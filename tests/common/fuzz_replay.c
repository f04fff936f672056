/* fuzz_replay.c - a main() for a libFuzzer entry point, without libFuzzer: every file named on the
 * command line, or found below a folder named there (tests/common/corpus.h), is passed once to
 * LLVMFuzzerTestOneInput. Linked with a fuzz target's source, it replays the seed corpus and every
 * saved crash input in the normal test run, under the sanitizers of that build.
 *
 * usage: PROGRAM DIR|FILE ...   (prints how many inputs ran; fails when a path is missing or no
 * input was found, and crashes when the target does) */
#include "corpus.h"

#include <stdio.h>

#define MAX_FUZZ_INPUT (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_one(const uint8_t *data, size_t len, const char *path, void *ctx)
{
    (void)path;
    LLVMFuzzerTestOneInput(data, len);
    (*(unsigned *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE ...\n", argv[0]);
        return 2;
    }
    unsigned inputs = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (sb_corpus_each(argv[i], MAX_FUZZ_INPUT, replay_one, &inputs) != 0)
            rc = 1;
    printf("%s: %u inputs replayed\n", argv[0], inputs);
    if (inputs == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    return rc;
}
