/* runtime.h - internals of strongbox-runtime, the trusted process inside the isolate.
 *
 * One thread, one poll loop on one fd (the channel to the host). State lives in one struct rt that
 * main() owns; nothing is global. Files:
 *   main.c      command line, poll loop, channel queue, init/attestation, shutdown and wiping
 *   session.c   TLS 1.3 sessions over memory BIOs, client identity, request framing
 *   requests.c  the requests: put/get/list/policy-hash/status/end-vote
 *   run.c       the run request: program checks, limits, WASI
 *   sandbox.c   the seccomp allow-list the runtime puts on itself
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

/* Which identities have read the current contents of one file (for the shutdown rule). */
typedef struct rt_readmark {
    char *path;
    bool *readers; /* per identity index */
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
} rt;

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
bool rt_path_ok(rt *r, rt_session *s, const sb_msg *m);   /* else responds bad-request */

/* seal.c: replaces a get snapshot by its envelope sealed to the caller; -errno on failure. */
int rt_seal_snapshot(rt *r, const rt_session *s, const char *path, uint8_t **snap, size_t *len,
                     sb_err *err);

/* run.c */
void rt_run(rt *r, rt_session *s, const sb_msg *m);      /* synchronous: other sessions wait */
/* -1 (err set) when the policy asks for an engine tier this runtime was built without. */
int rt_engine_check(const sb_policy *policy, sb_err *err);
int rt_alarm_install(sb_err *err); /* run_seconds: SIGALRM handler, before the sandbox */

/* sandbox.c */
/* generated_code: the engine has the compiled tier (which compiles every module when it is
 * loaded, whatever tier then runs it), so pages may become executable, never while writable
 * (W^X); otherwise (an interpreter-only runtime) nothing may ever be executable. */
int rt_sandbox_install(bool generated_code, sb_err *err);

#endif
