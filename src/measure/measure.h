/* measure.h - offline launch-measurement calculators (`strongbox measure`).
 *
 * A party recomputes, from image files it built or downloaded itself, the measurement a policy
 * lists for a platform, and compares. Untrusted: runs on a party's machine, never in an isolate.
 * Every input is a file's bytes and is parsed defensively: a malformed image is an error naming
 * what is wrong, never a digest. One section per platform. */
#ifndef SB_MEASURE_H
#define SB_MEASURE_H

#include "common/common.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
