/* Runs a WASI program over a fresh in-memory VFS (the isolate's filesystem) mapped at /data, the
 * way `strongbox run --dir DIR::/data` runs it over a host directory, then lists the VFS in
 * compare.sh's tree format, so corpus programs can be compared with their native runs on the VFS
 * as well. Usage: vfs_run TREE-OUT prog.wasm [ARGS...]   (FOO=bar is the environment) */
#include "vfs/vfs.h"
#include "wasi/wasi.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const sb_vfs_grant all_g[] = {{"/", SB_VFS_READ | SB_VFS_WRITE}};
static const sb_vfs_principal all = {"prog", all_g, 1};

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static int add_line(lines *l, char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

static void md5_hex(sb_vfs_view *w, const char *path, uint64_t size, char out[33])
{
    uint8_t *data = malloc(size ? size : 1), md[16];
    size_t got = 0;
    unsigned len = 0;
    if (data && sb_vfs_get(w, path, 0, data, size, &got, NULL) == 0)
        EVP_Digest(data, got, md, &len, EVP_md5(), NULL);
    free(data);
    sb_hex_encode(md, 16, out);
}

typedef struct walk_ctx {
    sb_vfs_view *w;
    const char *dir; /* absolute VFS path, "" for the root */
    lines *out;
} walk_ctx;

static int visit(void *ctx, const char *name, const sb_fs_stat *st);

static int walk(sb_vfs_view *w, const char *dir, lines *out)
{
    walk_ctx c = {w, dir, out};
    return sb_vfs_list(w, *dir ? dir : "/", visit, &c, NULL);
}

static int visit(void *ctx, const char *name, const sb_fs_stat *st)
{
    walk_ctx *c = ctx;
    char path[4200], line[4400], md5[33];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    if (st->type == SB_FS_DIR)
        snprintf(line, sizeof line, "D .%s", path);
    else
        md5_hex(c->w, path, st->size, md5), snprintf(line, sizeof line, "F .%s %s", path, md5);
    char *s = strdup(line);
    if (!s || add_line(c->out, s))
        return -1;
    return st->type == SB_FS_DIR ? walk(c->w, path, c->out) : 0;
}

/* By path, skipping the type letter: the order of `find | sort` in compare.sh. */
static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a + 2, *(char *const *)b + 2);
}

static int to_stdio(void *ctx, int stream, const void *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stream == 1 ? stdout : stderr) == len ? 0 : -5;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return fprintf(stderr, "usage: vfs_run TREE-OUT prog.wasm [ARGS...]\n"), 125;
    uint8_t *wasm;
    size_t len;
    sb_err err;
    if (sb_read_file(argv[2], 64u << 20, &wasm, &len, &err))
        return fprintf(stderr, "%s\n", err.msg), 125;
    sb_vfs *v = sb_vfs_new(NULL);
    sb_vfs_view w = {v, &all};
    sb_wasi_preopen pre = {"/data", &sb_vfs_ops, &w, NULL};
    const char *env[] = {"FOO=bar"};
    sb_wasi_config cfg = {.argv = (const char *const *)argv + 2, .argc = (size_t)argc - 2,
                          .envp = env, .envc = 1, .preopens = &pre, .npreopens = 1,
                          .out = to_stdio};
    sb_wasi *wasi = sb_wasi_new(&cfg, &err);
    sb_wasi_result res;
    int status = 125;
    if (wasi && sb_wasi_run(wasi, wasm, len, NULL, &res) == 0)
        status = res.status == SB_WASI_EXITED ? (int)(res.exit_code & 0xff) : 134;
    else
        fprintf(stderr, "vfs_run: %s\n", wasi ? res.msg : err.msg);
    fflush(stdout);
    sb_wasi_free(wasi);
    lines tree = {0};
    FILE *f = fopen(argv[1], "w");
    if (!f || walk(&w, "", &tree))
        status = 125;
    qsort(tree.v, tree.n, sizeof *tree.v, by_path);
    for (size_t i = 0; i < tree.n; i++) {
        if (f)
            fprintf(f, "%s\n", tree.v[i]);
        free(tree.v[i]);
    }
    if (f)
        fclose(f);
    free(tree.v);
    sb_vfs_free(v);
    free(wasm);
    return status;
}
