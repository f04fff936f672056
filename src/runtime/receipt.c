/* receipt.c - receipts (docs/receipts.md): after a run, a COSE_Sign1 signed with the isolate's
 * attested key whose payload names the computation (policy hash, platform, runtime measurement),
 * every step's program, arguments and engine, the hashes and providers of the files it could
 * read, the hashes of the files it wrote, how it ended and the fuel it used; the unprotected
 * header carries the certificate chain the isolate presents in TLS. An auditor checks it offline
 * with the policy alone (strongbox receipt verify).
 *
 * Bounded: a receipt is at most SB_DATA_MAX bytes (one frame); a computation whose files would
 * not fit gets a clear "no receipt" reason instead. No recursion; the files are hashed in
 * 64 KiB reads. */
#include "runtime/runtime.h"

#include "cose/cose.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define RECEIPT_FORMAT "strongbox-receipt/1"
#define TOKEN_OID "2.25.13290150849584274681602399877938644479" /* = SB_ATTEST_TOKEN_OID */
#define PSA_SW_COMPONENTS 2399                                  /* RFC 9783 claim key */

/* ---------------------------------------------------------------- hashing what a program sees */

static int hash_file(sb_vfs_view *v, const char *path, uint64_t size, uint8_t out[32],
                     sb_err *err)
{
    enum { CHUNK = 64 * 1024 };
    uint8_t *buf = malloc(CHUNK);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = buf && md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    for (uint64_t off = 0; ok && off < size;) {
        size_t got = 0;
        ok = sb_vfs_get(v, path, off, buf, CHUNK, &got, err) == 0 && got > 0 &&
             EVP_DigestUpdate(md, buf, got) == 1;
        off += got;
    }
    ok = ok && EVP_DigestFinal_ex(md, out, NULL) == 1;
    EVP_MD_CTX_free(md);
    free(buf);
    return ok ? 0 : sb_err_set(err, SB_ST_INTERNAL, "hashing %s failed", path);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const rt_hashed *)a)->path, ((const rt_hashed *)b)->path);
}

void rt_snapshot_free(rt_snapshot *s)
{
    for (size_t i = 0; s->f && i < s->n; i++)
        free(s->f[i].path);
    free(s->f);
    s->f = NULL;
    s->n = 0;
}

int rt_snapshot_take(rt *r, const sb_policy_program *pr, bool all, rt_snapshot *s, sb_err *err)
{
    sb_vfs_view root = {r->vfs, &r->root};
    file_list fl;
    memset(s, 0, sizeof *s);
    int rc = rt_files_under(&root, "/", &fl, err);
    if (rc == 0 && !(s->f = calloc(fl.n ? fl.n : 1, sizeof *s->f)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < fl.n; i++) {
        unsigned rights = sb_policy_grants_rights(pr->grants, pr->n_grants, fl.paths[i]) &
                          (SB_RIGHT_READ | SB_RIGHT_WRITE);
        if (!rights || (!all && !(rights & SB_RIGHT_WRITE)))
            continue;
        rt_hashed *h = &s->f[s->n];
        if (hash_file(&root, fl.paths[i], fl.sizes[i], h->sha256, err) < 0) {
            rc = -EIO;
            break;
        }
        h->path = fl.paths[i];
        fl.paths[i] = NULL; /* moved into the snapshot */
        h->rights = rights;
        h->provider = rt_writer_of(r, h->path);
        s->n++;
    }
    rt_files_free(&fl);
    if (rc != 0) {
        rt_snapshot_free(s);
        if (!err->msg[0])
            sb_err_set(err, SB_ST_INTERNAL, "listing the program's files: %s", strerror(-rc));
        return -1;
    }
    qsort(s->f, s->n, sizeof *s->f, by_path);
    return 0;
}

static const rt_hashed *find_hashed(const rt_snapshot *s, const char *path)
{
    rt_hashed key = {.path = (char *)path};
    return s->n ? bsearch(&key, s->f, s->n, sizeof *s->f, by_path) : NULL;
}

/* A file the step wrote: writable by it, and new or different after the run. */
static bool written(const rt_step *st, const rt_hashed *after)
{
    const rt_hashed *b = find_hashed(&st->before, after->path);
    return (after->rights & SB_RIGHT_WRITE) && (!b || memcmp(b->sha256, after->sha256, 32) != 0);
}

/* A file the step removed: writable by it, there before, gone after. */
static bool removed(const rt_step *st, const rt_hashed *before)
{
    return (before->rights & SB_RIGHT_WRITE) && !find_hashed(&st->after, before->path);
}

void rt_step_note_writes(rt *r, const rt_step *st)
{
    for (size_t i = 0; i < st->after.n; i++)
        if (written(st, &st->after.f[i]))
            rt_mark_writer(r, st->after.f[i].path, st->program->path);
}

/* ---------------------------------------------------------------- what the isolate is */

/* The certificates of the chain TLS presents, leaf first, without the policy's attestation root:
 * every verifier has that from the policy, and a copy here would be bytes no check depends on. */
static int chain_certs(rt *r, X509 **certs, int cap)
{
    STACK_OF(X509) *rest = NULL;
    X509 *leaf = SSL_CTX_get0_certificate(r->ctx);
    X509 *root = sb_policy_attestation_root(r->policy);
    int n = 0;
    if (!leaf || !SSL_CTX_get0_chain_certs(r->ctx, &rest))
        return 0;
    certs[n++] = leaf;
    for (int i = 0; i < sk_X509_num(rest) && n < cap; i++)
        if (X509_cmp(sk_X509_value(rest, i), root) != 0)
            certs[n++] = sk_X509_value(rest, i);
    return n;
}

/* The encoded unprotected header {33: [leaf DER, intermediate DER, ...]}. */
static int build_x5chain(rt *r, sb_err *err)
{
    X509 *certs[8];
    int n = chain_certs(r, certs, 8);
    if (n == 0)
        return sb_err_set(err, SB_ST_NOT_READY, "no certificate installed yet");
    sb_cbuf b;
    sb_cbuf_init(&b);
    b.max = SB_DATA_MAX / 2;
    sb_cbor_put_map(&b, 1);
    sb_cbor_put_int(&b, SB_COSE_HDR_X5CHAIN);
    sb_cbor_put_array(&b, (size_t)n);
    for (int i = 0; i < n; i++) {
        uint8_t *der = NULL;
        int len = i2d_X509(certs[i], &der);
        if (len <= 0)
            b.failed = 1;
        else
            sb_cbor_put_bytes(&b, der, (size_t)len);
        OPENSSL_free(der);
    }
    if (sb_cbuf_finish(&b, err) < 0) {
        sb_cbuf_free(&b);
        return -1;
    }
    r->receipt_hdr = b.data;
    r->receipt_hdr_len = b.len;
    return 0;
}

/* The PSA token in our leaf certificate (the OCTET STRING inside the extension). */
static int own_token(rt *r, const uint8_t **tok, size_t *len, sb_err *err)
{
    X509 *leaf = SSL_CTX_get0_certificate(r->ctx);
    ASN1_OBJECT *obj = OBJ_txt2obj(TOKEN_OID, 1);
    int idx = leaf && obj ? X509_get_ext_by_OBJ(leaf, obj, -1) : -1;
    ASN1_OBJECT_free(obj);
    if (idx < 0)
        return sb_err_set(err, SB_ST_INTERNAL, "our certificate has no attestation token");
    ASN1_OCTET_STRING *outer = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
    const uint8_t *p = ASN1_STRING_get0_data(outer);
    long plen;
    int tag, cls;
    int rc = ASN1_get_object(&p, &plen, &tag, &cls, ASN1_STRING_length(outer));
    if ((rc & 0x80) || tag != V_ASN1_OCTET_STRING)
        return sb_err_set(err, SB_ST_INTERNAL, "our certificate's token is not an OCTET STRING");
    *tok = p;
    *len = (size_t)plen;
    return 0;
}

/* In a software component map {1: type, 2: value, ...}: the value when the type is "runtime". */
static int runtime_component(sb_cbor *c, rt *r, sb_err *err)
{
    size_t n;
    const char *type = NULL;
    size_t type_len = 0, val_len = 0;
    const uint8_t *val = NULL;
    if (sb_cbor_read_map(c, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t k;
        if (sb_cbor_read_int(c, &k, err) < 0)
            return -1;
        int rc = k == 1   ? sb_cbor_read_text(c, &type, &type_len, err)
                 : k == 2 ? sb_cbor_read_bytes(c, &val, &val_len, err)
                          : sb_cbor_skip(c, err);
        if (rc < 0)
            return -1;
    }
    if (type && type_len == 7 && memcmp(type, "runtime", 7) == 0 && val &&
        val_len <= sizeof r->measurement) {
        memcpy(r->measurement, val, val_len);
        r->measurement_len = val_len;
    }
    return 0;
}

/* The runtime measurement our certificate names (the attestation service put it there from the
 * platform's evidence; a verifier checks it against the policy). Reads the token's claims
 * without checking its signature: it is our own certificate, checked against the policy's root
 * when it was installed. */
static int own_measurement(rt *r, sb_err *err)
{
    const uint8_t *tok = NULL, *prot, *payload;
    size_t tok_len = 0, prot_len, payload_len, n;
    uint64_t tag;
    sb_cbor c;
    if (own_token(r, &tok, &tok_len, err) < 0)
        return -1;
    sb_cbor_init(&c, tok, tok_len);
    if ((sb_cbor_peek(&c) == SB_CBOR_TAG && sb_cbor_read_tag(&c, &tag, err) < 0) ||
        sb_cbor_read_array(&c, &n, err) < 0 || n != 4 ||
        sb_cbor_read_bytes(&c, &prot, &prot_len, err) < 0 || sb_cbor_skip(&c, err) < 0 ||
        sb_cbor_read_bytes(&c, &payload, &payload_len, err) < 0)
        return sb_err_set(err, SB_ST_INTERNAL, "our certificate's token is not a COSE message");
    sb_cbor_init(&c, payload, payload_len);
    if (sb_cbor_read_map(&c, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && !r->measurement_len; i++) {
        int64_t k;
        size_t m;
        if (sb_cbor_read_int(&c, &k, err) < 0)
            return -1;
        if (k != PSA_SW_COMPONENTS) {
            if (sb_cbor_skip(&c, err) < 0)
                return -1;
            continue;
        }
        if (sb_cbor_read_array(&c, &m, err) < 0)
            return -1;
        for (size_t j = 0; j < m; j++)
            if (runtime_component(&c, r, err) < 0)
                return -1;
    }
    return r->measurement_len ? 0
                              : sb_err_set(err, SB_ST_INTERNAL,
                                           "our certificate's token names no runtime measurement");
}

/* ---------------------------------------------------------------- the payload */

static void put_text_or_null(sb_cbuf *b, const char *s)
{
    if (s && s[0])
        sb_cbor_put_text(b, s);
    else
        sb_cbor_put_null(b);
}

static void put_inputs(sb_cbuf *b, const rt_step *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->before.n; i++)
        n += (st->before.f[i].rights & SB_RIGHT_READ) != 0;
    sb_cbor_put_array(b, n);
    for (size_t i = 0; i < st->before.n; i++) {
        const rt_hashed *h = &st->before.f[i];
        if (!(h->rights & SB_RIGHT_READ))
            continue;
        sb_cbor_put_map(b, 3);
        sb_cbor_put_text(b, "path");
        sb_cbor_put_text(b, h->path);
        sb_cbor_put_text(b, "sha256");
        sb_cbor_put_bytes(b, h->sha256, 32);
        sb_cbor_put_text(b, "provider");
        put_text_or_null(b, h->provider);
    }
}

/* Written files with their new hash, then removed ones with a null hash. */
static void put_outputs(sb_cbuf *b, const rt_step *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->after.n; i++)
        n += written(st, &st->after.f[i]);
    for (size_t i = 0; i < st->before.n; i++)
        n += removed(st, &st->before.f[i]);
    sb_cbor_put_array(b, n);
    for (size_t i = 0; i < st->after.n; i++) {
        if (!written(st, &st->after.f[i]))
            continue;
        sb_cbor_put_map(b, 2);
        sb_cbor_put_text(b, "path");
        sb_cbor_put_text(b, st->after.f[i].path);
        sb_cbor_put_text(b, "sha256");
        sb_cbor_put_bytes(b, st->after.f[i].sha256, 32);
    }
    for (size_t i = 0; i < st->before.n; i++) {
        if (!removed(st, &st->before.f[i]))
            continue;
        sb_cbor_put_map(b, 2);
        sb_cbor_put_text(b, "path");
        sb_cbor_put_text(b, st->before.f[i].path);
        sb_cbor_put_text(b, "sha256");
        sb_cbor_put_null(b);
    }
}

static void put_step(sb_cbuf *b, const rt_step *st)
{
    sb_cbor_put_map(b, 10);
    sb_cbor_put_text(b, "program");
    sb_cbor_put_text(b, st->program->path);
    sb_cbor_put_text(b, "sha256");
    sb_cbor_put_bytes(b, st->program->sha256, 32);
    sb_cbor_put_text(b, "args");
    sb_cbor_put_array(b, st->n_args);
    for (size_t i = 0; i < st->n_args; i++)
        sb_cbor_put_text(b, st->args[i]);
    sb_cbor_put_text(b, "engine");
    sb_cbor_put_text(b, st->engine);
    sb_cbor_put_text(b, "inputs");
    put_inputs(b, st);
    sb_cbor_put_text(b, "outputs");
    put_outputs(b, st);
    sb_cbor_put_text(b, "outcome");
    sb_cbor_put_text(b, sb_outcome_name((int)st->outcome));
    sb_cbor_put_text(b, "exit_code");
    sb_cbor_put_uint(b, st->exit_code);
    sb_cbor_put_text(b, "reason");
    put_text_or_null(b, st->reason);
    sb_cbor_put_text(b, "fuel_used");
    sb_cbor_put_uint(b, st->fuel_used);
}

static int build_payload(rt *r, const char *by, const char *pipeline, const rt_step *steps,
                         size_t n, sb_cbuf *b, sb_err *err)
{
    sb_cbuf_init(b);
    b->max = SB_DATA_MAX / 2; /* with the chain and the signature, the receipt fits one frame */
    sb_cbor_put_map(b, 9);
    sb_cbor_put_text(b, "format");
    sb_cbor_put_text(b, RECEIPT_FORMAT);
    sb_cbor_put_text(b, "policy");
    sb_cbor_put_bytes(b, sb_policy_hash(r->policy), 32);
    sb_cbor_put_text(b, "platform");
    sb_cbor_put_text(b, r->platform);
    sb_cbor_put_text(b, "measurement");
    sb_cbor_put_bytes(b, r->measurement, r->measurement_len);
    sb_cbor_put_text(b, "time");
    sb_cbor_put_uint(b, (uint64_t)time(NULL));
    sb_cbor_put_text(b, "run");
    sb_cbor_put_uint(b, r->runs);
    sb_cbor_put_text(b, "requested_by");
    sb_cbor_put_text(b, by);
    sb_cbor_put_text(b, "pipeline");
    put_text_or_null(b, pipeline);
    sb_cbor_put_text(b, "steps");
    sb_cbor_put_array(b, n);
    for (size_t i = 0; i < n; i++)
        put_step(b, &steps[i]);
    if (sb_cbuf_finish(b, err) < 0) {
        sb_cbuf_free(b);
        return sb_err_set(err, SB_ST_TOO_LARGE,
                          "the receipt would exceed %u bytes (too many or too long file names)",
                          SB_DATA_MAX / 2);
    }
    return 0;
}

int rt_receipt_make(rt *r, const char *by, const char *pipeline, const rt_step *steps, size_t n,
                    uint8_t **out, size_t *len, sb_err *err)
{
    sb_cbuf payload;
    *out = NULL;
    if (!r->receipt_hdr && build_x5chain(r, err) < 0)
        return -1;
    if (!r->measurement_len && own_measurement(r, err) < 0)
        return -1;
    if (build_payload(r, by, pipeline, steps, n, &payload, err) < 0)
        return -1;
    int rc = sb_cose_sign1_create(r->key, 0, -1, r->receipt_hdr, r->receipt_hdr_len, payload.data,
                                  payload.len, 1, out, len, err);
    sb_cbuf_free(&payload);
    if (rc == 0 && *len > SB_DATA_MAX) {
        free(*out);
        *out = NULL;
        return sb_err_set(err, SB_ST_TOO_LARGE, "the receipt would exceed %u bytes", SB_DATA_MAX);
    }
    return rc;
}
