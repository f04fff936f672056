/* harness.h - drives a real strongbox-runtime process over a socketpair: this test plays the host
 * (init, attestation with a test CA standing in for the service, session relaying) and any number
 * of TLS clients (OpenSSL over memory BIOs, with test certificates). */
#ifndef SB_TEST_RUNTIME_HARNESS_H
#define SB_TEST_RUNTIME_HARNESS_H

#include "proto/proto.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <sys/types.h>

extern int h_failures, h_checks;
#define CHECK(c)                                                                  \
    do {                                                                          \
        h_checks++;                                                               \
        if (!(c)) {                                                               \
            h_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
        }                                                                         \
    } while (0)

typedef struct party {
    const char *name;
    EVP_PKEY *key;
    X509 *cert;
    char *pem;
} party;

typedef struct host host;

typedef struct client {
    host *h;
    uint64_t sid;
    SSL *ssl;
    BIO *rb, *wb;
    sb_frame_reader in;
    bool closed;         /* the runtime sent session-close */
    uint32_t close_status;
    char close_reason[SB_REASON_MAX + 1];
    bool authenticated;  /* the runtime sent session-auth */
    uint64_t tx_credit;  /* session-data bytes the runtime lets us send (flow control) */
    uint64_t rx_owed;    /* bytes received and not yet returned as credit */
    bool withhold;       /* a party that reads nothing: no credit is returned */
    struct client *next;
} client;

struct host {
    pid_t pid;
    int fd;
    sb_frame_reader in;
    SSL_CTX *cctx;          /* clients' TLS context (trusts the test CA) */
    client *clients;
    uint64_t next_sid;
    bool shutdown;          /* the runtime sent shutdown */
    uint32_t shutdown_status;
    char shutdown_reason[SB_REASON_MAX + 1];
    char last_event[SB_REASON_MAX + 1];
    uint64_t last_close_id;   /* the last session-close the runtime sent */
    uint32_t last_close_status;
    char last_close_reason[SB_REASON_MAX + 1];
    bool sandbox_warned;      /* an event said the sandbox is off */
    bool eof;
    int exit_status;        /* after h_wait: exit code, or 128+signal */
};

/* Test PKI: the attestation root (CA) and parties with self-signed certificates. */
extern EVP_PKEY *ca_key;
extern X509 *ca_cert;
extern char *ca_pem;
void pki_init(void);
party *party_new(const char *name);
/* With a certificate valid for `seconds` from now. */
party *party_new_valid(const char *name, long seconds);
void party_free(party *p);
/* JSON string literal for s (quotes included), malloc'd. */
char *json_str(const char *s);

/* Starts the runtime binary; extra is NULL or "--no-sandbox" etc. */
host *h_start(const char *runtime, const char *extra1, const char *extra2);
/* Sends a message / raw bytes to the runtime. */
void h_send(host *h, const sb_msg *m);
void h_send_raw(host *h, const void *p, size_t len);
/* Next non-event message from the runtime, relaying session traffic to clients on the way.
 * Returns 0 with *m filled (free it), or -1 at end of stream / after 20 s without a frame. */
int h_next(host *h, sb_msg *m);
/* Processes one frame (session traffic, events, shutdown). Returns -1 on EOF/timeout. */
int h_pump(host *h);
/* init + attestation. Returns 0 when the runtime said ready. */
int h_attest(host *h, const char *policy_json);
/* Waits for the process to exit and returns its status (exit code, or 128+signal). */
int h_wait(host *h);
void h_free(host *h);

/* A TLS client session through the host. who NULL: no client certificate. */
client *c_connect(host *h, const party *who);
/* Sends one request. */
void c_send(client *c, const sb_msg *m);
/* Next frame the runtime sent to this client: 0 with *m filled, -1 when the session ended. */
int c_next(client *c, sb_msg *m);
/* Sends a request and returns its (first) response; -1 if none came. */
int c_call(client *c, const sb_msg *req, sb_msg *resp);
void c_close(client *c);
/* Returns the credit withheld so far (and stops withholding). */
void c_release(client *c);

/* Convenience requests. Return the response status, or -1 on a dead session. reason (may be NULL)
 * receives the reason text. */
int c_put(client *c, const char *path, const void *data, size_t len, int mode, char *reason);
/* get: *data malloc'd. */
int c_get(client *c, const char *path, uint8_t **data, size_t *len, char *reason);
int c_simple(client *c, sb_msg_type type, const char *path, char *reason);

#endif
