/* tsm.c - see tsm.h. Kept small: this is inside the trusted computing base. */
#include "tsm/tsm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Not in the installed UAPI headers; layouts from linux/tdx-guest.h and the NSM driver. */
struct tdx_report_req {
    uint8_t reportdata[64];
    uint8_t tdreport[1024];
};
#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)
struct nsm_message {
    struct iovec request;
    struct iovec response;
};
#define NSM_IOCTL_REQUEST _IOWR(0x0A, 0, struct nsm_message)
#define NSM_RESPONSE_MAX 0x3000

#define SNP_REPORT_LEN 1184
#define SNP_RSP_HEADER 32 /* MSG_REPORT_RSP: status, report_size, 24 reserved */
#define SNP_CERTS_START (4 * 4096)
#define SNP_CERTS_MAX (256 * 1024)

static int sys_mkdir(const sb_tsm_config *c, const char *path)
{
    return c->sys && c->sys->make_dir ? c->sys->make_dir(c->sys->ctx, path, 0700)
                                      : mkdir(path, 0700);
}

static int sys_ioctl(const sb_tsm_config *c, int fd, unsigned long req, void *arg)
{
    return c->sys && c->sys->ioctl ? c->sys->ioctl(c->sys->ctx, fd, req, arg) : ioctl(fd, req, arg);
}

static void set_out(sb_tsm_evidence *out, const char *platform, const char *format,
                    const char *source)
{
    snprintf(out->platform, sizeof out->platform, "%s", platform);
    snprintf(out->format, sizeof out->format, "%s", format);
    snprintf(out->source, sizeof out->source, "%s", source);
}

/* --- configfs-tsm -------------------------------------------------------------------------- */

/* Reads dir/name whole (configfs attributes are produced on read). -2: absent. */
static int read_attr(const char *dir, const char *name, size_t max, uint8_t **data, size_t *len,
                     sb_err *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return sb_err_set(err, ENAMETOOLONG, "path too long: %s", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return -2;
    if (fd < 0)
        return sb_err_set(err, errno, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    ssize_t got = 0;
    while (buf && (got = read(fd, buf + n, cap - n)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;
        n += (size_t)got;
        if (n == cap) {
            uint8_t *bigger = cap * 2 <= max + 1 ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                errno = cap * 2 > max + 1 ? EFBIG : ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int e = errno;
    close(fd);
    if (!buf || got < 0) {
        free(buf);
        return sb_err_set(err, e, "cannot read %s: %s", path, strerror(e));
    }
    *data = buf;
    *len = n;
    return 0;
}

static int read_small(const char *dir, const char *name, char *out, size_t cap, sb_err *err)
{
    uint8_t *d;
    size_t n;
    int rc = read_attr(dir, name, 256, &d, &n, err);
    if (rc == -2)
        return sb_err_set(err, ENOENT, "%s/%s is missing", dir, name);
    if (rc != 0)
        return -1;
    while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == '\0'))
        n--;
    if (n == 0 || n >= cap || memchr(d, 0, n)) {
        free(d);
        return sb_err_set(err, EINVAL, "%s/%s: unexpected contents", dir, name);
    }
    memcpy(out, d, n);
    out[n] = '\0';
    free(d);
    return 0;
}

static int read_generation(const char *dir, unsigned long long *gen, sb_err *err)
{
    char s[32], *end;
    if (read_small(dir, "generation", s, sizeof s, err) != 0)
        return -1;
    errno = 0;
    *gen = strtoull(s, &end, 10);
    if (errno || *end || s[0] == '-')
        return sb_err_set(err, EINVAL, "%s/generation: not a number", dir);
    return 0;
}

static int write_inblob(const char *dir, const uint8_t *binding, sb_err *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/inblob", dir) >= (int)sizeof path)
        return sb_err_set(err, ENAMETOOLONG, "path too long: %s", dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return sb_err_set(err, errno, "cannot open %s: %s", path, strerror(errno));
    ssize_t n;
    do
        n = write(fd, binding, SB_TSM_BINDING_LEN); /* one write: configfs takes the blob whole */
    while (n < 0 && errno == EINTR);
    int e = errno;
    if (close(fd) != 0 && n == SB_TSM_BINDING_LEN)
        return sb_err_set(err, errno, "cannot write %s: %s", path, strerror(errno));
    if (n != SB_TSM_BINDING_LEN)
        return sb_err_set(err, n < 0 ? e : EIO, "cannot write %s: %s", path,
                          n < 0 ? strerror(e) : "short write");
    return 0;
}

static int provider_platform(const char *provider, sb_tsm_evidence *out)
{
    if (strcmp(provider, "sev_guest") == 0)
        set_out(out, "sev-snp", "snp", "configfs-tsm");
    else if (strcmp(provider, "tdx_guest") == 0)
        set_out(out, "tdx", "tdx", "configfs-tsm");
    else if (strcmp(provider, "arm_cca_guest") == 0)
        set_out(out, "cca", "cca", "configfs-tsm");
    else
        return -1;
    return 0;
}

/* The report: outblob, and for SEV-SNP the certificate table from auxblob appended. */
static int collect_report(const char *dir, const uint8_t *binding, sb_tsm_evidence *out,
                          sb_err *err)
{
    char provider[64];
    unsigned long long gen0, gen1;
    uint8_t *blob = NULL, *aux = NULL;
    size_t blob_len = 0, aux_len = 0;
    if (read_small(dir, "provider", provider, sizeof provider, err) != 0)
        return -1;
    if (provider_platform(provider, out) != 0)
        return sb_err_set(err, EINVAL, "unknown configfs-tsm provider '%s'", provider);
    if (read_generation(dir, &gen0, err) != 0 || write_inblob(dir, binding, err) != 0)
        return -1;
    int rc = read_attr(dir, "outblob", SB_TSM_MAX_EVIDENCE, &blob, &blob_len, err);
    if (rc == -2)
        sb_err_set(err, ENOENT, "%s/outblob is missing", dir);
    if (rc == 0 && strcmp(out->format, "snp") == 0) {
        rc = read_attr(dir, "auxblob", SB_TSM_MAX_EVIDENCE, &aux, &aux_len, err);
        if (rc == -2)
            rc = 0; /* no certificates from the host: the verifier needs the VCEK given */
    }
    if (rc == 0 && read_generation(dir, &gen1, err) != 0)
        rc = -1;
    if (rc == 0 && gen1 != gen0 + 1)
        rc = sb_err_set(err, EAGAIN, "generation went from %llu to %llu: another writer used "
                        "the report entry", gen0, gen1);
    if (rc == 0 && (blob_len == 0 || blob_len + aux_len > SB_TSM_MAX_EVIDENCE))
        rc = sb_err_set(err, EINVAL, "outblob is empty or the evidence too large");
    if (rc == 0 && aux_len) {
        uint8_t *all = realloc(blob, blob_len + aux_len);
        if (!all) {
            rc = sb_err_set(err, ENOMEM, "out of memory");
        } else {
            memcpy(all + blob_len, aux, aux_len);
            blob = all;
            blob_len += aux_len;
        }
    }
    free(aux);
    if (rc != 0) {
        free(blob);
        return -1;
    }
    out->data = blob;
    out->len = blob_len;
    return 0;
}

static int from_configfs(const sb_tsm_config *c, const char *root, const uint8_t *binding,
                         sb_tsm_evidence *out, sb_err *err)
{
    char dir[4096];
    struct timespec ts;
    int made = -1;
    /* A fresh, unpredictable-enough entry name; configfs gives us a private report per entry. */
    for (int attempt = 0; attempt < 8 && made != 0; attempt++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (snprintf(dir, sizeof dir, "%s/strongbox-%ld-%ld-%d", root, (long)getpid(), ts.tv_nsec,
                     attempt) >= (int)sizeof dir - 16)
            return sb_err_set(err, ENAMETOOLONG, "configfs-tsm: path too long: %s", root);
        made = sys_mkdir(c, dir);
        if (made != 0 && errno != EEXIST)
            return sb_err_set(err, errno, "configfs-tsm: cannot create %s: %s", dir, strerror(errno));
    }
    if (made != 0)
        return sb_err_set(err, EEXIST, "configfs-tsm: cannot create a report entry in %s", root);
    int rc = collect_report(dir, binding, out, err);
    if (rc != 0)
        sb_err_prefix(err, "configfs-tsm");
    rmdir(dir);
    return rc;
}

/* --- legacy SEV-SNP guest device ----------------------------------------------------------- */

static int snp_parse_response(const struct snp_report_resp *resp, uint8_t *report, sb_err *err)
{
    uint32_t status, size;
    memcpy(&status, resp->data, 4);
    memcpy(&size, resp->data + 4, 4);
    if (status != 0)
        return sb_err_set(err, EIO, "firmware status 0x%x", status);
    if (size != SNP_REPORT_LEN)
        return sb_err_set(err, EIO, "report size %u, expected %d", size, SNP_REPORT_LEN);
    memcpy(report, resp->data + SNP_RSP_HEADER, SNP_REPORT_LEN);
    return 0;
}

/* SNP_GET_EXT_REPORT, growing the certificate buffer once if the host asks for more. */
static int snp_ext_report(const sb_tsm_config *c, int fd, const uint8_t *binding,
                          struct snp_report_resp *resp, uint8_t **certs, size_t *certs_len)
{
    size_t cap = SNP_CERTS_START;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct snp_ext_report_req req;
        struct snp_guest_request_ioctl g;
        uint8_t *buf = aligned_alloc(4096, cap);
        if (!buf)
            return -1;
        memset(buf, 0, cap);
        memset(&req, 0, sizeof req);
        memset(&g, 0, sizeof g);
        memcpy(req.data.user_data, binding, 64);
        req.certs_address = (uint64_t)(uintptr_t)buf;
        req.certs_len = (uint32_t)cap;
        g.msg_version = 1;
        g.req_data = (uint64_t)(uintptr_t)&req;
        g.resp_data = (uint64_t)(uintptr_t)resp;
        if (sys_ioctl(c, fd, SNP_GET_EXT_REPORT, &g) == 0) {
            *certs = buf;
            *certs_len = req.certs_len <= cap ? req.certs_len : cap;
            return 0;
        }
        free(buf);
        if ((g.exitinfo2 >> 32) != SNP_GUEST_VMM_ERR_INVALID_LEN || req.certs_len <= cap ||
            req.certs_len > SNP_CERTS_MAX)
            return -1;
        cap = (req.certs_len + 4095u) & ~(size_t)4095u;
    }
    return -1;
}

static int from_sev_guest(const sb_tsm_config *c, int fd, const uint8_t *binding,
                          sb_tsm_evidence *out, sb_err *err)
{
    struct snp_report_resp *resp = calloc(1, sizeof *resp);
    uint8_t *certs = NULL, *ev = NULL;
    size_t certs_len = 0;
    int rc = -1;
    if (!resp)
        return sb_err_set(err, ENOMEM, "out of memory");
    if (snp_ext_report(c, fd, binding, resp, &certs, &certs_len) != 0) {
        struct snp_report_req req;
        struct snp_guest_request_ioctl g;
        memset(&req, 0, sizeof req);
        memset(&g, 0, sizeof g);
        memcpy(req.user_data, binding, 64);
        g.msg_version = 1;
        g.req_data = (uint64_t)(uintptr_t)&req;
        g.resp_data = (uint64_t)(uintptr_t)resp;
        if (sys_ioctl(c, fd, SNP_GET_REPORT, &g) != 0) {
            sb_err_set(err, errno, "SNP_GET_REPORT failed: %s (firmware 0x%x, vmm 0x%x)",
                       strerror(errno), g.fw_error, g.vmm_error);
            goto out;
        }
    }
    ev = malloc(SNP_REPORT_LEN + certs_len);
    if (!ev) {
        sb_err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    if (snp_parse_response(resp, ev, err) != 0)
        goto out;
    /* an empty table (first entry all zero) adds nothing */
    static const uint8_t zero[24];
    if (certs_len >= 24 && memcmp(certs, zero, 24) != 0)
        memcpy(ev + SNP_REPORT_LEN, certs, certs_len);
    else
        certs_len = 0;
    set_out(out, "sev-snp", "snp", "sev-guest");
    out->data = ev;
    out->len = SNP_REPORT_LEN + certs_len;
    ev = NULL;
    rc = 0;
out:
    free(ev);
    free(certs);
    free(resp);
    return rc;
}

/* --- legacy TDX guest device --------------------------------------------------------------- */

static int from_tdx_guest(const sb_tsm_config *c, int fd, const uint8_t *binding,
                          sb_tsm_evidence *out, sb_err *err)
{
    struct tdx_report_req *req = calloc(1, sizeof *req);
    if (!req)
        return sb_err_set(err, ENOMEM, "out of memory");
    memcpy(req->reportdata, binding, 64);
    if (sys_ioctl(c, fd, TDX_CMD_GET_REPORT0, req) != 0) {
        free(req);
        return sb_err_set(err, errno, "TDX_CMD_GET_REPORT0 failed: %s", strerror(errno));
    }
    out->data = malloc(sizeof req->tdreport);
    if (!out->data) {
        free(req);
        return sb_err_set(err, ENOMEM, "out of memory");
    }
    memcpy(out->data, req->tdreport, sizeof req->tdreport);
    out->len = sizeof req->tdreport;
    set_out(out, "tdx", "tdx-report", "tdx_guest");
    free(req);
    return 0;
}

/* --- AWS Nitro Secure Module --------------------------------------------------------------- */

/* {"Attestation": {"user_data": null, "nonce": h'<binding>', "public_key": null}} */
static size_t nsm_request(const uint8_t *binding, uint8_t *req)
{
    static const uint8_t head[] = "\xa1\x6b" "Attestation" "\xa3\x69" "user_data" "\xf6"
                                  "\x65" "nonce" "\x58\x40";
    static const uint8_t tail[] = "\x6a" "public_key" "\xf6";
    size_t n = sizeof head - 1;
    memcpy(req, head, n);
    memcpy(req + n, binding, 64);
    memcpy(req + n + 64, tail, sizeof tail - 1);
    return n + 64 + sizeof tail - 1;
}

/* {"Attestation": {"document": bstr}}; an {"Error": text} answer is reported. */
static int nsm_document(const uint8_t *r, size_t len, sb_tsm_evidence *out, sb_err *err)
{
    static const uint8_t ok[] = "\xa1\x6b" "Attestation" "\xa1\x68" "document";
    static const uint8_t bad[] = "\xa1\x65" "Error";
    size_t h = sizeof ok - 1, n;
    size_t e = sizeof bad - 1; /* position of the error text's head */
    if (len > e && memcmp(r, bad, e) == 0 && (r[e] & 0xe0) == 0x60) {
        size_t tl = r[e] & 0x1f;
        return sb_err_set(err, EIO, "NSM error %.*s", (int)(tl < 24 && e + 1 + tl <= len ? tl : 0),
                          (const char *)r + e + 1);
    }
    if (len < h + 3 || memcmp(r, ok, h) != 0)
        return sb_err_set(err, EIO, "NSM response is not an attestation document");
    if (r[h] == 0x59) {
        n = (size_t)r[h + 1] << 8 | r[h + 2];
        h += 3;
    } else if (r[h] == 0x58) {
        n = r[h + 1];
        h += 2;
    } else {
        return sb_err_set(err, EIO, "NSM response: document is not a byte string");
    }
    if (n == 0 || n != len - h)
        return sb_err_set(err, EIO, "NSM response: document length %zu does not match", n);
    out->data = malloc(n);
    if (!out->data)
        return sb_err_set(err, ENOMEM, "out of memory");
    memcpy(out->data, r + h, n);
    out->len = n;
    set_out(out, "nitro", "nitro", "nsm");
    return 0;
}

static int from_nsm(const sb_tsm_config *c, int fd, const uint8_t *binding, sb_tsm_evidence *out,
                    sb_err *err)
{
    uint8_t req[128];
    uint8_t *resp = malloc(NSM_RESPONSE_MAX);
    if (!resp)
        return sb_err_set(err, ENOMEM, "out of memory");
    struct nsm_message m = {{req, nsm_request(binding, req)}, {resp, NSM_RESPONSE_MAX}};
    int rc;
    if (sys_ioctl(c, fd, NSM_IOCTL_REQUEST, &m) != 0)
        rc = sb_err_set(err, errno, "NSM request failed: %s", strerror(errno));
    else if (m.response.iov_len > NSM_RESPONSE_MAX)
        rc = sb_err_set(err, EIO, "NSM response length %zu is too large", m.response.iov_len);
    else
        rc = nsm_document(resp, m.response.iov_len, out, err);
    free(resp);
    return rc;
}

/* --- entry point --------------------------------------------------------------------------- */

typedef int (*device_fn)(const sb_tsm_config *, int, const uint8_t *, sb_tsm_evidence *, sb_err *);

static int from_device(const sb_tsm_config *c, const char *path, device_fn fn,
                       const uint8_t *binding, sb_tsm_evidence *out, sb_err *err)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return sb_err_set(err, errno, "cannot open %s: %s", path, strerror(errno));
    int rc = fn(c, fd, binding, out, err);
    close(fd);
    if (rc != 0)
        sb_err_prefix(err, "%s", path);
    return rc;
}

int sb_tsm_get_evidence(const sb_tsm_config *cfg, const uint8_t binding[SB_TSM_BINDING_LEN],
                        sb_tsm_evidence *out, sb_err *err)
{
    static const sb_tsm_config defaults = {0};
    const sb_tsm_config *c = cfg ? cfg : &defaults;
    const char *tsm = c->configfs_report ? c->configfs_report : "/sys/kernel/config/tsm/report";
    const char *sev = c->sev_guest ? c->sev_guest : "/dev/sev-guest";
    const char *tdx = c->tdx_guest ? c->tdx_guest : "/dev/tdx_guest";
    const char *nsm = c->nsm ? c->nsm : "/dev/nsm";
    memset(out, 0, sizeof *out);
    struct stat st;
    /* configfs-tsm first: on a TD it alone gives a quote (the device gives a TDREPORT). Its
     * report folder exists whenever tsm is loaded; with no TEE driver registered, creating an
     * entry fails with ENXIO, and then the devices are tried (a driver that has the device only). */
    int no_provider = 0;
    if (stat(tsm, &st) == 0 && S_ISDIR(st.st_mode)) {
        int rc = from_configfs(c, tsm, binding, out, err);
        if (rc == 0 || !err || err->code != ENXIO)
            return rc;
        no_provider = 1;
        sb_err_clear(err);
    }
    if (access(sev, F_OK) == 0)
        return from_device(c, sev, from_sev_guest, binding, out, err);
    if (access(tdx, F_OK) == 0)
        return from_device(c, tdx, from_tdx_guest, binding, out, err);
    if (access(nsm, F_OK) == 0)
        return from_device(c, nsm, from_nsm, binding, out, err);
    return sb_err_set(err, ENODEV, "no evidence source: %s%s, and none of %s, %s, %s exists",
                      tsm, no_provider ? " has no TEE driver registered" : " does not exist", sev,
                      tdx, nsm);
}

void sb_tsm_evidence_free(sb_tsm_evidence *e)
{
    if (e) {
        free(e->data);
        memset(e, 0, sizeof *e);
    }
}
