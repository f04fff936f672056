/* wasi.h - wasi_snapshot_preview1 on top of the engine (src/wasm) and a filesystem backend
 * (src/vfs/fs.h: the in-memory VFS in the isolate, a host directory in `strongbox run`).
 *
 * All 46 functions of the final preview1 snapshot are provided (the 45 of the original witx plus
 * sock_accept). Behaviour, rights and the errno of each failure are described in docs/wasi.md.
 *
 * Determinism: without the clock, clock_time_get returns a virtual time (realtime starts at
 * SB_WASI_FIXED_TIME, monotonic at 0) that advances only when the program sleeps through
 * poll_oneoff, which never waits; random_get always uses the OS CSPRNG (getrandom).
 *
 * Every guest pointer and length is checked against the guest memory before use; a bad one makes
 * the call return EFAULT (or EINVAL for impossible lengths) and nothing is read or written. */
#ifndef SB_WASI_H
#define SB_WASI_H

#include "common/common.h"
#include "vfs/fs.h"
#include "wasm/wasm.h"

/* 2000-01-01T00:00:00Z in ns: the realtime clock's start when the clock is disabled. */
#define SB_WASI_FIXED_TIME 946684800000000000ULL

typedef struct sb_wasi sb_wasi;

/* A directory given to the program. WASI opens its own handle on `dir` (NULL = the backend's
 * root); preopens get fds 3, 4, ... in sorted guest-path order. */
typedef struct sb_wasi_preopen {
    const char *guest_path; /* "/", "/data", "." */
    const sb_fs_ops *ops;
    void *fs;
    void *dir;
} sb_wasi_preopen;

/* stdout (fd 1) / stderr (fd 2) sink: return 0, or a negative errno that the program sees. */
typedef int (*sb_wasi_out_fn)(void *ctx, int stream, const void *data, size_t len);
/* stdin source: *got = 0 at end of input. */
typedef int (*sb_wasi_in_fn)(void *ctx, void *buf, size_t len, size_t *got);

typedef struct sb_wasi_config {
    const char *const *argv; /* argv[0] is the program name */
    size_t argc;
    const char *const *envp; /* "KEY=VALUE" */
    size_t envc;
    const sb_wasi_preopen *preopens;
    size_t npreopens;
    int clock;        /* 1: real clocks, and poll_oneoff really sleeps */
    sb_wasi_out_fn out; /* NULL: capture into buffers (sb_wasi_output) */
    void *out_ctx;
    size_t max_output; /* per stream, bytes; beyond it writes fail with ENOSPC. 0 = 16 MiB */
    sb_wasi_in_fn in;  /* NULL: stdin is empty */
    void *in_ctx;
    uint32_t max_fds;  /* 0 = 1024 */
} sb_wasi_config;

/* Copies everything it needs from cfg except the backends, which must outlive the sb_wasi.
 * NULL with err filled on failure (e.g. a preopen that cannot be opened). */
sb_wasi *sb_wasi_new(const sb_wasi_config *cfg, sb_err *err);
void sb_wasi_free(sb_wasi *w);

/* Defines every function under "wasi_snapshot_preview1" in the store. 0 or -1 (err filled). */
int sb_wasi_define(sb_wasi *w, wasm_store *s, sb_err *err);

/* Captured stdout (stream 1) or stderr (stream 2), NULL when empty; *truncated when output
 * exceeded the cap. */
const uint8_t *sb_wasi_output(const sb_wasi *w, int stream, size_t *len, int *truncated);

typedef enum sb_wasi_status {
    SB_WASI_EXITED = 0,    /* returned from _start or called proc_exit: exit_code is valid */
    SB_WASI_TRAPPED,       /* trap describes it */
    SB_WASI_BAD_MODULE,    /* did not load, link or have a `_start` () -> () export; msg says why */
    SB_WASI_LIMIT,         /* instantiation exceeded a limit (memory pages); msg says which */
} sb_wasi_status;

typedef struct sb_wasi_result {
    sb_wasi_status status;
    uint32_t exit_code;
    wasm_trap trap;
    char msg[256];
    uint64_t fuel_used;   /* engine fuel the run used (0 when fuel is unlimited; when the start
                             function trapped other than for fuel, what it used is not known: 0) */
} sb_wasi_result;

/* Loads, links, instantiates (under cfg, NULL = engine defaults) and runs `_start`. Returns 0 when
 * the program ran (exited or trapped: see res->status), -1 when it could not start. */
int sb_wasi_run(sb_wasi *w, const uint8_t *wasm, size_t len, const wasm_config *cfg,
                sb_wasi_result *res);

/* The WASI errno for a backend error (0 or -errno or -SB_FS_ENOTCAPABLE). */
uint16_t sb_wasi_errno(int rc);

#endif
