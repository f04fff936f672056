/* Runs a WASI program over a host directory mapped at /data, as `strongbox run --dir DIR::/data`
 * does, but with the choice of hostfs resolution: --no-openat2 forces the component walk that
 * kernels without openat2 get, so programs can check both give the same answers.
 * Usage: hostfs_run [--no-openat2] DIR prog.wasm [ARGS...] */
#include "hostfs/hostfs.h"
#include "wasi/wasi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int to_stdio(void *ctx, int stream, const void *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stream == 1 ? stdout : stderr) == len ? 0 : -5;
}

int main(int argc, char **argv)
{
    int walk = argc > 1 && strcmp(argv[1], "--no-openat2") == 0;
    if (argc < 3 + walk)
        return fprintf(stderr, "usage: hostfs_run [--no-openat2] DIR prog.wasm [ARGS...]\n"), 125;
    uint8_t *wasm = NULL;
    size_t len;
    sb_err err;
    sb_hostfs *h = sb_hostfs_new(argv[1 + walk], walk ? SB_HOSTFS_NO_OPENAT2 : 0, &err);
    if (!h || sb_read_file(argv[2 + walk], 64u << 20, &wasm, &len, &err))
        return fprintf(stderr, "hostfs_run: %s\n", err.msg), sb_hostfs_free(h), 125;
    sb_wasi_preopen pre = {"/data", &sb_hostfs_ops, h, NULL};
    sb_wasi_config cfg = {.argv = (const char *const *)argv + 2 + walk,
                          .argc = (size_t)(argc - 2 - walk), .preopens = &pre, .npreopens = 1,
                          .out = to_stdio};
    sb_wasi *wasi = sb_wasi_new(&cfg, &err);
    sb_wasi_result res;
    int status = 125;
    if (wasi && sb_wasi_run(wasi, wasm, len, NULL, &res) == 0)
        status = res.status == SB_WASI_EXITED ? (int)(res.exit_code & 0xff) : 134;
    else
        fprintf(stderr, "hostfs_run: %s\n", wasi ? res.msg : err.msg);
    sb_wasi_free(wasi);
    sb_hostfs_free(h);
    free(wasm);
    return status;
}
