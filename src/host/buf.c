/* buf.c - byte queues for relayed data, and the attestation-service worker threads. */
#include "attest/attest.h"
#include "host/host_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

size_t buf_size(const struct buf *b)
{
    return b->len - b->off;
}

/* Makes room for n more bytes after b->len (compacting or growing the queue). */
static int buf_reserve(struct buf *b, size_t n)
{
    if (b->off > 0 && b->off == b->len)
        b->off = b->len = 0;
    if (b->len + n <= b->cap)
        return 0;
    /* Compact first: the queue is bounded by the high-water marks, so this stays cheap. */
    if (b->off > 0) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

int buf_append_linev(struct buf *b, size_t max, const char *fmt, va_list ap)
{
    if (max < 2 || max > INT_MAX)
        return 0;
    if (buf_reserve(b, max) != 0)
        return -1;
    /* Formatted in place: the text is cut to max - 1 bytes and its NUL becomes the newline. */
    char *line = (char *)b->p + b->len;
    int n = vsnprintf(line, max, fmt, ap);
    if (n < 0)
        return 0;
    if ((size_t)n > max - 1)
        n = (int)max - 1;
    line[n++] = '\n';
    b->len += (size_t)n;
    return n;
}

int buf_append_line(struct buf *b, size_t max, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = buf_append_linev(b, max, fmt, ap);
    va_end(ap);
    return n;
}

/* Writes head + data straight to fd when nothing is queued (no user-space copy of the data), and
 * queues whatever the socket did not take. Returns 0, or -1 on a write error or out of memory. */
int buf_send2(struct buf *b, int fd, const void *head, size_t hl, const void *data, size_t n)
{
    size_t done = 0;
    if (buf_size(b) == 0) {
        struct iovec iov[2] = {{(void *)head, hl}, {(void *)data, n}};
        ssize_t w;
        do
            w = writev(fd, iov, 2);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        done = w > 0 ? (size_t)w : 0;
    }
    if (done < hl && buf_append(b, (const uint8_t *)head + done, hl - done) != 0)
        return -1;
    size_t data_done = done > hl ? done - hl : 0;
    if (data_done < n && buf_append(b, (const uint8_t *)data + data_done, n - data_done) != 0)
        return -1;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    b->off += n;
    if (b->off == b->len)
        b->off = b->len = 0;
}

void buf_free(struct buf *b)
{
    free(b->p);
    *b = (struct buf){0};
}

int buf_flush(struct buf *b, int fd)
{
    while (buf_size(b) > 0) {
        ssize_t n = write(fd, b->p + b->off, buf_size(b));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        buf_consume(b, (size_t)n);
    }
    /* Idle connections keep no buffer: matters with hundreds of idle computations. */
    if (b->cap > 65536) {
        free(b->p);
        *b = (struct buf){0};
    }
    return 0;
}

/* ---- attestation-service calls, off the event loop (HTTP with timeouts may take seconds) ---- */

static void *job_main(void *arg)
{
    struct job *j = arg;
    sb_attestd_client c;
    j->ok = 0;
    if (sb_attestd_client_init(&c, j->url, &j->err) == 0) {
        if (j->kind == JOB_CHALLENGE) {
            time_t expires;
            j->ok = sb_attestd_challenge(&c, j->nonce, &expires, &j->err) == 0;
        } else {
            j->ok = sb_attestd_attest(&c, j->platform, j->evidence, j->evidence_len, j->csr_pem,
                                      j->hash, j->nonce, &j->chain_pem, &j->http_status,
                                      &j->err) == 0;
        }
    }
    ssize_t n;
    do
        n = write(j->notify_fd, &j, sizeof j);
    while (n < 0 && errno == EINTR);
    return NULL;
}

int job_start(struct job *j, sb_err *err)
{
    pthread_attr_t attr;
    pthread_t t;
    if (pthread_attr_init(&attr) != 0)
        return sb_err_set(err, ENOMEM, "cannot start an attestation worker");
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256u << 10);
    int rc = pthread_create(&t, &attr, job_main, j);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return sb_err_set(err, rc, "cannot start an attestation worker: %s", strerror(rc));
    return 0;
}

void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->evidence);
    free(j->csr_pem);
    free(j->chain_pem);
    free(j);
}
