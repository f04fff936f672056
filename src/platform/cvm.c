/* cvm.c - the confidential-VM platforms, sev-snp and tdx: their opening checks and QEMU command
 * lines. Launching is the kvm launcher's (kvm.c: fork, descriptors, uid, rlimits, execve);
 * evidence comes from inside (the runtime's src/tsm), so these platforms sign nothing.
 *
 * Open refuses, naming the missing piece, what could only fail later inside a computation: no
 * --firmware, an unknown vCPU model, a QEMU without the guest object (`-object help`; bookworm's
 * 7.2 has neither), a host without the device (/dev/sev and kvm_amd sev_snp; kvm_intel tdx).
 * The firmware, like the guest image, is copied into a sealed memfd (QEMU, running as nobody,
 * reads the bytes the host hashed). The platform measurement the host reports is their SHA-256
 * (informational: the hardware measures the launch; `strongbox measure` computes what it is).
 *
 * Everything that enters the launch measurement is fixed or comes from the caller, who must use the same values when it
 * computes the expected measurement (src/measure): firmware, kernel, initrd, command line, vCPU
 * count and model. Like the kvm platform: no NIC, no disk, one virtio-serial port on the
 * socketpair (descriptor 3), kernel and initrd from sealed memfds (descriptors 4 and 5).
 *
 * sev-snp: q35 with `sev-snp-guest`, kernel-hashes=on (OVMF puts the SHA-256 of kernel, initrd
 *   and command line in the measured hash table), the fixed guest policy SB_SNP_POLICY (SMT
 *   allowed; debug, migration agent and single-socket off), cbitpos 51, reduced-phys-bits 1,
 *   an EPYC vCPU model, firmware = an AmdSev OVMF (`-bios`). virtio devices use the IOMMU
 *   platform feature so that the guest bounces DMA through shared pages.
 * tdx: q35 with `tdx-guest` (attributes: no DEBUG; GetQuote goes to Intel's QGS on the host,
 *   vsock CID 2 port 4050, its default: not measured), split irqchip, no HPET, SMM or PIC (as the
 *   measured TD shape expects), `-cpu host`, firmware = TDVF (`-bios`). */
#include "measure/measure.h"
#include "platform/platform_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_OUT_MAX (64u << 10) /* `-object help` lists ~150 names */
#define PROBE_TIMEOUT_MS 10000

struct cvm_kind {
    const char *name, *object, *qemu_version;
};
static const struct cvm_kind kinds[] = {
    {"sev-snp", "sev-snp-guest", "9.1"},
    {"tdx", "tdx-guest", "10.1"},
};

/* Runs `QEMU -object help` (no shell, empty environment) and collects its standard output. */
static int probe_objects(const char *qemu, char *out, size_t cap, sb_err *err)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return sb_err_set(err, errno, "probing %s: pipe: %s", qemu, strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *const argv[] = {(char *)qemu, (char *)"-object", (char *)"help", NULL};
    char *const env[] = {NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, qemu, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return sb_err_set(err, rc, "probing %s: %s", qemu, strerror(rc));
    }
    size_t len = 0;
    struct pollfd pf = {pfd[0], POLLIN, 0};
    ssize_t n = 1;
    while (n > 0 && len + 1 < cap) {
        int r = poll(&pf, 1, PROBE_TIMEOUT_MS);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* a QEMU that hangs is treated like one without the object */
        n = read(pfd[0], out + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            n = 1;
        else if (n > 0)
            len += (size_t)n;
    }
    out[len] = 0;
    close(pfd[0]);
    kill(pid, SIGKILL); /* harmless if it has exited: not yet reaped, the pid is still ours */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    return 0;
}

/* 1 if a line of `list` is exactly `name` (QEMU indents each: "  sev-snp-guest"). */
static int lists_object(const char *list, const char *name)
{
    size_t nl = strlen(name);
    for (const char *l = list; *l;) {
        l += strspn(l, " \t");
        size_t w = strcspn(l, " \t\r\n");
        if (w == nl && strncmp(l, name, nl) == 0)
            return 1;
        l += strcspn(l, "\n");
        l += *l == '\n';
    }
    return 0;
}

static int check_qemu(const struct cvm_kind *k, const char *qemu, sb_err *err)
{
    char *out = malloc(PROBE_OUT_MAX);
    if (!out)
        return sb_err_set(err, ENOMEM, "platform %s: out of memory", k->name);
    int rc = probe_objects(qemu, out, PROBE_OUT_MAX, err);
    if (rc == 0 && !lists_object(out, k->object))
        rc = sb_err_set(err, ENOTSUP, "platform %s: %s has no '%s' object (`%s -object help`): "
                        "QEMU >= %s is needed (bookworm's 7.2 has none; name a newer one with "
                        "--qemu)", k->name, qemu, k->object, qemu, k->qemu_version);
    free(out);
    return rc;
}

/* 'Y' or '1' in a kvm module parameter file under root. */
static int param_on(const char *root, const char *path)
{
    char full[512], c = 0;
    snprintf(full, sizeof full, "%s%s", root, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, &c, 1);
    close(fd);
    return n == 1 && (c == 'Y' || c == 'y' || c == '1');
}

static int check_device(const struct cvm_kind *k, const char *root, sb_err *err)
{
    char path[512];
    struct stat st;
    if (strcmp(k->name, "sev-snp") == 0) {
        snprintf(path, sizeof path, "%s/dev/sev", root);
        if (stat(path, &st) != 0)
            return sb_err_set(err, ENODEV, "platform sev-snp: %s: %s (no SEV firmware: an AMD "
                              "EPYC host with SEV-SNP enabled in the BIOS and kvm_amd loaded is "
                              "needed)", path, strerror(errno));
        if (!param_on(root, "/sys/module/kvm_amd/parameters/sev_snp"))
            return sb_err_set(err, ENODEV, "platform sev-snp: %s/sys/module/kvm_amd/parameters/"
                              "sev_snp is not Y (a host kernel >= 6.11 with SNP host support, "
                              "kvm_amd sev_snp=1, is needed)", root);
        return 0;
    }
    if (!param_on(root, "/sys/module/kvm_intel/parameters/tdx"))
        return sb_err_set(err, ENODEV, "platform tdx: %s/sys/module/kvm_intel/parameters/tdx is "
                          "not Y (a host kernel >= 6.16 with KVM TDX support, kvm_intel tdx=1, "
                          "on a TDX-enabled CPU is needed)", root);
    return 0;
}

static int check_shape(const struct cvm_kind *k, const sb_platform_config *cfg, sb_platform *p,
                       sb_err *err)
{
    if (!cfg->firmware)
        return sb_err_set(err, EINVAL, "platform %s: --firmware is required (%s)", k->name,
                          strcmp(k->name, "tdx") == 0 ? "TDVF: edk2 OvmfPkg/IntelTdx"
                                                      : "OVMF built from edk2 OvmfPkg/AmdSev");
    snprintf(p->firmware, sizeof p->firmware, "/proc/self/fd/%d", SB_CVM_QEMU_FIRMWARE_FD);
    p->vcpus = cfg->vcpus ? cfg->vcpus : 1;
    if (p->vcpus > 64)
        return sb_err_set(err, EINVAL, "--vcpus %u: want 1-64", p->vcpus);
    const char *type = cfg->vcpu_type;
    if (strcmp(k->name, "tdx") == 0) {
        if (type)
            return sb_err_set(err, EINVAL, "--vcpu-type: platform tdx uses -cpu host (TDX "
                              "fixes the CPUID the TD sees)");
        return 0;
    }
    uint32_t sig;
    if (!type)
        type = "EPYC-v4";
    if (strlen(type) >= sizeof p->vcpu_type || sb_snp_vcpu_sig(type, &sig) != 0)
        return sb_err_set(err, EINVAL, "--vcpu-type %s: not a model the launch digest knows "
                          "(known: %s)", type, sb_snp_vcpu_names());
    snprintf(p->vcpu_type, sizeof p->vcpu_type, "%s", type);
    return 0;
}

/* The image this build makes for sev-snp and tdx (src/guestimage: guest-image-cvm), used when
 * neither --guest-kernel nor --guest-initrd is given: what `strongbox measure --guest-image`
 * measures. One image serves both: its kernel (scripts/guest-kernel-cvm.pin) was checked, when
 * fetched, for the SNP and the TDX guest code and drivers. */
static int default_image(const struct cvm_kind *k, char *kernel, char *initrd, size_t len,
                         sb_err *err)
{
    const char *cmdline;
    if (sb_measure_cvm_image(SB_GUEST_CVM_IMAGE_DIR, k->name, kernel, initrd, len, &cmdline) != 0)
        return sb_err_set(err, ENAMETOOLONG, "platform %s: the default guest image's path is "
                          "too long", k->name);
    if (access(kernel, R_OK) != 0 || access(initrd, R_OK) != 0)
        return sb_err_set(err, ENOENT, "platform %s: no --guest-kernel/--guest-initrd, and the "
                          "default image %s is not built (scripts/setup.sh --cvm-kernel, then "
                          "cmake --build BUILD --target guest-image-cvm)", k->name,
                          SB_GUEST_CVM_IMAGE_DIR);
    return 0;
}

int sb_cvm_open(sb_platform *p, const sb_platform_config *cfg, sb_err *err)
{
    const struct cvm_kind *k = strcmp(p->ops->name, "tdx") == 0 ? &kinds[1] : &kinds[0];
    p->cvm = 1;
    snprintf(p->accel, sizeof p->accel, "kvm");
    if (cfg->accel && strcmp(cfg->accel, "kvm") != 0)
        return sb_err_set(err, EINVAL, "--accel %s: platform %s runs on KVM only", cfg->accel,
                          k->name);
    if (check_shape(k, cfg, p, err) != 0)
        return -1;
    sb_platform_config with_image = *cfg;
    char kernel_path[4096], initrd_path[4096];
    if (!cfg->guest_kernel && !cfg->guest_initrd) {
        if (default_image(k, kernel_path, initrd_path, sizeof kernel_path, err) != 0)
            return -1;
        with_image.guest_kernel = kernel_path;
        with_image.guest_initrd = initrd_path;
        cfg = &with_image;
    }
    if (!cfg->guest_kernel || !cfg->guest_initrd)
        return sb_platform_guest_image(p, cfg, NULL, NULL, NULL, NULL, err);
    if (sb_platform_find_qemu(k->name, cfg->qemu_path, p->qemu, sizeof p->qemu, err) != 0 ||
        check_qemu(k, p->qemu, err) != 0 ||
        check_device(k, cfg->device_root ? cfg->device_root : "", err) != 0)
        return -1;
    uint8_t *fw = NULL, *kernel = NULL, *initrd = NULL;
    size_t fwlen = 0, klen = 0, ilen = 0;
    unsigned mlen = 0;
    int rc = -1;
    if (sb_platform_sealed_copy("firmware", cfg->firmware, SB_KVM_IMAGE_MAX, &p->firmware_fd, &fw,
                                &fwlen, err) != 0)
        sb_err_prefix(err, "--firmware");
    else if (sb_platform_guest_image(p, cfg, &kernel, &klen, &initrd, &ilen, err) == 0)
        rc = EVP_Digest(fw, fwlen, p->measurement, &mlen, EVP_sha256(), NULL) && mlen == 32
                 ? 0 : sb_err_set(err, EIO, "--firmware: SHA-256 failed");
    free(fw);
    free(kernel);
    free(initrd);
    return rc;
}

int sb_platform_cvm_argv(const sb_cvm_launch *l, char ***argv_out, sb_err *err)
{
    *argv_out = NULL;
    int snp = l->platform && strcmp(l->platform, "sev-snp") == 0;
    int tdx = l->platform && strcmp(l->platform, "tdx") == 0;
    if (!snp && !tdx)
        return sb_err_set(err, EINVAL, "no confidential-VM command line for platform '%s'",
                          l->platform ? l->platform : "(none)");
    if (!l->qemu || !l->firmware || !l->cmdline)
        return sb_err_set(err, EINVAL, "%s: QEMU, firmware and kernel command line are needed",
                          l->platform);
    if (l->vcpus < 1 || l->vcpus > 64 || l->memory_mib < 256 || l->memory_mib > (1u << 20))
        return sb_err_set(err, EINVAL, "%s: want 1-64 vCPUs and 256 MiB - 1 TiB of memory",
                          l->platform);
    if (snp && (!l->vcpu_type || strncmp(l->vcpu_type, "EPYC", 4) != 0 ||
                strpbrk(l->vcpu_type, ", =")))
        return sb_err_set(err, EINVAL, "sev-snp: the vCPU model must be an EPYC model (measured: "
                          "it defines the VMSA), not '%s'", l->vcpu_type ? l->vcpu_type : "");
    char smp[16], mem[32], kernel[32], initrd[32], chardev[64], port[128], object[160], ram[96];
    snprintf(smp, sizeof smp, "%u", l->vcpus);
    snprintf(mem, sizeof mem, "%lluM", l->memory_mib);
    snprintf(ram, sizeof ram, "memory-backend-memfd,id=ram0,size=%lluM,share=true",
             l->memory_mib);
    snprintf(kernel, sizeof kernel, "/proc/self/fd/%d", SB_KVM_QEMU_KERNEL_FD);
    snprintf(initrd, sizeof initrd, "/proc/self/fd/%d", SB_KVM_QEMU_INITRD_FD);
    snprintf(chardev, sizeof chardev, "socket,id=channel,fd=%d", SB_KVM_QEMU_CHANNEL_FD);
    snprintf(port, sizeof port, "virtserialport,chardev=channel,name=%s", SB_CVM_PORT_NAME);
    if (snp)
        snprintf(object, sizeof object, "sev-snp-guest,id=cvm0,cbitpos=51,reduced-phys-bits=1,"
                 "policy=0x%llx,kernel-hashes=on", (unsigned long long)SB_SNP_POLICY);
    else
        snprintf(object, sizeof object, "tdx-guest,id=cvm0,quote-generation-socket.type=vsock,"
                 "quote-generation-socket.cid=2,quote-generation-socket.port=4050");
    const char *machine = snp ? "q35,confidential-guest-support=cvm0,memory-backend=ram0,vmport=off"
                              : "q35,confidential-guest-support=cvm0,memory-backend=ram0,"
                                "kernel-irqchip=split,hpet=off,smm=off,pic=off";
    const char *const args[] = {
        l->qemu, "-accel", "kvm", "-M", machine, "-object", object, "-object", ram,
        "-cpu", snp ? l->vcpu_type : "host", "-smp", smp, "-m", mem, "-bios", l->firmware,
        "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        "-kernel", kernel, "-initrd", initrd, "-append", l->cmdline,
        "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
        "-chardev", chardev,
        "-device", "virtio-serial-pci,disable-legacy=on,iommu_platform=true",
        "-device", port,
    };
    return sb_platform_argv_pack(args, sizeof args / sizeof *args, argv_out, err);
}
