/* Random operation sequences on the VFS by a program principal, with invariants checked after
 * every step: limits hold, and no operation sequence lets the program read the bytes of a file it
 * has no read right on (the runtime's /secret/s holds upper-case bytes, everything the program
 * can write is lower case). Memory errors and leaks are caught by the sanitizers. */
#include "vfs/vfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BYTES 4096
#define MAX_FILES 12
#define HANDLES 6

static const sb_vfs_grant sys_g[] = {{"/", SB_VFS_READ | SB_VFS_WRITE}};
static const sb_vfs_principal sys = {"runtime", sys_g, 1};
static const sb_vfs_grant prog_g[] = {{"/in", SB_VFS_READ}, {"/out", SB_VFS_READ | SB_VFS_WRITE},
                                      {"/a/b", SB_VFS_WRITE}};
static const sb_vfs_principal prog = {"prog", prog_g, 3};
static const char *const parts[] = {"in", "out", "a", "b", "secret", "s", "..", ".", "x", "data"};

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t next(input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static size_t make_path(input *in, char *buf, size_t cap)
{
    size_t len = 0;
    int count = 1 + next(in) % 4;
    for (int i = 0; i < count; i++) {
        const char *c = parts[next(in) % 10];
        int k = snprintf(buf + len, cap - len, "%s%s", i ? "/" : "", c);
        if (k < 0 || (size_t)k >= cap - len)
            break;
        len += (size_t)k;
    }
    return len;
}

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_vfs: invariant broken: %s\n", what);
        abort();
    }
}

static void step(sb_vfs *v, sb_vfs_view *w, void **h, input *in)
{
    const sb_fs_ops *o = &sb_vfs_ops;
    char p1[128], p2[128], buf[512];
    uint8_t op = next(in), slot = next(in) % HANDLES;
    size_t l1 = make_path(in, p1, sizeof p1), l2, n;
    sb_fs_stat st;
    sb_fs_dirent e;
    void *dir = (next(in) & 1) ? h[slot] : NULL;
    if (dir && !(o->stat(w, dir, &st) == 0 && st.type == SB_FS_DIR))
        dir = NULL;
    switch (op % 12) {
    case 0: /* open */
        if (!h[slot])
            o->open(w, dir, p1, l1, next(in), &h[slot], &st);
        break;
    case 1:
        if (h[slot])
            o->close(w, h[slot]), h[slot] = NULL;
        break;
    case 2: /* read: never an upper-case byte */
        if (h[slot] && o->read(w, h[slot], buf, next(in) * 2u, next(in), &n) == 0)
            for (size_t i = 0; i < n; i++)
                check(!(buf[i] >= 'A' && buf[i] <= 'Z'), "program read a secret byte");
        break;
    case 3: /* write lower-case bytes */
        if (h[slot]) {
            size_t len = next(in) * 2u;
            memset(buf, 'a' + len % 26, len);
            uint8_t off = next(in);
            o->write(w, h[slot], buf, len, off % 8 == 7 ? SB_FS_APPEND : off * 16u, &n);
        }
        break;
    case 4:
        if (h[slot])
            o->truncate(w, h[slot], next(in) * 32u);
        break;
    case 5:
        o->mkdir(w, dir, p1, l1);
        break;
    case 6:
        o->rmdir(w, dir, p1, l1);
        break;
    case 7:
        o->unlink(w, dir, p1, l1);
        break;
    case 8:
        l2 = make_path(in, p2, sizeof p2);
        o->rename(w, dir, p1, l1, NULL, p2, l2);
        break;
    case 9:
        if (h[slot])
            o->readdir(w, h[slot], next(in), &e, buf, 16);
        break;
    case 10:
        if (h[slot])
            o->set_times(w, h[slot], next(in), next(in), next(in) & 15);
        break;
    default: /* the provisioning API, by absolute path */
        buf[0] = '/';
        memcpy(buf + 1, p1, l1 + 1);
        if (next(in) & 1)
            sb_vfs_put(w, buf, next(in), "zz", 2, SB_VFS_PUT_CREATE, NULL);
        else if (sb_vfs_get(w, buf, 0, p2, sizeof p2, &n, NULL) == 0)
            for (size_t i = 0; i < n; i++)
                check(!(p2[i] >= 'A' && p2[i] <= 'Z'), "program got a secret byte");
        break;
    }
    check(sb_vfs_bytes_used(v) <= MAX_BYTES, "byte limit");
    check(sb_vfs_files_used(v) <= MAX_FILES, "file limit");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_vfs_limits lim = {.max_bytes = MAX_BYTES, .max_files = MAX_FILES, .max_path = 64};
    sb_vfs *v = sb_vfs_new(&lim);
    if (!v)
        return 0;
    sb_vfs_view sv = {v, &sys}, pv = {v, &prog};
    sb_vfs_put(&sv, "/secret/s", 0, "SECRETSECRET", 12, SB_VFS_PUT_CREATE, NULL);
    sb_vfs_put(&sv, "/in/data", 0, "input", 5, SB_VFS_PUT_CREATE, NULL);
    sb_vfs_mkdirs(&sv, "/out", NULL);
    sb_vfs_mkdirs(&sv, "/a/b", NULL);
    void *h[HANDLES] = {0};
    input in = {data, size};
    while (in.n)
        step(v, &pv, h, &in);
    for (int i = 0; i < HANDLES; i++)
        if (h[i])
            sb_vfs_ops.close(&pv, h[i]);
    check(sb_vfs_get(&sv, "/secret/s", 0, (char[16]){0}, 16, &(size_t){0}, NULL) == 0,
          "the secret is still there");
    sb_vfs_free(v);
    return 0;
}
