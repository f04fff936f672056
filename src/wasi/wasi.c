/* wasi.c - wasi_snapshot_preview1 (see wasi.h and docs/wasi.md). */
#include "wasi/wasi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* WASI errno values. */
enum {
    E_2BIG = 1, E_ACCES = 2, E_AGAIN = 6, E_BADF = 8, E_BUSY = 10, E_DQUOT = 19, E_EXIST = 20,
    E_FAULT = 21, E_FBIG = 22, E_ILSEQ = 25, E_INTR = 27, E_INVAL = 28, E_IO = 29, E_ISDIR = 31,
    E_LOOP = 32, E_MFILE = 33, E_MLINK = 34, E_NAMETOOLONG = 37, E_NFILE = 41, E_NODEV = 43,
    E_NOENT = 44, E_NOMEM = 48, E_NOSPC = 51, E_NOSYS = 52, E_NOTDIR = 54, E_NOTEMPTY = 55,
    E_NOTSOCK = 57, E_NOTSUP = 58, E_NOTTY = 59, E_NXIO = 60, E_OVERFLOW = 61, E_PERM = 63,
    E_PIPE = 64, E_RANGE = 68, E_ROFS = 69, E_SPIPE = 70, E_STALE = 72, E_TXTBSY = 74,
    E_XDEV = 75, E_NOTCAPABLE = 76,
};

/* Rights bits. */
#define R(n) (1ull << (n))
enum {
    FD_DATASYNC = 0, FD_READ, FD_SEEK, FD_FDSTAT_SET_FLAGS, FD_SYNC, FD_TELL, FD_WRITE, FD_ADVISE,
    FD_ALLOCATE, PATH_CREATE_DIRECTORY, PATH_CREATE_FILE, PATH_LINK_SOURCE, PATH_LINK_TARGET,
    PATH_OPEN, FD_READDIR, PATH_READLINK, PATH_RENAME_SOURCE, PATH_RENAME_TARGET,
    PATH_FILESTAT_GET, PATH_FILESTAT_SET_SIZE, PATH_FILESTAT_SET_TIMES, FD_FILESTAT_GET,
    FD_FILESTAT_SET_SIZE, FD_FILESTAT_SET_TIMES, PATH_SYMLINK, PATH_REMOVE_DIRECTORY,
    PATH_UNLINK_FILE, POLL_FD_READWRITE, SOCK_SHUTDOWN, SOCK_ACCEPT,
};
#define RIGHTS_ALL (R(30) - 1)
#define RIGHTS_WRITE (R(FD_DATASYNC) | R(FD_WRITE) | R(FD_ALLOCATE) | R(FD_FILESTAT_SET_SIZE))
#define RIGHTS_READ (R(FD_READ) | R(FD_READDIR))
#define RIGHTS_FILE                                                                                \
    (RIGHTS_WRITE | R(FD_READ) | R(FD_SEEK) | R(FD_FDSTAT_SET_FLAGS) | R(FD_SYNC) | R(FD_TELL) |   \
     R(FD_ADVISE) | R(FD_FILESTAT_GET) | R(FD_FILESTAT_SET_TIMES) | R(POLL_FD_READWRITE))
/* Directories: the path rights (bits 9..26) without FD_FILESTAT_SET_SIZE, and a few fd rights. */
#define RIGHTS_DIR                                                                                 \
    (R(FD_FDSTAT_SET_FLAGS) | R(FD_SYNC) | R(FD_ADVISE) | R(POLL_FD_READWRITE) |                   \
     ((R(PATH_UNLINK_FILE + 1) - R(PATH_CREATE_DIRECTORY)) & ~R(FD_FILESTAT_SET_SIZE)))
#define RIGHTS_STDIN (R(FD_READ) | R(FD_FDSTAT_SET_FLAGS) | R(FD_FILESTAT_GET) | R(POLL_FD_READWRITE))
#define RIGHTS_STDOUT (R(FD_WRITE) | R(FD_FDSTAT_SET_FLAGS) | R(FD_FILESTAT_GET) | R(POLL_FD_READWRITE))

#define MAX_IOVS 1024
#define MAX_SUBSCRIPTIONS 65536 /* poll_oneoff copies them: bound the host memory it takes */
#define BACKEND 3 /* fdent.stream of an fd on a filesystem backend */

typedef struct fdent {
    uint8_t used, type, stream; /* 0 stdin, 1 stdout, 2 stderr, BACKEND */
    uint16_t flags;
    uint64_t base, inh, pos;
    const sb_fs_ops *ops;
    void *fs, *node;
    char *preopen; /* guest path of a preopened directory */
} fdent;

typedef struct call {
    sb_wasi *w;
    wasm_memory *mem;
    wasm_instance *inst;
} call;

typedef int (*wimpl)(call *c, const wasm_val *a);
typedef struct wfn {
    const char *name;
    const char *params; /* 'i' = i32, 'I' = i64; every function returns an i32 errno but one */
    wimpl fn;
} wfn;

typedef struct binding {
    sb_wasi *w;
    const wfn *f;
} binding;

#define NFUNCS 46

struct sb_wasi {
    char *args, *env; /* NUL-separated strings */
    size_t args_len, env_len, argc, envc;
    fdent *fds;
    uint32_t max_fds;
    int clock;
    uint64_t vtime; /* virtual nanoseconds slept when the clock is off */
    sb_wasi_out_fn out;
    void *out_ctx;
    sb_wasi_in_fn in;
    void *in_ctx;
    size_t max_output;
    uint8_t *cap[3];
    size_t sent[3], capsz[3];
    int trunc[3];
    binding binds[NFUNCS];
};

/* ---------------------------------------------------------------- helpers */

uint16_t sb_wasi_errno(int rc)
{
    static const struct { int px; uint16_t w; } map[] = {
        {E2BIG, E_2BIG}, {EACCES, E_ACCES}, {EAGAIN, E_AGAIN}, {EBADF, E_BADF}, {EBUSY, E_BUSY},
        {EDQUOT, E_DQUOT}, {EEXIST, E_EXIST}, {EFAULT, E_FAULT}, {EFBIG, E_FBIG},
        {EILSEQ, E_ILSEQ}, {EINTR, E_INTR}, {EINVAL, E_INVAL}, {EIO, E_IO}, {EISDIR, E_ISDIR},
        {ELOOP, E_LOOP}, {EMFILE, E_MFILE}, {EMLINK, E_MLINK}, {ENAMETOOLONG, E_NAMETOOLONG},
        {ENFILE, E_NFILE}, {ENODEV, E_NODEV}, {ENOENT, E_NOENT}, {ENOMEM, E_NOMEM},
        {ENOSPC, E_NOSPC}, {ENOSYS, E_NOSYS}, {ENOTDIR, E_NOTDIR}, {ENOTEMPTY, E_NOTEMPTY},
        {ENOTSOCK, E_NOTSOCK}, {EOPNOTSUPP, E_NOTSUP}, {ENOTTY, E_NOTTY}, {ENXIO, E_NXIO},
        {EOVERFLOW, E_OVERFLOW}, {EPERM, E_PERM}, {EPIPE, E_PIPE}, {ERANGE, E_RANGE},
        {EROFS, E_ROFS}, {ESPIPE, E_SPIPE}, {ESTALE, E_STALE}, {ETXTBSY, E_TXTBSY},
        {EXDEV, E_XDEV}, {SB_FS_ENOTCAPABLE, E_NOTCAPABLE},
    };
    if (rc == 0)
        return 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].px == -rc)
            return map[i].w;
    return E_IO; /* an unexpected host error: report it as an I/O error */
}

static uint8_t *gmem(call *c, uint64_t off, uint64_t len)
{
    return c->mem ? wasm_memory_range(c->mem, off, len) : NULL;
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

#define A32(i) (a[i].of.i32)
#define A64(i) (a[i].of.i64)

/* The open fd `fd` holding every right in `need`: EBADF, or ENOTCAPABLE. */
static int getfd(call *c, uint32_t fd, uint64_t need, fdent **out)
{
    if (fd >= c->w->max_fds || !c->w->fds[fd].used)
        return E_BADF;
    *out = &c->w->fds[fd];
    return (c->w->fds[fd].base & need) == need ? 0 : E_NOTCAPABLE;
}

/* A directory fd with `need` rights, in the order POSIX would complain: EBADF, ENOTDIR, rights. */
static int getdir(call *c, uint32_t fd, uint64_t need, fdent **out)
{
    int rc = getfd(c, fd, 0, out);
    if (rc == 0 && (*out)->type != SB_FS_DIR)
        rc = E_NOTDIR;
    if (rc == 0 && ((*out)->base & need) != need)
        rc = E_NOTCAPABLE;
    return rc;
}

static int gpath(call *c, uint32_t ptr, uint32_t len, const char **p)
{
    *p = (const char *)gmem(c, ptr, len);
    return *p ? 0 : E_FAULT;
}

static uint64_t now_ns(sb_wasi *w, uint32_t id)
{
    static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                    CLOCK_THREAD_CPUTIME_ID};
    struct timespec ts;
    if (!w->clock)
        return id == 0 ? SB_WASI_FIXED_TIME + w->vtime : w->vtime;
    clock_gettime(ids[id], &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int alloc_fd(sb_wasi *w, uint32_t *fd)
{
    for (uint32_t i = 0; i < w->max_fds; i++)
        if (!w->fds[i].used) {
            *fd = i;
            return 0;
        }
    return E_MFILE;
}

static void close_fd(fdent *e)
{
    if (e->ops)
        e->ops->close(e->fs, e->node);
    free(e->preopen);
    memset(e, 0, sizeof *e);
}

/* ---------------------------------------------------------------- args, environ */

static int sizes(call *c, uint32_t pcount, uint32_t psize, size_t count, size_t size)
{
    uint8_t *n = gmem(c, pcount, 4), *s = gmem(c, psize, 4);
    if (!n || !s)
        return E_FAULT;
    put32(n, (uint32_t)count);
    put32(s, (uint32_t)size);
    return 0;
}

static int strings(call *c, uint32_t pptrs, uint32_t pbuf, const char *blob, size_t count,
                   size_t size)
{
    uint8_t *ptrs = gmem(c, pptrs, (uint64_t)count * 4), *buf = gmem(c, pbuf, size);
    if (!ptrs || !buf)
        return E_FAULT;
    for (size_t i = 0, off = 0; i < count; i++) {
        put32(ptrs + 4 * i, pbuf + (uint32_t)off);
        off += strlen(blob + off) + 1;
    }
    memmove(buf, blob, size);
    return 0;
}

static int args_sizes_get(call *c, const wasm_val *a)
{
    return sizes(c, A32(0), A32(1), c->w->argc, c->w->args_len);
}

static int args_get(call *c, const wasm_val *a)
{
    return strings(c, A32(0), A32(1), c->w->args, c->w->argc, c->w->args_len);
}

static int environ_sizes_get(call *c, const wasm_val *a)
{
    return sizes(c, A32(0), A32(1), c->w->envc, c->w->env_len);
}

static int environ_get(call *c, const wasm_val *a)
{
    return strings(c, A32(0), A32(1), c->w->env, c->w->envc, c->w->env_len);
}

/* ---------------------------------------------------------------- clocks, random, proc */

static int clock_res_get(call *c, const wasm_val *a)
{
    uint8_t *out = gmem(c, A32(1), 8);
    if (A32(0) > 3)
        return E_INVAL;
    if (!out)
        return E_FAULT;
    put64(out, 1000); /* 1 us: what the fixed clock pretends and an honest bound for the real */
    return 0;
}

static int clock_time_get(call *c, const wasm_val *a)
{
    uint8_t *out = gmem(c, A32(2), 8);
    if (A32(0) > 3)
        return E_INVAL;
    if (!out)
        return E_FAULT;
    put64(out, now_ns(c->w, A32(0)));
    return 0;
}

static int random_get(call *c, const wasm_val *a)
{
    uint8_t *buf = gmem(c, A32(0), A32(1));
    if (!buf)
        return E_FAULT;
    for (size_t done = 0; done < A32(1);) {
        ssize_t r = getrandom(buf + done, A32(1) - done, 0);
        if (r < 0 && errno != EINTR)
            return E_IO;
        done += r > 0 ? (size_t)r : 0;
    }
    return 0;
}

static int proc_exit(call *c, const wasm_val *a)
{
    return -wasm_host_exit(c->inst, (int32_t)A32(0));
}

static int proc_raise(call *c, const wasm_val *a)
{
    (void)c, (void)a;
    return E_NOSYS; /* signals do not exist in the sandbox */
}

static int sched_yield(call *c, const wasm_val *a)
{
    (void)c, (void)a;
    return 0;
}

/* ---------------------------------------------------------------- reading and writing */

typedef struct iov {
    uint8_t *p;
    uint32_t len;
} iov;

/* Reads the whole iovec array first, so buffers that overlap it cannot change it mid-call. */
static int load_iovs(call *c, uint32_t ptr, uint32_t n, iov *v)
{
    if (n > MAX_IOVS)
        return E_INVAL;
    uint8_t *arr = gmem(c, ptr, (uint64_t)n * 8);
    if (!arr)
        return E_FAULT;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        v[i].len = get32(arr + 8 * i + 4);
        if (!(v[i].p = gmem(c, get32(arr + 8 * i), v[i].len)))
            return E_FAULT;
        total += v[i].len;
    }
    return total > UINT32_MAX ? E_INVAL : 0;
}

static int out_write(sb_wasi *w, int stream, const void *p, size_t len, size_t *put)
{
    size_t room = w->max_output - w->sent[stream];
    *put = len < room ? len : room;
    if (*put < len)
        w->trunc[stream] = 1;
    if (*put == 0)
        return len ? -ENOSPC : 0;
    if (w->out) {
        int rc = w->out(w->out_ctx, stream, p, *put);
        if (rc)
            return *put = 0, rc;
    } else {
        if (w->sent[stream] + *put > w->capsz[stream]) { /* grow by doubling, up to the cap */
            size_t sz = w->capsz[stream] ? w->capsz[stream] * 2 : 4096;
            sz = sz < w->sent[stream] + *put ? w->sent[stream] + *put : sz;
            sz = sz > w->max_output ? w->max_output : sz;
            uint8_t *b = realloc(w->cap[stream], sz);
            if (!b)
                return *put = 0, -ENOMEM;
            w->cap[stream] = b;
            w->capsz[stream] = sz;
        }
        memcpy(w->cap[stream] + w->sent[stream], p, *put);
    }
    w->sent[stream] += *put;
    return 0;
}

/* One transfer; off is the file offset or SB_FS_APPEND. */
static int xfer(sb_wasi *w, fdent *e, int write, iov *v, uint64_t off, size_t *n)
{
    if (e->stream == 0 && !write)
        return w->in ? w->in(w->in_ctx, v->p, v->len, n) : (*n = 0, 0);
    if (e->stream == 1 || e->stream == 2)
        return out_write(w, e->stream, v->p, v->len, n);
    return write ? e->ops->write(e->fs, e->node, v->p, v->len, off, n)
                 : e->ops->read(e->fs, e->node, v->p, v->len, off, n);
}

/* fd_read/fd_write/fd_pread/fd_pwrite. at: explicit offset, or UINT64_MAX for the fd position. */
static int rw(call *c, const wasm_val *a, int write, uint64_t at, uint32_t pdone)
{
    fdent *e;
    iov v[MAX_IOVS];
    int rc = getfd(c, A32(0), 0, &e);
    uint8_t *done = gmem(c, pdone, 4);
    if (rc)
        return rc;
    if (e->type == SB_FS_DIR)
        return E_ISDIR;
    if (!(e->base & R(write ? FD_WRITE : FD_READ)))
        return E_BADF; /* as read(2)/write(2) on an fd not open for it */
    if (at != UINT64_MAX && !(e->base & R(FD_SEEK)))
        return e->stream != BACKEND ? E_SPIPE : E_NOTCAPABLE;
    if ((rc = load_iovs(c, A32(1), A32(2), v)))
        return rc;
    if (!done)
        return E_FAULT;
    int append = write && at == UINT64_MAX && (e->flags & 1) && e->stream == BACKEND;
    uint64_t off = at == UINT64_MAX ? e->pos : at, total = 0;
    for (uint32_t i = 0; i < A32(2) && rc == 0; i++) {
        size_t n = 0;
        rc = xfer(c->w, e, write, &v[i], append ? SB_FS_APPEND : off + total, &n);
        total += n;
        if (n < v[i].len)
            break;
    }
    if (total > 0)
        rc = 0; /* a partial transfer succeeds, as in POSIX */
    if (rc)
        return sb_wasi_errno(rc);
    if (write && e->stream == BACKEND && (e->flags & 0x12)) /* DSYNC or SYNC: durable now */
        e->ops->sync(e->fs, e->node);
    if (append) {
        sb_fs_stat st;
        if (e->ops->stat(e->fs, e->node, &st) == 0)
            e->pos = st.size;
    } else if (at == UINT64_MAX && e->stream == BACKEND) {
        e->pos += total;
    }
    put32(done, (uint32_t)total);
    return 0;
}

static int fd_read(call *c, const wasm_val *a)
{
    return rw(c, a, 0, UINT64_MAX, A32(3));
}

static int fd_write(call *c, const wasm_val *a)
{
    return rw(c, a, 1, UINT64_MAX, A32(3));
}

static int fd_pread(call *c, const wasm_val *a)
{
    return A64(3) > INT64_MAX ? E_INVAL : rw(c, a, 0, A64(3), A32(4));
}

static int fd_pwrite(call *c, const wasm_val *a)
{
    return A64(3) > INT64_MAX ? E_INVAL : rw(c, a, 1, A64(3), A32(4));
}

static int fd_seek(call *c, const wasm_val *a)
{
    fdent *e;
    int64_t off = (int64_t)A64(1);
    uint32_t whence = A32(2);
    int tell = off == 0 && whence == 1;
    int rc = getfd(c, A32(0), 0, &e);
    uint8_t *out = gmem(c, A32(3), 8);
    if (rc)
        return rc;
    if (e->stream != BACKEND)
        return E_SPIPE;
    if (!(e->base & (tell ? R(FD_SEEK) | R(FD_TELL) : R(FD_SEEK))))
        return E_NOTCAPABLE;
    if (whence > 2)
        return E_INVAL;
    if (!out)
        return E_FAULT;
    sb_fs_stat st = {0};
    if (whence == 2 && (rc = e->ops->stat(e->fs, e->node, &st)))
        return sb_wasi_errno(rc);
    int64_t base = whence == 0 ? 0 : whence == 1 ? (int64_t)e->pos : (int64_t)st.size, pos;
    if (__builtin_add_overflow(base, off, &pos) || pos < 0)
        return E_INVAL;
    e->pos = (uint64_t)pos;
    put64(out, e->pos);
    return 0;
}

static int fd_tell(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    uint8_t *out = gmem(c, A32(1), 8);
    if (rc)
        return rc;
    if (e->stream != BACKEND)
        return E_SPIPE;
    if (!(e->base & R(FD_TELL)))
        return E_NOTCAPABLE;
    if (!out)
        return E_FAULT;
    put64(out, e->pos);
    return 0;
}

/* ---------------------------------------------------------------- fd metadata */

static int fd_close(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    if (rc == 0)
        close_fd(e);
    return rc;
}

static int fd_renumber(call *c, const wasm_val *a)
{
    fdent *from, *to;
    int rc = getfd(c, A32(0), 0, &from);
    if (rc == 0)
        rc = getfd(c, A32(1), 0, &to);
    if (rc || from == to)
        return rc;
    close_fd(to);
    *to = *from;
    memset(from, 0, sizeof *from);
    return 0;
}

static int sync_fd(call *c, const wasm_val *a, int right)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    if (rc)
        return rc;
    if (e->stream != BACKEND)
        return E_INVAL; /* fsync(2) on a terminal or pipe */
    if (!(e->base & R(right)))
        return E_NOTCAPABLE;
    return sb_wasi_errno(e->ops->sync(e->fs, e->node));
}

static int fd_sync(call *c, const wasm_val *a)
{
    return sync_fd(c, a, FD_SYNC);
}

static int fd_datasync(call *c, const wasm_val *a)
{
    return sync_fd(c, a, FD_DATASYNC);
}

static int fd_advise(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), R(FD_ADVISE), &e);
    if (rc)
        return rc;
    if (e->stream != BACKEND)
        return E_SPIPE;
    if (A32(3) > 5 || A64(1) > INT64_MAX || A64(2) > INT64_MAX - A64(1))
        return E_INVAL;
    return 0; /* advice only: nothing to do in memory, and harmless to ignore on the host */
}

static int fd_allocate(call *c, const wasm_val *a)
{
    fdent *e;
    sb_fs_stat st;
    int rc = getfd(c, A32(0), R(FD_ALLOCATE), &e);
    if (rc)
        return rc;
    if (e->stream != BACKEND)
        return E_SPIPE;
    if (A64(2) == 0 || A64(1) > INT64_MAX)
        return E_INVAL;
    if (A64(2) > INT64_MAX - A64(1))
        return E_FBIG;
    if (e->type != SB_FS_REG)
        return E_NODEV;
    if ((rc = e->ops->stat(e->fs, e->node, &st)) == 0 && A64(1) + A64(2) > st.size)
        rc = e->ops->truncate(e->fs, e->node, A64(1) + A64(2));
    return sb_wasi_errno(rc);
}

static int fd_fdstat_get(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    uint8_t *out = gmem(c, A32(1), 24);
    if (rc)
        return rc;
    if (!out)
        return E_FAULT;
    memset(out, 0, 24);
    out[0] = e->type;
    put16(out + 2, e->flags);
    put64(out + 8, e->base);
    put64(out + 16, e->inh);
    return 0;
}

static int fd_fdstat_set_flags(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), R(FD_FDSTAT_SET_FLAGS), &e);
    if (rc)
        return rc;
    if (A32(1) > 0x1f)
        return E_INVAL;
    e->flags = (uint16_t)A32(1);
    return 0;
}

/* Rights only ever shrink. */
static int fd_fdstat_set_rights(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    if (rc)
        return rc;
    if ((A64(1) & ~e->base) || (A64(2) & ~e->inh))
        return E_NOTCAPABLE;
    e->base = A64(1);
    e->inh = A64(2);
    return 0;
}

static void put_filestat(uint8_t *out, const sb_fs_stat *st)
{
    memset(out, 0, 64);
    put64(out, st->dev);
    put64(out + 8, st->ino);
    out[16] = st->type;
    put64(out + 24, st->nlink);
    put64(out + 32, st->size);
    put64(out + 40, st->atim);
    put64(out + 48, st->mtim);
    put64(out + 56, st->ctim);
}

static int fd_filestat_get(call *c, const wasm_val *a)
{
    fdent *e;
    sb_fs_stat st = {.type = SB_FS_CHARDEV};
    int rc = getfd(c, A32(0), R(FD_FILESTAT_GET), &e);
    uint8_t *out = gmem(c, A32(1), 64);
    if (rc)
        return rc;
    if (!out)
        return E_FAULT;
    if (e->stream == BACKEND && (rc = e->ops->stat(e->fs, e->node, &st)))
        return sb_wasi_errno(rc);
    put_filestat(out, &st);
    return 0;
}

static int fd_filestat_set_size(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    if (rc)
        return rc;
    /* ftruncate(2) says EINVAL for an fd not open for writing, a directory or a bad size */
    if (!(e->base & R(FD_FILESTAT_SET_SIZE)) || e->stream != BACKEND || A64(1) > INT64_MAX)
        return E_INVAL;
    return sb_wasi_errno(e->ops->truncate(e->fs, e->node, A64(1)));
}

/* Validates fstflags and turns *_NOW into explicit times from our own clock, so that "now" is
 * the same (virtual or real) time for every backend. */
static int times(call *c, uint64_t *atim, uint64_t *mtim, uint32_t *flags)
{
    uint32_t f = *flags;
    if (f > 0xf || (f & 3) == 3 || (f & 12) == 12)
        return E_INVAL;
    uint64_t t = now_ns(c->w, 0);
    if (f & SB_FS_ATIM_NOW)
        *atim = t, f = (f & ~SB_FS_ATIM_NOW) | SB_FS_ATIM;
    if (f & SB_FS_MTIM_NOW)
        *mtim = t, f = (f & ~SB_FS_MTIM_NOW) | SB_FS_MTIM;
    *flags = f;
    return 0;
}

static int fd_filestat_set_times(call *c, const wasm_val *a)
{
    fdent *e;
    uint64_t at = A64(1), mt = A64(2);
    uint32_t f = A32(3);
    int rc = getfd(c, A32(0), R(FD_FILESTAT_SET_TIMES), &e);
    if (rc == 0)
        rc = times(c, &at, &mt, &f);
    if (rc)
        return rc;
    if (e->stream != BACKEND)
        return E_INVAL;
    return sb_wasi_errno(e->ops->set_times(e->fs, e->node, at, mt, f));
}

static int fd_prestat_get(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    uint8_t *out = gmem(c, A32(1), 8);
    if (rc || !e->preopen)
        return E_BADF;
    if (!out)
        return E_FAULT;
    memset(out, 0, 8);
    put32(out + 4, (uint32_t)strlen(e->preopen));
    return 0;
}

static int fd_prestat_dir_name(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    uint8_t *out = gmem(c, A32(1), A32(2));
    if (rc || !e->preopen)
        return E_BADF;
    if (!out)
        return E_FAULT;
    size_t n = strlen(e->preopen);
    if (A32(2) < n)
        return E_NAMETOOLONG;
    memcpy(out, e->preopen, n);
    return 0;
}

/* Fills the buffer with whole or (the last one) truncated entries; bufused < len means "done". */
static int fd_readdir(call *c, const wasm_val *a)
{
    fdent *e;
    int rc = getfd(c, A32(0), 0, &e);
    uint32_t len = A32(2);
    uint8_t *buf = gmem(c, A32(1), len), *used = gmem(c, A32(4), 4);
    if (rc)
        return rc;
    if (e->type != SB_FS_DIR)
        return E_NOTDIR;
    if (!(e->base & R(FD_READDIR)))
        return E_NOTCAPABLE;
    if (!buf || !used)
        return E_FAULT;
    uint64_t cookie = A64(3);
    uint32_t pos = 0;
    char name[256];
    while (pos < len) {
        sb_fs_dirent d;
        uint8_t hdr[24] = {0};
        rc = e->ops->readdir(e->fs, e->node, cookie, &d, name, sizeof name);
        if (rc)
            break;
        size_t nl = d.namelen < sizeof name ? d.namelen : sizeof name;
        put64(hdr, d.next);
        put64(hdr + 8, d.ino);
        put32(hdr + 16, (uint32_t)d.namelen);
        hdr[20] = d.type;
        uint32_t k = len - pos < 24 ? len - pos : 24;
        memcpy(buf + pos, hdr, k);
        pos += k;
        k = len - pos < nl ? len - pos : (uint32_t)nl;
        memcpy(buf + pos, name, k);
        pos += k;
        cookie = d.next;
    }
    if (rc < 0 && pos == 0)
        return sb_wasi_errno(rc);
    put32(used, pos);
    return 0;
}

/* ---------------------------------------------------------------- paths */

static int path_open(call *c, const wasm_val *a)
{
    fdent *d;
    uint32_t oflags = A32(4), fdflags = A32(7), nfd;
    uint64_t base = A64(5), inh = A64(6);
    const char *p;
    uint64_t need = R(PATH_OPEN) | (oflags & 1 ? R(PATH_CREATE_FILE) : 0) |
                    (oflags & 8 ? R(PATH_FILESTAT_SET_SIZE) : 0);
    int rc = getdir(c, A32(0), need, &d);
    uint8_t *out = gmem(c, A32(8), 4);
    if (rc == 0 && (A32(1) > 1 || oflags > 0xf || fdflags > 0x1f))
        rc = E_INVAL;
    if (rc == 0 && ((base | inh) & ~d->inh))
        rc = E_NOTCAPABLE; /* rights never widen through path_open */
    if (rc == 0 && !(rc = gpath(c, A32(2), A32(3), &p)) && !out)
        rc = E_FAULT;
    if (rc == 0)
        rc = alloc_fd(c->w, &nfd);
    if (rc)
        return rc;
    uint32_t want = (base & RIGHTS_READ ? SB_FS_READ : 0) |
                    ((base & RIGHTS_WRITE) || (fdflags & 1) ? SB_FS_WRITE : 0);
    uint32_t flags = (want ? want : SB_FS_PATH) | (A32(1) & 1 ? 0 : SB_FS_NOFOLLOW) |
                     (oflags & 1 ? SB_FS_CREAT : 0) | (oflags & 2 ? SB_FS_DIRECTORY : 0) |
                     (oflags & 4 ? SB_FS_EXCL : 0) | (oflags & 8 ? SB_FS_TRUNC : 0);
    void *node;
    sb_fs_stat st;
    if ((rc = d->ops->open(d->fs, d->node, p, A32(3), flags, &node, &st)))
        return sb_wasi_errno(rc);
    if (st.type == SB_FS_SYMLINK) { /* a path-only open without SYMLINK_FOLLOW found the link */
        d->ops->close(d->fs, node);
        return E_LOOP; /* as open(2) with O_NOFOLLOW, and wasmtime */
    }
    fdent *e = &c->w->fds[nfd];
    *e = (fdent){.used = 1, .type = st.type, .stream = BACKEND, .flags = (uint16_t)fdflags,
                 .inh = inh, .ops = d->ops, .fs = d->fs, .node = node};
    e->base = base & (st.type == SB_FS_DIR ? RIGHTS_DIR : RIGHTS_FILE);
    if (!(want & SB_FS_READ))
        e->base &= ~RIGHTS_READ;
    if (!(want & SB_FS_WRITE))
        e->base &= ~RIGHTS_WRITE;
    put32(out, nfd);
    return 0;
}

/* The shape of mkdir/rmdir/unlink: (fd, path, len) with one right. */
static int path_simple(call *c, const wasm_val *a, int right, int which)
{
    fdent *d;
    const char *p;
    int rc = getdir(c, A32(0), R(right), &d);
    if (rc == 0)
        rc = gpath(c, A32(1), A32(2), &p);
    if (rc)
        return rc;
    int (*op)(void *, void *, const char *, size_t) =
        which == 0 ? d->ops->mkdir : which == 1 ? d->ops->rmdir : d->ops->unlink;
    return sb_wasi_errno(op(d->fs, d->node, p, A32(2)));
}

static int path_create_directory(call *c, const wasm_val *a)
{
    return path_simple(c, a, PATH_CREATE_DIRECTORY, 0);
}

static int path_remove_directory(call *c, const wasm_val *a)
{
    return path_simple(c, a, PATH_REMOVE_DIRECTORY, 1);
}

static int path_unlink_file(call *c, const wasm_val *a)
{
    return path_simple(c, a, PATH_UNLINK_FILE, 2);
}

/* Opens (fd, lookupflags, path) as a path handle for stat / set_times. */
static int path_handle(call *c, const wasm_val *a, int right, fdent **d, void **node,
                       sb_fs_stat *st)
{
    const char *p;
    int rc = getdir(c, A32(0), R(right), d);
    if (rc == 0 && A32(1) > 1)
        rc = E_INVAL;
    if (rc == 0)
        rc = gpath(c, A32(2), A32(3), &p);
    if (rc == 0)
        rc = sb_wasi_errno((*d)->ops->open((*d)->fs, (*d)->node, p, A32(3),
                                           SB_FS_PATH | (A32(1) & 1 ? 0 : SB_FS_NOFOLLOW), node,
                                           st));
    return rc;
}

static int path_filestat_get(call *c, const wasm_val *a)
{
    fdent *d;
    void *node;
    sb_fs_stat st;
    uint8_t *out = gmem(c, A32(4), 64);
    int rc = path_handle(c, a, PATH_FILESTAT_GET, &d, &node, &st);
    if (rc)
        return rc;
    d->ops->close(d->fs, node);
    if (!out)
        return E_FAULT;
    put_filestat(out, &st);
    return 0;
}

static int path_filestat_set_times(call *c, const wasm_val *a)
{
    fdent *d;
    void *node;
    sb_fs_stat st;
    uint64_t at = A64(4), mt = A64(5);
    uint32_t f = A32(6);
    int rc = times(c, &at, &mt, &f);
    if (rc == 0)
        rc = path_handle(c, a, PATH_FILESTAT_SET_TIMES, &d, &node, &st);
    if (rc)
        return rc;
    rc = d->ops->set_times(d->fs, node, at, mt, f);
    d->ops->close(d->fs, node);
    return sb_wasi_errno(rc);
}

/* Two directory fds for rename/link: on the same backend, or EXDEV. */
static int two_dirs(call *c, uint32_t fd1, int r1, uint32_t fd2, int r2, fdent **d1, fdent **d2)
{
    int rc = getdir(c, fd1, R(r1), d1);
    if (rc == 0)
        rc = getdir(c, fd2, R(r2), d2);
    if (rc == 0 && ((*d1)->fs != (*d2)->fs || (*d1)->ops != (*d2)->ops))
        rc = E_XDEV;
    return rc;
}

static int path_rename(call *c, const wasm_val *a)
{
    fdent *d1, *d2;
    const char *p1, *p2;
    int rc = two_dirs(c, A32(0), PATH_RENAME_SOURCE, A32(3), PATH_RENAME_TARGET, &d1, &d2);
    if (rc == 0)
        rc = gpath(c, A32(1), A32(2), &p1);
    if (rc == 0)
        rc = gpath(c, A32(4), A32(5), &p2);
    if (rc)
        return rc;
    return sb_wasi_errno(d1->ops->rename(d1->fs, d1->node, p1, A32(2), d2->node, p2, A32(5)));
}

static int path_link(call *c, const wasm_val *a)
{
    fdent *d1, *d2;
    const char *p1, *p2;
    int rc = two_dirs(c, A32(0), PATH_LINK_SOURCE, A32(4), PATH_LINK_TARGET, &d1, &d2);
    if (rc == 0 && A32(1) > 1)
        rc = E_INVAL;
    if (rc == 0)
        rc = gpath(c, A32(2), A32(3), &p1);
    if (rc == 0)
        rc = gpath(c, A32(5), A32(6), &p2);
    if (rc)
        return rc;
    return sb_wasi_errno(
        d1->ops->link(d1->fs, d1->node, p1, A32(3), A32(1) & 1, d2->node, p2, A32(6)));
}

static int path_symlink(call *c, const wasm_val *a)
{
    fdent *d;
    const char *target, *p;
    int rc = getdir(c, A32(2), R(PATH_SYMLINK), &d);
    if (rc == 0)
        rc = gpath(c, A32(0), A32(1), &target);
    if (rc == 0)
        rc = gpath(c, A32(3), A32(4), &p);
    if (rc)
        return rc;
    if (A32(1) > 0 && target[0] == '/')
        return E_PERM; /* an absolute target could only ever lead out: refused, as wasmtime does */
    return sb_wasi_errno(d->ops->symlink(d->fs, target, A32(1), d->node, p, A32(4)));
}

static int path_readlink(call *c, const wasm_val *a)
{
    fdent *d;
    const char *p;
    size_t n;
    int rc = getdir(c, A32(0), R(PATH_READLINK), &d);
    uint8_t *buf = gmem(c, A32(3), A32(4)), *used = gmem(c, A32(5), 4);
    if (rc == 0)
        rc = gpath(c, A32(1), A32(2), &p);
    if (rc)
        return rc;
    if (!buf || !used)
        return E_FAULT;
    if ((rc = d->ops->readlink(d->fs, d->node, p, A32(2), (char *)buf, A32(4), &n)))
        return sb_wasi_errno(rc);
    put32(used, (uint32_t)n);
    return 0;
}

/* ---------------------------------------------------------------- poll_oneoff */

static void emit(uint8_t *out, uint32_t *count, const uint8_t *sub, uint16_t err, uint64_t nbytes)
{
    uint8_t *ev = out + 32 * (*count)++;
    memset(ev, 0, 32);
    memcpy(ev, sub, 8); /* userdata */
    put16(ev + 8, err);
    ev[10] = sub[8];
    put64(ev + 16, nbytes);
}

/* Bytes readable now on a file (0 for stdio and directories, which are always ready). */
static uint64_t readable(fdent *e)
{
    sb_fs_stat st;
    if (e->stream != BACKEND || e->ops->stat(e->fs, e->node, &st) || st.size <= e->pos)
        return 0;
    return st.size - e->pos;
}

/* Nanoseconds until the earliest clock subscription is due (their timeouts were made absolute). */
static uint64_t next_due(call *c, const uint8_t *subs, uint32_t n)
{
    uint64_t wait = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + 48 * i;
        uint64_t now = now_ns(c->w, get32(s + 16)), due = get64(s + 24);
        uint64_t left = due > now ? due - now : 0;
        wait = left < wait ? left : wait;
    }
    return wait;
}

/* Subscriptions (48 bytes each) are copied first: the event array may overlap them. Ready fds and
 * bad clock ids are reported at once; otherwise the earliest clock fires, after a real sleep
 * (clock on) or a virtual one that only advances the virtual time (clock off). */
static int poll_oneoff(call *c, const wasm_val *a)
{
    uint32_t n = A32(2), count = 0, nclocks = 0;
    if (n == 0 || n > MAX_SUBSCRIPTIONS)
        return E_INVAL;
    uint8_t *in = gmem(c, A32(0), (uint64_t)n * 48), *out = gmem(c, A32(1), (uint64_t)n * 32);
    uint8_t *nev = gmem(c, A32(3), 4);
    if (!in || !out || !nev)
        return E_FAULT;
    uint8_t *subs = malloc((size_t)n * 48), *clocks = malloc((size_t)n * 48);
    if (!subs || !clocks) {
        free(subs);
        free(clocks);
        return E_NOMEM;
    }
    memcpy(subs, in, (size_t)n * 48);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        uint8_t *s = subs + 48 * i;
        fdent *e;
        if (s[8] > 2) {
            rc = E_INVAL;
        } else if (s[8] == 0 && get32(s + 16) > 3) {
            emit(out, &count, s, E_INVAL, 0);
        } else if (s[8] == 0) { /* keep it, with an absolute due time */
            uint64_t t = get64(s + 24), now = now_ns(c->w, get32(s + 16));
            if (!(s[40] & 1))
                put64(s + 24, t > UINT64_MAX - now ? UINT64_MAX : now + t);
            memcpy(clocks + 48 * nclocks++, s, 48);
        } else {
            uint16_t err = (uint16_t)getfd(c, get32(s + 16), R(POLL_FD_READWRITE), &e);
            emit(out, &count, s, err, !err && s[8] == 1 ? readable(e) : 0);
        }
    }
    while (rc == 0 && count == 0 && nclocks > 0) {
        uint64_t wait = next_due(c, clocks, nclocks);
        if (wait && c->w->clock) {
            struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        } else if (wait) {
            c->w->vtime += wait;
        }
        for (uint32_t i = 0; i < nclocks; i++)
            if (now_ns(c->w, get32(clocks + 48 * i + 16)) >= get64(clocks + 48 * i + 24))
                emit(out, &count, clocks + 48 * i, 0, 0);
    }
    free(subs);
    free(clocks);
    if (rc == 0)
        put32(nev, count);
    return rc;
}

/* ---------------------------------------------------------------- sockets */

/* No fd in the sandbox is a socket: a valid fd gives ENOTSOCK, an invalid one EBADF. */
static int no_socket(call *c, const wasm_val *a)
{
    fdent *e;
    return getfd(c, A32(0), 0, &e) ? E_BADF : E_NOTSOCK;
}

/* ---------------------------------------------------------------- table and glue */

static const wfn funcs[NFUNCS] = {
    {"args_get", "ii", args_get},
    {"args_sizes_get", "ii", args_sizes_get},
    {"environ_get", "ii", environ_get},
    {"environ_sizes_get", "ii", environ_sizes_get},
    {"clock_res_get", "ii", clock_res_get},
    {"clock_time_get", "iIi", clock_time_get},
    {"fd_advise", "iIIi", fd_advise},
    {"fd_allocate", "iII", fd_allocate},
    {"fd_close", "i", fd_close},
    {"fd_datasync", "i", fd_datasync},
    {"fd_fdstat_get", "ii", fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", fd_filestat_get},
    {"fd_filestat_set_size", "iI", fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", fd_filestat_set_times},
    {"fd_pread", "iiiIi", fd_pread},
    {"fd_prestat_get", "ii", fd_prestat_get},
    {"fd_prestat_dir_name", "iii", fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", fd_pwrite},
    {"fd_read", "iiii", fd_read},
    {"fd_readdir", "iiiIi", fd_readdir},
    {"fd_renumber", "ii", fd_renumber},
    {"fd_seek", "iIii", fd_seek},
    {"fd_sync", "i", fd_sync},
    {"fd_tell", "ii", fd_tell},
    {"fd_write", "iiii", fd_write},
    {"path_create_directory", "iii", path_create_directory},
    {"path_filestat_get", "iiiii", path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", path_filestat_set_times},
    {"path_link", "iiiiiii", path_link},
    {"path_open", "iiiiiIIii", path_open},
    {"path_readlink", "iiiiii", path_readlink},
    {"path_remove_directory", "iii", path_remove_directory},
    {"path_rename", "iiiiii", path_rename},
    {"path_symlink", "iiiii", path_symlink},
    {"path_unlink_file", "iii", path_unlink_file},
    {"poll_oneoff", "iiii", poll_oneoff},
    {"proc_exit", "i", proc_exit}, /* the one without a result */
    {"proc_raise", "i", proc_raise},
    {"sched_yield", "", sched_yield},
    {"random_get", "ii", random_get},
    {"sock_accept", "iii", no_socket},
    {"sock_recv", "iiiiii", no_socket},
    {"sock_send", "iiiii", no_socket},
    {"sock_shutdown", "ii", no_socket},
};

static int trampoline(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    binding *b = user;
    call c = {b->w, caller ? wasm_instance_memory(caller) : NULL, caller};
    int rc = b->f->fn(&c, args);
    if (rc < 0)
        return -rc; /* proc_exit: the engine's exit trap */
    results[0].type = WASM_I32;
    results[0].of.i32 = (uint32_t)rc;
    return 0;
}

int sb_wasi_define(sb_wasi *w, wasm_store *s, sb_err *err)
{
    static const wasm_valtype i32 = WASM_I32;
    for (int i = 0; i < NFUNCS; i++) {
        wasm_valtype params[10];
        size_t np = strlen(funcs[i].params);
        for (size_t k = 0; k < np; k++)
            params[k] = funcs[i].params[k] == 'I' ? WASM_I64 : WASM_I32;
        int noresult = funcs[i].fn == proc_exit;
        wasm_functype t = {(uint32_t)np, noresult ? 0 : 1, params, &i32};
        wasm_error e;
        w->binds[i] = (binding){w, &funcs[i]};
        wasm_func *f = wasm_func_new_host(s, &t, trampoline, &w->binds[i], &e);
        if (!f || wasm_store_define(s, "wasi_snapshot_preview1", funcs[i].name,
                                    (wasm_extern){.kind = WASM_EXTERN_FUNC, .of.func = f}, &e))
            return sb_err_set(err, ENOMEM, "wasi: defining %s: %s", funcs[i].name, e.msg);
    }
    return 0;
}

/* Joins n strings into one NUL-separated blob. */
static char *join(const char *const *v, size_t n, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(v[i]) + 1;
    char *b = malloc(total ? total : 1), *p = b;
    for (size_t i = 0; b && i < n; i++)
        p = stpcpy(p, v[i]) + 1;
    *len = total;
    return b;
}

static int by_guest_path(const void *x, const void *y)
{
    return strcmp(((const sb_wasi_preopen *)x)->guest_path, ((const sb_wasi_preopen *)y)->guest_path);
}

static int add_preopens(sb_wasi *w, const sb_wasi_config *cfg, sb_err *err)
{
    sb_wasi_preopen *sorted = malloc((cfg->npreopens + 1) * sizeof *sorted);
    if (!sorted)
        return sb_err_set(err, ENOMEM, "wasi: out of memory");
    if (cfg->npreopens) {
        memcpy(sorted, cfg->preopens, cfg->npreopens * sizeof *sorted);
        qsort(sorted, cfg->npreopens, sizeof *sorted, by_guest_path);
    }
    int rc = 0;
    for (size_t i = 0; i < cfg->npreopens && rc == 0; i++) {
        const sb_wasi_preopen *p = &sorted[i];
        fdent *e = &w->fds[3 + i];
        sb_fs_stat st;
        int r = p->ops->open(p->fs, p->dir, ".", 1, SB_FS_READ | SB_FS_DIRECTORY, &e->node, &st);
        if (r)
            rc = sb_err_set(err, -r, "wasi: preopen %s: cannot open (WASI errno %u)",
                            p->guest_path, sb_wasi_errno(r));
        else if (!(e->preopen = strdup(p->guest_path)))
            p->ops->close(p->fs, e->node), rc = sb_err_set(err, ENOMEM, "wasi: out of memory");
        else
            *e = (fdent){1, SB_FS_DIR, BACKEND, 0, RIGHTS_DIR, RIGHTS_ALL & ~R(SOCK_ACCEPT) &
                         ~R(SOCK_SHUTDOWN), 0, p->ops, p->fs, e->node, e->preopen};
    }
    free(sorted);
    return rc;
}

sb_wasi *sb_wasi_new(const sb_wasi_config *cfg, sb_err *err)
{
    sb_wasi *w = calloc(1, sizeof *w);
    if (!w) {
        sb_err_set(err, ENOMEM, "wasi: out of memory");
        return NULL;
    }
    w->max_fds = cfg->max_fds ? (cfg->max_fds > 3 ? cfg->max_fds : 3) : 1024; /* stdio at least */
    w->max_output = cfg->max_output ? cfg->max_output : 16u << 20;
    w->clock = cfg->clock;
    w->out = cfg->out;
    w->out_ctx = cfg->out_ctx;
    w->in = cfg->in;
    w->in_ctx = cfg->in_ctx;
    w->argc = cfg->argc;
    w->envc = cfg->envc;
    w->args = join(cfg->argv, cfg->argc, &w->args_len);
    w->env = join(cfg->envp, cfg->envc, &w->env_len);
    if (cfg->npreopens > w->max_fds - 3) {
        sb_err_set(err, EMFILE, "wasi: %zu preopens exceed the fd limit", cfg->npreopens);
    } else if (!w->args || !w->env || !(w->fds = calloc(w->max_fds, sizeof *w->fds))) {
        sb_err_set(err, ENOMEM, "wasi: out of memory");
    } else {
        w->fds[0] = (fdent){1, SB_FS_CHARDEV, 0, 0, RIGHTS_STDIN, 0, 0, 0, 0, 0, 0};
        w->fds[1] = (fdent){1, SB_FS_CHARDEV, 1, 0, RIGHTS_STDOUT, 0, 0, 0, 0, 0, 0};
        w->fds[2] = (fdent){1, SB_FS_CHARDEV, 2, 0, RIGHTS_STDOUT, 0, 0, 0, 0, 0, 0};
        if (add_preopens(w, cfg, err) == 0)
            return w;
    }
    sb_wasi_free(w);
    return NULL;
}

void sb_wasi_free(sb_wasi *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; w->fds && i < w->max_fds; i++)
        if (w->fds[i].used)
            close_fd(&w->fds[i]);
    free(w->fds);
    free(w->args);
    free(w->env);
    for (int i = 0; i < 3; i++)
        free(w->cap[i]);
    free(w);
}

const uint8_t *sb_wasi_output(const sb_wasi *w, int stream, size_t *len, int *truncated)
{
    if (stream != 1 && stream != 2) {
        *len = 0;
        *truncated = 0;
        return NULL;
    }
    *len = w->out ? 0 : w->sent[stream];
    *truncated = w->trunc[stream];
    return w->cap[stream];
}

static int start(sb_wasi *w, wasm_store *s, const wasm_module *m, const wasm_config *cfg,
                 sb_wasi_result *res)
{
    wasm_error e;
    wasm_instance *inst;
    sb_err err;
    if (sb_wasi_define(w, s, &err)) {
        snprintf(res->msg, sizeof res->msg, "%s", err.msg);
        return -1;
    }
    if (wasm_instantiate(s, m, NULL, 0, cfg, &inst, &e)) {
        res->status = e.kind == WASM_ERR_TRAP    ? SB_WASI_TRAPPED
                      : e.kind == WASM_ERR_LIMIT ? SB_WASI_LIMIT
                                                 : SB_WASI_BAD_MODULE;
        res->trap = e.trap;
        if (cfg && cfg->fuel != WASM_FUEL_UNLIMITED && e.trap.kind == WASM_TRAP_OUT_OF_FUEL)
            res->fuel_used = cfg->fuel; /* the start function used it all */
        snprintf(res->msg, sizeof res->msg, "instantiation: %s: %s", wasm_errkind_name(e.kind),
                 e.msg);
        return res->status == SB_WASI_TRAPPED ? 0 : -1;
    }
    wasm_func *f = wasm_instance_export_func(inst, "_start");
    const wasm_functype *t = f ? wasm_func_type(f) : NULL;
    if (!t || t->nparams || t->nresults) {
        res->status = SB_WASI_BAD_MODULE;
        snprintf(res->msg, sizeof res->msg, "the module has no `_start` () -> () export");
        return -1;
    }
    int rc = wasm_invoke(inst, f, NULL, 0, NULL, 0, &res->trap);
    if (cfg && cfg->fuel != WASM_FUEL_UNLIMITED)
        res->fuel_used = cfg->fuel - wasm_instance_fuel(inst);
    if (rc < 0) {
        res->status = SB_WASI_BAD_MODULE;
        snprintf(res->msg, sizeof res->msg, "%s", res->trap.msg);
        return -1;
    }
    res->status = rc == 0 || rc == WASM_TRAP_EXIT ? SB_WASI_EXITED : SB_WASI_TRAPPED;
    res->exit_code = rc == WASM_TRAP_EXIT ? (uint32_t)res->trap.exit_code : 0;
    if (res->status == SB_WASI_TRAPPED)
        snprintf(res->msg, sizeof res->msg, "%s", res->trap.msg);
    return 0;
}

int sb_wasi_run(sb_wasi *w, const uint8_t *wasm, size_t len, const wasm_config *cfg,
                sb_wasi_result *res)
{
    memset(res, 0, sizeof *res);
    wasm_error e;
    wasm_module *m = wasm_module_load(wasm, len, &e);
    if (!m) {
        res->status = SB_WASI_BAD_MODULE;
        snprintf(res->msg, sizeof res->msg, "%s module at byte %zu: %s",
                 wasm_errkind_name(e.kind), e.offset, e.msg);
        return -1;
    }
    wasm_store *s = wasm_store_new();
    int rc = -1;
    if (!s)
        snprintf(res->msg, sizeof res->msg, "out of memory");
    else
        rc = start(w, s, m, cfg, res);
    wasm_store_free(s);
    wasm_module_free(m);
    return rc;
}
