/* replay.c - replays the differential corpus (the spec testsuite's modules and regressions/)
 * through both engine tiers without libFuzzer, in every test run (ctest wasmdiff.replay).
 *
 * Usage: wasmdiff_replay [--min-compared N] DIR|FILE ...
 * Fails on any mismatch, when the build has no compiled tier, or when fewer than N modules
 * (default 1) could be compared: a replay that compares nothing proves nothing. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "diff_wasm.h"
#include "wasm/wasm.h"

#define MAX_DIFF_INPUT (16u << 20)

static int run_file(const char *path, wasmdiff_tally *t)
{
    uint8_t *data;
    size_t len;
    sb_err e;
    if (sb_read_file(path, MAX_DIFF_INPUT, &data, &len, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    int rc = wasmdiff_one(data, len, path, t);
    free(data);
    return rc ? -1 : 0;
}

static int run_path(const char *path, wasmdiff_tally *t)
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
        if (run_path(argv[i], &t) != 0)
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
