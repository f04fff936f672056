/* Unit tests of the in-memory filesystem: semantics, limits, rights, determinism. */
#include "vfs/vfs.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures, checks;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)
#define CHECK_RC(expr, want) CHECK((expr) == (want))

static const sb_vfs_grant all_g[] = {{"/", SB_VFS_READ | SB_VFS_WRITE | SB_VFS_EXEC}};
static const sb_vfs_principal root_p = {"root", all_g, 1};

static const sb_fs_ops *ops = &sb_vfs_ops;

/* Opens relative to the root; returns rc and the node. */
static int op_open(sb_vfs_view *w, const char *path, uint32_t flags, void **n)
{
    sb_fs_stat st;
    return ops->open(w, NULL, path, strlen(path), flags, n, &st);
}

static int op_open_at(sb_vfs_view *w, void *dir, const char *path, void **n)
{
    sb_fs_stat st;
    return ops->open(w, dir, path, strlen(path), SB_FS_PATH, n, &st);
}

static int put_str(sb_vfs_view *w, const char *path, const char *s)
{
    return sb_vfs_put(w, path, 0, s, strlen(s), SB_VFS_PUT_CREATE | SB_VFS_PUT_TRUNC, NULL);
}

static void test_files(void)
{
    sb_vfs *v = sb_vfs_new(NULL);
    sb_vfs_view w = {v, &root_p};
    sb_err err;
    char buf[64];
    size_t got;
    CHECK_RC(put_str(&w, "/a/b/c.txt", "hello"), 0);
    CHECK_RC(sb_vfs_get(&w, "/a/b/c.txt", 1, buf, sizeof buf, &got, &err), 0);
    CHECK(got == 4 && memcmp(buf, "ello", 4) == 0);
    /* append chunks, write at an offset past the end (zero-filled gap) */
    CHECK_RC(sb_vfs_put(&w, "/a/b/c.txt", SB_FS_APPEND, "!!", 2, 0, &err), 0);
    CHECK_RC(sb_vfs_put(&w, "/a/b/c.txt", 10, "Z", 1, 0, &err), 0);
    CHECK_RC(sb_vfs_get(&w, "/a/b/c.txt", 0, buf, sizeof buf, &got, &err), 0);
    CHECK(got == 11 && memcmp(buf, "hello!!\0\0\0Z", 11) == 0);
    CHECK(sb_vfs_bytes_used(v) == 11);
    sb_fs_stat st;
    CHECK_RC(sb_vfs_stat_path(&w, "/a/b/c.txt", &st, &err), 0);
    CHECK(st.size == 11 && st.type == SB_FS_REG && st.mtim == SB_VFS_FIXED_TIME);
    CHECK_RC(sb_vfs_stat_path(&w, "/a/b", &st, &err), 0);
    CHECK(st.type == SB_FS_DIR);
    /* errors of open(2) */
    void *n;
    CHECK_RC(op_open(&w, "a/b/nope", SB_FS_READ, &n), -ENOENT);
    CHECK_RC(op_open(&w, "a/b/c.txt/x", SB_FS_READ, &n), -ENOTDIR);
    CHECK_RC(op_open(&w, "a/b/c.txt/", SB_FS_READ, &n), -ENOTDIR);
    CHECK_RC(op_open(&w, "a/b/c.txt", SB_FS_CREAT | SB_FS_EXCL | SB_FS_WRITE, &n), -EEXIST);
    CHECK_RC(op_open(&w, "a/b", SB_FS_WRITE, &n), -EISDIR);
    CHECK_RC(op_open(&w, "a/b/c.txt", SB_FS_DIRECTORY, &n), -ENOTDIR);
    CHECK_RC(op_open(&w, "a/new/", SB_FS_CREAT | SB_FS_WRITE, &n), -EISDIR);
    CHECK_RC(op_open(&w, "/a", SB_FS_READ, &n), -SB_FS_ENOTCAPABLE);
    CHECK_RC(op_open(&w, "a/../..", SB_FS_READ, &n), -SB_FS_ENOTCAPABLE);
    CHECK_RC(op_open(&w, "", SB_FS_READ, &n), -ENOENT);
    CHECK_RC(ops->open(&w, NULL, "a\0b", 3, SB_FS_READ, &n, &st), -EINVAL);
    /* ".." inside the start directory is fine */
    CHECK_RC(op_open(&w, "a/b/../b/./c.txt", SB_FS_READ, &n), 0);
    /* an unlinked open file stays readable and writable */
    CHECK_RC(sb_vfs_remove(&w, "/a/b/c.txt", &err), 0);
    CHECK_RC(ops->read(&w, n, buf, 5, 0, &got), 0);
    CHECK(got == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(sb_vfs_files_used(v) == 3);
    ops->close(&w, n);
    CHECK(sb_vfs_files_used(v) == 2 && sb_vfs_bytes_used(v) == 0);
    CHECK_RC(sb_vfs_stat_path(&w, "/a/b/c.txt", &st, &err), -ENOENT);
    CHECK(err.code == ENOENT && strstr(err.msg, "/a/b/c.txt") != NULL);
    /* truncate both ways */
    CHECK_RC(put_str(&w, "/t", "abcdef"), 0);
    CHECK_RC(op_open(&w, "t", SB_FS_WRITE, &n), 0);
    CHECK_RC(ops->truncate(&w, n, 2), 0);
    CHECK_RC(ops->truncate(&w, n, 4), 0);
    CHECK_RC(ops->read(&w, n, buf, sizeof buf, 0, &got), 0);
    CHECK(got == 4 && memcmp(buf, "ab\0\0", 4) == 0);
    CHECK_RC(ops->write(&w, n, "x", 1, UINT64_MAX - 1, &got), -EFBIG);
    ops->close(&w, n);
    CHECK_RC(op_open(&w, "t", SB_FS_WRITE | SB_FS_TRUNC, &n), 0);
    CHECK_RC(ops->stat(&w, n, &st), 0);
    CHECK(st.size == 0);
    ops->close(&w, n);
    sb_vfs_free(v);
}

static void test_dirs_and_rename(void)
{
    sb_vfs *v = sb_vfs_new(NULL);
    sb_vfs_view w = {v, &root_p};
    sb_err err;
    CHECK_RC(sb_vfs_mkdirs(&w, "/d/e", &err), 0);
    CHECK_RC(put_str(&w, "/d/f", "1"), 0);
    CHECK_RC(ops->mkdir(&w, NULL, "d", 1), -EEXIST);
    CHECK_RC(ops->mkdir(&w, NULL, "d/.", 3), -EEXIST);
    CHECK_RC(ops->mkdir(&w, NULL, "x/y", 3), -ENOENT);
    CHECK_RC(ops->rmdir(&w, NULL, "d", 1), -ENOTEMPTY);
    CHECK_RC(ops->rmdir(&w, NULL, "d/f", 3), -ENOTDIR);
    CHECK_RC(ops->unlink(&w, NULL, "d/e", 3), -EISDIR);
    CHECK_RC(ops->unlink(&w, NULL, "d/f/", 4), -ENOTDIR);
    CHECK_RC(ops->unlink(&w, NULL, "d/zz", 4), -ENOENT);
    CHECK_RC(ops->rmdir(&w, NULL, ".", 1), -EINVAL);
    /* rename: type rules, into itself, replace */
    CHECK_RC(ops->rename(&w, NULL, "d", 1, NULL, "d/e/x", 5), -EINVAL);
    CHECK_RC(ops->rename(&w, NULL, "d/e", 3, NULL, "d/f", 3), -ENOTDIR);
    CHECK_RC(ops->rename(&w, NULL, "d/f", 3, NULL, "d/e", 3), -EISDIR);
    CHECK_RC(ops->rename(&w, NULL, "d/none", 6, NULL, "d/g", 3), -ENOENT);
    CHECK_RC(ops->rename(&w, NULL, "d/f", 3, NULL, "d/f", 3), 0);
    CHECK_RC(put_str(&w, "/d/g", "22"), 0);
    CHECK_RC(ops->rename(&w, NULL, "d/g", 3, NULL, "d/f", 3), 0);
    char buf[8];
    size_t got;
    CHECK_RC(sb_vfs_get(&w, "/d/f", 0, buf, sizeof buf, &got, &err), 0);
    CHECK(got == 2 && memcmp(buf, "22", 2) == 0);
    CHECK(sb_vfs_bytes_used(v) == 2);
    CHECK_RC(ops->rename(&w, NULL, "d/e", 3, NULL, "e2", 2), 0);
    CHECK_RC(sb_vfs_stat_path(&w, "/e2", &(sb_fs_stat){0}, &err), 0);
    /* links: not supported by the in-memory filesystem */
    CHECK_RC(ops->link(&w, NULL, "d/f", 3, 0, NULL, "h", 1), -EPERM);
    CHECK_RC(ops->symlink(&w, "d/f", 3, NULL, "s", 1), -EPERM);
    size_t n;
    CHECK_RC(ops->readlink(&w, NULL, "d/f", 3, buf, sizeof buf, &n), -EINVAL);
    CHECK_RC(ops->readlink(&w, NULL, "d/q", 3, buf, sizeof buf, &n), -ENOENT);
    sb_vfs_free(v);
}

/* Lists names with readdir from cookie 0 into out ("a,b,"). */
static void listing(sb_vfs_view *w, const char *dir, char *out, size_t cap)
{
    void *d;
    out[0] = '\0';
    if (op_open(w, dir, SB_FS_READ | SB_FS_DIRECTORY, &d))
        return;
    sb_fs_dirent e;
    char name[256];
    for (uint64_t c = 0; ops->readdir(w, d, c, &e, name, sizeof name) == 0; c = e.next) {
        name[e.namelen] = '\0';
        snprintf(out + strlen(out), cap - strlen(out), "%s,", name);
    }
    ops->close(w, d);
}

static void test_readdir_cookies(void)
{
    sb_vfs *v = sb_vfs_new(NULL);
    sb_vfs_view w = {v, &root_p};
    char out[256];
    CHECK_RC(put_str(&w, "/z", ""), 0);
    CHECK_RC(put_str(&w, "/a", ""), 0);
    CHECK_RC(put_str(&w, "/m", ""), 0);
    listing(&w, ".", out, sizeof out);
    CHECK(strcmp(out, ".,..,z,a,m,") == 0);
    /* a cookie taken mid-listing survives removals and inserts */
    void *d;
    sb_fs_dirent e;
    char name[256];
    CHECK_RC(op_open(&w, ".", SB_FS_READ, &d), 0);
    CHECK_RC(ops->readdir(&w, d, 2, &e, name, sizeof name), 0); /* "z" */
    uint64_t after_z = e.next;
    CHECK_RC(ops->unlink(&w, NULL, "z", 1), 0);
    CHECK_RC(ops->unlink(&w, NULL, "a", 1), 0);
    CHECK_RC(put_str(&w, "/b", ""), 0);
    CHECK_RC(ops->readdir(&w, d, after_z, &e, name, sizeof name), 0);
    CHECK(e.namelen == 1 && name[0] == 'm');
    CHECK_RC(ops->readdir(&w, d, e.next, &e, name, sizeof name), 0);
    CHECK(e.namelen == 1 && name[0] == 'b');
    CHECK_RC(ops->readdir(&w, d, e.next, &e, name, sizeof name), 1);
    /* truncated name copy still reports the full length */
    CHECK_RC(ops->readdir(&w, d, 0, &e, name, 0), 0);
    CHECK(e.namelen == 1 && e.next == 1);
    ops->close(&w, d);
    sb_vfs_free(v);
}

/* A large directory: hashed lookups, removals in the middle, listing resumed from cookies. */
static void test_large_dir(void)
{
    sb_vfs *v = sb_vfs_new(NULL);
    sb_vfs_view w = {v, &root_p};
    char p[64];
    int ok = 1;
    for (int i = 0; i < 3000 && ok; i++) {
        snprintf(p, sizeof p, "/big/f%d", i);
        ok = put_str(&w, p, "x") == 0;
    }
    CHECK(ok);
    for (int i = 0; i < 3000; i += 2) {
        snprintf(p, sizeof p, "big/f%d", i);
        ok &= ops->unlink(&w, NULL, p, strlen(p)) == 0;
    }
    CHECK(ok && ops->rename(&w, NULL, "big/f1", 6, NULL, "big/renamed", 11) == 0);
    void *d, *n;
    int count = 0, odd = 1;
    CHECK_RC(op_open(&w, "big", SB_FS_READ, &d), 0);
    sb_fs_dirent e;
    char name[256];
    for (uint64_t c = 2; ops->readdir(&w, d, c, &e, name, sizeof name) == 0; c = e.next) {
        name[e.namelen] = '\0';
        odd &= strcmp(name, "renamed") == 0 || atoi(name + 1) % 2 == 1;
        count++;
    }
    ops->close(&w, d);
    CHECK(count == 1500 && odd);
    CHECK_RC(op_open(&w, "big/f2999", SB_FS_READ, &n), 0);
    ops->close(&w, n);
    CHECK_RC(op_open(&w, "big/f2998", SB_FS_READ, &n), -ENOENT);
    CHECK_RC(op_open(&w, "big/f1", SB_FS_READ, &n), -ENOENT);
    CHECK(sb_vfs_files_used(v) == 1501 && sb_vfs_bytes_used(v) == 1500);
    sb_vfs_free(v);
}

/* A very deep tree (the path limit raised for it) is freed without recursion. */
static void test_deep_tree(void)
{
    sb_vfs_limits lim = {.max_path = 1u << 14, .max_files = 10000};
    sb_vfs *v = sb_vfs_new(&lim);
    sb_vfs_view w = {v, &root_p};
    void *d = NULL, *next;
    int ok = 1;
    for (int i = 0; i < 8000 && ok; i++) {
        ok = ops->mkdir(&w, d, "d", 1) == 0 && op_open_at(&w, d, "d", &next) == 0;
        if (d)
            ops->close(&w, d);
        d = next;
    }
    CHECK(ok && sb_vfs_files_used(v) == 8000);
    ops->close(&w, d);
    sb_vfs_free(v);
}

static void build(sb_vfs *v, char *out, size_t cap)
{
    sb_vfs_view w = {v, &root_p};
    sb_fs_stat st;
    put_str(&w, "/in/x", "1");
    sb_vfs_mkdirs(&w, "/out/y", NULL);
    put_str(&w, "/out/y/z", "22");
    ops->rename(&w, NULL, "in/x", 4, NULL, "out/x", 5);
    listing(&w, "out", out, cap);
    sb_vfs_stat_path(&w, "/out/y/z", &st, NULL);
    snprintf(out + strlen(out), cap - strlen(out), "ino=%llu", (unsigned long long)st.ino);
}

static uint64_t tick(void *ctx)
{
    return ++*(uint64_t *)ctx;
}

static void test_determinism_and_clock(void)
{
    char a[256], b[256];
    sb_vfs *v1 = sb_vfs_new(NULL), *v2 = sb_vfs_new(NULL);
    build(v1, a, sizeof a);
    build(v2, b, sizeof b);
    CHECK(strcmp(a, b) == 0 && strcmp(a, ".,..,y,x,ino=6") == 0);
    uint64_t t = 100;
    sb_vfs_set_clock(v1, tick, &t);
    sb_vfs_view w = {v1, &root_p};
    sb_fs_stat st;
    CHECK_RC(put_str(&w, "/c", "x"), 0);
    CHECK_RC(sb_vfs_stat_path(&w, "/c", &st, NULL), 0);
    CHECK(st.mtim > 100 && st.mtim != SB_VFS_FIXED_TIME);
    void *n;
    CHECK_RC(op_open(&w, "c", SB_FS_PATH, &n), 0);
    CHECK_RC(ops->set_times(&w, n, 7, 9, SB_FS_ATIM | SB_FS_MTIM), 0);
    CHECK_RC(ops->stat(&w, n, &st), 0);
    CHECK(st.atim == 7 && st.mtim == 9);
    ops->close(&w, n);
    sb_vfs_free(v1);
    sb_vfs_free(v2);
}

static void test_limits(void)
{
    sb_vfs_limits lim = {.max_bytes = 100, .max_files = 3, .max_path = 16};
    sb_vfs *v = sb_vfs_new(&lim);
    sb_vfs_view w = {v, &root_p};
    sb_err err;
    char big[101] = {0};
    CHECK_RC(sb_vfs_put(&w, "/f", 0, big, 100, SB_VFS_PUT_CREATE, &err), 0);
    CHECK_RC(sb_vfs_put(&w, "/f", 100, big, 1, 0, &err), -ENOSPC);
    CHECK(err.code == ENOSPC && strstr(err.msg, "byte limit (100)"));
    CHECK(sb_vfs_bytes_used(v) == 100);
    /* a hole far past the end is refused before any allocation */
    CHECK_RC(sb_vfs_put(&w, "/f", 1ull << 40, big, 1, 0, &err), -ENOSPC);
    CHECK_RC(put_str(&w, "/f", ""), 0);
    CHECK(sb_vfs_bytes_used(v) == 0);
    CHECK_RC(put_str(&w, "/g", ""), 0);
    CHECK_RC(sb_vfs_mkdirs(&w, "/h", &err), 0);
    CHECK_RC(put_str(&w, "/i", ""), -EDQUOT);
    CHECK_RC(sb_vfs_mkdirs(&w, "/j", &err), -EDQUOT);
    CHECK(err.code == EDQUOT && strstr(err.msg, "file limit (3)"));
    CHECK_RC(sb_vfs_remove(&w, "/g", &err), 0);
    CHECK_RC(put_str(&w, "/h/0123456789abc", ""), 0); /* 16 bytes: the limit */
    CHECK_RC(sb_vfs_remove(&w, "/h/0123456789abc", &err), 0);
    CHECK_RC(put_str(&w, "/h/0123456789abcd", ""), -ENAMETOOLONG);
    char name[300];
    memset(name, 'n', sizeof name);
    void *n;
    sb_fs_stat st;
    CHECK_RC(ops->open(&w, NULL, name, 256, SB_FS_READ, &n, &st), -ENAMETOOLONG);
    sb_vfs_free(v);
}

/* Rights: a principal with grants on /in (read) and /out (read+write). */
static void test_rights(void)
{
    static const sb_vfs_grant g[] = {{"/in", SB_VFS_READ}, {"/out/", SB_VFS_READ | SB_VFS_WRITE},
                                     {"/deep/a/b", SB_VFS_READ}, {"/wo", SB_VFS_WRITE}};
    static const sb_vfs_principal prog = {"prog", g, 4};
    sb_vfs *v = sb_vfs_new(NULL);
    sb_vfs_view sys = {v, &root_p}, w = {v, &prog};
    sb_err err;
    char out[256];
    void *n;
    CHECK_RC(put_str(&sys, "/in/data", "secret-ish"), 0);
    CHECK_RC(put_str(&sys, "/in2/x", "no"), 0);
    CHECK_RC(put_str(&sys, "/secret/k", "key"), 0);
    CHECK_RC(put_str(&sys, "/out/r", "res"), 0);
    CHECK_RC(put_str(&sys, "/deep/a/b/c", "c"), 0);
    CHECK_RC(put_str(&sys, "/deep/other", "o"), 0);
    CHECK_RC(put_str(&sys, "/wo/f", "w"), 0);
    CHECK(sb_vfs_rights(&prog, "/in/data") == SB_VFS_READ);
    CHECK(sb_vfs_rights(&prog, "/in2") == 0);
    CHECK(sb_vfs_rights(&prog, "/out") == (SB_VFS_READ | SB_VFS_WRITE));
    CHECK(sb_vfs_rights(&prog, "/") == 0 && sb_vfs_rights(&root_p, "/") == 7);
    /* read-only area: cannot create, truncate, write-open, unlink, rename out, mkdir, set times */
    CHECK_RC(op_open(&w, "in/data", SB_FS_READ, &n), 0);
    CHECK_RC(ops->set_times(&w, n, 1, 1, SB_FS_ATIM), -EACCES);
    ops->close(&w, n);
    CHECK_RC(op_open(&w, "in/data", SB_FS_WRITE, &n), -EACCES);
    CHECK_RC(op_open(&w, "in/data", SB_FS_READ | SB_FS_TRUNC, &n), -EACCES);
    CHECK_RC(op_open(&w, "in/new", SB_FS_CREAT | SB_FS_WRITE, &n), -EACCES);
    CHECK_RC(ops->unlink(&w, NULL, "in/data", 7), -EACCES);
    CHECK_RC(ops->mkdir(&w, NULL, "in/d", 4), -EACCES);
    CHECK_RC(ops->rename(&w, NULL, "in/data", 7, NULL, "out/stolen", 10), -EACCES);
    CHECK_RC(sb_vfs_put(&w, "/in/data", 0, "x", 1, 0, &err), -EACCES);
    CHECK(strstr(err.msg, "/in/data: permission denied for prog") != NULL);
    /* whole-component prefixes; invisible paths give EACCES whether or not they exist */
    CHECK_RC(op_open(&w, "in2/x", SB_FS_READ, &n), -EACCES);
    CHECK_RC(op_open(&w, "secret/k", SB_FS_READ, &n), -EACCES);
    CHECK_RC(op_open(&w, "secret/none", SB_FS_READ, &n), -EACCES);
    CHECK_RC(op_open(&w, "nothing", SB_FS_PATH, &n), -EACCES);
    CHECK_RC(op_open(&w, "out/../secret/k", SB_FS_READ, &n), -EACCES);
    /* ancestors are walkable and list only what leads to grants */
    listing(&w, ".", out, sizeof out);
    CHECK(strcmp(out, ".,..,in,out,deep,wo,") == 0);
    listing(&w, "deep", out, sizeof out);
    CHECK(strcmp(out, ".,..,a,") == 0);
    CHECK_RC(op_open(&w, "deep/other", SB_FS_READ, &n), -EACCES);
    CHECK_RC(op_open(&w, "deep/a/b/c", SB_FS_READ, &n), 0);
    ops->close(&w, n);
    /* write-only area: cannot read, cannot rename away (needs read), can write */
    CHECK_RC(op_open(&w, "wo/f", SB_FS_READ, &n), -EACCES);
    CHECK_RC(op_open(&w, "wo/f", SB_FS_WRITE, &n), 0);
    ops->close(&w, n);
    CHECK_RC(ops->rename(&w, NULL, "wo/f", 4, NULL, "out/f", 5), -EACCES);
    /* in the read-write area everything works, and rights follow the new path */
    CHECK_RC(ops->rename(&w, NULL, "out/r", 5, NULL, "out/r2", 6), 0);
    CHECK_RC(ops->rename(&w, NULL, "out/r2", 6, NULL, "in/r2", 5), -EACCES);
    CHECK_RC(sb_vfs_mkdirs(&w, "/out/sub", &err), 0);
    CHECK_RC(op_open(&w, "out/sub/n", SB_FS_CREAT | SB_FS_WRITE, &n), 0);
    ops->close(&w, n);
    CHECK_RC(ops->rmdir(&w, NULL, "out/sub", 7), -ENOTEMPTY);
    CHECK_RC(ops->unlink(&w, NULL, "out/sub/n", 9), 0);
    CHECK_RC(ops->rmdir(&w, NULL, "out/sub", 7), 0);
    CHECK_RC(ops->rmdir(&w, NULL, "out", 3), -ENOTEMPTY);
    sb_vfs_free(v);
}

/* A malloc'd copy of s (cap bytes, cap >= strlen(s)) for sb_vfs_put_adopt. */
static uint8_t *owned(const char *s, size_t cap)
{
    uint8_t *p = malloc(cap);
    if (p)
        memcpy(p, s, strlen(s));
    return p;
}

static int contents_are(sb_vfs_view *w, const char *path, const char *want)
{
    char buf[128];
    size_t got = 0;
    return sb_vfs_get(w, path, 0, buf, sizeof buf, &got, NULL) == 0 && got == strlen(want) &&
           memcmp(buf, want, got) == 0;
}

/* sb_vfs_put_adopt: takes the buffer on success only; limits and rights as put, old contents
 * intact after every refusal. */
static void test_adopt(void)
{
    static const sb_vfs_grant ro_g[] = {{"/", SB_VFS_READ}};
    static const sb_vfs_principal ro = {"reader", ro_g, 1};
    sb_vfs_limits lim = {.max_bytes = 100};
    sb_vfs *v = sb_vfs_new(&lim);
    sb_vfs_view w = {v, &root_p}, r = {v, &ro};
    sb_err err;
    uint8_t *b = owned("adopted", 64);
    CHECK_RC(sb_vfs_put_adopt(&w, "/d/e/f", b, 7, 64, &err), 0); /* parents created */
    CHECK(contents_are(&w, "/d/e/f", "adopted") && sb_vfs_bytes_used(v) == 7);
    /* replacing: the old bytes are released and the count follows; writes then grow in place */
    CHECK_RC(put_str(&w, "/g", "0123456789"), 0);
    b = owned("new", 3);
    CHECK_RC(sb_vfs_put_adopt(&w, "/g", b, 3, 3, &err), 0);
    CHECK(contents_are(&w, "/g", "new") && sb_vfs_bytes_used(v) == 10);
    CHECK_RC(sb_vfs_put(&w, "/g", SB_FS_APPEND, "!", 1, 0, &err), 0);
    CHECK(contents_are(&w, "/g", "new!") && sb_vfs_bytes_used(v) == 11);
    /* quota: counted with the old contents gone (7 of /d/e/f + 93 = the limit exactly) */
    uint8_t *big = calloc(1, 101);
    CHECK_RC(sb_vfs_put_adopt(&w, "/g", big, 94, 101, &err), -ENOSPC);
    CHECK(contents_are(&w, "/g", "new!") && sb_vfs_bytes_used(v) == 11);
    CHECK_RC(sb_vfs_put_adopt(&w, "/g", big, 93, 101, &err), 0);
    CHECK(sb_vfs_bytes_used(v) == 100);
    big = calloc(1, 101);
    CHECK_RC(sb_vfs_put_adopt(&w, "/d/e/f", big, 8, 101, &err), -ENOSPC);
    CHECK(err.code == ENOSPC && strstr(err.msg, "/d/e/f: filesystem byte limit (100)"));
    CHECK(contents_are(&w, "/d/e/f", "adopted") && sb_vfs_bytes_used(v) == 100);
    /* no write right: refused, nothing created or changed */
    CHECK_RC(sb_vfs_put_adopt(&r, "/d/e/f", big, 1, 101, &err), -EACCES);
    CHECK(strstr(err.msg, "/d/e/f: permission denied for reader") != NULL);
    CHECK_RC(sb_vfs_put_adopt(&r, "/d/new", big, 1, 101, &err), -EACCES);
    CHECK(sb_vfs_files_used(v) == 4 && contents_are(&w, "/d/e/f", "adopted"));
    /* a directory, a bad path, no buffer, cap below len */
    CHECK_RC(sb_vfs_put_adopt(&w, "/d/e", big, 1, 101, &err), -EISDIR);
    CHECK_RC(sb_vfs_put_adopt(&w, "d/x", big, 1, 101, &err), -SB_FS_ENOTCAPABLE);
    CHECK_RC(sb_vfs_put_adopt(&w, "/d/x", NULL, 0, 0, &err), -EINVAL);
    CHECK_RC(sb_vfs_put_adopt(&w, "/d/x", big, 102, 101, &err), -EINVAL);
    CHECK(sb_vfs_files_used(v) == 4 && sb_vfs_bytes_used(v) == 100);
    free(big); /* still the caller's after every refusal */
    sb_vfs_free(v);
}

/* Bytes of [p, p + len) resident now (mincore), in whole pages. */
static size_t resident(const uint8_t *p, size_t len)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)p & ~(pg - 1);
    size_t n = ((uintptr_t)p + len - a + pg - 1) / pg, r = 0;
    unsigned char *v = malloc(n);
    if (v && mincore((void *)a, (uintptr_t)p + len - a, v) == 0)
        for (size_t i = 0; i < n; i++)
            r += v[i] & 1;
    free(v);
    return r * pg;
}

/* Large file blocks: prefaulted one 1 MiB step at a time as sequential writes reach it and never
 * further; contents and byte counts exact whatever the kernel did with the advice. */
static void test_file_memory(void)
{
    const size_t MiB = 1u << 20, cap = 64 * MiB, pg = (size_t)sysconf(_SC_PAGESIZE);
    void *probe = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int populate = probe != MAP_FAILED && madvise(probe, pg, MADV_POPULATE_WRITE) == 0;
    if (probe != MAP_FAILED)
        munmap(probe, pg);
    uint8_t *b = malloc(cap);
    CHECK(b != NULL);
    if (!b)
        return;
    /* "far": beyond one step and a (transparent) huge page of slack past the last step asked */
    CHECK(resident(b + 8 * MiB, 56 * MiB) == 0);
    sb_vfs_data_prefault(b, cap, 0, 64 << 10);
    if (populate)
        CHECK(resident(b, MiB) >= MiB - pg); /* the whole first step, in one call */
    CHECK(resident(b + 4 * MiB, 60 * MiB) == 0);
    sb_vfs_data_prefault(b, cap, 64 << 10, 64 << 10); /* no step starts here: nothing new */
    CHECK(resident(b + 4 * MiB, 60 * MiB) == 0);
    sb_vfs_data_prefault(b, cap, 5 * MiB - 100, 200); /* a write across the start of step 5 */
    if (populate)
        CHECK(resident(b + 5 * MiB, MiB) >= MiB - pg);
    CHECK(resident(b + 9 * MiB, 55 * MiB) == 0);
    sb_vfs_data_prefault(b, cap, cap - 10, 100); /* clipped to the block */
    sb_vfs_data_prefault(b, cap, cap, 10);
    sb_vfs_data_prefault(b, cap, SIZE_MAX - 5, 10);
    sb_vfs_data_prefault(b, MiB - 1, 0, 10); /* small blocks: left to ordinary faults */
    printf("file memory: MADV_POPULATE_WRITE %s\n",
           populate ? "available" : "not available (EINVAL): residency checks skipped");
    for (size_t i = 0; i < 9 * MiB; i++)
        b[i] = (uint8_t)(i * 7 + i / 4093);
    /* the VFS adopts it, then grows it by appends and a write past the end (a zero gap) */
    sb_vfs *v = sb_vfs_new(NULL);
    sb_vfs_view w = {v, &root_p};
    sb_err err;
    CHECK_RC(sb_vfs_put_adopt(&w, "/big", b, 9 * MiB, cap, &err), 0);
    static uint8_t chunk[64 << 10];
    memset(chunk, 0x5a, sizeof chunk);
    for (int i = 0; i < 16; i++)
        CHECK_RC(sb_vfs_put(&w, "/big", SB_FS_APPEND, chunk, sizeof chunk, 0, &err), 0);
    CHECK_RC(sb_vfs_put(&w, "/grown", 70 * MiB, "end", 3, SB_VFS_PUT_CREATE, &err), 0);
    CHECK(sb_vfs_bytes_used(v) == 10 * MiB + 70 * MiB + 3);
    uint8_t *back = malloc(70 * MiB + 3);
    size_t got = 0, bad = 0;
    CHECK_RC(sb_vfs_get(&w, "/big", 0, back, 10 * MiB, &got, &err), 0);
    CHECK(got == 10 * MiB);
    for (size_t i = 0; i < 9 * MiB; i++)
        bad += back[i] != (uint8_t)(i * 7 + i / 4093);
    for (size_t i = 9 * MiB; i < got; i++)
        bad += back[i] != 0x5a;
    CHECK_RC(sb_vfs_get(&w, "/grown", 0, back, 70 * MiB + 3, &got, &err), 0);
    CHECK(got == 70 * MiB + 3 && memcmp(back + 70 * MiB, "end", 3) == 0);
    for (size_t i = 0; i < 70 * MiB; i++)
        bad += back[i] != 0;
    CHECK(bad == 0);
    free(back);
    sb_vfs_free(v);
}

int main(void)
{
    test_files();
    test_dirs_and_rename();
    test_readdir_cookies();
    test_large_dir();
    test_deep_tree();
    test_determinism_and_clock();
    test_limits();
    test_rights();
    test_adopt();
    test_file_memory();
    printf("vfs: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
