/* harness.c - fake host + TLS clients for the runtime tests (see harness.h). */
#include "harness.h"
#include "../common/x509_util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int h_failures, h_checks;
EVP_PKEY *ca_key;
X509 *ca_cert;
char *ca_pem;

static void die(const char *what)
{
    fprintf(stderr, "harness: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(99);
}

static X509 *make_cert_for(const char *cn, EVP_PKEY *subject, X509 *issuer, EVP_PKEY *issuer_key,
                           bool ca, long valid_seconds)
{
    X509 *x = X509_new();
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), valid_seconds);
    X509_set_pubkey(x, subject);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (ca) {
        e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, issuer_key, EVP_sha256()))
        die("X509_sign");
    return x;
}

static X509 *make_cert(const char *cn, EVP_PKEY *subject, X509 *issuer, EVP_PKEY *issuer_key,
                       bool ca)
{
    return make_cert_for(cn, subject, issuer, issuer_key, ca, 86400);
}

void pki_init(void)
{
    ca_key = EVP_EC_gen("P-256");
    ca_cert = make_cert("Strongbox test attestation root", ca_key, NULL, ca_key, true);
    ca_pem = test_pem_of_cert(ca_cert);
}

party *party_new(const char *name)
{
    return party_new_valid(name, 86400);
}

party *party_new_valid(const char *name, long seconds)
{
    party *p = calloc(1, sizeof *p);
    p->name = name;
    p->key = EVP_EC_gen("P-256");
    p->cert = make_cert_for(name, p->key, NULL, p->key, false, seconds);
    p->pem = test_pem_of_cert(p->cert);
    return p;
}

void party_free(party *p)
{
    EVP_PKEY_free(p->key);
    X509_free(p->cert);
    free(p->pem);
    free(p);
}

char *json_str(const char *s)
{
    char *out = malloc(strlen(s) * 6 + 3), *o = out;
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '\n')
            *o++ = '\\', *o++ = 'n';
        else if (*s == '"' || *s == '\\')
            *o++ = '\\', *o++ = *s;
        else
            *o++ = *s;
    }
    *o++ = '"';
    *o = 0;
    return out;
}

/* ---------------------------------------------------------------- host side */

host *h_start(const char *runtime, const char *extra1, const char *extra2)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        die("socketpair");
    host *h = calloc(1, sizeof *h);
    h->pid = fork();
    if (h->pid == 0) {
        dup2(sv[1], 3);
        for (int fd = 4; fd < 64; fd++)
            close(fd);
        if (!extra1 || strcmp(extra1, "--no-sandbox") != 0) {
            /* LeakSanitizer's exit-time scan needs ptrace, clone and /proc, which the runtime's
             * own seccomp filter (rightly) refuses: leaks are checked in the unsandboxed runs. */
            const char *o = getenv("ASAN_OPTIONS");
            char opts[512];
            snprintf(opts, sizeof opts, "%s%sdetect_leaks=0", o ? o : "", o && *o ? ":" : "");
            setenv("ASAN_OPTIONS", opts, 1);
        }
        const char *argv[8] = {"strongbox-runtime", "--channel-fd", "3"};
        int n = 3;
        if (extra1)
            argv[n++] = extra1;
        if (extra2)
            argv[n++] = extra2;
        execv(runtime, (char **)argv);
        _exit(127);
    }
    close(sv[1]);
    h->fd = sv[0];
    sb_frame_reader_init(&h->in, 0);
    h->cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(h->cctx, TLS1_3_VERSION);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(h->cctx), ca_cert);
    SSL_CTX_set_verify(h->cctx, SSL_VERIFY_PEER, NULL);
    h->next_sid = 1;
    return h;
}

void h_send_raw(host *h, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t n = write(h->fd, b, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return; /* runtime gone: the test will notice */
        }
        b += n;
        len -= (size_t)n;
    }
}

void h_send(host *h, const sb_msg *m)
{
    uint8_t *f;
    size_t len;
    sb_err err;
    if (sb_msg_encode(m, &f, &len, &err) < 0) {
        fprintf(stderr, "harness encode: %s\n", err.msg);
        exit(99);
    }
    h_send_raw(h, f, len);
    free(f);
}

static client *client_of(host *h, uint64_t sid)
{
    for (client *c = h->clients; c; c = c->next)
        if (c->sid == sid)
            return c;
    return NULL;
}

/* Reads one frame (waiting up to 20 s). 0 with *m, -1 on EOF/timeout/garbage. */
static int read_frame(host *h, sb_msg *m)
{
    sb_err err;
    for (;;) {
        const uint8_t *p;
        size_t len;
        int got = sb_frame_reader_next(&h->in, &p, &len, &err);
        if (got == 1) {
            if (sb_msg_decode(p, len, m, &err) < 0) {
                fprintf(stderr, "harness: runtime sent a bad frame: %s\n", err.msg);
                return -1;
            }
            return 0;
        }
        if (got < 0 || h->eof)
            return -1;
        struct pollfd pfd = {h->fd, POLLIN, 0};
        if (poll(&pfd, 1, 20000) <= 0) {
            fprintf(stderr, "harness: no frame from the runtime for 20 s\n");
            return -1;
        }
        long n = sb_frame_reader_read_fd(&h->in, h->fd, &err);
        if (n == 0 || n == -2)
            h->eof = true;
    }
}

static void give_credit(client *c)
{
    if (c->withhold || c->rx_owed < SB_CREDIT_STEP)
        return;
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_CREDIT);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_SIZE);
    m.id = c->sid;
    m.size = c->rx_owed;
    h_send(c->h, &m);
    c->rx_owed = 0;
}

void c_release(client *c)
{
    c->withhold = false;
    give_credit(c);
}

/* Handles session traffic and events; returns 1 when m is for the caller. */
static int dispatch(host *h, sb_msg *m)
{
    client *c;
    switch (m->type) {
    case SB_MSG_SESSION_DATA:
        if ((c = client_of(h, m->id))) {
            BIO_write(c->rb, m->data.p, (int)m->data.len);
            c->rx_owed += m->data.len;
            give_credit(c);
        }
        return 0;
    case SB_MSG_SESSION_CREDIT:
        if ((c = client_of(h, m->id)))
            c->tx_credit += m->size;
        return 0;
    case SB_MSG_SESSION_AUTH:
        if ((c = client_of(h, m->id)))
            c->authenticated = true;
        return 0;
    case SB_MSG_SESSION_CLOSE:
        h->last_close_id = m->id;
        h->last_close_status = m->present & SB_F(SB_K_STATUS) ? m->status : 0;
        snprintf(h->last_close_reason, sizeof h->last_close_reason, "%s",
                 m->present & SB_F(SB_K_REASON) ? m->reason : "");
        if ((c = client_of(h, m->id))) {
            c->closed = true;
            c->close_status = m->present & SB_F(SB_K_STATUS) ? m->status : 0;
            snprintf(c->close_reason, sizeof c->close_reason, "%s",
                     m->present & SB_F(SB_K_REASON) ? m->reason : "");
        }
        return 0;
    case SB_MSG_EVENT:
        snprintf(h->last_event, sizeof h->last_event, "%s", m->reason);
        if (strstr(m->reason, "sandbox disabled"))
            h->sandbox_warned = true;
        return 0;
    case SB_MSG_SHUTDOWN:
        h->shutdown = true;
        h->shutdown_status = m->status;
        snprintf(h->shutdown_reason, sizeof h->shutdown_reason, "%s", m->reason);
        return 1;
    default:
        return 1;
    }
}

int h_pump(host *h)
{
    sb_msg m;
    if (read_frame(h, &m) < 0)
        return -1;
    dispatch(h, &m);
    sb_msg_free(&m);
    return 0;
}

int h_next(host *h, sb_msg *m)
{
    for (;;) {
        if (read_frame(h, m) < 0)
            return -1;
        if (dispatch(h, m))
            return 0;
        sb_msg_free(m);
    }
}

/* Issues the isolate certificate for a CSR, as the attestation service would. */
static char *issue(const sb_msg *req)
{
    const unsigned char *p = req->data.p;
    X509_REQ *csr = d2i_X509_REQ(NULL, &p, (long)req->data.len);
    if (!csr)
        return NULL;
    X509 *leaf = make_cert("strongbox isolate", X509_REQ_get0_pubkey(csr), ca_cert, ca_key, false);
    char *pem = test_pem_of_cert(leaf);
    X509_free(leaf);
    X509_REQ_free(csr);
    return pem;
}

int h_attest(host *h, const char *policy_json)
{
    static const uint8_t nonce[32] = {1, 2, 3, 4};
    sb_msg m, r;
    sb_msg_init(&m, SB_MSG_INIT);
    m.present = SB_F(SB_K_DATA) | SB_F(SB_K_PLATFORM);
    m.data = (sb_bytes){(const uint8_t *)policy_json, strlen(policy_json)};
    m.platform = "process";
    h_send(h, &m);
    sb_msg_init(&m, SB_MSG_ATTEST_CHALLENGE);
    m.present = SB_F(SB_K_NONCE);
    m.nonce = (sb_bytes){nonce, 32};
    h_send(h, &m);
    if (h_next(h, &r) < 0 || r.type != SB_MSG_ATTEST_REQUEST) {
        fprintf(stderr, "harness: no attest-request (%s: %s)\n", sb_msg_type_name(r.type),
                h->shutdown_reason);
        return -1;
    }
    char *pem = issue(&r);
    sb_msg_free(&r);
    sb_msg_init(&m, SB_MSG_ATTEST_RESULT);
    m.present = SB_F(SB_K_STATUS) | SB_F(SB_K_DATA);
    m.data = (sb_bytes){(const uint8_t *)pem, strlen(pem)};
    h_send(h, &m);
    free(pem);
    int rc = h_next(h, &r) == 0 && r.type == SB_MSG_READY ? 0 : -1;
    if (rc == 0)
        sb_msg_free(&r);
    return rc;
}

int h_wait(host *h)
{
    int st;
    /* Reading to EOF first lets a runtime blocked on a full socket finish. */
    while (!h->eof && h_pump(h) == 0)
        ;
    if (waitpid(h->pid, &st, 0) < 0)
        return -1;
    h->pid = 0;
    h->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return h->exit_status;
}

void h_free(host *h)
{
    close(h->fd);
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
    }
    while (h->clients) {
        client *c = h->clients;
        h->clients = c->next;
        SSL_free(c->ssl);
        sb_frame_reader_free(&c->in);
        free(c);
    }
    SSL_CTX_free(h->cctx);
    sb_frame_reader_free(&h->in);
    free(h);
}

/* ---------------------------------------------------------------- clients */

/* Sends what the client's TLS wrote, within the runtime's credit (waiting for more). */
static void c_flush(client *c)
{
    uint8_t buf[65536];
    int n;
    while (BIO_ctrl_pending(c->wb) > 0) {
        while (c->tx_credit == 0 && !c->closed)
            if (h_pump(c->h) < 0)
                return;
        if (c->closed)
            return;
        size_t want = c->tx_credit < sizeof buf ? (size_t)c->tx_credit : sizeof buf;
        if ((n = BIO_read(c->wb, buf, (int)want)) <= 0)
            break;
        c->tx_credit -= (size_t)n;
        sb_msg m;
        sb_msg_init(&m, SB_MSG_SESSION_DATA);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        m.id = c->sid;
        m.data = (sb_bytes){buf, (size_t)n};
        h_send(c->h, &m);
    }
}

client *c_connect(host *h, const party *who)
{
    client *c = calloc(1, sizeof *c);
    c->h = h;
    c->sid = h->next_sid++;
    c->tx_credit = SB_SESSION_WINDOW;
    c->ssl = SSL_new(h->cctx);
    c->rb = BIO_new(BIO_s_mem());
    c->wb = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c->rb, -1);
    SSL_set_bio(c->ssl, c->rb, c->wb);
    if (who) {
        SSL_use_certificate(c->ssl, who->cert);
        SSL_use_PrivateKey(c->ssl, who->key);
    }
    SSL_set_connect_state(c->ssl);
    sb_frame_reader_init(&c->in, 0);
    c->next = h->clients;
    h->clients = c;
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_OPEN);
    m.present = SB_F(SB_K_ID);
    m.id = c->sid;
    h_send(h, &m);
    for (;;) {
        int rc = SSL_do_handshake(c->ssl);
        c_flush(c);
        if (rc == 1)
            break;
        if (SSL_get_error(c->ssl, rc) != SSL_ERROR_WANT_READ || c->closed || h_pump(h) < 0) {
            ERR_clear_error();
            c->closed = true;
            break;
        }
    }
    return c;
}

void c_send(client *c, const sb_msg *m)
{
    uint8_t *f;
    size_t len;
    sb_err err;
    if (sb_msg_encode(m, &f, &len, &err) < 0) {
        fprintf(stderr, "harness encode: %s\n", err.msg);
        exit(99);
    }
    if (SSL_write(c->ssl, f, (int)len) <= 0)
        ERR_clear_error();
    free(f);
    c_flush(c);
}

int c_next(client *c, sb_msg *m)
{
    uint8_t buf[16384];
    sb_err err;
    for (;;) {
        const uint8_t *p;
        size_t len;
        if (sb_frame_reader_next(&c->in, &p, &len, &err) == 1)
            return sb_msg_decode(p, len, m, &err) == 0 ? 0 : -1;
        int n = SSL_read(c->ssl, buf, sizeof buf);
        c_flush(c); /* post-handshake messages, alerts */
        if (n > 0) {
            if (sb_frame_reader_feed(&c->in, buf, (size_t)n, &err) < 0)
                return -1;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        if (e != SSL_ERROR_WANT_READ) { /* close_notify or alert: session-close follows */
            while (!c->closed && h_pump(c->h) == 0)
                ;
            return -1;
        }
        if (c->closed && BIO_ctrl_pending(c->rb) == 0)
            return -1;
        if (h_pump(c->h) < 0)
            return -1;
    }
}

int c_call(client *c, const sb_msg *req, sb_msg *resp)
{
    c_send(c, req);
    return c_next(c, resp);
}

void c_close(client *c)
{
    SSL_shutdown(c->ssl);
    c_flush(c);
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SESSION_CLOSE);
    m.present = SB_F(SB_K_ID);
    m.id = c->sid;
    h_send(c->h, &m);
    c->closed = true;
}

static int finish(sb_msg *r, char *reason)
{
    int st = (int)r->status;
    if (reason)
        snprintf(reason, SB_REASON_MAX + 1, "%s", r->present & SB_F(SB_K_REASON) ? r->reason : "");
    sb_msg_free(r);
    return st;
}

static uint64_t next_id = 100;

int c_put(client *c, const char *path, const void *data, size_t len, int mode, char *reason)
{
    sb_msg m, r;
    uint64_t id = next_id++;
    sb_msg_init(&m, SB_MSG_PUT_BEGIN);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_MODE) | SB_F(SB_K_SIZE);
    m.id = id;
    m.path = path;
    m.mode = (uint32_t)mode;
    m.size = len;
    c_send(c, &m);
    for (size_t off = 0; off < len; off += SB_CHUNK_SIZE) {
        sb_msg_init(&m, SB_MSG_PUT_CHUNK);
        m.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        m.id = id;
        m.data = (sb_bytes){(const uint8_t *)data + off,
                            len - off < SB_CHUNK_SIZE ? len - off : SB_CHUNK_SIZE};
        c_send(c, &m);
    }
    sb_msg_init(&m, SB_MSG_PUT_END);
    m.present = SB_F(SB_K_ID);
    m.id = id;
    if (c_call(c, &m, &r) < 0)
        return -1;
    if (r.id != id || r.type != SB_MSG_RESPONSE) {
        sb_msg_free(&r);
        return -1;
    }
    return finish(&r, reason);
}

int c_get(client *c, const char *path, uint8_t **data, size_t *len, char *reason)
{
    sb_msg m, r;
    sb_msg_init(&m, SB_MSG_GET);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH);
    m.id = next_id++;
    m.path = path;
    *data = NULL;
    *len = 0;
    if (c_call(c, &m, &r) < 0)
        return -1;
    if (r.status != SB_ST_OK)
        return finish(&r, reason);
    size_t size = r.size;
    *data = malloc(size ? size : 1);
    while (*len < size) {
        sb_msg ch;
        if (c_next(c, &ch) < 0 || ch.type != SB_MSG_CHUNK || ch.id != m.id ||
            ch.data.len > size - *len) {
            sb_msg_free(&r);
            return -1;
        }
        memcpy(*data + *len, ch.data.p, ch.data.len);
        *len += ch.data.len;
        sb_msg_free(&ch);
    }
    return finish(&r, reason);
}

int c_simple(client *c, sb_msg_type type, const char *path, char *reason)
{
    sb_msg m, r;
    sb_msg_init(&m, type);
    m.present = SB_F(SB_K_ID) | (path ? SB_F(SB_K_PATH) : 0);
    m.id = next_id++;
    m.path = path;
    if (c_call(c, &m, &r) < 0)
        return -1;
    return finish(&r, reason);
}
