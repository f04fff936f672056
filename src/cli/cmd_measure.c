/* strongbox measure - the measurement a party puts in its policy, recomputed from the files.
 *
 * process: SHA-256 of the strongbox-runtime binary (the host hashes the open file and then
 *   executes that same file descriptor).
 * kvm: the launch measurement of the micro-VM (src/measure, docs/attestation.md): the guest
 *   kernel, the initramfs (which holds the runtime), the fixed command line and machine shape of
 *   the accelerator. Defaults to the guest image of this build.
 * sev-snp: the SEV-SNP launch digest (measure_snp); tdx: MRTD, RTMR1/2 and td-launch
 *   (measure_tdx.c). Both take their own options and are dispatched before the parsing below.
 * A party who rebuilds reproducibly (docs/reproducing.md) runs this on its own build and compares
 * with the policy's accepted list. One function per platform; the table below dispatches. */
#include "cli/commands.h"
#include "cli/measure_tdx.h"
#include "common/common.h"
#include "measure/measure.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SB_COMMAND_DECL(measure);
const char sb_cmd_measure_summary[] = "print a platform's measurement of a runtime or guest image";

#define MAX_RUNTIME_BYTES (512u << 20)
#define USAGE_ERR 1000 /* err.code of a usage error (exit 2), apart from errno values */
#ifndef SB_GUEST_IMAGE_DIR
#define SB_GUEST_IMAGE_DIR "guest"
#endif
#ifndef SB_GUEST_CVM_IMAGE_DIR
#define SB_GUEST_CVM_IMAGE_DIR "guest-cvm"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox measure [--platform process] [--json] RUNTIME_BINARY\n"
            "       strongbox measure --platform kvm [--accel kvm|tcg] [--guest-kernel K "
            "--guest-initrd I] [--json]\n"
            "Prints the platform's measurement as hex, the form a policy's runtimes.platforms\n"
            "entry takes; --json prints {\"platform\": NAME, \"measurement\": HEX}.\n"
            "  process  SHA-256 of the runtime binary\n"
            "  kvm      launch measurement of the micro-VM: kernel, initrd, command line and\n"
            "           machine shape for the accelerator (default kvm; the host's --accel);\n"
            "           default image: " SB_GUEST_IMAGE_DIR "/{vmlinuz,initrd.cpio}\n"
            "       strongbox measure --platform tdx ... (see strongbox measure --platform tdx --help)\n"
            "       strongbox measure --platform sev-snp --firmware OVMF [--kernel K [--initrd I]\n"
            "                 [--append STR] | --guest-image DIR] --vcpus N --vcpu-type NAME\n"
            "                 --guest-features HEX [--firmware-digest HEX] [--json]\n"
            "Prints the SEV-SNP launch digest (96 hex digits) of a QEMU sev-snp-guest launch\n"
            "with that AmdSev OVMF (-bios), direct kernel boot with kernel-hashes=on, -smp N and\n"
            "-cpu NAME. --firmware-digest: the published digest of the OVMF pages, used instead\n"
            "of hashing them (the OVMF file still gives the metadata). --guest-image DIR: the\n"
            "image strongbox-host boots (sev-snp and tdx), DIR/vmlinuz and DIR/initrd.cpio with\n"
            "the host's command line; this build's is " SB_GUEST_CVM_IMAGE_DIR ".\n"
            "See docs/reproducing.md.\n");
}

struct measure_args {
    const char *platform, *path, *accel, *kernel, *initrd;
    int json;
};

static int print_measurement(const struct measure_args *a, const uint8_t *d, size_t len)
{
    char hex[2 * 64 + 1];
    sb_hex_encode(d, len, hex);
    if (a->json)
        printf("{\"platform\":\"%s\",\"measurement\":\"%s\"}\n", a->platform, hex);
    else
        printf("%s\n", hex);
    return 0;
}

static int measure_process(const struct measure_args *a, sb_err *err)
{
    if (!a->path || a->accel || a->kernel || a->initrd)
        return sb_err_set(err, USAGE_ERR, "--platform process takes RUNTIME_BINARY and nothing else");
    uint8_t *data, digest[32];
    size_t len;
    unsigned int dlen = 0;
    if (sb_read_file(a->path, MAX_RUNTIME_BYTES, &data, &len, err) != 0)
        return -1;
    int ok = EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL);
    free(data);
    if (!ok || dlen != sizeof digest)
        return sb_err_set(err, 1, "SHA-256 failed");
    return print_measurement(a, digest, sizeof digest);
}

static int measure_kvm(const struct measure_args *a, sb_err *err)
{
    if (a->path)
        return sb_err_set(err, USAGE_ERR, "--platform kvm measures the guest image (--guest-kernel, "
                                  "--guest-initrd), not a runtime binary");
    uint8_t m[SB_KVM_MEASUREMENT_LEN];
    const char *accel = a->accel ? a->accel : "kvm";
    if (!sb_measure_kvm_cmdline(accel))
        return sb_err_set(err, USAGE_ERR, "--accel %s: want kvm or tcg", accel);
    if (sb_measure_kvm_files(a->kernel ? a->kernel : SB_GUEST_IMAGE_DIR "/vmlinuz",
                             a->initrd ? a->initrd : SB_GUEST_IMAGE_DIR "/initrd.cpio", accel, m,
                             err) != 0)
        return -1;
    return print_measurement(a, m, sizeof m);
}

static const struct {
    const char *name;
    int (*measure)(const struct measure_args *a, sb_err *err);
} platforms[] = {
    {"process", measure_process},
    {"kvm", measure_kvm},
};

/* Removes every --json from argv (the sev-snp and tdx parsers take only options with values);
 * 1 if there was one. */
static int take_json_flag(int *argc, char **argv)
{
    int n = 1, found = 0;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            found = 1;
        else
            argv[n++] = argv[i];
    }
    *argc = n;
    return found;
}

/* --platform sev-snp: every option is required except the kernel triple and the firmware digest. */
static int measure_snp(int argc, char **argv, int json)
{
    const char *fw_path = NULL, *kernel = NULL, *initrd = NULL, *append = NULL, *vcpus = NULL,
               *type = NULL, *features = NULL, *fw_digest = NULL, *image = NULL;
    char kbuf[4096], ibuf[4096];
    struct { const char *flag, **dst; } opts[] = {
        {"--platform", &(const char *){NULL}}, {"--firmware", &fw_path}, {"--kernel", &kernel},
        {"--initrd", &initrd}, {"--append", &append}, {"--vcpus", &vcpus}, {"--vcpu-type", &type},
        {"--guest-features", &features}, {"--firmware-digest", &fw_digest},
        {"--guest-image", &image}};
    for (int i = 1; i < argc; i++) {
        size_t k = 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout), 0;
        while (k < sizeof opts / sizeof opts[0] && strcmp(argv[i], opts[k].flag) != 0)
            k++;
        if (k == sizeof opts / sizeof opts[0] || i + 1 >= argc || (k > 0 && *opts[k].dst)) {
            fprintf(stderr, "strongbox measure: %s argument '%s'\n",
                    k > 0 && k < sizeof opts / sizeof opts[0] && *opts[k].dst ? "repeated"
                                                                               : "unexpected",
                    argv[i]);
            return usage(stderr), 2;
        }
        *opts[k].dst = argv[++i];
    }
    if (image && (kernel || initrd || append)) {
        fprintf(stderr, "strongbox measure: --guest-image replaces --kernel, --initrd and --append\n");
        return 2;
    }
    if (image && sb_measure_cvm_image(image, "sev-snp", kbuf, ibuf, sizeof kbuf, &append) != 0) {
        fprintf(stderr, "strongbox measure: --guest-image: path too long\n");
        return 2;
    }
    if (image) {
        kernel = kbuf;
        initrd = ibuf;
    }
    sb_snp_launch in = {0};
    uint8_t ld[SB_SNP_LD_LEN], seed[SB_SNP_LD_LEN];
    char *end = NULL, hex[2 * SB_SNP_LD_LEN + 1];
    const char *bad = !fw_path ? "--firmware is required" : !vcpus ? "--vcpus is required"
                      : !type ? "--vcpu-type is required" : !features ? "--guest-features is required"
                      : (initrd || append) && !kernel ? "--initrd and --append need --kernel" : NULL;
    unsigned long n = vcpus ? strtoul(vcpus, &end, 10) : 0;
    if (!bad && (!*vcpus || *end || n < 1 || n > 512))
        bad = "--vcpus: want a number 1..512";
    errno = 0;
    in.guest_features = features ? strtoull(features, &end, 16) : 0;
    if (!bad && (!*features || *end || errno || features[0] == '-'))
        bad = "--guest-features: want a hexadecimal number such as 0x1";
    if (!bad && sb_snp_vcpu_sig(type, &in.vcpu_sig) != 0)
        bad = "--vcpu-type: unknown model";
    if (!bad && fw_digest && (strlen(fw_digest) != 2 * SB_SNP_LD_LEN ||
                              sb_hex_decode(fw_digest, seed, SB_SNP_LD_LEN) != 0))
        bad = "--firmware-digest: want 96 hex digits";
    if (bad) {
        fprintf(stderr, "strongbox measure: %s%s%s\n", bad, strstr(bad, "model") ? "; known: " : "",
                strstr(bad, "model") ? sb_snp_vcpu_names() : "");
        return 2;
    }
    in.vcpus = (unsigned)n;
    in.firmware_digest = fw_digest ? seed : NULL;
    sb_err err = {0};
    uint8_t *fw = NULL;
    int rc = sb_read_file(fw_path, 64u << 20, &fw, &in.firmware_len, &err);
    in.firmware = fw;
    if (rc == 0 && kernel)
        rc = sb_snp_launch_set_kernel(&in, kernel, initrd, append, &err);
    if (rc == 0)
        rc = sb_snp_launch_digest(&in, ld, &err);
    free(fw);
    if (rc != 0) {
        fprintf(stderr, "strongbox measure: %s\n", err.msg);
        return 1;
    }
    sb_hex_encode(ld, sizeof ld, hex);
    if (json)
        printf("{\"platform\":\"sev-snp\",\"measurement\":\"%s\"}\n", hex);
    else
        printf("%s\n", hex);
    return 0;
}

static int parse(int argc, char **argv, struct measure_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char **opt = strcmp(argv[i], "--platform") == 0       ? &a->platform
                           : strcmp(argv[i], "--accel") == 0        ? &a->accel
                           : strcmp(argv[i], "--guest-kernel") == 0 ? &a->kernel
                           : strcmp(argv[i], "--guest-initrd") == 0 ? &a->initrd
                                                                    : NULL;
        if (strcmp(argv[i], "--json") == 0)
            a->json = 1;
        else if (opt && i + 1 < argc)
            *opt = argv[++i];
        else if (opt || argv[i][0] == '-' || a->path)
            return -1;
        else
            a->path = argv[i];
    }
    return 0;
}

int sb_cmd_measure(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++) {
        int snp = strcmp(argv[i], "--platform") == 0 && strcmp(argv[i + 1], "sev-snp") == 0;
        int tdx = strcmp(argv[i], "--platform") == 0 && strcmp(argv[i + 1], "tdx") == 0;
        if (!snp && !tdx)
            continue;
        int json = take_json_flag(&argc, argv);
        return snp ? measure_snp(argc, argv, json) : sb_cli_measure_tdx(argc, argv, json);
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    struct measure_args a = {.platform = "process"};
    if (parse(argc, argv, &a) != 0) {
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof platforms / sizeof *platforms; i++) {
        if (strcmp(platforms[i].name, a.platform) != 0)
            continue;
        sb_err err = {0};
        if (platforms[i].measure(&a, &err) == 0)
            return 0;
        fprintf(stderr, "strongbox measure: %s\n", err.msg);
        if (err.code == USAGE_ERR)
            usage(stderr);
        return err.code == USAGE_ERR ? 2 : 1;
    }
    fprintf(stderr, "strongbox measure: platform '%s' has no measurement here (known: process, "
                    "kvm, sev-snp, tdx)\n", a.platform);
    return 2;
}
