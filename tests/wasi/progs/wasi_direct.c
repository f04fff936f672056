/* Raw WASI calls (no libc in between): bad guest pointers and lengths, invalid fds, rights,
 * escapes, preopen numbering, the virtual clock, poll_oneoff, sockets, and the errno of each.
 * Run as: strongbox run --dir A::/zeta --dir B::/alpha wasi_direct.wasm
 * Prints one line per failed check and exits 1 if any failed. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define IMPORT(n) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#n)))
typedef int32_t i32;
typedef int64_t i64;
i32 args_get(i32, i32) IMPORT(args_get);
i32 environ_sizes_get(i32, i32) IMPORT(environ_sizes_get);
i32 clock_res_get(i32, i32) IMPORT(clock_res_get);
i32 clock_time_get(i32, i64, i32) IMPORT(clock_time_get);
i32 fd_advise(i32, i64, i64, i32) IMPORT(fd_advise);
i32 fd_allocate(i32, i64, i64) IMPORT(fd_allocate);
i32 fd_close(i32) IMPORT(fd_close);
i32 fd_datasync(i32) IMPORT(fd_datasync);
i32 fd_fdstat_get(i32, i32) IMPORT(fd_fdstat_get);
i32 fd_fdstat_set_flags(i32, i32) IMPORT(fd_fdstat_set_flags);
i32 fd_fdstat_set_rights(i32, i64, i64) IMPORT(fd_fdstat_set_rights);
i32 fd_filestat_get(i32, i32) IMPORT(fd_filestat_get);
i32 fd_filestat_set_size(i32, i64) IMPORT(fd_filestat_set_size);
i32 fd_filestat_set_times(i32, i64, i64, i32) IMPORT(fd_filestat_set_times);
i32 fd_pread(i32, i32, i32, i64, i32) IMPORT(fd_pread);
i32 fd_prestat_get(i32, i32) IMPORT(fd_prestat_get);
i32 fd_prestat_dir_name(i32, i32, i32) IMPORT(fd_prestat_dir_name);
i32 fd_pwrite(i32, i32, i32, i64, i32) IMPORT(fd_pwrite);
i32 fd_read(i32, i32, i32, i32) IMPORT(fd_read);
i32 fd_readdir(i32, i32, i32, i64, i32) IMPORT(fd_readdir);
i32 fd_renumber(i32, i32) IMPORT(fd_renumber);
i32 fd_seek(i32, i64, i32, i32) IMPORT(fd_seek);
i32 fd_sync(i32) IMPORT(fd_sync);
i32 fd_tell(i32, i32) IMPORT(fd_tell);
i32 fd_write(i32, i32, i32, i32) IMPORT(fd_write);
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
i32 poll_oneoff(i32, i32, i32, i32) IMPORT(poll_oneoff);
i32 proc_raise(i32) IMPORT(proc_raise);
i32 sched_yield(void) IMPORT(sched_yield);
i32 random_get(i32, i32) IMPORT(random_get);
i32 sock_accept(i32, i32, i32) IMPORT(sock_accept);
i32 sock_recv(i32, i32, i32, i32, i32, i32) IMPORT(sock_recv);
i32 sock_send(i32, i32, i32, i32, i32) IMPORT(sock_send);
i32 sock_shutdown(i32, i32) IMPORT(sock_shutdown);

enum { SUCCESS = 0, BADF = 8, FAULT = 21, INVAL = 28, ISDIR = 31, NAMETOOLONG = 37, NOENT = 44,
       NOSYS = 52, NOTDIR = 54, NOTSOCK = 57, SPIPE = 70, XDEV = 75, NOTCAPABLE = 76 };
#define BAD 0xFFFFFFF0 /* never inside a wasm32 memory of this size */
#define P(x) ((i32)(uintptr_t)(x))
#define S(str) P(str), (i32)strlen(str)

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

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* read, seek, fdstat_set_flags, tell, write, advise, allocate, filestat get/set_size/set_times */
#define RIGHTS_RW ((1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | \
                   (1 << 21) | (1 << 22) | (1 << 23))

static i32 open_file(i32 dir, const char *name, i32 oflags, i64 rights)
{
    i32 fd = -1;
    i32 rc = path_open(dir, 1, S(name), oflags, rights, 0, 0, P(&fd));
    return rc ? -rc : fd;
}

static void test_preopens(void)
{
    uint8_t pre[8], name[16];
    EQ(fd_prestat_get(3, P(pre)), SUCCESS);
    EQ(pre[0], 0);
    EQ(rd32(pre + 4), 6);
    EQ(fd_prestat_dir_name(3, P(name), 6), SUCCESS);
    EQ(memcmp(name, "/alpha", 6), 0);
    EQ(fd_prestat_dir_name(4, P(name), 5), SUCCESS);
    EQ(memcmp(name, "/zeta", 5), 0);
    EQ(fd_prestat_dir_name(3, P(name), 2), NAMETOOLONG);
    EQ(fd_prestat_get(0, P(pre)), BADF);
    EQ(fd_prestat_get(5, P(pre)), BADF);
    EQ(fd_prestat_get(3, BAD), FAULT);
    EQ(fd_prestat_dir_name(3, BAD, 6), FAULT);
}

static void test_bad_memory(void)
{
    static uint8_t buf[64];
    i32 n = -1;
    uint32_t iov[2] = {P(buf), 4};
    EQ(fd_write(1, BAD, 1, P(&n)), FAULT);
    uint32_t bad_iov[2] = {BAD, 4};
    EQ(fd_write(1, P(bad_iov), 1, P(&n)), FAULT);
    uint32_t huge_iov[2] = {P(buf), 0xFFFFFFFFu};
    EQ(fd_write(1, P(huge_iov), 1, P(&n)), FAULT);
    EQ(fd_write(1, P(iov), 100000, P(&n)), INVAL);
    EQ(fd_write(1, P(iov), 1, BAD), FAULT);
    EQ(n, -1); /* nothing was reported, nothing written */
    EQ(args_get(BAD, P(buf)), FAULT);
    EQ(environ_sizes_get(P(&n), BAD), FAULT);
    EQ(random_get(BAD, 16), FAULT);
    EQ(random_get(P(buf), 0x7FFFFFFF), FAULT);
    EQ(random_get(P(buf), 0), SUCCESS);
    EQ(clock_res_get(0, BAD), FAULT);
    EQ(clock_time_get(1, 0, BAD), FAULT);
    EQ(path_open(3, 1, BAD, 4, 0, RIGHTS_RW, 0, 0, P(&n)), FAULT);
    EQ(path_open(3, 1, P(buf), 0x7FFFFFFF, 0, RIGHTS_RW, 0, 0, P(&n)), FAULT);
    EQ(path_create_directory(3, P(buf), -1), FAULT);
    EQ(poll_oneoff(BAD, P(buf), 1, P(&n)), FAULT);
    EQ(fd_readdir(3, BAD, 100, 0, P(&n)), FAULT);
    EQ(fd_fdstat_get(1, BAD), FAULT);
    EQ(fd_filestat_get(3, BAD), FAULT);
    EQ(path_readlink(3, S("x"), BAD, 10, P(&n)), FAULT);
}

static void test_fds(void)
{
    uint8_t buf[64];
    i32 n = 0;
    EQ(fd_read(99, P(buf), 0, P(&n)), BADF);
    EQ(fd_write(-1, P(buf), 0, P(&n)), BADF);
    EQ(fd_close(99), BADF);
    EQ(fd_renumber(3, 99), BADF);
    EQ(fd_renumber(99, 3), BADF);
    EQ(fd_seek(1, 0, 0, P(buf)), SPIPE);
    EQ(fd_tell(1, P(buf)), SPIPE);
    EQ(fd_pread(0, P(buf), 0, 0, P(&n)), SPIPE);
    uint32_t iov[2] = {P(buf), 4};
    EQ(fd_write(0, P(iov), 1, P(&n)), BADF);
    EQ(fd_read(1, P(iov), 1, P(&n)), BADF);
    EQ(fd_read(3, P(iov), 1, P(&n)), ISDIR);
    EQ(fd_sync(1), INVAL);
    EQ(fd_fdstat_set_flags(1, 1), SUCCESS); /* append on stdout changes nothing, breaks nothing */
    uint32_t hello[2] = {P(""), 0};
    EQ(fd_write(1, P(hello), 1, P(&n)), SUCCESS);
    EQ(fd_fdstat_set_flags(1, 0), SUCCESS);
    /* a file: renumber onto another open fd closes that one */
    i32 a = open_file(3, "f1", 1, RIGHTS_RW), b = open_file(3, "f2", 1, RIGHTS_RW);
    EQ(a > 4 && b > a, 1);
    uint32_t wio[2] = {P("abcdef"), 6};
    EQ(fd_write(a, P(wio), 1, P(&n)), SUCCESS);
    EQ(fd_renumber(a, b), SUCCESS);
    EQ(fd_write(a, P(wio), 1, P(&n)), BADF);
    uint64_t pos = 0;
    EQ(fd_tell(b, P(&pos)), SUCCESS);
    EQ(pos, 6);
    /* overlapping buffers: read over the iovec array itself */
    uint32_t ov[4];
    ov[0] = P(ov);
    ov[1] = 6;
    EQ(fd_pread(b, P(ov), 1, 0, P(&n)), SUCCESS);
    EQ(n, 6);
    EQ(memcmp(ov, "abcdef", 6), 0);
    EQ(fd_pread(b, P(iov), 1, -1, P(&n)), INVAL);
    EQ(fd_seek(b, -10, 0, P(&pos)), INVAL);
    EQ(fd_seek(b, 0, 7, P(&pos)), INVAL);
    EQ(fd_seek(b, 2, 2, P(&pos)), SUCCESS);
    EQ(pos, 8);
    EQ(fd_allocate(b, 0, 0), INVAL);
    EQ(fd_allocate(b, 0, 100), SUCCESS);
    EQ(fd_advise(b, 0, 10, 9), INVAL);
    EQ(fd_advise(b, 0, 10, 1), SUCCESS);
    EQ(fd_filestat_set_times(b, 0, 0, 3), INVAL);
    EQ(fd_filestat_set_times(b, 5, 0, 1), SUCCESS);
    uint8_t st[64];
    EQ(fd_filestat_get(b, P(st)), SUCCESS);
    EQ(st[16], 4);
    EQ(rd64(st + 32), 100);
    EQ(rd64(st + 40), 5);
    EQ(fd_fdstat_set_flags(b, 0x40), INVAL);
    EQ(fd_fdstat_set_flags(b, 1), SUCCESS);
    EQ(fd_datasync(b), NOTCAPABLE); /* not asked for at open */
    EQ(fd_close(b), SUCCESS);
    EQ(fd_close(b), BADF);
}

static void test_rights(void)
{
    uint8_t fdstat[24];
    i32 fd;
    EQ(fd_fdstat_get(3, P(fdstat)), SUCCESS);
    EQ(fdstat[0], 3);
    uint64_t inh = rd64(fdstat + 16);
    EQ(path_open(3, 1, S("f1"), 0, 1ull << 29 /* sock_accept */, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(path_open(3, 1, S("f1"), 0x10, RIGHTS_RW, 0, 0, P(&fd)), INVAL);
    EQ(path_open(3, 4, S("f1"), 0, RIGHTS_RW, 0, 0, P(&fd)), INVAL);
    /* shrink a directory's rights: what it no longer holds cannot be asked for below it */
    i32 d = -1;
    EQ(path_create_directory(3, S("sub")), SUCCESS);
    EQ(path_open(3, 1, S("sub"), 2, rd64(fdstat + 8), inh, 0, P(&d)), SUCCESS);
    EQ(fd_fdstat_set_rights(d, rd64(fdstat + 8), 1 << 1), SUCCESS);
    EQ(fd_fdstat_set_rights(d, rd64(fdstat + 8), 1 << 6), NOTCAPABLE);
    EQ(path_open(d, 1, S("new"), 1, 1 << 6, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(fd_fdstat_set_rights(d, 0, 0), SUCCESS);
    EQ(path_open(d, 1, S("new"), 1, 0, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(fd_readdir(d, P(fdstat), 24, 0, P(&fd)), NOTCAPABLE);
    EQ(fd_close(d), SUCCESS);
    /* escapes */
    EQ(path_open(3, 1, S("../f1"), 0, RIGHTS_RW, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(path_open(3, 1, S("sub/../../f1"), 0, RIGHTS_RW, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(path_open(3, 1, S("/etc/passwd"), 0, RIGHTS_RW, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(path_create_directory(3, S("../x")), NOTCAPABLE);
    EQ(path_rename(3, S("f1"), 3, S("../f1")), NOTCAPABLE);
    EQ(path_symlink(S("../../etc"), 3, S("out")), SUCCESS);
    EQ(path_open(3, 1, S("out/passwd"), 0, RIGHTS_RW, 0, 0, P(&fd)), NOTCAPABLE);
    EQ(path_unlink_file(3, S("out")), SUCCESS);
    /* across preopens (two host directories) */
    EQ(path_rename(3, S("f1"), 4, S("f1")), XDEV);
    EQ(path_link(3, 0, S("f1"), 4, S("f1")), XDEV);
    EQ(path_filestat_get(3, 2, S("f1"), P(fdstat)), INVAL);
    EQ(path_filestat_get(3, 1, S("nope"), BAD), NOENT);
    EQ(path_filestat_set_times(3, 0, S("f1"), 0, 0, 12), INVAL);
    EQ(path_remove_directory(3, S("f1")), NOTDIR);
    EQ(path_remove_directory(3, S("sub")), SUCCESS);
}

static void test_readdir(void)
{
    uint8_t buf[512];
    i32 used = 0, d = -1;
    uint8_t fdstat[24];
    EQ(fd_fdstat_get(3, P(fdstat)), SUCCESS);
    EQ(path_open(3, 1, S("."), 2, rd64(fdstat + 8), rd64(fdstat + 16), 0, P(&d)), SUCCESS);
    EQ(fd_readdir(d, P(buf), 10, 0, P(&used)), SUCCESS);
    EQ(used, 10); /* a full buffer means "maybe more" */
    int names = 0;
    uint64_t cookie = 0;
    while (names < 10) { /* one entry per call: a 30-byte buffer holds one short name */
        EQ(fd_readdir(d, P(buf), 30, (i64)cookie, P(&used)), SUCCESS);
        if (used == 0)
            break;
        names++;
        cookie = rd64(buf);
    }
    EQ(names, 4); /* ".", "..", "f1", "f2" */
    EQ(fd_readdir(1, P(buf), 30, 0, P(&used)), NOTDIR);
    EQ(fd_close(d), SUCCESS);
}

static void test_clock_and_poll(void)
{
    uint64_t t0, t1, rt;
    EQ(clock_time_get(9, 0, P(&t0)), INVAL);
    EQ(clock_res_get(9, P(&t0)), INVAL);
    EQ(clock_time_get(1, 0, P(&t0)), SUCCESS);
    EQ(clock_time_get(0, 0, P(&rt)), SUCCESS);
    EQ(rt - t0, 946684800000000000ull); /* the virtual clock: fixed start, advanced by sleeps */
    uint8_t subs[3 * 48] = {0}, events[3 * 32];
    i32 n = -1;
    /* two monotonic timeouts (5 s and 3 s, relative) and one with a bad clock id */
    subs[0] = 1;
    subs[16] = 1;
    uint64_t five = 5000000000ull, three = 3000000000ull;
    memcpy(subs + 24, &five, 8);
    subs[48] = 2;
    subs[48 + 16] = 1;
    memcpy(subs + 48 + 24, &three, 8);
    EQ(poll_oneoff(P(subs), P(events), 2, P(&n)), SUCCESS);
    EQ(n, 1);
    EQ(events[0], 2);       /* the 3 s one */
    EQ(events[8], 0);       /* no error */
    EQ(events[10], 0);      /* clock event */
    EQ(clock_time_get(1, 0, P(&t1)), SUCCESS);
    EQ(t1 - t0, three);
    subs[96] = 3;
    subs[96 + 16] = 77;
    EQ(poll_oneoff(P(subs), P(events), 3, P(&n)), SUCCESS);
    EQ(n, 1);
    EQ(events[0], 3);
    EQ(events[8], INVAL);
    /* an fd subscription is ready at once; the events may overlap the subscriptions */
    i32 f = open_file(3, "f1", 0, RIGHTS_RW | (1 << 27));
    memset(subs, 0, sizeof subs);
    subs[0] = 7;
    subs[8] = 1; /* fd_read */
    memcpy(subs + 16, &f, 4);
    subs[48] = 8;
    subs[48 + 16] = 1;
    memcpy(subs + 48 + 24, &five, 8);
    EQ(poll_oneoff(P(subs), P(subs), 2, P(&n)), SUCCESS);
    EQ(n, 1);
    EQ(subs[0], 7);
    EQ(rd64(subs + 16), 100); /* bytes readable: f1 was allocated to 100 bytes */
    EQ(clock_time_get(1, 0, P(&t0)), SUCCESS);
    EQ(t0, t1); /* no time passed */
    subs[8] = 9;
    EQ(poll_oneoff(P(subs), P(events), 1, P(&n)), INVAL);
    EQ(poll_oneoff(P(subs), P(events), 0, P(&n)), INVAL);
    EQ(poll_oneoff(0, 0, 65537, P(&n)), INVAL);
    EQ(fd_close(f), SUCCESS);
}

static void test_misc(void)
{
    EQ(sock_accept(3, 0, P(&checks)), NOTSOCK);
    EQ(sock_recv(99, 0, 0, 0, 0, 0), BADF);
    EQ(sock_send(1, 0, 0, 0, 0), NOTSOCK);
    EQ(sock_shutdown(0, 0), NOTSOCK);
    EQ(proc_raise(6), NOSYS);
    EQ(sched_yield(), SUCCESS);
}

int main(void)
{
    test_preopens();
    test_bad_memory();
    test_fds();
    test_rights();
    test_readdir();
    test_clock_and_poll();
    test_misc();
    printf("wasi_direct: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
