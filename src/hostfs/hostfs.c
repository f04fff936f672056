/* hostfs.c - a host directory mapped into a guest, confined beneath it (see hostfs.h). */
#include "hostfs/hostfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PATH_CAP 4096

struct sb_hostfs {
    int root;
    int readonly;
    int no_openat2; /* set when the kernel lacks openat2, or forced for tests */
};

typedef struct hnode {
    int fd;
    DIR *dir; /* opened on first readdir */
} hnode;

static int start_fd(sb_hostfs *h, void *dir)
{
    return dir ? ((hnode *)dir)->fd : h->root;
}

/* Copies a guest path into a NUL-terminated buffer, refusing what cannot be confined. */
static int copy_path(const char *path, size_t len, char *buf)
{
    if (len == 0)
        return -ENOENT;
    if (len >= PATH_CAP)
        return -ENAMETOOLONG;
    if (memchr(path, '\0', len))
        return -EINVAL;
    if (path[0] == '/')
        return -SB_FS_ENOTCAPABLE;
    memcpy(buf, path, len);
    buf[len] = '\0';
    return 0;
}

static int is_dots(const char *c, size_t n)
{
    return (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.');
}

/* Without openat2: a component walk in user space, confined the way RESOLVE_BENEATH is. Every
 * lookup is one openat(O_PATH | O_NOFOLLOW) relative to a directory fd already known to be
 * beneath `start`; ".." pops a stack of those fds instead of looking ".." up (so a directory moved
 * away meanwhile cannot lead out); a symlink is read through the fd that found it and its text
 * spliced in front of the rest of the path: absolute text, or a ".." above `start`, is
 * SB_FS_ENOTCAPABLE; more than MAX_LINKS expansions is ELOOP, as in the kernel. */
#define MAX_LINKS 40
#define MAX_DEPTH 256

typedef struct walk {
    int fds[MAX_DEPTH]; /* fds[0..depth]: the directories entered, fds[0] = start */
    int depth, links;
    char rest[PATH_CAP]; /* what is left of the path */
} walk;

static void walk_end(walk *w)
{
    while (w->depth >= 0)
        close(w->fds[w->depth--]);
}

/* Replaces the rest of the path with `link` (the text of symlink fd `lfd`) + "/" + `after`. */
static int splice_link(walk *w, int lfd, const char *after, int trailing)
{
    char text[PATH_CAP];
    ssize_t n = readlinkat(lfd, "", text, sizeof text);
    if (n < 0)
        return -errno;
    if ((size_t)n >= sizeof text)
        return -ENAMETOOLONG;
    if (++w->links > MAX_LINKS)
        return -ELOOP;
    if (n == 0)
        return -ENOENT;
    if (text[0] == '/')
        return -SB_FS_ENOTCAPABLE;
    int len = snprintf(w->rest, sizeof w->rest, "%.*s%s%s", (int)n, text,
                       *after || trailing ? "/" : "", after);
    return len < 0 || (size_t)len >= sizeof w->rest ? -ENAMETOOLONG : 0;
}

/* One step of the walk on component c (NUL-terminated) followed by `after` (no leading '/').
 * Returns STEP_ON (consumed c), STEP_LINK (w->rest was rewritten), 0 when *fd holds the result,
 * or -errno. */
enum { STEP_ON = 1, STEP_LINK = 2 };

static int walk_step(walk *w, const char *c, const char *after, int trailing, int oflags, int *fd)
{
    int last = *after == '\0', lfd = -1;
    int excl = (oflags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL); /* never follows, as open(2) */
    int follow = !last || trailing || !(oflags & O_NOFOLLOW || excl);
    if (strcmp(c, "..") == 0) {
        if (w->depth == 0)
            return -SB_FS_ENOTCAPABLE;
        close(w->fds[w->depth--]);
        c = ".";
    }
    int cur = w->fds[w->depth];
    if (strcmp(c, ".") == 0 && !last)
        return STEP_ON;
    struct stat st;
    if (strcmp(c, ".") != 0 && (lfd = openat(cur, c, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 &&
        (errno != ENOENT || !last))
        return -errno;
    if (lfd >= 0 && fstat(lfd, &st) < 0) {
        int e = errno;
        return close(lfd), -e;
    }
    if (lfd >= 0 && S_ISLNK(st.st_mode) && follow) {
        char copy[PATH_CAP];
        snprintf(copy, sizeof copy, "%s", after); /* `after` lives in w->rest, rewritten now */
        int rc = splice_link(w, lfd, copy, trailing);
        close(lfd);
        return rc < 0 ? rc : STEP_LINK;
    }
    if (!last && !S_ISDIR(st.st_mode))
        return close(lfd), -ENOTDIR;
    if (!last && w->depth + 1 >= MAX_DEPTH)
        return close(lfd), -ENAMETOOLONG;
    if (!last) {
        w->fds[++w->depth] = lfd;
        return STEP_ON;
    }
    if (lfd >= 0)
        close(lfd);
    /* the last component is opened for real, still without following (it may have changed) */
    *fd = openat(cur, c, oflags | O_NOFOLLOW | O_CLOEXEC | (trailing ? O_DIRECTORY : 0), 0666);
    return *fd < 0 ? -errno : 0;
}

static int walk_resolve(int start, const char *path, int oflags, int *fd)
{
    walk w = {.depth = 0};
    if (strlen(path) >= sizeof w.rest)
        return -ENAMETOOLONG;
    strcpy(w.rest, path);
    if ((w.fds[0] = openat(start, ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -errno;
    int rc = STEP_ON;
    while (rc == STEP_ON || rc == STEP_LINK) {
        char c[PATH_CAP];
        const char *after;
        size_t n = strcspn(w.rest, "/");
        memcpy(c, w.rest, n);
        c[n] = '\0';
        for (after = w.rest + n; *after == '/'; after++)
            ;
        rc = walk_step(&w, n ? c : ".", after, *after == '\0' && w.rest[n] == '/', oflags, fd);
        if (rc == STEP_ON) /* drop the component just consumed */
            memmove(w.rest, after, strlen(after) + 1);
    }
    walk_end(&w);
    return rc;
}

/* Opens path beneath `start` with open(2) flags. */
static int resolve(sb_hostfs *h, int start, char *path, int oflags, int *fd)
{
    if (!h->no_openat2) {
        struct open_how how = {.flags = (uint64_t)oflags | O_CLOEXEC,
                               .mode = (oflags & O_CREAT) ? 0666 : 0,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        long r = syscall(SYS_openat2, start, path, &how, sizeof how);
        if (r >= 0) {
            *fd = (int)r;
            return 0;
        }
        if (errno != ENOSYS)
            return errno == EXDEV ? -SB_FS_ENOTCAPABLE : -errno;
        h->no_openat2 = 1;
    }
    return walk_resolve(start, path, oflags, fd);
}

static uint64_t ns(struct timespec t)
{
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint8_t type_of(mode_t m)
{
    return S_ISDIR(m) ? SB_FS_DIR : S_ISREG(m) ? SB_FS_REG : S_ISLNK(m) ? SB_FS_SYMLINK
         : S_ISCHR(m) ? SB_FS_CHARDEV : S_ISBLK(m) ? 1 : S_ISSOCK(m) ? 6 : SB_FS_UNKNOWN;
}

static int host_stat(void *fs, void *node, sb_fs_stat *out)
{
    (void)fs;
    struct stat st;
    if (fstat(((hnode *)node)->fd, &st) < 0)
        return -errno;
    *out = (sb_fs_stat){st.st_dev, st.st_ino, st.st_nlink, (uint64_t)st.st_size,
                        ns(st.st_atim), ns(st.st_mtim), ns(st.st_ctim), type_of(st.st_mode)};
    return 0;
}

static int open_flags(uint32_t f)
{
    int o = (f & SB_FS_CREAT ? O_CREAT : 0) | (f & SB_FS_EXCL ? O_EXCL : 0) |
            (f & SB_FS_TRUNC ? O_TRUNC : 0) | (f & SB_FS_DIRECTORY ? O_DIRECTORY : 0) |
            (f & SB_FS_NOFOLLOW ? O_NOFOLLOW : 0);
    if ((f & SB_FS_READ) && (f & SB_FS_WRITE))
        return o | O_RDWR;
    if (f & SB_FS_WRITE)
        return o | O_WRONLY;
    if ((f & SB_FS_READ) || (o & (O_CREAT | O_TRUNC)))
        return o | O_RDONLY;
    return (o & (O_DIRECTORY | O_NOFOLLOW)) | O_PATH;
}

static int host_open(void *fs, void *dir, const char *path, size_t len, uint32_t flags,
                     void **out, sb_fs_stat *st)
{
    sb_hostfs *h = fs;
    char buf[PATH_CAP];
    int rc = copy_path(path, len, buf), fd = -1;
    if (rc)
        return rc;
    if (h->readonly && (flags & (SB_FS_WRITE | SB_FS_TRUNC)))
        return -EROFS;
    /* O_NONBLOCK: opening a FIFO in the mapped directory must not hang the runner. */
    int o = open_flags(flags), nb = (o & O_PATH) ? 0 : O_NONBLOCK;
    if (h->readonly && (o & O_CREAT)) { /* creating is a change; opening what exists is not */
        rc = resolve(h, start_fd(h, dir), buf, (o & ~(O_CREAT | O_EXCL)) | nb, &fd);
        if (rc == 0 && (o & O_EXCL))
            rc = -EEXIST;
        else if (rc == -ENOENT)
            rc = -EROFS;
    } else {
        rc = resolve(h, start_fd(h, dir), buf, o | nb, &fd);
    }
    if (rc == 0 && nb)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    hnode *n = rc == 0 ? calloc(1, sizeof *n) : NULL;
    if (rc == 0 && !n)
        rc = -ENOMEM;
    if (rc) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    n->fd = fd;
    *out = n;
    return host_stat(fs, n, st);
}

static void host_close(void *fs, void *node)
{
    (void)fs;
    hnode *n = node;
    if (n->dir)
        closedir(n->dir);
    close(n->fd);
    free(n);
}

static int host_read(void *fs, void *node, void *buf, size_t len, uint64_t off, size_t *got)
{
    (void)fs;
    *got = 0;
    if (off > INT64_MAX)
        return -EINVAL;
    ssize_t r = pread(((hnode *)node)->fd, buf, len, (off_t)off);
    if (r < 0)
        return -errno;
    *got = (size_t)r;
    return 0;
}

static int host_write(void *fs, void *node, const void *buf, size_t len, uint64_t off,
                      size_t *put)
{
    sb_hostfs *h = fs;
    hnode *n = node;
    *put = 0;
    if (h->readonly)
        return -EROFS;
    if (off == SB_FS_APPEND) {
        struct stat st;
        if (fstat(n->fd, &st) < 0)
            return -errno;
        off = (uint64_t)st.st_size;
    }
    if (off > INT64_MAX)
        return -EFBIG;
    ssize_t r = pwrite(n->fd, buf, len, (off_t)off);
    if (r < 0)
        return -errno;
    *put = (size_t)r;
    return 0;
}

static int host_truncate(void *fs, void *node, uint64_t size)
{
    if (((sb_hostfs *)fs)->readonly)
        return -EROFS;
    if (size > INT64_MAX)
        return -EFBIG;
    return ftruncate(((hnode *)node)->fd, (off_t)size) < 0 ? -errno : 0;
}

static struct timespec when(uint64_t t, uint32_t flags, uint32_t set, uint32_t now)
{
    if (flags & now)
        return (struct timespec){0, UTIME_NOW};
    if (flags & set)
        return (struct timespec){(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    return (struct timespec){0, UTIME_OMIT};
}

static int host_set_times(void *fs, void *node, uint64_t atim, uint64_t mtim, uint32_t flags)
{
    if (((sb_hostfs *)fs)->readonly)
        return -EROFS;
    int fd = ((hnode *)node)->fd;
    struct timespec ts[2] = {when(atim, flags, SB_FS_ATIM, SB_FS_ATIM_NOW),
                             when(mtim, flags, SB_FS_MTIM, SB_FS_MTIM_NOW)};
    if (futimens(fd, ts) == 0)
        return 0;
    if (errno != EBADF)
        return -errno;
    char proc[64]; /* an O_PATH handle: go through its /proc link (the node itself, no lookup) */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return utimensat(AT_FDCWD, proc, ts, 0) < 0 ? -errno : 0;
}

static int host_sync(void *fs, void *node)
{
    (void)fs;
    return fsync(((hnode *)node)->fd) < 0 ? -errno : 0;
}

static int host_readdir(void *fs, void *node, uint64_t cookie, sb_fs_dirent *e, char *name,
                        size_t cap)
{
    (void)fs;
    hnode *n = node;
    if (!n->dir) {
        int fd = dup(n->fd);
        if (fd < 0 || !(n->dir = fdopendir(fd))) {
            int err = errno;
            if (fd >= 0)
                close(fd);
            return -err;
        }
    }
    if (cookie == 0)
        rewinddir(n->dir);
    else
        seekdir(n->dir, (long)cookie);
    errno = 0;
    struct dirent *d = readdir(n->dir);
    if (!d)
        return errno ? -errno : 1;
    e->next = (uint64_t)telldir(n->dir);
    e->ino = d->d_ino;
    e->namelen = strlen(d->d_name);
    memcpy(name, d->d_name, e->namelen < cap ? e->namelen : cap);
    struct stat st;
    if (d->d_type != DT_UNKNOWN)
        e->type = type_of(DTTOIF(d->d_type));
    else
        e->type = fstatat(dirfd(n->dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                      ? type_of(st.st_mode) : SB_FS_UNKNOWN;
    return 0;
}

/* Splits `buf` into its parent (opened O_PATH beneath `start`) and last component, which keeps any
 * trailing slashes so the kernel applies its own rules to them. */
static int parent_of(sb_hostfs *h, void *dir, const char *path, size_t len, char *buf, int *pfd,
                     const char **last)
{
    int rc = copy_path(path, len, buf);
    if (rc)
        return rc;
    size_t e = len, s;
    while (e > 0 && buf[e - 1] == '/')
        e--;
    for (s = e; s > 0 && buf[s - 1] != '/'; s--)
        ;
    *last = buf + s;
    if (is_dots(*last, e - s)) { /* "x/..": the entry is the directory itself; it must be inside */
        char whole[PATH_CAP];
        int fd;
        memcpy(whole, buf, len + 1);
        if ((rc = resolve(h, start_fd(h, dir), whole, O_PATH | O_DIRECTORY, &fd)))
            return rc;
        close(fd);
    }
    if (s == 0)
        return resolve(h, start_fd(h, dir), (char[]){"."}, O_PATH | O_DIRECTORY, pfd);
    buf[s - 1] = '\0';
    char parent[PATH_CAP];
    memcpy(parent, buf, s);
    return resolve(h, start_fd(h, dir), parent, O_PATH | O_DIRECTORY, pfd);
}

/* Runs one *at() call on (parent fd, last component): the shape of mkdir, rmdir and unlink. */
static int at_op(void *fs, void *dir, const char *path, size_t len, int which)
{
    sb_hostfs *h = fs;
    char buf[PATH_CAP];
    const char *last = NULL;
    int pfd, rc;
    if (h->readonly)
        return -EROFS;
    if ((rc = parent_of(h, dir, path, len, buf, &pfd, &last)))
        return rc;
    rc = which == 0 ? mkdirat(pfd, last, 0777) : unlinkat(pfd, last, which == 1 ? AT_REMOVEDIR : 0);
    rc = rc < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

static int host_mkdir(void *fs, void *dir, const char *path, size_t len)
{
    return at_op(fs, dir, path, len, 0);
}

static int host_rmdir(void *fs, void *dir, const char *path, size_t len)
{
    return at_op(fs, dir, path, len, 1);
}

static int host_unlink(void *fs, void *dir, const char *path, size_t len)
{
    return at_op(fs, dir, path, len, 2);
}

static int host_rename(void *fs, void *d1, const char *p1, size_t l1, void *d2, const char *p2,
                       size_t l2)
{
    sb_hostfs *h = fs;
    char b1[PATH_CAP], b2[PATH_CAP];
    const char *n1 = NULL, *n2 = NULL;
    int f1 = -1, f2 = -1;
    if (h->readonly)
        return -EROFS;
    int rc = parent_of(h, d1, p1, l1, b1, &f1, &n1);
    if (rc == 0)
        rc = parent_of(h, d2, p2, l2, b2, &f2, &n2);
    if (rc == 0 && renameat(f1, n1, f2, n2) < 0)
        rc = -errno;
    if (f1 >= 0)
        close(f1);
    if (f2 >= 0)
        close(f2);
    return rc;
}

static int host_link(void *fs, void *d1, const char *p1, size_t l1, int follow, void *d2,
                     const char *p2, size_t l2)
{
    sb_hostfs *h = fs;
    char b1[PATH_CAP], b2[PATH_CAP], proc[64];
    const char *n1 = NULL, *n2 = NULL;
    int f1 = -1, f2 = -1;
    if (h->readonly)
        return -EROFS;
    /* Following: resolve the source confined, then link the resolved node via its /proc link. */
    int rc = follow ? copy_path(p1, l1, b1) : parent_of(h, d1, p1, l1, b1, &f1, &n1);
    if (rc == 0 && follow)
        rc = resolve(h, start_fd(h, d1), b1, O_PATH, &f1);
    if (rc == 0)
        rc = parent_of(h, d2, p2, l2, b2, &f2, &n2);
    if (rc == 0 && follow) {
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", f1);
        rc = linkat(AT_FDCWD, proc, f2, n2, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
    } else if (rc == 0) {
        rc = linkat(f1, n1, f2, n2, 0) < 0 ? -errno : 0;
    }
    if (f1 >= 0)
        close(f1);
    if (f2 >= 0)
        close(f2);
    return rc;
}

/* The target is stored as text; it can only ever be followed through the confined resolution. */
static int host_symlink(void *fs, const char *target, size_t tlen, void *dir, const char *path,
                        size_t len)
{
    sb_hostfs *h = fs;
    char t[PATH_CAP], buf[PATH_CAP];
    const char *last = NULL;
    int pfd, rc;
    if (h->readonly)
        return -EROFS;
    if (tlen >= PATH_CAP)
        return -ENAMETOOLONG;
    if (memchr(target, '\0', tlen))
        return -EINVAL;
    memcpy(t, target, tlen);
    t[tlen] = '\0';
    if ((rc = parent_of(h, dir, path, len, buf, &pfd, &last)))
        return rc;
    rc = symlinkat(t, pfd, last) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

static int host_readlink(void *fs, void *dir, const char *path, size_t len, char *out, size_t cap,
                         size_t *n)
{
    char buf[PATH_CAP];
    const char *last = NULL;
    int pfd;
    *n = 0;
    int rc = parent_of(fs, dir, path, len, buf, &pfd, &last);
    if (rc)
        return rc;
    ssize_t r = readlinkat(pfd, last, out, cap);
    rc = r < 0 ? -errno : 0;
    if (r >= 0)
        *n = (size_t)r;
    close(pfd);
    return rc;
}

const sb_fs_ops sb_hostfs_ops = {
    host_open,     host_close,  host_read,   host_write,  host_stat,   host_truncate,
    host_set_times, host_sync,  host_readdir, host_mkdir, host_rmdir,  host_unlink,
    host_rename,   host_link,   host_symlink, host_readlink,
};

sb_hostfs *sb_hostfs_new(const char *dir, unsigned flags, sb_err *err)
{
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        sb_err_set(err, errno, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    sb_hostfs *h = calloc(1, sizeof *h);
    if (!h) {
        close(fd);
        sb_err_set(err, ENOMEM, "%s: out of memory", dir);
        return NULL;
    }
    h->root = fd;
    h->readonly = !!(flags & SB_HOSTFS_READONLY);
    h->no_openat2 = !!(flags & SB_HOSTFS_NO_OPENAT2);
    return h;
}

void sb_hostfs_free(sb_hostfs *h)
{
    if (h) {
        close(h->root);
        free(h);
    }
}
