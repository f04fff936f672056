/* Symlinks, hard links and timestamps: symlink, readlink, link, lstat vs stat, utimensat and
 * futimens. Covers path_symlink, path_readlink, path_link, path_filestat_get (both lookup flags),
 * path_filestat_set_times, fd_filestat_set_times. */
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *name, int follow)
{
    struct stat st;
    int rc = follow ? stat(P(name), &st) : lstat(P(name), &st);
    if (rc < 0) {
        printf("%s(%s) = -1 %s\n", follow ? "stat" : "lstat", name, errname(errno));
        return;
    }
    printf("%s(%s): %s size=%lld nlink=%lld\n", follow ? "stat" : "lstat", name,
           S_ISLNK(st.st_mode) ? "link" : S_ISDIR(st.st_mode) ? "dir" : "file",
           (long long)st.st_size, (long long)st.st_nlink);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    base_dir = argv[1];
    char buf[64];
    int fd = TFD(open(P("target"), O_CREAT | O_WRONLY, 0644));
    T(write(fd, "content", 7));
    T(close(fd));
    T(mkdir(P("sub"), 0755));
    T(symlink("target", P("ln")));
    T(symlink("../target", P("sub/up")));
    T(symlink("dangling-target", P("dangling")));
    T(symlink("target", P("ln")));
    long n = T(readlink(P("ln"), buf, sizeof buf));
    printf("  readlink: %.*s\n", (int)(n > 0 ? n : 0), buf);
    n = T(readlink(P("sub/up"), buf, 4));
    printf("  readlink short: %.*s\n", (int)(n > 0 ? n : 0), buf);
    T(readlink(P("target"), buf, sizeof buf));
    T(readlink(P("missing"), buf, sizeof buf));
    show("ln", 1);
    show("ln", 0);
    show("sub/up", 1);
    show("dangling", 1);
    show("dangling", 0);
    fd = TFD(open(P("sub/up"), O_RDONLY));
    T(read(fd, buf, sizeof buf));
    T(close(fd));
    TFD(open(P("ln"), O_RDONLY | O_NOFOLLOW));
    TFD(open(P("dangling"), O_RDONLY));
    /* creating through a dangling symlink creates its target */
    fd = TFD(open(P("dangling"), O_CREAT | O_WRONLY, 0644));
    T(close(fd));
    show("dangling-target", 1);
    /* hard links */
    T(link(P("target"), P("hard")));
    T(link(P("target"), P("hard")));
    T(link(P("missing"), P("hard2")));
    show("target", 1);
    T(unlink(P("target")));
    show("hard", 1);
    T(unlink(P("ln")));
    show("hard", 1);
    /* timestamps */
    struct timespec ts[2] = {{1000000000, 5}, {1200000000, 0}};
    T(utimensat(AT_FDCWD, P("hard"), ts, 0));
    struct stat st;
    T(stat(P("hard"), &st));
    printf("  atime=%lld mtime=%lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1300000000, 0}};
    fd = TFD(open(P("hard"), O_RDWR));
    T(futimens(fd, omit));
    T(fstat(fd, &st));
    printf("  atime=%lld mtime=%lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
    T(close(fd));
    struct timespec bad[2] = {{0, 2000000000}, {0, 0}};
    T(utimensat(AT_FDCWD, P("hard"), bad, 0));
    T(utimensat(AT_FDCWD, P("missing"), ts, 0));
    return 0;
}
