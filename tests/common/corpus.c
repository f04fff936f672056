/* corpus.c - see corpus.h. */
#include "corpus.h"

#include "common/common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int corpus_file(const char *path, size_t max_len, sb_corpus_fn fn, void *ctx)
{
    uint8_t *data;
    size_t len;
    sb_err e;
    if (sb_read_file(path, max_len, &data, &len, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    int rc = fn(data, len, path, ctx);
    free(data);
    return rc ? -1 : 0;
}

int sb_corpus_each(const char *path, size_t max_len, sb_corpus_fn fn, void *ctx)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: not found\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return corpus_file(path, max_len, fn, ctx);
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
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
            } else if (sb_corpus_each(child, max_len, fn, ctx) != 0) {
                rc = -1;
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}
