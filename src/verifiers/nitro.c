/* nitro.c - AWS Nitro Enclaves attestation document verifier.
 *
 * Evidence: a COSE_Sign1 (tagged 18 or untagged) whose payload is the attestation document map
 * (AWS "Verifying the root of trust"): module_id, digest, timestamp, pcrs, certificate, cabundle,
 * public_key, user_data, nonce. Checked: ES384 in the protected header; every mandatory field
 * with its type and size limits; digest "SHA384" with 48-byte PCRs (indexes 0..31); the
 * certificate (ECDSA P-384) chaining through the cabundle to a self-signed Nitro root among the
 * anchors, validated at the document's timestamp (the leaf certificates live for hours); every
 * cabundle certificate used by that chain; the signature by the certificate's key; the timestamp
 * not later than `at`. A debug enclave reports PCR0..2 as all zeros: claims.debug = 1. */
#include "cose/cose.h"
#include "verifiers/verifiers.h"
#include "verifiers/vutil.h"

#include <stdio.h>
#include <string.h>

#define NITRO_MAX_PCRS 32
#define NITRO_PCR_LEN 48
#define NITRO_MAX_BUNDLE 16
#define NITRO_MAX_OPTIONAL 1024 /* public_key, user_data, nonce: the NSM caps them at 1024 */
#define NITRO_CLOCK_SKEW 300    /* seconds a document may be ahead of `at` */

typedef struct bytes {
    const uint8_t *p;
    size_t n;
} bytes;

typedef struct nitro_doc {
    const char *module_id;
    size_t module_id_len;
    uint64_t timestamp_ms;
    int has_timestamp, has_digest, has_pcrs, has_bundle;
    bytes pcr[NITRO_MAX_PCRS];
    bytes certificate;
    bytes bundle[NITRO_MAX_BUNDLE];
    size_t n_bundle;
    bytes public_key, user_data, nonce; /* p == NULL: absent or null */
} nitro_doc;

static int key_is(const char *k, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(k, want, n) == 0;
}

/* An optional byte string: CBOR null or a bstr of at most NITRO_MAX_OPTIONAL bytes. */
static int read_optional(sb_cbor *r, bytes *out, const char *name, sb_err *err)
{
    if (sb_cbor_peek(r) == SB_CBOR_SIMPLE && r->p[0] == 0xf6) {
        r->p++;
        return 0;
    }
    if (sb_cbor_read_bytes(r, &out->p, &out->n, err) != 0) {
        sb_err_prefix(err, "%s", name);
        return -1;
    }
    if (out->n > NITRO_MAX_OPTIONAL)
        return sb_err_set(err, 1, "%s is %zu bytes, more than %d", name, out->n, NITRO_MAX_OPTIONAL);
    return 0;
}

static int read_pcrs(sb_cbor *r, nitro_doc *d, sb_err *err)
{
    size_t n;
    if (sb_cbor_read_map(r, &n, err) != 0) {
        sb_err_prefix(err, "pcrs");
        return -1;
    }
    if (n == 0 || n > NITRO_MAX_PCRS)
        return sb_err_set(err, 1, "pcrs: %zu entries, need 1..%d", n, NITRO_MAX_PCRS);
    for (size_t i = 0; i < n; i++) {
        uint64_t idx;
        bytes v;
        if (sb_cbor_read_uint(r, &idx, err) != 0 || idx >= NITRO_MAX_PCRS)
            return sb_err_set(err, 1, "pcrs: index is not an integer 0..%d", NITRO_MAX_PCRS - 1);
        if (d->pcr[idx].p)
            return sb_err_set(err, 1, "pcrs: PCR%llu appears twice", (unsigned long long)idx);
        if (sb_cbor_read_bytes(r, &v.p, &v.n, err) != 0 || v.n != NITRO_PCR_LEN)
            return sb_err_set(err, 1, "pcrs: PCR%llu is not a %d-byte string",
                              (unsigned long long)idx, NITRO_PCR_LEN);
        d->pcr[idx] = v;
    }
    d->has_pcrs = 1;
    return 0;
}

static int read_bundle(sb_cbor *r, nitro_doc *d, sb_err *err)
{
    size_t n;
    if (sb_cbor_read_array(r, &n, err) != 0) {
        sb_err_prefix(err, "cabundle");
        return -1;
    }
    if (n == 0 || n > NITRO_MAX_BUNDLE)
        return sb_err_set(err, 1, "cabundle: %zu certificates, need 1..%d", n, NITRO_MAX_BUNDLE);
    for (size_t i = 0; i < n; i++)
        if (sb_cbor_read_bytes(r, &d->bundle[i].p, &d->bundle[i].n, err) != 0 ||
            d->bundle[i].n == 0 || d->bundle[i].n > 1024 * 16)
            return sb_err_set(err, 1, "cabundle[%zu]: not a certificate byte string", i);
    d->n_bundle = n;
    d->has_bundle = 1;
    return 0;
}

static int read_field(sb_cbor *r, const char *k, size_t kn, nitro_doc *d, sb_err *err)
{
    if (key_is(k, kn, "module_id")) {
        if (sb_cbor_read_text(r, &d->module_id, &d->module_id_len, err) != 0 || d->module_id_len == 0)
            return sb_err_set(err, 1, "module_id: not a non-empty text string");
        return 0;
    }
    if (key_is(k, kn, "digest")) {
        const char *v;
        size_t vn;
        if (sb_cbor_read_text(r, &v, &vn, err) != 0 || !key_is(v, vn, "SHA384"))
            return sb_err_set(err, 1, "digest: not \"SHA384\"");
        d->has_digest = 1;
        return 0;
    }
    if (key_is(k, kn, "timestamp")) {
        if (sb_cbor_read_uint(r, &d->timestamp_ms, err) != 0 || d->timestamp_ms == 0)
            return sb_err_set(err, 1, "timestamp: not a positive integer");
        d->has_timestamp = 1;
        return 0;
    }
    if (key_is(k, kn, "pcrs"))
        return read_pcrs(r, d, err);
    if (key_is(k, kn, "certificate")) {
        if (sb_cbor_read_bytes(r, &d->certificate.p, &d->certificate.n, err) != 0 ||
            d->certificate.n == 0 || d->certificate.n > 1024 * 16)
            return sb_err_set(err, 1, "certificate: not a certificate byte string");
        return 0;
    }
    if (key_is(k, kn, "cabundle"))
        return read_bundle(r, d, err);
    if (key_is(k, kn, "public_key"))
        return read_optional(r, &d->public_key, "public_key", err);
    if (key_is(k, kn, "user_data"))
        return read_optional(r, &d->user_data, "user_data", err);
    if (key_is(k, kn, "nonce"))
        return read_optional(r, &d->nonce, "nonce", err);
    return sb_err_set(err, 1, "unknown field '%.*s'", (int)(kn > 40 ? 40 : kn), k);
}

static int parse_document(const uint8_t *p, size_t len, nitro_doc *d, sb_err *err)
{
    sb_cbor r;
    size_t n;
    const char *seen[16];
    size_t seen_len[16];
    memset(d, 0, sizeof *d);
    sb_cbor_init(&r, p, len);
    if (sb_cbor_read_map(&r, &n, err) != 0 || n > 16)
        return sb_err_set(err, 1, "payload is not a map of at most 16 fields");
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kn;
        if (sb_cbor_read_text(&r, &k, &kn, err) != 0)
            return sb_err_set(err, 1, "field name is not text");
        for (size_t j = 0; j < i; j++)
            if (seen_len[j] == kn && memcmp(seen[j], k, kn) == 0)
                return sb_err_set(err, 1, "field '%.*s' appears twice", (int)(kn > 40 ? 40 : kn), k);
        seen[i] = k, seen_len[i] = kn;
        if (read_field(&r, k, kn, d, err) != 0)
            return -1;
    }
    if (sb_cbor_remaining(&r) != 0)
        return sb_err_set(err, 1, "bytes after the document map");
    if (!d->module_id || !d->has_digest || !d->has_timestamp || !d->has_pcrs || !d->certificate.p ||
        !d->has_bundle)
        return sb_err_set(err, 1, "a mandatory field (module_id, digest, timestamp, pcrs, "
                          "certificate, cabundle) is missing");
    return 0;
}

static X509 *der_cert(const bytes *b)
{
    const unsigned char *p = b->p;
    X509 *c = d2i_X509(NULL, &p, (long)b->n);
    if (c && p != b->p + b->n) {
        X509_free(c);
        c = NULL;
    }
    return c;
}

/* certificate -> cabundle (untrusted) -> a registered root, at the document's time. */
static int verify_doc_chain(const nitro_doc *d, const sb_trust_anchors *anchors, X509 **leaf,
                            sb_claims *out, sb_err *err)
{
    STACK_OF(X509) *bundle = sk_X509_new_null();
    int rc = -1;
    *leaf = der_cert(&d->certificate);
    if (!bundle || !*leaf) {
        sb_err_set(err, 1, "certificate: not a DER certificate");
        goto out;
    }
    for (size_t i = 0; i < d->n_bundle; i++) {
        X509 *c = der_cert(&d->bundle[i]);
        if (!c || !sk_X509_push(bundle, c)) {
            X509_free(c);
            sb_err_set(err, 1, "cabundle[%zu]: not a DER certificate", i);
            goto out;
        }
    }
    time_t doc_time = (time_t)(d->timestamp_ms / 1000);
    rc = sbv_verify_chain(*leaf, bundle, anchors, doc_time, out->chain, sizeof out->chain, NULL, err);
out:
    sk_X509_pop_free(bundle, X509_free);
    return rc;
}

static int fill_claims(const nitro_doc *d, sb_claims *out, sb_err *err)
{
    static const uint8_t zero[NITRO_PCR_LEN];
    if (!d->pcr[0].p)
        return sb_err_set(err, 1, "pcrs: PCR0 missing");
    if (sbv_add_measurement(out, "pcr0", d->pcr[0].p, NITRO_PCR_LEN, err) != 0)
        return -1;
    for (int i = 1; i < NITRO_MAX_PCRS; i++) {
        char name[8];
        snprintf(name, sizeof name, "pcr%d", i);
        if (d->pcr[i].p && memcmp(d->pcr[i].p, zero, NITRO_PCR_LEN) != 0 &&
            sbv_add_measurement(out, name, d->pcr[i].p, NITRO_PCR_LEN, err) != 0)
            return -1;
    }
    /* A debug enclave's PCR0..2 are all zero: its measurements mean nothing. */
    out->debug = 1;
    for (int i = 0; i < 3; i++)
        if (d->pcr[i].p && memcmp(d->pcr[i].p, zero, NITRO_PCR_LEN) != 0)
            out->debug = 0;
    /* report_data: the nonce when it fits, else user_data (the runtime puts the binding in the
     * nonce; see docs/evidence.md) */
    const bytes *rd = d->nonce.p && d->nonce.n <= 64 ? &d->nonce
                      : d->user_data.p && d->user_data.n <= 64 ? &d->user_data : NULL;
    if (rd) {
        memcpy(out->report_data, rd->p, rd->n);
        out->report_data_len = rd->n;
    }
    out->issued_at = (time_t)(d->timestamp_ms / 1000);
    snprintf(out->tcb, sizeof out->tcb, "module %.*s; digest SHA384; nonce %zu bytes; user_data "
             "%zu bytes; public_key %zu bytes; report_data from %s",
             (int)(d->module_id_len > 80 ? 80 : d->module_id_len), d->module_id, d->nonce.n,
             d->user_data.n, d->public_key.n, rd == &d->nonce ? "nonce" : rd ? "user_data" : "none");
    return 0;
}

int sb_verify_nitro(const uint8_t *evidence, size_t len, const sb_trust_anchors *anchors, time_t at,
                    sb_claims *out, sb_err *err)
{
    sbv_claims_init(out, "nitro");
    sb_cose_msg m;
    nitro_doc d;
    X509 *leaf = NULL;
    int rc = -1;
    if (sb_cose_decode(evidence, len, SB_COSE_SIGN1, &m, err) != 0)
        goto out;
    if (m.alg != SB_COSE_ALG_ES384) {
        sb_err_set(err, 1, "algorithm %lld is not ES384", (long long)m.alg);
        goto out;
    }
    if (!m.payload || parse_document(m.payload, m.payload_len, &d, err) != 0) {
        if (!m.payload)
            sb_err_set(err, 1, "detached payload is not allowed");
        sb_err_prefix(err, "document");
        goto out;
    }
    if ((time_t)(d.timestamp_ms / 1000) > at + NITRO_CLOCK_SKEW) {
        char ts[32], now[32];
        sb_time_format((time_t)(d.timestamp_ms / 1000), ts, sizeof ts);
        sb_time_format(at, now, sizeof now);
        sb_err_set(err, 1, "document timestamp %s is after the verification time %s", ts, now);
        goto out;
    }
    if (verify_doc_chain(&d, anchors, &leaf, out, err) != 0)
        goto out;
    EVP_PKEY *key = X509_get0_pubkey(leaf);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 384) {
        sb_err_set(err, 1, "certificate key is not ECDSA P-384");
        goto out;
    }
    if (sb_cose_sign1_verify(&m, key, NULL, 0, NULL, 0, err) != 0) {
        sb_err_prefix(err, "signature by the enclave certificate");
        goto out;
    }
    if (fill_claims(&d, out, err) != 0)
        goto out;
    char cn[128];
    sbv_cert_cn(leaf, cn, sizeof cn);
    snprintf(out->signer, sizeof out->signer, "Nitro enclave certificate %s", cn);
    rc = 0;
out:
    X509_free(leaf);
    if (rc != 0) {
        sb_err_prefix(err, "nitro");
        sbv_claims_init(out, "nitro");
    }
    return rc;
}
