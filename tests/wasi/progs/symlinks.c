/* Symlinks over a mapped host directory, with raw WASI calls: what wasmtime does for
 * path_symlink, path_readlink, path_open with and without SYMLINK_FOLLOW, dangling links and
 * loops (the behaviours the wasi-testsuite programs dangling_symlink, nofollow_errors,
 * symlink_create and symlink_loop check), and that no link leads a program out of the mapping.
 * Run as: strongbox run --dir IN::/data symlinks.wasm   (run_symlinks.sh sets IN up: IN/abs is a
 * host symlink to an absolute path outside, ../outside/secret exists beside IN).
 * Prints one line per failed check and exits 1 if any failed. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define IMPORT(n) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#n)))
typedef int32_t i32;
typedef int64_t i64;
i32 fd_close(i32) IMPORT(fd_close);
i32 fd_read(i32, i32, i32, i32) IMPORT(fd_read);
i32 fd_filestat_get(i32, i32) IMPORT(fd_filestat_get);
i32 path_create_directory(i32, i32, i32) IMPORT(path_create_directory);
i32 path_filestat_get(i32, i32, i32, i32, i32) IMPORT(path_filestat_get);
i32 path_filestat_set_times(i32, i32, i32, i32, i64, i64, i32) IMPORT(path_filestat_set_times);
i32 path_link(i32, i32, i32, i32, i32, i32, i32) IMPORT(path_link);
i32 path_open(i32, i32, i32, i32, i32, i64, i64, i32, i32) IMPORT(path_open);
i32 path_readlink(i32, i32, i32, i32, i32, i32) IMPORT(path_readlink);
i32 path_remove_directory(i32, i32, i32) IMPORT(path_remove_directory);
i32 path_rename(i32, i32, i32, i32, i32, i32) IMPORT(path_rename);
i32 path_symlink(i32, i32, i32, i32, i32) IMPORT(path_symlink);
i32 path_unlink_file(i32, i32, i32) IMPORT(path_unlink_file);

enum { SUCCESS = 0, EXIST = 20, INVAL = 28, LOOP = 32, NOENT = 44, NOTDIR = 54, PERM = 63,
       NOTCAPABLE = 76 };
enum { FOLLOW = 1, O_CREAT = 1, O_DIRECTORY = 2, O_EXCL = 4, T_SYMLINK = 7, T_REG = 4 };
#define RIGHT_READ (1ll << 1)
#define P(x) ((i32)(uintptr_t)(x))
#define S(str) P(str), (i32)strlen(str)
#define D 3 /* the preopened /data */

static int failures, checks;
#define EQ(got, want)                                                                              \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        checks++;                                                                                  \
        if (g_ != w_) {                                                                            \
            failures++;                                                                            \
            printf("FAIL line %d: %s = %lld, want %lld\n", __LINE__, #got, g_, w_);                \
        }                                                                                          \
    } while (0)
#define ONE_OF(got, a, b)                                                                          \
    do {                                                                                           \
        long long g_ = (long long)(got);                                                           \
        checks++;                                                                                  \
        if (g_ != (a) && g_ != (b)) {                                                              \
            failures++;                                                                            \
            printf("FAIL line %d: %s = %lld, want %d or %d\n", __LINE__, #got, g_, a, b);         \
        }                                                                                          \
    } while (0)

static i32 fd = -1;

/* path_open with no rights (a path-only open), as the wasi-testsuite programs do. */
static int open_bare(i32 lookup, const char *path, i32 oflags)
{
    fd = -1;
    int rc = path_open(D, lookup, S(path), oflags, 0, 0, 0, P(&fd));
    if (rc == 0)
        fd_close(fd);
    return rc;
}

/* The type of what `path` names (lookup flags as given), or -errno. */
static int type_of(i32 lookup, const char *path)
{
    uint8_t st[64];
    int rc = path_filestat_get(D, lookup, S(path), P(st));
    return rc ? -rc : st[16];
}

static void test_dangling(void)
{
    EQ(path_symlink(S("target"), D, S("dangling")), SUCCESS);
    ONE_OF(open_bare(0, "dangling", O_DIRECTORY), NOTDIR, LOOP);
    EQ(open_bare(0, "dangling", 0), LOOP);
    EQ(open_bare(FOLLOW, "dangling", 0), NOENT);
    EQ(type_of(0, "dangling"), T_SYMLINK);
    EQ(type_of(FOLLOW, "dangling"), -NOENT);
    EQ(open_bare(FOLLOW, "dangling", O_CREAT | O_EXCL), EXIST); /* O_EXCL never follows */
    EQ(type_of(FOLLOW, "target"), -NOENT);
    EQ(open_bare(FOLLOW, "dangling", O_CREAT), SUCCESS); /* creates the target, as open(2) */
    EQ(type_of(0, "target"), T_REG);
    EQ(path_unlink_file(D, S("target")), SUCCESS);
    EQ(path_unlink_file(D, S("dangling")), SUCCESS);
}

static void test_nofollow(void)
{
    EQ(path_create_directory(D, S("target")), SUCCESS);
    EQ(path_symlink(S("target"), D, S("symlink")), SUCCESS);
    ONE_OF(open_bare(0, "symlink", O_DIRECTORY), LOOP, NOTDIR);
    EQ(open_bare(0, "symlink", 0), LOOP);
    EQ(path_open(D, 0, S("symlink"), 0, RIGHT_READ, 0, 0, P(&fd)), LOOP); /* with rights too */
    EQ(open_bare(FOLLOW, "symlink", O_DIRECTORY), SUCCESS);
    EQ(path_unlink_file(D, S("symlink")), SUCCESS);
    EQ(path_remove_directory(D, S("target")), SUCCESS);
    EQ(open_bare(0, "target", O_CREAT), SUCCESS);
    EQ(path_symlink(S("target"), D, S("symlink")), SUCCESS);
    ONE_OF(open_bare(0, "symlink", O_DIRECTORY), LOOP, NOTDIR);
    EQ(open_bare(0, "symlink", 0), LOOP);
    EQ(open_bare(FOLLOW, "symlink", O_DIRECTORY), NOTDIR);
    EQ(open_bare(FOLLOW, "symlink", 0), SUCCESS);
    EQ(path_unlink_file(D, S("target")), SUCCESS);
    EQ(path_unlink_file(D, S("symlink")), SUCCESS);
}

static void test_create_and_read(void)
{
    char buf[64];
    i32 n = -1;
    EQ(path_create_directory(D, S("dir")), SUCCESS);
    EQ(open_bare(0, "dir/file", O_CREAT), SUCCESS);
    EQ(path_symlink(S("dir"), D, S("to_dir")), SUCCESS);
    EQ(path_symlink(S("to_dir/file"), D, S("chain")), SUCCESS); /* a link through a link */
    EQ(open_bare(FOLLOW, "to_dir/file", 0), SUCCESS);
    EQ(open_bare(0, "to_dir/file", 0), SUCCESS); /* NOFOLLOW is about the last component only */
    EQ(open_bare(FOLLOW, "chain", 0), SUCCESS);
    EQ(open_bare(0, "to_dir/", O_DIRECTORY), SUCCESS); /* a trailing slash follows */
    EQ(path_symlink(S("../file"), D, S("dir/up")), SUCCESS);   /* ".." that stays inside */
    EQ(path_symlink(S("file"), D, S("dir/file")), EXIST);
    EQ(path_symlink(S("/"), D, S("root")), PERM);              /* absolute targets: refused */
    EQ(path_symlink(S("/etc/passwd"), D, S("pw")), PERM);
    EQ(type_of(0, "root"), -NOENT);
    EQ(path_readlink(D, S("chain"), P(buf), sizeof buf, P(&n)), SUCCESS);
    EQ(n, 11);
    EQ(memcmp(buf, "to_dir/file", 11), 0);
    EQ(path_readlink(D, S("chain"), P(buf), 4, P(&n)), SUCCESS); /* truncated to the buffer */
    EQ(n, 4);
    EQ(path_readlink(D, S("to_dir/up"), P(buf), sizeof buf, P(&n)), SUCCESS);
    EQ(n, 7);
    EQ(path_readlink(D, S("dir"), P(buf), sizeof buf, P(&n)), INVAL); /* not a link */
    EQ(path_readlink(D, S("missing"), P(buf), sizeof buf, P(&n)), NOENT);
    EQ(path_unlink_file(D, S("to_dir")), SUCCESS); /* removes the link, not the directory */
    EQ(type_of(0, "dir/file"), T_REG);
    EQ(open_bare(FOLLOW, "chain", 0), NOENT);
    EQ(path_unlink_file(D, S("chain")), SUCCESS);
    EQ(path_unlink_file(D, S("dir/up")), SUCCESS);
    EQ(path_unlink_file(D, S("dir/file")), SUCCESS);
    EQ(path_remove_directory(D, S("dir")), SUCCESS);
}

static void test_loops(void)
{
    EQ(path_symlink(S("self"), D, S("self")), SUCCESS);
    EQ(open_bare(0, "self", 0), LOOP);
    EQ(open_bare(FOLLOW, "self", 0), LOOP);
    EQ(open_bare(FOLLOW, "self/x", 0), LOOP);
    EQ(type_of(0, "self"), T_SYMLINK);
    EQ(type_of(FOLLOW, "self"), -LOOP);
    EQ(path_symlink(S("b"), D, S("a")), SUCCESS);
    EQ(path_symlink(S("a"), D, S("b")), SUCCESS);
    EQ(open_bare(FOLLOW, "a", O_CREAT), LOOP);
    EQ(path_create_directory(D, S("a/x")), LOOP);
    /* 40 links in a row are followed, as the kernel does; the 41st is a loop */
    char name[16], next[16];
    EQ(open_bare(0, "end", O_CREAT), SUCCESS);
    for (int i = 0; i < 41; i++) {
        snprintf(name, sizeof name, "l%d", i);
        snprintf(next, sizeof next, i == 40 ? "end" : "l%d", i + 1);
        EQ(path_symlink(S(next), D, S(name)), SUCCESS);
    }
    EQ(open_bare(FOLLOW, "l1", 0), SUCCESS);
    EQ(open_bare(FOLLOW, "l0", 0), LOOP);
    for (int i = 0; i < 41; i++) {
        snprintf(name, sizeof name, "l%d", i);
        EQ(path_unlink_file(D, S(name)), SUCCESS);
    }
    EQ(path_unlink_file(D, S("end")), SUCCESS);
    EQ(path_unlink_file(D, S("self")), SUCCESS);
    EQ(path_unlink_file(D, S("a")), SUCCESS);
    EQ(path_unlink_file(D, S("b")), SUCCESS);
}

/* Links that point out, made by the program or found on the host: never followed out, and
 * nothing can be read, created, renamed, linked or removed through them. */
static void test_escapes(void)
{
    char buf[64];
    i32 n = -1;
    EQ(path_symlink(S("../outside/secret"), D, S("up")), SUCCESS); /* stored, never followed */
    EQ(path_symlink(S(".."), D, S("updir")), SUCCESS);
    EQ(path_create_directory(D, S("sub")), SUCCESS);
    EQ(path_symlink(S("../../outside"), D, S("sub/deep")), SUCCESS);
    EQ(path_symlink(S("sub/../../outside"), D, S("dotdot")), SUCCESS);
    const char *out[] = {"up", "updir/outside/secret", "sub/deep/secret", "abs", "dotdot",
                         "abs/../secret", "sub/deep/../outside/secret"};
    for (size_t i = 0; i < sizeof out / sizeof *out; i++) {
        EQ(path_open(D, FOLLOW, S(out[i]), 0, RIGHT_READ, 0, 0, P(&fd)), NOTCAPABLE);
        EQ(type_of(FOLLOW, out[i]), -NOTCAPABLE);
    }
    EQ(path_open(D, FOLLOW, S("up"), O_CREAT, 0, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(path_open(D, FOLLOW, S("updir/outside/new"), O_CREAT, 0, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(path_open(D, FOLLOW, S("updir/created"), O_CREAT, 0, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(path_create_directory(D, S("updir/newdir")), NOTCAPABLE);
    EQ(path_create_directory(D, S("sub/deep/newdir")), NOTCAPABLE);
    EQ(path_unlink_file(D, S("updir/outside/secret")), NOTCAPABLE);
    EQ(path_symlink(S("x"), D, S("updir/outside/planted")), NOTCAPABLE);
    EQ(path_rename(D, S("sub"), D, S("updir/moved")), NOTCAPABLE);
    EQ(path_rename(D, S("updir/outside/secret"), D, S("stolen")), NOTCAPABLE);
    EQ(path_link(D, FOLLOW, S("up"), D, S("stolen")), NOTCAPABLE);
    EQ(path_link(D, FOLLOW, S("abs"), D, S("stolen")), NOTCAPABLE);
    EQ(path_filestat_set_times(D, FOLLOW, S("up"), 0, 0, 5), NOTCAPABLE);
    EQ(path_readlink(D, S("updir/outside/secret"), P(buf), sizeof buf, P(&n)), NOTCAPABLE);
    /* the links themselves are entries of the mapping and can be looked at and removed */
    EQ(type_of(0, "abs"), T_SYMLINK);
    EQ(open_bare(0, "abs", 0), LOOP);
    EQ(path_readlink(D, S("up"), P(buf), sizeof buf, P(&n)), SUCCESS);
    EQ(n, 17);
    const char *mine[] = {"up", "updir", "sub/deep", "dotdot"};
    for (size_t i = 0; i < sizeof mine / sizeof *mine; i++)
        EQ(path_unlink_file(D, S(mine[i])), SUCCESS);
    EQ(path_remove_directory(D, S("sub")), SUCCESS);
}

int main(void)
{
    test_dangling();
    test_nofollow();
    test_create_and_read();
    test_loops();
    test_escapes();
    printf("symlinks: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
