/* client.c - a small bounded HTTP/1.1 client for the strongbox-attestd API.
 *
 * One request per connection ("Connection: close") unless the caller lends a connection slot
 * (c->keepalive): then HTTP/1.1 keep-alive, the response delimited by its Content-Length.
 * poll()-based timeouts on connect, send and receive, responses capped at 1 MiB, only the status
 * line, Content-Length and "Connection: close" are interpreted. */
#include "attest/attest.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_RESPONSE (1u << 20)
#define MAX_REQUEST_BODY (1u << 20)

int sb_attestd_client_init(sb_attestd_client *c, const char *url, sb_err *err)
{
    memset(c, 0, sizeof *c);
    c->timeout_ms = 10000;
    if (!url || strncmp(url, "http://", 7) != 0)
        return sb_err_set(err, 1, "attestd url '%s' must start with http://", url ? url : "");
    const char *h = url + 7;
    const char *colon = strrchr(h, ':');
    const char *slash = strchr(h, '/');
    if (slash && slash[1] != 0)
        return sb_err_set(err, 1, "attestd url must not have a path");
    size_t hlen = colon ? (size_t)(colon - h) : strcspn(h, "/");
    size_t plen = colon ? strcspn(colon + 1, "/") : 2;
    if (hlen == 0 || hlen >= sizeof c->host || plen == 0 || plen >= sizeof c->port)
        return sb_err_set(err, 1, "attestd url '%s': bad host or port", url);
    memcpy(c->host, h, hlen);
    if (colon) {
        memcpy(c->port, colon + 1, plen);
        for (size_t i = 0; i < plen; i++)
            if (c->port[i] < '0' || c->port[i] > '9')
                return sb_err_set(err, 1, "attestd url '%s': bad port", url);
    } else {
        memcpy(c->port, "80", 3);
    }
    return 0;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r == 1 ? 0 : -1;
}

static int connect_to(const sb_attestd_client *c, sb_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(c->host, c->port, &hints, &res);
    if (gai != 0)
        return sb_err_set(err, 1, "attestd: cannot resolve %s: %s", c->host, gai_strerror(gai));
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        /* No Nagle delay: a kept-alive connection's next request must not wait for an ACK. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (r < 0 && errno == EINPROGRESS && wait_fd(fd, POLLOUT, c->timeout_ms) == 0 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            r = 0;
        if (r < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return sb_err_set(err, 1, "attestd: cannot connect to %s:%s", c->host, c->port);
    return fd;
}

static int send_all(int fd, const char *p, size_t n, int more, int timeout_ms)
{
    while (n > 0) {
        if (wait_fd(fd, POLLOUT, timeout_ms) < 0)
            return -1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Keep-alive: the total response length once the headers are in (headers + Content-Length),
 * 0 while unknown. A response without Content-Length ends at EOF. */
static size_t response_total(const char *buf, size_t len)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    for (const char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0) {
            unsigned long cl = strtoul(l + 17, NULL, 10);
            return cl < MAX_RESPONSE ? (size_t)(end + 4 - buf) + cl : MAX_RESPONSE;
        }
    return 0;
}

/* Reads until EOF (Connection: close) or, with keep != 0, until the Content-Length is in;
 * bounded. */
static int recv_all(int fd, int keep, char **out, size_t *out_len, int timeout_ms, sb_err *err)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return sb_err_set(err, 1, "out of memory");
    for (;;) {
        if (wait_fd(fd, POLLIN, timeout_ms) < 0) {
            free(buf);
            return sb_err_set(err, 1, "attestd: timed out waiting for the response");
        }
        if (len + 1 >= cap) {
            if (cap >= MAX_RESPONSE) {
                free(buf);
                return sb_err_set(err, 1, "attestd: response larger than %u bytes", MAX_RESPONSE);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return sb_err_set(err, 1, "out of memory");
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0) {
            free(buf);
            return sb_err_set(err, 1, "attestd: receive failed: %s", strerror(errno));
        }
        if (r == 0)
            break;
        len += (size_t)r;
        buf[len] = 0;
        size_t total = keep ? response_total(buf, len) : 0;
        if (total && len >= total)
            break;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    return 0;
}

/* Splits a raw response into status and body (Content-Length honoured when present). */
static int parse_response(char *raw, size_t len, int *status, char **body, size_t *body_len,
                          sb_err *err)
{
    int st = 0;
    if (len < 12 || sscanf(raw, "HTTP/1.%*1[01] %3d", &st) != 1 || st < 100 || st > 599)
        return sb_err_set(err, 1, "attestd: malformed response status line");
    char *hdr_end = strstr(raw, "\r\n\r\n");
    if (!hdr_end)
        return sb_err_set(err, 1, "attestd: response headers not terminated");
    char *b = hdr_end + 4;
    size_t blen = len - (size_t)(b - raw);
    for (char *line = strstr(raw, "\r\n"); line && line < hdr_end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) {
            unsigned long cl = strtoul(line + 17, NULL, 10);
            if (cl > blen)
                return sb_err_set(err, 1, "attestd: response truncated");
            blen = cl;
        }
    }
    char *copy = malloc(blen + 1);
    if (!copy)
        return sb_err_set(err, 1, "out of memory");
    memcpy(copy, b, blen);
    copy[blen] = 0;
    *status = st;
    *body = copy;
    *body_len = blen;
    return 0;
}

/* Whether the response headers (up to the blank line) contain `h`, case-insensitive. */
static int strcasestr_header(const char *raw, const char *h)
{
    const char *end = strstr(raw, "\r\n\r\n");
    const char *p = strcasestr(raw, h);
    return p && end && p < end;
}

int sb_attestd_request(const sb_attestd_client *c, const char *method, const char *path,
                       const char *json_body, int *status, char **resp, size_t *resp_len,
                       sb_err *err)
{
    *resp = NULL;
    size_t blen = json_body ? strlen(json_body) : 0;
    if (blen > MAX_REQUEST_BODY)
        return sb_err_set(err, 1, "attestd: request body too large");
    char auth[128] = "";
    if (c->admin_token[0])
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", c->admin_token);
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: %s\r\n%s"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      method, path, c->host, c->port, c->keepalive ? "keep-alive" : "close",
                      auth, blen);
    if (hn < 0 || (size_t)hn >= sizeof head)
        return sb_err_set(err, 1, "attestd: request line too long");
    int reused = c->keepalive && *c->keepalive >= 0;
    int fd = reused ? *c->keepalive : connect_to(c, err);
    if (fd < 0)
        return -1;
    char *raw = NULL;
    size_t raw_len = 0;
    int rc = -1, sent = send_all(fd, head, (size_t)hn, blen > 0, c->timeout_ms) == 0 &&
                        (!blen || send_all(fd, json_body, blen, 0, c->timeout_ms) == 0);
    if (!sent)
        sb_err_set(err, 1, "attestd: sending the request failed");
    else if (recv_all(fd, c->keepalive != NULL, &raw, &raw_len, c->timeout_ms, err) == 0)
        rc = raw_len == 0 && reused ? sb_err_set(err, 1, "attestd: connection closed")
                                    : parse_response(raw, raw_len, status, resp, resp_len, err);
    int keep = rc == 0 && c->keepalive && !strcasestr_header(raw, "Connection: close");
    free(raw);
    if (!keep) {
        close(fd);
        fd = -1;
    }
    if (c->keepalive)
        *c->keepalive = fd;
    /* A kept connection the service closed while idle: once more on a fresh one. Only when
     * nothing came back, so the service never answered this request. */
    if (rc < 0 && reused && raw_len == 0)
        return sb_attestd_request(c, method, path, json_body, status, resp, resp_len, err);
    return rc;
}

/* Turns a non-2xx JSON error body into err: "<reason>: <detail>". */
static int service_error(int status, const char *body, sb_err *err)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *reason = j ? json_string_value(json_object_get(j, "error")) : NULL;
    const char *detail = j ? json_string_value(json_object_get(j, "detail")) : NULL;
    if (reason)
        sb_err_set(err, status, "%s%s%s", reason, detail && detail[0] ? ": " : "",
                   detail ? detail : "");
    else
        sb_err_set(err, status, "attestd: HTTP %d", status);
    json_decref(j);
    return -1;
}

/* Sends a request and parses a JSON object response (2xx), or turns a refusal into err. */
static json_t *call_json(const sb_attestd_client *c, const char *method, const char *path,
                         const char *body, int *http_status, sb_err *err)
{
    int status = 0;
    char *resp = NULL;
    size_t rlen;
    if (sb_attestd_request(c, method, path, body, &status, &resp, &rlen, err) < 0)
        return NULL;
    if (http_status)
        *http_status = status;
    json_t *j = NULL;
    if (status / 100 != 2)
        service_error(status, resp, err);
    else if (!(j = json_loadb(resp, rlen, 0, NULL)) || !json_is_object(j)) {
        json_decref(j);
        j = NULL;
        sb_err_set(err, 1, "attestd: response is not a JSON object");
    }
    free(resp);
    return j;
}

int sb_attestd_challenge(const sb_attestd_client *c, uint8_t nonce[SB_NONCE_LEN], time_t *expires,
                         sb_err *err)
{
    json_t *j = call_json(c, "POST", "/v1/challenge", "{}", NULL, err);
    if (!j)
        return -1;
    const char *n = json_string_value(json_object_get(j, "nonce"));
    const char *e = json_string_value(json_object_get(j, "expires"));
    int rc = 0;
    if (!n || strlen(n) != 2 * SB_NONCE_LEN || sb_hex_decode(n, nonce, SB_NONCE_LEN) < 0 ||
        (expires && (!e || sb_time_parse(e, expires) < 0)))
        rc = sb_err_set(err, 1, "attestd: malformed challenge response");
    json_decref(j);
    return rc;
}

int sb_attestd_attest(const sb_attestd_client *c, const char *platform, const uint8_t *evidence,
                      size_t evidence_len, const char *csr_pem,
                      const uint8_t policy_hash[SB_POLICY_HASH_LEN],
                      const uint8_t nonce[SB_NONCE_LEN], char **chain_pem, int *http_status,
                      sb_err *err)
{
    *chain_pem = NULL;
    char ph[65], nh[65];
    sb_hex_encode(policy_hash, SB_POLICY_HASH_LEN, ph);
    sb_hex_encode(nonce, SB_NONCE_LEN, nh);
    char *ev = sb_base64_encode(evidence, evidence_len);
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "platform", platform, "evidence",
                            ev ? ev : "", "csr", csr_pem, "policy_hash", ph, "nonce", nh);
    free(ev);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return sb_err_set(err, 1, "attestd: cannot build the request");
    json_t *j = call_json(c, "POST", "/v1/attest", body, http_status, err);
    free(body);
    if (!j)
        return -1;
    const char *chain = json_string_value(json_object_get(j, "chain"));
    int rc = chain ? 0 : sb_err_set(err, 1, "attestd: response has no chain");
    if (chain && !(*chain_pem = strdup(chain)))
        rc = sb_err_set(err, 1, "out of memory");
    json_decref(j);
    return rc;
}

int sb_attestd_root(const sb_attestd_client *c, char **root_pem, sb_err *err)
{
    int status = 0;
    size_t len;
    *root_pem = NULL;
    char *resp = NULL;
    if (sb_attestd_request(c, "GET", "/v1/root", NULL, &status, &resp, &len, err) < 0)
        return -1;
    if (status != 200 || !strstr(resp, "-----BEGIN CERTIFICATE-----")) {
        free(resp);
        return sb_err_set(err, 1, "attestd: root certificate not available (HTTP %d)", status);
    }
    *root_pem = resp;
    return 0;
}
