/* test_measure - the kvm launch measurement (src/measure) and the QEMU command line the kvm
 * platform builds from the same definition (src/platform/kvm.c). No VM is started here. */
#include "../common/check.h"
#include "attest/attest.h"
#include "attest/claims.h"
#include "measure/measure.h"
#include "platform/platform.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The definition as docs/attestation.md writes it, computed independently of src/measure. */
static void documented(const uint8_t *k, size_t kl, const uint8_t *i, size_t il, const char *cmd,
                       const char *shape, uint8_t out[32])
{
    uint8_t kh[32], ih[32];
    EVP_Digest(k, kl, kh, NULL, EVP_sha256(), NULL);
    EVP_Digest(i, il, ih, NULL, EVP_sha256(), NULL);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, "strongbox-kvm-launch-v1\0", 24);
    EVP_DigestUpdate(c, kh, 32);
    EVP_DigestUpdate(c, ih, 32);
    const char *parts[2] = {cmd, shape};
    for (int n = 0; n < 2; n++) {
        uint32_t len = (uint32_t)strlen(parts[n]);
        uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                         (uint8_t)len};
        EVP_DigestUpdate(c, be, 4);
        EVP_DigestUpdate(c, parts[n], len);
    }
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

static void test_definition(void)
{
    uint8_t kernel[100], initrd[60], m[32], want[32], other[32];
    sb_err err = {0};
    for (size_t i = 0; i < sizeof kernel; i++)
        kernel[i] = (uint8_t)i;
    memset(initrd, 0x5a, sizeof initrd);
    const char *accels[] = {"kvm", "tcg"};
    for (int a = 0; a < 2; a++) {
        CHECK(sb_measure_kvm(kernel, sizeof kernel, initrd, sizeof initrd, accels[a], m, &err) == 0);
        documented(kernel, sizeof kernel, initrd, sizeof initrd, sb_measure_kvm_cmdline(accels[a]),
                   sb_measure_kvm_shape(accels[a]), want);
        CHECKF(memcmp(m, want, 32) == 0, "%s: the code and docs/attestation.md disagree", accels[a]);
    }
    /* Every input counts: one kernel byte, one initrd byte, the accelerator's command line. */
    CHECK(sb_measure_kvm(kernel, sizeof kernel, initrd, sizeof initrd, "kvm", m, &err) == 0);
    kernel[50] ^= 1;
    CHECK(sb_measure_kvm(kernel, sizeof kernel, initrd, sizeof initrd, "kvm", other, &err) == 0);
    CHECK(memcmp(m, other, 32) != 0);
    kernel[50] ^= 1;
    initrd[59] ^= 1;
    CHECK(sb_measure_kvm(kernel, sizeof kernel, initrd, sizeof initrd, "kvm", other, &err) == 0);
    CHECK(memcmp(m, other, 32) != 0);
    initrd[59] ^= 1;
    CHECK(sb_measure_kvm(kernel, sizeof kernel, initrd, sizeof initrd, "tcg", other, &err) == 0);
    CHECK(memcmp(m, other, 32) != 0);
    /* Moving bytes between kernel and initrd is another launch too. */
    CHECK(sb_measure_kvm(kernel, sizeof kernel - 1, initrd, sizeof initrd, "kvm", other, &err) == 0);
    CHECK(memcmp(m, other, 32) != 0);

    CHECK(sb_measure_kvm(kernel, 1, initrd, 1, "hvf", m, &err) == -1);
    CHECK(strstr(err.msg, "'hvf' is not kvm or tcg") != NULL);
    CHECK(sb_measure_kvm_cmdline(NULL) == NULL && sb_measure_kvm_shape("xen") == NULL);
}

static void test_cmdline(void)
{
    const char *kvm = sb_measure_kvm_cmdline("kvm"), *tcg = sb_measure_kvm_cmdline("tcg");
    size_t kl = strlen(kvm), tl = strlen(tcg);
    /* strongbox-init takes the platform from the words after "--". */
    CHECK(kl > 7 && strcmp(kvm + kl - 7, " -- kvm") == 0);
    CHECK(tl > 7 && strcmp(tcg + tl - 7, " -- kvm") == 0);
    CHECK(strstr(tcg, "tsc_early_khz=") != NULL && strstr(kvm, "tsc_early_khz") == NULL);
    CHECK(strstr(kvm, "console=ttyS0") && strstr(kvm, "panic=-1"));
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/sb-measure-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int argv_has(char **v, const char *a, const char *b)
{
    for (size_t i = 0; v[i]; i++)
        if (strcmp(v[i], a) == 0 && (!b || (v[i + 1] && strcmp(v[i + 1], b) == 0)))
            return 1;
    return 0;
}

/* kvm evidence: a host-signed token over the launch measurement that only the kvm verifier takes;
 * a process token (same key) never passes as kvm evidence, nor the other way round. */
static void test_evidence(sb_platform_config *cfg, const uint8_t measurement[32])
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    sb_platform *p = NULL;
    sb_err err = {0};
    uint8_t binding[SB_BINDING_LEN], *ev = NULL, *pev = NULL;
    size_t len = 0, plen = 0;
    memset(binding, 7, sizeof binding);
    CHECK(sb_platform_open("kvm", cfg, &p, &err) == 0);
    CHECK(p && sb_platform_evidence(p, binding, sizeof binding, &ev, &len, &err) == -1 &&
          strstr(err.msg, "no host attestation key"));
    sb_platform_close(p);
    cfg->attest_key = key;
    CHECK(sb_platform_open("kvm", cfg, &p, &err) == 0);
    CHECKF(p && sb_platform_evidence(p, binding, sizeof binding, &ev, &len, &err) == 0, "%s",
           err.msg);
    CHECK(sb_process_evidence_create(key, measurement, binding, &pev, &plen, &err) == 0);
    sb_trust_anchors anchors = {.keys = &key, .n_keys = 1};
    sb_claims c;
    CHECKF(ev && sb_verify_kvm(ev, len, &anchors, 0, &c, &err) == 0, "%s", err.msg);
    CHECK(strcmp(c.platform, "kvm") == 0 && c.debug == 1 && c.n_measurements == 1);
    CHECK(strcmp(c.measurements[0].name, "launch") == 0 && c.measurements[0].len == 32 &&
          memcmp(c.measurements[0].value, measurement, 32) == 0);
    CHECK(c.report_data_len == SB_BINDING_LEN && memcmp(c.report_data, binding, 64) == 0);
    CHECK(sb_verify_process(ev, len, &anchors, 0, &c, &err) == -1 && strstr(err.msg, "profile"));
    CHECK(sb_verify_kvm(pev, plen, &anchors, 0, &c, &err) == -1 && strstr(err.msg, "profile"));
    const sb_platform_info *info = sb_attest_platform("kvm");
    CHECK(info && info->verify == sb_verify_kvm && !info->hardware && info->device_keyed);
    free(ev);
    free(pev);
    sb_platform_close(p);
    cfg->attest_key = NULL;
    EVP_PKEY_free(key);
}

static void test_files_and_platform(void)
{
    char *kernel = write_temp("a kernel"), *initrd = write_temp("an initrd");
    uint8_t m[32], want[32];
    sb_err err = {0};
    CHECK(sb_measure_kvm_files(kernel, initrd, "tcg", m, &err) == 0);
    CHECK(sb_measure_kvm((const uint8_t *)"a kernel", 8, (const uint8_t *)"an initrd", 9, "tcg",
                         want, &err) == 0);
    CHECK(memcmp(m, want, 32) == 0);
    CHECK(sb_measure_kvm_files("/nonexistent/vmlinuz", initrd, "tcg", m, &err) == -1);
    CHECK(strstr(err.msg, "guest kernel: cannot open /nonexistent/vmlinuz") != NULL);
    CHECK(sb_measure_kvm_files(kernel, "/nonexistent/initrd", "tcg", m, &err) == -1);
    CHECK(strstr(err.msg, "guest initrd: cannot open /nonexistent/initrd") != NULL);

    /* The platform measures the same bytes the same way, and boots them with this command line.
     * /bin/true stands in for QEMU: nothing is launched. */
    sb_platform *p = NULL;
    sb_platform_config cfg = {.accel = "tcg", .qemu_path = "/bin/true", .guest_kernel = kernel,
                              .guest_initrd = initrd};
    CHECKF(sb_platform_open("kvm", &cfg, &p, &err) == 0, "%s", err.msg);
    if (p) {
        size_t len;
        CHECK(memcmp(sb_platform_measurement(p, &len), want, 32) == 0 && len == 32);
        CHECK(sb_platform_ready_timeout(p) == 120);
        sb_isolate_limits lim = {.memory = 300ull << 20};
        char **v = NULL;
        CHECKF(sb_platform_qemu_argv(p, &lim, &v, &err) == 0, "%s", err.msg);
        if (v) {
            CHECK(strcmp(v[0], "/bin/true") == 0);
            CHECK(argv_has(v, "-accel", "tcg") && argv_has(v, "-M", "microvm,pit=on"));
            CHECK(argv_has(v, "-cpu", "max") && strstr(sb_measure_kvm_shape("tcg"), "cpu=max"));
            CHECK(argv_has(v, "-m", "364M")); /* the budget plus the guest kernel's 64 MiB */
            CHECK(argv_has(v, "-smp", "1") && argv_has(v, "-nodefaults", NULL) &&
                  argv_has(v, "-no-user-config", NULL) && argv_has(v, "-nographic", NULL));
            CHECK(argv_has(v, "-append", sb_measure_kvm_cmdline("tcg")));
            CHECK(argv_has(v, "-kernel", "/proc/self/fd/4") && argv_has(v, "-initrd", "/proc/self/fd/5"));
            CHECK(argv_has(v, "-chardev", "socket,id=channel,fd=3"));
            CHECK(argv_has(v, "-device", "isa-debug-exit,iobase=0xf4,iosize=1") &&
                  strstr(sb_measure_kvm_shape("tcg"), "isa-debug-exit:0xf4"));
            CHECK(argv_has(v, "-device", "virtserialport,chardev=channel,name=sb.channel"));
            CHECK(argv_has(v, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                                          "resourcecontrol=deny"));
            static const char *const banned[] = {"-nic", "-net", "-netdev", "-drive", "-hda",
                                                 "-cdrom", "-virtfs", "-fsdev", "-blockdev"};
            for (size_t i = 0; v[i]; i++) /* no NIC, no disk, nothing from the host's files */
                for (size_t b = 0; b < sizeof banned / sizeof *banned; b++)
                    CHECKF(strcmp(v[i], banned[b]) != 0, "%s", v[i]);
            free(v);
        }
        lim.memory = 10ull << 20; /* never below the minimum a guest needs */
        CHECK(sb_platform_qemu_argv(p, &lim, &v, &err) == 0 && argv_has(v, "-m", "256M"));
        free(v);
        sb_platform_close(p);
    }
    test_evidence(&cfg, want);
    cfg.accel = "hvf";
    CHECK(sb_platform_open("kvm", &cfg, &p, &err) == -1 && strstr(err.msg, "--accel hvf"));
    cfg.accel = "tcg";
    cfg.qemu_path = "/nonexistent/qemu";
    CHECK(sb_platform_open("kvm", &cfg, &p, &err) == -1 && strstr(err.msg, "--qemu /nonexistent"));
    cfg.qemu_path = "/bin/true";
    cfg.guest_initrd = NULL;
    CHECK(sb_platform_open("kvm", &cfg, &p, &err) == -1 && strstr(err.msg, "--guest-initrd"));
    cfg.guest_initrd = "/nonexistent/initrd";
    CHECK(sb_platform_open("kvm", &cfg, &p, &err) == -1 &&
          strstr(err.msg, "guest initrd: cannot open"));
    /* A paravirtual /dev/kvm (PVM, as on these CI machines) is refused with its cause named. */
    struct stat st;
    cfg.accel = "kvm";
    cfg.guest_initrd = initrd;
    if (access("/dev/kvm", F_OK) == 0 && stat("/sys/module/kvm_pvm", &st) == 0 &&
        stat("/sys/module/kvm_intel", &st) != 0 && stat("/sys/module/kvm_amd", &st) != 0)
        CHECK(sb_platform_open("kvm", &cfg, &p, &err) == -1 && strstr(err.msg, "kvm_pvm") &&
              strstr(err.msg, "--accel tcg"));
    /* No /dev/kvm at all (a machine whose PVM module left no device node): named too. */
    if (access("/dev/kvm", F_OK) != 0)
        CHECK(sb_platform_open("kvm", &cfg, &p, &err) == -1 && strstr(err.msg, "/dev/kvm") &&
              strstr(err.msg, "--accel tcg"));
    unlink(kernel);
    unlink(initrd);
    free(kernel);
    free(initrd);
}

static size_t argv_len(char **v)
{
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

/* The confidential-VM command lines (no hardware here): what enters their launch measurement is
 * fixed or the caller's, and nothing debuggable or extra is added. */
static void test_cvm_argv(void)
{
    sb_cvm_launch l = {.platform = "sev-snp", .qemu = "/opt/qemu/bin/qemu-system-x86_64",
                       .firmware = "/opt/ovmf/OVMF.amdsev.fd", .cmdline = "console=ttyS0 -- sev-snp",
                       .vcpu_type = "EPYC-Milan", .vcpus = 2, .memory_mib = 512};
    sb_err err = {0};
    char **v = NULL;
    CHECKF(sb_platform_cvm_argv(&l, &v, &err) == 0, "%s", err.msg);
    if (v) {
        CHECK(strcmp(v[0], l.qemu) == 0 && argv_has(v, "-accel", "kvm"));
        CHECK(argv_has(v, "-object", "sev-snp-guest,id=cvm0,cbitpos=51,reduced-phys-bits=1,"
                                     "policy=0x30000,kernel-hashes=on"));
        CHECK(argv_has(v, "-M", "q35,confidential-guest-support=cvm0,memory-backend=ram0,vmport=off"));
        CHECK(argv_has(v, "-object", "memory-backend-memfd,id=ram0,size=512M,share=true"));
        CHECK(argv_has(v, "-cpu", "EPYC-Milan") && argv_has(v, "-smp", "2") && argv_has(v, "-m", "512M"));
        CHECK(argv_has(v, "-bios", l.firmware) && argv_has(v, "-append", l.cmdline));
        CHECK(argv_has(v, "-kernel", "/proc/self/fd/4") && argv_has(v, "-initrd", "/proc/self/fd/5"));
        CHECK(argv_has(v, "-device", "virtio-serial-pci,disable-legacy=on,iommu_platform=true"));
        CHECK(argv_has(v, "-device", "virtserialport,chardev=channel,name=sb.channel"));
        CHECK(argv_has(v, "-chardev", "socket,id=channel,fd=3") && argv_has(v, "-nodefaults", NULL));
        /* The policy's debug (bit 19) and migration-agent (bit 18) bits stay clear. */
        CHECK((SB_SNP_POLICY & (1ull << 19)) == 0 && (SB_SNP_POLICY & (1ull << 18)) == 0 &&
              (SB_SNP_POLICY & (1ull << 16)) != 0);
        size_t n = argv_len(v);
        for (size_t i = 0; i < n; i++)
            CHECK(strcmp(v[i], "-nic") != 0 && strcmp(v[i], "-drive") != 0 &&
                  strstr(v[i], "debug") == NULL && strcmp(v[i], "-gdb") != 0 && strcmp(v[i], "-s") != 0);
        free(v);
    }
    l.platform = "tdx";
    l.firmware = "/opt/tdvf/OVMF.inteltdx.fd";
    l.cmdline = "console=ttyS0 -- tdx";
    CHECKF(sb_platform_cvm_argv(&l, &v, &err) == 0, "%s", err.msg);
    if (v) {
        CHECK(argv_has(v, "-object", "tdx-guest,id=cvm0,quote-generation-socket.type="
                                           "vsock,quote-generation-socket.cid=2,"
                                           "quote-generation-socket.port=4050") && argv_has(v, "-cpu", "host"));
        CHECK(argv_has(v, "-M", "q35,confidential-guest-support=cvm0,memory-backend=ram0,"
                                "kernel-irqchip=split,hpet=off,smm=off,pic=off"));
        CHECK(argv_has(v, "-bios", l.firmware) && argv_has(v, "-smp", "2"));
        for (size_t i = 0; v[i]; i++)
            CHECK(strstr(v[i], "debug") == NULL && strstr(v[i], "sev") == NULL);
        free(v);
    }
    /* Refused: unknown platform, missing firmware, a non-EPYC or option-smuggling vCPU model,
     * out-of-range shapes. */
    l.platform = "sgx";
    CHECK(sb_platform_cvm_argv(&l, &v, &err) == -1 && !v && strstr(err.msg, "'sgx'"));
    l.platform = "sev-snp";
    l.firmware = NULL;
    CHECK(sb_platform_cvm_argv(&l, &v, &err) == -1 && strstr(err.msg, "firmware"));
    l.firmware = "/opt/ovmf/OVMF.amdsev.fd";
    l.vcpu_type = "EPYC,+debug";
    CHECK(sb_platform_cvm_argv(&l, &v, &err) == -1 && strstr(err.msg, "EPYC model"));
    l.vcpu_type = "Skylake-Server";
    CHECK(sb_platform_cvm_argv(&l, &v, &err) == -1 && strstr(err.msg, "EPYC model"));
    l.vcpu_type = "EPYC-v4";
    l.vcpus = 0;
    CHECK(sb_platform_cvm_argv(&l, &v, &err) == -1 && strstr(err.msg, "vCPUs"));
    l.vcpus = 1;
    l.memory_mib = 64;
    CHECK(sb_platform_cvm_argv(&l, &v, &err) == -1 && strstr(err.msg, "memory"));
}

/* strongbox-init's value v (1 + status, or 1 + 63 + signal) reaches the host as QEMU's exit
 * status (v << 1) | 1; QEMU's own statuses (0 power-off, 1 error) and signals stay QEMU's. */
static void test_exit_status(void)
{
    static const struct {
        sb_isolate_exit qemu, want;
    } cases[] = {
        {{1, 3}, {1, 0}},   {{1, 5}, {1, 1}},   {{1, (3 << 1) | 1}, {1, 2}},
        {{1, ((1 + 63 + 9) << 1) | 1}, {0, 9}}, {{1, ((1 + 63 + 31) << 1) | 1}, {0, 31}},
        {{1, 0}, {1, 0}},   {{1, 1}, {1, 1}},   {{1, 2}, {1, 2}},   {{0, 9}, {0, 9}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sb_isolate_exit ex = cases[i].qemu;
        sb_kvm_exit_status(&ex);
        CHECKF(ex.exited == cases[i].want.exited && ex.code == cases[i].want.code,
               "case %zu: got %d/%d", i, ex.exited, ex.code);
    }
}

int main(int argc, char **argv)
{
    /* For tests/vm/test_cvm_image.sh: the exact command lines the host boots with. */
    if (argc == 3 && strcmp(argv[1], "--print-cmdline") == 0) {
        const char *c = sb_measure_cvm_cmdline(argv[2]);
        c = c ? c : sb_measure_kvm_cmdline(argv[2]); /* "kvm"/"tcg": the kvm platform's */
        return c ? printf("%s\n", c) < 0 : 2;
    }
    test_exit_status();
    test_cvm_argv();
    test_definition();
    test_cmdline();
    test_files_and_platform();
    printf("test_measure: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
