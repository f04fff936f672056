/* measure.h - offline launch-measurement calculators (`strongbox measure`).
 *
 * A party recomputes, from image files it built or downloaded itself, the measurement a policy
 * lists for a platform, and compares. Untrusted: runs on a party's machine, never in an isolate.
 * Every input is a file's bytes and is parsed defensively: a malformed image is an error naming
 * what is wrong, never a digest. The host uses the kvm functions for the evidence it signs, so the
 * two cannot drift apart. No global mutable state; never prints. One section per platform. */
#ifndef SB_MEASURE_H
#define SB_MEASURE_H

#include "common/common.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_KVM_MEASUREMENT_LEN 32
#define SB_KVM_PORT_NAME "sb.channel" /* the virtio-serial port strongbox-init looks for */
#define SB_KVM_IMAGE_MAX (512u << 20)  /* refuse kernel or initrd files larger than this */

/* ---- kvm: a QEMU microvm booting the guest image (src/guestimage) ----
 * The kernel command line and the machine shape are fixed per accelerator ("kvm" or "tcg"; see
 * docs/attestation.md for why TCG's differs): both return NULL for any other accelerator. */
const char *sb_measure_kvm_cmdline(const char *accel);
/* The fixed kernel command line of the sev-snp and tdx platforms (what the host passes to
 * -append and `strongbox measure --append` must get), or NULL for another platform. It ends with
 * "-- PLATFORM": strongbox-init starts the runtime with that --platform. */
const char *sb_measure_cvm_cmdline(const char *platform);

/* The sev-snp/tdx guest image in dir (default SB_GUEST_CVM_IMAGE_DIR: src/guestimage's
 * guest-image-cvm) as strongbox-host boots it: dir/vmlinuz, dir/initrd.cpio and the platform's
 * command line (sb_measure_cvm_cmdline), so that `strongbox measure --guest-image` measures what
 * the host launches. Returns 0, or -1 for an unknown platform or a path longer than len. */
int sb_measure_cvm_image(const char *dir, const char *platform, char *kernel, char *initrd,
                         size_t len, const char **cmdline);
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

/* ---- AMD SEV-SNP launch digest (snp.c) -------------------------------------------------------
 *
 * The SEV-SNP firmware ABI (AMD #56860, SNP_LAUNCH_UPDATE and the PAGE_INFO structure) extends the
 * launch digest once per page the VMM adds: LD' = SHA-384(PAGE_INFO), where PAGE_INFO (0x70 bytes)
 * is LD || CONTENTS (48) || LENGTH=0x70 (u16) || PAGE_TYPE (u8) || IMI_PAGE (u8) || VMPL3/2/1 perms
 * (3 x u8) || reserved (u8) || GPA (u64). CONTENTS is SHA-384 of the page for NORMAL and VMSA
 * pages, zero for ZERO/SECRETS/CPUID pages. QEMU (>= 9.1, sev-snp-guest) adds, in this order: the
 * OVMF image pages (ending at 4 GiB), the pages the OVMF SEV metadata lists (with kernel-hashes=on
 * the hashes page holds the SEV hash table of kernel, initrd and command line), one VMSA per vCPU. */

#define SB_SNP_LD_LEN 48
#define SB_SNP_PAGE 4096
#define SB_SNP_HASH_TABLE_LEN 176 /* the 168-byte table padded to 16 bytes, as QEMU lays it out */

enum sb_snp_page_type {
    SB_SNP_PAGE_NORMAL = 1, SB_SNP_PAGE_VMSA = 2, SB_SNP_PAGE_ZERO = 3,
    SB_SNP_PAGE_UNMEASURED = 4, SB_SNP_PAGE_SECRETS = 5, SB_SNP_PAGE_CPUID = 6,
};

/* The launch inputs besides the firmware bytes. */
typedef struct sb_snp_launch {
    const uint8_t *firmware;        /* the OVMF image as given to QEMU's -bios */
    size_t firmware_len;
    /* Optional: the launch digest after the firmware pages (as sev-snp-measure's --snp-ovmf-hash
     * publishes it). Then the firmware's pages are not hashed again; its footer is still read. */
    const uint8_t *firmware_digest; /* NULL or SB_SNP_LD_LEN bytes */
    int with_kernel;                /* kernel-hashes=on with -kernel: the three hashes below */
    uint8_t kernel_sha256[32], initrd_sha256[32], cmdline_sha256[32];
    unsigned vcpus;                 /* -smp */
    uint32_t vcpu_sig;              /* CPUID Fn0000_0001_EAX of the -cpu model (sb_snp_vcpu_sig) */
    uint64_t guest_features;        /* the VMSA SEV_FEATURES (QEMU's sev-snp-guest features) */
} sb_snp_launch;

/* Computes the launch digest. Every inconsistency of the firmware (size, footer table, SEV
 * metadata, overlapping sections) and of the inputs is an error naming it; never a digest. */
int sb_snp_launch_digest(const sb_snp_launch *in, uint8_t out[SB_SNP_LD_LEN], sb_err *err);

/* Fills the three hashes of a -kernel/-initrd/-append launch as QEMU computes them: SHA-256 of the
 * kernel file, of the initrd file (of nothing when initrd is NULL) and of the command line with its
 * terminating NUL (just the NUL when append is NULL). The files are read in pieces. */
int sb_snp_launch_set_kernel(sb_snp_launch *in, const char *kernel, const char *initrd,
                             const char *append, sb_err *err);

/* The CPUID signature QEMU puts in RDX for a -cpu model name (EPYC, EPYC-v1..v4, EPYC-IBPB,
 * EPYC-Rome, EPYC-Milan, EPYC-Genoa, EPYC-Turin and their versions). -1 if unknown. */
int sb_snp_vcpu_sig(const char *name, uint32_t *sig);
/* Comma-separated list of the names sb_snp_vcpu_sig knows, for error messages. */
const char *sb_snp_vcpu_names(void);

/* Building blocks, public so each can be checked against published values on its own. */
/* One PAGE_INFO step: ld = SHA-384(ld || contents || 0x70 || type || 0 || 0,0,0,0 || gpa). */
void sb_snp_ld_update(uint8_t ld[SB_SNP_LD_LEN], const uint8_t contents[SB_SNP_LD_LEN],
                      enum sb_snp_page_type type, uint64_t gpa);
/* The VMSA page of a vCPU that starts at `eip` (0xfffffff0 for the BSP, the OVMF SEV-ES reset
 * block address for APs), in the register state KVM gives an SNP vCPU under QEMU. */
void sb_snp_vmsa(uint8_t page[SB_SNP_PAGE], uint32_t eip, uint32_t vcpu_sig, uint64_t features);
/* The SEV hash table (GUIDs and layout of QEMU's target/i386/sev.c, read by OVMF). */
void sb_snp_hash_table(uint8_t out[SB_SNP_HASH_TABLE_LEN], const uint8_t kernel[32],
                       const uint8_t initrd[32], const uint8_t cmdline[32]);

/* ---- tdx (src/measure/tdx.c) ------------------------------------------------------------------
 * MRTD from TDVF's metadata (TDX module ABI: TDH.MEM.PAGE.ADD and TDH.MR.EXTEND in 256-byte
 * chunks); RTMR1/RTMR2 as TDVF (edk2 >= 2025.05) measures a direct-boot kernel, initrd and command
 * line; the policy's composite td-launch = SHA-384(MRTD || RTMR0 || RTMR1 || RTMR2). RTMR0 (TD
 * HOB, QEMU's ACPI tables, boot variables) is not derived here: it is taken from a reference TD
 * of the same machine shape. docs/reproducing.md has the exact event lists. */

#define SB_TDX_MR_LEN 48
#define SB_TDX_MAX_SECTIONS 64 /* TDVF has 5-7; more is a malformed descriptor */

/* Error codes (sb_err.code). */
enum { SB_MEASURE_EINVAL = 1, SB_MEASURE_EFORMAT = 2, SB_MEASURE_ECRYPTO = 3 };

/* One TDVF metadata section (TDVF design guide, "TDVF Metadata"). */
typedef struct sb_tdvf_section {
    uint32_t data_offset, raw_size;  /* bytes in the firmware file */
    uint64_t address, memory_size;   /* guest-physical placement, page aligned */
    uint32_t type, attributes;       /* SB_TDVF_* */
} sb_tdvf_section;

enum { SB_TDVF_BFV = 0, SB_TDVF_CFV = 1, SB_TDVF_TD_HOB = 2, SB_TDVF_TEMP_MEM = 3,
       SB_TDVF_PERM_MEM = 4 };
#define SB_TDVF_ATTR_MR_EXTEND 1u
#define SB_TDVF_ATTR_PAGE_AUG 2u

typedef struct sb_tdvf {
    sb_tdvf_section sections[SB_TDX_MAX_SECTIONS];
    size_t n_sections;
} sb_tdvf;

/* Finds the TDX metadata through the OVMF GUIDed table at the end of the image and checks every
 * section (types, alignment, sizes, file bounds) as QEMU does before it builds a TD. */
int sb_tdvf_parse(const uint8_t *fw, size_t len, sb_tdvf *out, sb_err *err);
/* MRTD of a TD built from `fw` (parsed by sb_tdvf_parse): SHA-384 over the 128-byte
 * TDH.MEM.PAGE.ADD record of every added page, each followed, for MR.EXTEND sections, by the 16
 * TDH.MR.EXTEND records and their 256 bytes of page content. */
int sb_tdx_mrtd(const uint8_t *fw, size_t len, const sb_tdvf *tdvf, uint8_t out[SB_TDX_MR_LEN],
                sb_err *err);

/* Authenticode digest of a PE/COFF image with `md` (the image hash UEFI LoadImage measures: file
 * minus the checksum field, the certificate-table directory entry and the certificate table,
 * sections in file order, then what follows them up to the certificate table). */
int sb_pe_authenticode(const uint8_t *pe, size_t len, const EVP_MD *md, uint8_t *out,
                       unsigned *out_len, sb_err *err);

/* RTMR extend: mr = SHA-384(mr || digest). */
int sb_tdx_rtmr_extend(uint8_t mr[SB_TDX_MR_LEN], const uint8_t digest[SB_TDX_MR_LEN], sb_err *err);
/* RTMR1 after a direct boot of `kernel` (a PE: the bzImage's EFI stub), up to ExitBootServices. */
int sb_tdx_rtmr1_direct(const uint8_t *kernel, size_t len, uint8_t out[SB_TDX_MR_LEN], sb_err *err);
/* How TDVF builds the kernel's LoadOptions from QEMU's -append when there is an initrd: edk2 up
 * to stable202505 appends " initrd=initrd"; from stable202508 on (tianocore/edk2 PR #11115) it
 * prefixes "initrd=initrd ". Before stable202505 TDVF measured the setup header as QEMU patched
 * it, which is not modelled: sb_tdx_edk2_form refuses those versions. */
typedef enum sb_tdx_load_options { SB_TDX_INITRD_LAST, SB_TDX_INITRD_FIRST } sb_tdx_load_options;
/* `edk2` is the TDVF's edk2 stable tag as YYYYMM (e.g. 202508). */
int sb_tdx_edk2_form(unsigned edk2, sb_tdx_load_options *out, sb_err *err);
/* RTMR2 after a direct boot with `cmdline` (printable ASCII: TDVF widens each byte to UCS-2) and
 * the initrd's bytes: the Linux EFI stub measures LoadOptions (UTF-16LE with its NUL), then the
 * initrd it loads. */
int sb_tdx_rtmr2_direct(const char *cmdline, sb_tdx_load_options form, const uint8_t *initrd,
                        size_t initrd_len, uint8_t out[SB_TDX_MR_LEN], sb_err *err);

#endif
