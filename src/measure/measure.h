/* measure.h - launch measurements of the VM platforms, computed from the image files alone, so a
 * party can recompute offline the value a policy names (docs/attestation.md, docs/reproducing.md).
 * The host uses the same functions for the evidence it signs, so the two cannot drift apart.
 * Untrusted (host and client side). No global mutable state; never prints. */
#ifndef SB_MEASURE_H
#define SB_MEASURE_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

#define SB_KVM_MEASUREMENT_LEN 32
#define SB_KVM_PORT_NAME "sb.channel" /* the virtio-serial port strongbox-init looks for */
#define SB_KVM_IMAGE_MAX (512u << 20)  /* refuse kernel or initrd files larger than this */

/* ---- kvm: a QEMU microvm booting the guest image (src/guestimage) ----
 * The kernel command line and the machine shape are fixed per accelerator ("kvm" or "tcg"; see
 * docs/attestation.md for why TCG's differs): both return NULL for any other accelerator. */
const char *sb_measure_kvm_cmdline(const char *accel);
const char *sb_measure_kvm_shape(const char *accel);
const char *sb_measure_kvm_cpu(const char *accel); /* QEMU's -cpu model, named in the shape */

/* SHA-256("strongbox-kvm-launch-v1" 0x00 || SHA-256(kernel) || SHA-256(initrd) ||
 *         u32be(len) || cmdline || u32be(len) || shape). Returns 0, or -1 with err filled. */
int sb_measure_kvm(const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd,
                   size_t initrd_len, const char *accel, uint8_t out[SB_KVM_MEASUREMENT_LEN],
                   sb_err *err);
/* The same from files (each at most SB_KVM_IMAGE_MAX bytes). */
int sb_measure_kvm_files(const char *kernel_path, const char *initrd_path, const char *accel,
                         uint8_t out[SB_KVM_MEASUREMENT_LEN], sb_err *err);

#endif
