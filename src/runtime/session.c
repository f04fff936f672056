/* session.c - TLS 1.3 sessions terminated inside the isolate. The host only ever sees ciphertext:
 * it feeds session-data into a memory BIO and gets back whatever OpenSSL wrote to the other one.
 * Clients are authenticated by exact (DER) match of their certificate against the policy. */
#include "runtime/runtime.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Chain certificates do not matter: an identity is its exact leaf certificate, whose key the TLS
 * handshake has proven the client holds. */
static int verify_client(int ok, X509_STORE_CTX *xs)
{
    (void)ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    rt *r = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (X509_STORE_CTX_get_error_depth(xs) > 0)
        return 1;
    X509 *leaf = X509_STORE_CTX_get_current_cert(xs);
    if (!sb_policy_find_identity_by_cert(r->policy, leaf)) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    /* The policy checked validity when it was loaded; a certificate can expire since. */
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_HAS_EXPIRED);
        return 0;
    }
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

int rt_tls_init(rt *r, sb_err *err)
{
    r->ctx = SSL_CTX_new(TLS_server_method());
    if (!r->ctx || !SSL_CTX_set_min_proto_version(r->ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(r->ctx, TLS1_3_VERSION))
        return sb_err_set(err, SB_ST_INTERNAL, "TLS context setup failed");
    SSL_CTX_set_app_data(r->ctx, r);
    SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_client);
    /* No resumption: every connection presents (and proves) its certificate again. */
    SSL_CTX_set_session_cache_mode(r->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(r->ctx, 0);
    SSL_CTX_set_options(r->ctx, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* AES-128-GCM first: as strong as AES-256-GCM against our threat model (no quantum
     * adversary on recorded traffic is in scope) and ~30% cheaper per byte on bulk uploads.
     * X25519 key exchange first: cheaper than P-256 in the handshake (docs/protocol.md). */
    if (!SSL_CTX_set_ciphersuites(r->ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                          "TLS_CHACHA20_POLY1305_SHA256") ||
        !SSL_CTX_set1_groups_list(r->ctx, "X25519:P-256:P-384"))
        return sb_err_set(err, SB_ST_INTERNAL, "TLS context setup failed (suites, groups)");
    return 0;
}

static int load_chain(const uint8_t *pem, size_t len, STACK_OF(X509) *chain, sb_err *err)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *c;
    while (b && (c = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        if (!sk_X509_push(chain, c)) {
            X509_free(c);
            break;
        }
    BIO_free(b);
    ERR_clear_error();
    if (sk_X509_num(chain) == 0 || sk_X509_num(chain) > 8)
        return sb_err_set(err, SB_ST_ATTEST_FAILED,
                          "attest-result: %d certificates in the chain (want 1..8 PEM certificates)",
                          sk_X509_num(chain));
    return 0;
}

/* The chain must lead from a leaf for our own key, valid now, to the policy's attestation root. */
static int check_chain(rt *r, STACK_OF(X509) *chain, sb_err *err)
{
    X509 *leaf = sk_X509_value(chain, 0);
    if (EVP_PKEY_eq(X509_get0_pubkey(leaf), r->key) != 1)
        return sb_err_set(err, SB_ST_ATTEST_FAILED,
                          "attest-result: the certificate is not for this isolate's key");
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *xs = X509_STORE_CTX_new();
    int ok = store && xs && X509_STORE_add_cert(store, sb_policy_attestation_root(r->policy)) &&
             X509_STORE_CTX_init(xs, store, leaf, chain) && X509_verify_cert(xs) == 1;
    int verr = xs ? X509_STORE_CTX_get_error(xs) : 0;
    X509_STORE_CTX_free(xs);
    X509_STORE_free(store);
    ERR_clear_error();
    if (!ok)
        return sb_err_set(err, SB_ST_ATTEST_FAILED,
                          "attest-result: the chain does not verify to the policy's attestation "
                          "root: %s", X509_verify_cert_error_string(verr));
    return 0;
}

int rt_tls_install(rt *r, const uint8_t *pem, size_t len, sb_err *err)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    int rc = chain ? load_chain(pem, len, chain, err)
                   : sb_err_set(err, SB_ST_INTERNAL, "out of memory");
    if (rc == 0)
        rc = check_chain(r, chain, err);
    if (rc == 0 && !(SSL_CTX_use_certificate(r->ctx, sk_X509_value(chain, 0)) == 1 &&
                     SSL_CTX_use_PrivateKey(r->ctx, r->key) == 1 &&
                     SSL_CTX_check_private_key(r->ctx) == 1))
        rc = sb_err_set(err, SB_ST_INTERNAL, "installing the certificate failed");
    for (int i = 1; rc == 0 && i < sk_X509_num(chain); i++)
        if (!SSL_CTX_add1_chain_cert(r->ctx, sk_X509_value(chain, i)))
            rc = sb_err_set(err, SB_ST_INTERNAL, "installing the certificate chain failed");
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

/* ---------------------------------------------------------------- sessions */

static rt_session *find(rt *r, uint64_t id)
{
    for (rt_session *s = r->sessions; s; s = s->next)
        if (s->id == id && !s->closed)
            return s;
    return NULL;
}

/* Moves what OpenSSL wrote into session-data frames, as far as the session's credit allows: the
 * rest waits in the session (bounded: nothing more is produced for it while bytes wait). */
static void drain(rt *r, rt_session *s)
{
    static const size_t chunk = SB_CHUNK_SIZE;
    uint8_t *buf = NULL;
    size_t pending;
    while ((pending = BIO_ctrl_pending(s->wbio)) > 0 && s->out_credit > 0) {
        size_t n = pending < chunk ? pending : chunk;
        n = n < s->out_credit ? n : (size_t)s->out_credit;
        if (!buf && !(buf = malloc(chunk)))
            return;
        int got = BIO_read(s->wbio, buf, (int)n);
        if (got <= 0)
            break;
        sb_msg m;
        sb_msg_init(&m, SB_MSG_SESSION_DATA);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        m.id = s->id;
        m.data = (sb_bytes){buf, (size_t)got};
        rt_send(r, &m);
        s->out_credit -= (size_t)got;
    }
    free(buf);
}

/* Returns the host credit for the bytes the session consumed (decrypted) since the last grant. */
static void grant(rt *r, rt_session *s)
{
    uint64_t owed = SB_SESSION_WINDOW - s->in_credit - BIO_ctrl_pending(s->rbio);
    if (s->closed || owed < SB_CREDIT_STEP)
        return;
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_CREDIT);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_SIZE);
    m.id = s->id;
    m.size = owed;
    rt_send(r, &m);
    s->in_credit += owed;
}

static void refuse_open(rt *r, uint64_t id, sb_status st, const char *reason)
{
    sb_msg c;
    sb_msg_init(&c, SB_MSG_SESSION_CLOSE);
    c.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
    c.id = id;
    c.status = st;
    c.reason = reason;
    rt_send(r, &c);
}

static void close_with(rt *r, rt_session *s, sb_status st, const char *reason);

void rt_session_open(rt *r, uint64_t id)
{
    size_t n = 0, unauthenticated = 0;
    for (rt_session *o = r->sessions; o; o = o->next) {
        n += !o->closed;
        unauthenticated += !o->closed && !o->who;
    }
    rt_session *dup = find(r, id);
    if (dup) { /* the host lost track: end both rather than guess which one it means */
        close_with(r, dup, SB_ST_BAD_REQUEST, "session id opened twice");
        return;
    }
    char why[128];
    if (n >= RT_MAX_SESSIONS || unauthenticated >= RT_MAX_HANDSHAKES) {
        snprintf(why, sizeof why, n >= RT_MAX_SESSIONS ? "busy: %d sessions are open (the limit)"
                 : "busy: %d sessions are in their TLS handshake (the limit); try again shortly",
                 n >= RT_MAX_SESSIONS ? RT_MAX_SESSIONS : RT_MAX_HANDSHAKES);
        refuse_open(r, id, SB_ST_BUSY, why);
        return;
    }
    rt_session *s = calloc(1, sizeof *s);
    if (!s || !(s->ssl = SSL_new(r->ctx)) || !(s->rbio = BIO_new(BIO_s_mem())) ||
        !(s->wbio = BIO_new(BIO_s_mem()))) {
        if (s) {
            BIO_free(s->rbio);
            SSL_free(s->ssl);
            free(s);
        }
        refuse_open(r, id, SB_ST_INTERNAL, "out of memory");
        return;
    }
    BIO_set_mem_eof_return(s->rbio, -1); /* empty means "wait for more", not end of stream */
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    SSL_set_accept_state(s->ssl);
    s->id = id;
    s->out_credit = s->in_credit = SB_SESSION_WINDOW;
    s->opened = time(NULL);
    sb_frame_reader_init(&s->req, 0);
    s->next = r->sessions;
    r->sessions = s;
}

static void close_with(rt *r, rt_session *s, sb_status st, const char *reason)
{
    if (s->closed)
        return;
    if (SSL_is_init_finished(s->ssl))
        SSL_shutdown(s->ssl); /* queues close_notify */
    drain(r, s);
    sb_msg c;
    sb_msg_init(&c, SB_MSG_SESSION_CLOSE);
    c.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | (reason ? SB_F(SB_K_REASON) : 0);
    c.id = s->id;
    c.status = st;
    c.reason = reason;
    rt_send(r, &c);
    s->closed = true;
}

static void session_free(rt *r, rt_session *s)
{
    SSL_free(s->ssl); /* frees both BIOs */
    rt_put_reset(r, &s->put);
    if (s->stream)
        OPENSSL_cleanse(s->stream, s->stream_len);
    free(s->stream);
    if (s->req.buf)
        OPENSSL_cleanse(s->req.buf, s->req.cap);
    sb_frame_reader_free(&s->req);
    free(s);
}

/* Frees closed sessions (closing only marks them, so callers deep in a request stay safe). */
static void reap(rt *r)
{
    bool freed = false;
    for (rt_session **pp = &r->sessions; *pp;) {
        rt_session *s = *pp;
        if (s->closed) {
            *pp = s->next;
            session_free(r, s);
            freed = true;
        } else {
            pp = &s->next;
        }
    }
    if (freed && !r->sessions && r->state == RT_READY) /* idle again: as little memory as at start */
        rt_release_idle_memory();
}

void rt_session_close(rt *r, uint64_t id, bool notify_host, sb_status st, const char *reason)
{
    rt_session *s = find(r, id);
    if (!s)
        return;
    if (notify_host)
        close_with(r, s, st, reason);
    s->closed = true;
    reap(r);
}

void rt_sessions_end(rt *r)
{
    for (rt_session *s = r->sessions; s; s = s->next)
        close_with(r, s, SB_ST_SHUTTING_DOWN, "the computation has ended");
}

void rt_sessions_free(rt *r)
{
    for (rt_session *s = r->sessions; s; s = s->next)
        s->closed = true;
    reap(r);
}

void rt_session_reply(rt *r, rt_session *s, const sb_msg *m)
{
    uint8_t *f;
    size_t len;
    sb_err err;
    if (s->closed)
        return;
    if (sb_msg_encode(m, &f, &len, &err) < 0) {
        close_with(r, s, SB_ST_INTERNAL, err.msg);
        return;
    }
    int n = SSL_write(s->ssl, f, (int)len); /* memory BIO: all or nothing */
    OPENSSL_cleanse(f, len);
    free(f);
    if (n <= 0) {
        ERR_clear_error();
        close_with(r, s, SB_ST_INTERNAL, "TLS write failed");
        return;
    }
    drain(r, s);
}

void rt_respond(rt *r, rt_session *s, uint64_t id, sb_status st, const char *fmt, ...)
{
    char reason[SB_REASON_MAX + 1] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof reason, fmt, ap);
        va_end(ap);
    }
    sb_msg m;
    sb_msg_init(&m, SB_MSG_RESPONSE);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | (reason[0] ? SB_F(SB_K_REASON) : 0);
    m.id = id;
    m.status = st;
    m.reason = reason;
    rt_session_reply(r, s, &m);
}

/* Handles the request frames already decrypted, then decrypts more, until the session must wait
 * (no input, or an answer is being streamed). */
static void serve(rt *r, rt_session *s)
{
    sb_err err = {0};
    while (!s->closed && !s->streaming && r->state == RT_READY &&
           BIO_ctrl_pending(s->wbio) < RT_SESSION_OUT_MAX) { /* a party that does not read waits */
        const uint8_t *p;
        size_t len, room = 0;
        int got = sb_frame_reader_next(&s->req, &p, &len, &err);
        if (got == 1) {
            sb_msg m; /* put-chunk data stays in s->req, read before the next frame is taken */
            if (sb_msg_decode_borrow(p, len, &m, &err) < 0) {
                rt_respond(r, s, 0, SB_ST_BAD_REQUEST, "bad request frame: %s", err.msg);
                continue;
            }
            rt_request(r, s, &m);
            sb_msg_free(&m);
            continue;
        }
        /* Decrypt straight into the request reader (a record is at most 16 KiB). */
        uint8_t *into = got < 0 ? NULL : sb_frame_reader_space(&s->req, 16384, &room, &err);
        int n = into ? SSL_read(s->ssl, into, room > INT_MAX ? INT_MAX : (int)room) : -1;
        if (n > 0 && sb_frame_reader_commit(&s->req, (size_t)n, &err) == 0)
            continue;
        if (!into || n > 0) { /* the request stream cannot be resynchronised */
            rt_respond(r, s, 0, SB_ST_BAD_REQUEST, "bad request stream: %s", err.msg);
            close_with(r, s, SB_ST_BAD_REQUEST, err.msg);
        } else if (SSL_get_error(s->ssl, n) == SSL_ERROR_ZERO_RETURN) {
            close_with(r, s, SB_ST_OK, "client closed the session");
        } else if (SSL_get_error(s->ssl, n) != SSL_ERROR_WANT_READ) {
            close_with(r, s, SB_ST_BAD_REQUEST, "TLS error after the handshake");
        }
        break;
    }
    ERR_clear_error();
}

static void handshake(rt *r, rt_session *s)
{
    int rc = SSL_do_handshake(s->ssl);
    drain(r, s); /* our flight, or the alert */
    if (rc == 1) {
        s->who = sb_policy_find_identity_by_cert(r->policy, SSL_get0_peer_certificate(s->ssl));
        if (!s->who) { /* cannot happen: verify_client admitted the certificate */
            close_with(r, s, SB_ST_UNAUTHENTICATED, "client certificate matches no identity");
            return;
        }
        sb_msg m; /* the host counts unauthenticated connections per address */
        sb_msg_init(&m, SB_MSG_SESSION_AUTH);
        m.present = SB_F(SB_K_ID);
        m.id = s->id;
        rt_send(r, &m);
        return;
    }
    int e = SSL_get_error(s->ssl, rc);
    if (e == SSL_ERROR_WANT_READ)
        return;
    long v = SSL_get_verify_result(s->ssl);
    unsigned long ossl = ERR_peek_last_error();
    char why[SB_REASON_MAX];
    if (v == X509_V_ERR_CERT_REJECTED)
        snprintf(why, sizeof why, "client certificate matches no identity of the policy");
    else if (v == X509_V_ERR_CERT_HAS_EXPIRED)
        snprintf(why, sizeof why, "client certificate has expired");
    else if (ERR_GET_REASON(ossl) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        snprintf(why, sizeof why, "client sent no certificate (one is mandatory)");
    else
        snprintf(why, sizeof why, "TLS handshake failed: %s",
                 ossl ? ERR_reason_error_string(ossl) : "connection error");
    bool auth = v == X509_V_ERR_CERT_REJECTED || v == X509_V_ERR_CERT_HAS_EXPIRED ||
                ERR_GET_REASON(ossl) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
    ERR_clear_error();
    close_with(r, s, auth ? SB_ST_UNAUTHENTICATED : SB_ST_BAD_REQUEST, why);
}

static void advance(rt *r, rt_session *s)
{
    if (!s->closed && !SSL_is_init_finished(s->ssl))
        handshake(r, s);
    if (!s->closed && SSL_is_init_finished(s->ssl))
        serve(r, s);
}

void rt_session_data(rt *r, uint64_t id, const uint8_t *p, size_t len)
{
    rt_session *s = find(r, id);
    if (!s)
        return; /* a session we already closed: the host has not seen our close yet */
    if (len > s->in_credit) {
        close_with(r, s, SB_ST_BAD_REQUEST, "the host sent more than the session's window");
    } else if (BIO_write(s->rbio, p, (int)len) != (int)len) {
        close_with(r, s, SB_ST_INTERNAL, "out of memory");
    } else {
        s->in_credit -= len;
        advance(r, s);
        grant(r, s);
    }
    reap(r);
}

void rt_session_credit(rt *r, uint64_t id, uint64_t n)
{
    rt_session *s = find(r, id);
    if (!s)
        return;
    if (n > SB_SESSION_WINDOW - s->out_credit) {
        close_with(r, s, SB_ST_BAD_REQUEST, "the host granted more than the session's window");
    } else {
        s->out_credit += n;
        drain(r, s);
        advance(r, s); /* requests that waited for the party to read */
        grant(r, s);
    }
    reap(r);
}

int rt_sessions_tick(rt *r)
{
    time_t now = time(NULL);
    int next = -1;
    for (rt_session *s = r->sessions; s; s = s->next) {
        if (s->closed || s->who)
            continue;
        time_t left = s->opened + RT_HANDSHAKE_S - now;
        char why[96];
        snprintf(why, sizeof why, "TLS handshake not finished within %d s", RT_HANDSHAKE_S);
        if (left <= 0)
            close_with(r, s, SB_ST_TIMEOUT, why);
        else if (next < 0 || left * 1000 < next)
            next = (int)left * 1000;
    }
    reap(r);
    return next;
}

void rt_sessions_pump(rt *r)
{
    bool progress = true;
    while (progress && r->state == RT_READY && rt_queued(r) < RT_OUT_HIGH) {
        progress = false;
        for (rt_session *s = r->sessions; s && r->state == RT_READY; s = s->next) {
            /* A session whose last chunk still waits for credit gets no more: it stalls alone. */
            if (s->closed || !s->streaming || BIO_ctrl_pending(s->wbio) > 0)
                continue;
            progress = true;
            if (!rt_stream_step(r, s)) {
                s->streaming = false;
                serve(r, s); /* requests that waited behind the stream */
                grant(r, s);
            }
            if (rt_queued(r) >= RT_OUT_HIGH)
                break;
        }
    }
    reap(r);
}
