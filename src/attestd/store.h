/* store.h - the service's SQLite store (internal to src/attestd). One connection guarded by a
 * mutex: each call is one short transaction; crypto is done outside. WAL mode, busy timeout. */
#ifndef SB_ATTESTD_STORE_H
#define SB_ATTESTD_STORE_H

#include "common/common.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct sb_store sb_store;

typedef enum {
    NONCE_OK = 0,
    NONCE_UNKNOWN,
    NONCE_STALE,
    NONCE_REUSED,
    NONCE_OLD_RUN, /* issued before a restart or before a store failure: never accepted */
    NONCE_ERROR,   /* the store failed; the nonce can no longer be spent either */
} nonce_state;

/* What an attestation outcome records. */
typedef struct audit_rec {
    const char *outcome;       /* "issued", "refused", "admin" */
    const char *reason;        /* refusal reason or admin action */
    const char *platform;
    const char *measurement;   /* hex */
    const char *policy_hash;   /* hex */
    const char *serial;        /* hex, issued only */
    const char *peer;
    const char *detail;
} audit_rec;

int store_open(const char *path, sb_store **out, sb_err *err);
void store_close(sb_store *s);

int store_challenge_new(sb_store *s, const uint8_t *nonce, size_t len, time_t now, time_t expires,
                        sb_err *err);
/* Spends the nonce: NONCE_OK only once that is committed. */
nonce_state store_challenge_consume(sb_store *s, const uint8_t *nonce, size_t len, time_t now);

int store_audit(sb_store *s, time_t now, const audit_rec *a);
/* Records the issued certificate and its audit entry in one transaction. */
int store_issue(sb_store *s, time_t now, const char *serial, const char *pem, time_t not_after,
                const audit_rec *a, sb_err *err);

/* Every admin write below commits its change together with its audit record `a` (may be NULL)
 * and returns success only once that commit succeeded: a failure means nothing was stored. */

/* Devices (per-device keys: process hosts, PSA IAKs). fingerprint = SHA-256(SPKI DER). */
int store_device_add(sb_store *s, const char *id, const char *platform, const uint8_t fp[32],
                     const char *pem, time_t now, const audit_rec *a, sb_err *err);
/* 0 found (pem malloc'd), 1 unknown, 2 revoked, -1 error. */
int store_device_find(sb_store *s, const char *platform, const uint8_t fp[32], char **pem,
                      char *id, size_t id_cap);
int store_device_revoke(sb_store *s, const char *id, time_t now,
                        const audit_rec *a); /* 0, 1 unknown, -1 */

/* Vendor roots / platform keys (PEM bundles) per platform. */
int store_root_add(sb_store *s, const char *id, const char *platform, const char *pem, time_t now,
                   const audit_rec *a, sb_err *err);
int store_root_revoke(sb_store *s, const char *id, time_t now,
                      const audit_rec *a); /* 0, 1 unknown, -1 */
/* Every active root PEM of the platform, concatenated (malloc'd; "" when none). */
char *store_roots_for(sb_store *s, const char *platform);

/* Measurement allow-list. check: 0 allowed, 1 not in the platform's list, 2 no list. */
int store_measurement_add(sb_store *s, const char *platform, const char *hex, time_t now,
                          const audit_rec *a, sb_err *err);
int store_measurement_del(sb_store *s, const char *platform, const char *hex,
                          const audit_rec *a); /* 0, 1, -1 */
int store_measurement_check(sb_store *s, const char *platform, const char *hex);

int store_cert_revoke(sb_store *s, const char *serial, time_t now,
                      const audit_rec *a); /* 0, 1 unknown, -1 */

/* 0 found, 1 absent, -1 the store could not be read. */
int store_setting_get(sb_store *s, const char *key, char *out, size_t cap);
int store_setting_set(sb_store *s, const char *key, const char *value, const audit_rec *a);

/* JSON listings: which = "devices", "roots", "measurements", "certificates", "audit",
 * "revoked". */
json_t *store_list(sb_store *s, const char *which, long limit);

#endif
