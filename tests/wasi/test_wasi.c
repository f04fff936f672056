/* WASI over the in-memory VFS, as the isolate runs programs: rights of a program principal,
 * limits, output capture with its cap, traps, fuel, exit codes and bad modules.
 * Usage: test_wasi RIGHTS.wasm BEHAVE.wasm CHAOS.wasm */
#include "vfs/vfs.h"
#include "wasi/wasi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

static const sb_vfs_grant sys_g[] = {{"/", SB_VFS_READ | SB_VFS_WRITE}};
static const sb_vfs_principal sys = {"runtime", sys_g, 1};
static const sb_vfs_grant prog_g[] = {{"/in", SB_VFS_READ},
                                      {"/out", SB_VFS_READ | SB_VFS_WRITE},
                                      {"/wo", SB_VFS_WRITE}};
static const sb_vfs_principal prog = {"prog", prog_g, 3};

typedef struct run {
    sb_wasi_result res;
    int rc;
    char out[8192], err[1024];
    int out_trunc;
} run;

/* Runs `wasm` with argv over the VFS view, output captured (cap bytes per stream). */
static void run_prog(const uint8_t *wasm, size_t len, sb_vfs_view *view, const char *const *argv,
                     size_t argc, size_t cap, const wasm_config *cfg, run *r)
{
    sb_wasi_preopen pre = {"/", &sb_vfs_ops, view, NULL};
    sb_wasi_config wc = {.argv = argv, .argc = argc, .preopens = &pre, .npreopens = 1,
                         .max_output = cap};
    sb_err err;
    memset(r, 0, sizeof *r);
    sb_wasi *w = sb_wasi_new(&wc, &err);
    CHECK(w != NULL);
    if (!w)
        return;
    r->rc = sb_wasi_run(w, wasm, len, cfg, &r->res);
    size_t n;
    int t;
    const uint8_t *o = sb_wasi_output(w, 1, &n, &r->out_trunc); /* NULL when nothing was written */
    if (n)
        memcpy(r->out, o, n < sizeof r->out - 1 ? n : sizeof r->out - 1);
    o = sb_wasi_output(w, 2, &n, &t);
    if (n)
        memcpy(r->err, o, n < sizeof r->err - 1 ? n : sizeof r->err - 1);
    sb_wasi_free(w);
}

static const char expected_rights[] =
    "read /in/data: OK\n"
    "  content: input\n"
    "write-open /in/data: EACCES\n"
    "create /in/new: EACCES\n"
    "truncate /in/data: EACCES\n"
    "unlink /in/data: EACCES\n"
    "rename /in/data -> /out/x: EACCES\n"
    "mkdir /in/d: EACCES\n"
    "utimens /in/data: EACCES\n"
    "read /secret/k: EACCES\n"
    "read /secret/none: EACCES\n"
    "stat /secret: EACCES\n"
    "read /in2/x: EACCES\n"
    "ls /: . .. in wo out\n"
    "ls /in: . .. data\n"
    "ls /secret: EACCES\n"
    "create /out/r: OK\n"
    "write /out/r: OK\n"
    "rename /out/r -> /out/r2: OK\n"
    "rename /out/r2 -> /in/r2: EACCES\n"
    "read /wo/f: EACCES\n"
    "write /wo/f: OK\n"
    "append /wo/f: OK\n"
    "rename /wo/f -> /out/f: EACCES\n"
    "open dir /in: OK\n"
    "openat(/in, data, O_WRONLY): EACCES\n"
    "openat(/in, ../out/y, O_CREAT): ENOTCAPABLE\n"
    "symlink r2 /out/ln: EPERM\n"
    "symlink /in/data /out/ln: EPERM\n"
    "link /out/r2 /out/hl: EPERM\n"
    "readlink /out/r2: EINVAL\n"
    "readlink /out/none: ENOENT\n"
    "open /out/r2 O_NOFOLLOW: OK\n"
    "create /out/big: OK\n"
    "write 100 bytes: ENOSPC\n"
    "/out/n0: OK\n"
    "/out/n1: OK\n"
    "/out/n2: EDQUOT\n"
    "/out/n3: EDQUOT\n"
    "mkdir /out/deep/x: EDQUOT\n";

static void test_rights(const uint8_t *wasm, size_t len)
{
    /* 64 bytes of content; 13 files: 9 provisioned here, then /out/r, /out/big, /out/n0, /out/n1
     * fit and the rest hit the limit (see the expected EDQUOT lines). */
    sb_vfs_limits lim = {.max_bytes = 64, .max_files = 13};
    sb_vfs *v = sb_vfs_new(&lim);
    sb_vfs_view sv = {v, &sys}, pv = {v, &prog};
    sb_err err;
    CHECK(sb_vfs_put(&sv, "/in/data", 0, "input", 5, SB_VFS_PUT_CREATE, &err) == 0);
    CHECK(sb_vfs_put(&sv, "/in2/x", 0, "no", 2, SB_VFS_PUT_CREATE, &err) == 0);
    CHECK(sb_vfs_put(&sv, "/secret/k", 0, "key", 3, SB_VFS_PUT_CREATE, &err) == 0);
    CHECK(sb_vfs_put(&sv, "/wo/f", 0, "w", 1, SB_VFS_PUT_CREATE, &err) == 0);
    CHECK(sb_vfs_mkdirs(&sv, "/out", &err) == 0);
    const char *argv[] = {"rights"};
    run r;
    run_prog(wasm, len, &pv, argv, 1, 0, NULL, &r);
    CHECK(r.rc == 0 && r.res.status == SB_WASI_EXITED && r.res.exit_code == 0);
    if (strcmp(r.out, expected_rights) != 0)
        fprintf(stderr, "rights output:\n%s", r.out);
    CHECK(strcmp(r.out, expected_rights) == 0);
    /* what the program left, seen by the runtime */
    char buf[32];
    size_t got;
    CHECK(sb_vfs_get(&sv, "/out/r2", 0, buf, sizeof buf, &got, &err) == 0);
    CHECK(got == 6 && memcmp(buf, "result", 6) == 0);
    CHECK(sb_vfs_get(&sv, "/in/data", 0, buf, sizeof buf, &got, &err) == 0);
    CHECK(got == 5 && memcmp(buf, "input", 5) == 0);
    CHECK(sb_vfs_get(&sv, "/wo/f", 0, buf, sizeof buf, &got, &err) == 0);
    CHECK(got == 6 && memcmp(buf, "w+more", 6) == 0);
    sb_vfs_free(v);
}

static void test_behaviour(const uint8_t *wasm, size_t len)
{
    sb_vfs *v = sb_vfs_new(NULL);
    sb_vfs_view pv = {v, &prog};
    run r;
    wasm_config cfg;
    wasm_config_default(&cfg);

    const char *div[] = {"behave", "div"};
    run_prog(wasm, len, &pv, div, 2, 0, NULL, &r);
    CHECK(r.rc == 0 && r.res.status == SB_WASI_TRAPPED && r.res.trap.kind == WASM_TRAP_DIV_ZERO);
    CHECK(r.res.trap.code_offset != 0);

    const char *unr[] = {"behave", "unreachable"};
    run_prog(wasm, len, &pv, unr, 2, 0, NULL, &r);
    CHECK(r.res.status == SB_WASI_TRAPPED && r.res.trap.kind == WASM_TRAP_UNREACHABLE);

    const char *loop[] = {"behave", "loop"};
    cfg.fuel = 1000000;
    run_prog(wasm, len, &pv, loop, 2, 0, &cfg, &r);
    CHECK(r.res.status == SB_WASI_TRAPPED && r.res.trap.kind == WASM_TRAP_OUT_OF_FUEL);
    cfg.fuel = WASM_FUEL_UNLIMITED;

    const char *ex[] = {"behave", "exit", "3"};
    run_prog(wasm, len, &pv, ex, 3, 0, NULL, &r);
    CHECK(r.res.status == SB_WASI_EXITED && r.res.exit_code == 3);

    const char *flood[] = {"behave", "flood"};
    run_prog(wasm, len, &pv, flood, 2, 1050, NULL, &r);
    CHECK(r.res.status == SB_WASI_EXITED && r.res.exit_code == 5);
    CHECK(strlen(r.out) == 1050 && r.out_trunc == 1);
    CHECK(strcmp(r.err, "write 11: ENOSPC\n") == 0);

    /* the program's memory cannot grow past the configured cap */
    const char *mem[] = {"behave", "memory"};
    cfg.max_memory_pages = 64 * 16; /* 64 MiB */
    run_prog(wasm, len, &pv, mem, 2, 0, &cfg, &r);
    int mib = -1;
    CHECK(r.res.status == SB_WASI_EXITED && sscanf(r.out, "allocated %d MiB", &mib) == 1);
    CHECK(mib > 50 && mib < 64);
    cfg.max_memory_pages = 1; /* below the module's declared minimum: it cannot start */
    run_prog(wasm, len, &pv, mem, 2, 0, &cfg, &r);
    CHECK(r.rc == -1 && r.res.status == SB_WASI_LIMIT);

    static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    run_prog(empty, sizeof empty, &pv, div, 2, 0, NULL, &r);
    CHECK(r.rc == -1 && r.res.status == SB_WASI_BAD_MODULE && strstr(r.res.msg, "_start"));
    run_prog((const uint8_t *)"garbage", 7, &pv, div, 2, 0, NULL, &r);
    CHECK(r.rc == -1 && r.res.status == SB_WASI_BAD_MODULE && strstr(r.res.msg, "malformed"));
    sb_vfs_free(v);
}

/* Configurations sb_wasi_new refuses, with the reason. */
static void test_config(void)
{
    sb_vfs *v = sb_vfs_new(NULL);
    static const sb_vfs_principal nobody = {"nobody", NULL, 0};
    sb_vfs_view pv = {v, &prog}, nv = {v, &nobody};
    sb_wasi_preopen two[] = {{"/b", &sb_vfs_ops, &pv, NULL}, {"/a", &sb_vfs_ops, &pv, NULL}};
    sb_err err = {0};
    sb_wasi_config none = {.max_fds = 1};
    sb_wasi *w = sb_wasi_new(&none, &err);
    CHECK(w != NULL);
    sb_wasi_free(w);
    sb_wasi_config tight = {.preopens = two, .npreopens = 2, .max_fds = 4};
    CHECK(sb_wasi_new(&tight, &err) == NULL && strstr(err.msg, "2 preopens exceed the fd limit"));
    sb_wasi_preopen hidden = {"/", &sb_vfs_ops, &nv, NULL};
    sb_wasi_config denied = {.preopens = &hidden, .npreopens = 1};
    CHECK(sb_wasi_new(&denied, &err) == NULL && strstr(err.msg, "preopen /: cannot open"));
    sb_vfs_free(v);
}

/* Random raw WASI calls over a VFS holding a secret the program has no right to. */
static void test_chaos(const uint8_t *wasm, size_t len)
{
    sb_vfs_limits lim = {.max_bytes = 1 << 20, .max_files = 64};
    for (int seed = 1; seed <= 12; seed++) {
        sb_vfs *v = sb_vfs_new(&lim);
        sb_vfs_view sv = {v, &sys}, pv = {v, &prog};
        sb_err err;
        CHECK(sb_vfs_put(&sv, "/secret/s", 0, "SECRET!#", 8, SB_VFS_PUT_CREATE, &err) == 0);
        CHECK(sb_vfs_put(&sv, "/in/data", 0, "input", 5, SB_VFS_PUT_CREATE, &err) == 0);
        CHECK(sb_vfs_mkdirs(&sv, "/out", &err) == 0);
        char s[16];
        snprintf(s, sizeof s, "%d", seed);
        const char *argv[] = {"chaos", s, "2000"};
        run r;
        run_prog(wasm, len, &pv, argv, 3, 0, NULL, &r);
        /* exit 0 only after all the calls (stdout holds random bytes, so no text is checked) */
        CHECK(r.rc == 0 && r.res.status == SB_WASI_EXITED && r.res.exit_code == 0);
        if (r.res.status != SB_WASI_EXITED || r.res.exit_code)
            fprintf(stderr, "chaos seed %d: %s%s\n", seed, r.out, r.res.msg);
        CHECK(sb_vfs_bytes_used(v) <= lim.max_bytes && sb_vfs_files_used(v) <= lim.max_files);
        char buf[16];
        size_t got;
        CHECK(sb_vfs_get(&sv, "/secret/s", 0, buf, sizeof buf, &got, &err) == 0 && got == 8);
        sb_vfs_free(v);
    }
}

static uint8_t *load(const char *path, size_t *len)
{
    uint8_t *data;
    sb_err err;
    if (sb_read_file(path, 64u << 20, &data, len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(2);
    }
    return data;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_wasi RIGHTS.wasm BEHAVE.wasm CHAOS.wasm\n");
        return 2;
    }
    size_t l1, l2, l3;
    uint8_t *rights = load(argv[1], &l1), *behave = load(argv[2], &l2), *chaos = load(argv[3], &l3);
    test_rights(rights, l1);
    test_behaviour(behave, l2);
    test_config();
    test_chaos(chaos, l3);
    free(rights);
    free(behave);
    free(chaos);
    printf("wasi: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
