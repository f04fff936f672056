/* kvm.c - the "kvm" platform: the runtime in a QEMU micro-VM, one QEMU process per computation;
 * its launcher (the QEMU child below) also starts the sev-snp and tdx VMs of cvm.c.
 *
 * Open: the guest kernel and initrd (src/guestimage) are copied into sealed memfds and measured
 * once (src/measure: kernel, initrd, the fixed command line and machine shape of the accelerator);
 * every isolate boots exactly those bytes. The evidence is a PSA token signed by the host key over
 * that launch measurement: host-rooted and insecure (the host can read guest memory).
 *
 * Launch: a socketpair (the host's end is an ordinary stream socket, so the relay is unchanged),
 * then fork; in the child, in this order: descriptors (stdin /dev/null, stdout and stderr the
 * host's stderr for the guest console and QEMU's own messages, channel = 3, kernel = 4,
 * initrd = 5, for sev-snp and tdx the firmware = 7, the rest closed),
 * network/IPC/UTS namespaces where the kernel permits, when root an unprivileged uid/gid (keeping
 * /dev/kvm's group for --accel kvm, and /dev/sev's for sev-snp), rlimits (CORE=0, NOFILE, CPU),
 * PR_SET_NO_NEW_PRIVS,
 * parent-death signal = SIGKILL, execve of QEMU with an argument vector built beforehand by the
 * host (no shell) and an empty environment. QEMU then confines itself (-sandbox on: no spawning,
 * no privilege changes, no obsolete system calls).
 *
 * Not applied, and why: RLIMIT_AS (QEMU reserves address space far beyond what it uses: the TCG
 * translation buffer, guest RAM, thread stacks; the guest's memory is bounded by -m instead),
 * RLIMIT_NPROC (it counts threads, and QEMU needs its own; -sandbox on denies fork and exec), the
 * process backend's empty mount view (QEMU needs /usr, /usr/share/qemu firmware, /proc/self/fd
 * for the sealed image and /dev/kvm). */
#include "attest/attest.h"
#include "measure/measure.h"
#include "platform/platform_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define QEMU_NOFILE 256 /* QEMU's own eventfds, threads' descriptors and the three it is given */
#define REPORT_FD 6 /* below SB_CVM_QEMU_FIRMWARE_FD */

/* Refuses a /dev/kvm that cannot boot a stock kernel, naming the cause, before any computation
 * waits for a VM that spins forever. PVM ("kvm_pvm", a paravirtual KVM used for nested guests)
 * runs only PVM-enabled guest kernels; Debian's kernels are not built that way. */
static int check_kvm_device(sb_err *err)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return sb_err_set(err, errno, "--accel kvm: /dev/kvm: %s (no hardware virtualisation "
                          "here? run the host with --accel tcg)", strerror(errno));
    close(fd);
    struct stat st;
    if (stat("/sys/module/kvm_pvm", &st) == 0 && stat("/sys/module/kvm_intel", &st) != 0 &&
        stat("/sys/module/kvm_amd", &st) != 0)
        return sb_err_set(err, ENOTSUP, "--accel kvm: /dev/kvm is provided by kvm_pvm (a "
                          "paravirtual KVM), which boots only PVM-enabled guest kernels: the "
                          "guest image's Debian kernel would spin in its decompressor; run the "
                          "host with --accel tcg");
    return 0;
}

int sb_platform_find_qemu(const char *platform, const char *given, char *out, size_t len,
                          sb_err *err)
{
    static const char *const dirs[] = {"/usr/bin", "/usr/local/bin"};
    if (given) {
        if (access(given, X_OK) != 0)
            return sb_err_set(err, errno, "--qemu %s: %s", given, strerror(errno));
        snprintf(out, len, "%s", given);
        return 0;
    }
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(out, len, "%s/qemu-system-x86_64", dirs[i]);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return sb_err_set(err, ENOENT, "platform %s: no qemu-system-x86_64 in /usr/bin or "
                      "/usr/local/bin (install qemu-system-x86: scripts/setup.sh, or --qemu)",
                      platform);
}

int sb_platform_guest_image(sb_platform *p, const sb_platform_config *cfg, uint8_t **kernel,
                            size_t *klen, uint8_t **initrd, size_t *ilen, sb_err *err)
{
    if (!cfg->guest_kernel || !cfg->guest_initrd) /* before anything else: callers check first */
        return sb_err_set(err, EINVAL, "platform %s: the guest image is needed "
                          "(--guest-kernel and --guest-initrd; built as BUILD/guest/)",
                          p->ops->name);
    *kernel = *initrd = NULL;
    if (sb_platform_sealed_copy("guest kernel", cfg->guest_kernel, SB_KVM_IMAGE_MAX,
                                &p->kernel_fd, kernel, klen, err) != 0)
        return -1;
    if (sb_platform_sealed_copy("guest initrd", cfg->guest_initrd, SB_KVM_IMAGE_MAX,
                                &p->initrd_fd, initrd, ilen, err) != 0) {
        free(*kernel);
        *kernel = NULL;
        return -1;
    }
    return 0;
}

int sb_kvm_open(sb_platform *p, const sb_platform_config *cfg, sb_err *err)
{
    const char *accel = cfg->accel ? cfg->accel : "kvm";
    if (!sb_measure_kvm_cmdline(accel))
        return sb_err_set(err, EINVAL, "--accel %s: want kvm or tcg", accel);
    snprintf(p->accel, sizeof p->accel, "%s", accel);
    if (!cfg->guest_kernel || !cfg->guest_initrd)
        return sb_platform_guest_image(p, cfg, NULL, NULL, NULL, NULL, err);
    if (sb_platform_find_qemu("kvm", cfg->qemu_path, p->qemu, sizeof p->qemu, err) != 0)
        return -1;
    if (strcmp(accel, "kvm") == 0 && check_kvm_device(err) != 0)
        return -1;
    uint8_t *kernel = NULL, *initrd = NULL;
    size_t klen = 0, ilen = 0;
    int rc = -1;
    if (sb_platform_guest_image(p, cfg, &kernel, &klen, &initrd, &ilen, err) == 0)
        rc = sb_measure_kvm(kernel, klen, initrd, ilen, accel, p->measurement, err);
    free(kernel);
    free(initrd);
    return rc;
}

/* Guest RAM in MiB: the isolate's budget plus the guest kernel's share, never below the minimum. */
static unsigned long long guest_mib(const sb_isolate_limits *lim)
{
    uint64_t budget = lim && lim->memory ? lim->memory : 0;
    uint64_t bytes = budget + SB_KVM_GUEST_OVERHEAD;
    if (bytes < SB_KVM_GUEST_MIN)
        bytes = SB_KVM_GUEST_MIN;
    return (unsigned long long)((bytes + (1u << 20) - 1) >> 20);
}

int sb_platform_qemu_argv(const sb_platform *p, const sb_isolate_limits *lim, char ***argv_out,
                          sb_err *err)
{
    *argv_out = NULL;
    if (p->kernel_fd < 0)
        return sb_err_set(err, EINVAL, "platform %s has no QEMU command line", p->ops->name);
    if (p->cvm) {
        sb_cvm_launch l = {.platform = p->ops->name, .qemu = p->qemu, .firmware = p->firmware,
                           .cmdline = sb_measure_cvm_cmdline(p->ops->name),
                           .vcpu_type = p->vcpu_type, .vcpus = p->vcpus,
                           .memory_mib = guest_mib(lim)};
        return sb_platform_cvm_argv(&l, argv_out, err);
    }
    char mem[32], kernel[32], initrd[32], chardev[64], port[64];
    snprintf(mem, sizeof mem, "%lluM", guest_mib(lim));
    snprintf(kernel, sizeof kernel, "/proc/self/fd/%d", SB_KVM_QEMU_KERNEL_FD);
    snprintf(initrd, sizeof initrd, "/proc/self/fd/%d", SB_KVM_QEMU_INITRD_FD);
    snprintf(chardev, sizeof chardev, "socket,id=channel,fd=%d", SB_KVM_QEMU_CHANNEL_FD);
    snprintf(port, sizeof port, "virtserialport,chardev=channel,name=%s", SB_KVM_PORT_NAME);
    /* Every element of the measured machine shape (src/measure/kvm.c) appears here. */
    const char *const args[] = {
        p->qemu, "-accel", p->accel, "-M", "microvm,pit=on", "-cpu", sb_measure_kvm_cpu(p->accel),
        "-smp", "1", "-m", mem,
        "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        "-kernel", kernel, "-initrd", initrd, "-append", sb_measure_kvm_cmdline(p->accel),
        "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
        "-chardev", chardev, "-device", "virtio-serial-device", "-device", port,
        /* strongbox-init ends QEMU with the runtime's status through it (sb_kvm_exit_status). */
        "-device", "isa-debug-exit,iobase=0xf4,iosize=1",
    };
    return sb_platform_argv_pack(args, sizeof args / sizeof *args, argv_out, err);
}

/* ---- the child between fork and exec: async-signal-safe calls only ---- */

enum { STEP_FDS, STEP_UID, STEP_RLIMIT, STEP_NNP, STEP_PDEATHSIG, STEP_EXEC, STEP_COUNT };
static const char *const step_names[STEP_COUNT] = {
    "descriptor setup", "uid/gid switch", "rlimits", "PR_SET_NO_NEW_PRIVS",
    "parent-death signal", "execve of QEMU",
};

struct child_args {
    int chan, kernel, initrd, report, null_fd;
    int firmware; /* sev-snp, tdx: SB_CVM_QEMU_FIRMWARE_FD in QEMU; -1 for kvm */
    int drop;
    uid_t uid;
    gid_t kvm_gid; /* 0: none to keep */
    gid_t sev_gid; /* sev-snp: /dev/sev's group (QEMU opens it too); 0: none */
    uint32_t cpu_seconds;
    char **argv;
};

static void child_fail(int fd, int step)
{
    int r[2] = {step, errno};
    ssize_t n = write(fd, r, sizeof r);
    (void)n;
    _exit(127);
}

static int arrange_fds(const struct child_args *a)
{
    int src[] = {a->chan, a->kernel, a->initrd, a->report, a->firmware};
    int tmp[5] = {-1, -1, -1, -1, -1};
    for (int i = 0; i < 5; i++) /* above every target number first, so no dup2 clobbers a source */
        if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10)) < 0)
            return -1;
    /* The guest console (QEMU's stdout) joins the host's stderr: diagnostics, like the process
     * platform's runtime stderr. */
    if (dup2(a->null_fd, 0) < 0 || dup2(2, 1) < 0 || dup2(tmp[0], SB_KVM_QEMU_CHANNEL_FD) < 0 ||
        dup2(tmp[1], SB_KVM_QEMU_KERNEL_FD) < 0 || dup2(tmp[2], SB_KVM_QEMU_INITRD_FD) < 0 ||
        dup3(tmp[3], REPORT_FD, O_CLOEXEC) < 0 ||
        (tmp[4] >= 0 && dup2(tmp[4], SB_CVM_QEMU_FIRMWARE_FD) < 0))
        return -1;
    return close_range(tmp[4] >= 0 ? SB_CVM_QEMU_FIRMWARE_FD + 1 : REPORT_FD + 1, ~0U, 0);
}

static void kvm_child(const struct child_args *a)
{
    int rep = a->report;
    if (arrange_fds(a) != 0)
        child_fail(rep, STEP_FDS);
    rep = REPORT_FD;
    /* Best effort: QEMU has no NIC, so a network namespace only removes what it cannot use. */
    (void)unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS);
    if (a->drop) {
        /* Raw syscalls: glibc's wrappers would wait for the (cloned-away) threads of the host. */
        gid_t g = (gid_t)a->uid, groups[2];
        int n = 0;
        if (a->kvm_gid)
            groups[n++] = a->kvm_gid;
        if (a->sev_gid && a->sev_gid != a->kvm_gid)
            groups[n++] = a->sev_gid;
        if (syscall(SYS_setgroups, n, groups) != 0 ||
            syscall(SYS_setresgid, g, g, g) != 0 || syscall(SYS_setresuid, a->uid, a->uid, a->uid))
            child_fail(rep, STEP_UID);
    }
    struct rlimit zero = {0, 0}, files = {QEMU_NOFILE, QEMU_NOFILE};
    struct rlimit cpu = {a->cpu_seconds, (rlim_t)a->cpu_seconds + 1};
    if (setrlimit(RLIMIT_CORE, &zero) != 0 || setrlimit(RLIMIT_NOFILE, &files) != 0 ||
        (a->cpu_seconds && setrlimit(RLIMIT_CPU, &cpu) != 0))
        child_fail(rep, STEP_RLIMIT);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(rep, STEP_NNP);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        child_fail(rep, STEP_PDEATHSIG);
    char *const no_env[] = {NULL};
    execve(a->argv[0], a->argv, no_env);
    child_fail(rep, STEP_EXEC);
}

/* EOF on the report pipe: the exec happened. Returns 0, or -1 with the failed step named. */
static int await_exec(int fd, sb_err *err)
{
    int r[2];
    ssize_t n;
    while ((n = read(fd, r, sizeof r)) < 0 && errno == EINTR) {
    }
    if (n == 0)
        return 0;
    if (n != (ssize_t)sizeof r || r[0] < 0 || r[0] >= STEP_COUNT)
        return sb_err_set(err, EIO, "QEMU launch: garbled report from the child");
    return sb_err_set(err, r[1], "QEMU launch: %s failed: %s", step_names[r[0]], strerror(r[1]));
}

/* The group of a device QEMU must open after the uid drop, or 0 (none, or root's). */
static gid_t device_group(const sb_platform *p, const char *dev)
{
    struct stat st;
    return strcmp(p->accel, "kvm") == 0 && stat(dev, &st) == 0 ? st.st_gid : 0;
}

int sb_kvm_launch(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out, sb_err *err)
{
    *out = NULL;
    sb_isolate *iso = calloc(1, sizeof *iso);
    char **argv = NULL;
    int sv[2] = {-1, -1}, rp[2] = {-1, -1};
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (!iso || sb_platform_qemu_argv(p, lim, &argv, err) != 0) {
        if (!iso)
            sb_err_set(err, ENOMEM, "%s launch: out of memory", p->ops->name);
        goto fail;
    }
    iso->chan = -1;
    iso->platform = p;
    if (null_fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        pipe2(rp, O_CLOEXEC) != 0) {
        sb_err_set(err, errno, "%s launch: cannot create the channel: %s", p->ops->name,
                   strerror(errno));
        goto fail;
    }
    struct child_args a = {
        .chan = sv[1], .kernel = p->kernel_fd, .initrd = p->initrd_fd, .report = rp[1],
        .firmware = p->firmware_fd,
        .null_fd = null_fd, .drop = geteuid() == 0, .uid = p->drop_uid, .kvm_gid = device_group(p, "/dev/kvm"),
        .sev_gid = p->cvm && strcmp(p->ops->name, "sev-snp") == 0 ? device_group(p, "/dev/sev") : 0,
        .cpu_seconds = lim ? lim->cpu_seconds : 0, .argv = argv,
    };
    pid_t pid = fork();
    if (pid < 0) {
        sb_err_set(err, errno, "%s launch: fork: %s", p->ops->name, strerror(errno));
        goto fail;
    }
    if (pid == 0)
        kvm_child(&a); /* never returns */
    close(sv[1]);
    close(rp[1]);
    sv[1] = rp[1] = -1;
    iso->pid = pid;
    iso->sandbox = SB_SANDBOX_RLIMITS | SB_SANDBOX_NO_NEW_PRIVS |
                   SB_SANDBOX_UID_DROPPED * (unsigned)a.drop;
    if (await_exec(rp[0], err) != 0 || fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0) {
        if (!err->msg[0])
            sb_err_set(err, errno, "%s launch: fcntl: %s", p->ops->name, strerror(errno));
        iso->chan = sv[0];
        sv[0] = -1;
        sb_isolate_free(iso); /* kills and reaps the child */
        iso = NULL;
        goto fail;
    }
    iso->chan = sv[0];
    close(rp[0]);
    close(null_fd);
    free(argv);
    *out = iso;
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (rp[i] >= 0)
            close(rp[i]);
    }
    if (null_fd >= 0)
        close(null_fd);
    free(argv);
    free(iso);
    return -1;
}

/* QEMU's exit status -> the runtime's. strongbox-init writes value = 1 + status (at most 62) or
 * 1 + 63 + signal to isa-debug-exit and QEMU exits with (value << 1) | 1, so an odd status of 3
 * or more is the runtime's; anything else (0: power-off, 1: QEMU's own error, a signal) is
 * QEMU's and stays as it is. */
void sb_kvm_exit_status(sb_isolate_exit *ex)
{
    if (!ex->exited || ex->code < 3 || !(ex->code & 1))
        return;
    int v = (ex->code >> 1) - 1;
    *ex = v >= 63 ? (sb_isolate_exit){0, v - 63} : (sb_isolate_exit){1, v};
}

int sb_kvm_evidence(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                    size_t *ev_len, sb_err *err)
{
    if (!p->attest_key)
        return sb_err_set(err, EINVAL, "kvm evidence: no host attestation key configured");
    if (binding_len != SB_BINDING_LEN)
        return sb_err_set(err, EINVAL, "kvm evidence: binding is %zu bytes, not %d", binding_len,
                          SB_BINDING_LEN);
    if (sb_host_evidence_create("kvm", p->attest_key, p->measurement, binding, ev, ev_len, err)) {
        sb_err_prefix(err, "kvm evidence");
        return -1;
    }
    return 0;
}
