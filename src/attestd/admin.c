/* admin.c - request parsing and the authenticated admin operations of the service. */
#include "attestd/attestd.h"
#include "attestd/service_internal.h"
#include "attestd/store.h"

#include <ctype.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Platform names a vendor root may be registered for, even before their verifier exists. */
static const char *const root_platforms[] = {"psa", "sev-snp", "tdx", "cca", "nitro", NULL};

static int refuse(sb_refusal *r, int status, const char *reason, const char *detail)
{
    r->status = status;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    snprintf(r->detail, sizeof r->detail, "%.250s", detail ? detail : "");
    return -1;
}

static const char *get_str(json_t *o, const char *key, size_t max)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || strlen(s) == 0 || strlen(s) > max)
        return NULL;
    return s;
}

void sb_attest_req_free(sb_attest_req *r)
{
    free(r->evidence);
    free(r->csr_pem);
    memset(r, 0, sizeof *r);
}

static int hex_field(json_t *o, const char *key, uint8_t *out, size_t len, sb_err *err)
{
    const char *s = get_str(o, key, 2 * len);
    if (!s || strlen(s) != 2 * len || sb_hex_decode(s, out, len) < 0)
        return sb_err_set(err, 1, "%s: want %zu hex characters", key, 2 * len);
    return 0;
}

int sb_attestd_parse_attest(const char *body, size_t len, sb_attest_req *out, sb_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > SB_ATTESTD_MAX_BODY)
        return sb_err_set(err, 1, "request body too large");
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return sb_err_set(err, 1, "body is not a JSON object%s%s", o ? "" : ": ",
                          o ? "" : je.text);
    }
    int rc = -1;
    const char *platform = get_str(o, "platform", sizeof out->platform - 1);
    const char *ev = get_str(o, "evidence", 4 * (SB_ATTESTD_MAX_EVIDENCE / 3) + 4);
    const char *csr = get_str(o, "csr", SB_ATTESTD_MAX_CSR);
    if (!platform)
        sb_err_set(err, 1, "platform: missing or longer than %zu", sizeof out->platform - 1);
    else if (!ev)
        sb_err_set(err, 1, "evidence: missing or too large");
    else if (!csr)
        sb_err_set(err, 1, "csr: missing or too large");
    else if (hex_field(o, "policy_hash", out->policy_hash, SB_POLICY_HASH_LEN, err) == 0 &&
             hex_field(o, "nonce", out->nonce, SB_NONCE_LEN, err) == 0 &&
             sb_base64_decode(ev, strlen(ev), &out->evidence, &out->evidence_len, err) == 0) {
        snprintf(out->platform, sizeof out->platform, "%s", platform);
        out->csr_pem = strdup(csr);
        rc = out->csr_pem ? 0 : sb_err_set(err, 1, "out of memory");
    }
    json_decref(o);
    if (rc < 0)
        sb_attest_req_free(out);
    return rc;
}

/* ---------------- admin ---------------- */

static int valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
            return 0;
    return 1;
}

static int root_platform_ok(const char *p)
{
    for (const char *const *q = root_platforms; *q; q++)
        if (strcmp(*q, p) == 0)
            return 1;
    const sb_platform_info *info = sb_attest_platform(p);
    return info && !info->device_keyed;
}

/* The audit record of an admin change: stored in the change's own transaction, so a change is
 * never acknowledged without its record, nor recorded without being made. */
static audit_rec admin_rec(const char *action, const char *detail, const char *peer)
{
    return (audit_rec){"admin", action, NULL, NULL, NULL, NULL, peer, detail};
}

static json_t *ok_json(const char *what, const char *id)
{
    return json_pack("{s:s, s:s}", "ok", what, "id", id);
}

static json_t *add_device(sb_service *s, json_t *o, const char *peer, sb_refusal *r)
{
    const char *id = get_str(o, "id", 64), *pem = get_str(o, "public_key", 8192);
    const char *platform = json_string_value(json_object_get(o, "platform"));
    if (!platform)
        platform = "process";
    const sb_platform_info *info = sb_attest_platform(platform);
    if (!valid_id(id))
        return refuse(r, 400, "malformed request", "id: 1..64 of [A-Za-z0-9._-]"), NULL;
    if (!info || !info->device_keyed)
        return refuse(r, 400, "unknown platform", "devices are registered for process, kvm or psa"),
               NULL;
    BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    uint8_t fp[32];
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC || sb_attest_key_hash(k, fp, NULL) < 0) {
        EVP_PKEY_free(k);
        return refuse(r, 400, "malformed request", "public_key: not a PEM EC public key"), NULL;
    }
    EVP_PKEY_free(k);
    char fph[65], d[160];
    sb_hex_encode(fp, 32, fph);
    snprintf(d, sizeof d, "device %s (%s) key %s", id, platform, fph);
    audit_rec rec = admin_rec("register device", d, peer);
    sb_err e = {0};
    if (store_device_add(sb_service_store(s), id, platform, fp, pem, time(NULL), &rec, &e) < 0)
        return refuse(r, e.code == 409 ? 409 : 503, e.code == 409 ? "exists" : "store unavailable",
                      e.msg), NULL;
    return json_pack("{s:s, s:s, s:s, s:s}", "ok", "registered", "id", id, "platform", platform,
                     "fingerprint", fph);
}

static int count_anchors(const char *pem)
{
    int n = 0;
    BIO *b = BIO_new_mem_buf(pem, -1);
    STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;
    for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++)
        n += sk_X509_INFO_value(infos, i)->x509 != NULL;
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(b);
    b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k;
    while (b && (k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL))) {
        n++;
        EVP_PKEY_free(k);
    }
    BIO_free(b);
    return n;
}

static json_t *add_root(sb_service *s, json_t *o, const char *peer, sb_refusal *r)
{
    const char *id = get_str(o, "id", 64), *platform = get_str(o, "platform", 15);
    const char *pem = get_str(o, "pem", 65536);
    if (!valid_id(id))
        return refuse(r, 400, "malformed request", "id: 1..64 of [A-Za-z0-9._-]"), NULL;
    if (!platform || !root_platform_ok(platform))
        return refuse(r, 400, "unknown platform", "roots are for psa, sev-snp, tdx, cca, nitro"),
               NULL;
    if (!pem || count_anchors(pem) == 0)
        return refuse(r, 400, "malformed request",
                      "pem: no certificate or public key in it"), NULL;
    char d[128];
    snprintf(d, sizeof d, "root %s for %s", id, platform);
    audit_rec rec = admin_rec("register root", d, peer);
    sb_err e = {0};
    if (store_root_add(sb_service_store(s), id, platform, pem, time(NULL), &rec, &e) < 0)
        return refuse(r, e.code == 409 ? 409 : 503, e.code == 409 ? "exists" : "store unavailable",
                      e.msg), NULL;
    return ok_json("registered", id);
}

static int normalise_hex(const char *in, char *out, size_t cap)
{
    size_t n = in ? strlen(in) : 0;
    if (n == 0 || n % 2 || n >= cap || n > 2 * SB_MEASUREMENT_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)in[i]))
            return -1;
        out[i] = (char)tolower((unsigned char)in[i]);
    }
    out[n] = 0;
    return 0;
}

static json_t *add_measurement(sb_service *s, json_t *o, const char *peer, sb_refusal *r)
{
    const char *platform = get_str(o, "platform", 15);
    char hex[2 * SB_MEASUREMENT_MAX + 1];
    if (!platform || !sb_attest_platform(platform))
        return refuse(r, 400, "unknown platform", "platform: not a known platform"), NULL;
    if (normalise_hex(json_string_value(json_object_get(o, "measurement")), hex, sizeof hex) < 0)
        return refuse(r, 400, "malformed request", "measurement: 1..64 bytes as hex"), NULL;
    char d[200];
    snprintf(d, sizeof d, "%s %.128s", platform, hex);
    audit_rec rec = admin_rec("allow measurement", d, peer);
    sb_err e = {0};
    if (store_measurement_add(sb_service_store(s), platform, hex, time(NULL), &rec, &e) < 0)
        return refuse(r, 503, "store unavailable", e.msg), NULL;
    return ok_json("added", hex);
}

static json_t *set_settings(sb_service *s, json_t *o, const char *peer, sb_refusal *r)
{
    json_t *v = json_object_get(o, "serve_insecure");
    if (!json_is_boolean(v))
        return refuse(r, 400, "malformed request", "serve_insecure: want true or false"), NULL;
    audit_rec rec = admin_rec(
        "settings", json_is_true(v) ? "serve_insecure=true" : "serve_insecure=false", peer);
    if (sb_service_set_serve_insecure(s, json_is_true(v), &rec) < 0)
        return refuse(r, 503, "store unavailable", "store: cannot record the setting; unchanged"),
               NULL;
    return json_pack("{s:b}", "serve_insecure", json_is_true(v));
}

/* Maps a store result (0 done, 1 unknown, -1 error) to a response. */
static json_t *done_or_refuse(int rc, const char *action, const char *id, sb_refusal *r)
{
    if (rc == 1)
        return refuse(r, 404, "not found", id), NULL;
    if (rc < 0)
        return refuse(r, 503, "store unavailable", action), NULL;
    return ok_json(action, id);
}

/* `limit`: decimal digits only, 1..1000; absent: 100. */
static int parse_limit(const char *value, long *out, sb_refusal *r)
{
    size_t n = value ? strlen(value) : 0;
    long v = 0;
    for (size_t i = 0; i < n && v >= 0 && v <= 1000; i++) /* stops before it could overflow */
        v = isdigit((unsigned char)value[i]) ? v * 10 + (value[i] - '0') : -1;
    if (value && (n == 0 || v < 1 || v > 1000)) {
        char shown[24]; /* the value as sent, printable ASCII only, cut short */
        size_t k = 0;
        for (; k < n && k + 1 < sizeof shown; k++)
            shown[k] = value[k] > 0x20 && value[k] < 0x7f ? value[k] : '?';
        shown[k] = 0;
        char d[96];
        snprintf(d, sizeof d, "limit: want an integer from 1 to 1000, got '%s%s'", shown,
                 k < n ? "..." : "");
        return refuse(r, 400, "malformed request", d);
    }
    *out = value ? v : 100;
    return 0;
}

static json_t *list(sb_service *s, const char *which, const char *limit_value, sb_refusal *r)
{
    long limit;
    if (parse_limit(limit_value, &limit, r) < 0)
        return NULL;
    json_t *arr = store_list(sb_service_store(s), which, limit);
    if (!arr)
        return refuse(r, 503, "store unavailable", which), NULL;
    json_t *o = json_object();
    json_object_set_new(o, which, arr);
    return o;
}

/* Routes with an id in the path: DELETE /devices/ID, DELETE /roots/ID,
 * DELETE /measurements/PLATFORM/HEX, POST /certificates/SERIAL/revoke. */
static json_t *with_id(sb_service *s, const char *method, const char *path, const char *peer,
                       sb_refusal *r)
{
    char a[32], b[160], c[16];
    time_t now = time(NULL);
    sb_store *st = sb_service_store(s);
    int n = sscanf(path, "/%31[a-z]/%159[^/]/%15s", a, b, c);
    char hex[2 * SB_MEASUREMENT_MAX + 1], d[200];
    snprintf(d, sizeof d, "%.190s", b);
    if (n == 2 && strcmp(method, "DELETE") == 0 && valid_id(b) && strcmp(a, "devices") == 0) {
        audit_rec rec = admin_rec("revoke device", d, peer);
        int rc = store_device_revoke(st, b, now, &rec);
        sb_service_devices_changed(s); /* after the store changed, so no stale key is cached */
        return done_or_refuse(rc, "revoke device", b, r);
    }
    if (n == 2 && strcmp(method, "DELETE") == 0 && valid_id(b) && strcmp(a, "roots") == 0) {
        audit_rec rec = admin_rec("revoke root", d, peer);
        return done_or_refuse(store_root_revoke(st, b, now, &rec), "revoke root", b, r);
    }
    const char *hex_in = n == 3 && strcmp(a, "measurements") == 0
                             ? strchr(path + strlen("/measurements/"), '/')
                             : NULL;
    if (n == 3 && strcmp(method, "DELETE") == 0 && strcmp(a, "measurements") == 0 && hex_in &&
        normalise_hex(hex_in + 1, hex, sizeof hex) == 0) {
        snprintf(d, sizeof d, "%.15s %.128s", b, hex);
        audit_rec rec = admin_rec("remove measurement", d, peer);
        return done_or_refuse(store_measurement_del(st, b, hex, &rec), "remove measurement", d, r);
    }
    if (n == 3 && strcmp(method, "POST") == 0 && strcmp(a, "certificates") == 0 &&
        strcmp(c, "revoke") == 0 && valid_id(b)) {
        audit_rec rec = admin_rec("revoke certificate", d, peer);
        return done_or_refuse(store_cert_revoke(st, b, now, &rec), "revoke certificate", b, r);
    }
    return refuse(r, 404, "not found", path), NULL;
}

json_t *sb_service_admin(sb_service *s, const char *method, const char *path, const char *limit,
                         const char *body, size_t body_len, const char *peer, sb_refusal *r)
{
    int get = strcmp(method, "GET") == 0;
    if (get && (strcmp(path, "/devices") == 0 || strcmp(path, "/roots") == 0 ||
                strcmp(path, "/measurements") == 0 || strcmp(path, "/certificates") == 0 ||
                strcmp(path, "/audit") == 0))
        return list(s, path + 1, limit, r);
    if (limit)
        return refuse(r, 400, "malformed request",
                      "limit: this endpoint takes no query parameters"), NULL;
    if (get && strcmp(path, "/settings") == 0)
        return json_pack("{s:b}", "serve_insecure", sb_service_serve_insecure(s));
    int post = strcmp(method, "POST") == 0, put = strcmp(method, "PUT") == 0;
    if ((post && (strcmp(path, "/devices") == 0 || strcmp(path, "/roots") == 0 ||
                  strcmp(path, "/measurements") == 0)) ||
        (put && strcmp(path, "/settings") == 0)) {
        json_t *o = json_loadb(body ? body : "", body_len, JSON_REJECT_DUPLICATES, NULL);
        json_t *res = NULL;
        if (!json_is_object(o))
            refuse(r, 400, "malformed request", "body is not a JSON object");
        else if (strcmp(path, "/devices") == 0)
            res = add_device(s, o, peer, r);
        else if (strcmp(path, "/roots") == 0)
            res = add_root(s, o, peer, r);
        else if (strcmp(path, "/measurements") == 0)
            res = add_measurement(s, o, peer, r);
        else
            res = set_settings(s, o, peer, r);
        json_decref(o);
        return res;
    }
    return with_id(s, method, path, peer, r);
}

json_t *sb_service_revoked(sb_service *s, sb_refusal *r)
{
    return list(s, "revoked", "1000", r);
}
