/* Host-directory backend: it works like the host, and nothing reaches outside the mapped
 * directory (.., absolute paths, symlinks out, renames and links out), with openat2 and with the
 * component-walk fallback. */
#include "hostfs/hostfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures, checks;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", __FILE__, __LINE__, mode, #cond);    \
        }                                                                                          \
    } while (0)
#define CHECK_RC(expr, want) CHECK((expr) == (want))

static const char *mode = "";
static char top[256], root[300];
static const sb_fs_ops *ops = &sb_hostfs_ops;

static void write_host(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int exists_host(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", top, rel);
    return lstat(p, &st) == 0;
}

static int op_open(sb_hostfs *h, const char *path, uint32_t flags, void **n)
{
    sb_fs_stat st;
    int rc = ops->open(h, NULL, path, strlen(path), flags, n, &st);
    return rc;
}

static int r_rename(sb_hostfs *h, const char *a, const char *b)
{
    return ops->rename(h, NULL, a, strlen(a), NULL, b, strlen(b));
}

static void make_link(const char *target, const char *at)
{
    if (symlink(target, at) != 0) {
        perror(at);
        exit(2);
    }
}

static void setup(void)
{
    snprintf(top, sizeof top, "%s/sb-hostfs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(top))
        exit(2);
    snprintf(root, sizeof root, "%s/root", top);
    mkdir(root, 0700);
    char p[512];
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0700);
    write_host("outside_secret", "secret");
    write_host("root/in.txt", "inside");
    snprintf(p, sizeof p, "%s/link_out", root);
    make_link("../outside_secret", p);
    snprintf(p, sizeof p, "%s/abs_out", root);
    char target[512];
    snprintf(target, sizeof target, "%s/outside_secret", top);
    make_link(target, p);
    snprintf(p, sizeof p, "%s/dir_out", root);
    make_link("..", p);
    snprintf(p, sizeof p, "%s/sub/inside_link", root);
    make_link("../in.txt", p);
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", top);
}

static void test_escapes(unsigned flags)
{
    sb_err err;
    sb_hostfs *h = sb_hostfs_new(root, flags, &err);
    CHECK(h != NULL);
    if (!h)
        return;
    int out_rc = -SB_FS_ENOTCAPABLE; /* symlinks leading out, relative or absolute */
    void *n;
    CHECK_RC(op_open(h, "../outside_secret", SB_FS_READ, &n), -SB_FS_ENOTCAPABLE);
    CHECK_RC(op_open(h, "sub/../../outside_secret", SB_FS_READ, &n), -SB_FS_ENOTCAPABLE);
    CHECK_RC(op_open(h, "/etc/passwd", SB_FS_READ, &n), -SB_FS_ENOTCAPABLE);
    CHECK_RC(op_open(h, "..", SB_FS_PATH, &n), -SB_FS_ENOTCAPABLE);
    CHECK_RC(op_open(h, "link_out", SB_FS_READ, &n), out_rc);
    CHECK_RC(op_open(h, "abs_out", SB_FS_READ, &n), out_rc);
    CHECK_RC(op_open(h, "dir_out/outside_secret", SB_FS_READ, &n), out_rc);
    CHECK_RC(op_open(h, "dir_out/created", SB_FS_CREAT | SB_FS_WRITE, &n), out_rc);
    CHECK(!exists_host("created"));
    CHECK_RC(op_open(h, "link_out", SB_FS_WRITE | SB_FS_TRUNC, &n), out_rc);
    /* the link itself can be looked at */
    sb_fs_stat st;
    CHECK_RC(op_open(h, "link_out", SB_FS_PATH | SB_FS_NOFOLLOW, &n), 0);
    CHECK_RC(ops->stat(h, n, &st), 0);
    CHECK(st.type == SB_FS_SYMLINK);
    ops->close(h, n);
    /* a symlink that stays inside works */
    int in_rc = op_open(h, "sub/inside_link", SB_FS_READ, &n);
    CHECK(in_rc == 0);
    if (in_rc == 0) {
        char buf[16];
        size_t got;
        CHECK_RC(ops->read(h, n, buf, sizeof buf, 0, &got), 0);
        CHECK(got == 6 && memcmp(buf, "inside", 6) == 0);
        ops->close(h, n);
    }
    /* renames, links, mkdir, unlink out of the directory */
    CHECK_RC(r_rename(h, "in.txt", "../moved"), -SB_FS_ENOTCAPABLE);
    CHECK_RC(r_rename(h, "in.txt", "dir_out/moved"), out_rc);
    CHECK_RC(r_rename(h, "../outside_secret", "stolen"), -SB_FS_ENOTCAPABLE);
    CHECK_RC(r_rename(h, "dir_out/outside_secret", "stolen"), out_rc);
    CHECK(exists_host("root/in.txt") && !exists_host("moved") && exists_host("outside_secret"));
    CHECK_RC(ops->mkdir(h, NULL, "../newdir", 9), -SB_FS_ENOTCAPABLE);
    CHECK_RC(ops->mkdir(h, NULL, "dir_out/newdir", 14), out_rc);
    CHECK_RC(ops->unlink(h, NULL, "dir_out/outside_secret", 22), out_rc);
    CHECK_RC(ops->unlink(h, NULL, "../outside_secret", 17), -SB_FS_ENOTCAPABLE);
    CHECK_RC(ops->link(h, NULL, "link_out", 8, 1, NULL, "stolen", 6), out_rc);
    CHECK_RC(ops->link(h, NULL, "../outside_secret", 17, 0, NULL, "stolen", 6),
             -SB_FS_ENOTCAPABLE);
    CHECK(!exists_host("newdir") && exists_host("outside_secret") && !exists_host("root/stolen"));
    /* a new symlink pointing out can be made but never followed */
    CHECK_RC(ops->symlink(h, "../outside_secret", 17, NULL, "s2", 2), 0);
    CHECK_RC(op_open(h, "s2", SB_FS_READ, &n), out_rc);
    char lbuf[64];
    size_t ln;
    CHECK_RC(ops->readlink(h, NULL, "s2", 2, lbuf, sizeof lbuf, &ln), 0);
    CHECK(ln == 17 && memcmp(lbuf, "../outside_secret", 17) == 0);
    CHECK_RC(ops->readlink(h, NULL, "../outside_secret", 17, lbuf, sizeof lbuf, &ln),
             -SB_FS_ENOTCAPABLE);
    CHECK_RC(ops->unlink(h, NULL, "s2", 2), 0);
    /* names of the parent itself never act outside */
    CHECK_RC(ops->rmdir(h, NULL, "..", 2), -SB_FS_ENOTCAPABLE);
    CHECK(exists_host("outside_secret"));
    sb_hostfs_free(h);
}

static void test_ops(unsigned flags)
{
    sb_err err;
    sb_hostfs *h = sb_hostfs_new(root, flags, &err);
    void *n, *d;
    char buf[64];
    size_t got;
    CHECK_RC(op_open(h, "new.txt", SB_FS_CREAT | SB_FS_EXCL | SB_FS_WRITE | SB_FS_READ, &n), 0);
    CHECK_RC(ops->write(h, n, "abc", 3, 0, &got), 0);
    CHECK_RC(ops->write(h, n, "de", 2, SB_FS_APPEND, &got), 0);
    CHECK_RC(ops->read(h, n, buf, sizeof buf, 1, &got), 0);
    CHECK(got == 4 && memcmp(buf, "bcde", 4) == 0);
    CHECK_RC(ops->truncate(h, n, 2), 0);
    CHECK_RC(ops->set_times(h, n, 1000000000ull * 5, 0, SB_FS_ATIM | SB_FS_MTIM), 0);
    sb_fs_stat st;
    CHECK_RC(ops->stat(h, n, &st), 0);
    CHECK(st.size == 2 && st.atim == 5000000000ull && st.mtim == 0 && st.type == SB_FS_REG);
    CHECK_RC(ops->sync(h, n), 0);
    ops->close(h, n);
    CHECK_RC(op_open(h, "new.txt", SB_FS_CREAT | SB_FS_EXCL | SB_FS_WRITE, &n), -EEXIST);
    CHECK_RC(op_open(h, "nope", SB_FS_READ, &n), -ENOENT);
    CHECK_RC(op_open(h, "new.txt/", SB_FS_READ, &n), -ENOTDIR);
    CHECK_RC(ops->mkdir(h, NULL, "d1", 2), 0);
    CHECK_RC(ops->mkdir(h, NULL, "d1", 2), -EEXIST);
    CHECK_RC(r_rename(h, "new.txt", "d1/moved.txt"), 0);
    CHECK_RC(ops->rmdir(h, NULL, "d1", 2), -ENOTEMPTY);
    CHECK_RC(ops->link(h, NULL, "d1/moved.txt", 12, 0, NULL, "hard", 4), 0);
    CHECK_RC(op_open(h, "d1", SB_FS_READ | SB_FS_DIRECTORY, &d), 0);
    /* readdir: cookies resume where they left off */
    sb_fs_dirent e;
    char name[256];
    int count = 0, found = 0;
    uint64_t c = 0;
    while (ops->readdir(h, d, c, &e, name, sizeof name) == 0) {
        count++;
        found |= e.namelen == 9 && memcmp(name, "moved.txt", 9) == 0 && e.type == SB_FS_REG;
        c = e.next;
    }
    CHECK(count == 3 && found);
    CHECK_RC(ops->readdir(h, d, c, &e, name, sizeof name), 1);
    ops->close(h, d);
    CHECK_RC(ops->unlink(h, NULL, "hard", 4), 0);
    CHECK_RC(ops->unlink(h, NULL, "d1/moved.txt", 12), 0);
    CHECK_RC(ops->rmdir(h, NULL, "d1/", 3), 0);
    sb_hostfs_free(h);

    /* read-only mapping */
    h = sb_hostfs_new(root, flags | SB_HOSTFS_READONLY, &err);
    CHECK_RC(op_open(h, "in.txt", SB_FS_READ, &n), 0);
    CHECK_RC(ops->write(h, n, "x", 1, 0, &got), -EROFS);
    CHECK_RC(ops->truncate(h, n, 0), -EROFS);
    CHECK_RC(ops->set_times(h, n, 0, 0, SB_FS_MTIM_NOW), -EROFS);
    ops->close(h, n);
    CHECK_RC(op_open(h, "in.txt", SB_FS_CREAT | SB_FS_READ, &n), 0);
    ops->close(h, n);
    CHECK_RC(op_open(h, "in.txt", SB_FS_CREAT | SB_FS_EXCL | SB_FS_READ, &n), -EEXIST);
    CHECK_RC(op_open(h, "in.txt", SB_FS_WRITE, &n), -EROFS);
    CHECK_RC(op_open(h, "fresh", SB_FS_CREAT | SB_FS_READ, &n), -EROFS);
    CHECK_RC(ops->mkdir(h, NULL, "x", 1), -EROFS);
    CHECK_RC(ops->unlink(h, NULL, "in.txt", 6), -EROFS);
    CHECK_RC(r_rename(h, "in.txt", "b"), -EROFS);
    CHECK_RC(ops->symlink(h, "a", 1, NULL, "b", 1), -EROFS);
    CHECK(exists_host("root/in.txt") && !exists_host("root/fresh"));
    sb_hostfs_free(h);

    /* a FIFO never hangs the runner: reading sees end of input, writing with no reader ENXIO */
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/fifo", root);
    if (mkfifo(fifo, 0600) == 0) {
        h = sb_hostfs_new(root, flags, &err);
        sb_fs_stat fst;
        CHECK_RC(ops->open(h, NULL, "fifo", 4, SB_FS_READ, &n, &fst), 0);
        CHECK(fst.type == SB_FS_UNKNOWN);
        CHECK_RC(ops->read(h, n, buf, sizeof buf, 0, &got), -ESPIPE);
        ops->close(h, n);
        CHECK_RC(op_open(h, "fifo", SB_FS_WRITE, &n), -ENXIO);
        sb_hostfs_free(h);
        unlink(fifo);
    }

    CHECK(sb_hostfs_new("/nonexistent/dir", 0, &err) == NULL);
    CHECK(err.code == ENOENT && strstr(err.msg, "/nonexistent/dir") != NULL);
}

int main(void)
{
    setup();
    mode = "openat2";
    test_escapes(0);
    test_ops(0);
    mode = "fallback";
    test_escapes(SB_HOSTFS_NO_OPENAT2);
    test_ops(SB_HOSTFS_NO_OPENAT2);
    teardown();
    printf("hostfs: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
