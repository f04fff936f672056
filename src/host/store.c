/* store.c - the host's store of sealed results kept after a computation ended (docs/sealed.md,
 * "Kept by the host"; docs/host.md "--sealed-dir").
 *
 * The host is untrusted and only ever holds envelopes: ciphertext sealed inside the isolate to one
 * reader's key and signed by the isolate. It writes what the runtime hands over after its shutdown
 * frame (keep-begin, keep-data..., keep-done) to
 *     DIR/<policy hash>/<reader>/<SHA-256 of the path>.sealed
 * each through a ".partial-" file that is fsync'd and renamed only once whole, so a crash, a full
 * disk or a runtime that stops half way never leaves a partial envelope under a served name. It
 * serves them to whoever asks on the port (SEALED, conn.c): the envelope is useless without the
 * reader's private key, and the client checks it as `strongbox unseal --policy` does. Writes are
 * synchronous in the event loop: the runtime sends the next chunk only as the channel drains, so
 * a slow disk slows the keeping, never the memory bound. */
#include "host/host_impl.h"
#include "hpke/sealed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define STORE_PRUNE_EVERY_S 3600

/* The envelope being received for one computation. */
struct store_rx {
    int fd;                    /* -1: this one is not kept (no store, over the limit, I/O error) */
    char tmp[PATH_MAX], final[PATH_MAX];
    char reader[SB_POLICY_NAME_MAX + 1], path[SB_PATH_MAX + 1];
    uint64_t size, got, replaces;
};

static bool is_hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Identity names as the policy allows them ([A-Za-z0-9._-], first a letter or digit): safe as
 * one path component. */
static bool is_reader_name(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= SB_POLICY_NAME_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                                        "nopqrstuvwxyz0123456789._-") == n &&
           s[0] != '.' && s[0] != '_' && s[0] != '-';
}

/* DIR/HASH[/READER[/SHA256(path).sealed]]; -1 when it does not fit. */
static int entry_path(const struct host *h, char *out, size_t cap, const char *hex,
                      const char *reader, const char *path)
{
    char name[80] = "";
    if (path) {
        uint8_t d[32];
        char dh[65];
        if (!EVP_Digest(path, strlen(path), d, NULL, EVP_sha256(), NULL))
            return -1;
        sb_hex_encode(d, 32, dh);
        snprintf(name, sizeof name, "/%s.sealed", dh);
    }
    int n = snprintf(out, cap, "%s/%s%s%s%s", h->cfg->sealed_dir, hex, reader ? "/" : "",
                     reader ? reader : "", name);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int mkdir_one(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Calls fn(path, st, ctx) for every entry of dir (not "." / ".."). */
static void each_entry(const char *dir, void (*fn)(const char *, const struct stat *, void *), void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX];
    struct stat st;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p && lstat(p, &st) == 0)
            fn(p, &st, ctx);
    }
    if (d)
        closedir(d);
}

/* ---------------------------------------------------------------- retention and deletion */

struct sweep {
    time_t before;     /* envelopes older than this go (0: every one) */
    bool partials;     /* ".partial-" files go too (at start: nobody is writing them) */
    uint64_t files, bytes;
};

static bool is_partial(const char *path)
{
    const char *base = strrchr(path, '/');
    return base && strncmp(base + 1, ".partial-", 9) == 0;
}

static void sweep_file(const char *p, const struct stat *st, void *ctx)
{
    struct sweep *s = ctx;
    if (!S_ISREG(st->st_mode))
        return;
    if (is_partial(p) ? s->partials : st->st_mtime < s->before || !s->before) {
        if (unlink(p) == 0 && !is_partial(p)) {
            s->files++;
            s->bytes += (uint64_t)st->st_size;
        }
    }
}

static void sweep_reader(const char *p, const struct stat *st, void *ctx)
{
    if (S_ISDIR(st->st_mode)) {
        each_entry(p, sweep_file, ctx);
        rmdir(p); /* only when empty */
    }
}

static void sweep_comp(const char *p, const struct stat *st, void *ctx)
{
    if (S_ISDIR(st->st_mode)) {
        each_entry(p, sweep_reader, ctx);
        rmdir(p);
    }
}

static void store_prune(struct host *h, time_t now, bool partials)
{
    struct sweep s = {now - (time_t)h->cfg->sealed_keep_days * 86400, partials, 0, 0};
    each_entry(h->cfg->sealed_dir, sweep_comp, &s);
    h->store_pruned_at = now;
    if (s.files)
        host_log(h, "info", "sealed store: %llu envelopes (%llu bytes) older than %u days deleted",
                 (unsigned long long)s.files, (unsigned long long)s.bytes, h->cfg->sealed_keep_days);
}

int store_init(struct host *h, sb_err *err)
{
    if (!h->cfg->sealed_dir)
        return 0;
    if (mkdir_one(h->cfg->sealed_dir) != 0)
        return sb_err_set(err, errno, "--sealed-dir %s: %s", h->cfg->sealed_dir, strerror(errno));
    int fd = open(h->cfg->sealed_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || faccessat(fd, ".", W_OK, AT_EACCESS) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sb_err_set(err, e, "--sealed-dir %s: %s", h->cfg->sealed_dir, strerror(e));
    }
    close(fd);
    store_prune(h, time(NULL), true);
    host_log(h, "info", "sealed store %s: at most %llu bytes per computation, kept %u days",
             h->cfg->sealed_dir, (unsigned long long)h->cfg->sealed_max_bytes,
             h->cfg->sealed_keep_days);
    return 0;
}

void store_tick(struct host *h, time_t now)
{
    if (h->cfg->sealed_dir && now - h->store_pruned_at >= STORE_PRUNE_EVERY_S)
        store_prune(h, now, false);
}

int store_delete(struct host *h, const char *hex, uint64_t *files, uint64_t *bytes)
{
    char dir[PATH_MAX];
    struct stat st;
    if (!h->cfg->sealed_dir || entry_path(h, dir, sizeof dir, hex, NULL, NULL) != 0 ||
        lstat(dir, &st) != 0)
        return -1;
    struct sweep s = {0, true, 0, 0};
    sweep_comp(dir, &st, &s);
    *files = s.files;
    *bytes = s.bytes;
    return 0;
}

/* ---------------------------------------------------------------- keeping (from the runtime) */

static void add_size(const char *p, const struct stat *st, void *ctx)
{
    if (S_ISREG(st->st_mode) && !is_partial(p))
        *(uint64_t *)ctx += (uint64_t)st->st_size;
}

static void add_reader(const char *p, const struct stat *st, void *ctx)
{
    if (S_ISDIR(st->st_mode))
        each_entry(p, add_size, ctx);
}

/* Bytes already kept for computation hex (an earlier run of the same policy). */
static uint64_t kept_bytes(const struct host *h, const char *hex)
{
    char dir[PATH_MAX];
    uint64_t n = 0;
    if (entry_path(h, dir, sizeof dir, hex, NULL, NULL) == 0)
        each_entry(dir, add_reader, &n);
    return n;
}

static void rx_drop(struct store_rx *rx)
{
    if (rx->fd >= 0) {
        close(rx->fd);
        unlink(rx->tmp);
    }
    rx->fd = -1;
}

void store_abort(struct host *h, struct comp *c)
{
    if (!c->rx)
        return;
    if (c->rx->fd >= 0)
        host_log(h, "warn", "computation %.16s: sealed result %s for %s not kept: the runtime "
                 "ended after %llu of its %llu bytes", c->hex, c->rx->path, c->rx->reader,
                 (unsigned long long)c->rx->got, (unsigned long long)c->rx->size);
    rx_drop(c->rx);
    free(c->rx);
    c->rx = NULL;
}

/* The next envelope: checked against the policy (the runtime is trusted, but the host keeps only
 * what the contract allows), then a ".partial-" file to receive it, unless it cannot be kept. */
static int keep_begin(struct host *h, struct comp *c, const sb_msg *m, char *why, size_t len)
{
    const sb_policy_identity *id = m->id < sb_policy_identity_count(c->policy)
                                       ? sb_policy_identity_at(c->policy, (size_t)m->id) : NULL;
    if (c->state != C_ENDING || (c->rx && c->rx->got < c->rx->size))
        return snprintf(why, len, "keep-begin %s", c->state != C_ENDING ? "before shutdown"
                        : "while an envelope is incomplete"), -1;
    if (!id || !sb_policy_path_valid(m->path) || !sb_policy_keeps_sealed(c->policy, m->path) ||
        !sb_policy_is_result_for(c->policy, id, m->path) || m->size == 0)
        return snprintf(why, len, "keep-begin for %s, identity %llu: not a reader of a file the "
                        "policy keeps", m->path, (unsigned long long)m->id), -1;
    if (!c->rx && !(c->rx = calloc(1, sizeof *c->rx)))
        return snprintf(why, len, "out of memory"), -1;
    struct store_rx *rx = c->rx;
    *rx = (struct store_rx){.fd = -1, .size = m->size};
    snprintf(rx->reader, sizeof rx->reader, "%s", id->name);
    snprintf(rx->path, sizeof rx->path, "%s", m->path);
    if (!h->cfg->sealed_dir) {
        if (!c->keep_warned)
            host_log(h, "warn", "computation %.16s: its policy keeps sealed results, but this "
                     "host has no --sealed-dir: none is kept", c->hex);
        c->keep_warned = true;
        return 0;
    }
    if (!c->kept_scanned)
        c->kept = kept_bytes(h, c->hex);
    c->kept_scanned = true;
    char dir[PATH_MAX];
    struct stat st;
    int ok = entry_path(h, dir, sizeof dir, c->hex, rx->reader, NULL) == 0 &&
             entry_path(h, rx->final, sizeof rx->final, c->hex, rx->reader, rx->path) == 0;
    rx->replaces = ok && stat(rx->final, &st) == 0 ? (uint64_t)st.st_size : 0;
    uint64_t others = c->kept > rx->replaces ? c->kept - rx->replaces : 0;
    if (ok && (m->size > h->cfg->sealed_max_bytes || others > h->cfg->sealed_max_bytes - m->size)) {
        host_log(h, "error", "computation %.16s: sealed result %s for %s (%llu bytes) not kept: "
                 "over the store's limit of %llu bytes per computation (--sealed-max-mib)", c->hex,
                 rx->path, rx->reader, (unsigned long long)m->size,
                 (unsigned long long)h->cfg->sealed_max_bytes);
        return 0;
    }
    const char *base = strrchr(rx->final, '/') + 1;
    ok = ok && (size_t)snprintf(rx->tmp, sizeof rx->tmp, "%s/.partial-%s", dir, base) < sizeof rx->tmp;
    char cdir[PATH_MAX];
    ok = ok && entry_path(h, cdir, sizeof cdir, c->hex, NULL, NULL) == 0 && mkdir_one(cdir) == 0 &&
         mkdir_one(dir) == 0;
    if (ok)
        rx->fd = open(rx->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (rx->fd < 0)
        host_log(h, "error", "computation %.16s: sealed result %s for %s not kept: %s: %s", c->hex,
                 rx->path, rx->reader, ok ? rx->tmp : dir, strerror(errno));
    return 0;
}

/* The envelope is whole: on disk (fsync), then under its served name (rename, fsync of the
 * directory). */
static void keep_commit(struct host *h, struct comp *c)
{
    struct store_rx *rx = c->rx;
    if (rx->fd < 0)
        return;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", rx->final);
    *strrchr(dir, '/') = '\0';
    int rc = fsync(rx->fd);
    rc = close(rx->fd) != 0 ? -1 : rc;
    rx->fd = -1;
    if (rc != 0 || rename(rx->tmp, rx->final) != 0) {
        host_log(h, "error", "computation %.16s: sealed result %s for %s not kept: %s: %s", c->hex,
                 rx->path, rx->reader, rx->tmp, strerror(errno));
        unlink(rx->tmp);
        return;
    }
    fsync_dir(dir);
    c->kept = (c->kept > rx->replaces ? c->kept - rx->replaces : 0) + rx->size;
    c->kept_files++;
}

static int keep_data(struct host *h, struct comp *c, const sb_msg *m, char *why, size_t len)
{
    struct store_rx *rx = c->rx;
    if (!rx || m->data.len > rx->size - rx->got || m->data.len == 0)
        return snprintf(why, len, "keep-data %s", rx ? "beyond the announced size"
                        : "without keep-begin"), -1;
    const uint8_t *p = m->data.p;
    for (size_t left = m->data.len; rx->fd >= 0 && left;) {
        ssize_t n = write(rx->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* a full disk (ENOSPC) or an I/O error: this envelope is dropped whole */
            host_log(h, "error", "computation %.16s: sealed result %s for %s not kept: writing "
                     "%s: %s", c->hex, rx->path, rx->reader, rx->tmp,
                     n < 0 ? strerror(errno) : "short write");
            rx_drop(rx);
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    rx->got += m->data.len;
    if (rx->got == rx->size)
        keep_commit(h, c);
    return 0;
}

int store_on_frame(struct host *h, struct comp *c, const sb_msg *m, char *why, size_t len)
{
    if (m->type == SB_MSG_KEEP_BEGIN)
        return keep_begin(h, c, m, why, len);
    if (m->type == SB_MSG_KEEP_DATA)
        return keep_data(h, c, m, why, len);
    if (c->rx && c->rx->got < c->rx->size)
        return snprintf(why, len, "keep-done while an envelope is incomplete"), -1;
    host_log(h, "info", "computation %.16s: %llu sealed results kept of %llu sent (%llu bytes in "
             "the store for it)", c->hex, (unsigned long long)c->kept_files,
             (unsigned long long)m->size, (unsigned long long)c->kept);
    store_abort(h, c);
    return 0;
}

/* ---------------------------------------------------------------- serving (the port's SEALED) */

int store_open_for(struct host *h, const char *request, int *fd, uint64_t *size, char *why,
                   size_t len)
{
    char hex[65], reader[SB_POLICY_NAME_MAX + 1], path[SB_PATH_MAX + 1], file[PATH_MAX];
    int n = 0;
    if (sscanf(request, "%64s %64s %n", hex, reader, &n) != 2 || n == 0)
        return snprintf(why, len, "bad SEALED request: expected 'HASH READER PATH'"), -1;
    snprintf(path, sizeof path, "%s", request + n);
    if (!is_hex64(hex))
        return snprintf(why, len, "bad SEALED request: the hash must be 64 lower-case hex digits"), -1;
    if (!is_reader_name(reader))
        return snprintf(why, len, "bad SEALED request: '%.64s' is not an identity name", reader), -1;
    if (strlen(request + n) > SB_PATH_MAX || !sb_policy_path_valid(path))
        return snprintf(why, len, "bad SEALED request: not a normalised absolute path"), -1;
    if (!h->cfg->sealed_dir)
        return snprintf(why, len, "this host keeps no sealed results (it runs without "
                        "--sealed-dir)"), -1;
    struct stat st;
    *fd = entry_path(h, file, sizeof file, hex, reader, path) == 0
              ? open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (*fd < 0 || fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        if (*fd >= 0)
            close(*fd);
        return snprintf(why, len, "no sealed result of %s for %s kept for computation %s", path,
                        reader, hex), -1;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

/* ---------------------------------------------------------------- the operator (admin.c) */

struct listing {
    void (*emit)(void *ctx, const char *reader, const char *path, const struct stat *st);
    void *ctx;
    const char *reader;
    unsigned n;
};

/* The path an envelope names (its header is not encrypted: the host sees it anyway). */
static void list_file(const char *p, const struct stat *st, void *ctx)
{
    struct listing *l = ctx;
    uint8_t head[SB_SEALED_FIXED_LEN + SB_SEALED_PATH_MAX];
    char path[SB_SEALED_PATH_MAX + 1] = "?";
    if (!S_ISREG(st->st_mode) || is_partial(p))
        return;
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof head) : -1;
    if (fd >= 0)
        close(fd);
    size_t plen = n >= SB_SEALED_FIXED_LEN ? (size_t)head[SB_SEALED_FIXED_LEN - 2] << 8 |
                                                 head[SB_SEALED_FIXED_LEN - 1] : 0;
    if (plen && plen <= SB_SEALED_PATH_MAX && (size_t)n >= SB_SEALED_FIXED_LEN + plen) {
        memcpy(path, head + SB_SEALED_FIXED_LEN, plen);
        path[plen] = '\0';
    }
    l->emit(l->ctx, l->reader, path, st);
    l->n++;
}

static void list_reader(const char *p, const struct stat *st, void *ctx)
{
    struct listing *l = ctx;
    if (!S_ISDIR(st->st_mode))
        return;
    l->reader = strrchr(p, '/') + 1;
    each_entry(p, list_file, l);
}

int store_list(struct host *h, const char *hex, void (*emit)(void *, const char *, const char *,
               const struct stat *), void *ctx, unsigned *n)
{
    char dir[PATH_MAX];
    struct listing l = {emit, ctx, NULL, 0};
    if (!h->cfg->sealed_dir || entry_path(h, dir, sizeof dir, hex, NULL, NULL) != 0)
        return -1;
    each_entry(dir, list_reader, &l);
    *n = l.n;
    return 0;
}
