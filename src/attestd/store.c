/* store.c - SQLite persistence for strongbox-attestd. */
#include "attestd/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define STMT_CACHE 24

/* Prepared statements are kept (keyed by the SQL text's address: all SQL here is string
 * literals): parsing SQL was a tenth of an attestation's CPU time. */
struct sb_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } stmts[STMT_CACHE];
    size_t n_stmts;
    /* This run's tag on the challenges it issues. A challenge is only accepted by the run that
     * issued it, and a new tag is drawn whenever a nonce's consumption may have failed to be
     * recorded: a nonce is then refused, not spent a second time, whatever the store does
     * later and across restarts. */
    int64_t run;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS challenges(nonce BLOB PRIMARY KEY, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS challenges_expires ON challenges(expires);"
    "CREATE TABLE IF NOT EXISTS devices(id TEXT PRIMARY KEY, platform TEXT NOT NULL,"
    " fingerprint BLOB NOT NULL, pem TEXT NOT NULL, created INTEGER NOT NULL,"
    " revoked INTEGER);"
    "CREATE INDEX IF NOT EXISTS devices_fp ON devices(platform, fingerprint);"
    "CREATE TABLE IF NOT EXISTS roots(id TEXT PRIMARY KEY, platform TEXT NOT NULL,"
    " pem TEXT NOT NULL, created INTEGER NOT NULL, revoked INTEGER);"
    "CREATE TABLE IF NOT EXISTS measurements(platform TEXT NOT NULL, value TEXT NOT NULL,"
    " created INTEGER NOT NULL, PRIMARY KEY(platform, value));"
    "CREATE TABLE IF NOT EXISTS certificates(serial TEXT PRIMARY KEY, issued INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL, platform TEXT, measurement TEXT, policy_hash TEXT,"
    " pem TEXT NOT NULL, revoked INTEGER);"
    "CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
    " outcome TEXT NOT NULL, reason TEXT, platform TEXT, measurement TEXT, policy_hash TEXT,"
    " serial TEXT, peer TEXT, detail TEXT);"
    "CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* Challenges of stores created before runs were tagged get run 0 (never a live run's tag). */
static const char add_run_column[] =
    "ALTER TABLE challenges ADD COLUMN run INTEGER NOT NULL DEFAULT 0";

/* A fresh nonzero run tag. Caller holds the lock (or owns the store alone). */
static int new_run(sb_store *s)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    s->run = (int64_t)(r >> 1) | 1;
    return 0;
}

/* Adds the run column unless it is there already. */
static int migrate(sb_store *s, char **msg)
{
    if (sqlite3_exec(s->db, add_run_column, NULL, NULL, msg) == SQLITE_OK)
        return 0;
    if (*msg && strstr(*msg, "duplicate column")) {
        sqlite3_free(*msg);
        *msg = NULL;
        return 0;
    }
    return -1;
}

int store_open(const char *path, sb_store **out, sb_err *err)
{
    *out = NULL;
    sb_store *s = calloc(1, sizeof *s);
    if (!s)
        return sb_err_set(err, 1, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    char *msg = NULL;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
        /* exclusive: one daemon per state directory (a second one fails to start instead of
         * sharing it), and no file locking per transaction */
        sqlite3_exec(s->db,
                     "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                     " PRAGMA synchronous=NORMAL;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK || migrate(s, &msg) < 0 ||
        new_run(s) < 0) {
        sb_err_set(err, 1, "store %s: %s", path,
                   msg ? msg : s->run ? sqlite3_errmsg(s->db) : "no randomness");
        sqlite3_free(msg);
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_close(sb_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_stmts; i++)
        sqlite3_finalize(s->stmts[i].st);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Prepares `sql` and binds arguments described by `types`: t = text, b = blob (ptr, size_t),
 * i = int64. */
/* A reset statement for `sql` from the cache (prepared on first use). Caller holds the lock and
 * calls release() when done instead of sqlite3_finalize. */
static sqlite3_stmt *cached(sb_store *s, const char *sql)
{
    for (size_t i = 0; i < s->n_stmts; i++)
        if (s->stmts[i].sql == sql)
            return s->stmts[i].st;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    if (s->n_stmts < STMT_CACHE) {
        s->stmts[s->n_stmts].sql = sql;
        s->stmts[s->n_stmts++].st = st;
    }
    return st;
}

static void release(sb_store *s, sqlite3_stmt *st)
{
    for (size_t i = 0; i < s->n_stmts; i++)
        if (s->stmts[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    sqlite3_finalize(st); /* cache full: not kept */
}

static sqlite3_stmt *prep(sb_store *s, const char *sql, const char *types, va_list ap)
{
    sqlite3_stmt *st = cached(s, sql);
    if (!st)
        return NULL;
    for (int i = 0; types && types[i]; i++) {
        int rc;
        if (types[i] == 't') {
            const char *v = va_arg(ap, const char *);
            rc = v ? sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, i + 1);
        } else if (types[i] == 'b') {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            rc = sqlite3_bind_blob(st, i + 1, p, (int)n, SQLITE_TRANSIENT);
        } else {
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
        if (rc != SQLITE_OK) {
            release(s, st);
            return NULL;
        }
    }
    return st;
}

/* Runs a statement without result rows; returns the number of changed rows or -1. Caller holds
 * the lock. */
static int exec_locked(sb_store *s, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prep(s, sql, types, ap);
    va_end(ap);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    int changed = rc == SQLITE_DONE ? sqlite3_changes(s->db) : -1;
    release(s, st);
    return changed;
}

static int begin(sb_store *s)
{
    pthread_mutex_lock(&s->lock);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    return 0;
}

/* Commits (ok) or rolls back; 0 only when the commit succeeded. A COMMIT can fail (SQLITE_FULL,
 * SQLITE_IOERR) after every statement did: then nothing was stored. Caller holds the lock. */
static int finish_locked(sb_store *s, int ok)
{
    int rc = sqlite3_exec(s->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (ok && rc != SQLITE_OK && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return ok && rc == SQLITE_OK ? 0 : -1;
}

static int end(sb_store *s, int ok)
{
    int rc = finish_locked(s, ok);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_challenge_new(sb_store *s, const uint8_t *nonce, size_t len, time_t now, time_t expires,
                        sb_err *err)
{
    if (begin(s) < 0)
        return sb_err_set(err, 1, "store: busy");
    /* Expired challenges are kept an hour so a late attempt is told "stale", not "unknown". */
    int ok = exec_locked(s, "DELETE FROM challenges WHERE expires < ?", "i",
                         (int64_t)(now - 3600)) >= 0 &&
             exec_locked(s, "INSERT INTO challenges(nonce, created, expires, run) VALUES(?,?,?,?)",
                         "biii", nonce, len, (int64_t)now, (int64_t)expires, s->run) == 1;
    if (end(s, ok) < 0)
        return sb_err_set(err, 1, "store: cannot record the challenge");
    return 0;
}

/* Why a nonce could not be spent. Caller holds the lock. */
static nonce_state nonce_refusal(sb_store *s, const uint8_t *nonce, size_t len)
{
    sqlite3_stmt *q = NULL;
    nonce_state st = NONCE_ERROR;
    if (sqlite3_prepare_v2(s->db, "SELECT used, run FROM challenges WHERE nonce = ?", -1, &q,
                           NULL) == SQLITE_OK &&
        sqlite3_bind_blob(q, 1, nonce, (int)len, SQLITE_TRANSIENT) == SQLITE_OK) {
        int step = sqlite3_step(q);
        if (step == SQLITE_DONE)
            st = NONCE_UNKNOWN;
        else if (step == SQLITE_ROW)
            st = sqlite3_column_int(q, 0)                  ? NONCE_REUSED
                 : sqlite3_column_int64(q, 1) != s->run ? NONCE_OLD_RUN
                                                          : NONCE_STALE;
    }
    sqlite3_finalize(q);
    return st;
}

nonce_state store_challenge_consume(sb_store *s, const uint8_t *nonce, size_t len, time_t now)
{
    nonce_state st = NONCE_ERROR;
    pthread_mutex_lock(&s->lock);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        int changed = exec_locked(s,
                                  "UPDATE challenges SET used = 1 WHERE nonce = ? AND used = 0"
                                  " AND expires >= ? AND run = ?",
                                  "bii", nonce, len, (int64_t)now, s->run);
        st = changed < 0 ? NONCE_ERROR : changed == 0 ? nonce_refusal(s, nonce, len) : NONCE_OK;
        if (finish_locked(s, st == NONCE_OK) < 0 && st == NONCE_OK)
            st = NONCE_ERROR;
    }
    /* The nonce may be valid and its spending is not recorded: retire every challenge issued so
     * far, in the same critical section, so that no later attempt can spend it. Any tag this
     * run has not used does (a random one from a new run colliding is a 2^-62 chance). */
    if (st == NONCE_ERROR)
        s->run = s->run < INT64_MAX - 1 ? s->run + 2 : 1;
    pthread_mutex_unlock(&s->lock);
    return st;
}

static int audit_locked(sb_store *s, time_t now, const audit_rec *a)
{
    return exec_locked(s,
                       "INSERT INTO audit(at, outcome, reason, platform, measurement, policy_hash,"
                       " serial, peer, detail) VALUES(?,?,?,?,?,?,?,?,?)",
                       "ittttttt", (int64_t)now, a->outcome, a->reason, a->platform,
                       a->measurement, a->policy_hash, a->serial, a->peer, a->detail) == 1
               ? 0
               : -1;
}

int store_audit(sb_store *s, time_t now, const audit_rec *a)
{
    if (begin(s) < 0)
        return -1;
    return end(s, audit_locked(s, now, a) == 0);
}

int store_issue(sb_store *s, time_t now, const char *serial, const char *pem, time_t not_after,
                const audit_rec *a, sb_err *err)
{
    if (begin(s) < 0)
        return sb_err_set(err, 1, "store: busy");
    int ok = exec_locked(s,
                         "INSERT INTO certificates(serial, issued, not_after, platform,"
                         " measurement, policy_hash, pem) VALUES(?,?,?,?,?,?,?)",
                         "tiitttt", serial, (int64_t)now, (int64_t)not_after, a->platform,
                         a->measurement, a->policy_hash, pem) == 1 &&
             audit_locked(s, now, a) == 0;
    if (end(s, ok) < 0)
        return sb_err_set(err, 1, "store: cannot record the certificate");
    return 0;
}

/* One admin change and, when it changed a row, its audit record (`a`, may be NULL), in one
 * transaction. Returns the changed rows once committed, or -1: then nothing was stored. */
static int exec1(sb_store *s, const audit_rec *a, const char *sql, const char *types, ...)
{
    /* Admin changes are rare and must survive a power loss too, not only a crash of the daemon:
     * their commit is synced (FULL). The attestation path keeps NORMAL (see store_open). */
    pthread_mutex_lock(&s->lock);
    if (sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prep(s, sql, types, ap);
    va_end(ap);
    int changed = -1;
    if (st && sqlite3_step(st) == SQLITE_DONE)
        changed = sqlite3_changes(s->db);
    if (st)
        release(s, st);
    if (changed > 0 && a && audit_locked(s, time(NULL), a) < 0)
        changed = -1;
    if (finish_locked(s, changed >= 0) < 0)
        changed = -1;
    sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->lock);
    return changed;
}

int store_device_add(sb_store *s, const char *id, const char *platform, const uint8_t fp[32],
                     const char *pem, time_t now, const audit_rec *a, sb_err *err)
{
    int n = exec1(s, a,
                  "INSERT INTO devices(id, platform, fingerprint, pem, created)"
                  " SELECT ?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM devices WHERE id = ?"
                  " OR (platform = ? AND fingerprint = ? AND revoked IS NULL))",
                  "ttbtittb", id, platform, fp, (size_t)32, pem, (int64_t)now, id, platform, fp,
                  (size_t)32);
    if (n < 0)
        return sb_err_set(err, 1, "store: cannot add the device");
    if (n == 0)
        return sb_err_set(err, 409, "device id or key already registered");
    return 0;
}

int store_device_find(sb_store *s, const char *platform, const uint8_t fp[32], char **pem,
                      char *id, size_t id_cap)
{
    *pem = NULL;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT pem, id, revoked FROM devices WHERE platform = ? AND"
                           " fingerprint = ? ORDER BY revoked IS NULL DESC LIMIT 1",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_bind_text(q, 1, platform, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_blob(q, 2, fp, 32, SQLITE_TRANSIENT) == SQLITE_OK) {
        int step = sqlite3_step(q);
        if (step == SQLITE_DONE) {
            rc = 1;
        } else if (step == SQLITE_ROW) {
            snprintf(id, id_cap, "%s", (const char *)sqlite3_column_text(q, 1));
            if (sqlite3_column_type(q, 2) != SQLITE_NULL)
                rc = 2;
            else if ((*pem = strdup((const char *)sqlite3_column_text(q, 0))))
                rc = 0;
        }
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* SQL literals only (the statement cache is keyed by their address). */
static const char *const revoke_sql[] = {
    "UPDATE devices SET revoked = ? WHERE id = ? AND revoked IS NULL",
    "UPDATE roots SET revoked = ? WHERE id = ? AND revoked IS NULL",
    "UPDATE certificates SET revoked = ? WHERE serial = ? AND revoked IS NULL",
};

static int revoke(sb_store *s, int which, const char *key, time_t now, const audit_rec *a)
{
    int n = exec1(s, a, revoke_sql[which], "it", (int64_t)now, key);
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int store_device_revoke(sb_store *s, const char *id, time_t now, const audit_rec *a)
{
    return revoke(s, 0, id, now, a);
}

int store_root_add(sb_store *s, const char *id, const char *platform, const char *pem, time_t now,
                   const audit_rec *a, sb_err *err)
{
    int n = exec1(s, a,
                  "INSERT INTO roots(id, platform, pem, created) SELECT ?,?,?,? WHERE NOT EXISTS"
                  " (SELECT 1 FROM roots WHERE id = ?)",
                  "tttit", id, platform, pem, (int64_t)now, id);
    if (n < 0)
        return sb_err_set(err, 1, "store: cannot add the root");
    if (n == 0)
        return sb_err_set(err, 409, "root id already registered");
    return 0;
}

int store_root_revoke(sb_store *s, const char *id, time_t now, const audit_rec *a)
{
    return revoke(s, 1, id, now, a);
}

char *store_roots_for(sb_store *s, const char *platform)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *q = NULL;
    size_t len = 0;
    char *out = strdup("");
    if (out &&
        sqlite3_prepare_v2(s->db,
                           "SELECT pem FROM roots WHERE platform = ? AND revoked IS NULL"
                           " ORDER BY created",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_bind_text(q, 1, platform, -1, SQLITE_TRANSIENT) == SQLITE_OK) {
        while (out && sqlite3_step(q) == SQLITE_ROW) {
            const char *pem = (const char *)sqlite3_column_text(q, 0);
            size_t n = strlen(pem);
            char *grown = realloc(out, len + n + 2);
            if (!grown) {
                free(out);
                out = NULL;
                break;
            }
            out = grown;
            memcpy(out + len, pem, n);
            len += n;
            out[len++] = '\n';
            out[len] = 0;
        }
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->lock);
    return out;
}

int store_measurement_add(sb_store *s, const char *platform, const char *hex, time_t now,
                          const audit_rec *a, sb_err *err)
{
    /* REPLACE, not IGNORE: adding an entry again changes (refreshes) a row, so it is audited */
    int n = exec1(s, a, "INSERT OR REPLACE INTO measurements(platform, value, created) VALUES(?,?,?)",
                  "tti", platform, hex, (int64_t)now);
    return n < 0 ? sb_err_set(err, 1, "store: cannot add the measurement") : 0;
}

int store_measurement_del(sb_store *s, const char *platform, const char *hex, const audit_rec *a)
{
    int n = exec1(s, a, "DELETE FROM measurements WHERE platform = ? AND value = ?", "tt",
                  platform, hex);
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int store_measurement_check(sb_store *s, const char *platform, const char *hex)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *q =
        cached(s, "SELECT COUNT(*), SUM(value = ?) FROM measurements WHERE platform = ?");
    int rc = -1;
    if (q && sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_text(q, 2, platform, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        rc = sqlite3_column_int(q, 0) == 0 ? 2 : sqlite3_column_int(q, 1) > 0 ? 0 : 1;
    if (q)
        release(s, q);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_cert_revoke(sb_store *s, const char *serial, time_t now, const audit_rec *a)
{
    return revoke(s, 2, serial, now, a);
}

int store_setting_get(sb_store *s, const char *key, char *out, size_t cap)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM settings WHERE key = ?", -1, &q, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT) == SQLITE_OK) {
        int step = sqlite3_step(q);
        if (step == SQLITE_ROW)
            rc = snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0)) < (int)cap
                     ? 0
                     : -1;
        else if (step == SQLITE_DONE)
            rc = 1;
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_setting_set(sb_store *s, const char *key, const char *value, const audit_rec *a)
{
    return exec1(s, a, "INSERT OR REPLACE INTO settings(key, value) VALUES(?,?)", "tt", key,
                 value) == 1
               ? 0
               : -1;
}

static json_t *column_json(sqlite3_stmt *q, int i)
{
    switch (sqlite3_column_type(q, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(q, i));
    case SQLITE_TEXT: return json_string((const char *)sqlite3_column_text(q, i));
    case SQLITE_BLOB: {
        int n = sqlite3_column_bytes(q, i);
        char *hex = malloc(2 * (size_t)n + 1);
        if (!hex)
            return json_null();
        sb_hex_encode(sqlite3_column_blob(q, i), (size_t)n, hex);
        json_t *j = json_string(hex);
        free(hex);
        return j;
    }
    default: return json_null();
    }
}

json_t *store_list(sb_store *s, const char *which, long limit)
{
    static const struct { const char *name, *sql; } lists[] = {
        {"devices", "SELECT id, platform, fingerprint, created, revoked, pem FROM devices"
                    " ORDER BY created, id LIMIT ?"},
        {"roots", "SELECT id, platform, created, revoked, pem FROM roots ORDER BY created, id"
                  " LIMIT ?"},
        {"measurements", "SELECT platform, value, created FROM measurements"
                         " ORDER BY platform, value LIMIT ?"},
        {"certificates", "SELECT serial, issued, not_after, platform, measurement, policy_hash,"
                         " revoked FROM certificates ORDER BY issued DESC, serial LIMIT ?"},
        {"audit", "SELECT id, at, outcome, reason, platform, measurement, policy_hash, serial,"
                  " peer, detail FROM audit ORDER BY id DESC LIMIT ?"},
        {"revoked", "SELECT serial, revoked FROM certificates WHERE revoked IS NOT NULL"
                    " ORDER BY revoked LIMIT ?"},
    };
    const char *sql = NULL;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (strcmp(lists[i].name, which) == 0)
            sql = lists[i].sql;
    if (!sql)
        return NULL;
    json_t *arr = json_array();
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *q = NULL;
    int ok = arr && sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK &&
             sqlite3_bind_int64(q, 1, limit) == SQLITE_OK;
    int step = SQLITE_DONE;
    while (ok && (step = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int i = 0; row && i < sqlite3_column_count(q); i++)
            json_object_set_new(row, sqlite3_column_name(q, i), column_json(q, i));
        json_array_append_new(arr, row);
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->lock);
    if (!ok || step != SQLITE_DONE) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}
