/* platform.h - host-side isolate backends: launch an isolate running strongbox-runtime, give the
 * host one channel to it, reap it, and (for host-rooted platforms) produce its evidence.
 *
 * A backend is a table of operations (sb_platform_ops) behind one opaque sb_platform. The host
 * daemon only calls the functions below, so a KVM micro-VM or confidential-VM backend slots in by
 * adding an ops table:
 *   - launch    starts the isolate with the runtime image and returns the host's channel end
 *               (a socketpair for both; for "kvm" QEMU carries it to a virtio-serial port);
 *   - evidence  produces platform evidence for a binding. Host-rooted platforms (process, kvm) sign
 *               it with the host's attestation key; hardware platforms (sev-snp, tdx, ...) leave
 *               it NULL because the evidence comes from inside the isolate (configfs-tsm);
 *   - reap/kill/free manage the isolate's lifetime.
 * Outside the trusted computing base of a computation (except that, for the process platform, the
 * host is the platform: its key signs the evidence). No global state; never prints. */
#ifndef SB_PLATFORM_H
#define SB_PLATFORM_H

#include "common/common.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SB_RUNTIME_IMAGE_MAX (256u << 20) /* refuse runtime binaries larger than 256 MiB */
#define SB_CHANNEL_FD 3                   /* the channel's descriptor number inside the isolate */

typedef struct sb_platform sb_platform;
typedef struct sb_isolate sb_isolate;

typedef struct sb_platform_config {
    const char *runtime_path; /* the runtime binary; copied into a sealed memfd and measured */
    EVP_PKEY *attest_key;     /* host attestation key (host-rooted platforms); may be NULL when
                                 the host only launches (then evidence fails with a clear error) */
    int sanitizer_compat;     /* for runtimes built with ASan/UBSan (tests only): mount a procfs
                                 of the isolate's own PID namespace (sanitizers read
                                 /proc/self/maps) and pass ASAN_OPTIONS=detect_leaks=0 (LSan
                                 needs to fork, which the sandbox forbids); off by default */
    int drop_uid;             /* uid/gid to switch to when started as root; 0 = 65534 (nobody) */
    /* kvm: the runtime is inside the guest image, so runtime_path is not used. */
    const char *accel;        /* "kvm" (default) or "tcg" (QEMU's emulator: slow, works anywhere) */
    const char *qemu_path;    /* default "qemu-system-x86_64" looked up in /usr/bin, /usr/local/bin */
    const char *guest_kernel; /* the guest image (src/guestimage): both copied into sealed memfds */
    const char *guest_initrd; /* and measured once, like the runtime binary of "process" */
    /* sev-snp, tdx (cvm.c): also qemu_path, guest_kernel, guest_initrd; accel is always kvm. */
    const char *firmware;     /* required: AmdSev OVMF (sev-snp) or TDVF (tdx), QEMU's -bios */
    unsigned vcpus;           /* 0 = 1 */
    const char *vcpu_type;    /* sev-snp only; NULL = "EPYC-v4" (must be one sb_snp_vcpu_sig knows) */
    const char *device_root;  /* tests only: where /dev/sev and /sys/module/kvm_* are looked up
                                 (NULL = "/"); the host is untrusted, so this weakens nothing */
} sb_platform_config;

typedef struct sb_isolate_limits {
    uint64_t address_space;   /* RLIMIT_AS in bytes; 0 = none (needed under AddressSanitizer) */
    uint32_t open_files;      /* RLIMIT_NOFILE; 0 = 16 */
    uint32_t cpu_seconds;     /* RLIMIT_CPU; 0 = none (wall-clock limits are the runtime's) */
    uint64_t memory;          /* the isolate's memory budget (kvm: guest RAM = this plus
                                 SB_KVM_GUEST_OVERHEAD; 0 = SB_KVM_GUEST_MIN); process: unused */
} sb_isolate_limits;

#define SB_KVM_GUEST_OVERHEAD (64ull << 20) /* guest kernel, initramfs and page tables */
#define SB_KVM_GUEST_MIN (256ull << 20)

/* What the launch really applied: namespaces are used where the kernel permits and skipped with a
 * note otherwise, so the host can log what isolation a computation got. */
enum {
    SB_SANDBOX_NEWNET = 1 << 0,  /* no network: a fresh network namespace with only lo (down) */
    SB_SANDBOX_NEWNS = 1 << 1,   /* own mount namespace */
    SB_SANDBOX_NEWPID = 1 << 2,
    SB_SANDBOX_NEWIPC = 1 << 3,
    SB_SANDBOX_NEWUTS = 1 << 4,
    SB_SANDBOX_EMPTY_ROOT = 1 << 5, /* pivot_root into a read-only tmpfs holding only /usr (ro) */
    SB_SANDBOX_UID_DROPPED = 1 << 6,
    SB_SANDBOX_NO_NEW_PRIVS = 1 << 7,
    SB_SANDBOX_RLIMITS = 1 << 8,
};

typedef struct sb_isolate_exit {
    int exited;  /* 1: ended with status `code`; 0: killed by signal `code` */
    int code;
} sb_isolate_exit;

/* Opens a backend by name ("process", "kvm", "sev-snp", "tdx"). Measures the runtime image once: every isolate of this
 * platform execs exactly the measured bytes. Returns 0 or -1 with err filled. */
int sb_platform_open(const char *name, const sb_platform_config *cfg, sb_platform **out,
                     sb_err *err);
void sb_platform_close(sb_platform *p);
const char *sb_platform_name(const sb_platform *p);
/* The primary measurement of the runtime as the platform reports it (process: SHA-256 of the
 * runtime binary; kvm: the launch measurement of src/measure). */
const uint8_t *sb_platform_measurement(const sb_platform *p, size_t *len);
/* Launch-to-attested limit when the operator sets none: a VM boots before its runtime starts. */
unsigned sb_platform_ready_timeout(const sb_platform *p);
/* What to tell the operator when an isolate was not ready in time ("" if nothing to add). */
const char *sb_platform_ready_hint(const sb_platform *p);
/* The QEMU command line of one kvm isolate (the channel is descriptor SB_KVM_QEMU_CHANNEL_FD,
 * the kernel and initrd descriptors SB_KVM_QEMU_KERNEL_FD and SB_KVM_QEMU_INITRD_FD in QEMU):
 * one malloc'd, NULL-terminated vector (free() it once). Returns 0 or -1 (not a kvm platform). */
int sb_platform_qemu_argv(const sb_platform *p, const sb_isolate_limits *lim, char ***argv,
                          sb_err *err);
/* The QEMU command line of a confidential VM (cvm.c): sev-snp or tdx, what the sev-snp and tdx
 * platforms exec (sb_platform_qemu_argv builds it from their configuration). Descriptors as for
 * kvm. */
typedef struct sb_cvm_launch {
    const char *platform;         /* "sev-snp" or "tdx" */
    const char *qemu;             /* a QEMU with sev-snp-guest (>= 9.1) or tdx-guest (>= 10.1) */
    const char *firmware;         /* AmdSev OVMF (with kernel-hashes) or TDVF */
    const char *cmdline;          /* the kernel command line, as measured */
    const char *vcpu_type;        /* sev-snp: the EPYC model the VMSAs are measured with */
    unsigned vcpus;               /* 1..64 */
    unsigned long long memory_mib; /* 256 .. 1 TiB */
} sb_cvm_launch;
#define SB_SNP_POLICY 0x30000ull /* bit 16 (must be one), bit 17 SMT; no debug, no migration */
#define SB_CVM_PORT_NAME "sb.channel"
int sb_platform_cvm_argv(const sb_cvm_launch *l, char ***argv, sb_err *err);
#define SB_KVM_QEMU_CHANNEL_FD 3
#define SB_KVM_QEMU_KERNEL_FD 4
#define SB_KVM_QEMU_INITRD_FD 5
#define SB_CVM_QEMU_FIRMWARE_FD 7 /* sev-snp, tdx: the sealed firmware copy (6 is the launcher's) */

/* Starts one isolate. *out owns the child; sb_isolate_channel() is the host's end (non-blocking,
 * close-on-exec). Returns 0 or -1 with err naming the step that failed. */
int sb_isolate_launch(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out,
                      sb_err *err);
int sb_isolate_channel(const sb_isolate *iso);
pid_t sb_isolate_pid(const sb_isolate *iso);
unsigned sb_isolate_sandbox(const sb_isolate *iso); /* SB_SANDBOX_* bits */
/* Notes on isolation that could not be applied ("no PID namespace: EPERM"), "" if none. */
const char *sb_isolate_warnings(const sb_isolate *iso);
/* Non-blocking: 1 if the isolate ended (filling *ex), 0 if still running, -1 on error. */
int sb_isolate_reap(sb_isolate *iso, sb_isolate_exit *ex);
/* Kills the isolate (SIGKILL) and waits for it. Idempotent. */
void sb_isolate_kill(sb_isolate *iso);
/* Kills if still running, closes the channel, frees. NULL is fine. */
void sb_isolate_free(sb_isolate *iso);

/* Evidence for `binding` (64 bytes, see attest.h) about this platform's runtime: for "process" a
 * PSA token signed by the host attestation key carrying the runtime measurement and the binding.
 * *ev is malloc'd. Returns 0, or -1 (also for platforms whose evidence comes from inside). */
int sb_platform_evidence(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                         size_t *ev_len, sb_err *err);

/* kvm: turns QEMU's exit status into the runtime's where strongbox-init passed it through
 * QEMU's isa-debug-exit (odd statuses of 3 or more); leaves QEMU's own statuses as they are.
 * sb_isolate_reap/kill apply it to kvm isolates. */
void sb_kvm_exit_status(sb_isolate_exit *ex);

/* "exited with status 3" / "killed by signal 9 (Killed)". */
void sb_isolate_exit_describe(const sb_isolate_exit *ex, char *buf, size_t len);

#endif
