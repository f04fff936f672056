/* kvm.c - the kvm platform's launch measurement (definition: docs/attestation.md). */
#include "measure/measure.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KVM_LABEL "strongbox-kvm-launch-v1"

/* Everything after "--" goes to strongbox-init as its argument: the platform name. quiet and the
 * 8250/i8042/pci switches only shorten the boot (docs/host.md); panic=-1 turns a kernel panic
 * into a VM exit instead of a hang. */
#define KVM_CMDLINE_BASE                                                                    \
    "console=ttyS0 quiet panic=-1 pci=off i8042.noaux i8042.nokbd i8042.nopnp "           \
    "8250.nr_uarts=1 cryptomgr.notests random.trust_cpu=on"
/* TCG runs the guest's TSC at the host's rate and the microvm has no device to calibrate it
 * against: a fixed value keeps the command line (and so the measurement) host-independent; the
 * guest clock then runs at host-TSC/2.6 GHz of real time (docs/attestation.md). */
#define KVM_TCG_TSC " tsc_early_khz=2600000"

/* The guest CPU: the runtime's engine is built with SSE4.1 (src/wasm), which QEMU's default
 * model (qemu64) lacks. Under KVM the host's own model; under TCG "max", all TCG emulates. */
static const struct accel_profile {
    const char *accel, *cpu, *cmdline, *shape;
} profiles[] = {
    {"kvm", "host", KVM_CMDLINE_BASE " -- kvm",
     "qemu-microvm-v1;machine=microvm,pit=on;accel=kvm;cpu=host;smp=1;"
     "devices=virtio-serial-device,virtserialport:" SB_KVM_PORT_NAME
     ",isa-debug-exit:0xf4;serial=ttyS0"},
    {"tcg", "max", KVM_CMDLINE_BASE KVM_TCG_TSC " -- kvm",
     "qemu-microvm-v1;machine=microvm,pit=on;accel=tcg;cpu=max;smp=1;"
     "devices=virtio-serial-device,virtserialport:" SB_KVM_PORT_NAME
     ",isa-debug-exit:0xf4;serial=ttyS0"},
};

/* q35 has PCI (the channel is virtio-serial-pci) and a TSC the CVM trusts: no pci=off, no
 * tsc_early_khz. The platform word is measured (SEV hash table; TDX RTMR2), so a host cannot
 * start the runtime under another platform's name. */
#define CVM_CMDLINE_BASE                                                                    \
    "console=ttyS0 quiet panic=-1 i8042.noaux i8042.nokbd i8042.nopnp 8250.nr_uarts=1 "   \
    "cryptomgr.notests random.trust_cpu=on"

const char *sb_measure_cvm_cmdline(const char *platform)
{
    if (platform && strcmp(platform, "sev-snp") == 0)
        return CVM_CMDLINE_BASE " -- sev-snp";
    if (platform && strcmp(platform, "tdx") == 0)
        return CVM_CMDLINE_BASE " -- tdx";
    return NULL;
}

int sb_measure_cvm_image(const char *dir, const char *platform, char *kernel, char *initrd,
                         size_t len, const char **cmdline)
{
    *cmdline = sb_measure_cvm_cmdline(platform);
    int k = snprintf(kernel, len, "%s/vmlinuz", dir), i = snprintf(initrd, len, "%s/initrd.cpio", dir);
    return *cmdline && k > 0 && (size_t)k < len && i > 0 && (size_t)i < len ? 0 : -1;
}

static const struct accel_profile *profile(const char *accel)
{
    for (size_t i = 0; accel && i < sizeof profiles / sizeof *profiles; i++)
        if (strcmp(profiles[i].accel, accel) == 0)
            return &profiles[i];
    return NULL;
}

const char *sb_measure_kvm_cmdline(const char *accel)
{
    const struct accel_profile *p = profile(accel);
    return p ? p->cmdline : NULL;
}

const char *sb_measure_kvm_cpu(const char *accel)
{
    const struct accel_profile *p = profile(accel);
    return p ? p->cpu : NULL;
}

const char *sb_measure_kvm_shape(const char *accel)
{
    const struct accel_profile *p = profile(accel);
    return p ? p->shape : NULL;
}

static int add_string(EVP_MD_CTX *c, const char *s)
{
    size_t n = strlen(s);
    uint8_t be[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    return EVP_DigestUpdate(c, be, 4) == 1 && EVP_DigestUpdate(c, s, n) == 1;
}

int sb_measure_kvm(const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd,
                   size_t initrd_len, const char *accel, uint8_t out[SB_KVM_MEASUREMENT_LEN],
                   sb_err *err)
{
    const struct accel_profile *p = profile(accel);
    if (!p)
        return sb_err_set(err, EINVAL, "kvm measurement: accelerator '%s' is not kvm or tcg",
                          accel ? accel : "(none)");
    uint8_t kh[32], ih[32];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_Digest(kernel, kernel_len, kh, NULL, EVP_sha256(), NULL) == 1 &&
             EVP_Digest(initrd, initrd_len, ih, NULL, EVP_sha256(), NULL) == 1 &&
             EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(c, KVM_LABEL, sizeof KVM_LABEL) == 1 && /* with its NUL */
             EVP_DigestUpdate(c, kh, 32) == 1 && EVP_DigestUpdate(c, ih, 32) == 1 &&
             add_string(c, p->cmdline) && add_string(c, p->shape) &&
             EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : sb_err_set(err, EIO, "kvm measurement: SHA-256 failed");
}

int sb_measure_kvm_files(const char *kernel_path, const char *initrd_path, const char *accel,
                         uint8_t out[SB_KVM_MEASUREMENT_LEN], sb_err *err)
{
    uint8_t *k = NULL, *i = NULL;
    size_t klen, ilen;
    int rc = -1;
    if (sb_read_file(kernel_path, SB_KVM_IMAGE_MAX, &k, &klen, err) != 0)
        sb_err_prefix(err, "guest kernel");
    else if (sb_read_file(initrd_path, SB_KVM_IMAGE_MAX, &i, &ilen, err) != 0)
        sb_err_prefix(err, "guest initrd");
    else
        rc = sb_measure_kvm(k, klen, i, ilen, accel, out, err);
    free(k);
    free(i);
    return rc;
}
