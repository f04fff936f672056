/* test_client - libstrongbox's error paths against a scripted fake host (and a fake TLS isolate
 * whose certificate is not attested): every failure comes back with its code and a message that
 * names what failed, and a refused isolate never receives the party's certificate. */
#include "policy/policy.h"
#include "strongbox.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/check.h"
#include "../common/x509_util.h"
#define CHECK_ERR(e, want_code, want_text)                                                         \
    do {                                                                                           \
        CHECK((e).code == (want_code));                                                            \
        CHECK(strstr((e).message, want_text) != NULL);                                             \
        if ((e).code != (want_code) || !strstr((e).message, want_text))                            \
            fprintf(stderr, "  got code %d: %s\n", (int)(e).code, (e).message);                    \
    } while (0)

static char dir[64], policy_path[128], key_path[128], cert_path[128], other_key[128];
static char hash_hex[65];

/* ---------------- material ---------------- */

static void write_key(const char *path, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static void write_cert(const char *path, X509 *x)
{
    FILE *f = fopen(path, "w");
    PEM_write_X509(f, x);
    fclose(f);
}

static void make_policy(int host_port, X509 *party, X509 *root)
{
    char *pp = test_pem_of_cert(party), *rp = test_pem_of_cert(root), host[32];
    snprintf(host, sizeof host, "127.0.0.1:%d", host_port);
    json_t *p = json_pack(
        "{s:i, s:s, s:[{s:s, s:s, s:{s:s}}], s:[{s:s, s:s, s:{s:s}}], s:[s],"
        " s:{s:b, s:{s:[s]}}, s:{s:s, s:s}, s:s, s:{s:i, s:I, s:i, s:I, s:i}, s:b, s:s,"
        " s:{}}",
        "version", 1, "name", "client-test", "identities", "name", "alice", "certificate", pp,
        "rights", "/", "rwx", "programs", "path", "/programs/p.wasm", "sha256",
        "abababababababababababababababababababababababababababababababab", "rights", "/out",
        "rw", "results", "/out", "runtimes", "allow_debug", 1, "platforms", "process",
        "1111111111111111111111111111111111111111111111111111111111111111", "attestation", "url",
        "http://127.0.0.1:1", "root_certificate", rp, "host", host, "limits", "fuel", 1000000,
        "memory_bytes", (json_int_t)(64 << 20), "run_seconds", 60, "fs_bytes",
        (json_int_t)(64 << 20), "output_bytes", 65536, "clock", 0, "expires",
        "2099-01-01T00:00:00Z", "shutdown");
    json_dump_file(p, policy_path, JSON_COMPACT);
    json_decref(p);
    free(pp);
    free(rp);
    sb_policy *pol;
    sb_err e = {0};
    if (sb_policy_load(policy_path, time(NULL), 0, &pol, &e) != 0) {
        fprintf(stderr, "test policy invalid: %s\n", e.msg);
        exit(1);
    }
    snprintf(hash_hex, sizeof hash_hex, "%s", sb_policy_hash_hex(pol));
    sb_policy_free(pol);
}

/* ---------------- the scripted fake host ---------------- */

enum script { S_ERR, S_GARBAGE, S_CLOSE, S_OK_JUNK, S_OK_TLS, S_DEPLOY_ERR, S_DEPLOY_WRONG,
              S_STATUS, S_ENDED, S_DEPLOY_READY };

struct fake {
    int lfd, port;
    enum script script;
    char preamble[256];
    X509 *tls_cert;
    EVP_PKEY *tls_key;
    int got_client_cert; /* the TLS server saw the party's certificate */
    int tls_done;
    int pending;         /* the next connection gets `script` */
    pthread_mutex_t mu;
};

static void read_preamble(int fd, char *out, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap && read(fd, out + n, 1) == 1 && out[n] != '\n')
        n++;
    out[n] = '\0';
}

static void serve_tls(struct fake *f, int fd)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_use_certificate(ctx, f->tls_cert);
    SSL_CTX_use_PrivateKey(ctx, f->tls_key);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, NULL, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_accept(ssl);
    char buf[64];
    SSL_read(ssl, buf, sizeof buf); /* a client that went on would send its certificate now */
    X509 *peer = SSL_get1_peer_certificate(ssl);
    f->got_client_cert = peer != NULL;
    X509_free(peer);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    __atomic_store_n(&f->tls_done, 1, __ATOMIC_RELEASE);
}

/* One scripted answer per start_fake(). Follow-up connections (the client asking the host why a
 * session failed) get a status line saying the computation is ready. */
static void serve_one(struct fake *f, int fd, enum script script)
{
    char line[256];
    switch (script) {
    case S_ERR:
        dprintf(fd, "ERR no computation %s on this host\n", hash_hex);
        break;
    case S_ENDED:
        dprintf(fd, "ERR computation %s ended: the shutdown rule was met\n", hash_hex);
        break;
    case S_DEPLOY_READY: /* "ready", and the connection that verifies gets an unattested isolate */
        pthread_mutex_lock(&f->mu);
        f->script = S_OK_TLS;
        f->pending = 1;
        pthread_mutex_unlock(&f->mu);
        dprintf(fd, "OK %s ready\n", hash_hex);
        break;
    case S_GARBAGE:
        dprintf(fd, "HTTP/1.1 400 Bad Request\n");
        break;
    case S_CLOSE:
        break;
    case S_OK_JUNK:
        dprintf(fd, "OK %s\n", hash_hex);
        if (read(fd, line, sizeof line) > 0)
            dprintf(fd, "this is not TLS at all, sorry\n");
        break;
    case S_OK_TLS:
        dprintf(fd, "OK %s\n", hash_hex);
        serve_tls(f, fd);
        break;
    case S_DEPLOY_ERR:
        dprintf(fd, "ERR deploy: host quota: 64 isolates already running (the maximum)\n");
        break;
    case S_DEPLOY_WRONG:
        dprintf(fd, "OK %064d ready\n", 0);
        break;
    case S_STATUS:
        dprintf(fd, "{\"policy_hash\":\"%s\",\"state\":\"ready\",\"reason\":\"\"}\nOK 1\n", hash_hex);
        break;
    }
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    for (;;) {
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char pre[256];
        read_preamble(fd, pre, sizeof pre);
        pthread_mutex_lock(&f->mu);
        int scripted = f->pending;
        f->pending = 0;
        if (scripted)
            snprintf(f->preamble, sizeof f->preamble, "%s", pre);
        enum script script = scripted ? f->script : S_STATUS;
        pthread_mutex_unlock(&f->mu);
        if (!scripted && strcmp(pre, "STRONGBOX/1 QUIT") == 0) {
            close(fd);
            return NULL;
        }
        serve_one(f, fd, script);
        close(fd);
    }
}

static void start_fake(struct fake *f, enum script s)
{
    pthread_mutex_lock(&f->mu);
    f->script = s;
    f->preamble[0] = '\0';
    f->got_client_cert = -1;
    f->tls_done = 0;
    f->pending = 1;
    pthread_mutex_unlock(&f->mu);
}

static strongbox_options opts(void)
{
    strongbox_options o = {.policy_path = policy_path, .key_path = key_path,
                           .cert_path = cert_path, .timeout_ms = 5000};
    return o;
}

static void expect_connect_fails(struct fake *f, enum script s, strongbox_code code,
                                 const char *text)
{
    start_fake(f, s);
    strongbox_options o = opts();
    strongbox *sb = NULL;
    strongbox_error e = {0};
    CHECK(strongbox_connect(&o, &sb, &e) == -1 && sb == NULL);
    CHECK_ERR(e, code, text);
    char want[100];
    snprintf(want, sizeof want, "STRONGBOX/1 CONNECT %s", hash_hex);
    CHECK(strcmp(f->preamble, want) == 0);
}

static void test_local_errors(void)
{
    strongbox_options o = opts();
    strongbox *s = NULL;
    strongbox_error e = {0};
    strongbox_options none = {0};
    CHECK(strongbox_connect(&none, &s, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_USAGE, "no policy file given");
    o.policy_path = "/nonexistent/policy.json";
    CHECK(strongbox_connect(&o, &s, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_LOCAL, "/nonexistent/policy.json");
    o = opts();
    o.cert_path = "/nonexistent/alice.crt";
    CHECK(strongbox_connect(&o, &s, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_LOCAL, "/nonexistent/alice.crt: not a PEM certificate");
    o = opts();
    o.key_path = other_key;
    CHECK(strongbox_connect(&o, &s, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_LOCAL, "is not the key of");
    o = opts();
    o.key_path = NULL;
    CHECK(strongbox_connect(&o, &s, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_USAGE, "a key and a certificate are needed");
    o = opts();
    o.host = "no-port-here";
    CHECK(strongbox_connect(&o, &s, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_USAGE, "expected HOST:PORT");
    o.host = "127.0.0.1:1"; /* nothing listens there */
    CHECK(strongbox_connect(&o, &s, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_NETWORK, "cannot connect to host 127.0.0.1:1");
    o = opts();
    o.verify_at = 4102444800; /* 2100-01-01: the policy has expired by then */
    CHECK(strongbox_connect(&o, &s, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_LOCAL, "expire");
}

static void test_host_answers(struct fake *f)
{
    /* A party whose policy copy differs is not invited to deploy a second computation. */
    expect_connect_fails(f, S_ERR, STRONGBOX_E_HOST,
                         "your copy of the policy may differ from the other parties'");
    strongbox_options o = opts();
    strongbox *sb = NULL;
    strongbox_error e = {0};
    start_fake(f, S_ERR);
    CHECK(strongbox_connect(&o, &sb, &e) == -1 && !strstr(e.message, "deploy its policy first"));
    expect_connect_fails(f, S_ENDED, STRONGBOX_E_ENDED, "the computation has ended");
    expect_connect_fails(f, S_GARBAGE, STRONGBOX_E_PROTOCOL,
                         "unexpected answer from host: 'HTTP/1.1 400 Bad Request'");
    expect_connect_fails(f, S_CLOSE, STRONGBOX_E_NETWORK,
                         "host closed the connection without an answer");
    expect_connect_fails(f, S_OK_JUNK, STRONGBOX_E_TLS, "TLS handshake with the isolate failed");
}

/* An isolate whose certificate is not attested: refused inside the handshake, before our
 * certificate is sent. */
static void test_unattested_isolate(struct fake *f)
{
    expect_connect_fails(f, S_OK_TLS, STRONGBOX_E_VERIFY, "refusing the isolate: ");
    for (int i = 0; i < 500 && !__atomic_load_n(&f->tls_done, __ATOMIC_ACQUIRE); i++)
        usleep(10000);
    CHECK(__atomic_load_n(&f->tls_done, __ATOMIC_ACQUIRE) && f->got_client_cert == 0);
}

static void test_deploy_and_status(struct fake *f)
{
    strongbox_options o = opts();
    strongbox_error e = {0};
    char hash[65];
    start_fake(f, S_DEPLOY_ERR);
    CHECK(strongbox_deploy(&o, hash, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_HOST, "host refused: deploy: host quota: 64 isolates");
    CHECK(strncmp(f->preamble, "STRONGBOX/1 DEPLOY ", 19) == 0);
    start_fake(f, S_DEPLOY_WRONG);
    CHECK(strongbox_deploy(&o, hash, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_PROTOCOL, "unexpected answer from host: 'OK 0000");
    start_fake(f, S_STATUS);
    char *text = NULL;
    CHECK(strongbox_host_status(&o, NULL, &text, &e) == 0 && text && strstr(text, hash_hex));
    free(text);
    /* Never the bare STATUS that would list every computation: the policy's own hash. */
    char want[100];
    snprintf(want, sizeof want, "STRONGBOX/1 STATUS %s", hash_hex);
    CHECK(strcmp(f->preamble, want) == 0);
    /* "ready" from the host is not enough: deploy verifies the isolate itself. */
    o.key_path = o.cert_path = NULL;
    start_fake(f, S_DEPLOY_READY);
    CHECK(strongbox_deploy(&o, hash, &e) == -1);
    CHECK_ERR(e, STRONGBOX_E_VERIFY, "refusing the isolate: ");
    for (int i = 0; i < 500 && !__atomic_load_n(&f->tls_done, __ATOMIC_ACQUIRE); i++)
        usleep(10000);
    CHECK(__atomic_load_n(&f->tls_done, __ATOMIC_ACQUIRE) && f->got_client_cert == 0);
    start_fake(f, S_ERR);
    CHECK(strongbox_host_status(&o, hash_hex, &text, &e) == -1 && !text);
    CHECK_ERR(e, STRONGBOX_E_HOST, "host refused: no computation");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "/tmp/sb-client-test-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(policy_path, sizeof policy_path, "%s/policy.json", dir);
    snprintf(key_path, sizeof key_path, "%s/alice.key", dir);
    snprintf(cert_path, sizeof cert_path, "%s/alice.crt", dir);
    snprintf(other_key, sizeof other_key, "%s/other.key", dir);
    EVP_PKEY *alice = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256"),
             *rootk = EVP_EC_gen("P-256"), *isok = EVP_EC_gen("P-256");
    X509 *ac = test_self_signed("alice", alice, 11), *rc = test_self_signed("root", rootk, 11),
         *ic = test_self_signed("not-attested", isok, 11);
    write_key(key_path, alice);
    write_key(other_key, other);
    write_cert(cert_path, ac);

    struct fake f = {.tls_cert = ic, .tls_key = isok, .mu = PTHREAD_MUTEX_INITIALIZER};
    f.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (bind(f.lfd, (struct sockaddr *)&a, sizeof a) || listen(f.lfd, 4) ||
        getsockname(f.lfd, (struct sockaddr *)&a, &l))
        return 1;
    f.port = ntohs(a.sin_port);
    make_policy(f.port, ac, rc);

    pthread_t server;
    pthread_create(&server, NULL, fake_main, &f);
    test_local_errors();
    test_host_answers(&f);
    test_unattested_isolate(&f);
    test_deploy_and_status(&f);
    int qfd = socket(AF_INET, SOCK_STREAM, 0); /* stop the fake host */
    if (connect(qfd, (struct sockaddr *)&a, sizeof a) == 0 && write(qfd, "STRONGBOX/1 QUIT\n", 17) == 17)
        pthread_join(server, NULL);
    close(qfd);
    close(f.lfd);
    X509_free(ac);
    X509_free(rc);
    X509_free(ic);
    EVP_PKEY_free(alice);
    EVP_PKEY_free(other);
    EVP_PKEY_free(rootk);
    EVP_PKEY_free(isok);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    if (failures) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("test_client: %d checks passed\n", checks);
    return 0;
}
