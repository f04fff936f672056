/* tsm.h - evidence from the confidential-computing platform the runtime runs on (TRUSTED).
 *
 * Given the 64-byte binding, returns the platform's signed evidence carrying it:
 *   1. configfs-tsm (Linux 6.7+; SEV-SNP, TDX and CCA guests): mkdir a report entry under
 *      /sys/kernel/config/tsm/report, write inblob, read provider, outblob, auxblob, and check
 *      that generation advanced by exactly our one write (else another writer raced us);
 *   2. /dev/sev-guest: SNP_GET_EXT_REPORT (report + certificate table), else SNP_GET_REPORT;
 *   3. /dev/tdx_guest: TDX_CMD_GET_REPORT0 -> a TDREPORT (format "tdx-report": local, MAC'd, not
 *      remotely verifiable until a quoting enclave turns it into a quote, which is not done here);
 *   4. /dev/nsm (AWS Nitro Enclaves): an NSM Attestation request with the binding as nonce.
 * The evidence formats are the ones src/verifiers checks (docs/evidence.md).
 * Paths and the two syscalls that need a kernel (mkdir on configfs, ioctl) are injectable so
 * tests drive the real code path against a fake tree and fake devices. No global state. */
#ifndef SB_TSM_H
#define SB_TSM_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SB_TSM_BINDING_LEN 64
#define SB_TSM_MAX_EVIDENCE (1u << 20)

typedef struct sb_tsm_sys {
    int (*make_dir)(void *ctx, const char *path, mode_t mode);         /* like mkdir(2) */
    int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg); /* like ioctl(2) */
    void *ctx;
} sb_tsm_sys;

typedef struct sb_tsm_config {
    const char *configfs_report; /* NULL: /sys/kernel/config/tsm/report */
    const char *sev_guest;       /* NULL: /dev/sev-guest */
    const char *tdx_guest;       /* NULL: /dev/tdx_guest */
    const char *nsm;             /* NULL: /dev/nsm */
    const sb_tsm_sys *sys;       /* NULL: the real syscalls */
} sb_tsm_config;

typedef struct sb_tsm_evidence {
    char platform[16]; /* "sev-snp", "tdx", "cca", "nitro" */
    char format[16];   /* what verifies it: "snp", "tdx", "cca", "nitro"; or "tdx-report" */
    char source[16];   /* "configfs-tsm", "sev-guest", "tdx_guest", "nsm" */
    uint8_t *data;     /* malloc'd */
    size_t len;
} sb_tsm_evidence;

/* cfg may be NULL (all defaults). Returns 0, or -1 with err naming the source and what failed. */
int sb_tsm_get_evidence(const sb_tsm_config *cfg, const uint8_t binding[SB_TSM_BINDING_LEN],
                        sb_tsm_evidence *out, sb_err *err);
void sb_tsm_evidence_free(sb_tsm_evidence *e);

#endif
