/* admin.c - the operator's control socket: a local Unix socket (never the public port) answering
 * LIST, SHOW <hash> and STOP <hash> [reason] with one JSON object per line, then "OK n", or an
 * "ERR ..." line. Who may connect: the socket is created mode 0600 (its owner: the host's user),
 * and every connection's SO_PEERCRED uid must be the host's or root's (docs/host.md "Operator"). */
#include "host/host_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct admin_conn {
    struct src src;
    struct admin_conn *next;
    char line[ADMIN_LINE_MAX];
    size_t line_len;
    struct buf out;
    bool closing; /* close once out is written */
    bool eof;     /* the operator closed its writing side */
    uid_t uid;
    time_t deadline;
};

/* Refuses to replace anything but a stale socket: a live host's socket, or a file, is kept. */
static int clear_stale(const char *path, sb_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : sb_err_set(err, errno, "--admin-socket %s: %s", path,
                                                strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return sb_err_set(err, EEXIST, "--admin-socket %s: exists and is not a socket", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, path, strlen(path) + 1);
    int live = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    if (live)
        return sb_err_set(err, EADDRINUSE, "--admin-socket %s: another host is listening there",
                          path);
    return unlink(path) == 0 ? 0 : sb_err_set(err, errno, "--admin-socket %s: %s", path,
                                              strerror(errno));
}

int admin_open(struct host *h, sb_err *err)
{
    const char *path = h->cfg->admin_socket;
    h->admin = (struct src){SRC_ADMIN_LISTEN, -1, 0, false};
    if (!path)
        return 0;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (!path[0] || strlen(path) >= sizeof a.sun_path)
        return sb_err_set(err, EINVAL, "--admin-socket: the path must have 1 to %zu bytes",
                          sizeof a.sun_path - 1);
    memcpy(a.sun_path, path, strlen(path) + 1);
    if (clear_stale(path, err) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sb_err_set(err, errno, "--admin-socket: socket: %s", strerror(errno));
    mode_t old = umask(0177); /* born 0600: no window in which others could connect */
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (rc != 0 || chmod(path, 0600) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        close(fd);
        return sb_err_set(err, e, "--admin-socket %s: %s", path, strerror(e));
    }
    h->admin.fd = fd;
    if (host_watch(h, &h->admin, EPOLLIN) != 0)
        return sb_err_set(err, errno, "epoll_ctl: %s", strerror(errno));
    host_log(h, "info", "admin socket %s (mode 0600, uid %d or root only)", path, (int)geteuid());
    return 0;
}

/* Writes what the socket takes; an operator gone away gets nothing more (else a hung-up socket
 * would report EPOLLOUT|EPOLLHUP in a loop until the idle timeout). */
static void admin_flush(struct admin_conn *a)
{
    if (buf_flush(&a->out, a->src.fd) != 0) {
        buf_consume(&a->out, buf_size(&a->out));
        a->closing = true;
    }
}

/* Reads the next command only when the last answer is written: an operator who does not read
 * cannot make the host queue answers without bound. */
static void admin_update(struct host *h, struct admin_conn *a)
{
    uint32_t ev = buf_size(&a->out) ? EPOLLOUT : (a->closing || a->eof ? 0 : EPOLLIN);
    if (ev != a->src.events)
        host_watch(h, &a->src, ev);
}

static void admin_close(struct host *h, struct admin_conn *a)
{
    for (struct admin_conn **pp = &h->admins; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    host_unwatch(h, &a->src);
    close(a->src.fd);
    buf_free(&a->out);
    free(a);
    h->n_admins--;
}

static void say(struct admin_conn *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct admin_conn *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* a computation's object: at most about 2.3 KB (escaped reason and name) */
    int n = buf_append_linev(&a->out, ADMIN_REPLY_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        a->closing = true;
}

/* The JSON string body of s: quotes, backslashes and control bytes escaped. */
static void json_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
        else
            out[n++] = (char)ch;
    }
    out[n] = '\0';
}

/* Resident memory of a live process from /proc/PID/statm (pages), or -1 if it cannot be read. */
static long long rss_bytes(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long long size, resident;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return n == 2 && page > 0 ? (long long)(resident * (unsigned long long)page) : -1;
}

static void describe(struct host *h, struct admin_conn *a, const struct comp *c, time_t now)
{
    bool live = c->state != C_DEAD && c->pid > 0;
    uint64_t up = c->bytes_up, down = c->bytes_down;
    unsigned conns = 0;
    for (const struct conn *k = c->conns; k; k = k->cnext, conns++) {
        up += k->bytes_up;
        down += k->bytes_down;
    }
    char reason[6 * sizeof c->reason], name[800], rss[24] = "null"; /* room for every escape */
    json_escape(c->reason, reason, sizeof reason);
    json_escape(c->policy ? sb_policy_name(c->policy) : "", name, sizeof name);
    long long r = live ? rss_bytes(c->pid) : -1;
    if (r >= 0)
        snprintf(rss, sizeof rss, "%lld", r);
    say(a, "{\"policy_hash\":\"%s\",\"name\":\"%s\",\"platform\":\"%s\",\"state\":\"%s\","
           "\"age_seconds\":%lld,\"pid\":%d,\"memory_budget_bytes\":%llu,\"rss_bytes\":%s,"
           "\"sessions\":%u,\"connections\":%u,\"bytes_up\":%llu,\"bytes_down\":%llu,"
           "\"reason\":\"%s\"}",
        c->hex, name, sb_platform_name(h->platform), comp_state_name(c->state),
        (long long)(now - c->launched), live ? (int)c->pid : 0,
        (unsigned long long)c->mem_budget, rss, c->n_sessions, conns, (unsigned long long)up,
        (unsigned long long)down, reason);
}

/* A whole hash, or a prefix of at least 8 hex digits (the log shows 16) naming one computation. */
static struct comp *find_comp(struct host *h, struct admin_conn *a, const char *arg)
{
    size_t n = strlen(arg);
    bool hex = n >= 8 && n <= 64 && strspn(arg, "0123456789abcdef") == n;
    if (!hex) {
        say(a, "ERR bad hash '%.64s': expected 8 to 64 lower-case hex digits of a policy hash", arg);
        return NULL;
    }
    struct comp *found = NULL;
    for (struct comp *c = h->comps; c; c = c->next) {
        if (strncmp(c->hex, arg, n) != 0)
            continue;
        if (found) {
            say(a, "ERR hash prefix %s names more than one computation: give more digits", arg);
            return NULL;
        }
        found = c;
    }
    if (!found)
        say(a, "ERR no computation %s on this host", arg);
    return found;
}

static void cmd_list(struct host *h, struct admin_conn *a)
{
    time_t now = time(NULL);
    unsigned n = 0;
    for (struct comp *c = h->comps; c; c = c->next, n++)
        describe(h, a, c, now);
    say(a, "OK %u", n);
}

static void cmd_stop(struct host *h, struct admin_conn *a, struct comp *c, const char *reason)
{
    if (c->state == C_DEAD) {
        say(a, "ERR computation %s already ended: %s", c->hex, c->reason);
        return;
    }
    host_log(h, "info", "admin (uid %d): stop computation %.16s: %s", (int)a->uid, c->hex, reason);
    comp_stop(h, c, reason);
    describe(h, a, c, time(NULL));
    say(a, "OK 1");
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* The sealed store (store.c): one JSON object per kept envelope, or deleting them all. */
static void describe_kept(void *ctx, const char *reader, const char *path, const struct stat *st)
{
    char p[6 * SB_PATH_MAX + 1];
    json_escape(path, p, sizeof p);
    say(ctx, "{\"reader\":\"%s\",\"path\":\"%s\",\"bytes\":%llu,\"kept_at\":%lld}", reader, p,
        (unsigned long long)st->st_size, (long long)st->st_mtime);
}

static void cmd_sealed(struct host *h, struct admin_conn *a, const char *hex, bool drop)
{
    unsigned n = 0;
    uint64_t files = 0, bytes = 0;
    if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
        say(a, "ERR bad hash '%.64s': expected the 64 lower-case hex digits of a policy hash", hex);
    else if (!h->cfg->sealed_dir)
        say(a, "ERR this host keeps no sealed results (no --sealed-dir)");
    else if (!drop && store_list(h, hex, describe_kept, a, &n) == 0)
        say(a, "OK %u", n);
    else if (drop && store_delete(h, hex, &files, &bytes) == 0) {
        host_log(h, "info", "admin (uid %d): deleted %llu kept sealed results (%llu bytes) of "
                 "computation %.16s", (int)a->uid, (unsigned long long)files,
                 (unsigned long long)bytes, hex);
        say(a, "{\"policy_hash\":\"%s\",\"deleted\":%llu,\"bytes\":%llu}", hex,
            (unsigned long long)files, (unsigned long long)bytes);
        say(a, "OK 1");
    } else
        say(a, "ERR no sealed results kept for computation %s", hex);
}

/* One command line (without '\n'): "LIST", "SHOW HASH" or "STOP HASH [REASON...]". */
static void on_command(struct host *h, struct admin_conn *a, char *line)
{
    if (!printable(line)) {
        say(a, "ERR bad command: printable ASCII only");
        return;
    }
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = '\0';
    char *rest = arg ? strchr(arg, ' ') : NULL;
    if (rest)
        *rest++ = '\0';
    struct comp *c;
    if (strcmp(line, "LIST") == 0 && !arg) {
        cmd_list(h, a);
    } else if (strcmp(line, "SHOW") == 0 && arg && !rest) {
        if ((c = find_comp(h, a, arg))) {
            describe(h, a, c, time(NULL));
            say(a, "OK 1");
        }
    } else if (strcmp(line, "STOP") == 0 && arg) {
        if ((c = find_comp(h, a, arg)))
            cmd_stop(h, a, c, rest && rest[0] ? rest : "no reason given");
    } else if ((strcmp(line, "SEALED") == 0 || strcmp(line, "DELETE-SEALED") == 0) && arg && !rest) {
        cmd_sealed(h, a, arg, line[0] == 'D');
    } else {
        say(a, "ERR bad command '%.32s': expected LIST, SHOW HASH, STOP HASH [REASON], SEALED HASH "
            "or DELETE-SEALED HASH", line);
    }
}

void admin_accept(struct host *h)
{
    for (;;) {
        int fd = accept4(h->admin.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct ucred cr;
        socklen_t cl = sizeof cr;
        struct admin_conn *a = calloc(1, sizeof *a);
        if (!a || h->n_admins >= ADMIN_MAX_CONNS ||
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0) {
            static const char busy[] = "ERR busy: too many operator connections\n";
            if (a && write(fd, busy, sizeof busy - 1) < 0) { /* best effort */
            }
            free(a);
            close(fd);
            continue;
        }
        a->src = (struct src){SRC_ADMIN, fd, 0, false};
        a->uid = cr.uid;
        a->deadline = time(NULL) + ADMIN_IDLE_S;
        a->next = h->admins;
        h->admins = a;
        h->n_admins++;
        /* The mode keeps others out; this is the second lock (a mode changed by mistake, a
         * socket passed on). Root may: it can stop the whole host anyway. */
        if (cr.uid != geteuid() && cr.uid != 0) {
            host_log(h, "warn", "admin: refused a connection from uid %d (pid %d)", (int)cr.uid,
                     (int)cr.pid);
            say(a, "ERR permission denied: uid %d is not the host's (uid %d) or root", (int)cr.uid,
                (int)geteuid());
            a->closing = true;
        }
        admin_flush(a);
        if (a->closing && !buf_size(&a->out))
            admin_close(h, a);
        else
            admin_update(h, a);
    }
}

/* Runs the first complete line in the buffer, if any. Returns true if it ran one. */
static bool run_line(struct host *h, struct admin_conn *a)
{
    char *nl = memchr(a->line, '\n', a->line_len);
    if (!nl) {
        if (a->line_len == sizeof a->line) {
            say(a, "ERR line longer than %d bytes", ADMIN_LINE_MAX - 1);
            a->closing = true; /* the rest of it would be read as commands */
        }
        return false;
    }
    size_t len = (size_t)(nl - a->line), rest = a->line_len - len - 1;
    *nl = '\0';
    if (len && a->line[len - 1] == '\r')
        a->line[len - 1] = '\0';
    if (memchr(a->line, '\0', len))
        say(a, "ERR bad command: NUL byte");
    else
        on_command(h, a, a->line);
    memmove(a->line, nl + 1, rest);
    a->line_len = rest;
    return true;
}

static void admin_read(struct admin_conn *a)
{
    ssize_t n = read(a->src.fd, a->line + a->line_len, sizeof a->line - a->line_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        a->eof = true; /* commands sent before a half-close are still answered */
        return;
    }
    a->line_len += (size_t)n;
    a->deadline = time(NULL) + ADMIN_IDLE_S;
}

void admin_on_event(struct host *h, struct admin_conn *a, uint32_t events)
{
    if (events & EPOLLOUT)
        admin_flush(a);
    else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        admin_read(a);
    /* One answer at a time: the next line runs once the last answer is written. */
    while (!buf_size(&a->out) && !a->closing && run_line(h, a))
        admin_flush(a);
    if (a->eof && !memchr(a->line, '\n', a->line_len))
        a->closing = true;
    if ((a->closing && !buf_size(&a->out)) || (events & EPOLLERR))
        admin_close(h, a);
    else
        admin_update(h, a);
}

void admin_tick(struct host *h, time_t now)
{
    for (struct admin_conn *a = h->admins, *next; a; a = next) {
        next = a->next;
        if (now >= a->deadline)
            admin_close(h, a);
    }
}

void admin_close_all(struct host *h)
{
    while (h->admins)
        admin_close(h, h->admins);
    if (h->admin.fd >= 0) {
        host_unwatch(h, &h->admin);
        close(h->admin.fd);
        h->admin.fd = -1;
        unlink(h->cfg->admin_socket);
    }
}
