/* service.c - the attestation service core: challenges, attestation, admin operations. */
#include "attestd/attestd.h"
#include "attestd/ca.h"
#include "attestd/csr.h"
#include "attestd/service_internal.h"
#include "attestd/store.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Parsed device keys by fingerprint: parsing a PEM key costs ~400 us in OpenSSL 3.0, more than
 * the rest of an attestation. Cleared whenever a device is revoked; `gen` counts the clearings so
 * that a key read from the store before a revocation is not cached after it. */
#define KEY_CACHE 64
typedef struct key_cache {
    pthread_mutex_t lock;
    struct {
        uint8_t fp[32];
        char platform[16];
        char id[128];
        EVP_PKEY *key;
    } e[KEY_CACHE];
    size_t n, next;
    unsigned long gen;
} key_cache;

struct sb_service {
    key_cache keys;
    sb_store *store;
    EVP_PKEY *ca_key;
    X509 *ca_cert;
    char *root_pem;
    char *ca_pem; /* ca_cert re-encoded once: the tail of every issued chain */
    char admin_token[80];
    char url[256];
    long cert_validity, nonce_ttl;
    /* Changed only after the store has the new value (settings_lock orders concurrent changes,
     * so memory and store agree on the last one). */
    atomic_int serve_insecure;
    pthread_mutex_t settings_lock;
};

static char *pem_of(X509 *c1, X509 *c2);

static int refuse(sb_refusal *r, int status, const char *reason, const char *detail)
{
    r->status = status;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    size_t i = 0; /* truncating copy */
    for (; detail && detail[i] && i + 1 < sizeof r->detail; i++)
        r->detail[i] = detail[i];
    r->detail[i] = 0;
    return -1;
}

/* serve_insecure: the command line's choice is stored first (a daemon that cannot store it does
 * not start, or the next restart without the option would silently bring the old one back);
 * otherwise the stored one (default: serve). An unreadable store is an error, not the default. */
static int load_settings(sb_service *s, const sb_attestd_config *cfg, sb_err *err)
{
    char v[8] = "1";
    if (cfg->serve_insecure >= 0) {
        v[0] = cfg->serve_insecure ? '1' : '0';
        if (store_setting_set(s->store, "serve_insecure", v, NULL) < 0)
            return sb_err_set(err, 1, "attestd: cannot store the serve_insecure setting (is the "
                                      "state directory's disk full?)");
    } else if (store_setting_get(s->store, "serve_insecure", v, sizeof v) < 0) {
        return sb_err_set(err, 1, "attestd: cannot read the stored settings");
    }
    atomic_store(&s->serve_insecure, v[0] == '1');
    return 0;
}

sb_service *sb_service_open(const sb_attestd_config *cfg, sb_err *err)
{
    if (!cfg->state_dir)
        return sb_err_set(err, 1, "attestd: no state directory"), NULL;
    if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST)
        return sb_err_set(err, 1, "attestd: cannot create %s: %s", cfg->state_dir,
                          strerror(errno)), NULL;
    sb_service *s = calloc(1, sizeof *s);
    if (!s)
        return sb_err_set(err, 1, "out of memory"), NULL;
    pthread_mutex_init(&s->keys.lock, NULL);
    pthread_mutex_init(&s->settings_lock, NULL);
    s->cert_validity = cfg->cert_validity > 0 ? cfg->cert_validity : 86400;
    s->nonce_ttl = cfg->nonce_ttl > 0 ? cfg->nonce_ttl : 300;
    char db[4096];
    snprintf(db, sizeof db, "%s/attestd.db", cfg->state_dir);
    if (sb_ca_load_or_create(cfg->state_dir, &s->ca_key, &s->ca_cert, &s->root_pem, err) < 0 ||
        sb_admin_token_load_or_create(cfg->state_dir, s->admin_token, sizeof s->admin_token,
                                      err) < 0 ||
        store_open(db, &s->store, err) < 0 || !(s->ca_pem = pem_of(s->ca_cert, NULL))) {
        if (!s->ca_pem && s->store)
            sb_err_set(err, 1, "attestd: cannot encode the CA certificate");
        sb_service_close(s);
        return NULL;
    }
    if (load_settings(s, cfg, err) < 0) {
        sb_service_close(s);
        return NULL;
    }
    return s;
}

void sb_service_close(sb_service *s)
{
    if (!s)
        return;
    sb_service_devices_changed(s);
    pthread_mutex_destroy(&s->keys.lock);
    pthread_mutex_destroy(&s->settings_lock);
    store_close(s->store);
    EVP_PKEY_free(s->ca_key);
    X509_free(s->ca_cert);
    free(s->root_pem);
    free(s->ca_pem);
    OPENSSL_cleanse(s->admin_token, sizeof s->admin_token);
    free(s);
}

void sb_service_set_url(sb_service *s, const char *url)
{
    snprintf(s->url, sizeof s->url, "%s", url);
}

const char *sb_service_root_pem(const sb_service *s)
{
    return s->root_pem;
}

int sb_service_admin_ok(const sb_service *s, const char *auth)
{
    size_t n = strlen(s->admin_token);
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) != n)
        return 0;
    return CRYPTO_memcmp(auth + 7, s->admin_token, n) == 0;
}

int sb_service_challenge(sb_service *s, uint8_t nonce[SB_NONCE_LEN], time_t *expires,
                         sb_refusal *r)
{
    time_t now = time(NULL);
    sb_err e = {0};
    if (RAND_bytes(nonce, SB_NONCE_LEN) != 1)
        return refuse(r, 500, "internal error", "no randomness");
    *expires = now + s->nonce_ttl;
    if (store_challenge_new(s->store, nonce, SB_NONCE_LEN, now, *expires, &e) < 0)
        return refuse(r, 503, "store unavailable", e.msg);
    return 0;
}

/* ---------------- attestation ---------------- */

/* Per-request working state, so the steps stay short. */
typedef struct attempt {
    sb_service *s;
    const sb_attest_req *req;
    const sb_platform_info *plat;
    X509_REQ *csr;              /* general path only */
    EVP_PKEY *csr_key;          /* owned by csr, or by this attempt (fast path) */
    X509_PUBKEY *csr_spki;      /* the request's SubjectPublicKeyInfo (owned by csr, or here) */
    int csr_fast;               /* csr_key and csr_spki owned here */
    sb_trust_anchors anchors;
    EVP_PKEY *device_key;
    X509 *root_certs[16];
    EVP_PKEY *root_keys[16];
    sb_claims claims;
    char measurement_hex[2 * SB_MEASUREMENT_MAX + 1];
    char policy_hex[65];
    char device_id[128];
} attempt;

static int parse_csr(attempt *a, sb_refusal *r)
{
    switch (sb_csr_read_fast(a->req->csr_pem, &a->csr_key, &a->csr_spki)) {
    case CSR_OK: a->csr_fast = 1; return 0;
    case CSR_BAD_SIGNATURE: return refuse(r, 400, "bad csr", "self-signature does not verify");
    default: break; /* the general path below */
    }
    BIO *b = BIO_new_mem_buf(a->req->csr_pem, -1);
    a->csr = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!a->csr)
        return refuse(r, 400, "bad csr", "not a PEM certificate request");
    a->csr_key = X509_REQ_get0_pubkey(a->csr);
    if (!a->csr_key)
        return refuse(r, 400, "bad csr", "no public key");
    int id = EVP_PKEY_get_base_id(a->csr_key);
    if (id != EVP_PKEY_EC && id != EVP_PKEY_ED25519 &&
        !(id == EVP_PKEY_RSA && EVP_PKEY_get_bits(a->csr_key) >= 2048))
        return refuse(r, 400, "bad csr", "key must be EC, Ed25519 or RSA >= 2048 bits");
    if (X509_REQ_verify(a->csr, a->csr_key) != 1)
        return refuse(r, 400, "bad csr", "self-signature does not verify");
    a->csr_spki = X509_REQ_get_X509_PUBKEY(a->csr);
    return 0;
}

static int check_nonce(attempt *a, sb_refusal *r)
{
    switch (store_challenge_consume(a->s->store, a->req->nonce, SB_NONCE_LEN, time(NULL))) {
    case NONCE_OK: return 0;
    case NONCE_UNKNOWN: return refuse(r, 403, "unknown nonce", "the service never issued it");
    case NONCE_STALE: return refuse(r, 403, "stale nonce", "the challenge expired");
    case NONCE_REUSED: return refuse(r, 403, "reused nonce", "the challenge was already used");
    case NONCE_OLD_RUN:
        return refuse(r, 403, "stale nonce",
                      "the challenge was issued before the service restarted or failed to store "
                      "a nonce's use; ask for a new one");
    default:
        return refuse(r, 503, "store unavailable",
                      "cannot record the nonce as used (it can no longer be used)");
    }
}

static EVP_PKEY *cache_get(key_cache *c, const char *platform, const uint8_t fp[32], char *id,
                           size_t id_cap)
{
    EVP_PKEY *k = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n && !k; i++)
        if (memcmp(c->e[i].fp, fp, 32) == 0 && strcmp(c->e[i].platform, platform) == 0 &&
            EVP_PKEY_up_ref(c->e[i].key) == 1) {
            k = c->e[i].key;
            snprintf(id, id_cap, "%s", c->e[i].id);
        }
    pthread_mutex_unlock(&c->lock);
    return k;
}

static unsigned long cache_gen(key_cache *c)
{
    pthread_mutex_lock(&c->lock);
    unsigned long gen = c->gen;
    pthread_mutex_unlock(&c->lock);
    return gen;
}

/* Caches `k` unless the cache was cleared (a revocation) since `gen` was read. */
static void cache_put(key_cache *c, const char *platform, const uint8_t fp[32], const char *id,
                      EVP_PKEY *k, unsigned long gen)
{
    pthread_mutex_lock(&c->lock);
    if (c->gen != gen || EVP_PKEY_up_ref(k) != 1) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    size_t i;
    if (c->n < KEY_CACHE) {
        i = c->n++;
    } else { /* full: replace round-robin */
        i = c->next++ % KEY_CACHE;
        EVP_PKEY_free(c->e[i].key);
    }
    memcpy(c->e[i].fp, fp, 32);
    snprintf(c->e[i].platform, sizeof c->e[i].platform, "%s", platform);
    snprintf(c->e[i].id, sizeof c->e[i].id, "%s", id);
    c->e[i].key = k;
    pthread_mutex_unlock(&c->lock);
}

void sb_service_devices_changed(sb_service *s)
{
    pthread_mutex_lock(&s->keys.lock);
    for (size_t i = 0; i < s->keys.n; i++)
        EVP_PKEY_free(s->keys.e[i].key);
    s->keys.n = 0;
    s->keys.next = 0;
    s->keys.gen++;
    pthread_mutex_unlock(&s->keys.lock);
}

static int load_device_key(attempt *a, const uint8_t fp[32], sb_refusal *r)
{
    char *pem = NULL;
    unsigned long gen = cache_gen(&a->s->keys);
    int rc = store_device_find(a->s->store, a->plat->name, fp, &pem, a->device_id,
                               sizeof a->device_id);
    if (rc == 1 || rc == 2) {
        char d[160], hex[65];
        sb_hex_encode(fp, 32, hex);
        snprintf(d, sizeof d, "%s key %s%s", a->plat->name, hex,
                 rc == 2 ? " was revoked" : " is not registered");
        return refuse(r, 403, "device unknown", d);
    }
    if (rc < 0)
        return refuse(r, 503, "store unavailable", "device lookup failed");
    BIO *b = BIO_new_mem_buf(pem, -1);
    a->device_key = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    free(pem);
    if (!a->device_key)
        return refuse(r, 500, "internal error", "stored device key unreadable");
    cache_put(&a->s->keys, a->plat->name, fp, a->device_id, a->device_key, gen);
    return 0;
}

/* Device-keyed platforms: the token's instance ID names the registered key. */
static int device_anchor(attempt *a, sb_refusal *r)
{
    uint8_t iid[33];
    size_t iid_len;
    sb_err e = {0};
    if (sb_psa_peek_instance_id(a->req->evidence, a->req->evidence_len, iid, &iid_len, &e) < 0)
        return refuse(r, 403, "bad evidence", e.msg);
    a->device_key = cache_get(&a->s->keys, a->plat->name, iid + 1, a->device_id,
                              sizeof a->device_id);
    if (!a->device_key && load_device_key(a, iid + 1, r) < 0)
        return -1;
    a->anchors.keys = &a->device_key;
    a->anchors.n_keys = 1;
    return 0;
}

/* Hardware platforms: every registered vendor root / platform key of the platform. */
static int vendor_anchors(attempt *a, sb_refusal *r)
{
    char *pems = store_roots_for(a->s->store, a->plat->name);
    if (!pems)
        return refuse(r, 503, "store unavailable", "root lookup failed");
    BIO *b = BIO_new_mem_buf(pems, -1);
    STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *x = sk_X509_INFO_value(infos, i);
        if (x->x509 && a->anchors.n_certs < 16) {
            X509_up_ref(x->x509);
            a->root_certs[a->anchors.n_certs++] = x->x509;
        }
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    /* public keys (e.g. CCA platform keys) */
    b = BIO_new_mem_buf(pems, -1);
    EVP_PKEY *k;
    while (b && a->anchors.n_keys < 16 && (k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)))
        a->root_keys[a->anchors.n_keys++] = k;
    BIO_free(b);
    free(pems);
    a->anchors.certs = a->root_certs;
    a->anchors.keys = a->root_keys;
    if (a->anchors.n_certs == 0 && a->anchors.n_keys == 0) {
        char d[96];
        snprintf(d, sizeof d, "no vendor root registered for platform %s", a->plat->name);
        return refuse(r, 403, "device unknown", d);
    }
    return 0;
}

static int verify_evidence(attempt *a, sb_refusal *r)
{
    sb_err e = {0};
    if (a->plat->verify(a->req->evidence, a->req->evidence_len, &a->anchors, time(NULL),
                        &a->claims, &e) < 0)
        return refuse(r, 403, "bad evidence", e.msg);
    if (a->claims.n_measurements == 0 || a->claims.measurements[0].len == 0)
        return refuse(r, 403, "bad evidence", "evidence carries no measurement");
    const sb_measurement *m = &a->claims.measurements[0];
    sb_hex_encode(m->value, m->len, a->measurement_hex);
    return 0;
}

static int check_binding(attempt *a, sb_refusal *r)
{
    uint8_t want[SB_BINDING_LEN];
    sb_err e = {0};
    if (sb_attest_binding_for_key(a->req->nonce, SB_NONCE_LEN, a->csr_key, a->req->policy_hash,
                                  want, &e) < 0)
        return refuse(r, 500, "internal error", e.msg);
    if (a->claims.report_data_len < SB_BINDING_LEN ||
        CRYPTO_memcmp(want, a->claims.report_data, SB_BINDING_LEN) != 0)
        return refuse(r, 403, "binding mismatch",
                      "evidence does not bind this nonce, CSR key and policy hash");
    return 0;
}

static int check_acceptance(attempt *a, sb_refusal *r)
{
    int insecure = !a->plat->hardware || a->claims.debug;
    if (insecure && !atomic_load(&a->s->serve_insecure)) {
        char d[128];
        snprintf(d, sizeof d, "platform %s is %s and this service does not serve those",
                 a->plat->name, a->plat->hardware ? "in debug mode" : "insecure");
        return refuse(r, 403, "debug platform refused", d);
    }
    int m = store_measurement_check(a->s->store, a->plat->name, a->measurement_hex);
    if (m == 1) {
        char d[200];
        snprintf(d, sizeof d, "%s measurement %.128s is not on the allow-list", a->plat->name,
                 a->measurement_hex);
        return refuse(r, 403, "measurement not accepted", d);
    }
    if (m < 0)
        return refuse(r, 503, "store unavailable", "allow-list lookup failed");
    return 0;
}

static char *pem_of(X509 *c1, X509 *c2)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL, *data;
    if (b && PEM_write_bio_X509(b, c1) == 1 && (!c2 || PEM_write_bio_X509(b, c2) == 1)) {
        long n = BIO_get_mem_data(b, &data);
        out = n > 0 ? strndup(data, (size_t)n) : NULL;
    }
    BIO_free(b);
    return out;
}

/* An isolate's clock may lag the service's by a little: a VM guest reads its wall clock at boot
 * from an RTC with whole-second resolution, so a certificate valid from exactly "now" could be
 * "not yet valid" to the isolate that receives it. Backdated (its end is unchanged). */
#define SB_ISSUE_BACKDATE_S 120

static int issue(attempt *a, const char *peer, char **chain_pem, sb_refusal *r)
{
    sb_issue_params p = {.ca_cert = a->s->ca_cert, .ca_key = a->s->ca_key,
                         .subject_key = a->csr_key, .claims = &a->claims,
                         .hardware = a->plat->hardware, .service_url = a->s->url,
                         .not_before = time(NULL) - SB_ISSUE_BACKDATE_S,
                         .validity_seconds = a->s->cert_validity + SB_ISSUE_BACKDATE_S,
                         .subject_spki = a->csr_spki};
    memcpy(p.binding, a->claims.report_data, SB_BINDING_LEN);
    memcpy(p.policy_hash, a->req->policy_hash, SB_POLICY_HASH_LEN);
    if (RAND_bytes(p.serial, sizeof p.serial) != 1)
        return refuse(r, 500, "internal error", "no randomness");
    p.serial[0] &= 0x7f; /* positive */
    X509 *leaf = NULL;
    sb_err e = {0};
    if (sb_attest_issue_cert(&p, &leaf, &e) < 0)
        return refuse(r, 500, "internal error", e.msg);
    char serial[33], *leaf_pem = pem_of(leaf, NULL);
    X509_free(leaf);
    size_t ll = leaf_pem ? strlen(leaf_pem) : 0, cl = strlen(a->s->ca_pem);
    *chain_pem = leaf_pem ? malloc(ll + cl + 1) : NULL;
    if (*chain_pem) { /* leaf then the issuing CA */
        memcpy(*chain_pem, leaf_pem, ll);
        memcpy(*chain_pem + ll, a->s->ca_pem, cl + 1);
    }
    sb_hex_encode(p.serial, sizeof p.serial, serial);
    audit_rec rec = {"issued", NULL, a->plat->name, a->measurement_hex, a->policy_hex, serial,
                     peer, a->device_id[0] ? a->device_id : a->claims.signer};
    int rc = leaf_pem && *chain_pem
                 ? store_issue(a->s->store, p.not_before, serial, leaf_pem,
                               p.not_before + p.validity_seconds, &rec, &e)
                 : sb_err_set(&e, 1, "out of memory");
    free(leaf_pem);
    if (rc < 0) {
        free(*chain_pem);
        *chain_pem = NULL;
        return refuse(r, 503, "store unavailable", e.msg);
    }
    return 0;
}

static void attempt_free(attempt *a)
{
    X509_REQ_free(a->csr);
    if (a->csr_fast) {
        EVP_PKEY_free(a->csr_key);
        X509_PUBKEY_free(a->csr_spki);
    }
    EVP_PKEY_free(a->device_key);
    for (size_t i = 0; a->anchors.certs == a->root_certs && i < a->anchors.n_certs; i++)
        X509_free(a->root_certs[i]);
    for (size_t i = 0; a->anchors.keys == a->root_keys && i < a->anchors.n_keys; i++)
        EVP_PKEY_free(a->root_keys[i]);
}

int sb_service_attest(sb_service *s, const sb_attest_req *req, const char *peer, char **chain_pem,
                      sb_refusal *r)
{
    *chain_pem = NULL;
    attempt *a = calloc(1, sizeof *a);
    if (!a)
        return refuse(r, 500, "internal error", "out of memory");
    a->s = s;
    a->req = req;
    sb_hex_encode(req->policy_hash, SB_POLICY_HASH_LEN, a->policy_hex);
    a->plat = sb_attest_platform(req->platform);
    /* The nonce is spent first, durably: whatever happens next, it cannot be used again, and
     * nothing below runs unless its use is recorded. */
    int rc = check_nonce(a, r);
    if (rc == 0 && !a->plat) {
        char d[64];
        snprintf(d, sizeof d, "no verifier for platform '%s'", req->platform);
        rc = refuse(r, 400, "unknown platform", d);
    } else if (rc == 0) {
        rc = parse_csr(a, r);
        if (rc == 0 && !a->plat->hardware && !atomic_load(&s->serve_insecure))
            rc = refuse(r, 403, "debug platform refused",
                        "this service does not serve insecure platforms");
        if (rc == 0)
            rc = a->plat->device_keyed ? device_anchor(a, r) : vendor_anchors(a, r);
        if (rc == 0)
            rc = verify_evidence(a, r);
        if (rc == 0)
            rc = check_binding(a, r);
        if (rc == 0)
            rc = check_acceptance(a, r);
        if (rc == 0)
            rc = issue(a, peer, chain_pem, r);
    }
    if (rc < 0) {
        audit_rec rec = {"refused", r->reason, req->platform,
                         a->measurement_hex[0] ? a->measurement_hex : NULL, a->policy_hex, NULL,
                         peer, r->detail};
        store_audit(s->store, time(NULL), &rec);
    }
    attempt_free(a);
    free(a);
    return rc;
}

sb_store *sb_service_store(sb_service *s)
{
    return s->store;
}

int sb_service_serve_insecure(sb_service *s)
{
    return atomic_load(&s->serve_insecure);
}

int sb_service_set_serve_insecure(sb_service *s, int on, const audit_rec *a)
{
    pthread_mutex_lock(&s->settings_lock);
    int rc = store_setting_set(s->store, "serve_insecure", on ? "1" : "0", a);
    if (rc == 0)
        atomic_store(&s->serve_insecure, on != 0);
    pthread_mutex_unlock(&s->settings_lock);
    return rc;
}

void sb_service_record_refusal(sb_service *s, const char *platform, const sb_refusal *r,
                               const char *peer)
{
    audit_rec rec = {"refused", r->reason, platform, NULL, NULL, NULL, peer, r->detail};
    store_audit(s->store, time(NULL), &rec);
}
