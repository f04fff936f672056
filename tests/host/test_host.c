/* test_host - strongbox-host as a black box: the real binary, the real process backend, a fake
 * runtime speaking the real channel protocol, and a fake attestation service (libmicrohttpd) that
 * checks the host's process evidence (signature by the host key, runtime measurement, binding).
 *
 * usage: test_host STRONGBOX_HOST FAKE_RUNTIME [--sanitizer-compat] [--no-splice] */
#include "attest/attest.h"
#include "policy/policy.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/check.h"
#include "../common/x509_util.h"

static char dir[64];
static EVP_PKEY *host_key;
static uint8_t runtime_hash[32];

/* ---------------- fake attestation service ---------------- */

struct attestd {
    struct MHD_Daemon *d;
    int port;
    int issued, refused, bad_evidence;
    char refuse_hash[65];
};

struct body {
    char *p;
    size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *json)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

/* Checks the evidence like the real service would, as far as the host is concerned. */
static int check_evidence(json_t *req)
{
    const char *ev64 = json_string_value(json_object_get(req, "evidence"));
    const char *csr = json_string_value(json_object_get(req, "csr"));
    const char *nonce_hex = json_string_value(json_object_get(req, "nonce"));
    const char *ph_hex = json_string_value(json_object_get(req, "policy_hash"));
    if (!ev64 || !csr || !nonce_hex || !ph_hex)
        return -1;
    uint8_t *ev, nonce[32], ph[32], binding[64];
    size_t ev_len;
    sb_err e = {0};
    if (sb_base64_decode(ev64, strlen(ev64), &ev, &ev_len, &e) != 0)
        return -1;
    EVP_PKEY *keys[] = {host_key};
    sb_trust_anchors anchors = {.keys = keys, .n_keys = 1};
    sb_claims claims;
    int rc = sb_verify_process(ev, ev_len, &anchors, time(NULL), &claims, &e);
    free(ev);
    BIO *b = BIO_new_mem_buf(csr, -1);
    X509_REQ *r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
    BIO_free(b);
    if (rc != 0 || !r || sb_hex_decode(nonce_hex, nonce, 32) || sb_hex_decode(ph_hex, ph, 32)) {
        fprintf(stderr, "fake attestd: evidence: %s\n", e.msg);
        X509_REQ_free(r);
        return -1;
    }
    rc = sb_attest_binding_for_key(nonce, 32, X509_REQ_get0_pubkey(r), ph, binding, &e);
    X509_REQ_free(r);
    if (rc != 0 || claims.report_data_len != 64 || memcmp(claims.report_data, binding, 64) ||
        claims.n_measurements < 1 || claims.measurements[0].len != 32 ||
        memcmp(claims.measurements[0].value, runtime_hash, 32) || strcmp(claims.platform, "process"))
        return -1;
    return 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *data_len, void **state)
{
    (void)version;
    (void)method;
    struct attestd *a = cls;
    struct body *b = *state;
    if (!b) {
        *state = calloc(1, sizeof *b);
        return MHD_YES;
    }
    if (*data_len) {
        b->p = realloc(b->p, b->len + *data_len + 1);
        memcpy(b->p + b->len, data, *data_len);
        b->len += *data_len;
        b->p[b->len] = '\0';
        *data_len = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/v1/challenge") == 0) {
        uint8_t n[32];
        char hex[65], out[200];
        RAND_bytes(n, sizeof n);
        sb_hex_encode(n, sizeof n, hex);
        snprintf(out, sizeof out, "{\"nonce\":\"%s\",\"expires\":\"2099-01-01T00:00:00Z\"}", hex);
        return reply(c, 200, out);
    }
    json_t *req = b->p ? json_loads(b->p, 0, NULL) : NULL;
    enum MHD_Result rc;
    const char *ph = json_string_value(json_object_get(req, "policy_hash"));
    if (ph && strcmp(ph, a->refuse_hash) == 0) {
        a->refused++;
        rc = reply(c, 403, "{\"error\":\"measurement not accepted (test refusal)\"}");
    } else if (!req || check_evidence(req) != 0) {
        a->bad_evidence++;
        rc = reply(c, 400, "{\"error\":\"bad evidence\"}");
    } else {
        a->issued++;
        rc = reply(c, 200, "{\"chain\":\"-----BEGIN CERTIFICATE-----\\nfake\\n\"}");
    }
    json_decref(req);
    return rc;
}

static void done_cb(void *cls, struct MHD_Connection *c, void **state,
                    enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)c;
    (void)t;
    struct body *b = *state;
    if (b)
        free(b->p);
    free(b);
    *state = NULL;
}

/* ---------------- policies ---------------- */

static char *party_pem, *root_pem;

/* A valid policy; `name` makes distinct hashes, `memory` sets limits.memory_bytes. */
static char *make_policy(const char *name, int attestd_port, long long memory)
{
    char url[64], meas[65];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", attestd_port);
    sb_hex_encode(runtime_hash, 32, meas);
    json_t *p = json_pack(
        "{s:i, s:s, s:[{s:s, s:s, s:{s:s}}], s:[{s:s, s:s, s:{s:s}}], s:[s],"
        " s:{s:b, s:{s:[s]}}, s:{s:s, s:s}, s:s, s:{s:i, s:I, s:i, s:I, s:i}, s:b, s:s,"
        " s:{}}",
        "version", 1, "name", name, "identities", "name", "alice", "certificate", party_pem,
        "rights", "/", "rwx", "programs", "path", "/programs/p.wasm", "sha256",
        "abababababababababababababababababababababababababababababababab", "rights", "/out",
        "rw", "results", "/out", "runtimes", "allow_debug", 1, "platforms", "process", meas,
        "attestation", "url", url, "root_certificate", root_pem, "host", "127.0.0.1:1",
        "limits", "fuel", 1000000, "memory_bytes", (json_int_t)memory, "run_seconds", 60,
        "fs_bytes", (json_int_t)(64 << 20), "output_bytes", 65536, "clock", 0, "expires",
        "2099-01-01T00:00:00Z", "shutdown");
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    sb_policy *pol;
    sb_err e = {0};
    if (sb_policy_parse(s, strlen(s), time(NULL), 0, &pol, &e) != 0) {
        fprintf(stderr, "test policy invalid: %s\n", e.msg);
        exit(1);
    }
    sb_policy_free(pol);
    return s;
}

static void hash_of(const char *json, char hex[65])
{
    sb_policy *pol;
    sb_err e = {0};
    sb_policy_parse(json, strlen(json), time(NULL), 0, &pol, &e);
    snprintf(hex, 65, "%s", sb_policy_hash_hex(pol));
    sb_policy_free(pol);
}

/* ---------------- talking to the host ---------------- */

static int host_port;
static void host_status(const char *hash, char *buf, size_t cap);

/* A connection from source address 127.0.0.src (loopback: every 127/8 address is local), so
 * per-address limits can be tested on one machine; src 0 = the default source. */
static int dial_from(int src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (src) {
        struct sockaddr_in b = {.sin_family = AF_INET};
        b.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)src - 1);
        if (bind(fd, (struct sockaddr *)&b, sizeof b) != 0)
            perror("bind");
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)host_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int dial(void)
{
    return dial_from(0);
}

static void send_all(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            perror("write");
            return;
        }
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

static void read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        char c;
        if (read(fd, &c, 1) != 1 || c == '\n')
            break;
        buf[n++] = c;
    }
    buf[n] = '\0';
}

/* One preamble, one answer line. */
static void ask(const char *preamble, const void *body, size_t body_len, char *ans, size_t cap)
{
    int fd = dial();
    send_all(fd, preamble, strlen(preamble));
    if (body_len)
        send_all(fd, body, body_len);
    read_line(fd, ans, cap);
    close(fd);
}

static void deploy(const char *policy, char *ans, size_t cap)
{
    char pre[64];
    snprintf(pre, sizeof pre, "STRONGBOX/1 DEPLOY %zu\n", strlen(policy));
    ask(pre, policy, strlen(policy), ans, cap);
}

static int session(const char *hash)
{
    int fd = dial();
    char pre[128], ans[256];
    snprintf(pre, sizeof pre, "STRONGBOX/1 CONNECT %s\n", hash);
    send_all(fd, pre, strlen(pre));
    read_line(fd, ans, sizeof ans);
    char want[80];
    snprintf(want, sizeof want, "OK %s", hash);
    CHECK(strcmp(ans, want) == 0);
    return fd;
}

static int read_exact(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Sends `len` pseudo-random bytes and reads the echo concurrently (the host must relay both
 * directions without buffering everything: backpressure). */
static int echo_bulk(int fd, size_t len)
{
    uint8_t *out = malloc(len), *in = malloc(len);
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 2654435761u >> 13);
    size_t sent = 0, got = 0;
    while (got < len) {
        struct pollfd p = {fd, POLLIN | (sent < len ? POLLOUT : 0), 0};
        if (poll(&p, 1, 20000) <= 0)
            break;
        if ((p.revents & POLLOUT) && sent < len) {
            size_t n = len - sent < 65536 ? len - sent : 65536;
            ssize_t w = send(fd, out + sent, n, MSG_DONTWAIT);
            if (w > 0)
                sent += (size_t)w;
        }
        if (p.revents & POLLIN) {
            ssize_t r = recv(fd, in + got, len - got, MSG_DONTWAIT);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    int ok = got == len && memcmp(in, out, len) == 0;
    free(out);
    free(in);
    return ok ? 0 : -1;
}

/* A party that sends without reading stalls only its own session: its echo waits within its
 * window (in the host and the runtime), its further bytes in its own socket. A session opened
 * meanwhile is served at once, in bulk too; once the first party reads, it gets its bytes back
 * intact. (Before per-session flow control the whole channel stopped: the second session's echo
 * waited until the first party read.) */
static int stalled_session(const char *hash)
{
    int a = session(hash);
    size_t cap = 64u << 20, sent = 0; /* it stalls after ~22 MiB (socket buffers, queues) */
    uint8_t *out = malloc(cap), *in = malloc(cap);
    for (size_t i = 0; i < cap; i++)
        out[i] = (uint8_t)(i * 2654435761u >> 11);
    for (int idle = 0; idle < 6 && sent < cap;) { /* until 300 ms without progress */
        ssize_t w = send(a, out + sent, cap - sent < 65536 ? cap - sent : 65536, MSG_DONTWAIT);
        if (w > 0)
            sent += (size_t)w, idle = 0;
        else
            usleep(50000), idle++;
    }
    int b = session(hash), ok = sent < cap; /* stalled before the cap */
    CHECK(ok);
    send_all(b, "second-session", 14);
    char echo[16] = {0};
    ok = ok && read_exact(b, echo, 14) == 0 && memcmp(echo, "second-session", 14) == 0;
    CHECK(ok);
    ok = ok && echo_bulk(b, 4u << 20) == 0;
    CHECK(ok);
    ok = ok && read_exact(a, in, sent) == 0 && memcmp(in, out, sent) == 0;
    close(a);
    close(b);
    free(out);
    free(in);
    return ok ? 0 : -1;
}

static int log_count(const char *needle);

/* A party whose connection resets while more than its session's window waits in the host's
 * socket (a libstrongbox client killed mid-upload: it closes abortively): the host relays what
 * the window takes, drops the rest and ends the session at once. The fake runtime swallows this
 * session's bytes and returns no credit (a busy isolate), so there is nothing to deliver to the
 * party either. (Before, the host only tried to read the party again once credit came back, so a
 * killed client's upload could complete later, after that party's next session had been
 * answered; here credit never comes back, and the session stayed open.) */
static int party_leaves_mid_upload(const char *hash)
{
    int a = session(hash);
    char echo[4];
    send_all(a, "SINK", 4);
    int ok = read_exact(a, echo, 4) == 0 && memcmp(echo, "SINK", 4) == 0;
    size_t cap = 64u << 20, sent = 0;
    uint8_t *out = calloc(1, cap);
    for (int idle = 0; ok && out && idle < 6 && sent < cap;) {
        ssize_t w = send(a, out + sent, cap - sent < 65536 ? cap - sent : 65536, MSG_DONTWAIT);
        if (w > 0)
            sent += (size_t)w, idle = 0;
        else
            usleep(50000), idle++;
    }
    free(out);
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    ok = ok && sent > (2u << 20) && sent < cap &&
         setsockopt(a, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0;
    CHECK(ok);
    const char *dropped = "the party's connection ended; ";
    int closed = log_count(" closed, "), ended = log_count(dropped);
    close(a);
    for (int i = 0; i < 300 && log_count(" closed, ") == closed; i++)
        usleep(10000);
    ok = ok && log_count(" closed, ") == closed + 1 && log_count(dropped) == ended + 1;
    CHECK(ok);
    int b = session(hash); /* the computation goes on */
    ok = ok && echo_bulk(b, 1u << 20) == 0;
    CHECK(ok);
    close(b);
    return ok ? 0 : -1;
}

/* How many times the host's log has `needle` so far. */
static int log_count(const char *needle)
{
    char path[128];
    snprintf(path, sizeof path, "%s/host.log", dir);
    uint8_t *data;
    size_t len;
    sb_err e;
    if (sb_read_file(path, 1u << 26, &data, &len, &e) != 0)
        return 0;
    int n = 0;
    for (const uint8_t *p = data; (p = memmem(p, len - (size_t)(p - data), needle, strlen(needle)));
         p++)
        n++;
    free(data);
    return n;
}

static int log_contains(const char *needle)
{
    return log_count(needle) > 0;
}

static void wait_for_log(const char *needle)
{
    for (int i = 0; i < 500 && !log_contains(needle); i++)
        usleep(10000);
}


/* ---------------- the operator's admin socket ---------------- */

static char admin_path[100], host_bin[256];

static int admin_dial(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", admin_path);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Reads answer lines until "OK n" or "ERR ..." into out (lines joined by '\n'). */
static void admin_read(int fd, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (;;) {
        char line[2048];
        read_line(fd, line, sizeof line);
        n += (size_t)snprintf(out + n, cap - n, "%s\n", line);
        if (n >= cap || !line[0] || strncmp(line, "OK", 2) == 0 || strncmp(line, "ERR", 3) == 0)
            return;
    }
}

static void admin_ask(const char *cmd, size_t len, char *out, size_t cap)
{
    int fd = admin_dial();
    CHECK(fd >= 0);
    if (fd < 0) {
        out[0] = '\0';
        return;
    }
    send_all(fd, cmd, len);
    admin_read(fd, out, cap);
    close(fd);
}

static void admin_cmd(const char *cmd, char *out, size_t cap)
{
    admin_ask(cmd, strlen(cmd), out, cap);
}

/* `strongbox-host admin --socket P ARGS`: its stdout into out, its exit status returned. */
static int admin_cli(const char *args, char *out, size_t cap)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s admin --socket %s %s 2>&1", host_bin, admin_path, args);
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = '\0';
    int st = f ? pclose(f) : -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* In a child running as uid/gid 65534: connect, and report what happened (0: connect refused
 * with EACCES; 1: connected and the host answered with a permission error; 2: anything else). */
static int connect_as_nobody(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        int fd = admin_dial();
        if (fd < 0)
            _exit(errno == EACCES ? 0 : 2);
        send_all(fd, "LIST\n", 5);
        char ans[256];
        read_line(fd, ans, sizeof ans);
        _exit(strcmp(ans, "ERR permission denied: uid 65534 is not the host's (uid 0) or root")
                  == 0 ? 1 : 2);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Only the host's user (or root) reaches the socket: mode 0600 first, SO_PEERCRED second. */
static void test_admin_access(void)
{
    struct stat st;
    CHECK(stat(admin_path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600 &&
          st.st_uid == geteuid());
    if (geteuid() != 0) {
        fprintf(stderr, "test_host: not root: the other-uid checks are skipped\n");
        return;
    }
    CHECK(chmod(dir, 0711) == 0); /* so the socket's own mode is what keeps uid 65534 out */
    CHECK(connect_as_nobody() == 0);
    CHECK(chmod(admin_path, 0666) == 0); /* a mode changed by mistake: the uid check still holds */
    CHECK(connect_as_nobody() == 1);
    CHECK(chmod(admin_path, 0600) == 0 && chmod(dir, 0700) == 0);
    CHECK(log_contains("admin: refused a connection from uid 65534"));
}

/* Every malformed request gets an ERR line with its reason; nothing is stopped by one. */
static void test_admin_errors(const char *live_hash)
{
    char ans[4096], cmd[400];
    admin_cmd("FROB\n", ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad command 'FROB': expected LIST, SHOW HASH, STOP HASH [REASON], SEALED "
                      "HASH or DELETE-SEALED HASH\n") == 0);
    admin_cmd("SEALED 1234\n", ans, sizeof ans);
    CHECK(strstr(ans, "ERR bad hash '1234': expected the 64 lower-case hex digits") == ans);
    admin_cmd("SEALED\n", ans, sizeof ans);
    CHECK(strstr(ans, "ERR bad command 'SEALED'") == ans);
    admin_cmd("SHOW\n", ans, sizeof ans);
    CHECK(strncmp(ans, "ERR bad command 'SHOW'", 22) == 0);
    admin_cmd("LIST extra\n", ans, sizeof ans);
    CHECK(strncmp(ans, "ERR bad command 'LIST'", 22) == 0);
    admin_cmd("list\n", ans, sizeof ans);
    CHECK(strncmp(ans, "ERR bad command 'list'", 22) == 0);
    admin_cmd("SHOW zz\n", ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad hash 'zz': expected 8 to 64 lower-case hex digits of a policy "
                      "hash\n") == 0);
    admin_cmd("STOP 0000000000000000\n", ans, sizeof ans);
    CHECK(strcmp(ans, "ERR no computation 0000000000000000 on this host\n") == 0);
    admin_cmd("SHOW 0000000000000000000000000000000000000000000000000000000000000000\n", ans,
              sizeof ans);
    CHECK(strncmp(ans, "ERR no computation 0000", 23) == 0);
    admin_cmd("STOP x\x01y\n", ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad command: printable ASCII only\n") == 0);
    admin_ask("SH\0W\n", 5, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad command: NUL byte\n") == 0);
    memset(cmd, 'A', sizeof cmd);
    admin_ask(cmd, sizeof cmd, ans, sizeof ans); /* no newline within the bound */
    CHECK(strcmp(ans, "ERR line longer than 255 bytes\n") == 0);
    /* A reason that makes the line too long is refused too, and does not stop anything. */
    int n = snprintf(cmd, sizeof cmd, "STOP %s ", live_hash);
    memset(cmd + n, 'r', sizeof cmd - (size_t)n - 1);
    cmd[sizeof cmd - 1] = '\n';
    admin_ask(cmd, sizeof cmd, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR line longer than 255 bytes\n") == 0);
    snprintf(cmd, sizeof cmd, "SHOW %.12s\n", live_hash); /* a prefix, as the log shows */
    admin_cmd(cmd, ans, sizeof ans);
    CHECK(strstr(ans, "\"state\":\"ready\"") && strstr(ans, "\nOK 1\n"));
    /* Two commands in one write: answered in order on the same connection. */
    snprintf(cmd, sizeof cmd, "SHOW %s\nSHOW 00000000\n", live_hash);
    int fd = admin_dial();
    send_all(fd, cmd, strlen(cmd));
    admin_read(fd, ans, sizeof ans);
    CHECK(strstr(ans, live_hash) && strstr(ans, "OK 1\n"));
    admin_read(fd, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR no computation 00000000 on this host\n") == 0);
    close(fd);
}

/* The JSON object of `hash` in a LIST answer, or NULL. */
static json_t *listed(const char *list, const char *hash)
{
    for (const char *p = list; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_t *o = json_loadb(p, len, 0, NULL);
        const char *h = o ? json_string_value(json_object_get(o, "policy_hash")) : NULL;
        if (h && strcmp(h, hash) == 0)
            return o;
        json_decref(o);
        p += len + (nl ? 1 : 0);
    }
    return NULL;
}

/* At most 16 operator connections: the next is told so, not silently dropped. */
static void test_admin_busy(void)
{
    int held[16], n = 0;
    char ans[65536]; /* LIST: every computation the host remembers */
    usleep(100000); /* the host has seen the earlier connections close */
    for (; n < 16; n++) {
        held[n] = admin_dial();
        CHECK(held[n] >= 0);
        send_all(held[n], "LIST\n", 5);
        admin_read(held[n], ans, sizeof ans);
        CHECK(strstr(ans, "OK ") != NULL);
    }
    int fd = admin_dial();
    read_line(fd, ans, sizeof ans);
    close(fd);
    CHECK(strcmp(ans, "ERR busy: too many operator connections") == 0);
    while (n > 0)
        close(held[--n]);
}

/* A second host on the same PATH, a PATH that is another kind of file, or one too long for a
 * socket: the host refuses to start and says why. A stale socket (nobody listening) is replaced,
 * and the host removes its socket when it stops. */
static void test_admin_startup(const char *runtime, const char *key)
{
    char cmd[1024], out[2048], path[400];
    const char *cases[][2] = {
        {admin_path, "another host is listening there"},
        {"notasocket", "exists and is not a socket"},
        {"", "the path must have 1 to 107 bytes"},
    };
    snprintf(path, sizeof path, "%s/notasocket", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    cases[1][0] = path;
    char longpath[200];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    cases[2][0] = longpath;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(cmd, sizeof cmd, "%s --listen 127.0.0.1:0 --runtime %s --attest-key %s "
                 "--admin-socket %s 2>&1", host_bin, runtime, key, cases[i][0]);
        FILE *p = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        int st = pclose(p);
        CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 1 && strstr(out, cases[i][1]), "%s", out);
    }
    struct stat stt;
    CHECK(stat(path, &stt) == 0 && S_ISREG(stt.st_mode)); /* the file was left alone */

    /* A stale socket: bound, never listening, its process gone. */
    char stale[100], logp[128];
    snprintf(stale, sizeof stale, "%s/stale.sock", dir);
    snprintf(logp, sizeof logp, "%s/host2.log", dir);
    int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, stale, strlen(stale) + 1);
    CHECK(bind(sfd, (struct sockaddr *)&a, sizeof a) == 0);
    close(sfd);
    pid_t pid = fork();
    if (pid == 0) {
        char *args[] = {host_bin, "--listen", "127.0.0.1:0", "--runtime", (char *)runtime,
                        "--attest-key", (char *)key, "--admin-socket", stale, "--log", logp, NULL};
        execv(host_bin, args);
        _exit(127);
    }
    char saved[100];
    memcpy(saved, admin_path, sizeof saved);
    memcpy(admin_path, stale, sizeof stale);
    char ans[256] = "";
    for (int i = 0; i < 500; i++) { /* until the new host answers there */
        int fd = admin_dial();
        if (fd >= 0) {
            send_all(fd, "LIST\n", 5);
            admin_read(fd, ans, sizeof ans);
            close(fd);
            break;
        }
        usleep(10000);
    }
    CHECK(strcmp(ans, "OK 0\n") == 0);
    memcpy(admin_path, saved, sizeof saved);
    kill(pid, SIGTERM);
    int st = -1;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(access(stale, F_OK) != 0 && errno == ENOENT); /* removed at stop */
}

/* ---------------- tests ---------------- */

/* The operator lists, inspects and stops one computation (p4, with a party connected) while the
 * host is full (3 isolates): the party learns why, the room is free for a new deploy, the party
 * of another computation (s1) goes on. */
static void test_admin_operator(const char *p4, int s1, int attestd_port)
{
    char h4[65], ans[8192], cmd[256], buf[16];
    hash_of(p4, h4);
    int s4 = session(h4);
    send_all(s4, "ping", 4);
    CHECK(read_exact(s4, buf, 4) == 0 && memcmp(buf, "ping", 4) == 0);

    admin_cmd("LIST\n", ans, sizeof ans);
    CHECK(strstr(ans, "\nOK ") != NULL);
    json_t *o = listed(ans, h4);
    CHECK(o != NULL);
    if (o) {
        CHECK(strcmp(json_string_value(json_object_get(o, "state")), "ready") == 0);
        CHECK(strcmp(json_string_value(json_object_get(o, "platform")), "process") == 0);
        CHECK(json_integer_value(json_object_get(o, "pid")) > 0);
        /* 64 MiB memory + 2 x 64 MiB filesystem + 64 MiB overhead */
        CHECK(json_integer_value(json_object_get(o, "memory_budget_bytes")) == 256ll << 20);
        CHECK(json_integer_value(json_object_get(o, "rss_bytes")) > 0);
        CHECK(json_integer_value(json_object_get(o, "sessions")) == 1);
        CHECK(json_integer_value(json_object_get(o, "bytes_up")) == 4);
        CHECK(json_integer_value(json_object_get(o, "bytes_down")) == 4);
        CHECK(json_integer_value(json_object_get(o, "age_seconds")) >= 0);
        json_decref(o);
    }
    /* The host is full: a deploy needs the room of one computation. */
    char *roomy = make_policy("roomy", attestd_port, 1280ll << 20), hr[65];
    hash_of(roomy, hr);
    deploy(roomy, ans, sizeof ans);
    CHECK(strncmp(ans, "ERR deploy: host quota: ", 24) == 0);

    test_admin_errors(h4);

    /* The client: list, show, stop, and its exit statuses. */
    CHECK(admin_cli("list", ans, sizeof ans) == 0 && strstr(ans, h4) && !strstr(ans, "OK "));
    snprintf(cmd, sizeof cmd, "show %s", h4);
    CHECK(admin_cli(cmd, ans, sizeof ans) == 0 && strstr(ans, "\"rss_bytes\":"));
    CHECK(admin_cli("show 0000000000", ans, sizeof ans) == 1 &&
          strcmp(ans, "strongbox-host admin: no computation 0000000000 on this host\n") == 0);
    CHECK(admin_cli("frob", ans, sizeof ans) == 2 && strstr(ans, "usage: strongbox-host admin"));
    CHECK(admin_cli("stop", ans, sizeof ans) == 2);
    snprintf(cmd, sizeof cmd, "stop %.16s quota for the demo", h4);
    CHECK(admin_cli(cmd, ans, sizeof ans) == 0 && strstr(ans, "\"state\":\"ended\"") &&
          strstr(ans, "stopped by the operator: quota for the demo"));

    /* Its party's connection ends; asking again it is told why (as STATUS and the log are). */
    CHECK(read(s4, buf, 1) <= 0);
    close(s4);
    snprintf(cmd, sizeof cmd, "STRONGBOX/1 CONNECT %s\n", h4);
    ask(cmd, NULL, 0, ans, sizeof ans);
    char want[200];
    snprintf(want, sizeof want, "ERR computation %s ended: stopped by the operator: quota for "
             "the demo", h4);
    CHECK(strcmp(ans, want) == 0);
    host_status(h4, ans, sizeof ans);
    CHECK(strstr(ans, "\"state\":\"ended\"") && strstr(ans, "stopped by the operator"));
    CHECK(log_contains("admin (uid "));
    /* Killed and reaped: the process is gone (not a zombie). */
    admin_cmd("LIST\n", ans, sizeof ans);
    o = listed(ans, h4);
    CHECK(o && json_integer_value(json_object_get(o, "pid")) == 0 &&
          json_is_null(json_object_get(o, "rss_bytes")));
    json_decref(o);
    snprintf(cmd, sizeof cmd, "STOP %s\n", h4);
    admin_cmd(cmd, ans, sizeof ans);
    CHECK(strncmp(ans, "ERR computation ", 16) == 0 && strstr(ans, "already ended: stopped by "
                                                               "the operator"));
    /* The room is free; the others go on. */
    deploy(roomy, ans, sizeof ans);
    snprintf(want, sizeof want, "OK %s ready", hr);
    CHECK(strcmp(ans, want) == 0);
    send_all(s1, "after-stop", 10);
    CHECK(read_exact(s1, buf, 10) == 0 && memcmp(buf, "after-stop", 10) == 0);
    snprintf(cmd, sizeof cmd, "STOP %s\n", hr); /* no reason given */
    admin_cmd(cmd, ans, sizeof ans);
    CHECK(strstr(ans, "stopped by the operator: no reason given") && strstr(ans, "\nOK 1\n"));
    free(roomy);

    test_admin_access();
}

static void test_preambles(void)
{
    char ans[512];
    ask("HELLO\n", NULL, 0, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad preamble: expected 'STRONGBOX/1 CONNECT|DEPLOY|STATUS|SEALED ...'") == 0);
    ask("STRONGBOX/1 CONNECT 1234\n", NULL, 0, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad preamble: CONNECT needs a policy hash (64 lower-case hex digits)") == 0);
    ask("STRONGBOX/1 CONNECT 00000000000000000000000000000000000000000000000000000000000000ff\n",
        NULL, 0, ans, sizeof ans);
    CHECK(strstr(ans, "ERR no computation 0000") == ans);
    ask("STRONGBOX/1 DEPLOY 0\n", NULL, 0, ans, sizeof ans);
    CHECK(strstr(ans, "ERR bad preamble: DEPLOY needs the policy size in bytes") == ans);
    ask("STRONGBOX/1 DEPLOY 99999999999\n", NULL, 0, ans, sizeof ans);
    CHECK(strstr(ans, "ERR bad preamble: DEPLOY needs the policy size in bytes") == ans);
    ask("STRONGBOX/1 DEPLOY 5\n", "{\"a\":", 5, ans, sizeof ans);
    CHECK(strstr(ans, "ERR deploy: policy refused: ") == ans);
    ask("STRONGBOX/1 FROB x\n", NULL, 0, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad preamble: unknown request 'FROB'") == 0);
    ask("STRONGBOX/1 STATUS zz\n", NULL, 0, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad preamble: STATUS needs a policy hash (64 lower-case hex digits)") == 0);
    /* Not a list of every computation for whoever asks (docs/host.md). */
    ask("STRONGBOX/1 STATUS\n", NULL, 0, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad preamble: STATUS needs a policy hash (64 lower-case hex digits)") == 0);
    char longline[300];
    memset(longline, 'A', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    ask(longline, NULL, 0, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR bad preamble: longer than 128 bytes") == 0);
    int fd = dial();
    send_all(fd, "STRONGBOX/1 ST\0TUS\n", 19);
    read_line(fd, ans, sizeof ans);
    close(fd);
    CHECK(strcmp(ans, "ERR bad preamble: NUL byte") == 0);
}

/* The host was started with --max-connections 12 --max-unauth-per-source 8. Refusals are
 * "ERR busy" lines, never bare closes. */
static void test_limits(void)
{
    char ans[512];
    int held[16], n = 0;
    for (; n < 8; n++)
        held[n] = dial_from(2);
    int fd = dial_from(2);
    read_line(fd, ans, sizeof ans);
    close(fd);
    CHECK(strcmp(ans, "ERR busy: 8 connections from 127.0.0.2 are not yet authenticated (the "
                      "limit per address); try again later") == 0);
    for (; n < 12; n++)
        held[n] = dial_from(3); /* another address still gets in, up to the host's cap */
    /* A busy host (sanitizers, load) may not have taken in all 12 yet: a probe it accepted as an
     * ordinary connection says nothing within 1 s; it is closed (freeing its place) and retried. */
    for (int tries = 0; tries < 50; tries++) {
        fd = dial_from(4);
        struct timeval tv = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        read_line(fd, ans, sizeof ans);
        close(fd);
        if (ans[0])
            break;
        usleep(200000);
    }
    CHECK(strcmp(ans, "ERR busy: the host is at its connection limit (12); try again later") == 0);
    while (n > 0)
        close(held[--n]);
    /* The host notices the closes: a request is answered again (STATUS needs a hash: an unknown
     * one gets "no computation", not "busy"). */
    static const char unknown[] = "STRONGBOX/1 STATUS "
                                  "0000000000000000000000000000000000000000000000000000000000000000\n";
    for (int i = 0; i < 100; i++) {
        ask(unknown, NULL, 0, ans, sizeof ans);
        if (strncmp(ans, "ERR busy", 8) != 0)
            break;
        usleep(20000);
    }
    CHECK(strncmp(ans, "ERR no computation", 18) == 0);
}

static void host_status(const char *hash, char *buf, size_t cap)
{
    char pre[128];
    snprintf(pre, sizeof pre, "STRONGBOX/1 STATUS %s\n", hash);
    ask(pre, NULL, 0, buf, cap);
}

/* Kept sealed results (store.c): the host checks the runtime's keep frames against the policy and
 * their order, drops a partial envelope, stores and serves a whole one. */
static char *keep_policy(const char *name, int attestd_port, bool keep)
{
    char *p = make_policy(name, attestd_port, 64 << 20), *at = strstr(p, "\"shutdown\":{}");
    if (!keep || !at)
        return p;
    char *q = NULL;
    if (asprintf(&q, "%.*s\"shutdown\":{\"keep_sealed\":[\"/out\"]}%s", (int)(at - p), p,
                 at + strlen("\"shutdown\":{}")) < 0)
        exit(1);
    free(p);
    return q;
}

static void keep_case(int attestd_port, char c, bool keep, const char *want)
{
    char name[32], hash[65], ans[512], cmd[8], ended[64];
    snprintf(name, sizeof name, "keep-%c-%d", c, keep);
    char *p = keep_policy(name, attestd_port, keep);
    hash_of(p, hash);
    deploy(p, ans, sizeof ans);
    CHECK(strncmp(ans, "OK ", 3) == 0);
    int s = session(hash);
    snprintf(cmd, sizeof cmd, "KEEP%c", c);
    send_all(s, cmd, 5);
    CHECK(read(s, ans, 1) <= 0);
    close(s);
    snprintf(ended, sizeof ended, "computation %.16s ended", hash);
    wait_for_log(ended);
    wait_for_log(want);
    if (!log_contains(want))
        fprintf(stderr, "KEEP%c: the host log lacks '%s'\n", c, want);
    CHECK(log_contains(want));
    free(p);
}

static void test_keep(int attestd_port)
{
    keep_case(attestd_port, 'E', true, "runtime protocol error: keep-begin before shutdown");
    keep_case(attestd_port, 'R', true, "runtime protocol error: keep-begin for /out/r, identity 99: "
              "not a reader of a file the policy keeps");
    keep_case(attestd_port, 'O', false, "runtime protocol error: keep-begin for /out/r, identity 0: "
              "not a reader of a file the policy keeps"); /* the policy keeps nothing */
    keep_case(attestd_port, 'D', true, "runtime protocol error: keep-data without keep-begin");
    keep_case(attestd_port, 'B', true, "runtime protocol error: keep-data beyond the announced size");
    keep_case(attestd_port, 'I', true, "runtime protocol error: keep-done while an envelope is incomplete");
    keep_case(attestd_port, 'N', true, "runtime protocol error: keep-begin while an envelope is incomplete");
    keep_case(attestd_port, 'C', true, "not kept: the runtime ended after 3 of its 10 bytes");
    /* Nothing of those is in the store: no envelope, no partial file. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test -z \"$(find %s/store -type f)\"", dir);
    CHECK(system(cmd) == 0);
    keep_case(attestd_port, 'O', true, "1 sealed results kept of 1 sent (5 bytes in the store for it)");
    char *p = keep_policy("keep-O-1", attestd_port, true), hash[65], body[200], pre[64], ans[64];
    hash_of(p, hash);
    free(p);
    int n = snprintf(body, sizeof body, "%s alice /out/r", hash);
    snprintf(pre, sizeof pre, "STRONGBOX/1 SEALED %d\n", n);
    int fd = dial();
    send_all(fd, pre, strlen(pre));
    send_all(fd, body, (size_t)n);
    read_line(fd, ans, sizeof ans);
    CHECK(strcmp(ans, "OK 5") == 0);
    char got[8] = {0};
    CHECK(read_exact(fd, got, 5) == 0 && memcmp(got, "hello", 5) == 0 && read(fd, got, 1) == 0);
    close(fd);
    n = snprintf(body, sizeof body, "%s bob /out/r", hash);
    snprintf(pre, sizeof pre, "STRONGBOX/1 SEALED %d\n", n);
    ask(pre, body, (size_t)n, ans, sizeof ans);
    CHECK(strstr(ans, "ERR no sealed result of /out/r for bob kept for computation ") == ans);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_host STRONGBOX_HOST FAKE_RUNTIME [--sanitizer-compat] "
                        "[--no-splice]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "/tmp/sb-host-test-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    /* runtime measurement, host key, party and root certificates */
    uint8_t *rt;
    size_t rt_len;
    sb_err e = {0};
    if (sb_read_file(argv[2], 1u << 28, &rt, &rt_len, &e) != 0)
        return 1;
    unsigned int mlen;
    EVP_Digest(rt, rt_len, runtime_hash, &mlen, EVP_sha256(), NULL);
    free(rt);
    host_key = EVP_EC_gen("P-256");
    EVP_PKEY *party = EVP_EC_gen("P-256"), *rootk = EVP_EC_gen("P-256");
    X509 *pc = test_self_signed("alice", party, 7), *rc = test_self_signed("root", rootk, 7);
    party_pem = test_pem_of_cert(pc);
    root_pem = test_pem_of_cert(rc);
    char keypath[128];
    snprintf(keypath, sizeof keypath, "%s/host.key", dir);
    FILE *kf = fopen(keypath, "w");
    PEM_write_PrivateKey(kf, host_key, NULL, NULL, 0, NULL, NULL);
    fclose(kf);

    struct attestd ad = {0};
    ad.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, &ad,
                            MHD_OPTION_NOTIFY_COMPLETED, done_cb, NULL,
                            MHD_OPTION_END);
    if (!ad.d)
        return 1;
    ad.port = MHD_get_daemon_info(ad.d, MHD_DAEMON_INFO_BIND_PORT)->port;

    char portfile[128], logpath[128], listen[] = "127.0.0.1:0";
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(admin_path, sizeof admin_path, "%s/admin.sock", dir);
    snprintf(host_bin, sizeof host_bin, "%s", argv[1]);
    snprintf(logpath, sizeof logpath, "%s/host.log", dir);
    char store_path[128];
    snprintf(store_path, sizeof store_path, "%s/store", dir);
    pid_t host = fork();
    if (host == 0) {
        char *args[] = {argv[1], "--listen", listen, "--runtime", argv[2], "--attest-key",
                        keypath, "--port-file", portfile, "--log", logpath, "--max-isolates",
                        "3", "--max-memory", "2048", "--isolate-overhead", "64",
                        "--max-connections", "12", "--max-unauth-per-source", "8",
                        "--admin-socket", admin_path, "--sealed-dir", store_path,
                        argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL, NULL};
        execv(argv[1], args);
        _exit(127);
    }
    for (int i = 0; i < 500 && host_port == 0; i++) {
        usleep(10000);
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &host_port) != 1)
                host_port = 0;
            fclose(f);
        }
    }
    CHECK(host_port > 0);

    test_preambles();
    test_limits();

    /* Deploy: idempotent per hash. */
    char *p1 = make_policy("one", ad.port, 64 << 20), h1[65], ans[512], want[128];
    hash_of(p1, h1);
    deploy(p1, ans, sizeof ans);
    snprintf(want, sizeof want, "OK %s ready", h1);
    CHECK(strcmp(ans, want) == 0);
    deploy(p1, ans, sizeof ans);
    CHECK(strcmp(ans, want) == 0);
    CHECK(ad.issued == 1 && ad.bad_evidence == 0);

    /* Relay: echo through two concurrent sessions; 8 MiB exercises the backpressure path. */
    int s1 = session(h1), s2 = session(h1);
    const char secret[] = "distinctive-secret-0xC0FFEE";
    send_all(s1, secret, strlen(secret));
    char buf[64] = {0};
    CHECK(read_exact(s1, buf, strlen(secret)) == 0 && memcmp(buf, secret, strlen(secret)) == 0);
    CHECK(echo_bulk(s2, 8u << 20) == 0);
    CHECK(stalled_session(h1) == 0);
    CHECK(party_leaves_mid_upload(h1) == 0);
    send_all(s2, "BYE", 3); /* runtime-side close: the host closes the connection */
    CHECK(read(s2, buf, 1) == 0);
    close(s2);

    /* A refused attestation fails the deploy with the service's reason. */
    char *p2 = make_policy("refused", ad.port, 64 << 20), h2[65];
    hash_of(p2, h2);
    snprintf(ad.refuse_hash, sizeof ad.refuse_hash, "%s", h2);
    deploy(p2, ans, sizeof ans);
    CHECK(strstr(ans, "ERR computation ") == ans &&
          strstr(ans, "attestation refused (HTTP 403): ") != NULL &&
          strstr(ans, "measurement not accepted (test refusal)") != NULL);

    /* A crashed isolate: its party sees the connection end, the host says why, others go on. */
    char *p3 = make_policy("crash", ad.port, 64 << 20), h3[65];
    hash_of(p3, h3);
    deploy(p3, ans, sizeof ans);
    CHECK(strncmp(ans, "OK ", 3) == 0);
    int s3 = session(h3);
    send_all(s3, "CRASH", 5);
    CHECK(read(s3, buf, 1) <= 0);
    close(s3);
    /* A signal normally; under a sanitizer the crash is reported and becomes exit status 1. */
    wait_for_log("unexpectedly (pid");
    host_status(h3, ans, sizeof ans);
    CHECK(strstr(ans, "\"state\":\"ended\"") && strstr(ans, "unexpectedly (pid"));
    snprintf(want, sizeof want, "STRONGBOX/1 CONNECT %s\n", h3);
    ask(want, NULL, 0, ans, sizeof ans);
    CHECK(strstr(ans, "ERR computation ") == ans && strstr(ans, "ended: isolate ") &&
          strstr(ans, "unexpectedly (pid"));
    send_all(s1, "still-here", 10);
    CHECK(read_exact(s1, buf, 10) == 0 && memcmp(buf, "still-here", 10) == 0);

    test_keep(ad.port);

    /* Quotas: 3 live isolates at most; memory budget 2048 MiB (64 MiB overhead each). */
    char *p4 = make_policy("four", ad.port, 64 << 20), *p5 = make_policy("five", ad.port, 64 << 20);
    char *p6 = make_policy("six", ad.port, 64 << 20);
    char *big = make_policy("big", ad.port, 4096ll << 20);
    deploy(big, ans, sizeof ans);
    CHECK(strstr(ans, "ERR deploy: host quota: memory budget 4288 MiB needed") == ans);
    deploy(p4, ans, sizeof ans);
    CHECK(strncmp(ans, "OK ", 3) == 0);
    deploy(p5, ans, sizeof ans);
    CHECK(strncmp(ans, "OK ", 3) == 0);
    deploy(p6, ans, sizeof ans);
    CHECK(strcmp(ans, "ERR deploy: host quota: 3 isolates already running (the maximum)") == 0);

    /* The runtime ends a computation itself (shutdown rule): the reason is kept. */
    char h5[65];
    hash_of(p5, h5);
    int s5 = session(h5);
    send_all(s5, "SHUTDOWN", 8);
    CHECK(read(s5, buf, 1) <= 0);
    close(s5);
    wait_for_log("shutdown by the runtime: test rule met");
    host_status(h5, ans, sizeof ans);
    CHECK(strstr(ans, "shutdown by the runtime: test rule met (shutting-down)") != NULL);
    deploy(p6, ans, sizeof ans); /* a slot is free again */
    CHECK(strncmp(ans, "OK ", 3) == 0);

    test_admin_operator(p4, s1, ad.port);
    test_admin_busy();
    test_admin_startup(argv[2], keypath);

    /* The log has metadata only: never the bytes relayed. */
    CHECK(log_contains("session 1 of computation"));
    CHECK(!log_contains(secret));
    close(s1);

    /* Graceful stop: every isolate is told to stop; the host exits 0. */
    kill(host, SIGTERM);
    int st = -1;
    for (int i = 0; i < 1500 && waitpid(host, &st, WNOHANG) == 0; i++)
        usleep(10000);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(log_contains("strongbox-host info: stopped"));
    if (!WIFEXITED(st))
        kill(host, SIGKILL);

    MHD_stop_daemon(ad.d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (failures) {
        fprintf(stderr, "%d check(s) failed; host log kept in %s/host.log\n", failures, dir);
        return 1;
    }
    if (system(cmd) != 0)
        return 1;
    free(p1);
    free(p2);
    free(p3);
    free(p4);
    free(p5);
    free(p6);
    free(big);
    free(party_pem);
    free(root_pem);
    X509_free(pc);
    X509_free(rc);
    EVP_PKEY_free(party);
    EVP_PKEY_free(rootk);
    EVP_PKEY_free(host_key);
    printf("test_host: all checks passed\n");
    return 0;
}
