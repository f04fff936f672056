/* hostile - plays the parties of issue 14's attacks against a real strongbox-host on loopback.
 *
 *   hostile idle PORT HASH N SRC_FIRST SRC_COUNT
 *       Opens N connections from the source addresses 127.0.0.SRC_FIRST .. +SRC_COUNT-1 (in turn:
 *       every 127/8 address is local, so per-address limits see SRC_COUNT peers), sends
 *       "STRONGBOX/1 CONNECT HASH" on each and then nothing. Prints one line once every
 *       connection has its answer, "ok A busy B closed C other D" (ERR busy lines, connections
 *       closed without a line), then holds them all until killed.
 *   hostile hello PORT HASH N SRC_FIRST SRC_COUNT
 *       The same, but each connection answered OK then sends a TLS ClientHello and nothing more
 *       (a handshake left hanging: it holds one of the isolate's handshake slots).
 *   hostile noread PORT HASH KEY CERT PATH HOLD_S
 *       As the party whose key and certificate are given: CONNECT, TLS 1.3 (the isolate is not
 *       verified: this is the attacker), one get request for PATH, then it reads nothing for
 *       HOLD_S seconds. Then it reads until the session ends and prints "read N bytes, then E"
 *       (E: "eof" when the connection was closed, "idle" when nothing came for 5 s).
 * Exit status 0 unless the tool itself could not run (bad arguments, no connection). */
#include "proto/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int dial(int port, int src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in b = {.sin_family = AF_INET}, a = {.sin_family = AF_INET};
    b.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)src - 1);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (fd < 0 || (src > 0 && bind(fd, (struct sockaddr *)&b, sizeof b) != 0) ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("hostile: connect");
        exit(1);
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_line(int fd, const char *line)
{
    if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        perror("hostile: write");
        exit(1);
    }
}

/* The answer line (without '\n'); "" when the connection closed or timed out first. */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char c;
    while (n + 1 < cap && read(fd, &c, 1) == 1 && c != '\n')
        buf[n++] = c;
    buf[n] = '\0';
}

/* Sends a ClientHello on fd and leaves the handshake hanging (made over memory BIOs: whatever the
 * isolate answers is never read). */
static void hello(int fd)
{
    static SSL_CTX *ctx;
    if (!ctx)
        ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    static char buf[16384];
    int n = -1;
    if (ssl && rb && wb) {
        SSL_set_bio(ssl, rb, wb);
        SSL_connect(ssl); /* wants the server's answer: the ClientHello is in wb */
        n = BIO_read(wb, buf, sizeof buf);
    }
    if (n <= 0 || write(fd, buf, (size_t)n) != n) {
        fprintf(stderr, "hostile: ClientHello not sent\n");
        exit(1);
    }
    SSL_free(ssl);
    ERR_clear_error();
}

static int idle(int port, const char *hash, int n, int first, int count, bool send_hello)
{
    int *fds = calloc((size_t)n, sizeof *fds), ok = 0, busy = 0, closed = 0, other = 0;
    char line[128], ans[512];
    snprintf(line, sizeof line, "STRONGBOX/1 CONNECT %s\n", hash);
    for (int i = 0; i < n; i++) {
        fds[i] = dial(port, first + i % count);
        send_line(fds[i], line);
    }
    for (int i = 0; i < n; i++) {
        read_line(fds[i], ans, sizeof ans);
        ok += strncmp(ans, "OK ", 3) == 0;
        busy += strncmp(ans, "ERR busy: ", 10) == 0;
        closed += ans[0] == '\0';
        other += ans[0] && strncmp(ans, "OK ", 3) != 0 && strncmp(ans, "ERR busy: ", 10) != 0;
        if (send_hello && strncmp(ans, "OK ", 3) == 0)
            hello(fds[i]);
    }
    printf("ok %d busy %d closed %d other %d\n", ok, busy, closed, other);
    fflush(stdout);
    for (;;)
        pause(); /* hold them until killed */
    return 0;
}

static int noread(int port, const char *hash, const char *key, const char *cert, const char *path,
                  int hold)
{
    int fd = dial(port, 0);
    char line[128], ans[512];
    snprintf(line, sizeof line, "STRONGBOX/1 CONNECT %s\n", hash);
    send_line(fd, line);
    read_line(fd, ans, sizeof ans);
    if (strncmp(ans, "OK ", 3) != 0) {
        fprintf(stderr, "hostile: host answered '%s'\n", ans);
        return 1;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL *ssl = NULL;
    if (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || !(ssl = SSL_new(ctx)) ||
        SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
        fprintf(stderr, "hostile: TLS handshake failed\n");
        return 1;
    }
    sb_msg m;
    sb_msg_init(&m, SB_MSG_GET);
    m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH);
    m.id = 1;
    m.path = path;
    uint8_t *frame;
    size_t len;
    sb_err err;
    if (sb_msg_encode(&m, &frame, &len, &err) != 0 || SSL_write(ssl, frame, (int)len) != (int)len) {
        fprintf(stderr, "hostile: sending the get failed\n");
        return 1;
    }
    free(frame);
    printf("get sent\n");
    fflush(stdout);
    sleep((unsigned)hold); /* reads nothing */
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static uint8_t buf[1 << 16];
    unsigned long long total = 0;
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0)
        total += (unsigned)n;
    int e = SSL_get_error(ssl, n); /* the receive timeout shows as WANT_READ or EAGAIN */
    bool idle = e == SSL_ERROR_WANT_READ ||
                (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK));
    printf("read %llu bytes, then %s\n", total, idle ? "idle" : "eof");
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 7 && (strcmp(argv[1], "idle") == 0 || strcmp(argv[1], "hello") == 0))
        return idle(atoi(argv[2]), argv[3], atoi(argv[4]), atoi(argv[5]), atoi(argv[6]),
                    strcmp(argv[1], "hello") == 0);
    if (argc == 8 && strcmp(argv[1], "noread") == 0)
        return noread(atoi(argv[2]), argv[3], argv[4], argv[5], argv[6], atoi(argv[7]));
    fprintf(stderr, "usage: hostile idle|hello PORT HASH N SRC_FIRST SRC_COUNT\n"
                    "       hostile noread PORT HASH KEY CERT PATH HOLD_S\n");
    return 2;
}
