/* fake_runtime - stands in for strongbox-runtime in the host tests. Speaks the real channel
 * protocol on --channel-fd: init, challenge, attest-request (real CSR and binding), result, ready;
 * then echoes every session's bytes back, except these session commands (whole session-data
 * payloads):
 *   "CRASH"     abort() (the host must report the signal and keep other computations running)
 *   "BYE"       session-close from the runtime side
 *   "SHUTDOWN"  a shutdown frame ("test rule met"), then exit 0
 *   "KEEP<c>"   a hand-over of kept sealed results (docs/sealed.md), right or broken (keep_case)
 * It keeps the per-session flow control of the channel like the runtime: an echo waits for the
 * host's credit, and credit goes back to the host only for bytes echoed (so a party that does not
 * read stalls its own session). The first bytes of a session stand for a finished handshake
 * (session-auth). It exits 0 when the host sends shutdown or closes the channel. */
#include "attest/attest.h"
#include "policy/policy.h"
#include "proto/proto.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fd = -1;

static void die(const char *what, const sb_err *e)
{
    fprintf(stderr, "fake_runtime: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

/* Blocking read of the next frame. Returns 0 on EOF. */
static int next_msg(sb_frame_reader *r, sb_msg *m)
{
    sb_err e = {0};
    for (;;) {
        const uint8_t *p;
        size_t len;
        int rc = sb_frame_reader_next(r, &p, &len, &e);
        if (rc < 0)
            die("frame", &e);
        if (rc == 1) {
            if (sb_msg_decode(p, len, m, &e) != 0)
                die("decode", &e);
            return 1;
        }
        struct pollfd pf = {fd, POLLIN, 0};
        poll(&pf, 1, -1);
        long n = sb_frame_reader_read_fd(r, fd, &e);
        if (n == 0)
            return 0;
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            die("read", &e);
    }
}

static void send_msg(const sb_msg *m)
{
    sb_err e = {0};
    /* The channel is non-blocking on the host side only; ours is blocking. */
    if (sb_msg_write_fd(fd, m, &e) != 0)
        die("write", &e);
}

static void attest(sb_frame_reader *r)
{
    sb_msg m;
    sb_err e = {0};
    if (!next_msg(r, &m) || m.type != SB_MSG_INIT)
        die("expected init", NULL);
    sb_policy *policy;
    if (sb_policy_parse(m.data.p, m.data.len, time(NULL), 0, &policy, &e) != 0)
        die("policy", &e);
    sb_msg_free(&m);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    X509_REQ_set_pubkey(req, key);
    X509_REQ_sign(req, key, EVP_sha256());
    unsigned char *der = NULL;
    int der_len = i2d_X509_REQ(req, &der);
    if (!next_msg(r, &m) || m.type != SB_MSG_ATTEST_CHALLENGE)
        die("expected challenge", NULL);
    uint8_t binding[SB_BINDING_LEN];
    if (sb_attest_binding_for_key(m.nonce.p, m.nonce.len, key, sb_policy_hash(policy), binding,
                                  &e) != 0)
        die("binding", &e);
    sb_msg_free(&m);
    sb_msg q;
    sb_msg_init(&q, SB_MSG_ATTEST_REQUEST);
    q.present = SB_F(SB_K_DATA) | SB_F(SB_K_HASH) | SB_F(SB_K_BINDING) | SB_F(SB_K_PLATFORM);
    q.data = (sb_bytes){der, (size_t)der_len};
    q.hash = (sb_bytes){sb_policy_hash(policy), 32};
    q.binding = (sb_bytes){binding, sizeof binding};
    q.platform = "process";
    send_msg(&q);
    if (!next_msg(r, &m) || m.type != SB_MSG_ATTEST_RESULT)
        die("expected result", NULL);
    if (m.status != SB_ST_OK)
        exit(1); /* like the real runtime: a refused attestation ends it */
    sb_msg_free(&m);
    sb_msg_init(&q, SB_MSG_READY);
    q.present = SB_F(SB_K_HASH);
    q.hash = (sb_bytes){sb_policy_hash(policy), 32};
    send_msg(&q);
    OPENSSL_free(der);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    sb_policy_free(policy);
}

/* One session's echo waiting for credit (at most a window: the host sends no more unechoed). */
struct sess {
    uint64_t id, credit, owed;
    uint8_t *pend;
    size_t pend_len;
    int used, sink; /* sink: takes session data without echo or credit (a stuck isolate) */
};
static struct sess sessions[300];

static struct sess *sess_of(uint64_t id, int create)
{
    for (size_t i = 0; i < sizeof sessions / sizeof *sessions; i++)
        if (sessions[i].used && sessions[i].id == id)
            return &sessions[i];
    for (size_t i = 0; create && i < sizeof sessions / sizeof *sessions; i++)
        if (!sessions[i].used) {
            sessions[i] = (struct sess){.id = id, .credit = SB_SESSION_WINDOW, .used = 1};
            return &sessions[i];
        }
    return NULL;
}

static void send_credit(uint64_t id, uint64_t n)
{
    sb_msg q;
    sb_msg_init(&q, SB_MSG_SESSION_CREDIT);
    q.present = SB_F(SB_K_ID) | SB_F(SB_K_SIZE);
    q.id = id;
    q.size = n;
    send_msg(&q);
}

static void echo(struct sess *s)
{
    while (s->pend_len && s->credit) {
        size_t n = s->pend_len < s->credit ? s->pend_len : (size_t)s->credit;
        n = n < (256u << 10) ? n : 256u << 10;
        sb_msg q;
        sb_msg_init(&q, SB_MSG_SESSION_DATA);
        q.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        q.id = s->id;
        q.data = (sb_bytes){s->pend, n};
        send_msg(&q);
        memmove(s->pend, s->pend + n, s->pend_len - n);
        s->pend_len -= n;
        s->credit -= n;
        if ((s->owed += n) >= SB_CREDIT_STEP) {
            send_credit(s->id, s->owed);
            s->owed = 0;
        }
    }
}

static void on_data(const sb_msg *m)
{
    struct sess *s = sess_of(m->id, 0);
    if (!s || s->sink)
        return;
    if (!s->pend) { /* the first bytes: as if the handshake finished */
        sb_msg q;
        sb_msg_init(&q, SB_MSG_SESSION_AUTH);
        q.present = SB_F(SB_K_ID);
        q.id = m->id;
        send_msg(&q);
    }
    uint8_t *p = realloc(s->pend, s->pend_len + m->data.len + 1);
    if (!p)
        die("out of memory", NULL);
    memcpy(p + s->pend_len, m->data.p, m->data.len);
    s->pend = p;
    s->pend_len += m->data.len;
    echo(s);
}

static void keep_frame(sb_msg_type t, uint64_t id, const char *path, uint64_t size, const char *data)
{
    sb_msg q;
    sb_msg_init(&q, t);
    q.present = t == SB_MSG_KEEP_BEGIN ? SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_SIZE)
                : t == SB_MSG_KEEP_DATA ? SB_F(SB_K_DATA) : SB_F(SB_K_SIZE);
    q.id = id;
    q.path = path;
    q.size = size;
    if (data)
        q.data = (sb_bytes){(const uint8_t *)data, strlen(data)};
    send_msg(&q);
}

/* KEEP<c>: E keep-begin before shutdown; then after a shutdown frame: R for identity 99,
 * D keep-data without keep-begin, B more data than announced, I keep-done mid-envelope,
 * N a second keep-begin mid-envelope, C the runtime exits mid-envelope, O right ("hello"). */
static void keep_case(char c)
{
    sb_msg q;
    if (c != 'E') {
        sb_msg_init(&q, SB_MSG_SHUTDOWN);
        q.present = SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
        q.status = SB_ST_SHUTTING_DOWN;
        q.reason = "test rule met";
        send_msg(&q);
    }
    if (c != 'D')
        keep_frame(SB_MSG_KEEP_BEGIN, c == 'R' ? 99 : 0, "/out/r", c == 'B' ? 3 : c == 'O' ? 5 : 10,
                   NULL);
    if (c == 'D')
        keep_frame(SB_MSG_KEEP_DATA, 0, NULL, 0, "hello");
    if (c == 'B' || c == 'O')
        keep_frame(SB_MSG_KEEP_DATA, 0, NULL, 0, "hello");
    if (c == 'I' || c == 'N' || c == 'C')
        keep_frame(SB_MSG_KEEP_DATA, 0, NULL, 0, "hel");
    if (c == 'N')
        keep_frame(SB_MSG_KEEP_BEGIN, 0, "/out/r", 5, NULL);
    if (c == 'I' || c == 'O')
        keep_frame(SB_MSG_KEEP_DONE, 0, NULL, c == 'O', NULL);
}

static int is_cmd(const sb_msg *m, const char *cmd)
{
    return m->data.len == strlen(cmd) && memcmp(m->data.p, cmd, m->data.len) == 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--channel-fd") == 0)
            fd = atoi(argv[i + 1]);
    if (fd < 0)
        return 2;
    sb_frame_reader r;
    sb_frame_reader_init(&r, 0);
    attest(&r);
    sb_msg m, q;
    while (next_msg(&r, &m)) {
        if (m.type == SB_MSG_SHUTDOWN) {
            sb_msg_free(&m);
            break;
        }
        if (m.type == SB_MSG_SESSION_DATA) {
            if (is_cmd(&m, "CRASH"))
                abort();
            if (is_cmd(&m, "SHUTDOWN")) {
                sb_msg_init(&q, SB_MSG_SHUTDOWN);
                q.present = SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
                q.status = SB_ST_SHUTTING_DOWN;
                q.reason = "test rule met";
                send_msg(&q);
                sb_msg_free(&m);
                break;
            }
            if (m.data.len == 5 && memcmp(m.data.p, "KEEP", 4) == 0) {
                keep_case((char)m.data.p[4]);
                sb_msg_free(&m);
                break;
            }
            struct sess *sk = is_cmd(&m, "SINK") ? sess_of(m.id, 0) : NULL;
            if (sk) { /* "SINK" is echoed, then the session's bytes are swallowed */
                on_data(&m);
                sk->sink = 1;
            } else if (is_cmd(&m, "BYE")) {
                sb_msg_init(&q, SB_MSG_SESSION_CLOSE);
                q.present = SB_F(SB_K_ID);
                q.id = m.id;
                send_msg(&q);
            } else {
                on_data(&m);
            }
        }
        struct sess *s = sess_of(m.id, m.type == SB_MSG_SESSION_OPEN);
        if (s && m.type == SB_MSG_SESSION_CREDIT) {
            s->credit += m.size;
            echo(s);
        } else if (s && m.type == SB_MSG_SESSION_CLOSE) {
            free(s->pend);
            *s = (struct sess){0};
        }
        sb_msg_free(&m);
    }
    sb_frame_reader_free(&r);
    return 0;
}
