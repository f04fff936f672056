/* measure.h - offline recomputation of launch measurements (untrusted: CLI side).
 *
 * A party recomputes, from image files it built or downloaded itself, the measurement a platform
 * will report for a launch, and compares it with a policy's accepted list before trusting it. */
#ifndef SB_MEASURE_H
#define SB_MEASURE_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

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

#endif
