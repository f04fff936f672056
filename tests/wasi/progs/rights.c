/* Runs over the in-memory VFS as a principal with: /in read, /out read+write, /wo write only,
 * nothing on /secret or /in2. Prints one line per attempt (test_wasi.c compares them). */
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void result(const char *label, int rc)
{
    printf("%s: %s\n", label, rc < 0 ? errname(errno) : "OK");
}

static int try_open(const char *label, const char *path, int flags)
{
    int fd = open(path, flags, 0644);
    result(label, fd);
    return fd;
}

static void list(const char *path)
{
    DIR *d = opendir(path);
    printf("ls %s:", path);
    for (struct dirent *e; d && (e = readdir(d));)
        printf(" %s", e->d_name);
    printf(d ? "\n" : " %s\n", errname(errno));
    if (d)
        closedir(d);
}

int main(void)
{
    char buf[64];
    struct stat st;
    int fd = try_open("read /in/data", "/in/data", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    printf("  content: %.*s\n", (int)(n > 0 ? n : 0), buf);
    close(fd);
    try_open("write-open /in/data", "/in/data", O_WRONLY);
    try_open("create /in/new", "/in/new", O_CREAT | O_WRONLY);
    try_open("truncate /in/data", "/in/data", O_RDONLY | O_TRUNC);
    result("unlink /in/data", unlink("/in/data"));
    result("rename /in/data -> /out/x", rename("/in/data", "/out/x"));
    result("mkdir /in/d", mkdir("/in/d", 0755));
    result("utimens /in/data", utimensat(AT_FDCWD, "/in/data", NULL, 0));
    try_open("read /secret/k", "/secret/k", O_RDONLY);
    try_open("read /secret/none", "/secret/none", O_RDONLY);
    result("stat /secret", stat("/secret", &st));
    try_open("read /in2/x", "/in2/x", O_RDONLY);
    list("/");
    list("/in");
    list("/secret");
    fd = try_open("create /out/r", "/out/r", O_CREAT | O_WRONLY);
    result("write /out/r", (int)write(fd, "result", 6));
    close(fd);
    result("rename /out/r -> /out/r2", rename("/out/r", "/out/r2"));
    result("rename /out/r2 -> /in/r2", rename("/out/r2", "/in/r2"));
    try_open("read /wo/f", "/wo/f", O_RDONLY);
    fd = try_open("write /wo/f", "/wo/f", O_WRONLY | O_APPEND);
    result("append /wo/f", (int)write(fd, "+more", 5));
    close(fd);
    result("rename /wo/f -> /out/f", rename("/wo/f", "/out/f"));
    /* a directory fd opened read-only cannot be used to write below it, or to climb out */
    int d = try_open("open dir /in", "/in", O_RDONLY | O_DIRECTORY);
    result("openat(/in, data, O_WRONLY)", openat(d, "data", O_WRONLY));
    result("openat(/in, ../out/y, O_CREAT)", openat(d, "../out/y", O_CREAT | O_WRONLY, 0644));
    close(d);
    /* the VFS has no links (one path per node keeps rights from widening): as a filesystem
     * without them, symlink(2) and link(2) say EPERM, readlink(2) EINVAL, NOFOLLOW changes nothing */
    result("symlink r2 /out/ln", symlink("r2", "/out/ln"));
    result("symlink /in/data /out/ln", symlink("/in/data", "/out/ln"));
    result("link /out/r2 /out/hl", link("/out/r2", "/out/hl"));
    result("readlink /out/r2", (int)readlink("/out/r2", buf, sizeof buf));
    result("readlink /out/none", (int)readlink("/out/none", buf, sizeof buf));
    close(try_open("open /out/r2 O_NOFOLLOW", "/out/r2", O_RDONLY | O_NOFOLLOW));
    /* limits: the harness allows 64 bytes of content and 8 files in all */
    fd = try_open("create /out/big", "/out/big", O_CREAT | O_WRONLY);
    char big[100] = {0};
    result("write 100 bytes", (int)write(fd, big, sizeof big));
    close(fd);
    for (int i = 0; i < 4; i++) {
        char p[32];
        snprintf(p, sizeof p, "/out/n%d", i);
        close(try_open(p, p, O_CREAT | O_WRONLY));
    }
    result("mkdir /out/deep/x", mkdir("/out/deep", 0755));
    return 0;
}
