/* ops.c - requests to the runtime inside the verified TLS session (docs/protocol.md). */
#include "client/client_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tls_error(strongbox *s, int rc, const char *doing, strongbox_error *err)
{
    s->unsettled = 1; /* what we sent may still be on its way: strongbox_close resets */
    int code = SSL_get_error(s->ssl, rc);
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (code == SSL_ERROR_SYSCALL && errno != EAGAIN && errno != EWOULDBLOCK) {
        /* A write that hit a closed connection: an alert saying why may already be waiting. */
        char byte;
        int n = SSL_read(s->ssl, &byte, 1);
        if (n <= 0 && SSL_get_error(s->ssl, n) == SSL_ERROR_SSL) {
            code = SSL_ERROR_SSL;
            e = ERR_peek_last_error();
            ERR_clear_error();
        }
    }
    int reason = ERR_GET_REASON(e);
    if (code == SSL_ERROR_SSL &&
        (reason == SSL_R_TLSV1_ALERT_ACCESS_DENIED || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN || reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA))
        return cl_fail(err, STRONGBOX_E_TLS,
                       "the isolate refused our certificate (TLS alert: %s): it is not the "
                       "certificate of an identity in this policy",
                       ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "?");
    /* The isolate vanished mid-session: ask the host what happened. */
    if (code == SSL_ERROR_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return cl_lost(s, err);
    if (code == SSL_ERROR_SSL && e) {
        char why[200];
        ERR_error_string_n(e, why, sizeof why);
        return cl_fail(err, STRONGBOX_E_TLS, "TLS error while %s: %s", doing, why);
    }
    if ((code == SSL_ERROR_SYSCALL || code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
        && (errno == EAGAIN || errno == EWOULDBLOCK))
        return cl_fail(err, STRONGBOX_E_NETWORK, "timeout while %s", doing);
    return cl_lost(s, err);
}

static int ssl_write_nosigpipe(SSL *ssl, const void *p, int len)
{
    cl_sigpipe_guard g;
    cl_sigpipe_block(&g);
    int n = SSL_write(ssl, p, len);
    cl_sigpipe_restore(&g);
    return n;
}

static int send_bytes(strongbox *s, const uint8_t *p, size_t len, strongbox_error *err)
{
    for (size_t done = 0; done < len;) {
        int n = ssl_write_nosigpipe(s->ssl, p + done, (int)(len - done));
        if (n <= 0)
            return tls_error(s, n, "sending", err);
        done += (size_t)n;
    }
    return 0;
}

int cl_send(strongbox *s, const sb_msg *m, strongbox_error *err)
{
    uint8_t *frame;
    size_t len;
    sb_err e = {0};
    if (sb_msg_encode(m, &frame, &len, &e) != 0)
        return cl_fail(err, STRONGBOX_E_USAGE, "%s", e.msg);
    int rc = send_bytes(s, frame, len, err);
    free(frame);
    return rc;
}

/* The isolate's answers cannot be read any further: the session ends with a reset. */
static int out_of_step(strongbox *s, const sb_err *e, strongbox_error *err)
{
    s->unsettled = 1;
    return cl_fail(err, STRONGBOX_E_PROTOCOL, "isolate answer: %s", e->msg);
}

int cl_recv(strongbox *s, uint64_t id, sb_msg *m, strongbox_error *err)
{
    uint8_t buf[16384];
    sb_err e = {0};
    for (;;) {
        const uint8_t *payload;
        size_t len;
        int r = sb_frame_reader_next(&s->rd, &payload, &len, &e);
        if (r < 0)
            return out_of_step(s, &e, err);
        if (r == 1) {
            if (sb_msg_decode(payload, len, m, &e) != 0)
                return out_of_step(s, &e, err);
            if (m->id == id)
                return 0;
            sb_msg_free(m); /* an answer to an abandoned request */
            continue;
        }
        int n = SSL_read(s->ssl, buf, sizeof buf);
        if (n <= 0)
            return tls_error(s, n, "waiting for the isolate's answer", err);
        if (sb_frame_reader_feed(&s->rd, buf, (size_t)n, &e) != 0)
            return out_of_step(s, &e, err);
    }
}

int cl_response_error(const sb_msg *m, const char *what, strongbox_error *err)
{
    if (m->type != SB_MSG_RESPONSE)
        return cl_fail(err, STRONGBOX_E_PROTOCOL, "%s: expected a response, got %s", what,
                       sb_msg_type_name(m->type));
    if (m->status == SB_ST_OK)
        return 0;
    cl_fail(err, m->status == SB_ST_SHUTTING_DOWN || m->status == SB_ST_EXPIRED
                     ? STRONGBOX_E_ENDED
                     : STRONGBOX_E_REFUSED,
            "%s refused by the isolate: %s: %s", what, sb_status_name((int)m->status),
            (m->present & SB_F(SB_K_REASON)) ? m->reason : "(no reason given)");
    if (err)
        err->remote_status = (int)m->status;
    return -1;
}

/* A simple request with one response. */
static int request(strongbox *s, sb_msg *req, sb_msg *resp, const char *what, strongbox_error *err)
{
    req->id = ++s->next_id;
    req->present |= SB_F(SB_K_ID);
    if (cl_send(s, req, err) != 0 || cl_recv(s, req->id, resp, err) != 0)
        return -1;
    if (cl_response_error(resp, what, err) != 0) {
        sb_msg_free(resp);
        return -1;
    }
    return 0;
}

/* During an upload the runtime answers early only to refuse: look without blocking. */
static int early_refusal(strongbox *s, uint64_t id, const char *what, strongbox_error *err)
{
    struct pollfd p = {s->fd, POLLIN, 0};
    if (SSL_pending(s->ssl) == 0 && s->rd.len == s->rd.off && poll(&p, 1, 0) <= 0)
        return 0;
    sb_msg m;
    if (cl_recv(s, id, &m, err) != 0)
        return -1;
    int rc = cl_response_error(&m, what, err);
    if (rc == 0)
        rc = cl_fail(err, STRONGBOX_E_PROTOCOL, "%s: unexpected early answer", what);
    sb_msg_free(&m);
    return rc;
}

typedef ssize_t (*source_fn)(void *ctx, uint8_t *buf, size_t cap);

static int put_stream(strongbox *s, source_fn src, void *ctx, uint64_t total, const char *remote,
                      int append, strongbox_error *err)
{
    char what[SB_PATH_MAX + 16];
    snprintf(what, sizeof what, "put %s", remote);
    uint64_t limit = sb_policy_limits_of(s->policy)->fs_bytes;
    if (total > limit)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: %llu bytes, more than the policy's filesystem "
                       "limit (fs_bytes %llu): nothing was sent", what,
                       (unsigned long long)total, (unsigned long long)limit);
    uint64_t id = ++s->next_id, done = 0;
    sb_msg m;
    sb_msg_init(&m, SB_MSG_PUT_BEGIN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_MODE) | SB_F(SB_K_SIZE);
    m.id = id;
    m.path = remote;
    m.mode = append ? SB_PUT_APPEND : SB_PUT_WRITE;
    m.size = total;
    if (cl_send(s, &m, err) != 0)
        return -1;
    /* Each chunk is read right behind room for its frame head and written as one frame: no
     * copy into an encoder, one TLS write per chunk. */
    uint8_t *frame = malloc(SB_HEAD_MAX + SB_CHUNK_SIZE), *chunk = frame + SB_HEAD_MAX;
    if (!frame)
        return cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
    /* Corked, the 16 KiB TLS records leave in full-size segments (a quarter of the packets on
     * loopback); uncorked again before put-end, whose answer we wait for. */
    int on = 1, off = 0;
    setsockopt(s->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    int rc = 0;
    for (unsigned n = 0;; n++) {
        ssize_t got = src(ctx, chunk, SB_CHUNK_SIZE);
        if (got < 0) {
            rc = cl_fail(err, STRONGBOX_E_LOCAL, "reading the local data: %s", strerror(errno));
            break;
        }
        if (got == 0)
            break;
        sb_msg_init(&m, SB_MSG_PUT_CHUNK);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        m.id = id;
        m.data = (sb_bytes){chunk, (size_t)got};
        uint8_t head[SB_HEAD_MAX];
        size_t hl;
        sb_err e = {0};
        if (sb_msg_encode_head(&m, head, sizeof head, &hl, &e) != 0) {
            rc = cl_fail(err, STRONGBOX_E_USAGE, "%s", e.msg);
            break;
        }
        memcpy(chunk - hl, head, hl);
        if ((rc = send_bytes(s, chunk - hl, hl + (size_t)got, err)) != 0)
            break;
        done += (uint64_t)got;
        if (s->progress)
            s->progress(s->progress_ctx, done, total);
        if ((n < 16 || n % 16 == 15) && (rc = early_refusal(s, id, what, err)) != 0)
            break;
    }
    free(frame);
    setsockopt(s->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
    if (rc != 0)
        return -1; /* the runtime discards an upload that never reached put-end */
    if (done != total)
        return cl_fail(err, STRONGBOX_E_LOCAL, "the local data changed size during the upload");
    sb_msg_init(&m, SB_MSG_PUT_END);
    m.present = SB_F(SB_K_ID);
    m.id = id;
    sb_msg resp;
    if (cl_send(s, &m, err) != 0 || cl_recv(s, id, &resp, err) != 0)
        return -1;
    rc = cl_response_error(&resp, what, err);
    sb_msg_free(&resp);
    return rc;
}

static ssize_t read_fd_source(void *ctx, uint8_t *buf, size_t cap)
{
    int fd = *(int *)ctx;
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

struct mem_src {
    const uint8_t *p;
    size_t left;
};

static ssize_t mem_source(void *ctx, uint8_t *buf, size_t cap)
{
    struct mem_src *m = ctx;
    size_t n = m->left < cap ? m->left : cap;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return (ssize_t)n;
}

int strongbox_put_file(strongbox *s, const char *local, const char *remote, int append,
                       strongbox_error *err)
{
    int fd = open(local, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cl_fail(err, STRONGBOX_E_LOCAL, "cannot open %s: %s", local, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s is not a regular file", local);
    }
    int rc = put_stream(s, read_fd_source, &fd, (uint64_t)st.st_size, remote, append, err);
    close(fd);
    return rc;
}

int strongbox_put_buffer(strongbox *s, const void *data, size_t len, const char *remote, int append,
                         strongbox_error *err)
{
    struct mem_src m = {data, len};
    return put_stream(s, mem_source, &m, len, remote, append, err);
}

typedef int (*sink_fn)(void *ctx, const uint8_t *data, size_t len);

static int get_stream_as(strongbox *s, sb_msg_type type, const char *remote, uint64_t max,
                         sink_fn sink, void *ctx, strongbox_error *err)
{
    char what[SB_PATH_MAX + 16];
    snprintf(what, sizeof what, "%s %s", type == SB_MSG_GET_SEALED ? "get --sealed" : "get", remote);
    sb_msg m, resp;
    sb_msg_init(&m, type);
    m.present = SB_F(SB_K_PATH);
    m.path = remote;
    if (request(s, &m, &resp, what, err) != 0)
        return -1;
    uint64_t id = m.id, total = resp.size, done = 0;
    int has_size = (resp.present & SB_F(SB_K_SIZE)) != 0;
    sb_msg_free(&resp);
    if (!has_size)
        return cl_fail(err, STRONGBOX_E_PROTOCOL, "%s: the answer has no size", what);
    if (total > max)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: %llu bytes, more than the limit %llu", what,
                       (unsigned long long)total, (unsigned long long)max);
    while (done < total) {
        if (cl_recv(s, id, &m, err) != 0)
            return -1;
        if (m.type != SB_MSG_CHUNK || !(m.present & SB_F(SB_K_DATA)) ||
            m.data.len > total - done) {
            int rc = m.type == SB_MSG_RESPONSE ? cl_response_error(&m, what, err) : -1;
            if (rc == 0 || m.type != SB_MSG_RESPONSE)
                cl_fail(err, STRONGBOX_E_PROTOCOL, "%s: malformed chunk stream", what);
            sb_msg_free(&m);
            return -1;
        }
        int rc = sink(ctx, m.data.p, m.data.len);
        done += m.data.len;
        sb_msg_free(&m);
        if (rc != 0)
            return cl_fail(err, STRONGBOX_E_LOCAL, "writing the local copy: %s", strerror(errno));
        if (s->progress)
            s->progress(s->progress_ctx, done, total);
    }
    return 0;
}

static int get_stream(strongbox *s, const char *remote, uint64_t max, sink_fn sink, void *ctx,
                      strongbox_error *err)
{
    return get_stream_as(s, SB_MSG_GET, remote, max, sink, ctx, err);
}

static int fd_sink(void *ctx, const uint8_t *data, size_t len)
{
    int fd = *(int *)ctx;
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int get_file_as(strongbox *s, sb_msg_type type, const char *remote, const char *local,
                       strongbox_error *err)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.part.%ld", local, (long)getpid()) >= (int)sizeof tmp)
        return cl_fail(err, STRONGBOX_E_USAGE, "local path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return cl_fail(err, STRONGBOX_E_LOCAL, "cannot create %s: %s", tmp, strerror(errno));
    int rc = get_stream_as(s, type, remote, UINT64_MAX, fd_sink, &fd, err);
    if (rc == 0 && (fsync(fd) != 0 || close(fd) != 0)) {
        rc = cl_fail(err, STRONGBOX_E_LOCAL, "cannot finish %s: %s", tmp, strerror(errno));
        fd = -1;
    } else if (rc == 0) {
        fd = -1;
        if (rename(tmp, local) != 0)
            rc = cl_fail(err, STRONGBOX_E_LOCAL, "cannot rename %s to %s: %s", tmp, local,
                         strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int strongbox_get_file(strongbox *s, const char *remote, const char *local, strongbox_error *err)
{
    return get_file_as(s, SB_MSG_GET, remote, local, err);
}

int strongbox_get_sealed_file(strongbox *s, const char *remote, const char *local,
                              strongbox_error *err)
{
    return get_file_as(s, SB_MSG_GET_SEALED, remote, local, err);
}

struct mem_sink {
    uint8_t *p;
    size_t len, cap;
};

static int mem_sink_fn(void *ctx, const uint8_t *data, size_t len)
{
    struct mem_sink *m = ctx;
    if (m->len + len + 1 > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len + 1)
            cap *= 2;
        uint8_t *p = realloc(m->p, cap);
        if (!p) {
            errno = ENOMEM;
            return -1;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, len);
    m->len += len;
    return 0;
}

int strongbox_get_buffer(strongbox *s, const char *remote, size_t max_len, uint8_t **data,
                         size_t *len, strongbox_error *err)
{
    struct mem_sink m = {0};
    *data = NULL;
    *len = 0;
    if (get_stream(s, remote, max_len, mem_sink_fn, &m, err) != 0 ||
        mem_sink_fn(&m, (const uint8_t *)"", 0) != 0) {
        free(m.p);
        return -1;
    }
    m.p[m.len] = '\0';
    *data = m.p;
    *len = m.len;
    return 0;
}

static uint8_t *copy_bytes(const sb_bytes *b, size_t *len)
{
    uint8_t *p = malloc(b->len + 1);
    if (p) {
        memcpy(p, b->p, b->len);
        p[b->len] = '\0';
        *len = b->len;
    }
    return p;
}

/* The receipt that follows a run's response: one chunk of exactly the announced size. */
static int receive_receipt(strongbox *s, uint64_t id, uint64_t size, strongbox_run_result *res,
                           strongbox_error *err)
{
    sb_msg c;
    if (cl_recv(s, id, &c, err) != 0)
        return -1;
    if (c.type != SB_MSG_CHUNK || c.data.len != size || size == 0) {
        sb_msg_free(&c);
        return cl_fail(err, STRONGBOX_E_PROTOCOL, "the runtime announced a receipt of %llu bytes "
                       "but sent something else", (unsigned long long)size);
    }
    res->receipt = copy_bytes(&c.data, &res->receipt_len);
    sb_msg_free(&c);
    return res->receipt ? 0 : cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
}

/* A run (program set) or a pipeline run (pipeline set). */
static int run_request(strongbox *s, const char *program, const char *pipeline,
                       const char *const *args, size_t nargs, uint32_t flags,
                       strongbox_run_result *res, strongbox_error *err)
{
    memset(res, 0, sizeof *res);
    if (nargs > SB_ARGS_MAX)
        return cl_fail(err, STRONGBOX_E_USAGE, "too many program arguments (at most %d)",
                       SB_ARGS_MAX);
    char what[SB_PATH_MAX + 16];
    snprintf(what, sizeof what, "%s %s", pipeline ? "pipeline" : "run", pipeline ? pipeline : program);
    sb_msg m, resp;
    if (pipeline && strlen(pipeline) > SB_NAME_MAX)
        return cl_fail(err, STRONGBOX_E_USAGE, "pipeline name longer than %d bytes", SB_NAME_MAX);
    sb_msg_init(&m, pipeline ? SB_MSG_RUN_PIPELINE : SB_MSG_RUN);
    if (pipeline) {
        m.present = SB_F(SB_K_NAME);
        m.name = pipeline;
    } else {
        m.present = SB_F(SB_K_PATH) | (nargs ? SB_F(SB_K_ARGS) : 0);
        m.path = program;
    }
    for (size_t i = 0; i < nargs; i++)
        m.args[i] = args[i];
    m.n_args = nargs;
    if (flags) {
        m.present |= SB_F(SB_K_FLAGS);
        m.flags = flags;
    }
    if (request(s, &m, &resp, what, err) != 0)
        return -1;
    res->outcome = (strongbox_outcome)resp.outcome;
    res->exit_code = (uint32_t)resp.exit_code;
    if (resp.present & SB_F(SB_K_REASON))
        snprintf(res->reason, sizeof res->reason, "%s", resp.reason);
    res->out = copy_bytes(&resp.out, &res->out_len);
    res->err = copy_bytes(&resp.err, &res->err_len);
    int has_receipt = (resp.present & SB_F(SB_K_SIZE)) != 0;
    uint64_t receipt_size = resp.size;
    sb_msg_free(&resp);
    if (!res->out || !res->err) {
        strongbox_run_result_free(res);
        return cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
    }
    if (!(flags & SB_RUN_RECEIPT))
        return 0;
    if (!has_receipt) /* the run happened; res keeps it for the caller */
        return cl_fail(err, STRONGBOX_E_REFUSED, "%s: the runtime made no receipt: %s", what,
                       res->reason[0] ? res->reason : "no reason given");
    return receive_receipt(s, m.id, receipt_size, res, err);
}

int strongbox_run(strongbox *s, const char *program, const char *const *args, size_t nargs,
                  strongbox_run_result *res, strongbox_error *err)
{
    return run_request(s, program, NULL, args, nargs, 0, res, err);
}

int strongbox_run_with_receipt(strongbox *s, const char *program, const char *const *args,
                               size_t nargs, strongbox_run_result *res, strongbox_error *err)
{
    return run_request(s, program, NULL, args, nargs, SB_RUN_RECEIPT, res, err);
}

int strongbox_run_pipeline(strongbox *s, const char *name, int want_receipt,
                           strongbox_run_result *res, strongbox_error *err)
{
    return run_request(s, NULL, name, NULL, 0, want_receipt ? SB_RUN_RECEIPT : 0, res, err);
}

void strongbox_run_result_free(strongbox_run_result *res)
{
    free(res->out);
    free(res->err);
    free(res->receipt);
    res->out = res->err = res->receipt = NULL;
}

static int text_request(strongbox *s, sb_msg_type type, const char *what, char **text,
                        strongbox_error *err)
{
    *text = NULL;
    sb_msg m, resp;
    sb_msg_init(&m, type);
    if (request(s, &m, &resp, what, err) != 0)
        return -1;
    size_t len;
    if (type == SB_MSG_STATUS)
        *text = (char *)copy_bytes(&resp.data, &len);
    else
        *text = strdup((resp.present & SB_F(SB_K_REASON)) ? resp.reason : "");
    sb_msg_free(&resp);
    return *text ? 0 : cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
}

int strongbox_status(strongbox *s, char **json, strongbox_error *err)
{
    return text_request(s, SB_MSG_STATUS, "status", json, err);
}

int strongbox_end_vote(strongbox *s, char **tally, strongbox_error *err)
{
    return text_request(s, SB_MSG_END_VOTE, "end vote", tally, err);
}
