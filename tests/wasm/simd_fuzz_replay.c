/* simd_fuzz_replay.c - runs fuzz_simd_ops inputs through the same check without libFuzzer, so
 * the seed corpus (simd_fuzz_seeds/) and any saved crash input are checked by ctest in every
 * build, ASan+UBSan included.
 *
 * Usage: simd_fuzz_replay [--all-families] DIR|FILE ...
 * Every mismatch is printed with the input's file name; the exit status is 1 if any input
 * disagrees, cannot be read, or (--all-families) some operation family had no input. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "simd_fuzz.h"

#define MAX_REPLAY_INPUT 4096 /* inputs are at most a few dozen bytes; anything bigger is misplaced */

typedef struct {
    unsigned inputs, mismatches, errors;
    unsigned per_family[SIMD_FAMILIES];
} replay_tally;

static void replay_file(const char *path, replay_tally *t) {
    uint8_t *data;
    size_t len;
    sb_err err;
    simd_case c;
    if (sb_read_file(path, MAX_REPLAY_INPUT, &data, &len, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        t->errors++;
        return;
    }
    int rc = simd_fuzz_check(data, len, &c, stderr);
    free(data);
    if (rc < 0) {
        fprintf(stderr, "%s: out of memory\n", path);
        t->errors++;
        return;
    }
    if (rc > 0) fprintf(stderr, "  (input %s)\n", path);
    t->inputs++;
    t->per_family[c.family]++;
    t->mismatches += rc > 0;
}

static void replay_dir(const char *path, replay_tally *t) {
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        t->errors++;
        return;
    }
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        char child[4096];
        if (e->d_name[0] == '.') continue; /* ., .. and editor droppings */
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, e->d_name) >= sizeof child) {
            fprintf(stderr, "%s/%s: path too long\n", path, e->d_name);
            t->errors++;
            continue;
        }
        replay_file(child, t); /* seed folders are flat */
    }
    closedir(dir);
}

static void replay_path(const char *path, replay_tally *t) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        t->errors++;
    } else if (S_ISDIR(st.st_mode)) {
        replay_dir(path, t);
    } else {
        replay_file(path, t);
    }
}

static unsigned families_missing(const replay_tally *t) {
    unsigned missing = 0;
    for (unsigned f = 0; f < SIMD_FAMILIES; f++)
        if (!t->per_family[f]) {
            fprintf(stderr, "no input for the %s family\n", simd_family_name[f]);
            missing++;
        }
    return missing;
}

int main(int argc, char **argv) {
    replay_tally t = {0};
    int first = 1, all_families = argc > 1 && !strcmp(argv[1], "--all-families");
    first += all_families;
    if (argc <= first) {
        fprintf(stderr, "usage: %s [--all-families] DIR|FILE ...\n", argv[0]);
        return 2;
    }
    for (int i = first; i < argc; i++) replay_path(argv[i], &t);
    printf("simd fuzz replay: %u inputs (", t.inputs);
    for (unsigned f = 0; f < SIMD_FAMILIES; f++) printf("%s%s %u", f ? ", " : "", simd_family_name[f], t.per_family[f]);
    printf(") x %u accelerated forms vs portable: %u mismatches, %u unreadable\n", simd_fuzz_form_count,
           t.mismatches, t.errors);
    if (!t.inputs) fprintf(stderr, "no inputs found\n");
    unsigned missing = all_families ? families_missing(&t) : 0;
    return t.inputs && !t.mismatches && !t.errors && !missing ? 0 : 1;
}
