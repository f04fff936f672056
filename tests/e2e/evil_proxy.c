/* evil_proxy - a malicious (or just curious) host in front of the real one, for the e2e tests.
 * Serves ONE connection on 127.0.0.1 (port written to PORTFILE), then exits.
 *
 *   evil_proxy PORTFILE UPSTREAM_PORT rewrite HASH   replace the policy hash in the party's
 *                                                    preamble: route it to another computation
 *   evil_proxy PORTFILE UPSTREAM_PORT record FILE    relay, saving the server->party bytes after
 *                                                    the preamble answer (a TLS server flight)
 *   evil_proxy PORTFILE 0 replay FILE                answer "OK <hash>" and replay a saved flight
 *   evil_proxy PORTFILE UPSTREAM_PORT capture FILE   relay, appending every byte both ways */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_any(const char *portfile)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1) ||
        getsockname(fd, (struct sockaddr *)&a, &l))
        exit(1);
    FILE *f = fopen(portfile, "w");
    fprintf(f, "%d\n", ntohs(a.sin_port));
    fclose(f);
    return fd;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        exit(1);
    return fd;
}

static int read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        if (read(fd, buf + n, 1) != 1)
            return -1;
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
    return (int)n;
}

static void put(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

/* Relays until either side closes; `save` gets server->party bytes, `cap` everything. */
static void relay(int party, int up, FILE *save, FILE *cap)
{
    char buf[65536];
    for (;;) {
        struct pollfd p[2] = {{party, POLLIN, 0}, {up, POLLIN, 0}};
        if (poll(p, 2, 60000) <= 0)
            return;
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0)
                return;
            put(i == 0 ? up : party, buf, (size_t)n);
            if (save && i == 1)
                fwrite(buf, 1, (size_t)n, save);
            if (cap)
                fwrite(buf, 1, (size_t)n, cap);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    int lfd = listen_any(argv[1]);
    int party = accept(lfd, NULL, NULL);
    char line[256];
    if (read_line(party, line, sizeof line) < 0)
        return 1;
    const char *mode = argv[3];
    if (strcmp(mode, "replay") == 0) {
        FILE *f = fopen(argv[4], "rb");
        char hash[65] = "";
        sscanf(line, "STRONGBOX/1 CONNECT %64s", hash);
        dprintf(party, "OK %s\n", hash);
        char buf[65536];
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        char hello[4096];
        if (read(party, hello, sizeof hello) <= 0) /* the party's fresh ClientHello */
            return 1;
        put(party, buf, n);
        sleep(1);
        return 0;
    }
    int up = dial(atoi(argv[2]));
    if (strcmp(mode, "rewrite") == 0)
        snprintf(line, sizeof line, "STRONGBOX/1 CONNECT %s\n", argv[4]);
    put(up, line, strlen(line));
    char answer[256];
    if (read_line(up, answer, sizeof answer) < 0)
        return 1;
    put(party, answer, strlen(answer));
    FILE *save = strcmp(mode, "record") == 0 ? fopen(argv[4], "wb") : NULL;
    FILE *cap = strcmp(mode, "capture") == 0 ? fopen(argv[4], "ab") : NULL;
    relay(party, up, save, cap);
    if (save)
        fclose(save);
    if (cap)
        fclose(cap);
    return 0;
}
