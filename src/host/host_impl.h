/* host_impl.h - internals of the host daemon (not a public header). */
#ifndef SB_HOST_IMPL_H
#define SB_HOST_IMPL_H

#include "host/host.h"
#include "platform/platform.h"
#include "policy/policy.h"
#include "proto/proto.h"

#include <pthread.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <stdbool.h>
#include <time.h>

#define HOST_BUF_HIGH (1u << 20)       /* --no-splice: stop reading parties above this many bytes */
#define HOST_BUF_LOW (256u << 10)      /* resume below this */
#define HOST_READ_CHUNK (256u << 10)  /* at most this many bytes of TLS per session-data frame */
#define HOST_CHAN_SNDBUF (2 << 20)     /* send buffer of the host's end of each channel */
#define HOST_MAX_CONNS 4096
#define CONN_REPLY_MAX 512             /* bytes of one reply line to a party, '\n' included */
#define HOST_MAX_DEAD 256              /* ended computations remembered for status/errors */
#define HOST_PREAMBLE_TIMEOUT_S 10
#define HOST_FIRST_BYTE_TIMEOUT_S 10   /* after OK to CONNECT: the party's first TLS bytes */
#define HOST_REFUSALS 64               /* connections over the cap kept to say "ERR busy" */
#define HOST_LINGER_S 2                /* a refused party's time to read its ERR line */
#define HOST_MAX_SESSIONS SB_MAX_SESSIONS     /* per computation, as the runtime */
#define HOST_MAX_HANDSHAKES SB_MAX_HANDSHAKES /* of which in their TLS handshake */

/* A growable byte queue with a consumed offset (compacted lazily). */
struct buf {
    uint8_t *p;
    size_t off, len, cap; /* valid bytes are p[off .. len) */
};
int buf_append(struct buf *b, const void *data, size_t n);
/* Queues one text line: fmt's text cut to at most max - 1 bytes, then '\n', so a line never
 * takes more than max bytes whatever its arguments (2 <= max <= INT_MAX). Returns the bytes
 * queued, 0 when nothing was (a formatting error or a bad max), -1 when out of memory. */
int buf_append_linev(struct buf *b, size_t max, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int buf_append_line(struct buf *b, size_t max, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int buf_send2(struct buf *b, int fd, const void *head, size_t hl, const void *data, size_t n);
size_t buf_size(const struct buf *b);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);
/* write()s as much as possible; returns 0 (maybe partial), -1 on a hard error. */
int buf_flush(struct buf *b, int fd);

enum src_type { SRC_LISTEN, SRC_CONN, SRC_CHAN, SRC_SIGNAL, SRC_JOBS, SRC_ADMIN_LISTEN, SRC_ADMIN };
struct src {
    enum src_type type;
    int fd;
    uint32_t events; /* as registered with epoll */
    bool on;         /* registered */
};

enum comp_state { C_LAUNCHING, C_ATTESTING, C_READY, C_ENDING, C_DEAD };

struct conn;
struct comp {
    struct src src; /* the channel */
    struct comp *next;
    uint64_t serial;
    uint8_t hash[32];
    char hex[65];
    sb_policy *policy;
    uint8_t *policy_json;
    size_t policy_len;
    char attestd_url[256];
    sb_isolate *iso;
    pid_t pid;
    sb_frame_reader rd;
    struct buf out;         /* frames to the runtime */
    int pipe[2];            /* party bytes spliced in, on their way to the channel (-1: none) */
    size_t piped;           /* bytes waiting in the pipe: they go out after everything in out */
    enum comp_state state;
    char reason[300];       /* why it ended / failed (shown to parties) */
    uint64_t mem_budget;
    uint8_t nonce[32];
    time_t launched, ready_at, ended_at;
    struct timespec t_launch;
    /* Milliseconds since clone: exec'd, nonce from the service, runtime's attest-request,
     * certificate from the service, runtime ready. */
    double launch_ms, challenge_ms, request_ms, issued_ms, ready_ms;
    bool chan_eof;          /* the runtime closed its end; waiting to reap */
    bool parties_paused;    /* some party is not read until the channel queue drains */
    bool attest_pending;
    uint64_t next_sid;
    struct conn *conns;     /* sessions and connections waiting for readiness */
    unsigned n_sessions;
    uint64_t bytes_up, bytes_down; /* relayed by sessions already closed (admin LIST) */
    struct store_rx *rx;    /* the sealed result being kept (store.c) */
    uint64_t kept, kept_files; /* bytes in the store for this hash; envelopes kept this time */
    bool kept_scanned, keep_warned;
    time_t keep_progress_at;  /* last keep-* frame: the expiry backstop waits while they come */
};

enum conn_state { K_PREAMBLE, K_DEPLOY_BODY, K_WAIT_READY, K_RELAY, K_CLOSING };
enum conn_kind { KIND_NONE, KIND_CONNECT, KIND_DEPLOY, KIND_STATUS, KIND_SEALED };

struct conn {
    struct src src;
    struct conn *next, *prev;     /* all connections */
    struct conn *cnext;           /* in its computation's list */
    struct comp *comp;
    enum conn_state state;
    enum conn_kind kind;
    uint64_t id, sid;
    char peer[64];
    char addr[48];                /* the peer's address without the port (per-source limits) */
    uint8_t line[SB_PREAMBLE_MAX];
    size_t line_len;
    uint8_t *body;
    size_t body_len, body_need;
    struct buf out;               /* to the party */
    bool rd_paused;
    bool counted;                 /* in its computation's n_sessions */
    bool opened;                  /* session-open sent: the party's first bytes came */
    bool authed;                  /* the runtime said the TLS handshake authenticated it */
    bool refusal;                 /* accepted over the connection cap only to say ERR busy */
    bool linger, shut;            /* after an ERR line: shut down writing, wait for the party */
    uint64_t tx_credit;           /* bytes the runtime lets us relay to it (flow control) */
    uint64_t rx_owed;             /* bytes delivered to the party, credit not yet returned */
    time_t progress_at;           /* last time the party took bytes (or had none waiting) */
    char close_why[128];          /* reason sent with our session-close ("": the party left) */
    size_t line_pending;          /* bytes of our own plaintext lines still in out */
    time_t deadline;              /* 0 = none */
    uint64_t bytes_up, bytes_down;
    int file_fd;                  /* KIND_SEALED: the envelope being served (file_left > 0) */
    uint64_t file_left;
};

enum job_kind { JOB_CHALLENGE, JOB_ATTEST };
struct job {
    enum job_kind kind;
    uint64_t comp_serial;
    char url[256];
    char platform[32];
    uint8_t *evidence;
    size_t evidence_len;
    char *csr_pem;
    uint8_t hash[32], nonce[32];
    /* results */
    int ok;
    int http_status;
    char *chain_pem;
    sb_err err;
    int notify_fd;
};
/* Runs the job on a detached thread; when done, writes the job pointer to notify_fd. */
int job_start(struct job *j, sb_err *err);
void job_free(struct job *j);

struct host {
    const sb_host_config *cfg;
    FILE *log;
    int ep;
    struct src listen, sig, jobs;
    int jobs_wr;
    sb_platform *platform;
    struct comp *comps;
    struct conn *conns;
    struct conn *grave;     /* closed, freed after the current event batch */
    unsigned n_conns, n_refusals, n_live;
    uint64_t mem_used;
    uint64_t next_serial, next_conn;
    bool stopping;
    unsigned n_jobs;        /* attestation calls in flight */
    uint8_t *chunk;         /* HOST_READ_CHUNK bytes for relaying */
    bool no_splice;         /* splice(2) refused here (or --no-splice): relay with read/write */
    time_t stop_deadline;
    struct src admin;       /* --admin-socket listener (fd -1: none) */
    struct admin_conn *admins;
    unsigned n_admins;
    time_t store_pruned_at;
};

/* Parties are not read while their computation's channel queue holds more than relay_high bytes,
 * and are read again once it is down to relay_low. With splice any queued byte pauses them: the
 * bytes then wait in the party's socket rather than being copied into the queue. */
static inline size_t relay_high(const struct host *h)
{
    return h->no_splice ? HOST_BUF_HIGH : 0;
}
static inline size_t relay_low(const struct host *h)
{
    return h->no_splice ? HOST_BUF_LOW : 0;
}

void host_log(struct host *h, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int host_watch(struct host *h, struct src *s, uint32_t events);
void host_unwatch(struct host *h, struct src *s);

/* comp.c */
struct comp *comp_find(struct host *h, const uint8_t hash[32]);
struct comp *comp_by_serial(struct host *h, uint64_t serial);
int comp_deploy(struct host *h, const uint8_t *json, size_t len, struct comp **out, char *why,
                size_t why_len);
void comp_on_channel(struct host *h, struct comp *c, uint32_t events);
void comp_on_job(struct host *h, struct job *j);
void comp_check_exits(struct host *h);
void comp_tick(struct host *h, time_t now);
void comp_send(struct host *h, struct comp *c, const sb_msg *m);
/* Relays party bytes as one session-data frame without copying them when the channel is idle. */
void comp_send_data(struct host *h, struct comp *c, uint64_t sid, const uint8_t *data, size_t n);
/* The same for n bytes the caller just spliced into c->pipe while nothing was queued (comp_queued
 * 0): the frame head is written, then the bytes are spliced on to the channel as far as it takes
 * them; the rest waits in the pipe (no copy through user space). */
void comp_send_pipe(struct host *h, struct comp *c, uint64_t sid, size_t n);
/* Bytes queued to the runtime (c->out and the pipe). */
size_t comp_queued(const struct comp *c);
/* Creates c's pipe if it has none: 0, or -1 (then relay by copying). */
int comp_pipe(struct comp *c);
void comp_stop_all(struct host *h);
void comp_free_all(struct host *h);
void comp_prune(struct host *h);
void comp_update_events(struct host *h, struct comp *c);
const char *comp_state_name(enum comp_state s);

/* Ends c now at the operator's request: the isolate is killed and reaped, its quota freed, its
 * parties told "computation <hash> ended: stopped by the operator: <reason>". */
void comp_stop(struct host *h, struct comp *c, const char *reason);

/* admin.c - the operator's local control socket (--admin-socket, docs/host.md "Operator"). */
#define ADMIN_LINE_MAX 256   /* one command line, '\n' included */
#define ADMIN_REPLY_MAX 4096 /* one reply line (a computation's JSON object), '\n' included */
#define ADMIN_MAX_CONNS 16   /* operator connections at once */
#define ADMIN_IDLE_S 60      /* an operator connection idle this long is closed */
struct admin_conn;
int admin_open(struct host *h, sb_err *err);
void admin_accept(struct host *h);
void admin_on_event(struct host *h, struct admin_conn *a, uint32_t events);
void admin_tick(struct host *h, time_t now);
void admin_close_all(struct host *h);

/* store.c - sealed results kept after a computation ended (--sealed-dir, docs/sealed.md). */
#define STORE_REQUEST_MAX (64 + 1 + SB_POLICY_NAME_MAX + 1 + SB_PATH_MAX) /* "HASH READER PATH" */
int store_init(struct host *h, sb_err *err);
void store_tick(struct host *h, time_t now);
/* keep-begin / keep-data / keep-done from c's runtime; -1 with why: a protocol error. */
int store_on_frame(struct host *h, struct comp *c, const sb_msg *m, char *why, size_t len);
void store_abort(struct host *h, struct comp *c); /* the isolate is gone: drop a partial one */
/* request = "HASH READER PATH": opens the kept envelope (*fd, *size), or -1 with why. */
int store_open_for(struct host *h, const char *request, int *fd, uint64_t *size, char *why,
                   size_t len);
int store_delete(struct host *h, const char *hex, uint64_t *files, uint64_t *bytes);
struct stat;
int store_list(struct host *h, const char *hex, void (*emit)(void *ctx, const char *reader,
               const char *path, const struct stat *st), void *ctx, unsigned *n);

/* conn.c */
void conn_accept(struct host *h);
void conn_on_event(struct host *h, struct conn *k, uint32_t events);
void conn_close(struct host *h, struct conn *k);
void conn_reply(struct host *h, struct conn *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The computation became ready (or died): answer every waiting connection. */
void conn_comp_ready(struct host *h, struct conn *k);
void conn_deliver(struct host *h, struct conn *k, const uint8_t *data, size_t len);
/* Flow control messages of the runtime for k's session. */
void conn_credit(struct host *h, struct conn *k, uint64_t n);
void conn_update_events(struct host *h, struct conn *k);
void conn_tick(struct host *h, time_t now);
void conn_free_all(struct host *h);
void conn_bury(struct host *h);

#endif
