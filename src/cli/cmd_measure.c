/* strongbox measure - the measurement a party puts in its policy for a runtime binary.
 *
 * For the process platform the host measures exactly the bytes it executes: SHA-256 of the
 * strongbox-runtime binary (the host hashes the open file and then executes that same file
 * descriptor). A party who rebuilds the runtime reproducibly (docs/reproducing.md) runs this on
 * its own build and compares with the policy's accepted list. */
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
const char sb_cmd_measure_summary[] = "print the measurement of a runtime binary for a policy";

#define MAX_RUNTIME_BYTES (512u << 20)

static void usage(FILE *out)
{
    fprintf(out, "usage: strongbox measure [--platform process] RUNTIME_BINARY\n"
                 "Prints the platform's measurement of the binary as hex, the form a policy's\n"
                 "runtimes[].measurements entry takes. Platforms: process (SHA-256 of the binary).\n"
                 "       strongbox measure --platform sev-snp --firmware OVMF [--kernel K [--initrd I]\n"
                 "                 [--append STR]] --vcpus N --vcpu-type NAME --guest-features HEX\n"
                 "                 [--firmware-digest HEX]\n"
                 "Prints the SEV-SNP launch digest (96 hex digits) of a QEMU sev-snp-guest launch\n"
                 "with that AmdSev OVMF (-bios), direct kernel boot with kernel-hashes=on, -smp N and\n"
                 "-cpu NAME. --firmware-digest: the published digest of the OVMF pages, used instead\n"
                 "of hashing them (the OVMF file still gives the metadata). See docs/reproducing.md.\n");
}

/* --platform sev-snp: every option is required except the kernel triple and the firmware digest. */
static int measure_snp(int argc, char **argv)
{
    const char *fw_path = NULL, *kernel = NULL, *initrd = NULL, *append = NULL, *vcpus = NULL,
               *type = NULL, *features = NULL, *fw_digest = NULL;
    struct { const char *flag, **dst; } opts[] = {
        {"--platform", &(const char *){NULL}}, {"--firmware", &fw_path}, {"--kernel", &kernel},
        {"--initrd", &initrd}, {"--append", &append}, {"--vcpus", &vcpus}, {"--vcpu-type", &type},
        {"--guest-features", &features}, {"--firmware-digest", &fw_digest}};
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
    printf("%s\n", hex);
    return 0;
}

int sb_cmd_measure(int argc, char **argv)
{
    const char *platform = "process", *path = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--platform") == 0 && strcmp(argv[i + 1], "sev-snp") == 0)
            return measure_snp(argc, argv);
        if (strcmp(argv[i], "--platform") == 0 && strcmp(argv[i + 1], "tdx") == 0)
            return sb_cli_measure_tdx(argc, argv);
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc) {
            platform = argv[++i];
        } else if (argv[i][0] == '-' || path) {
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (strcmp(platform, "process") != 0) {
        fprintf(stderr, "strongbox measure: platform '%s' has no binary measurement here: "
                        "VM-image forms come with their backends (process is supported)\n", platform);
        return 2;
    }
    uint8_t *data, digest[32];
    size_t len;
    unsigned int dlen = 0;
    sb_err err;
    if (sb_read_file(path, MAX_RUNTIME_BYTES, &data, &len, &err) != 0) {
        fprintf(stderr, "strongbox measure: %s\n", err.msg);
        return 1;
    }
    int ok = EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL);
    free(data);
    if (!ok || dlen != sizeof digest) {
        fprintf(stderr, "strongbox measure: SHA-256 failed\n");
        return 1;
    }
    char hex[65];
    sb_hex_encode(digest, sizeof digest, hex);
    printf("%s\n", hex);
    return 0;
}
