/* Regular files: open flags, read/write/pread/pwrite, seek/tell, truncate, sync, advise, allocate,
 * fstat/stat, fcntl flags, and the errno of each failure. Covers fd_read, fd_write, fd_pread,
 * fd_pwrite, fd_seek, fd_tell, fd_close, fd_sync, fd_datasync, fd_advise, fd_allocate,
 * fd_filestat_get, fd_filestat_set_size, fd_fdstat_get, fd_fdstat_set_flags, path_open,
 * path_filestat_get. */
#include "common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static void show_stat(const char *name)
{
    struct stat st;
    if (T(stat(P(name), &st)) == 0)
        printf("  %s: %s size=%lld nlink=%lld\n", name, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : "other",
               (long long)st.st_size, (long long)st.st_nlink);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    base_dir = argv[1];
    char buf[256];
    int fd = TFD(open(P("a.txt"), O_CREAT | O_RDWR | O_TRUNC, 0644));
    T(write(fd, "hello world\n", 12));
    T(lseek(fd, 0, SEEK_CUR));
    T(lseek(fd, 6, SEEK_SET));
    T(read(fd, buf, 5));
    printf("  read: %.5s\n", buf);
    T(pwrite(fd, "HELLO", 5, 0));
    T(pread(fd, buf, 12, 0));
    printf("  pread: %.12s", buf);
    T(lseek(fd, -2, SEEK_END));
    T(lseek(fd, -100, SEEK_CUR));
    T(lseek(fd, 0, 42));
    struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cdef", 4}};
    T(lseek(fd, 0, SEEK_END));
    T(writev(fd, iov, 3));
    char r1[3], r2[5];
    struct iovec in[2] = {{r1, 3}, {r2, 5}};
    T(lseek(fd, 10, SEEK_SET));
    T(readv(fd, in, 2));
    printf("  readv: %.3s|%.5s\n", r1, r2);
    /* past the end: a hole reads as zeros */
    T(pwrite(fd, "Z", 1, 40));
    T(pread(fd, buf, 64, 17));
    int zeros = 0;
    for (int i = 0; i < 23; i++)
        zeros += buf[i] == 0;
    printf("  hole zeros=%d last=%c\n", zeros, buf[23]);
    T(ftruncate(fd, 8));
    T(ftruncate(fd, -1));
    T(fsync(fd));
    T(fdatasync(fd));
    printf("posix_fadvise = %d\n", posix_fadvise(fd, 0, 8, POSIX_FADV_SEQUENTIAL));
    printf("posix_fadvise bad = %s\n", errname(posix_fadvise(fd, 0, 8, 999)));
    printf("posix_fallocate = %d\n", posix_fallocate(fd, 0, 100));
    printf("posix_fallocate len0 = %s\n", errname(posix_fallocate(fd, 0, 0)));
    struct stat st;
    T(fstat(fd, &st));
    printf("  fstat size=%lld file=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    T(close(fd));
    T(close(fd));
    T(read(fd, buf, 1));
    show_stat("a.txt");

    /* O_APPEND, set with open and with fcntl */
    fd = TFD(open(P("log"), O_CREAT | O_WRONLY | O_APPEND, 0644));
    T(write(fd, "one\n", 4));
    T(lseek(fd, 0, SEEK_SET));
    T(write(fd, "two\n", 4));
    printf("  append flag=%d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    T(fcntl(fd, F_SETFL, 0));
    printf("  append flag=%d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    T(lseek(fd, 0, SEEK_SET));
    T(write(fd, "ONE\n", 4));
    T(read(fd, buf, 4));
    T(close(fd));
    fd = TFD(open(P("synced"), O_CREAT | O_WRONLY | O_SYNC | O_DSYNC, 0644));
    T(write(fd, "durable\n", 8));
    T(close(fd));
    fd = TFD(open(P("log"), O_RDONLY));
    T(write(fd, "x", 1));
    T(read(fd, buf, sizeof buf));
    T(ftruncate(fd, 0));
    T(close(fd));

    /* open's failures */
    TFD(open(P("missing"), O_RDONLY));
    TFD(open(P("missing/x"), O_RDONLY));
    TFD(open(P("log"), O_CREAT | O_EXCL | O_WRONLY, 0644));
    TFD(open(P("log/x"), O_RDONLY));
    TFD(open(P("log/"), O_RDONLY));
    TFD(open(P("log"), O_RDONLY | O_DIRECTORY));
    T(mkdir(P("d"), 0755));
    TFD(open(P("d"), O_WRONLY));
    TFD(open(P("d"), O_RDWR));
    TFD(open(P("newdir/"), O_CREAT | O_WRONLY, 0644));
    fd = TFD(open(P("d"), O_RDONLY | O_DIRECTORY));
    T(read(fd, buf, 1));
    T(close(fd));
    /* O_TRUNC */
    fd = TFD(open(P("log"), O_WRONLY | O_TRUNC));
    T(close(fd));
    show_stat("log");
    /* a name longer than NAME_MAX */
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    TFD(open(P(longname), O_CREAT | O_WRONLY, 0644));
    /* a big file, written in pieces and read back */
    fd = TFD(open(P("big"), O_CREAT | O_RDWR, 0644));
    static char chunk[65536];
    for (int i = 0; i < (int)sizeof chunk; i++)
        chunk[i] = (char)(i * 7);
    long total = 0;
    for (int i = 0; i < 20; i++)
        total += write(fd, chunk, sizeof chunk);
    printf("  big total=%ld\n", total);
    unsigned sum = 0;
    T(lseek(fd, 0, SEEK_SET));
    for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) > 0;)
        for (ssize_t i = 0; i < n; i++)
            sum = sum * 31 + (unsigned char)chunk[i];
    printf("  big sum=%u\n", sum);
    T(close(fd));
    return 0;
}
