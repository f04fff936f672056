/* strongbox measure - the measurement a party puts in its policy, recomputed from the files.
 *
 * process: SHA-256 of the strongbox-runtime binary (the host hashes the open file and then
 *   executes that same file descriptor).
 * kvm: the launch measurement of the micro-VM (src/measure, docs/attestation.md): the guest
 *   kernel, the initramfs (which holds the runtime), the fixed command line and machine shape of
 *   the accelerator. Defaults to the guest image of this build.
 * A party who rebuilds reproducibly (docs/reproducing.md) runs this on its own build and compares
 * with the policy's accepted list. One function per platform; the table below dispatches. */
#include "cli/commands.h"
#include "common/common.h"
#include "measure/measure.h"

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

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox measure [--platform process] RUNTIME_BINARY\n"
            "       strongbox measure --platform kvm [--accel kvm|tcg] [--guest-kernel K "
            "--guest-initrd I]\n"
            "Prints the platform's measurement as hex, the form a policy's runtimes.platforms\n"
            "entry takes.\n"
            "  process  SHA-256 of the runtime binary\n"
            "  kvm      launch measurement of the micro-VM: kernel, initrd, command line and\n"
            "           machine shape for the accelerator (default kvm; the host's --accel);\n"
            "           default image: " SB_GUEST_IMAGE_DIR "/{vmlinuz,initrd.cpio}\n");
}

struct measure_args {
    const char *platform, *path, *accel, *kernel, *initrd;
};

static int print_hex(const uint8_t *d, size_t len)
{
    char hex[2 * 64 + 1];
    sb_hex_encode(d, len, hex);
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
    return print_hex(digest, sizeof digest);
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
    return print_hex(m, sizeof m);
}

static const struct {
    const char *name;
    int (*measure)(const struct measure_args *a, sb_err *err);
} platforms[] = {
    {"process", measure_process},
    {"kvm", measure_kvm},
};

static int parse(int argc, char **argv, struct measure_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char **opt = strcmp(argv[i], "--platform") == 0       ? &a->platform
                           : strcmp(argv[i], "--accel") == 0        ? &a->accel
                           : strcmp(argv[i], "--guest-kernel") == 0 ? &a->kernel
                           : strcmp(argv[i], "--guest-initrd") == 0 ? &a->initrd
                                                                    : NULL;
        if (opt && i + 1 < argc)
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
                    "kvm)\n", a.platform);
    return 2;
}
