/* client_impl.h - internals of libstrongbox (not a public header). */
#ifndef SB_CLIENT_IMPL_H
#define SB_CLIENT_IMPL_H

#include "attest/attest.h"
#include "policy/policy.h"
#include "proto/proto.h"
#include "strongbox.h"

#include <openssl/ssl.h>
#include <signal.h>
#include <stdarg.h>

struct strongbox {
    sb_policy *policy;
    char host[300];
    int fd;
    int timeout_ms;
    SSL_CTX *ctx;
    SSL *ssl;
    sb_attest_expect expect;
    sb_attest_accepted *accepted;
    sb_attest_verdict verdict;
    int verified;            /* the verify callback ran and passed */
    int verify_ran;
    int unsettled;           /* a request may be in flight unanswered: close with a reset */
    char verify_error[256];
    char *transcript;
    sb_frame_reader rd;
    uint64_t next_id;
    strongbox_progress_fn progress;
    void *progress_ctx;
    char *cert_path_copy;
};

typedef struct cl_sigpipe_guard {
    sigset_t old;
    int was_pending;
} cl_sigpipe_guard;
/* Around every write to the network: SIGPIPE never reaches the application. */
void cl_sigpipe_block(cl_sigpipe_guard *g);
void cl_sigpipe_restore(cl_sigpipe_guard *g);

int cl_fail(strongbox_error *err, strongbox_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* session.c: attestation expectations from a policy (see there). */
int cl_expectations(const sb_policy *p, time_t at, sb_attest_accepted **accepted,
                    sb_attest_expect *exp, strongbox_error *err);

/* Loads the policy (as of `at`) and fills the host address (opts->host or the policy's). */
int cl_load_policy(const strongbox_options *opts, sb_policy **out, char *host, size_t host_len,
                   strongbox_error *err);
/* TCP connection with send/receive timeouts. */
int cl_dial(const char *hostport, int timeout_ms, int *fd, strongbox_error *err);
/* Sends a preamble line and reads one reply line ("OK ..." / "ERR ..."), byte by byte so that no
 * TLS byte is consumed. 0 for OK (line in `reply`), -1 otherwise (err filled). */
int cl_preamble(int fd, const char *line, char *reply, size_t reply_len, strongbox_error *err);
/* When a session dies, ask the host why (best effort): fills `why` or leaves it empty. */
void cl_host_reason(const char *hostport, const char *hash_hex, int timeout_ms, char *why,
                    size_t why_len);

/* Connects to the policy's computation, verifies its isolate exactly as strongbox_connect does,
 * and hangs up. With opts->key_path/cert_path the party also authenticates; without, no
 * certificate of ours is sent. *transcript (malloc'd) when transcript is not NULL. */
int cl_verify_isolate(const strongbox_options *opts, char **transcript, strongbox_error *err);
/* strongbox_deploy, also returning the verification transcript (malloc'd) when asked. */
int cl_deploy(const strongbox_options *opts, char hash_hex[65], char **transcript,
              strongbox_error *err);

/* Requests (ops.c). */
int cl_send(strongbox *s, const sb_msg *m, strongbox_error *err);
/* Reads the next frame for request `id` into m (sb_msg_free it). */
int cl_recv(strongbox *s, uint64_t id, sb_msg *m, strongbox_error *err);
/* Turns a non-OK response into an error naming the status and reason. */
int cl_response_error(const sb_msg *m, const char *what, strongbox_error *err);
/* A lost session: asks the host for the reason and fills err (code STRONGBOX_E_ENDED). */
int cl_lost(strongbox *s, strongbox_error *err);

#endif
