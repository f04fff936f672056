/* corpus.h - walking a fuzz corpus without libFuzzer: the replay tests (tests/common/fuzz_replay.c,
 * tests/wasmfuzz/regress.c, tests/wasmdiff/replay.c) feed every saved input to their fuzz entry
 * points in every build. */
#ifndef SB_TEST_CORPUS_H
#define SB_TEST_CORPUS_H

#include <stddef.h>
#include <stdint.h>

/* One input: its bytes, its path (for messages), the caller's context. Nonzero: it failed. */
typedef int (*sb_corpus_fn)(const uint8_t *data, size_t len, const char *path, void *ctx);

/* Calls fn for the file `path`, or for every file below the folder `path` (sorted by name, so the
 * same order every run; dot files and README.md skipped). Each file is read whole, up to max_len
 * bytes. Returns 0, or -1 when a path is missing, cannot be listed or read, or fn failed for some
 * file; the other files still run (the message is on stderr). */
int sb_corpus_each(const char *path, size_t max_len, sb_corpus_fn fn, void *ctx);

#endif
