/* runtime.h - internals of strongbox-runtime, the trusted process inside the isolate.
 *
 * One thread, one poll loop on one fd (the channel to the host). State lives in one struct rt that
 * main() owns; nothing is global. Files:
 *   main.c      command line, poll loop, channel queue, init/attestation, shutdown and wiping
 *   session.c   TLS 1.3 sessions over memory BIOs, client identity, request framing
 *   requests.c  the requests: put/get/list/policy-hash/status/end-vote
 *   run.c       the run and run-pipeline requests: program checks, limits, WASI
 *   receipt.c   hashes of what a run could read and wrote; the signed receipt (docs/receipts.md)
 *   sandbox.c   the seccomp allow-list the runtime puts on itself
 *   seal.c      results sealed to a reader (get-sealed); keep.c the ones kept after the end
 * Protocol: docs/protocol.md. */
#ifndef SB_RUNTIME_H
#define SB_RUNTIME_H

#include "common/common.h"
#include "policy/policy.h"
#include "proto/proto.h"
#include "vfs/vfs.h"

#include <openssl/ssl.h>
#include <stdbool.h>

#define RT_OUT_HIGH (4u << 20)     /* channel queue level above which we stop producing/reading */
#define RT_SESSION_OUT_MAX (256u << 10) /* encrypted bytes a session may have waiting for credit */
#define RT_MAX_SESSIONS SB_MAX_SESSIONS     /* open sessions at once */
#define RT_MAX_HANDSHAKES SB_MAX_HANDSHAKES /* of which unauthenticated: parties always have room */
#define RT_HANDSHAKE_S 10          /* a TLS handshake must finish this soon after session-open */

enum rt_state { RT_WAIT_INIT, RT_WAIT_CHALLENGE, RT_WAIT_RESULT, RT_READY, RT_ENDING };

/* An upload in progress (put-begin .. put-end). */
typedef struct rt_put {
    bool active, failed;
    uint64_t id;
    char path[SB_PATH_MAX + 1];
    uint32_t mode;
    bool sized;
    uint64_t declared;
    uint8_t *buf;
    size_t len, cap;
} rt_put;

typedef struct rt_session {
    uint64_t id;
    SSL *ssl;
    BIO *rbio, *wbio;           /* network side: host -> rbio, wbio -> host */
    const sb_policy_identity *who;
    sb_frame_reader req;        /* plaintext request frames */
    rt_put put;
    /* Answer being streamed (get chunks): a snapshot, so a get is atomic. */
    uint64_t stream_id;
    uint8_t *stream;
    size_t stream_len, stream_off;
    char stream_path[SB_PATH_MAX + 1];
    bool streaming, closed;
    uint64_t out_credit;        /* session-data bytes we may still send (flow control) */
    uint64_t in_credit;         /* session-data bytes the host may still send us */
    time_t opened;              /* for the handshake deadline */
    struct rt_session *next;
} rt_session;

/* Which identities have read the current contents of one file (for the shutdown rule), and who
 * wrote them last (the provider a receipt names). */
typedef struct rt_readmark {
    char *path;
    bool *readers;      /* per identity index */
    const char *writer; /* identity name or program path, owned by the policy; NULL = unknown */
} rt_readmark;

typedef struct rt {
    int fd;
    bool no_sandbox;
    const char *platform;
    enum rt_state state;
    int exit_code;
    sb_frame_reader chan;
    uint8_t *out;               /* channel output queue */
    size_t out_len, out_off, out_cap;
    bool chan_eof;
    time_t end_by;              /* give up flushing the last frames after this */

    sb_policy *policy;
    EVP_PKEY *key;
    uint8_t *csr;
    size_t csr_len;
    SSL_CTX *ctx;

    sb_vfs *vfs;
    sb_vfs_principal *parties;  /* per identity index */
    sb_vfs_grant **party_grants;
    sb_vfs_principal root;      /* the runtime itself: reads programs, walks results */
    sb_vfs_grant root_grant;

    rt_session *sessions;
    size_t n_identities;
    bool *voted, *read_all;
    uint64_t staged;            /* bytes of all uploads in progress */
    rt_readmark *marks;
    size_t n_marks;
    struct rt_keep *keep;       /* envelopes still to hand to the host after shutdown (keep.c) */

    uint64_t runs;              /* programs started so far: the receipts' run counter */
    uint8_t *receipt_hdr;       /* a receipt's unprotected header {33: x5chain}, built once */
    size_t receipt_hdr_len;
    uint8_t measurement[64];    /* the runtime measurement named by our own certificate */
    size_t measurement_len;
} rt;

/* Regular files found by a walk (rt_files_under). */
typedef struct file_list {
    char **paths;
    uint64_t *sizes;
    size_t n, cap;
    char **dirs; /* directories still to visit (breadth first: no recursion) */
    size_t n_dirs, cap_dirs;
    const char *base;
    int rc;
} file_list;

/* main.c */
void rt_send(rt *r, const sb_msg *m);                     /* queue a channel frame */
void rt_event(rt *r, sb_level lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rt_end(rt *r, sb_status cause, const char *reason);  /* begin the shutdown */
size_t rt_queued(const rt *r);

/* session.c */
int rt_tls_init(rt *r, sb_err *err);
int rt_tls_install(rt *r, const uint8_t *pem, size_t len, sb_err *err);
void rt_session_open(rt *r, uint64_t id);
void rt_session_data(rt *r, uint64_t id, const uint8_t *p, size_t len);
void rt_session_close(rt *r, uint64_t id, bool notify_host, sb_status st, const char *reason);
void rt_session_credit(rt *r, uint64_t id, uint64_t n);   /* the host delivered n more bytes */
int rt_sessions_tick(rt *r); /* handshake deadlines; ms until the next one, or -1 if none */
void rt_sessions_pump(rt *r);                              /* stream answers while room */
void rt_sessions_end(rt *r);                               /* close_notify + close all */
/* Drops the start-up and TLS pages of the read-only image and trims the heap: once attested, and
 * again whenever the last session has closed (deploy's own verification is a TLS handshake). */
void rt_release_idle_memory(void);
void rt_sessions_free(rt *r);                              /* at exit: free every session */
void rt_session_reply(rt *r, rt_session *s, const sb_msg *m); /* encrypt and queue a frame */
void rt_respond(rt *r, rt_session *s, uint64_t id, sb_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* requests.c */
int rt_fs_init(rt *r, sb_err *err);
void rt_fs_free(rt *r);
void rt_request(rt *r, rt_session *s, const sb_msg *m);   /* one decoded request */
void rt_put_reset(rt *r, rt_put *p);
bool rt_stream_step(rt *r, rt_session *s);                /* one more chunk; false when done */
void rt_marks_clear(rt *r, const char *path);             /* NULL: every file */
void rt_mark_writer(rt *r, const char *path, const char *writer); /* who wrote path last */
const char *rt_writer_of(rt *r, const char *path);        /* NULL when not known */
/* Every regular file at or under path the view can see (fl filled even on failure: free it);
 * 0 or a negative errno. */
int rt_files_under(sb_vfs_view *v, const char *path, file_list *fl, sb_err *err);
void rt_files_free(file_list *fl);
bool rt_path_ok(rt *r, rt_session *s, const sb_msg *m);   /* else responds bad-request */

/* seal.c: replaces a get snapshot by its envelope sealed to the caller (rt_seal_for: to identity
 * `who`); -errno on failure. */
int rt_seal_snapshot(rt *r, const rt_session *s, const char *path, uint8_t **snap, size_t *len,
                     sb_err *err);
int rt_seal_for(rt *r, const sb_policy_identity *who, const char *path, uint8_t **snap, size_t *len,
                sb_err *err);

/* keep.c: at an orderly end (rule met, expiry) of a policy with shutdown.keep_sealed, every file
 * there sealed to each of its readers and handed to the host (keep-* frames, docs/sealed.md). */
struct rt_keep;
bool rt_keep_start(rt *r, sb_status cause); /* true: envelopes follow the shutdown frame */
void rt_keep_pump(rt *r);                   /* queue more while the channel has room */
void rt_keep_free(rt *r);                   /* abandon (host asked to stop; exit) */

/* receipt.c: what a run read and wrote, and the signed receipt naming it (docs/receipts.md). */
typedef struct rt_hashed {
    char *path;
    uint8_t sha256[32];
    unsigned rights;            /* the program's rights on it (SB_RIGHT_READ / _WRITE) */
    const char *provider;       /* who wrote it last (policy-owned), NULL = unknown */
} rt_hashed;
typedef struct rt_snapshot {
    rt_hashed *f;               /* sorted by path */
    size_t n;
} rt_snapshot;
/* One program run as a receipt records it. */
typedef struct rt_step {
    const sb_policy_program *program;
    const char *const *args;
    size_t n_args;
    const char *engine;         /* wasm_engine_name() of the tier it ran on */
    rt_snapshot before, after;  /* the files the program may read or write, hashed */
    sb_outcome outcome;
    uint32_t exit_code;
    const char *reason;         /* trap or limit text; NULL or "" when none */
    uint64_t fuel_used;
} rt_step;
/* Hashes every file the program's grants cover (all: for a receipt), or only those it may write
 * (enough to know what it wrote, for the providers). 0, or -1 with err filled. */
int rt_snapshot_take(rt *r, const sb_policy_program *pr, bool all, rt_snapshot *s, sb_err *err);
void rt_snapshot_free(rt_snapshot *s);
/* After a run: the files it created, changed or removed now have the program as provider. */
void rt_step_note_writes(rt *r, const rt_step *st);
/* The signed receipt (COSE_Sign1) of steps[0..n) run at the request of `by`; *out malloc'd, at
 * most SB_DATA_MAX bytes. pipeline: its name, or NULL for a plain run. */
int rt_receipt_make(rt *r, const char *by, const char *pipeline, const rt_step *steps, size_t n,
                    uint8_t **out, size_t *len, sb_err *err);

/* run.c */
void rt_run(rt *r, rt_session *s, const sb_msg *m);      /* synchronous: other sessions wait */
/* A pipeline of the policy: its steps in order, stopping at the first that fails. */
void rt_run_pipeline(rt *r, rt_session *s, const sb_msg *m);
/* -1 (err set) when the policy asks for an engine tier this runtime was built without. */
int rt_engine_check(const sb_policy *policy, sb_err *err);
int rt_alarm_install(sb_err *err); /* run_seconds: SIGALRM handler, before the sandbox */

/* sandbox.c */
/* generated_code: the engine has the compiled tier (which compiles every module when it is
 * loaded, whatever tier then runs it), so pages may become executable, never while writable
 * (W^X); otherwise (an interpreter-only runtime) nothing may ever be executable. */
int rt_sandbox_install(bool generated_code, sb_err *err);

#endif
