/* session.c - connect: preamble, TLS 1.3 with the party's certificate, and verification of the
 * isolate's attested certificate inside the handshake (so a refused isolate never even sees the
 * party's certificate). */
#include "client/client_impl.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The expectations come from the party's own policy, never from anything the host says.
 * *accepted (malloc'd) backs exp->accepted. Shared with strongbox_unseal (sealed.c). */
int cl_expectations(const sb_policy *p, time_t at, sb_attest_accepted **accepted,
                    sb_attest_expect *exp, strongbox_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < sb_policy_runtime_count(p); i++)
        n += sb_policy_runtime_at(p, i)->n_measurements;
    sb_attest_accepted *acc = calloc(n ? n : 1, sizeof *acc);
    if (!acc)
        return cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < sb_policy_runtime_count(p); i++) {
        const sb_policy_runtime *r = sb_policy_runtime_at(p, i);
        for (size_t j = 0; j < r->n_measurements; j++, k++) {
            snprintf(acc[k].platform, sizeof acc[k].platform, "%s", r->platform);
            size_t len = r->measurements[j].len;
            if (len > sizeof acc[k].measurement)
                len = sizeof acc[k].measurement;
            memcpy(acc[k].measurement, r->measurements[j].value, len);
            acc[k].len = len;
        }
    }
    *accepted = acc;
    exp->root = sb_policy_attestation_root(p);
    exp->accepted = acc;
    exp->n_accepted = n;
    exp->allow_debug = sb_policy_allow_debug(p);
    memcpy(exp->policy_hash, sb_policy_hash(p), 32);
    exp->at = at;
    return 0;
}

static int build_expectations(strongbox *s, time_t at, strongbox_error *err)
{
    return cl_expectations(s->policy, at, &s->accepted, &s->expect, err);
}

static int verify_isolate(X509_STORE_CTX *store, void *arg)
{
    strongbox *s = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(store);
    sb_err e = {0};
    s->verify_ran = 1;
    if (!leaf) {
        snprintf(s->verify_error, sizeof s->verify_error, "the isolate sent no certificate");
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }
    int rc = sb_attest_verify_cert(leaf, chain, &s->expect, &s->verdict, &e);
    free(s->transcript);
    s->transcript = sb_attest_verdict_text(&s->verdict);
    if (rc != 0) {
        snprintf(s->verify_error, sizeof s->verify_error, "%s", e.msg);
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    s->verified = 1;
    return 1;
}

/* identity 0: verify only, no certificate of ours (deploy without --as). */
static int tls_setup(strongbox *s, const strongbox_options *o, int identity, strongbox_error *err)
{
    if (identity && (!o->key_path || !o->cert_path))
        return cl_fail(err, STRONGBOX_E_USAGE, "a key and a certificate are needed to connect");
    s->ctx = SSL_CTX_new(TLS_client_method());
    if (!s->ctx)
        return cl_fail(err, STRONGBOX_E_LOCAL, "cannot create a TLS context");
    SSL_CTX_set_min_proto_version(s->ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(s->ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(s->ctx, verify_isolate, s);
    if (!identity)
        return 0;
    if (SSL_CTX_use_certificate_chain_file(s->ctx, o->cert_path) != 1)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: not a PEM certificate", o->cert_path);
    FILE *f = fopen(o->key_path, "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!key)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: not a PEM private key", o->key_path);
    int used = SSL_CTX_use_PrivateKey(s->ctx, key);
    EVP_PKEY_free(key);
    if (used != 1 || SSL_CTX_check_private_key(s->ctx) != 1)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s is not the key of %s", o->key_path,
                       o->cert_path);
    ERR_clear_error();
    return 0;
}

static int handshake(strongbox *s, strongbox_error *err)
{
    s->ssl = SSL_new(s->ctx);
    if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1)
        return cl_fail(err, STRONGBOX_E_LOCAL, "cannot create a TLS session");
    cl_sigpipe_guard g;
    cl_sigpipe_block(&g);
    int rc = SSL_connect(s->ssl);
    cl_sigpipe_restore(&g);
    if (rc == 1) {
        ERR_clear_error();
        return 0;
    }
    if (s->verify_ran && !s->verified)
        return cl_fail(err, STRONGBOX_E_VERIFY,
                       "refusing the isolate: %s (nothing was sent to it)", s->verify_error);
    unsigned long e = ERR_peek_last_error();
    char why[256] = "connection closed";
    if (e)
        ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    if (!s->verify_ran) {
        strongbox_error lost;
        cl_lost(s, &lost);
        return cl_fail(err, lost.code == STRONGBOX_E_ENDED ? STRONGBOX_E_ENDED : STRONGBOX_E_TLS,
                       "TLS handshake with the isolate failed (%s)%s%s", why,
                       lost.code == STRONGBOX_E_ENDED ? ": " : "",
                       lost.code == STRONGBOX_E_ENDED ? lost.message : "");
    }
    return cl_fail(err, STRONGBOX_E_TLS, "TLS handshake with the isolate failed: %s", why);
}

/* A session socket closes abortively (a TCP reset that discards what the host has not taken)
 * unless strongbox_close() ends the session cleanly, which it does only when no request may be
 * in flight unanswered (no send or receive failed). A client that dies or gives up mid-upload
 * then ends its session at once: the host drops the unsent rest instead of relaying it as the
 * isolate's window reopens, which could complete that upload after the party's next session
 * (docs/protocol.md, "Uploads"). */
static void set_abortive_close(int fd, bool on)
{
    struct linger l = {.l_onoff = on, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

static int open_session(const strongbox_options *o, int identity, strongbox **out,
                        strongbox_error *err)
{
    *out = NULL;
    strongbox *s = calloc(1, sizeof *s);
    if (!s)
        return cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
    s->fd = -1;
    s->timeout_ms = o && o->timeout_ms ? o->timeout_ms : 30000;
    s->progress = o ? o->progress : NULL;
    s->progress_ctx = o ? o->progress_ctx : NULL;
    sb_frame_reader_init(&s->rd, 0);
    time_t at = o && o->verify_at ? o->verify_at : 0;
    char line[128], reply[600];
    if (cl_load_policy(o, &s->policy, s->host, sizeof s->host, err) != 0 ||
        build_expectations(s, at, err) != 0 || tls_setup(s, o, identity, err) != 0 ||
        cl_dial(s->host, s->timeout_ms, &s->fd, err) != 0)
        goto fail;
    set_abortive_close(s->fd, true);
    snprintf(line, sizeof line, "STRONGBOX/1 CONNECT %s\n", sb_policy_hash_hex(s->policy));
    if (cl_preamble(s->fd, line, reply, sizeof reply, err) != 0 || handshake(s, err) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    strongbox_close(s);
    return -1;
}

int strongbox_connect(const strongbox_options *o, strongbox **out, strongbox_error *err)
{
    return open_session(o, 1, out, err);
}

/* In TLS 1.3 the client's handshake ends when it has checked the server's certificate and sent
 * its own (none here): the isolate refuses us afterwards, which is expected and not looked at. */
int cl_verify_isolate(const strongbox_options *o, char **transcript, strongbox_error *err)
{
    strongbox *s;
    int identity = o && o->key_path && o->cert_path;
    if (open_session(o, identity, &s, err) != 0)
        return -1;
    int rc = 0;
    if (transcript && !(*transcript = strdup(strongbox_transcript(s))))
        rc = cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
    if (!identity)
        s->verified = 0; /* no close_notify into a session the isolate refuses */
    strongbox_close(s);
    return rc;
}

const char *strongbox_transcript(const strongbox *s)
{
    return s->transcript ? s->transcript : "";
}

const char *strongbox_policy_hash(const strongbox *s)
{
    return sb_policy_hash_hex(s->policy);
}

void strongbox_close(strongbox *s)
{
    if (!s)
        return;
    if (s->ssl) {
        if (s->verified && !s->unsettled) {
            cl_sigpipe_guard g;
            cl_sigpipe_block(&g);
            if (SSL_shutdown(s->ssl) >= 0) /* close_notify: a clean end of the session */
                set_abortive_close(s->fd, false);
            cl_sigpipe_restore(&g);
        }
        SSL_free(s->ssl);
    }
    SSL_CTX_free(s->ctx);
    if (s->fd >= 0)
        close(s->fd);
    sb_frame_reader_free(&s->rd);
    free(s->accepted);
    free(s->transcript);
    sb_policy_free(s->policy);
    free(s);
}

int cl_lost(strongbox *s, strongbox_error *err)
{
    char why[400];
    cl_host_reason(s->host, sb_policy_hash_hex(s->policy), 5000, why, sizeof why);
    if (strncmp(why, "ready", 5) == 0)
        return cl_fail(err, STRONGBOX_E_NETWORK,
                       "the isolate closed the connection (the computation is still running)");
    if (why[0])
        return cl_fail(err, STRONGBOX_E_ENDED,
                       "connection to the isolate lost; the host reports (unauthenticated): %s",
                       why);
    return cl_fail(err, STRONGBOX_E_NETWORK, "connection to the isolate lost");
}
