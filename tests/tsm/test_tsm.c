/* Tests for src/tsm: the real collection code against a fake configfs-tsm tree (a temp directory
 * whose inblob/outblob/auxblob are FIFOs served by a thread playing the kernel) and fake
 * /dev/sev-guest, /dev/tdx_guest and /dev/nsm (regular files, with the ioctl injected: the
 * request structs the code builds are checked and answered as the drivers do). Evidence served
 * from the captured samples is then run through the real verifiers, so the formats tsm returns
 * are the ones src/verifiers checks.
 * Not exercised: the kernel itself (configfs attribute semantics, the guest drivers' ioctls). */
#include "cose/cbor.h"
#include "tsm/tsm.h"
#include "verifiers/verifiers.h"
#include "../verifiers/testgen.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static char vec[1024];
static char tmp[256];

static const char *vpath(const char *rel)
{
    static char buf[2][1200];
    static int i;
    i ^= 1;
    snprintf(buf[i], sizeof buf[i], "%s/attestation-vectors/%s", vec, rel);
    return buf[i];
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char p[512], t[520];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    snprintf(t, sizeof t, "%s.tmp", p);
    FILE *f = fopen(t, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    fclose(f);
    rename(t, p); /* atomic, as a configfs attribute read never sees half a value */
}

static void rm_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* --- fake configfs-tsm --------------------------------------------------------------------- */

typedef struct fake_tsm {
    const char *provider;
    int fifos;          /* 0: plain files (no thread); 1: FIFOs served by a thread */
    int gen_step;       /* how much generation advances per inblob write (1 = no race) */
    const uint8_t *outblob, *auxblob;
    size_t out_len, aux_len;
    int mkdir_errno;
    /* filled by the fake */
    char dir[512];
    uint8_t seen_binding[64];
    size_t seen_len;
    pthread_t thread;
    int thread_started;
} fake_tsm;

static void serve_fifo(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY);
    if (fd < 0)
        return;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
}

/* The kernel's part: take inblob, bump generation, produce outblob (and auxblob) on read. */
static void *kernel_thread(void *arg)
{
    fake_tsm *f = arg;
    char p[600];
    snprintf(p, sizeof p, "%s/inblob", f->dir);
    int fd = open(p, O_RDONLY);
    ssize_t n;
    while (fd >= 0 && (n = read(fd, f->seen_binding + f->seen_len, sizeof f->seen_binding - f->seen_len)) > 0)
        f->seen_len += (size_t)n;
    if (fd >= 0)
        close(fd);
    char gen[16];
    int gl = snprintf(gen, sizeof gen, "%d\n", 41 + f->gen_step);
    write_file(f->dir, "generation", gen, (size_t)gl);
    serve_fifo(f->dir, "outblob", f->outblob, f->out_len);
    if (f->auxblob)
        serve_fifo(f->dir, "auxblob", f->auxblob, f->aux_len);
    return NULL;
}

static int fake_mkdir(void *ctx, const char *path, mode_t mode)
{
    fake_tsm *f = ctx;
    if (f->mkdir_errno) {
        errno = f->mkdir_errno;
        return -1;
    }
    if (mkdir(path, mode) != 0)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s", path);
    write_file(path, "provider", f->provider, strlen(f->provider));
    write_file(path, "generation", "41\n", 3);
    char p[600];
    if (f->fifos) {
        const char *names[] = {"inblob", "outblob", "auxblob"};
        for (int i = 0; i < (f->auxblob ? 3 : 2); i++) {
            snprintf(p, sizeof p, "%s/%s", path, names[i]);
            CHECK(mkfifo(p, 0600) == 0);
        }
        CHECK(pthread_create(&f->thread, NULL, kernel_thread, f) == 0);
        f->thread_started = 1;
    } else {
        write_file(path, "inblob", "", 0);
        if (f->outblob)
            write_file(path, "outblob", f->outblob, f->out_len);
    }
    return 0;
}

static int run_fake(fake_tsm *f, const uint8_t *binding, sb_tsm_evidence *ev, sb_err *err)
{
    char root[300];
    snprintf(root, sizeof root, "%s/report", tmp);
    mkdir(root, 0700);
    sb_tsm_sys sys = {fake_mkdir, NULL, f};
    sb_tsm_config cfg = {root, "/nonexistent/sev", "/nonexistent/tdx", "/nonexistent/nsm", &sys};
    int rc = sb_tsm_get_evidence(&cfg, binding, ev, err);
    if (f->thread_started)
        pthread_join(f->thread, NULL);
    rm_tree(root);
    return rc;
}

/* The SNP sample's certificates as a GHCB certificate table (VCEK, ASK, ARK). */
static uint8_t *snp_cert_table(size_t *len)
{
    static const uint8_t guids[3][16] = {
        {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd},
        {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82},
        {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae}};
    sb_trust_anchors a = {0};
    tg_anchors_add_file(&a, vpath("snp/gosevguest_milan_vcek.der"));
    tg_anchors_add_file(&a, vpath("snp/amd_ask_ark_milan.pem"));
    uint8_t *t = calloc(1, 8192);
    size_t off = 4 * 24;
    for (int i = 0; i < 3; i++) {
        size_t n;
        uint8_t *der = tg_der(a.certs[i], &n);
        memcpy(t + 24 * i, guids[i], 16);
        for (int b = 0; b < 4; b++) {
            t[24 * i + 16 + b] = (uint8_t)(off >> (8 * b));
            t[24 * i + 20 + b] = (uint8_t)(n >> (8 * b));
        }
        memcpy(t + off, der, n);
        off += n;
        free(der);
    }
    tg_anchors_free(&a);
    *len = off;
    return t;
}

static void ark_anchor(sb_trust_anchors *a)
{
    sb_trust_anchors all = {0};
    tg_anchors_add_file(&all, vpath("snp/amd_ask_ark_milan.pem"));
    tg_anchors_add_cert(a, all.certs[1]); /* the ARK only */
    tg_anchors_free(&all);
}

static void test_configfs(void)
{
    uint8_t binding[64];
    for (int i = 0; i < 64; i++)
        binding[i] = (uint8_t)(0x80 + i);
    size_t rlen, tlen;
    uint8_t *report = tg_read(vpath("snp/gosevguest_milan_report_v2.bin"), &rlen);
    uint8_t *table = snp_cert_table(&tlen);
    sb_tsm_evidence ev;
    sb_err err = {0};

    /* SEV-SNP guest: outblob = report, auxblob = certificate table; verifies with the ARK only. */
    fake_tsm snp = {"sev_guest\n", 1, 1, report, table, rlen, tlen, 0, "", {0}, 0, 0, 0};
    CHECK(run_fake(&snp, binding, &ev, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "configfs snp: %s\n", err.msg);
    CHECK(snp.seen_len == 64 && memcmp(snp.seen_binding, binding, 64) == 0);
    CHECK(strcmp(ev.platform, "sev-snp") == 0 && strcmp(ev.format, "snp") == 0 &&
          strcmp(ev.source, "configfs-tsm") == 0 && ev.len == rlen + tlen);
    sb_trust_anchors ark = {0};
    ark_anchor(&ark);
    sb_claims c;
    CHECK(sb_verify_snp_report(ev.data, ev.len, &ark, tg_time("2024-01-01T00:00:00Z"), &c, &err) == 0);
    tg_anchors_free(&ark);
    sb_tsm_evidence_free(&ev);

    /* TDX guest: outblob = the quote; no auxblob is read. */
    size_t qlen;
    uint8_t *quote = tg_read(vpath("tdx/gotdxguest_quote_v4_spr_e4.dat"), &qlen);
    fake_tsm tdx = {"tdx_guest", 1, 1, quote, NULL, qlen, 0, 0, "", {0}, 0, 0, 0};
    CHECK(run_fake(&tdx, binding, &ev, &err) == 0);
    CHECK(strcmp(ev.platform, "tdx") == 0 && ev.len == qlen && memcmp(ev.data, quote, qlen) == 0);
    sb_trust_anchors intel = {0};
    tg_anchors_add_file(&intel, vpath("tdx/intel_sgx_root_ca.pem"));
    CHECK(sb_verify_tdx(ev.data, ev.len, &intel, tg_time("2023-07-01T00:00:00Z"), &c, &err) == 0);
    tg_anchors_free(&intel);
    sb_tsm_evidence_free(&ev);
    free(quote);

    /* CCA guest. */
    size_t clen;
    uint8_t *cca = tg_read(vpath("cca/veraison_tfrmm_cca_token_tag399.cbor"), &clen);
    fake_tsm arm = {"arm_cca_guest", 1, 1, cca, NULL, clen, 0, 0, "", {0}, 0, 0, 0};
    CHECK(run_fake(&arm, binding, &ev, &err) == 0);
    CHECK(strcmp(ev.platform, "cca") == 0 && strcmp(ev.format, "cca") == 0 && ev.len == clen);
    sb_tsm_evidence_free(&ev);
    free(cca);

    /* Another writer between our inblob write and outblob read: generation advanced by 2. */
    fake_tsm race = {"sev_guest", 1, 2, report, table, rlen, tlen, 0, "", {0}, 0, 0, 0};
    CHECK_ERR(run_fake(&race, binding, &ev, &err), err, "generation went from 41 to 43");
    CHECK(ev.data == NULL);
    /* Plain files: the generation never moves (no kernel behind it). */
    fake_tsm still = {"tdx_guest", 0, 1, report, NULL, rlen, 0, 0, "", {0}, 0, 0, 0};
    CHECK_ERR(run_fake(&still, binding, &ev, &err), err, "generation went from 41 to 41");
    fake_tsm noout = {"tdx_guest", 0, 1, NULL, NULL, 0, 0, 0, "", {0}, 0, 0, 0};
    CHECK_ERR(run_fake(&noout, binding, &ev, &err), err, "outblob is missing");
    fake_tsm unknown = {"foo_guest", 0, 1, report, NULL, rlen, 0, 0, "", {0}, 0, 0, 0};
    CHECK_ERR(run_fake(&unknown, binding, &ev, &err), err, "unknown configfs-tsm provider 'foo_guest'");
    fake_tsm empty = {"", 0, 1, report, NULL, rlen, 0, 0, "", {0}, 0, 0, 0};
    CHECK_ERR(run_fake(&empty, binding, &ev, &err), err, "provider: unexpected contents");
    fake_tsm denied = {"tdx_guest", 0, 1, report, NULL, rlen, 0, EACCES, "", {0}, 0, 0, 0};
    CHECK_ERR(run_fake(&denied, binding, &ev, &err), err, "cannot create");
    free(report);
    free(table);
}

/* --- fake devices -------------------------------------------------------------------------- */

/* configfs-tsm's mkdir as the kernel answers it: ENXIO when tsm is loaded but no TEE driver has
 * registered (the report folder is there all the same), EACCES for an ordinary failure. */
static int mkdir_enxio(void *ctx, const char *path, mode_t mode)
{
    (void)ctx, (void)path, (void)mode;
    errno = ENXIO;
    return -1;
}

static int mkdir_eacces(void *ctx, const char *path, mode_t mode)
{
    (void)ctx, (void)path, (void)mode;
    errno = EACCES;
    return -1;
}

typedef struct fake_dev {
    int mode;            /* sev: 0 ext ok after a length retry, 1 no ext support, 2 fw error */
    const uint8_t *report, *table, *doc;
    size_t table_len, doc_len;
    const uint8_t *expect_binding;
    int calls, bad_request;
    int nsm_mode;        /* 0 document, 1 error, 2 length mismatch */
} fake_dev;

static void fill_snp_resp(fake_dev *f, struct snp_guest_request_ioctl *g, const uint8_t *user_data)
{
    if (g->msg_version != 1 || memcmp(user_data, f->expect_binding, 64) != 0)
        f->bad_request++;
    uint8_t *resp = (uint8_t *)(uintptr_t)g->resp_data;
    memset(resp, 0, 4000);
    uint32_t status = f->mode == 2 ? 0x16 : 0, size = 1184;
    memcpy(resp, &status, 4);
    memcpy(resp + 4, &size, 4);
    memcpy(resp + 32, f->report, 1184);
}

/* The drivers' request layouts, written out independently of src/tsm. */
typedef struct { uint8_t reportdata[64]; uint8_t tdreport[1024]; } t_tdx_req;
typedef struct { struct iovec request; struct iovec response; } t_nsm_msg;

static int fake_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
    fake_dev *f = ctx;
    (void)fd;
    f->calls++;
    if (request == SNP_GET_EXT_REPORT) {
        struct snp_guest_request_ioctl *g = arg;
        struct snp_ext_report_req *req = (void *)(uintptr_t)g->req_data;
        if (f->mode == 1) {
            errno = ENOTTY;
            return -1;
        }
        size_t need = (f->table_len + 4095) / 4096 * 4096 * 5; /* force one retry */
        if (req->certs_len < need) {
            req->certs_len = (uint32_t)need;
            g->exitinfo2 = (uint64_t)SNP_GUEST_VMM_ERR_INVALID_LEN << 32;
            errno = EIO;
            return -1;
        }
        if (req->certs_address % 4096)
            f->bad_request++;
        memcpy((void *)(uintptr_t)req->certs_address, f->table, f->table_len);
        fill_snp_resp(f, g, req->data.user_data);
        return 0;
    }
    if (request == SNP_GET_REPORT) {
        struct snp_guest_request_ioctl *g = arg;
        struct snp_report_req *req = (void *)(uintptr_t)g->req_data;
        fill_snp_resp(f, g, req->user_data);
        return 0;
    }
    if (request == _IOWR('T', 1, t_tdx_req)) {
        uint8_t *r = arg;
        if (memcmp(r, f->expect_binding, 64) != 0)
            f->bad_request++;
        for (int i = 0; i < 1024; i++)
            r[64 + i] = (uint8_t)i;
        memcpy(r + 64 + 512, r, 64); /* TDREPORT's REPORTMACSTRUCT carries the report data */
        return 0;
    }
    if (request == _IOWR(0x0A, 0, t_nsm_msg)) {
        struct iovec *io = arg;
        /* the request must be {"Attestation": {..., "nonce": binding, ...}} */
        sb_cbor r;
        size_t n, m;
        const char *k;
        size_t kl;
        sb_cbor_init(&r, io[0].iov_base, io[0].iov_len);
        int ok = sb_cbor_read_map(&r, &n, NULL) == 0 && n == 1 &&
                 sb_cbor_read_text(&r, &k, &kl, NULL) == 0 && kl == 11 &&
                 memcmp(k, "Attestation", 11) == 0 && sb_cbor_read_map(&r, &m, NULL) == 0;
        int nonce_ok = 0;
        for (size_t i = 0; ok && i < m; i++) {
            ok = sb_cbor_read_text(&r, &k, &kl, NULL) == 0;
            if (ok && kl == 5 && memcmp(k, "nonce", 5) == 0) {
                const uint8_t *b;
                size_t bl;
                nonce_ok = sb_cbor_read_bytes(&r, &b, &bl, NULL) == 0 && bl == 64 &&
                           memcmp(b, f->expect_binding, 64) == 0;
            } else if (ok) {
                ok = sb_cbor_skip(&r, NULL) == 0;
            }
        }
        if (!ok || !nonce_ok || sb_cbor_remaining(&r) != 0)
            f->bad_request++;
        sb_cbuf out;
        sb_cbuf_init(&out);
        sb_cbor_put_map(&out, 1);
        if (f->nsm_mode == 1) {
            sb_cbor_put_text(&out, "Error"), sb_cbor_put_text(&out, "InvalidArgument");
        } else {
            sb_cbor_put_text(&out, "Attestation"), sb_cbor_put_map(&out, 1);
            sb_cbor_put_text(&out, "document"), sb_cbor_put_bytes(&out, f->doc, f->doc_len);
        }
        sb_cbuf_finish(&out, NULL);
        memcpy(io[1].iov_base, out.data, out.len);
        io[1].iov_len = out.len - (f->nsm_mode == 2 ? 10 : 0);
        free(out.data);
        return 0;
    }
    errno = ENOTTY;
    return -1;
}

static void test_devices(void)
{
    uint8_t binding[64];
    for (int i = 0; i < 64; i++)
        binding[i] = (uint8_t)(0x11 * (i % 7));
    char dev[300];
    snprintf(dev, sizeof dev, "%s/device", tmp);
    write_file(tmp, "device", "", 0);
    size_t rlen, tlen;
    uint8_t *report = tg_read(vpath("snp/gosevguest_milan_report_v2.bin"), &rlen);
    uint8_t *table = snp_cert_table(&tlen);
    sb_tsm_evidence ev;
    sb_err err = {0};
    sb_claims c;
    sb_trust_anchors ark = {0}, full = {0};
    ark_anchor(&ark);
    tg_anchors_add_file(&full, vpath("snp/gosevguest_milan_vcek.der"));
    tg_anchors_add_file(&full, vpath("snp/amd_ask_ark_milan.pem"));
    time_t at = tg_time("2024-01-01T00:00:00Z");

    fake_dev f = {0, report, table, NULL, tlen, 0, binding, 0, 0, 0};
    sb_tsm_sys sys = {NULL, fake_ioctl, &f};
    sb_tsm_config sev = {"/nonexistent/tsm", dev, "/nonexistent/tdx", "/nonexistent/nsm", &sys};
    CHECK(sb_tsm_get_evidence(&sev, binding, &ev, &err) == 0);
    CHECK(f.calls == 2 && f.bad_request == 0); /* one length retry */
    CHECK(strcmp(ev.source, "sev-guest") == 0 && ev.len > rlen);
    CHECK(sb_verify_snp_report(ev.data, ev.len, &ark, at, &c, &err) == 0);
    sb_tsm_evidence_free(&ev);
    fake_dev plain = {1, report, table, NULL, tlen, 0, binding, 0, 0, 0};
    sys.ctx = &plain;
    CHECK(sb_tsm_get_evidence(&sev, binding, &ev, &err) == 0);
    CHECK(plain.calls == 2 && plain.bad_request == 0 && ev.len == rlen);
    CHECK(sb_verify_snp_report(ev.data, ev.len, &full, at, &c, &err) == 0);
    sb_tsm_evidence_free(&ev);
    fake_dev fw = {2, report, table, NULL, tlen, 0, binding, 0, 0, 0};
    sys.ctx = &fw;
    CHECK_ERR(sb_tsm_get_evidence(&sev, binding, &ev, &err), err, "firmware status 0x16");

    /* configfs-tsm with no TEE driver registered: the device is used instead; with no device
     * either, the error says both. Any other configfs-tsm failure is reported, not bypassed. */
    char root[300];
    snprintf(root, sizeof root, "%s/report", tmp);
    CHECK(mkdir(root, 0700) == 0);
    fake_dev via = {1, report, table, NULL, tlen, 0, binding, 0, 0, 0};
    sb_tsm_sys noprov = {mkdir_enxio, fake_ioctl, &via};
    sb_tsm_config both = {root, dev, "/nonexistent/tdx", "/nonexistent/nsm", &noprov};
    CHECK(sb_tsm_get_evidence(&both, binding, &ev, &err) == 0);
    CHECK(strcmp(ev.source, "sev-guest") == 0 && ev.len == rlen && err.code == 0);
    sb_tsm_evidence_free(&ev);
    sb_tsm_config alone = {root, "/nonexistent/sev", "/nonexistent/tdx", "/nonexistent/nsm", &noprov};
    CHECK_ERR(sb_tsm_get_evidence(&alone, binding, &ev, &err), err, "has no TEE driver registered");
    sb_tsm_sys denied = {mkdir_eacces, fake_ioctl, &via};
    both.sys = &denied;
    CHECK_ERR(sb_tsm_get_evidence(&both, binding, &ev, &err), err, "configfs-tsm: cannot create");
    CHECK(ev.data == NULL);
    rmdir(root);

    fake_dev td = {0, NULL, NULL, NULL, 0, 0, binding, 0, 0, 0};
    sys.ctx = &td;
    sb_tsm_config tdx = {"/nonexistent/tsm", "/nonexistent/sev", dev, "/nonexistent/nsm", &sys};
    CHECK(sb_tsm_get_evidence(&tdx, binding, &ev, &err) == 0);
    CHECK(td.bad_request == 0 && ev.len == 1024 && strcmp(ev.format, "tdx-report") == 0 &&
          memcmp(ev.data + 512, binding, 64) == 0);
    /* A TDREPORT is not a quote: the TDX verifier refuses it. */
    CHECK_ERR(sb_verify_tdx(ev.data, ev.len, &ark, at, &c, &err), err, "tdx");
    sb_tsm_evidence_free(&ev);

    size_t dlen;
    uint8_t *doc = tg_read(vpath("nitro/evervault_nitro_attestation_doc.cose"), &dlen);
    fake_dev nsm = {0, NULL, NULL, doc, 0, dlen, binding, 0, 0, 0};
    sys.ctx = &nsm;
    sb_tsm_config nitro = {"/nonexistent/tsm", "/nonexistent/sev", "/nonexistent/tdx", dev, &sys};
    CHECK(sb_tsm_get_evidence(&nitro, binding, &ev, &err) == 0);
    CHECK(nsm.bad_request == 0 && ev.len == dlen && strcmp(ev.platform, "nitro") == 0);
    sb_trust_anchors aws = {0};
    tg_anchors_add_file(&aws, vpath("nitro/aws_nitro_enclaves_root_g1.pem"));
    CHECK(sb_verify_nitro(ev.data, ev.len, &aws, tg_time("2022-10-13T08:58:02Z"), &c, &err) == 0);
    tg_anchors_free(&aws);
    sb_tsm_evidence_free(&ev);
    nsm.nsm_mode = 1;
    CHECK_ERR(sb_tsm_get_evidence(&nitro, binding, &ev, &err), err, "NSM error InvalidArgument");
    nsm.nsm_mode = 2;
    CHECK_ERR(sb_tsm_get_evidence(&nitro, binding, &ev, &err), err, "does not match");

    sb_tsm_config none = {"/nonexistent/tsm", "/nonexistent/sev", "/nonexistent/tdx", "/nonexistent/nsm", NULL};
    CHECK_ERR(sb_tsm_get_evidence(&none, binding, &ev, &err), err, "no evidence source");
    /* A real open(2) failure on a device node path that is a directory. */
    sb_tsm_config dir = {"/nonexistent/tsm", tmp, "/nonexistent/tdx", "/nonexistent/nsm", NULL};
    CHECK_ERR(sb_tsm_get_evidence(&dir, binding, &ev, &err), err, "cannot open");
    unlink(dev);
    free(doc);
    free(report);
    free(table);
    tg_anchors_free(&ark);
    tg_anchors_free(&full);
}

int main(int argc, char **argv)
{
    const char *shared = argc > 1 ? argv[1] : getenv("SB_SHARED_DIR");
    if (!shared) {
        fprintf(stderr, "usage: test_tsm SHARED_DIR\n");
        return 2;
    }
    snprintf(vec, sizeof vec, "%s", shared);
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/sb-tsm-XXXXXX", t ? t : "/tmp");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    test_configfs();
    test_devices();
    rm_tree(tmp);
    if (tg_failures)
        fprintf(stderr, "%d failures\n", tg_failures);
    return tg_failures ? 1 : 0;
}
