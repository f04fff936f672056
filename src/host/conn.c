/* conn.c - connections on the host's port: preamble, deploy, status, and the ciphertext relay. */
#include "host/host_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void unlink_from_comp(struct conn *k)
{
    if (!k->comp)
        return;
    for (struct conn **pp = &k->comp->conns; *pp; pp = &(*pp)->cnext)
        if (*pp == k) {
            *pp = k->cnext;
            break;
        }
    k->comp->bytes_up += k->bytes_up; /* the computation's totals outlive its sessions */
    k->comp->bytes_down += k->bytes_down;
    if (k->counted && k->comp->n_sessions)
        k->comp->n_sessions--;
    k->counted = false;
    k->cnext = NULL;
}

void conn_close(struct host *h, struct conn *k)
{
    struct comp *c = k->comp;
    if (c && k->state == K_RELAY && k->opened && c->state != C_DEAD) {
        sb_msg m;
        sb_msg_init(&m, SB_MSG_SESSION_CLOSE);
        m.present = SB_F(SB_K_ID) | (k->close_why[0] ? SB_F(SB_K_STATUS) | SB_F(SB_K_REASON) : 0);
        m.id = k->sid;
        m.status = SB_ST_TIMEOUT;
        m.reason = k->close_why;
        comp_send(h, c, &m);
    }
    if (k->kind == KIND_CONNECT && k->sid)
        host_log(h, "info", "conn %llu (%s): session %llu closed, %llu bytes up, %llu down",
                 (unsigned long long)k->id, k->peer, (unsigned long long)k->sid,
                 (unsigned long long)k->bytes_up, (unsigned long long)k->bytes_down);
    unlink_from_comp(k);
    host_unwatch(h, &k->src);
    close(k->src.fd);
    if (k->prev)
        k->prev->next = k->next;
    else
        h->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    if (k->refusal)
        h->n_refusals--;
    else
        h->n_conns--;
    buf_free(&k->out);
    free(k->body);
    k->body = NULL;
    if (k->file_left)
        close(k->file_fd);
    k->file_left = 0;
    /* Freed after the current epoll batch: a later event of the batch may still point at it. */
    k->next = h->grave;
    h->grave = k;
}

void conn_bury(struct host *h)
{
    while (h->grave) {
        struct conn *k = h->grave;
        h->grave = k->next;
        free(k);
    }
}

void conn_update_events(struct host *h, struct conn *k)
{
    /* A party is read while the runtime's window for its session is open (and, to keep party
     * bytes in their socket rather than in our queue, while its channel queue is short). */
    bool want_read = k->state == K_PREAMBLE || k->state == K_DEPLOY_BODY ||
                     (k->state == K_CLOSING && k->shut) ||
                     (k->state == K_RELAY && k->comp && k->tx_credit > 0 &&
                      comp_queued(k->comp) <= relay_high(h));
    if (k->state == K_RELAY && k->comp && comp_queued(k->comp) > relay_low(h) && k->rd_paused)
        want_read = false; /* hysteresis: resume only once the runtime caught up */
    k->rd_paused = k->state == K_RELAY && !want_read;
    if (k->rd_paused && k->tx_credit > 0 && k->comp)
        k->comp->parties_paused = true; /* paused for the channel queue: resumed by its drain */
    if (k->state == K_CLOSING && !k->deadline)
        k->deadline = time(NULL) + 10; /* a party that never reads its last bytes */
    uint32_t ev = (want_read ? EPOLLIN : 0) | (buf_size(&k->out) || k->file_left ? EPOLLOUT : 0) |
                  (k->state == K_WAIT_READY || k->state == K_RELAY ? EPOLLRDHUP : 0);
    if (ev != k->src.events)
        host_watch(h, &k->src, ev);
}

void conn_reply(struct host *h, struct conn *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = buf_append_linev(&k->out, CONN_REPLY_MAX, fmt, ap);
    va_end(ap);
    if (n > 0) {
        size_t before = buf_size(&k->out);
        k->line_pending += (size_t)n;
        buf_flush(&k->out, k->src.fd);
        size_t sent = before - buf_size(&k->out);
        k->line_pending -= sent < k->line_pending ? sent : k->line_pending;
    }
    conn_update_events(h, k);
}

/* A closing connection has sent everything: close it, or after an ERR line shut down writing and
 * wait for the party to close (closing with its unread bytes pending would reset the connection,
 * which can destroy the line before the party reads it). */
static void conn_flushed(struct host *h, struct conn *k)
{
    if (!k->linger) {
        conn_close(h, k);
    } else if (!k->shut) {
        shutdown(k->src.fd, SHUT_WR);
        k->shut = true;
        k->deadline = time(NULL) + HOST_LINGER_S;
        conn_update_events(h, k);
    }
}

/* Writes what waits for the party, and returns the credit for its session's bytes to the runtime
 * once a step's worth went out. Returns -1 when the connection was closed. */
static int flush_to_party(struct host *h, struct conn *k)
{
    size_t before = buf_size(&k->out);
    if (buf_flush(&k->out, k->src.fd) != 0) {
        conn_close(h, k);
        return -1;
    }
    size_t sent = before - buf_size(&k->out), line = sent < k->line_pending ? sent : k->line_pending;
    k->line_pending -= line;
    if (sent || !buf_size(&k->out))
        k->progress_at = time(NULL);
    k->rx_owed += sent - line;
    if (k->opened && k->state == K_RELAY && k->comp && k->rx_owed >= SB_CREDIT_STEP) {
        sb_msg m;
        sb_msg_init(&m, SB_MSG_SESSION_CREDIT);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_SIZE);
        m.id = k->sid;
        m.size = k->rx_owed;
        k->rx_owed = 0;
        comp_send(h, k->comp, &m);
    }
    return 0;
}

void conn_credit(struct host *h, struct conn *k, uint64_t n)
{
    if (n > SB_SESSION_WINDOW - k->tx_credit) { /* the runtime's bug: keep our own bound */
        host_log(h, "warn", "conn %llu: runtime granted more than the session's window",
                 (unsigned long long)k->id);
        n = SB_SESSION_WINDOW - k->tx_credit;
    }
    k->tx_credit += n;
    conn_update_events(h, k);
}

/* Error line, then close once it is written. */
static void conn_fail(struct host *h, struct conn *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conn_fail(struct host *h, struct conn *k, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    host_log(h, "info", "conn %llu (%s): refused: %s", (unsigned long long)k->id, k->peer, msg);
    unlink_from_comp(k);
    k->comp = NULL;
    k->state = K_CLOSING;
    k->linger = true;
    conn_reply(h, k, "ERR %s", msg);
    if (buf_size(&k->out) == 0)
        conn_flushed(h, k);
}

/* Connections from addr that no isolate has authenticated yet (per-source limit). */
static unsigned unauthenticated_from(const struct host *h, const char *addr)
{
    unsigned n = 0;
    for (const struct conn *o = h->conns; o; o = o->next)
        n += !o->refusal && !o->authed && o->state != K_CLOSING && strcmp(o->addr, addr) == 0;
    return n;
}

void conn_accept(struct host *h)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(h->listen.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a transient error (EMFILE...): try again on the next event */
        /* Over the cap a few more are taken in, only to say so ("ERR busy"). */
        bool over = h->n_conns >= h->cfg->max_connections;
        if (h->stopping || (over && h->n_refusals >= HOST_REFUSALS)) {
            close(fd);
            continue;
        }
        struct conn *k = calloc(1, sizeof *k);
        if (!k) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        k->src = (struct src){SRC_CONN, fd, 0, false};
        k->id = ++h->next_conn;
        k->deadline = time(NULL) + HOST_PREAMBLE_TIMEOUT_S;
        char addr[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
            port = ntohs(a->sin6_port);
        }
        snprintf(k->peer, sizeof k->peer, "%s:%d", addr, port);
        snprintf(k->addr, sizeof k->addr, "%s", addr);
        unsigned unauth = over ? 0 : unauthenticated_from(h, k->addr);
        k->next = h->conns;
        if (h->conns)
            h->conns->prev = k;
        h->conns = k;
        k->refusal = over;
        *(over ? &h->n_refusals : &h->n_conns) += 1;
        if (over)
            conn_fail(h, k, "busy: the host is at its connection limit (%u); try again later",
                      h->cfg->max_connections);
        else if (unauth >= h->cfg->max_unauth_per_source)
            conn_fail(h, k, "busy: %u connections from %s are not yet authenticated (the limit "
                      "per address); try again later", unauth, k->addr);
        else
            conn_update_events(h, k);
    }
}

/* The party's first bytes are here: the runtime gets a session for it. Until then a connection
 * costs the isolate nothing (idle CONNECTs cannot fill its session table). */
static void open_session(struct host *h, struct conn *k)
{
    struct comp *c = k->comp;
    k->opened = true;
    k->deadline = 0;
    k->sid = ++c->next_sid;
    c->n_sessions++;
    k->counted = true;
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_OPEN);
    m.present = SB_F(SB_K_ID);
    m.id = k->sid;
    comp_send(h, c, &m);
    host_log(h, "info", "conn %llu (%s): session %llu of computation %.16s opened",
             (unsigned long long)k->id, k->peer, (unsigned long long)k->sid, c->hex);
    /* Bytes the party sent right after its preamble (it need not wait for OK). */
    if (k->body_len) {
        sb_msg_init(&m, SB_MSG_SESSION_DATA);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        m.id = k->sid;
        m.data = (sb_bytes){k->body, k->body_len};
        comp_send(h, c, &m);
        k->bytes_up += k->body_len;
        k->tx_credit -= k->body_len; /* < SB_PREAMBLE_MAX */
        free(k->body);
        k->body = NULL;
        k->body_len = 0;
    }
}

/* Attaches k as a session of its computation (which is ready): OK line; the session opens with
 * the party's first bytes, which must come within HOST_FIRST_BYTE_TIMEOUT_S. */
static void start_session(struct host *h, struct conn *k)
{
    struct comp *c = k->comp;
    unsigned handshaking = 0;
    for (struct conn *o = c->conns; o; o = o->cnext)
        handshaking += o->opened && !o->authed && o->state == K_RELAY;
    if (c->n_sessions >= HOST_MAX_SESSIONS || handshaking >= HOST_MAX_HANDSHAKES) {
        bool full = c->n_sessions >= HOST_MAX_SESSIONS;
        conn_fail(h, k, "busy: computation %.16s has %d %s (its limit); try again shortly", c->hex,
                  full ? HOST_MAX_SESSIONS : HOST_MAX_HANDSHAKES,
                  full ? "sessions open" : "connections in their TLS handshake");
        return;
    }
    k->state = K_RELAY;
    k->deadline = time(NULL) + HOST_FIRST_BYTE_TIMEOUT_S;
    k->tx_credit = SB_SESSION_WINDOW;
    k->progress_at = time(NULL);
    conn_reply(h, k, "OK %s", c->hex);
    if (k->body_len)
        open_session(h, k);
}

void conn_comp_ready(struct host *h, struct conn *k)
{
    struct comp *c = k->comp;
    if (c->state == C_READY) {
        if (k->kind == KIND_DEPLOY) {
            unlink_from_comp(k);
            k->comp = NULL;
            k->state = K_CLOSING;
            conn_reply(h, k, "OK %s ready", c->hex);
            if (buf_size(&k->out) == 0)
                conn_close(h, k);
        } else {
            start_session(h, k);
        }
    } else if (c->state == C_DEAD || c->state == C_ENDING) {
        conn_fail(h, k, "computation %s ended: %s", c->hex, c->reason);
    } else { /* still launching: wait */
        k->state = K_WAIT_READY;
        k->deadline = time(NULL) + (time_t)h->cfg->ready_timeout_s + 5;
        conn_update_events(h, k);
    }
}

static void attach(struct host *h, struct conn *k, struct comp *c)
{
    k->comp = c;
    k->cnext = c->conns;
    c->conns = k;
    k->state = K_WAIT_READY;
    conn_comp_ready(h, k);
}

static void status_reply(struct host *h, struct conn *k, const char *only_hex)
{
    time_t now = time(NULL);
    unsigned shown = 0;
    for (struct comp *c = h->comps; c; c = c->next) {
        if (only_hex && strcmp(only_hex, c->hex) != 0)
            continue;
        shown++;
        size_t mlen;
        const uint8_t *meas = sb_platform_measurement(h->platform, &mlen);
        char mhex[2 * 64 + 1];
        sb_hex_encode(meas, mlen < 64 ? mlen : 64, mhex);
        char reason[320];
        /* JSON-safe: reasons are our own texts; quotes and backslashes are replaced. */
        snprintf(reason, sizeof reason, "%s", c->reason);
        for (char *p = reason; *p; p++)
            if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
                *p = '\'';
        conn_reply(h, k,
                   "{\"policy_hash\":\"%s\",\"state\":\"%s\",\"platform\":\"%s\","
                   "\"runtime_measurement\":\"%s\",\"pid\":%d,\"sessions\":%u,"
                   "\"age_seconds\":%lld,\"launch_ms\":%.2f,\"challenge_ms\":%.2f,\"request_ms\":%.2f,"
                   "\"issued_ms\":%.2f,\"ready_ms\":%.2f,\"reason\":\"%s\"}",
                   c->hex, comp_state_name(c->state), sb_platform_name(h->platform), mhex,
                   c->state == C_DEAD ? 0 : (int)c->pid, c->n_sessions,
                   (long long)(now - c->launched), c->launch_ms, c->challenge_ms, c->request_ms, c->issued_ms,
                   c->ready_ms, reason);
    }
    if (only_hex && !shown) {
        conn_fail(h, k, "no computation %s on this host", only_hex);
        return;
    }
    conn_reply(h, k, "OK %u", shown);
    k->state = K_CLOSING;
    if (buf_size(&k->out) == 0)
        conn_close(h, k);
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

/* Serving a kept envelope: more of the file into k->out while little waits there. Progress
 * moves the closing deadline, so a slow party gets a large envelope, a stalled one is closed. */
static void refill_from_file(struct host *h, struct conn *k)
{
    while (k->file_left && buf_size(&k->out) < HOST_READ_CHUNK) {
        size_t want = k->file_left < HOST_READ_CHUNK ? (size_t)k->file_left : HOST_READ_CHUNK;
        ssize_t n = read(k->file_fd, h->chunk, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || buf_append(&k->out, h->chunk, (size_t)n) != 0) {
            /* Cut short (the file was deleted or shrank): the party sees fewer bytes than OK
             * announced and refuses the envelope; nothing false is ever served as whole. */
            host_log(h, "error", "conn %llu (%s): serving a sealed result failed: %s",
                     (unsigned long long)k->id, k->peer, n < 0 ? strerror(errno) : "file shrank");
            close(k->file_fd);
            k->file_left = 0;
            k->linger = false;
            break;
        }
        k->file_left -= (uint64_t)n;
        if (!k->file_left)
            close(k->file_fd);
        k->deadline = time(NULL) + 10;
    }
}

static void finish_sealed(struct host *h, struct conn *k)
{
    char why[SB_PATH_MAX + 200], req[STORE_REQUEST_MAX + 1];
    uint64_t size;
    if (memchr(k->body, '\0', k->body_len) || memchr(k->body, '\n', k->body_len)) {
        conn_fail(h, k, "bad SEALED request: NUL or newline in it");
        return;
    }
    memcpy(req, k->body, k->body_len);
    req[k->body_len] = '\0';
    if (store_open_for(h, req, &k->file_fd, &size, why, sizeof why) != 0) {
        conn_fail(h, k, "%s", why);
        return;
    }
    host_log(h, "info", "conn %llu (%s): serving a sealed result (%llu bytes)",
             (unsigned long long)k->id, k->peer, (unsigned long long)size);
    k->file_left = size;
    k->state = K_CLOSING;
    conn_reply(h, k, "OK %llu", (unsigned long long)size);
    refill_from_file(h, k);
    conn_update_events(h, k);
}

static void finish_deploy(struct host *h, struct conn *k)
{
    if (k->kind == KIND_SEALED) {
        finish_sealed(h, k);
        return;
    }
    char why[400];
    struct comp *c;
    if (comp_deploy(h, k->body, k->body_len, &c, why, sizeof why) != 0) {
        conn_fail(h, k, "deploy: %s", why);
        return;
    }
    free(k->body);
    k->body = NULL;
    k->body_len = 0;
    host_log(h, "info", "conn %llu (%s): deploy of computation %.16s (%s)",
             (unsigned long long)k->id, k->peer, c->hex, comp_state_name(c->state));
    attach(h, k, c);
}

/* Parses the preamble line (without '\n'); the bytes after it are already in k->body. */
static void on_preamble(struct host *h, struct conn *k, char *line)
{
    char verb[16] = "", arg[80] = "";
    char extra;
    int n = sscanf(line, SB_PREAMBLE_MAGIC " %15s %79s %c", verb, arg, &extra);
    if (strncmp(line, SB_PREAMBLE_MAGIC " ", sizeof SB_PREAMBLE_MAGIC) != 0 || n < 1 || n > 2) {
        conn_fail(h, k, "bad preamble: expected '" SB_PREAMBLE_MAGIC " CONNECT|DEPLOY|STATUS|SEALED ...'");
        return;
    }
    if (strcmp(verb, "CONNECT") == 0 && n == 2) {
        if (!is_hex64(arg)) {
            conn_fail(h, k, "bad preamble: CONNECT needs a policy hash (64 lower-case hex digits)");
            return;
        }
        uint8_t hash[32];
        sb_hex_decode(arg, hash, 32);
        struct comp *c = comp_find(h, hash);
        k->kind = KIND_CONNECT;
        if (!c)
            conn_fail(h, k, "no computation %s on this host", arg);
        else
            attach(h, k, c);
    } else if (strcmp(verb, "DEPLOY") == 0 && n == 2) {
        char *end;
        unsigned long long len = strtoull(arg, &end, 10);
        if (*end || arg[0] == '-' || len == 0 || len > SB_POLICY_MAX_BYTES) {
            conn_fail(h, k, "bad preamble: DEPLOY needs the policy size in bytes (1..%u)",
                      SB_POLICY_MAX_BYTES);
            return;
        }
        k->kind = KIND_DEPLOY;
        k->body_need = (size_t)len;
        if (k->body_len > k->body_need) {
            conn_fail(h, k, "deploy: more bytes than announced");
            return;
        }
        uint8_t *p = realloc(k->body, k->body_need);
        if (!p) {
            conn_fail(h, k, "deploy: out of memory");
            return;
        }
        k->body = p;
        k->state = K_DEPLOY_BODY;
        if (k->body_len == k->body_need)
            finish_deploy(h, k);
    } else if (strcmp(verb, "STATUS") == 0) {
        k->kind = KIND_STATUS;
        /* Only for one policy hash, which the parties hold: the list of every computation is
         * not for anyone who can reach the public port (docs/host.md). */
        if (n != 2 || !is_hex64(arg))
            conn_fail(h, k, "bad preamble: STATUS needs a policy hash (64 lower-case hex digits)");
        else
            status_reply(h, k, arg);
    } else if (strcmp(verb, "SEALED") == 0 && n == 2) {
        /* a kept envelope: "HASH READER PATH" follows (a path does not fit in a preamble) */
        char *end;
        unsigned long long len = strtoull(arg, &end, 10);
        if (*end || arg[0] == '-' || len == 0 || len > STORE_REQUEST_MAX) {
            conn_fail(h, k, "bad preamble: SEALED needs the request size in bytes (1..%u)",
                      (unsigned)STORE_REQUEST_MAX);
            return;
        }
        k->kind = KIND_SEALED;
        k->body_need = (size_t)len;
        uint8_t *p = k->body_len <= k->body_need ? realloc(k->body, k->body_need) : NULL;
        if (!p) {
            conn_fail(h, k, "SEALED: %s", k->body_len > k->body_need ? "more bytes than announced"
                                                                      : "out of memory");
            return;
        }
        k->body = p;
        k->state = K_DEPLOY_BODY;
        if (k->body_len == k->body_need)
            finish_sealed(h, k);
    } else {
        conn_fail(h, k, "bad preamble: unknown request '%s'", verb);
    }
}

static void read_preamble(struct host *h, struct conn *k)
{
    ssize_t n = read(k->src.fd, k->line + k->line_len, sizeof k->line - k->line_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(h, k);
        return;
    }
    k->line_len += (size_t)n;
    uint8_t *nl = memchr(k->line, '\n', k->line_len);
    if (!nl) {
        if (k->line_len == sizeof k->line)
            conn_fail(h, k, "bad preamble: longer than %d bytes", SB_PREAMBLE_MAX);
        return;
    }
    size_t line_len = (size_t)(nl - k->line), rest = k->line_len - line_len - 1;
    if (rest) { /* early bytes: deploy body, or the party's first TLS bytes */
        k->body = malloc(rest);
        if (!k->body) {
            conn_fail(h, k, "out of memory");
            return;
        }
        memcpy(k->body, nl + 1, rest);
        k->body_len = rest;
    }
    if (memchr(k->line, '\0', line_len)) {
        conn_fail(h, k, "bad preamble: NUL byte");
        return;
    }
    *nl = '\0';
    if (line_len && k->line[line_len - 1] == '\r')
        k->line[line_len - 1] = '\0';
    on_preamble(h, k, (char *)k->line);
}

static void read_deploy_body(struct host *h, struct conn *k)
{
    ssize_t n = read(k->src.fd, k->body + k->body_len, k->body_need - k->body_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(h, k);
        return;
    }
    k->body_len += (size_t)n;
    if (k->body_len == k->body_need)
        finish_deploy(h, k);
}

/* Party -> runtime: TLS records, wrapped as session-data frames. Stops when the runtime's queue
 * is over the high-water mark (backpressure) or after a few rounds (fairness). */
static bool relay_up(struct host *h, struct conn *k) /* true when it closed k */
{
    static const int rounds = 8;
    uint8_t *chunk = h->chunk;
    for (int i = 0; i < rounds; i++) {
        struct comp *c = k->comp;
        if (!c || comp_queued(c) > relay_high(h) || k->tx_credit == 0)
            break;
        if (!k->opened) { /* first bytes, or the party left without sending any */
            char b;
            ssize_t p = recv(k->src.fd, &b, 1, MSG_PEEK);
            if (p < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (p <= 0) {
                conn_close(h, k);
                return true;
            }
            open_session(h, k);
        }
        size_t want = k->tx_credit < HOST_READ_CHUNK ? (size_t)k->tx_credit : HOST_READ_CHUNK;
        /* splice(2) moves the bytes socket -> pipe -> channel by page reference, no copies */
        bool spliced = !h->no_splice && comp_queued(c) == 0 && comp_pipe(c) == 0;
        ssize_t n = spliced ? splice(k->src.fd, NULL, c->pipe[1], NULL, want,
                                     SPLICE_F_NONBLOCK | SPLICE_F_MOVE)
                            : read(k->src.fd, chunk, want);
        if (n < 0 && spliced && errno == EINVAL) { /* no splice for these descriptors */
            h->no_splice = true;
            host_log(h, "info", "splice(2) unavailable: relaying with read/write");
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (n <= 0) {
            conn_close(h, k);
            return true;
        }
        k->bytes_up += (uint64_t)n;
        k->tx_credit -= (size_t)n;
        if (spliced)
            comp_send_pipe(h, c, k->sid, (size_t)n);
        else
            comp_send_data(h, c, k->sid, chunk, (size_t)n);
    }
    conn_update_events(h, k);
    return false;
}

/* The party's connection ended (a reset: libstrongbox closes abortively unless it ended the
 * session cleanly, so a killed client resets; or a close we see once its last bytes are in our
 * socket): what the session's window takes now is relayed, then the session ends and bytes beyond
 * the window are dropped. Relayed later, as credit came back, a killed client's upload could
 * complete after that party's next session had been answered, replacing a put it had just
 * acknowledged (seen in the soak). Ending here keeps the order the party saw: the session-close
 * is on the channel before any later connection's first byte. */
static void relay_last(struct host *h, struct conn *k)
{
    if (relay_up(h, k))
        return;
    int left = 0;
    if (ioctl(k->src.fd, FIONREAD, &left) != 0)
        left = -1;
    host_log(h, "info", "conn %llu (%s): the party's connection ended; %d bytes it sent beyond "
             "the session's window dropped", (unsigned long long)k->id, k->peer, left);
    conn_close(h, k);
}

/* Runtime -> party. What the party does not take waits in k->out, bounded by the session's
 * window: a party that does not read stalls its own session only. */
void conn_deliver(struct host *h, struct conn *k, const uint8_t *data, size_t len)
{
    if (buf_size(&k->out) + len > 2 * (size_t)SB_SESSION_WINDOW) {
        host_log(h, "warn", "conn %llu: the runtime sent beyond the session's window",
                 (unsigned long long)k->id);
        conn_close(h, k);
        return;
    }
    if (buf_size(&k->out) == 0)
        k->progress_at = time(NULL); /* the stall clock starts when bytes begin to wait */
    if (buf_append(&k->out, data, len) != 0) {
        conn_close(h, k);
        return;
    }
    k->bytes_down += len;
    if (flush_to_party(h, k) == 0)
        conn_update_events(h, k);
}

void conn_on_event(struct host *h, struct conn *k, uint32_t events)
{
    if (events & EPOLLOUT) {
        if (flush_to_party(h, k) != 0)
            return;
        if (k->file_left)
            refill_from_file(h, k);
        if (k->state == K_CLOSING && buf_size(&k->out) == 0 && !k->shut && !k->file_left) {
            conn_flushed(h, k);
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
        switch (k->state) {
        case K_PREAMBLE:
            read_preamble(h, k);
            return;
        case K_DEPLOY_BODY:
            read_deploy_body(h, k);
            return;
        case K_RELAY:
            if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                relay_last(h, k);
            else
                relay_up(h, k);
            return;
        case K_WAIT_READY: /* gone before we answered */
            conn_close(h, k);
            return;
        case K_CLOSING:
            if (k->shut) { /* a refused party: discard what it still sends until it closes */
                ssize_t n = read(k->src.fd, h->chunk, HOST_READ_CHUNK);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                    conn_close(h, k);
            } else if (events & (EPOLLHUP | EPOLLERR)) {
                conn_close(h, k);
            }
            return;
        }
    }
    conn_update_events(h, k);
}

void conn_tick(struct host *h, time_t now)
{
    for (struct conn *k = h->conns, *next; k; k = next) {
        next = k->next;
        if (k->state == K_RELAY && k->opened && buf_size(&k->out) &&
            now - k->progress_at >= (time_t)h->cfg->stall_timeout_s) {
            snprintf(k->close_why, sizeof k->close_why, "the party read nothing for %u s while "
                     "%zu bytes waited", h->cfg->stall_timeout_s, buf_size(&k->out));
            host_log(h, "info", "conn %llu (%s): session %llu closed: %s",
                     (unsigned long long)k->id, k->peer, (unsigned long long)k->sid, k->close_why);
            conn_close(h, k);
            continue;
        }
        if (!k->deadline || now < k->deadline)
            continue;
        if (k->state == K_RELAY && !k->opened) {
            host_log(h, "info", "conn %llu (%s): closed: no TLS bytes within %d s of its CONNECT",
                     (unsigned long long)k->id, k->peer, HOST_FIRST_BYTE_TIMEOUT_S);
            conn_close(h, k);
        } else if (k->state == K_PREAMBLE || k->state == K_DEPLOY_BODY)
            conn_fail(h, k, "preamble timeout (%d s)", HOST_PREAMBLE_TIMEOUT_S);
        else if (k->state == K_WAIT_READY)
            conn_fail(h, k, "computation %s not ready in time", k->comp ? k->comp->hex : "?");
        else if (k->state == K_CLOSING)
            conn_close(h, k);
    }
}

void conn_free_all(struct host *h)
{
    while (h->conns)
        conn_close(h, h->conns);
    conn_bury(h);
}
