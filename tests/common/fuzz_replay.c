/* fuzz_replay.c - a main() for a libFuzzer entry point, without libFuzzer: every file named on the
 * command line (or found in a folder named there, sorted, README.md and dot files skipped) is
 * passed once to LLVMFuzzerTestOneInput. Linked with a fuzz target's source, it replays the seed
 * corpus and every saved crash input in the normal test run, under the sanitizers of that build.
 *
 * usage: PROGRAM DIR|FILE ...   (prints how many inputs ran; fails when a path is missing or no
 * input was found, and crashes when the target does) */
#include "common/common.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FUZZ_INPUT (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, unsigned *inputs)
{
    uint8_t *data;
    size_t len;
    sb_err e;
    if (sb_read_file(path, MAX_FUZZ_INPUT, &data, &len, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    (*inputs)++;
    return 0;
}

static int replay_path(const char *path, unsigned *inputs)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: not found\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path, inputs);
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
            if ((size_t)snprintf(child, sizeof child, "%s/%s", path, name) >= sizeof child) {
                fprintf(stderr, "%s/%s: path too long\n", path, name);
                rc = -1;
            } else if (replay_path(child, inputs) != 0) {
                rc = -1;
            }
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
    unsigned inputs = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (replay_path(argv[i], &inputs) != 0)
            rc = 1;
    printf("%s: %u inputs replayed\n", argv[0], inputs);
    if (inputs == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    return rc;
}
