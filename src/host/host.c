/* host.c - the event loop of strongbox-host: setup, dispatch, graceful stop. */
#include "host/host_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

void host_log(struct host *h, const char *level, const char *fmt, ...)
{
    char ts[32];
    sb_time_format(time(NULL), ts, sizeof ts);
    fprintf(h->log, "%s strongbox-host %s: ", ts, level);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(h->log, fmt, ap);
    va_end(ap);
    fputc('\n', h->log);
    fflush(h->log);
}

int host_watch(struct host *h, struct src *s, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = s};
    int rc = epoll_ctl(h->ep, s->on ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ev);
    if (rc == 0) {
        s->on = true;
        s->events = events;
    }
    return rc;
}

void host_unwatch(struct host *h, struct src *s)
{
    if (s->on)
        epoll_ctl(h->ep, EPOLL_CTL_DEL, s->fd, NULL);
    s->on = false;
    s->events = 0;
}

/* "ADDR:PORT" or "[V6]:PORT" -> listening socket. */
static int open_listener(struct host *h, const char *spec, sb_err *err)
{
    char addr[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof addr)
        return sb_err_set(err, EINVAL, "--listen %s: expected ADDRESS:PORT", spec);
    memcpy(addr, spec, (size_t)(colon - spec));
    addr[colon - spec] = '\0';
    char *a = addr;
    if (a[0] == '[' && a[strlen(a) - 1] == ']') {
        a[strlen(a) - 1] = '\0';
        a++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(a[0] ? a : NULL, colon + 1, &hints, &res);
    if (rc != 0)
        return sb_err_set(err, EINVAL, "--listen %s: %s", spec, gai_strerror(rc));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 512) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return sb_err_set(err, e, "cannot listen on %s: %s", spec, strerror(e));
    }
    freeaddrinfo(res);
    h->listen = (struct src){SRC_LISTEN, fd, 0, false};
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    int port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                              : ((struct sockaddr_in6 *)&ss)->sin6_port);
    host_log(h, "info", "listening on %s (port %d)", spec, port);
    if (h->cfg->port_file) {
        char num[16];
        int n = snprintf(num, sizeof num, "%d\n", port);
        if (sb_write_file(h->cfg->port_file, num, (size_t)n, 0644, err) != 0)
            return -1;
    }
    return 0;
}

static int load_key(const char *path, EVP_PKEY **key, sb_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sb_err_set(err, errno, "host attestation key %s: %s", path, strerror(errno));
    *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!*key)
        return sb_err_set(err, EINVAL, "host attestation key %s: not a PEM private key", path);
    return 0;
}

/* Each isolate holds one channel descriptor here, each party one socket: use the whole hard
 * limit rather than the (often 1024) soft one. */
static void raise_fd_limit(struct host *h)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &r) != 0)
            host_log(h, "warn", "cannot raise the descriptor limit: %s", strerror(errno));
    }
}

static int setup(struct host *h, sb_err *err)
{
    const sb_host_config *cfg = h->cfg;
    raise_fd_limit(h);
    EVP_PKEY *key = NULL;
    if (!cfg->runtime_path && strcmp(cfg->platform, "process") == 0) /* VMs: in the image */
        return sb_err_set(err, EINVAL, "no runtime binary given (--runtime)");
    if (cfg->attest_key_path && load_key(cfg->attest_key_path, &key, err) != 0)
        return -1;
    sb_platform_config pc = {.runtime_path = cfg->runtime_path, .attest_key = key,
                             .sanitizer_compat = cfg->sanitizer_compat, .accel = cfg->accel,
                             .qemu_path = cfg->qemu_path, .guest_kernel = cfg->guest_kernel,
                             .guest_initrd = cfg->guest_initrd, .firmware = cfg->firmware,
                             .vcpus = cfg->vcpus, .vcpu_type = cfg->vcpu_type,
                             .device_root = cfg->device_root};
    int rc = sb_platform_open(cfg->platform, &pc, &h->platform, err);
    EVP_PKEY_free(key);
    if (rc != 0)
        return -1;
    size_t mlen;
    char mhex[65];
    const uint8_t *m = sb_platform_measurement(h->platform, &mlen);
    sb_hex_encode(m, mlen > 32 ? 32 : mlen, mhex);
    host_log(h, "info", "platform %s, %s %s, measurement %s", cfg->platform,
             cfg->runtime_path ? "runtime" : "guest image", cfg->runtime_path ? cfg->runtime_path
             : cfg->guest_initrd ? cfg->guest_initrd : "(the default CVM image)", mhex);
    if (!(h->chunk = malloc(HOST_READ_CHUNK)))
        return sb_err_set(err, ENOMEM, "out of memory");
    h->no_splice = cfg->no_splice;
    h->ep = epoll_create1(EPOLL_CLOEXEC);
    if (h->ep < 0)
        return sb_err_set(err, errno, "epoll_create1: %s", strerror(errno));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigdelset(&set, SIGPIPE); /* ignored: writes to a gone party fail with EPIPE instead */
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    int jp[2];
    if (sfd < 0 || pipe2(jp, O_CLOEXEC) != 0)
        return sb_err_set(err, errno, "signalfd/pipe: %s", strerror(errno));
    fcntl(jp[0], F_SETFL, O_NONBLOCK);
    h->sig = (struct src){SRC_SIGNAL, sfd, 0, false};
    h->jobs = (struct src){SRC_JOBS, jp[0], 0, false};
    h->jobs_wr = jp[1];
    if (open_listener(h, cfg->listen, err) != 0 || admin_open(h, err) != 0 || store_init(h, err) != 0)
        return -1;
    if (host_watch(h, &h->listen, EPOLLIN) || host_watch(h, &h->sig, EPOLLIN) ||
        host_watch(h, &h->jobs, EPOLLIN))
        return sb_err_set(err, errno, "epoll_ctl: %s", strerror(errno));
    return 0;
}

static void begin_stop(struct host *h, int signo)
{
    if (h->stopping)
        return;
    h->stopping = true;
    h->stop_deadline = time(NULL) + (time_t)h->cfg->stop_timeout_s;
    host_log(h, "info", "signal %d: stopping (isolates get %u s to end)", signo,
             h->cfg->stop_timeout_s);
    host_unwatch(h, &h->listen);
    close(h->listen.fd);
    h->listen.fd = -1;
    comp_stop_all(h);
}

static void on_signal(struct host *h)
{
    struct signalfd_siginfo si;
    bool child = false;
    while (read(h->sig.fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD)
            child = true;
        else
            begin_stop(h, (int)si.ssi_signo);
    }
    if (child)
        comp_check_exits(h);
}

static void on_jobs(struct host *h)
{
    struct job *j;
    while (read(h->jobs.fd, &j, sizeof j) == (ssize_t)sizeof j)
        comp_on_job(h, j);
}

static bool all_ended(struct host *h)
{
    for (struct comp *c = h->comps; c; c = c->next)
        if (c->state != C_DEAD)
            return false;
    return true;
}

static void dispatch(struct host *h, struct epoll_event *ev)
{
    struct src *s = ev->data.ptr;
    if (!s->on)
        return; /* closed by an earlier event of this batch */
    switch (s->type) {
    case SRC_LISTEN:
        conn_accept(h);
        break;
    case SRC_SIGNAL:
        on_signal(h);
        break;
    case SRC_JOBS:
        on_jobs(h);
        break;
    case SRC_CONN:
        conn_on_event(h, (struct conn *)s, ev->events);
        break;
    case SRC_CHAN:
        comp_on_channel(h, (struct comp *)s, ev->events);
        break;
    case SRC_ADMIN_LISTEN:
        admin_accept(h);
        break;
    case SRC_ADMIN:
        admin_on_event(h, (struct admin_conn *)s, ev->events);
        break;
    }
}

static void loop(struct host *h)
{
    struct epoll_event evs[64];
    time_t last_tick = 0;
    for (;;) {
        if (h->stopping && all_ended(h))
            break;
        int n = epoll_wait(h->ep, evs, 64, 500);
        if (n < 0 && errno != EINTR) {
            host_log(h, "error", "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++)
            dispatch(h, &evs[i]);
        conn_bury(h);
        comp_prune(h);
        time_t now = time(NULL);
        if (now != last_tick) {
            last_tick = now;
            conn_tick(h, now);
            comp_tick(h, now);
            admin_tick(h, now);
            store_tick(h, now);
        }
    }
}

int sb_host_run(const sb_host_config *user_cfg, sb_err *err)
{
    sb_host_config cfg = *user_cfg;
    if (!cfg.listen)
        cfg.listen = "127.0.0.1:7433";
    if (!cfg.platform)
        cfg.platform = "process";
    if (!cfg.max_isolates)
        cfg.max_isolates = 64;
    if (!cfg.max_memory)
        cfg.max_memory = 8ull << 30;
    if (!cfg.isolate_overhead)
        cfg.isolate_overhead = 256ull << 20;
    if (!cfg.stop_timeout_s)
        cfg.stop_timeout_s = 10;
    if (!cfg.max_connections)
        cfg.max_connections = HOST_MAX_CONNS;
    if (!cfg.max_unauth_per_source)
        cfg.max_unauth_per_source = 64;
    if (!cfg.stall_timeout_s)
        cfg.stall_timeout_s = 60;
    if (!cfg.sealed_max_bytes)
        cfg.sealed_max_bytes = 1ull << 30;
    if (!cfg.sealed_keep_days)
        cfg.sealed_keep_days = 30;
    struct host h = {.cfg = &cfg, .log = cfg.log ? cfg.log : stderr, .ep = -1, .jobs_wr = -1};
    h.listen.fd = h.sig.fd = h.jobs.fd = h.admin.fd = -1;
    int rc = setup(&h, err);
    if (rc == 0 && !cfg.ready_timeout_s) /* a VM boots before its runtime starts */
        cfg.ready_timeout_s = sb_platform_ready_timeout(h.platform);
    if (rc == 0) {
        loop(&h);
        host_log(&h, "info", "stopped");
    }
    admin_close_all(&h);
    conn_free_all(&h);
    comp_free_all(&h);
    /* Attestation calls still in flight finish within their own timeout; wait for them so their
     * results are freed. */
    while (h.n_jobs > 0 && h.jobs.fd >= 0) {
        struct job *j;
        ssize_t n = read(h.jobs.fd, &j, sizeof j);
        if (n == (ssize_t)sizeof j) {
            job_free(j);
            h.n_jobs--;
        } else {
            usleep(10000);
        }
    }
    int fds[] = {h.listen.fd, h.sig.fd, h.jobs.fd, h.jobs_wr, h.ep};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    sb_platform_close(h.platform);
    free(h.chunk);
    return rc;
}
