/* attestd.h - the proxy attestation service (strongbox-attestd) as a library, so tests, the
 * benchmark and fuzz targets can drive its parts; main.c is the daemon around it.
 *
 * The service verifies native evidence once and issues isolate certificates carrying a PSA token
 * signed by its CA. State lives in a directory: ca.key (0600), ca.pem, admin.token (0600) and
 * attestd.db (SQLite, WAL). HTTP API: docs/attestation.md. */
#ifndef SB_ATTESTD_H
#define SB_ATTESTD_H

#include "attest/attest.h"
#include "common/common.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SB_ATTESTD_MAX_BODY (256u * 1024)
#define SB_ATTESTD_MAX_EVIDENCE (128u * 1024)
#define SB_ATTESTD_MAX_CSR (16u * 1024)

typedef struct sb_attestd_config {
    const char *state_dir;     /* required; created 0700 when missing */
    const char *listen_addr;   /* default "127.0.0.1" */
    unsigned port;             /* 0 = any free port (see sb_attestd_port) */
    const char *service_url;   /* verification service indicator; default http://ADDR:PORT */
    long cert_validity;        /* seconds; default 86400 */
    long nonce_ttl;            /* seconds; default 300 */
    unsigned threads;          /* worker threads; default 2 */
    unsigned conn_timeout;     /* seconds of idleness before a connection is dropped; default 10 */
    int serve_insecure;        /* -1 keep the stored setting, 0 refuse, 1 serve debug/insecure */
} sb_attestd_config;

typedef struct sb_attestd sb_attestd;

/* Opens/creates the state, starts the HTTP server. */
sb_attestd *sb_attestd_start(const sb_attestd_config *cfg, sb_err *err);
unsigned sb_attestd_port(const sb_attestd *d);
void sb_attestd_stop(sb_attestd *d);

/* ---- request parsing (fuzzed) ---- */

typedef struct sb_attest_req {
    char platform[16];
    uint8_t *evidence;         /* malloc'd */
    size_t evidence_len;
    char *csr_pem;             /* malloc'd */
    uint8_t policy_hash[SB_POLICY_HASH_LEN];
    uint8_t nonce[SB_NONCE_LEN];
} sb_attest_req;

/* Parses the JSON body of POST /v1/attest. */
int sb_attestd_parse_attest(const char *body, size_t len, sb_attest_req *out, sb_err *err);
void sb_attest_req_free(sb_attest_req *r);

/* ---- the service core (no HTTP) ---- */

typedef struct sb_service sb_service;

/* A refusal: HTTP status, short stable reason ("binding mismatch"), detail. */
typedef struct sb_refusal {
    int status;
    char reason[48];
    char detail[SB_ERR_MSG_MAX];
} sb_refusal;

sb_service *sb_service_open(const sb_attestd_config *cfg, sb_err *err);
void sb_service_close(sb_service *s);
void sb_service_set_url(sb_service *s, const char *url);
/* New challenge: nonce and its expiry. */
int sb_service_challenge(sb_service *s, uint8_t nonce[SB_NONCE_LEN], time_t *expires,
                         sb_refusal *r);
/* Full attestation. On success *chain_pem (leaf + CA) is malloc'd. */
int sb_service_attest(sb_service *s, const sb_attest_req *req, const char *peer, char **chain_pem,
                      sb_refusal *r);
/* Records a refusal decided before the service core ran (e.g. a malformed request). */
void sb_service_record_refusal(sb_service *s, const char *platform, const sb_refusal *r,
                               const char *peer);
/* The root certificate PEM (static for the service's lifetime). */
const char *sb_service_root_pem(const sb_service *s);
/* Constant-time admin token check. */
int sb_service_admin_ok(const sb_service *s, const char *authorization_header);
/* Admin operations: method + path (under /v1/admin) + JSON body -> JSON response or refusal.
 * `limit` is the value of the request's `limit` query parameter as sent (NULL when absent): the
 * listings take 1..1000 (default 100), everything else takes none. A write is acknowledged only
 * once it and its audit record are committed (503 "store unavailable" otherwise). */
json_t *sb_service_admin(sb_service *s, const char *method, const char *path, const char *limit,
                         const char *body, size_t body_len, const char *peer, sb_refusal *r);
/* Public list of revoked serials. */
json_t *sb_service_revoked(sb_service *s, sb_refusal *r);

#endif
