/* main.c - strongbox-runtime: command line, the poll loop on the channel, start-up (init and
 * attestation) and shutdown. See docs/protocol.md for the sequence. */
#include "runtime/runtime.h"
#include "tsm/tsm.h"
#include "wasm/wasm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- channel output */

size_t rt_queued(const rt *r)
{
    return r->out_len - r->out_off;
}

static void queue_bytes(rt *r, const uint8_t *p, size_t len)
{
    if (r->out_off && r->out_off == r->out_len)
        r->out_off = r->out_len = 0;
    if (len > r->out_cap - r->out_len) {
        if (r->out_off) { /* compact before growing */
            memmove(r->out, r->out + r->out_off, r->out_len - r->out_off);
            r->out_len -= r->out_off;
            r->out_off = 0;
        }
        size_t cap = r->out_cap ? r->out_cap : 65536;
        while (cap - r->out_len < len)
            cap *= 2;
        uint8_t *n = realloc(r->out, cap);
        if (!n) { /* cannot tell the host anything any more: end now, wiping what we hold */
            r->state = RT_ENDING;
            r->chan_eof = true;
            r->exit_code = 1;
            return;
        }
        r->out = n;
        r->out_cap = cap;
    }
    memcpy(r->out + r->out_len, p, len);
    r->out_len += len;
}

void rt_send(rt *r, const sb_msg *m)
{
    uint8_t *f;
    size_t len;
    sb_err err;
    if (sb_msg_encode(m, &f, &len, &err) < 0) { /* our own bug: never send a frame we refuse */
        r->state = RT_ENDING;
        r->chan_eof = true;
        r->exit_code = 1;
        return;
    }
    queue_bytes(r, f, len);
    free(f);
}

void rt_event(rt *r, sb_level lvl, const char *fmt, ...)
{
    char text[SB_REASON_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sb_msg m;
    sb_msg_init(&m, SB_MSG_EVENT);
    m.present = SB_F(SB_K_LEVEL) | SB_F(SB_K_REASON);
    m.level = lvl;
    m.reason = text;
    rt_send(r, &m);
}

/* Writes as much of the queue as the socket takes now. */
static void flush_out(rt *r)
{
    while (rt_queued(r) && !r->chan_eof) {
        ssize_t n = write(r->fd, r->out + r->out_off, rt_queued(r));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) { /* host gone: nothing more can be delivered */
            r->chan_eof = true;
            return;
        }
        r->out_off += (size_t)n;
        if (r->keep) /* the host is taking the kept envelopes: give it time for the rest */
            r->end_by = time(NULL) + 10;
    }
}

/* ---------------------------------------------------------------- shutdown */

void rt_end(rt *r, sb_status cause, const char *reason)
{
    if (r->state == RT_ENDING)
        return;
    rt_sessions_end(r);
    sb_msg m;
    sb_msg_init(&m, SB_MSG_SHUTDOWN);
    m.present = SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
    m.status = cause;
    m.reason = reason;
    rt_send(r, &m);
    if (cause != SB_ST_OK && cause != SB_ST_EXPIRED && cause != SB_ST_SHUTTING_DOWN)
        r->exit_code = 1;
    r->state = RT_ENDING;
    r->end_by = time(NULL) + 10; /* a host that stops reading cannot keep us alive */
    rt_keep_start(r, cause);     /* sealed results the policy lets the host keep (keep.c) */
}

/* Everything secret or entrusted goes: key (OpenSSL cleanses key material it frees), staged
 * uploads, snapshots, the filesystem, queued bytes. */
static void wipe(rt *r)
{
    rt_keep_free(r);
    rt_sessions_free(r);
    rt_fs_free(r);
    SSL_CTX_free(r->ctx);
    EVP_PKEY_free(r->key);
    sb_policy_free(r->policy);
    free(r->csr);
    if (r->out)
        OPENSSL_cleanse(r->out, r->out_cap);
    free(r->out);
    sb_frame_reader_free(&r->chan);
    free(r->voted);
    free(r->read_all);
}

/* ---------------------------------------------------------------- start-up */

static int make_key_and_csr(rt *r, sb_err *err)
{
    r->key = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    int ok = r->key && req && name &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        (const unsigned char *)"strongbox-isolate", -1, -1, 0) &&
             X509_REQ_set_version(req, 0) && X509_REQ_set_subject_name(req, name) &&
             X509_REQ_set_pubkey(req, r->key) && X509_REQ_sign(req, r->key, EVP_sha256()) > 0;
    int len = ok ? i2d_X509_REQ(req, NULL) : -1;
    if (len > 0 && (r->csr = malloc((size_t)len))) {
        unsigned char *p = r->csr;
        r->csr_len = (size_t)i2d_X509_REQ(req, &p);
    }
    X509_NAME_free(name);
    X509_REQ_free(req);
    if (!r->csr)
        return sb_err_set(err, SB_ST_INTERNAL, "key pair / CSR generation failed");
    return 0;
}

static void on_init(rt *r, const sb_msg *m)
{
    sb_err err = {0};
    if (strcmp(m->platform, r->platform) != 0) {
        snprintf(err.msg, sizeof err.msg, "init names platform '%s', runtime started for '%s'",
                 m->platform, r->platform);
        rt_end(r, SB_ST_BAD_REQUEST, err.msg);
        return;
    }
    if (sb_policy_parse(m->data.p, m->data.len, time(NULL), 0, &r->policy, &err) < 0) {
        rt_end(r, err.code == SB_POLICY_E_EXPIRED ? SB_ST_EXPIRED : SB_ST_BAD_REQUEST, err.msg);
        return;
    }
    /* Fail early and clearly where the service and every client would refuse us anyway. */
    if (!sb_policy_platform_acceptable(r->policy, r->platform, r->no_sandbox, &err)) {
        rt_end(r, SB_ST_BAD_REQUEST, err.msg);
        return;
    }
    if (rt_engine_check(r->policy, &err) < 0) {
        rt_end(r, SB_ST_BAD_REQUEST, err.msg);
        return;
    }
    if (make_key_and_csr(r, &err) < 0 || rt_fs_init(r, &err) < 0 || rt_tls_init(r, &err) < 0) {
        rt_end(r, SB_ST_INTERNAL, err.msg);
        return;
    }
    rt_event(r, SB_LVL_INFO, "policy %s loaded; isolate key generated",
             sb_policy_hash_hex(r->policy));
    r->state = RT_WAIT_CHALLENGE;
}

/* binding = SHA-512("strongbox-attest-v1" || nonce || SHA-256(SPKI DER) || policy hash). The
 * attestation library has the same function, but it is outside the TCB; tests check both agree. */
static int binding_of(rt *r, const sb_msg *m, uint8_t out[64])
{
    uint8_t spki_hash[32];
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY(r->key, &spki);
    unsigned n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = spki_len > 0 && EVP_Digest(spki, (size_t)spki_len, spki_hash, NULL, EVP_sha256(), NULL) &&
             c && EVP_DigestInit_ex(c, EVP_sha512(), NULL) &&
             EVP_DigestUpdate(c, "strongbox-attest-v1", 19) &&
             EVP_DigestUpdate(c, m->nonce.p, m->nonce.len) &&
             EVP_DigestUpdate(c, spki_hash, 32) &&
             EVP_DigestUpdate(c, sb_policy_hash(r->policy), 32) &&
             EVP_DigestFinal_ex(c, out, &n) && n == 64;
    EVP_MD_CTX_free(c);
    OPENSSL_free(spki);
    return ok ? 0 : -1;
}

/* Isolate-side evidence. Host-rooted platforms (process, kvm) have none: the host, which launched
 * and measured the runtime, builds it over the binding. Confidential-VM platforms get it from the
 * hardware (configfs-tsm and friends). */
static int evidence_of(rt *r, const uint8_t binding[64], uint8_t **ev, size_t *len, sb_err *err)
{
    *ev = NULL;
    *len = 0;
    if (strcmp(r->platform, "process") == 0 || strcmp(r->platform, "kvm") == 0)
        return 0;
    sb_tsm_evidence e;
    if (sb_tsm_get_evidence(NULL, binding, &e, err) < 0)
        return -1;
    if (strcmp(e.platform, r->platform) != 0) {
        sb_err_set(err, SB_ST_ATTEST_FAILED, "evidence comes from a %s platform (%s), the runtime "
                   "was started for %s", e.platform, e.source, r->platform);
        sb_tsm_evidence_free(&e);
        return -1;
    }
    *ev = e.data;
    *len = e.len;
    return 0;
}

static void on_challenge(rt *r, const sb_msg *m)
{
    uint8_t binding[64], *ev = NULL;
    size_t ev_len = 0;
    sb_err err = {0};
    if (binding_of(r, m, binding) < 0) {
        rt_end(r, SB_ST_INTERNAL, "computing the attestation binding failed");
        return;
    }
    if (evidence_of(r, binding, &ev, &ev_len, &err) < 0) {
        rt_end(r, SB_ST_ATTEST_FAILED, err.msg);
        return;
    }
    sb_msg q;
    sb_msg_init(&q, SB_MSG_ATTEST_REQUEST);
    q.present = SB_F(SB_K_DATA) | SB_F(SB_K_HASH) | SB_F(SB_K_BINDING) | SB_F(SB_K_PLATFORM) |
                (ev ? SB_F(SB_K_EVIDENCE) : 0);
    q.data = (sb_bytes){r->csr, r->csr_len};
    q.hash = (sb_bytes){sb_policy_hash(r->policy), 32};
    q.binding = (sb_bytes){binding, 64};
    q.platform = r->platform;
    q.evidence = (sb_bytes){ev, ev_len};
    rt_send(r, &q);
    free(ev);
    /* Everything the runtime needed from outside is in: from here on it runs under seccomp. */
    if (r->no_sandbox) {
        rt_event(r, SB_LVL_WARN, "sandbox disabled (--no-sandbox): this isolate is INSECURE");
    } else if (rt_sandbox_install(wasm_engine_available(WASM_ENGINE_COMPILED), &err) < 0) {
        rt_end(r, SB_ST_INTERNAL, err.msg);
        return;
    }
    r->state = RT_WAIT_RESULT;
}

/* Idle isolates should cost little memory. Once attested, the start-up work (policy parsing, key
 * generation, CSR, certificate checks, the static-pie's own relocation) is done: its pages of the
 * read-only segments are dropped (they were never written, so nothing is lost: what runs next
 * faults its pages back in from the sealed image; RELRO is written at start-up and is kept), and
 * the heap's free pages go back to the kernel. */
static int drop_readonly_pages(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size, (void)ctx;
    uintptr_t page = (uintptr_t)getpagesize(), relro_lo = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
            relro_lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            relro_hi = relro_lo + info->dlpi_phdr[i].p_memsz;
        }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr + page - 1) & ~(page - 1),
                  hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(page - 1);
        if (ph->p_type == PT_LOAD && !(ph->p_flags & PF_W) && lo < hi &&
            (hi <= relro_lo || lo >= relro_hi)) /* whole pages of this segment only */
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
    }
    return 1; /* the executable (listed first) only */
}

static void on_result(rt *r, const sb_msg *m)
{
    sb_err err = {0};
    if (m->status != SB_ST_OK || !(m->present & SB_F(SB_K_DATA))) {
        snprintf(err.msg, sizeof err.msg, "attestation refused: %s",
                 m->present & SB_F(SB_K_REASON) ? m->reason : sb_status_name((int)m->status));
        rt_end(r, SB_ST_ATTEST_FAILED, err.msg);
        return;
    }
    if (rt_tls_install(r, m->data.p, m->data.len, &err) < 0) {
        rt_end(r, SB_ST_ATTEST_FAILED, err.msg);
        return;
    }
    sb_msg q;
    sb_msg_init(&q, SB_MSG_READY);
    q.present = SB_F(SB_K_HASH);
    q.hash = (sb_bytes){sb_policy_hash(r->policy), 32};
    rt_send(r, &q);
    char until[32];
    sb_time_format(sb_policy_expires(r->policy), until, sizeof until);
    rt_event(r, SB_LVL_INFO, "attested; serving sessions until %s or the shutdown rule", until);
    r->state = RT_READY;
    rt_release_idle_memory();
}

void rt_release_idle_memory(void)
{
    dl_iterate_phdr(drop_readonly_pages, NULL);
    malloc_trim(0);
}

/* ---------------------------------------------------------------- channel input */

static void on_frame(rt *r, const sb_msg *m)
{
    static const sb_msg_type expected[] = {[RT_WAIT_INIT] = SB_MSG_INIT,
                                           [RT_WAIT_CHALLENGE] = SB_MSG_ATTEST_CHALLENGE,
                                           [RT_WAIT_RESULT] = SB_MSG_ATTEST_RESULT};
    char why[160];
    if (m->type == SB_MSG_SHUTDOWN) {
        rt_end(r, SB_ST_OK, "host asked to stop");
        return;
    }
    if (r->state == RT_ENDING)
        return;
    if (r->state == RT_READY) {
        switch (m->type) {
        case SB_MSG_SESSION_OPEN: rt_session_open(r, m->id); return;
        case SB_MSG_SESSION_DATA: rt_session_data(r, m->id, m->data.p, m->data.len); return;
        case SB_MSG_SESSION_CLOSE: rt_session_close(r, m->id, false, SB_ST_OK, NULL); return;
        case SB_MSG_SESSION_CREDIT: rt_session_credit(r, m->id, m->size); return;
        default: break;
        }
    } else if (m->type == expected[r->state]) {
        switch (m->type) {
        case SB_MSG_INIT: on_init(r, m); return;
        case SB_MSG_ATTEST_CHALLENGE: on_challenge(r, m); return;
        default: on_result(r, m); return;
        }
    } else if (m->type == SB_MSG_SESSION_OPEN) {
        sb_msg c;
        sb_msg_init(&c, SB_MSG_SESSION_CLOSE);
        c.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_REASON);
        c.id = m->id;
        c.status = SB_ST_NOT_READY;
        c.reason = "the isolate is not attested yet";
        rt_send(r, &c);
        return;
    } else if (m->type == SB_MSG_SESSION_CLOSE || m->type == SB_MSG_SESSION_DATA ||
               m->type == SB_MSG_SESSION_CREDIT) {
        return; /* for a session refused above: nothing to do */
    }
    snprintf(why, sizeof why, "unexpected %s frame from the host", sb_msg_type_name(m->type));
    rt_end(r, SB_ST_BAD_REQUEST, why);
}

static void read_channel(rt *r)
{
    sb_err err = {0};
    long n = sb_frame_reader_read_fd(&r->chan, r->fd, &err);
    if (n == -1)
        return;
    if (n == -2 && err.code) { /* framing error: say so, then leave */
        rt_end(r, SB_ST_BAD_REQUEST, err.msg);
        return;
    }
    if (n <= 0) { /* end of stream or I/O error: the host is gone */
        r->chan_eof = true;
        r->state = RT_ENDING;
        return;
    }
    const uint8_t *p;
    size_t len;
    int got;
    while (r->state != RT_ENDING && (got = sb_frame_reader_next(&r->chan, &p, &len, &err)) == 1) {
        sb_msg m; /* session data stays in r->chan, used before the next frame is taken */
        if (sb_msg_decode_borrow(p, len, &m, &err) < 0) {
            char why[SB_ERR_MSG_MAX + 32];
            snprintf(why, sizeof why, "bad frame from the host: %s", err.msg);
            rt_end(r, SB_ST_BAD_REQUEST, why);
            return;
        }
        on_frame(r, &m);
        sb_msg_free(&m);
    }
    if (got < 0)
        rt_end(r, SB_ST_BAD_REQUEST, err.msg);
}

/* ---------------------------------------------------------------- loop */

/* Wakes for expiry and for the next handshake deadline (handshake_ms, -1 = none). */
static int poll_timeout_ms(const rt *r, int handshake_ms)
{
    if (r->state != RT_READY)
        return r->state == RT_ENDING ? 1000 : -1;
    /* A stream not yet queued whole must go on even when the host took every queued byte and
     * nothing arrives: blocking here stalled large downloads (issue 16). */
    for (const rt_session *s = r->sessions; s; s = s->next)
        if (s->streaming && !s->closed && rt_queued(r) < RT_OUT_HIGH)
            return 0;
    time_t left = sb_policy_expires(r->policy) - time(NULL);
    int ms = left <= 0 ? 0 : left > 60 ? 60000 : (int)left * 1000;
    return handshake_ms >= 0 && handshake_ms < ms ? handshake_ms : ms;
}

static void run_loop(rt *r)
{
    for (;;) {
        int handshake_ms = -1;
        if (r->state == RT_READY && sb_policy_expired(r->policy, time(NULL)))
            rt_end(r, SB_ST_EXPIRED, "the policy has expired");
        if (r->state == RT_READY) {
            handshake_ms = rt_sessions_tick(r);
            rt_sessions_pump(r);
        }
        rt_keep_pump(r);
        flush_out(r);
        if (r->chan_eof ||
            (r->state == RT_ENDING && ((!r->keep && !rt_queued(r)) || time(NULL) > r->end_by)))
            return;
        struct pollfd pfd = {r->fd, 0, 0};
        if (r->state != RT_ENDING && rt_queued(r) < RT_OUT_HIGH)
            pfd.events |= POLLIN;
        if (rt_queued(r))
            pfd.events |= POLLOUT;
        int n = poll(&pfd, 1, poll_timeout_ms(r, handshake_ms));
        if (n < 0 && errno != EINTR)
            return;
        if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) && (pfd.events & POLLIN))
            read_channel(r);
        else if (n > 0 && (pfd.revents & (POLLHUP | POLLERR)))
            r->chan_eof = true;
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: strongbox-runtime --channel-fd N [--platform NAME] [--no-sandbox] | --version\n");
    return 2;
}

int main(int argc, char **argv)
{
    rt r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    r.platform = "process";
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--channel-fd") == 0 && i + 1 < argc) {
            long fd = strtol(argv[++i], &end, 10);
            if (*end || fd < 0 || fd > INT_MAX)
                return usage();
            r.fd = (int)fd;
        } else if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc) {
            r.platform = argv[++i];
        } else if (strcmp(argv[i], "--version") == 0 && argc == 2) {
            printf("strongbox-runtime %s\n", SB_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--no-sandbox") == 0) {
            r.no_sandbox = true;
        } else {
            return usage();
        }
    }
    int fl = r.fd >= 0 ? fcntl(r.fd, F_GETFL) : -1;
    if (fl < 0 || fcntl(r.fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        fprintf(stderr, "strongbox-runtime: --channel-fd: not an open descriptor\n");
        return usage();
    }
    signal(SIGPIPE, SIG_IGN); /* a vanished host shows up as EPIPE, handled as end of channel */
    /* Load everything OpenSSL loads lazily now, while files may still be opened. Never its
     * configuration file: OPENSSL_CONF comes from the host and could load provider modules, code
     * the measurement does not cover (docs/tcb.md). */
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS |
                     OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    sb_err err = {0};
    if (rt_alarm_install(&err) < 0) {
        fprintf(stderr, "strongbox-runtime: %s\n", err.msg);
        return 1;
    }
    sb_frame_reader_init(&r.chan, 0);
    r.state = RT_WAIT_INIT;
    run_loop(&r);
    wipe(&r);
    return r.exit_code;
}
