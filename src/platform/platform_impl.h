/* platform_impl.h - internals shared by the platform backends (not a public header). */
#ifndef SB_PLATFORM_IMPL_H
#define SB_PLATFORM_IMPL_H

#include "platform/platform.h"

struct sb_platform_ops {
    const char *name;
    /* Loads and measures what every isolate of the platform runs. */
    int (*open)(sb_platform *p, const sb_platform_config *cfg, sb_err *err);
    unsigned ready_timeout_s;
    int (*launch)(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out, sb_err *err);
    /* NULL for platforms whose evidence is produced inside the isolate. */
    int (*evidence)(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                    size_t *ev_len, sb_err *err);
};

struct sb_platform {
    const struct sb_platform_ops *ops;
    int image_fd;               /* sealed memfd with the runtime bytes that were measured */
    int kernel_fd, initrd_fd;   /* kvm: sealed memfds with the guest image that was measured */
    char accel[8];              /* kvm: "kvm" or "tcg" */
    char qemu[256];             /* kvm, sev-snp, tdx: the QEMU binary */
    int cvm;                    /* sev-snp, tdx: the command line of cvm.c, evidence from inside */
    int firmware_fd;            /* cvm: sealed memfd with the OVMF/TDVF bytes that were hashed */
    char firmware[32];          /* cvm: QEMU's -bios, /proc/self/fd/SB_CVM_QEMU_FIRMWARE_FD */
    char vcpu_type[32];         /* sev-snp: the measured EPYC model */
    unsigned vcpus;             /* cvm: the measured vCPU count */
    uint8_t measurement[32];
    EVP_PKEY *attest_key;
    int sanitizer_compat;
    uid_t drop_uid;
};

struct sb_isolate {
    sb_platform *platform;
    pid_t pid;                  /* 0 once reaped */
    int chan;
    unsigned sandbox;
    char warnings[256];
    int ended;
    sb_isolate_exit exit;
};

int sb_platform_sealed_copy(const char *what, const char *path, size_t max, int *fd,
                            uint8_t **data, size_t *len, sb_err *err);
/* Copies args[0..n) into one malloc'd NULL-terminated vector (free() it once). */
int sb_platform_argv_pack(const char *const *args, size_t n, char ***out, sb_err *err);
/* The QEMU binary: `given` if executable, else qemu-system-x86_64 in /usr/bin, /usr/local/bin. */
int sb_platform_find_qemu(const char *platform, const char *given, char *out, size_t len,
                          sb_err *err);
/* Copies the guest kernel and initrd into sealed memfds; *kernel and *initrd get their bytes. */
int sb_platform_guest_image(sb_platform *p, const sb_platform_config *cfg, uint8_t **kernel,
                            size_t *klen, uint8_t **initrd, size_t *ilen, sb_err *err);
int sb_cvm_open(sb_platform *p, const sb_platform_config *cfg, sb_err *err);
/* The QEMU launcher of kvm, sev-snp and tdx (kvm.c): argv from sb_platform_qemu_argv. */
int sb_kvm_open(sb_platform *p, const sb_platform_config *cfg, sb_err *err);
int sb_kvm_launch(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out, sb_err *err);
int sb_kvm_evidence(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                    size_t *ev_len, sb_err *err);
int sb_process_launch(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out, sb_err *err);
int sb_process_evidence(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                        size_t *ev_len, sb_err *err);

#endif
