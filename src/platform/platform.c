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

/* Copies a file into a sealed memfd and returns the very same bytes (*data, malloc'd) for the
 * caller to hash: what is measured is what every isolate gets, even if the file on disk changes
 * afterwards. */
int sb_platform_sealed_copy(const char *what, const char *path, size_t max, int *fd_out,
                            uint8_t **data_out, size_t *len_out, sb_err *err)
{
    uint8_t *data;
    size_t len;
    if (sb_read_file(path, max, &data, &len, err) != 0) {
        sb_err_prefix(err, "%s", what);
        return -1;
    }
    int fd = memfd_create(what, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        sb_err_set(err, errno, "%s: memfd_create: %s", what, strerror(errno));
        goto fail;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sb_err_set(err, errno, "%s: copy: %s", what, strerror(errno));
            goto fail;
        }
        done += (size_t)n;
    }
    if (fchmod(fd, 0555) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        sb_err_set(err, errno, "%s: sealing: %s", what, strerror(errno));
        goto fail;
    }
    *fd_out = fd;
    *data_out = data;
    *len_out = len;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(data);
    return -1;
}

int sb_platform_argv_pack(const char *const *args, size_t n, char ***out, sb_err *err)
{
    size_t bytes = (n + 1) * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(args[i]) + 1;
    char **v = malloc(bytes);
    if (!v)
        return sb_err_set(err, ENOMEM, "QEMU command line: out of memory");
    char *s = (char *)(v + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(args[i]) + 1;
        v[i] = memcpy(s, args[i], l);
        s += l;
    }
    v[n] = NULL;
    *out = v;
    return 0;
}

static int process_open(sb_platform *p, const sb_platform_config *cfg, sb_err *err)
{
    uint8_t *data;
    size_t len;
    if (!cfg->runtime_path)
        return sb_err_set(err, EINVAL, "platform process: no runtime binary given");
    if (sb_platform_sealed_copy("runtime image", cfg->runtime_path, SB_RUNTIME_IMAGE_MAX,
                                &p->image_fd, &data, &len, err) != 0)
        return -1;
    unsigned int mlen = 0;
    int ok = EVP_Digest(data, len, p->measurement, &mlen, EVP_sha256(), NULL) && mlen == 32;
    free(data);
    return ok ? 0 : sb_err_set(err, EIO, "runtime image: SHA-256 failed");
}

static const struct sb_platform_ops process_ops = {"process", process_open, 30,
                                                   sb_process_launch, sb_process_evidence};
/* Host-rooted like process; the runtime runs in a QEMU micro-VM (kvm.c). */
static const struct sb_platform_ops kvm_ops = {"kvm", sb_kvm_open, 60, sb_kvm_launch,
                                               sb_kvm_evidence};
/* Confidential VMs (cvm.c) through the same QEMU launcher; evidence from inside the isolate.
 * OVMF/TDVF and the guest's memory acceptance make their boot slower than a micro-VM's. */
static const struct sb_platform_ops snp_ops = {"sev-snp", sb_cvm_open, 120, sb_kvm_launch, NULL};
static const struct sb_platform_ops tdx_ops = {"tdx", sb_cvm_open, 120, sb_kvm_launch, NULL};
static const struct sb_platform_ops *const backends[] = {&process_ops, &kvm_ops, &snp_ops,
                                                         &tdx_ops};

int sb_platform_open(const char *name, const sb_platform_config *cfg, sb_platform **out,
                     sb_err *err)
{
    *out = NULL;
    const struct sb_platform_ops *ops = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        if (strcmp(backends[i]->name, name) == 0)
            ops = backends[i];
    if (!ops)
        return sb_err_set(err, EINVAL,
                          "platform '%s' is not supported by this host (known: process, kvm, "
                          "sev-snp, tdx)",
                          name ? name : "(none)");
    if (!cfg)
        return sb_err_set(err, EINVAL, "platform %s: no configuration given", name);
    sb_platform *p = calloc(1, sizeof *p);
    if (!p)
        return sb_err_set(err, ENOMEM, "platform %s: out of memory", name);
    p->ops = ops;
    p->image_fd = p->kernel_fd = p->initrd_fd = p->firmware_fd = -1;
    p->sanitizer_compat = cfg->sanitizer_compat;
    p->drop_uid = cfg->drop_uid ? (uid_t)cfg->drop_uid : 65534;
    if (ops->open(p, cfg, err) != 0) {
        sb_platform_close(p);
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
    int fds[] = {p->image_fd, p->kernel_fd, p->initrd_fd, p->firmware_fd};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
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

unsigned sb_platform_ready_timeout(const sb_platform *p)
{
    /* Under TCG a boot alone takes seconds and a busy host stretches it: give it twice as long. */
    return p->ops->ready_timeout_s * (strcmp(p->accel, "tcg") == 0 ? 2 : 1);
}

const char *sb_platform_ready_hint(const sb_platform *p)
{
    if (p->ops == &kvm_ops && strcmp(p->accel, "kvm") == 0)
        return " (the VM did not start its runtime: if this /dev/kvm cannot run the guest kernel, "
               "as a nested or paravirtual KVM may not, run the host with --accel tcg)";
    return "";
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
    if (iso->platform && iso->platform->ops == &kvm_ops)
        sb_kvm_exit_status(&iso->exit); /* the runtime's status, not QEMU's */
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
