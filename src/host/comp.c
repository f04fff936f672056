/* comp.c - computations: one isolate per policy hash, its channel, attestation relay, lifetime. */
#include "attest/attest.h"
#include "host/host_impl.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *comp_state_name(enum comp_state s)
{
    static const char *const names[] = {"launching", "attesting", "ready", "ending", "ended"};
    return names[s];
}

struct comp *comp_find(struct host *h, const uint8_t hash[32])
{
    for (struct comp *c = h->comps; c; c = c->next)
        if (memcmp(c->hash, hash, 32) == 0)
            return c;
    return NULL;
}

struct comp *comp_by_serial(struct host *h, uint64_t serial)
{
    for (struct comp *c = h->comps; c; c = c->next)
        if (c->serial == serial)
            return c;
    return NULL;
}

size_t comp_queued(const struct comp *c)
{
    return buf_size(&c->out) + c->piped;
}

int comp_pipe(struct comp *c)
{
    if (c->pipe[0] >= 0)
        return 0;
    if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        c->pipe[0] = c->pipe[1] = -1;
        return -1;
    }
    fcntl(c->pipe[1], F_SETPIPE_SZ, (int)HOST_READ_CHUNK); /* else 64 KiB per splice */
    return 0;
}

/* Bytes queued to the runtime go out in order: c->out first, then what waits in c->pipe. Before
 * another frame is queued, the pipe's bytes move to c->out (a copy, but rare: a party is not read
 * while its channel is busy, so during an upload nothing else queues up). Returns -1 when out of
 * memory (the bytes are lost and the runtime sees a broken TLS stream in that session). */
static int unpipe(struct host *h, struct comp *c, bool keep)
{
    int rc = keep ? 0 : -1;
    while (c->piped > 0) {
        ssize_t r = read(c->pipe[0], h->chunk, c->piped < HOST_READ_CHUNK ? c->piped
                                                                        : HOST_READ_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1; /* cannot happen: the bytes are in the pipe */
        if (rc == 0 && buf_append(&c->out, h->chunk, (size_t)r) != 0)
            rc = -1;
        c->piped -= (size_t)r;
    }
    return rc;
}

/* Splices what waits in the pipe to the channel while it takes it. Returns -1 on a hard error. */
static int flush_pipe(struct comp *c)
{
    while (c->piped > 0 && buf_size(&c->out) == 0) {
        ssize_t w = splice(c->pipe[0], NULL, c->src.fd, NULL, c->piped,
                           SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
        if (w > 0)
            c->piped -= (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else
            return w < 0 && errno == EAGAIN ? 0 : -1;
    }
    return 0;
}

void comp_update_events(struct host *h, struct comp *c)
{
    if (c->src.fd < 0 || c->chan_eof)
        return;
    /* Always read: every session's bytes to its party are bounded by its credit window, so a
     * party that does not read stalls only its own session, never the channel. */
    uint32_t ev = EPOLLIN | (comp_queued(c) ? EPOLLOUT : 0);
    if (ev != c->src.events)
        host_watch(h, &c->src, ev);
}

/* Backpressure: parties stop being read while the runtime is behind, and are read again as soon
 * as it caught up, whatever emptied the queue: a write of a later frame can flush it at once, and
 * then no EPOLLOUT comes to resume them (that lost wake-up left parties unread until their
 * client gave up after 30 s). */
static void pace_parties(struct host *h, struct comp *c)
{
    size_t q = comp_queued(c);
    if (q > relay_high(h) || (q <= relay_low(h) && c->parties_paused)) {
        c->parties_paused = false; /* conn_update_events sets it again for those it pauses */
        for (struct conn *k = c->conns; k; k = k->cnext)
            conn_update_events(h, k);
    }
}

static void after_send(struct host *h, struct comp *c)
{
    pace_parties(h, c);
    comp_update_events(h, c);
}

/* Queues a frame to the runtime and writes what the channel takes now. */
void comp_send(struct host *h, struct comp *c, const sb_msg *m)
{
    if (c->state == C_DEAD || c->src.fd < 0)
        return;
    uint8_t *frame;
    size_t len;
    sb_err err = {0};
    if (sb_msg_encode(m, &frame, &len, &err) != 0) {
        host_log(h, "error", "computation %.16s: cannot encode %s: %s", c->hex,
                 sb_msg_type_name(m->type), err.msg);
        return;
    }
    int rc = unpipe(h, c, true) == 0 ? buf_append(&c->out, frame, len) : -1;
    free(frame);
    if (rc != 0 || buf_flush(&c->out, c->src.fd) != 0)
        host_log(h, "error", "computation %.16s: channel write failed", c->hex);
    after_send(h, c);
}

void comp_send_data(struct host *h, struct comp *c, uint64_t sid, const uint8_t *data, size_t n)
{
    if (c->state == C_DEAD || c->src.fd < 0)
        return;
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_DATA);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
    m.id = sid;
    m.data = (sb_bytes){data, n};
    uint8_t head[SB_HEAD_MAX];
    size_t hl;
    sb_err err = {0};
    if (sb_msg_encode_head(&m, head, sizeof head, &hl, &err) != 0) {
        host_log(h, "error", "computation %.16s: cannot encode session-data: %s", c->hex,
                 err.msg);
        return;
    }
    if (unpipe(h, c, true) != 0 || buf_send2(&c->out, c->src.fd, head, hl, data, n) != 0)
        host_log(h, "error", "computation %.16s: channel write failed", c->hex);
    after_send(h, c);
}

void comp_send_pipe(struct host *h, struct comp *c, uint64_t sid, size_t n)
{
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_DATA);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
    m.id = sid;
    m.data = (sb_bytes){h->chunk, n}; /* the encoder reads one byte of it, which it drops */
    uint8_t head[SB_HEAD_MAX];
    size_t hl = 0, sent = 0;
    sb_err err = {0};
    /* The caller spliced them in while nothing was queued: the head goes first, written or
     * alone in c->out, then the pipe follows it. */
    c->piped += n;
    int rc = sb_msg_encode_head(&m, head, sizeof head, &hl, &err);
    if (rc == 0) {
        ssize_t w;
        do
            w = write(c->src.fd, head, hl);
        while (w < 0 && errno == EINTR);
        sent = w > 0 ? (size_t)w : 0;
        if (sent < hl)
            rc = buf_append(&c->out, head + sent, hl - sent);
    }
    if (rc == 0)
        rc = flush_pipe(c);
    else
        unpipe(h, c, false); /* no head: drop the bytes rather than corrupt the stream */
    if (rc != 0)
        host_log(h, "error", "computation %.16s: relaying %zu bytes to the channel failed", c->hex,
                 n);
    after_send(h, c);
}

/* Closes every connection of c; waiting ones get the reason as a plaintext error line. */
static void drop_conns(struct host *h, struct comp *c)
{
    while (c->conns) {
        struct conn *k = c->conns;
        if (k->state == K_WAIT_READY) {
            conn_comp_ready(h, k); /* answers with the failure reason */
        } else {
            c->conns = k->cnext;
            c->bytes_up += k->bytes_up;
            c->bytes_down += k->bytes_down;
            k->comp = NULL;
            k->cnext = NULL;
            /* Let already-relayed bytes reach the party, then close. */
            k->state = K_CLOSING;
            conn_update_events(h, k);
            if (buf_size(&k->out) == 0)
                conn_close(h, k);
        }
    }
    c->n_sessions = 0;
}

/* The computation is over (crash, shutdown rule, failure): release the isolate, keep the record. */
static void comp_end(struct host *h, struct comp *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void comp_end(struct host *h, struct comp *c, const char *fmt, ...)
{
    if (c->state == C_DEAD)
        return;
    if (c->reason[0] == '\0' || c->state != C_ENDING) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->reason, sizeof c->reason, fmt, ap);
        va_end(ap);
    }
    c->state = C_DEAD;
    c->ended_at = time(NULL);
    store_abort(h, c);
    host_unwatch(h, &c->src);
    sb_isolate_free(c->iso); /* kills if still running; closes the channel */
    c->iso = NULL;
    c->src.fd = -1;
    sb_frame_reader_free(&c->rd);
    buf_free(&c->out);
    for (int i = 0; i < 2; i++)
        if (c->pipe[i] >= 0)
            close(c->pipe[i]);
    c->pipe[0] = c->pipe[1] = -1;
    c->piped = 0;
    h->n_live--;
    h->mem_used -= c->mem_budget;
    host_log(h, "info", "computation %.16s ended: %s", c->hex, c->reason);
    drop_conns(h, c);
}

static double since_launch(const struct comp *c)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - c->t_launch.tv_sec) * 1e3 +
           (double)(t.tv_nsec - c->t_launch.tv_nsec) / 1e6;
}

static void start_job(struct host *h, struct comp *c, struct job *j)
{
    sb_err err = {0};
    j->comp_serial = c->serial;
    j->notify_fd = h->jobs_wr;
    snprintf(j->url, sizeof j->url, "%s", c->attestd_url);
    memcpy(j->hash, c->hash, 32);
    h->n_jobs++;
    if (job_start(j, &err) != 0) {
        h->n_jobs--;
        job_free(j);
        comp_end(h, c, "attestation: %s", err.msg);
        return;
    }
    c->attest_pending = true;
}

static int check_policy_for_host(struct host *h, const sb_policy *p, char *why, size_t why_len)
{
    const char *plat = sb_platform_name(h->platform);
    if (!sb_policy_find_runtime(p, plat)) {
        snprintf(why, why_len, "policy accepts no runtime on platform '%s', the platform of this host",
                 plat);
        return -1;
    }
    return 0;
}

static int reserve(struct host *h, const sb_policy *p, uint64_t *budget, char *why, size_t len)
{
    const sb_host_config *cfg = h->cfg;
    /* What the isolate may legitimately use: the program's memory, the filesystem, an upload being
     * staged next to it (up to the filesystem size again) and the runtime's own overhead. It is
     * both the quota unit and the isolate's RLIMIT_AS. */
    const sb_policy_limits *l = sb_policy_limits_of(p);
    *budget = l->memory_bytes + 2 * l->fs_bytes + cfg->isolate_overhead;
    if (h->n_live >= cfg->max_isolates) {
        snprintf(why, len, "host quota: %u isolates already running (the maximum)", h->n_live);
        return -1;
    }
    if (h->mem_used + *budget > cfg->max_memory) {
        snprintf(why, len, "host quota: memory budget %llu MiB needed, %llu MiB of %llu MiB free",
                 (unsigned long long)(*budget >> 20),
                 (unsigned long long)((cfg->max_memory - h->mem_used) >> 20),
                 (unsigned long long)(cfg->max_memory >> 20));
        return -1;
    }
    return 0;
}

/* Forgets the oldest ended computations beyond HOST_MAX_DEAD. */
void comp_prune(struct host *h)
{
    unsigned dead = 0;
    for (struct comp *c = h->comps; c; c = c->next)
        dead += c->state == C_DEAD;
    while (dead > HOST_MAX_DEAD) {
        struct comp **pp, **oldest = NULL;
        for (pp = &h->comps; *pp; pp = &(*pp)->next)
            if ((*pp)->state == C_DEAD && (!oldest || (*pp)->ended_at <= (*oldest)->ended_at))
                oldest = pp;
        struct comp *c = *oldest;
        *oldest = c->next;
        sb_policy_free(c->policy);
        free(c->policy_json);
        free(c);
        dead--;
    }
}

static int launch(struct host *h, struct comp *c, char *why, size_t why_len)
{
    sb_err err = {0};
    sb_isolate_limits lim = {
        .address_space = h->cfg->sanitizer_compat ? 0 : c->mem_budget,
        .open_files = 16,
        .memory = c->mem_budget,
    };
    clock_gettime(CLOCK_MONOTONIC, &c->t_launch);
    /* Ask the service for a nonce first: its round trip overlaps the launch. */
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    j->kind = JOB_CHALLENGE;
    j->comp_serial = c->serial;
    j->notify_fd = h->jobs_wr;
    snprintf(j->url, sizeof j->url, "%s", c->attestd_url);
    if (job_start(j, &err) != 0) {
        job_free(j);
        snprintf(why, why_len, "attestation: %s", err.msg);
        return -1;
    }
    h->n_jobs++;
    c->attest_pending = true;
    if (sb_isolate_launch(h->platform, &lim, &c->iso, &err) != 0) {
        snprintf(why, why_len, "%s", err.msg);
        return -1; /* the caller marks it ended; the nonce, when it comes, is dropped */
    }
    c->pid = sb_isolate_pid(c->iso);
    c->launch_ms = since_launch(c);
    c->src = (struct src){SRC_CHAN, sb_isolate_channel(c->iso), 0, false};
    /* Room for a few big session-data frames in flight while the runtime decrypts (a hint: the
     * kernel caps it at net.core.wmem_max; memory is used only while bytes are in flight). */
    int sndbuf = HOST_CHAN_SNDBUF;
    setsockopt(c->src.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    sb_frame_reader_init(&c->rd, 0);
    c->state = C_LAUNCHING;
    c->launched = time(NULL);
    h->n_live++;
    h->mem_used += c->mem_budget;
    const char *warn = sb_isolate_warnings(c->iso);
    host_log(h, warn[0] ? "warn" : "info", "computation %.16s launched: pid %d, sandbox %#x%s%s",
             c->hex, (int)c->pid, sb_isolate_sandbox(c->iso), warn[0] ? ", " : "", warn);
    comp_update_events(h, c);
    sb_msg m;
    sb_msg_init(&m, SB_MSG_INIT);
    m.present = SB_F(SB_K_DATA) | SB_F(SB_K_PLATFORM);
    m.data = (sb_bytes){c->policy_json, c->policy_len};
    m.platform = sb_platform_name(h->platform);
    comp_send(h, c, &m);
    return 0;
}

int comp_deploy(struct host *h, const uint8_t *json, size_t len, struct comp **out, char *why,
                size_t why_len)
{
    sb_err err = {0};
    sb_policy *p;
    *out = NULL;
    if (sb_policy_parse(json, len, time(NULL), 0, &p, &err) != 0) {
        snprintf(why, why_len, "policy refused: %s", err.msg);
        return -1;
    }
    struct comp *c = comp_find(h, sb_policy_hash(p));
    if (c && c->state != C_DEAD) { /* idempotent: same hash, same computation */
        sb_policy_free(p);
        *out = c;
        return 0;
    }
    uint64_t budget;
    if (check_policy_for_host(h, p, why, why_len) != 0 || reserve(h, p, &budget, why, why_len)) {
        sb_policy_free(p);
        return -1;
    }
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) {
            sb_policy_free(p);
            snprintf(why, why_len, "out of memory");
            return -1;
        }
        c->next = h->comps;
        h->comps = c;
    } else { /* a new isolate for an ended computation with the same policy */
        sb_policy_free(c->policy);
        free(c->policy_json);
        struct comp *next = c->next;
        memset(c, 0, sizeof *c);
        c->next = next;
    }
    c->serial = ++h->next_serial;
    c->policy = p;
    c->src.fd = -1;
    c->pipe[0] = c->pipe[1] = -1;
    c->mem_budget = budget;
    memcpy(c->hash, sb_policy_hash(p), 32);
    memcpy(c->hex, sb_policy_hash_hex(p), 65);
    snprintf(c->attestd_url, sizeof c->attestd_url, "%s",
             h->cfg->attestd_url ? h->cfg->attestd_url : sb_policy_attestation_url(p));
    c->policy_json = malloc(len);
    if (!c->policy_json) {
        c->state = C_DEAD;
        snprintf(c->reason, sizeof c->reason, "out of memory");
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    memcpy(c->policy_json, json, len);
    c->policy_len = len;
    if (launch(h, c, why, why_len) != 0) {
        c->state = C_DEAD;
        c->ended_at = time(NULL);
        snprintf(c->reason, sizeof c->reason, "launch failed: %s", why);
        host_log(h, "error", "computation %.16s: launch failed: %s", c->hex, why);
        return -1;
    }
    *out = c;
    return 0;
}

/* ---- messages from the runtime ---- */

static char *csr_der_to_pem(const sb_bytes *der)
{
    const unsigned char *p = der->p;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)der->len);
    if (!req || p != der->p + der->len) {
        X509_REQ_free(req);
        return NULL;
    }
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (b && PEM_write_bio_X509_REQ(b, req)) {
        char *data;
        long n = BIO_get_mem_data(b, &data);
        out = malloc((size_t)n + 1);
        if (out) {
            memcpy(out, data, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(b);
    X509_REQ_free(req);
    return out;
}

static void on_attest_request(struct host *h, struct comp *c, const sb_msg *m)
{
    if (c->state != C_ATTESTING || c->attest_pending) {
        comp_end(h, c, "runtime protocol error: attest-request out of sequence");
        return;
    }
    if (memcmp(m->hash.p, c->hash, 32) != 0) {
        comp_end(h, c, "runtime asked attestation for another policy hash");
        return;
    }
    c->request_ms = since_launch(c);
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        comp_end(h, c, "out of memory");
        return;
    }
    j->kind = JOB_ATTEST;
    snprintf(j->platform, sizeof j->platform, "%s", m->platform);
    memcpy(j->nonce, c->nonce, 32);
    sb_err err = {0};
    if (m->present & SB_F(SB_K_EVIDENCE)) { /* produced inside (hardware platforms) */
        j->evidence = malloc(m->evidence.len ? m->evidence.len : 1);
        if (j->evidence) {
            memcpy(j->evidence, m->evidence.p, m->evidence.len);
            j->evidence_len = m->evidence.len;
        }
    } else if (sb_platform_evidence(h->platform, m->binding.p, m->binding.len, &j->evidence,
                                    &j->evidence_len, &err) != 0) {
        job_free(j);
        comp_end(h, c, "evidence: %s", err.msg);
        return;
    }
    j->csr_pem = csr_der_to_pem(&m->data);
    if (!j->evidence || !j->csr_pem) {
        job_free(j);
        comp_end(h, c, "runtime sent an unusable certificate request");
        return;
    }
    start_job(h, c, j);
}

static struct conn *session_conn(struct comp *c, uint64_t sid)
{
    for (struct conn *k = c->conns; k; k = k->cnext)
        if (k->opened && k->sid == sid && k->state == K_RELAY)
            return k;
    return NULL;
}

static void on_session_flow(struct host *h, struct comp *c, const sb_msg *m)
{
    struct conn *k = session_conn(c, m->id);
    if (k && m->type == SB_MSG_SESSION_AUTH)
        k->authed = true;
    else if (k)
        conn_credit(h, k, m->size);
}

static void on_session_data(struct host *h, struct comp *c, const sb_msg *m, bool close)
{
    for (struct conn *k = c->conns; k; k = k->cnext) {
        if (!k->opened || k->sid != m->id || k->state != K_RELAY)
            continue;
        if (m->present & SB_F(SB_K_DATA))
            conn_deliver(h, k, m->data.p, m->data.len);
        if (close && (m->present & SB_F(SB_K_REASON)))
            host_log(h, "info", "conn %llu (%s): session %llu closed by the runtime: %s: %s",
                     (unsigned long long)k->id, k->peer, (unsigned long long)k->sid,
                     sb_status_name((int)m->status), m->reason);
        if (close) {
            k->state = K_CLOSING;
            conn_update_events(h, k);
            if (buf_size(&k->out) == 0)
                conn_close(h, k);
        }
        return;
    }
    /* The party already left: the bytes have nowhere to go. */
}

static void on_ready(struct host *h, struct comp *c, const sb_msg *m)
{
    if (c->state != C_ATTESTING || memcmp(m->hash.p, c->hash, 32) != 0) {
        comp_end(h, c, "runtime protocol error: ready out of sequence or for another policy");
        return;
    }
    c->state = C_READY;
    c->ready_at = time(NULL);
    c->ready_ms = since_launch(c);
    host_log(h, "info", "computation %.16s ready (launch %.1f ms, + attestation %.1f ms)", c->hex,
             c->launch_ms, c->ready_ms - c->launch_ms);
    for (struct conn *k = c->conns, *next; k; k = next) {
        next = k->cnext;
        if (k->state == K_WAIT_READY)
            conn_comp_ready(h, k);
    }
}

static void on_frame(struct host *h, struct comp *c, const sb_msg *m)
{
    switch (m->type) {
    case SB_MSG_ATTEST_REQUEST:
        on_attest_request(h, c, m);
        break;
    case SB_MSG_READY:
        on_ready(h, c, m);
        break;
    case SB_MSG_SESSION_DATA:
        on_session_data(h, c, m, false);
        break;
    case SB_MSG_SESSION_CLOSE:
        on_session_data(h, c, m, true);
        break;
    case SB_MSG_SESSION_CREDIT:
    case SB_MSG_SESSION_AUTH:
        on_session_flow(h, c, m);
        break;
    case SB_MSG_SHUTDOWN:
        snprintf(c->reason, sizeof c->reason, "shutdown by the runtime: %s (%s)",
                 m->present & SB_F(SB_K_REASON) ? m->reason : "no reason given",
                 sb_status_name((int)m->status));
        c->state = C_ENDING;
        host_log(h, "info", "computation %.16s: %s", c->hex, c->reason);
        break;
    case SB_MSG_KEEP_BEGIN: /* sealed results the policy lets the host keep (store.c) */
    case SB_MSG_KEEP_DATA:
    case SB_MSG_KEEP_DONE: {
        char why[SB_PATH_MAX + 200];
        if (store_on_frame(h, c, m, why, sizeof why) != 0) {
            c->reason[0] = '\0'; /* this, not the shutdown's reason, is why it ended */
            comp_end(h, c, "runtime protocol error: %s", why);
        }
        c->keep_progress_at = time(NULL);
        break;
    }
    case SB_MSG_EVENT: /* the runtime's own status lines: it never puts party data in them */
        host_log(h, m->level >= SB_LVL_WARN ? "warn" : "info", "runtime %.16s: %s", c->hex,
                 m->reason);
        break;
    default:
        comp_end(h, c, "runtime protocol error: unexpected %s", sb_msg_type_name(m->type));
    }
}

static void read_channel(struct host *h, struct comp *c)
{
    sb_err err = {0};
    for (int rounds = 0; rounds < 64 && c->state != C_DEAD; rounds++) {
        long n = sb_frame_reader_read_fd(&c->rd, c->src.fd, &err);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            /* The isolate closed its end: it is exiting; reaping gives the reason. */
            if (n < 0 && err.code)
                comp_end(h, c, "runtime protocol error: %s", err.msg);
            else {
                host_unwatch(h, &c->src);
                c->chan_eof = true;
                comp_check_exits(h);
            }
            return;
        }
        const uint8_t *payload;
        size_t len;
        int r;
        while ((r = sb_frame_reader_next(&c->rd, &payload, &len, &err)) == 1) {
            sb_msg m;
            if (sb_msg_decode(payload, len, &m, &err) != 0) {
                comp_end(h, c, "runtime protocol error: %s", err.msg);
                return;
            }
            on_frame(h, c, &m);
            sb_msg_free(&m);
            if (c->state == C_DEAD)
                return;
        }
        if (r < 0) {
            comp_end(h, c, "runtime protocol error: %s", err.msg);
            return;
        }
        if (n < 0)
            return;
    }
}

/* The isolate exited: what it wrote before is still readable; take it all before ending. */
static void drain_channel(struct host *h, struct comp *c)
{
    char b;
    while (c->state != C_DEAD && !c->chan_eof && c->src.fd >= 0) {
        read_channel(h, c);
        if (c->state != C_DEAD && !c->chan_eof && c->src.fd >= 0 &&
            recv(c->src.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN)
            break; /* nothing more, yet the channel is open (another process holds its end) */
    }
}

void comp_on_channel(struct host *h, struct comp *c, uint32_t events)
{
    if (events & EPOLLOUT) {
        if (buf_flush(&c->out, c->src.fd) != 0 || flush_pipe(c) != 0) {
            host_unwatch(h, &c->src);
            c->chan_eof = true;
            comp_check_exits(h);
            return;
        }
        pace_parties(h, c);
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        read_channel(h, c);
    if (c->state != C_DEAD)
        comp_update_events(h, c);
}

void comp_on_job(struct host *h, struct job *j)
{
    h->n_jobs--;
    struct comp *c = comp_by_serial(h, j->comp_serial);
    if (!c || c->state == C_DEAD) {
        job_free(j);
        return;
    }
    c->attest_pending = false;
    sb_msg m;
    if (j->kind == JOB_CHALLENGE) {
        if (!j->ok) {
            comp_end(h, c, "attestation service (%s): %s", c->attestd_url, j->err.msg);
        } else {
            memcpy(c->nonce, j->nonce, 32);
            c->challenge_ms = since_launch(c);
            c->state = C_ATTESTING;
            sb_msg_init(&m, SB_MSG_ATTEST_CHALLENGE);
            m.present = SB_F(SB_K_NONCE);
            m.nonce = (sb_bytes){c->nonce, 32};
            comp_send(h, c, &m);
        }
    } else {
        sb_msg_init(&m, SB_MSG_ATTEST_RESULT);
        m.present = SB_F(SB_K_STATUS);
        if (j->ok) {
            c->issued_ms = since_launch(c);
            m.status = SB_ST_OK;
            m.present |= SB_F(SB_K_DATA);
            m.data = (sb_bytes){(const uint8_t *)j->chain_pem, strlen(j->chain_pem)};
            comp_send(h, c, &m);
            host_log(h, "info", "computation %.16s: attestation service issued a certificate",
                     c->hex);
        } else {
            m.status = SB_ST_ATTEST_FAILED;
            m.present |= SB_F(SB_K_REASON);
            m.reason = j->err.msg;
            comp_send(h, c, &m);
            comp_end(h, c, "attestation refused (HTTP %d): %s", j->http_status, j->err.msg);
        }
    }
    job_free(j);
}

void comp_check_exits(struct host *h)
{
    for (struct comp *c = h->comps; c; c = c->next) {
        sb_isolate_exit ex;
        if (c->state == C_DEAD || !c->iso || sb_isolate_reap(c->iso, &ex) != 1)
            continue;
        char desc[96];
        sb_isolate_exit_describe(&ex, desc, sizeof desc);
        if (c->state == C_ENDING && !c->chan_eof)
            drain_channel(h, c); /* its last frames (kept envelopes) are still in the socket */
        if (c->state == C_DEAD)
            continue;
        if (c->state == C_ENDING)
            comp_end(h, c, "%s", c->reason); /* the runtime said why; it then exited */
        else
            comp_end(h, c, "isolate %s unexpectedly (pid %d)", desc, (int)c->pid);
    }
}

void comp_tick(struct host *h, time_t now)
{
    for (struct comp *c = h->comps; c; c = c->next) {
        if ((c->state == C_LAUNCHING || c->state == C_ATTESTING) &&
            now - c->launched > (time_t)h->cfg->ready_timeout_s)
            comp_end(h, c, "not attested within %u s%s", h->cfg->ready_timeout_s,
                     sb_platform_ready_hint(h->platform));
        /* Backstop for the runtime's own expiry handling. */
        else if (c->state != C_DEAD && c->policy && now > sb_policy_expires(c->policy) + 10 &&
                 now > c->keep_progress_at + 10) /* an isolate handing over kept results */
            comp_end(h, c, "policy expired");
        else if (h->stopping && c->state != C_DEAD && now >= h->stop_deadline)
            comp_end(h, c, "host stopped");
    }
}

void comp_stop(struct host *h, struct comp *c, const char *reason)
{
    c->reason[0] = '\0'; /* even a computation already ending gets the operator's reason */
    comp_end(h, c, "stopped by the operator: %s", reason);
}

void comp_stop_all(struct host *h)
{
    for (struct comp *c = h->comps; c; c = c->next) {
        if (c->state == C_DEAD)
            continue;
        sb_msg m;
        sb_msg_init(&m, SB_MSG_SHUTDOWN);
        m.present = SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
        m.status = SB_ST_SHUTTING_DOWN;
        m.reason = "the host is stopping";
        comp_send(h, c, &m);
        if (c->state != C_ENDING)
            snprintf(c->reason, sizeof c->reason, "host stopped");
        c->state = C_ENDING;
    }
}

void comp_free_all(struct host *h)
{
    while (h->comps) {
        struct comp *c = h->comps;
        if (c->state != C_DEAD)
            comp_end(h, c, "host stopped");
        h->comps = c->next;
        sb_policy_free(c->policy);
        free(c->policy_json);
        free(c);
    }
}
