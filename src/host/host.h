/* host.h - strongbox-host, the untrusted host daemon, as a library (the binary is main.c).
 *
 * One event loop (epoll) serves everything: party and deploy connections on one TCP port, the
 * channel to every isolate, completed attestation-service calls (worker threads), signals. The host
 * only ever sees the policy (public), attestation messages (public) and TLS records (ciphertext).
 * Wire format of the port: docs/host.md. No global state; the loop returns on SIGTERM/SIGINT after
 * a graceful stop. */
#ifndef SB_HOST_H
#define SB_HOST_H

#include "common/common.h"

#include <stdint.h>
#include <stdio.h>

typedef struct sb_host_config {
    const char *listen;          /* "ADDR:PORT" (port 0 = any free port); default 127.0.0.1:7433 */
    const char *port_file;       /* if set, the bound port is written there once listening */
    const char *runtime_path;    /* strongbox-runtime binary (measured, then exec'd per isolate) */
    const char *platform;        /* isolate backend; default "process" */
    const char *accel;           /* kvm: "kvm" (default) or "tcg" */
    const char *qemu_path;       /* kvm: QEMU binary; default qemu-system-x86_64 in /usr/bin */
    const char *guest_kernel;    /* kvm: the guest image (BUILD/guest/vmlinuz, initrd.cpio) */
    const char *guest_initrd;
    const char *firmware;        /* sev-snp, tdx: OVMF (AmdSev) or TDVF; required there */
    unsigned vcpus;              /* sev-snp, tdx: measured vCPU count (0 = 1) */
    const char *vcpu_type;       /* sev-snp: measured EPYC model (NULL = EPYC-v4) */
    const char *device_root;     /* tests: where /dev/sev, /sys/module/kvm_* are probed */
    const char *attest_key_path; /* PEM private key of the host (process-platform evidence) */
    const char *attestd_url;     /* overrides the policy's attestation URL (e.g. another route) */
    unsigned max_isolates;       /* live isolates at once; default 64 */
    uint64_t max_memory;         /* sum of per-isolate memory budgets; default 8 GiB */
    uint64_t isolate_overhead;   /* added to the policy's memory limit for the isolate's memory
                                    budget and RLIMIT_AS; default 256 MiB */
    int sanitizer_compat;        /* tests of sanitizer builds only: no RLIMIT_AS, isolates get
                                    their own /proc and ASAN_OPTIONS=detect_leaks=0 */
    unsigned ready_timeout_s;    /* launch to attested; default per platform (process 30 s, kvm
                                    60 s, 120 s under TCG) */
    int no_splice;               /* relay party bytes with read/write, not splice(2) (tests) */
    unsigned stop_timeout_s;     /* graceful stop: wait this long for isolates; default 10 */
    unsigned max_connections;    /* open connections at once; default 4096 */
    unsigned max_unauth_per_source; /* connections per source address not yet authenticated by
                                       an isolate (preamble, waiting, TLS handshake); default 64 */
    unsigned stall_timeout_s;    /* a session whose party read nothing while bytes waited for it
                                    this long is closed; default 60 */
    const char *admin_socket;    /* operator's Unix socket (docs/host.md "Operator"); NULL: none */
    const char *sealed_dir;      /* store of sealed results kept after the end (docs/sealed.md);
                                    NULL: none is kept */
    uint64_t sealed_max_bytes;   /* kept per computation; default 1 GiB */
    unsigned sealed_keep_days;   /* envelopes older than this are deleted; default 30 */
    FILE *log;                   /* log lines (metadata only, never data); NULL = stderr */
} sb_host_config;

/* Runs the daemon until SIGTERM or SIGINT (blocked in the calling thread and taken by signalfd).
 * Returns 0 after a graceful stop, -1 with err filled when it cannot start. */
int sb_host_run(const sb_host_config *cfg, sb_err *err);

/* `strongbox-host admin ...` (admin_cli.c, in the binary only): the operator's client of the admin
 * socket. argv[0] is "admin". Returns the exit status. */
int sb_host_admin_cli(int argc, char **argv);

/* Preamble lines (ASCII, one line, at most SB_PREAMBLE_MAX bytes with the '\n'). */
#define SB_PREAMBLE_MAX 128
#define SB_PREAMBLE_MAGIC "STRONGBOX/1"

#endif
