/* platform.c - backend table, runtime image measurement, isolate lifetime. */
#include "platform/platform_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct sb_platform_ops process_ops = {"process", sb_process_launch,
                                                   sb_process_evidence};
/* Next: {"kvm", kvm_launch, kvm_evidence} (host-rooted), {"sev-snp", cvm_launch, NULL} ... */
static const struct sb_platform_ops *const backends[] = {&process_ops};

/* Copies the runtime into a sealed memfd and hashes the very same bytes: what is measured is what
 * every isolate execs, even if the file on disk changes afterwards. */
static int load_image(sb_platform *p, const char *path, sb_err *err)
{
    uint8_t *data;
    size_t len;
    if (sb_read_file(path, SB_RUNTIME_IMAGE_MAX, &data, &len, err) != 0) {
        sb_err_prefix(err, "runtime image");
        return -1;
    }
    int fd = memfd_create("strongbox-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    int rc = -1;
    if (fd < 0) {
        sb_err_set(err, errno, "runtime image: memfd_create: %s", strerror(errno));
        goto out;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sb_err_set(err, errno, "runtime image: copy: %s", strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    if (fchmod(fd, 0555) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        sb_err_set(err, errno, "runtime image: sealing: %s", strerror(errno));
        goto out;
    }
    unsigned int mlen = 0;
    if (!EVP_Digest(data, len, p->measurement, &mlen, EVP_sha256(), NULL) || mlen != 32) {
        sb_err_set(err, EIO, "runtime image: SHA-256 failed");
        goto out;
    }
    p->image_fd = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(data);
    return rc;
}

int sb_platform_open(const char *name, const sb_platform_config *cfg, sb_platform **out,
                     sb_err *err)
{
    *out = NULL;
    const struct sb_platform_ops *ops = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        if (strcmp(backends[i]->name, name) == 0)
            ops = backends[i];
    if (!ops)
        return sb_err_set(err, EINVAL, "platform '%s' is not supported by this host (known: process)",
                          name);
    if (!cfg || !cfg->runtime_path)
        return sb_err_set(err, EINVAL, "platform %s: no runtime binary given", name);
    sb_platform *p = calloc(1, sizeof *p);
    if (!p)
        return sb_err_set(err, ENOMEM, "platform %s: out of memory", name);
    p->ops = ops;
    p->image_fd = -1;
    p->sanitizer_compat = cfg->sanitizer_compat;
    p->drop_uid = cfg->drop_uid ? (uid_t)cfg->drop_uid : 65534;
    if (load_image(p, cfg->runtime_path, err) != 0) {
        free(p);
        return -1;
    }
    if (cfg->attest_key) {
        EVP_PKEY_up_ref(cfg->attest_key);
        p->attest_key = cfg->attest_key;
    }
    *out = p;
    return 0;
}

void sb_platform_close(sb_platform *p)
{
    if (!p)
        return;
    if (p->image_fd >= 0)
        close(p->image_fd);
    EVP_PKEY_free(p->attest_key);
    free(p);
}

const char *sb_platform_name(const sb_platform *p)
{
    return p->ops->name;
}

const uint8_t *sb_platform_measurement(const sb_platform *p, size_t *len)
{
    *len = sizeof p->measurement;
    return p->measurement;
}

int sb_isolate_launch(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out, sb_err *err)
{
    return p->ops->launch(p, lim, out, err);
}

int sb_platform_evidence(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                         size_t *ev_len, sb_err *err)
{
    *ev = NULL;
    *ev_len = 0;
    if (!p->ops->evidence)
        return sb_err_set(err, EINVAL, "platform %s: evidence comes from inside the isolate",
                          p->ops->name);
    return p->ops->evidence(p, binding, binding_len, ev, ev_len, err);
}

int sb_isolate_channel(const sb_isolate *iso)
{
    return iso->chan;
}

pid_t sb_isolate_pid(const sb_isolate *iso)
{
    return iso->pid;
}

unsigned sb_isolate_sandbox(const sb_isolate *iso)
{
    return iso->sandbox;
}

const char *sb_isolate_warnings(const sb_isolate *iso)
{
    return iso->warnings;
}

static void record_status(sb_isolate *iso, int st)
{
    iso->ended = 1;
    iso->pid = 0;
    if (WIFSIGNALED(st))
        iso->exit = (sb_isolate_exit){0, WTERMSIG(st)};
    else
        iso->exit = (sb_isolate_exit){1, WEXITSTATUS(st)};
}

int sb_isolate_reap(sb_isolate *iso, sb_isolate_exit *ex)
{
    if (!iso->ended) {
        int st;
        pid_t r = waitpid(iso->pid, &st, WNOHANG);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r != iso->pid)
            return 0;
        record_status(iso, st);
    }
    if (ex)
        *ex = iso->exit;
    return 1;
}

void sb_isolate_kill(sb_isolate *iso)
{
    if (iso->ended || iso->pid <= 0)
        return;
    kill(iso->pid, SIGKILL);
    int st;
    pid_t r;
    while ((r = waitpid(iso->pid, &st, 0)) < 0 && errno == EINTR) {
    }
    if (r == iso->pid)
        record_status(iso, st);
    else
        iso->ended = 1; /* someone else reaped it; it is gone either way */
}

void sb_isolate_free(sb_isolate *iso)
{
    if (!iso)
        return;
    sb_isolate_kill(iso);
    if (iso->chan >= 0)
        close(iso->chan);
    free(iso);
}

void sb_isolate_exit_describe(const sb_isolate_exit *ex, char *buf, size_t len)
{
    if (ex->exited)
        snprintf(buf, len, "exited with status %d", ex->code);
    else
        snprintf(buf, len, "killed by signal %d (%s)", ex->code, strsignal(ex->code));
}
