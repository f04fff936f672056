/* http.c - the HTTP front of strongbox-attestd on libmicrohttpd: routing, bounded bodies. */
#include "attestd/attestd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sb_attestd {
    sb_service *svc;
    struct MHD_Daemon *mhd;
    int listen_fd;
    unsigned port;
};

/* Per-request state: the body collected so far. */
typedef struct request {
    char *body;
    size_t len, cap;
    int too_large;
    int answered;
} request;

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
                                 char *text)
{
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return send_text(c, status, "application/json", text);
}

static enum MHD_Result send_refusal(struct MHD_Connection *c, const sb_refusal *r)
{
    return send_json(c, (unsigned)r->status,
                     json_pack("{s:s, s:s}", "error", r->reason, "detail", r->detail));
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *reason,
                                  const char *detail)
{
    sb_refusal r = {.status = status};
    snprintf(r.reason, sizeof r.reason, "%s", reason);
    snprintf(r.detail, sizeof r.detail, "%.250s", detail);
    return send_refusal(c, &r);
}

static void peer_of(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "?");
    if (ci && ci->client_addr)
        getnameinfo(ci->client_addr,
                    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in),
                    out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
}

static enum MHD_Result do_challenge(sb_attestd *d, struct MHD_Connection *c)
{
    uint8_t nonce[SB_NONCE_LEN];
    time_t expires;
    sb_refusal r = {0};
    if (sb_service_challenge(d->svc, nonce, &expires, &r) < 0)
        return send_refusal(c, &r);
    char hex[2 * SB_NONCE_LEN + 1], when[32];
    sb_hex_encode(nonce, SB_NONCE_LEN, hex);
    sb_time_format(expires, when, sizeof when);
    return send_json(c, 200, json_pack("{s:s, s:s}", "nonce", hex, "expires", when));
}

static enum MHD_Result do_attest(sb_attestd *d, struct MHD_Connection *c, const request *rq)
{
    sb_attest_req req;
    sb_err e = {0};
    char peer[64];
    peer_of(c, peer, sizeof peer);
    if (sb_attestd_parse_attest(rq->body ? rq->body : "", rq->len, &req, &e) < 0) {
        sb_refusal r = {.status = 400, .reason = "malformed request"};
        snprintf(r.detail, sizeof r.detail, "%.250s", e.msg);
        sb_service_record_refusal(d->svc, NULL, &r, peer);
        return send_refusal(c, &r);
    }
    char *chain = NULL;
    sb_refusal r = {0};
    int rc = sb_service_attest(d->svc, &req, peer, &chain, &r);
    sb_attest_req_free(&req);
    if (rc < 0)
        return send_refusal(c, &r);
    json_t *j = json_pack("{s:s}", "chain", chain);
    free(chain);
    return send_json(c, 200, j);
}

/* The query parameters of a request: only `limit` exists (admin listings); anything else, a
 * second `limit` or one with a NUL byte in it is refused with `problem` set. */
typedef struct query {
    const char *limit;
    int n_limit;
    char problem[96];
} query;

/* `s` (n bytes) as printable ASCII, cut short, for an error message. */
static void shown(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (; s && k < n && k + 4 < cap; k++)
        out[k] = s[k] > 0x20 && s[k] < 0x7f ? s[k] : '?';
    snprintf(out + k, cap - k, "%s", s && k < n ? "..." : "");
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    query *q = cls;
    char name[28];
    if (key_size != 5 || memcmp(key, "limit", 5) != 0) {
        shown(key, key_size, name, sizeof name);
        snprintf(q->problem, sizeof q->problem, "unknown query parameter '%s'", name);
        return MHD_NO;
    }
    if (q->n_limit++) {
        snprintf(q->problem, sizeof q->problem, "limit: given more than once");
        return MHD_NO;
    }
    if (value && strlen(value) != value_size) {
        snprintf(q->problem, sizeof q->problem,
                 "limit: want an integer from 1 to 1000, got a NUL byte");
        return MHD_NO;
    }
    q->limit = value ? value : "";
    return MHD_YES;
}

static int read_query(struct MHD_Connection *c, const char *url, query *q)
{
    memset(q, 0, sizeof *q);
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, query_arg, q);
    if (!q->problem[0] && q->limit && strncmp(url, "/v1/admin/", 10) != 0)
        snprintf(q->problem, sizeof q->problem, "limit: this endpoint takes no query parameters");
    return q->problem[0] ? -1 : 0;
}

static enum MHD_Result do_admin(sb_attestd *d, struct MHD_Connection *c, const char *url,
                                const char *method, const request *rq, const char *limit)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!sb_service_admin_ok(d->svc, auth))
        return send_error(c, 401, "unauthorized", "admin operations need the admin token");
    char peer[64];
    peer_of(c, peer, sizeof peer);
    sb_refusal r = {0};
    json_t *j = sb_service_admin(d->svc, method, url + strlen("/v1/admin"), limit, rq->body,
                                 rq->len, peer, &r);
    if (!j)
        return send_refusal(c, &r);
    return send_json(c, 200, j);
}

static enum MHD_Result route(sb_attestd *d, struct MHD_Connection *c, const char *url,
                             const char *method, const request *rq)
{
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    query q;
    if (read_query(c, url, &q) < 0)
        return send_error(c, 400, "malformed request", q.problem);
    if (strcmp(url, "/v1/challenge") == 0)
        return post ? do_challenge(d, c) : send_error(c, 405, "method not allowed", "use POST");
    if (strcmp(url, "/v1/attest") == 0)
        return post ? do_attest(d, c, rq) : send_error(c, 405, "method not allowed", "use POST");
    if (strcmp(url, "/v1/root") == 0 && get) {
        char *pem = strdup(sb_service_root_pem(d->svc));
        return send_text(c, 200, "application/x-pem-file", pem);
    }
    if (strcmp(url, "/v1/revoked") == 0 && get) {
        sb_refusal r = {0};
        json_t *j = sb_service_revoked(d->svc, &r);
        return j ? send_json(c, 200, j) : send_refusal(c, &r);
    }
    if (strcmp(url, "/v1/health") == 0 && get)
        return send_json(c, 200, json_pack("{s:b}", "ok", 1));
    if (strncmp(url, "/v1/admin/", 10) == 0)
        return do_admin(d, c, url, method, rq, q.limit);
    return send_error(c, 404, "not found", url);
}

static enum MHD_Result too_large(sb_attestd *d, struct MHD_Connection *c)
{
    sb_refusal r = {.status = 413, .reason = "request too large", .detail = "body exceeds 256 KiB"};
    char peer[64];
    peer_of(c, peer, sizeof peer);
    sb_service_record_refusal(d->svc, NULL, &r, peer);
    return send_refusal(c, &r);
}

/* Appends upload data, refusing bodies over the cap. */
static void collect(request *rq, const char *data, size_t n)
{
    if (rq->too_large || n > SB_ATTESTD_MAX_BODY - rq->len) {
        rq->too_large = 1;
        return;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n + 1)
            cap *= 2;
        char *p = realloc(rq->body, cap);
        if (!p) {
            rq->too_large = 1;
            return;
        }
        rq->body = p;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    sb_attestd *d = cls;
    request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > SB_ATTESTD_MAX_BODY) {
            rq->answered = 1;
            return too_large(d, c);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->answered)
            collect(rq, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->answered)
        return MHD_YES;
    rq->answered = 1;
    if (rq->too_large)
        return too_large(d, c);
    return route(d, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    request *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static int bind_listen(const char *addr, unsigned port, unsigned *bound, sb_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_PASSIVE}, *res = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    if (getaddrinfo(addr, ps, &hints, &res) != 0 || !res)
        return sb_err_set(err, 1, "attestd: listen address '%s' is not a numeric address", addr);
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    int ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
             bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 1024) == 0;
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (ok && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                : ((struct sockaddr_in *)&ss)->sin_port);
    else
        ok = 0;
    if (!ok) {
        if (fd >= 0)
            close(fd);
        return sb_err_set(err, 1, "attestd: cannot listen on %s:%u", addr, port);
    }
    return fd;
}

sb_attestd *sb_attestd_start(const sb_attestd_config *cfg, sb_err *err)
{
    sb_attestd *d = calloc(1, sizeof *d);
    if (!d)
        return sb_err_set(err, 1, "out of memory"), NULL;
    d->listen_fd = -1;
    const char *addr = cfg->listen_addr ? cfg->listen_addr : "127.0.0.1";
    d->svc = sb_service_open(cfg, err);
    if (!d->svc || (d->listen_fd = bind_listen(addr, cfg->port, &d->port, err)) < 0) {
        sb_attestd_stop(d);
        return NULL;
    }
    char url[300];
    if (cfg->service_url)
        snprintf(url, sizeof url, "%s", cfg->service_url);
    else
        snprintf(url, sizeof url, strchr(addr, ':') ? "http://[%s]:%u" : "http://%s:%u", addr,
                 d->port);
    sb_service_set_url(d->svc, url);
    unsigned threads = cfg->threads ? cfg->threads : 2;
    d->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, handler, d,
        MHD_OPTION_LISTEN_SOCKET, d->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout ? cfg->conn_timeout : 10u,
        MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!d->mhd) {
        sb_err_set(err, 1, "attestd: cannot start the HTTP server");
        sb_attestd_stop(d);
        return NULL;
    }
    d->listen_fd = -1; /* MHD owns and closes it now */
    return d;
}

unsigned sb_attestd_port(const sb_attestd *d)
{
    return d->port;
}

void sb_attestd_stop(sb_attestd *d)
{
    if (!d)
        return;
    if (d->mhd)
        MHD_stop_daemon(d->mhd);
    if (d->listen_fd >= 0)
        close(d->listen_fd);
    sb_service_close(d->svc);
    free(d);
}
