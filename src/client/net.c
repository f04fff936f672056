/* net.c - the plaintext part of talking to a host: TCP, preamble, deploy, host status. */
#include "client/client_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PREAMBLE_MAGIC "STRONGBOX/1"

/* A peer that closed its end makes write() raise SIGPIPE, which would kill the application. The
 * library must not change process-wide signal handling, so SIGPIPE is blocked in this thread
 * while writing and a SIGPIPE raised meanwhile is consumed (the write fails with EPIPE instead). */
void cl_sigpipe_block(cl_sigpipe_guard *g)
{
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

void cl_sigpipe_restore(cl_sigpipe_guard *g)
{
    int saved = errno;
    if (!g->was_pending) {
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
    errno = saved;
}

int cl_fail(strongbox_error *err, strongbox_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->remote_status = 0;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int cl_load_policy(const strongbox_options *opts, sb_policy **out, char *host, size_t host_len,
                   strongbox_error *err)
{
    if (!opts || !opts->policy_path)
        return cl_fail(err, STRONGBOX_E_USAGE, "no policy file given");
    sb_err e = {0};
    time_t at = opts->verify_at ? opts->verify_at : time(NULL);
    if (sb_policy_load(opts->policy_path, at, 0, out, &e) != 0)
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s: %s", opts->policy_path, e.msg);
    const char *h = opts->host ? opts->host : sb_policy_host(*out);
    if (!h || !h[0] || strlen(h) >= host_len) {
        sb_policy_free(*out);
        *out = NULL;
        return cl_fail(err, STRONGBOX_E_USAGE, "no usable host address (give --host HOST:PORT)");
    }
    snprintf(host, host_len, "%s", h);
    return 0;
}

static int split_hostport(const char *hp, char *host, size_t hlen, char *port, size_t plen)
{
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp || !colon[1] || strlen(colon + 1) >= plen)
        return -1;
    const char *start = hp, *end = colon;
    if (*start == '[' && end[-1] == ']') {
        start++;
        end--;
    }
    if ((size_t)(end - start) >= hlen)
        return -1;
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    snprintf(port, plen, "%s", colon + 1);
    return 0;
}

static int connect_timeout(int fd, const struct addrinfo *ai, int timeout_ms)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        rc = poll(&p, 1, timeout_ms);
        if (rc == 0) {
            errno = ETIMEDOUT;
            rc = -1;
        } else if (rc > 0) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            errno = soerr;
            rc = soerr ? -1 : 0;
        }
    }
    int saved = errno;
    fcntl(fd, F_SETFL, fl);
    errno = saved;
    return rc;
}

int cl_dial(const char *hostport, int timeout_ms, int *out, strongbox_error *err)
{
    char host[256], port[16];
    if (split_hostport(hostport, host, sizeof host, port, sizeof port) != 0)
        return cl_fail(err, STRONGBOX_E_USAGE, "host address '%s': expected HOST:PORT", hostport);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return cl_fail(err, STRONGBOX_E_NETWORK, "host %s: %s", hostport, gai_strerror(rc));
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect_timeout(fd, ai, timeout_ms) == 0)
            break;
        e = errno;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return cl_fail(err, STRONGBOX_E_NETWORK, "cannot connect to host %s: %s", hostport,
                       strerror(e));
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out = fd;
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one '\n'-terminated line (without it). */
static int read_line(int fd, char *line, size_t cap, strongbox_error *err)
{
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return cl_fail(err, STRONGBOX_E_NETWORK, "host did not answer in time");
        if (r <= 0)
            return cl_fail(err, STRONGBOX_E_NETWORK, "host closed the connection without an answer");
        if (ch == '\n')
            break;
        if (n + 1 >= cap)
            return cl_fail(err, STRONGBOX_E_PROTOCOL, "host answer line too long");
        line[n++] = ch;
    }
    line[n] = '\0';
    /* Shown to the user: keep it printable. */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    return 0;
}

/* The host's refusal of a CONNECT (docs/host.md), told in the party's terms. A computation that
 * ended is STRONGBOX_E_ENDED (exit 5). An unknown hash usually means the party's copy of the policy
 * differs from the one the others deployed (one edited field changes the hash): deploying it would
 * start a second, separate computation, so that is not what we suggest first. */
static int host_refusal(const char *why, strongbox_error *err)
{
    char hash[65];
    if (sscanf(why, "computation %64[0-9a-f] ended: ", hash) == 1)
        return cl_fail(err, STRONGBOX_E_ENDED, "the computation has ended; the host reports "
                       "(unauthenticated): %s", why);
    if (sscanf(why, "no computation %64[0-9a-f]", hash) == 1 && strlen(hash) == 64)
        return cl_fail(err, STRONGBOX_E_HOST,
                       "no computation with this policy's hash (%.16s...) runs on the host: your "
                       "copy of the policy may differ from the other parties' (compare `strongbox "
                       "policy hash` with them); only if nobody started it yet, deploy it", hash);
    return cl_fail(err, STRONGBOX_E_HOST, "host refused: %s", why);
}

int cl_preamble(int fd, const char *line, char *reply, size_t reply_len, strongbox_error *err)
{
    if (write_all(fd, line, strlen(line)) != 0)
        return cl_fail(err, STRONGBOX_E_NETWORK, "cannot send to host: %s", strerror(errno));
    if (read_line(fd, reply, reply_len, err) != 0)
        return -1;
    if (strncmp(reply, "OK", 2) == 0 && (reply[2] == '\0' || reply[2] == ' '))
        return 0;
    if (strncmp(reply, "ERR ", 4) == 0)
        return host_refusal(reply + 4, err);
    return cl_fail(err, STRONGBOX_E_PROTOCOL, "unexpected answer from host: '%.200s'", reply);
}

void cl_host_reason(const char *hostport, const char *hash_hex, int timeout_ms, char *why,
                    size_t why_len)
{
    why[0] = '\0';
    int fd;
    if (cl_dial(hostport, timeout_ms, &fd, NULL) != 0)
        return;
    char line[128], reply[1024];
    snprintf(line, sizeof line, PREAMBLE_MAGIC " STATUS %s\n", hash_hex);
    if (write_all(fd, line, strlen(line)) == 0 && read_line(fd, reply, sizeof reply, NULL) == 0) {
        /* The first line is the JSON record (or an ERR); pick out state and reason. */
        char *st = strstr(reply, "\"state\":\""), *rs = strstr(reply, "\"reason\":\"");
        if (st && rs) {
            st += 9;
            rs += 10;
            char *st_end = strchr(st, '"'), *rs_end = strchr(rs, '"');
            if (st_end && rs_end)
                snprintf(why, why_len, "%.*s: %.*s", (int)(st_end - st), st, (int)(rs_end - rs),
                         rs);
        } else if (strncmp(reply, "ERR ", 4) == 0) {
            snprintf(why, why_len, "%s", reply + 4);
        }
    }
    close(fd);
}

int strongbox_deploy(const strongbox_options *opts, char hash_hex[65], strongbox_error *err)
{
    return cl_deploy(opts, hash_hex, NULL, err);
}

/* The host's "ready" is only its word: the isolate is verified before deploy reports success. */
int cl_deploy(const strongbox_options *opts, char hash_hex[65], char **transcript,
              strongbox_error *err)
{
    if (transcript)
        *transcript = NULL;
    sb_policy *p;
    char host[300];
    if (cl_load_policy(opts, &p, host, sizeof host, err) != 0)
        return -1;
    uint8_t *json;
    size_t len;
    sb_err e = {0};
    if (sb_read_file(opts->policy_path, SB_POLICY_MAX_BYTES, &json, &len, &e) != 0) {
        sb_policy_free(p);
        return cl_fail(err, STRONGBOX_E_LOCAL, "%s", e.msg);
    }
    snprintf(hash_hex, 65, "%s", sb_policy_hash_hex(p));
    int ready_ms = opts->ready_timeout_ms ? opts->ready_timeout_ms : 60000;
    int fd, rc = -1;
    if (cl_dial(host, ready_ms, &fd, err) == 0) {
        char line[64], reply[600];
        snprintf(line, sizeof line, PREAMBLE_MAGIC " DEPLOY %zu\n", len);
        if (write_all(fd, line, strlen(line)) != 0 || write_all(fd, json, len) != 0) {
            cl_fail(err, STRONGBOX_E_NETWORK, "cannot send the policy to %s: %s", host,
                    strerror(errno));
        } else if (read_line(fd, reply, sizeof reply, err) == 0) {
            char want[80];
            snprintf(want, sizeof want, "OK %s ready", hash_hex);
            if (strcmp(reply, want) == 0)
                rc = 0;
            else if (strncmp(reply, "ERR ", 4) == 0)
                cl_fail(err, STRONGBOX_E_HOST, "host refused: %s", reply + 4);
            else
                cl_fail(err, STRONGBOX_E_PROTOCOL, "unexpected answer from host: '%.200s'", reply);
        }
        close(fd);
    }
    free(json);
    sb_policy_free(p);
    return rc == 0 ? cl_verify_isolate(opts, transcript, err) : rc;
}

int strongbox_host_status(const strongbox_options *opts, const char *hash_hex, char **text,
                          strongbox_error *err)
{
    *text = NULL;
    char host[300], own_hash[65];
    if (!hash_hex && !opts->policy_path)
        return cl_fail(err, STRONGBOX_E_USAGE, "host status needs a policy or a policy hash");
    if (opts->host && hash_hex) {
        snprintf(host, sizeof host, "%s", opts->host);
    } else {
        sb_policy *p;
        if (cl_load_policy(opts, &p, host, sizeof host, err) != 0)
            return -1;
        snprintf(own_hash, sizeof own_hash, "%s", sb_policy_hash_hex(p));
        sb_policy_free(p);
        if (!hash_hex)
            hash_hex = own_hash;
    }
    int fd;
    int timeout = opts->timeout_ms ? opts->timeout_ms : 30000;
    if (cl_dial(host, timeout, &fd, err) != 0)
        return -1;
    char line[128];
    snprintf(line, sizeof line, PREAMBLE_MAGIC " STATUS %s\n", hash_hex);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    int rc = -1;
    if (!out) {
        close(fd);
        return cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
    }
    if (write_all(fd, line, strlen(line)) != 0) {
        cl_fail(err, STRONGBOX_E_NETWORK, "cannot send to host: %s", strerror(errno));
        goto out;
    }
    for (;;) { /* JSON lines, then "OK n" or "ERR ..." */
        char l[1024];
        if (read_line(fd, l, sizeof l, err) != 0)
            goto out;
        if (strncmp(l, "ERR ", 4) == 0) {
            cl_fail(err, STRONGBOX_E_HOST, "host refused: %s", l + 4);
            goto out;
        }
        if (strncmp(l, "OK", 2) == 0)
            break;
        size_t n = strlen(l);
        if (len + n + 2 > cap) {
            if (cap > (1u << 24)) {
                cl_fail(err, STRONGBOX_E_PROTOCOL, "host status too long");
                goto out;
            }
            char *bigger = realloc(out, cap * 2);
            if (!bigger) {
                cl_fail(err, STRONGBOX_E_LOCAL, "out of memory");
                goto out;
            }
            out = bigger;
            cap *= 2;
        }
        memcpy(out + len, l, n);
        len += n;
        out[len++] = '\n';
    }
    out[len] = '\0';
    *text = out;
    out = NULL;
    rc = 0;
out:
    free(out);
    close(fd);
    return rc;
}
