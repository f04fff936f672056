/* regress.c - replays fuzz inputs through both fuzz entry points without libFuzzer, so the seed
 * corpus and every fixed crash in regressions/ stay checked by ctest (also under ASan/UBSan).
 *
 * Usage: wasmfuzz_regress DIR|FILE ...   (prints how many inputs ran; a crash fails the test) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "fuzz_wasm.h"

#define MAX_FUZZ_INPUT (16u << 20)

typedef struct tally {
    unsigned inputs, loaded, instantiated;
    unsigned long calls;
} tally;

static int run_file(const char *path, tally *t)
{
    uint8_t *data;
    size_t len;
    sb_err e;
    if (sb_read_file(path, MAX_FUZZ_INPUT, &data, &len, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    t->inputs++;
    t->loaded += (unsigned)fuzz_wasm_load_one(data, len);
    int calls = fuzz_wasm_run_one(data, len);
    if (calls >= 0) {
        t->instantiated++;
        t->calls += (unsigned long)calls;
    }
    free(data);
    return 0;
}

static int run_path(const char *path, tally *t)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: not found\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path, t);
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort); /* sorted: the same order every run */
    if (n < 0) {
        fprintf(stderr, "%s: cannot list\n", path);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] != '.' && strcmp(name, "README.md") != 0) {
            char child[4096];
            snprintf(child, sizeof child, "%s/%s", path, name);
            if (run_path(child, t) != 0)
                rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
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
        if (run_path(argv[i], &t) != 0)
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
