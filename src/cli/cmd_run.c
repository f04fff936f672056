/* strongbox run - run a WASI program locally, the way the isolate runs it (for program authors).
 *
 *   strongbox run [--dir HOST[::GUEST][:ro]]... [--env K=V]... [--fuel N] [--max-memory MiB]
 *                 [--engine interpreter|compiled] [--clock] prog.wasm [--] [args...]
 *
 * Exit status: the program's (low 8 bits); 134 when it trapped (kind and location on stderr);
 * 125 when it could not be started (bad option, unreadable or invalid module, link error). */
#include "cli/commands.h"
#include "hostfs/hostfs.h"
#include "wasi/wasi.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SB_COMMAND_DECL(run);
const char sb_cmd_run_summary[] = "run a WASI program locally as the isolate would (--dir, --env, --fuel, --engine)";

#define EXIT_TRAP 134
#define EXIT_START 125
#define MAX_DIRS 64
#define MAX_ENV 256
#define MAX_MODULE (512u << 20)

typedef struct run_opts {
    sb_wasi_preopen dirs[MAX_DIRS];
    char *dir_specs[MAX_DIRS]; /* owned copies that guest_path points into */
    sb_hostfs *fs[MAX_DIRS];
    size_t ndirs;
    const char *env[MAX_ENV];
    char *env_owned[MAX_ENV];
    size_t nenv;
    wasm_config cfg;
    int clock;
} run_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: strongbox run [OPTIONS] prog.wasm [--] [ARGS...]\n\n"
            "Runs a wasm32-wasi program with the same WASI, limits and clock rules as the isolate.\n"
            "  --dir HOST[::GUEST][:ro]  map a host directory (GUEST defaults to HOST; ':ro' = read-only;\n"
            "                            HOST::/ makes it the guest's root). Repeatable.\n"
            "  --env K=V | --env K       set a variable (K alone: copy it from this environment)\n"
            "  --fuel N                  stop the program after N instructions (trap: out of fuel)\n"
            "  --max-memory MiB          cap the program's linear memory (default 4096)\n"
            "  --engine TIER             compiled (the default where built) or interpreter: the\n"
            "                            engine tier, as a policy's limits.engine chooses it\n"
            "  --clock                   real clocks; without it time is virtual (see docs/wasi.md)\n"
            "Exit status: the program's; %d if it trapped; %d if it could not start.\n",
            EXIT_TRAP, EXIT_START);
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "strongbox run: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return -1;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *s == '-' || *end || errno || v > max)
        return -1;
    *out = v;
    return 0;
}

/* HOST[::GUEST][:ro] */
static int add_dir(run_opts *o, const char *spec)
{
    if (o->ndirs == MAX_DIRS)
        return bad("--dir %s: too many --dir options (at most 64)", spec);
    char *s = strdup(spec);
    if (!s)
        return bad("out of memory at %s", spec);
    o->dir_specs[o->ndirs] = s;
    unsigned flags = 0;
    size_t n = strlen(s);
    if (n > 3 && strcmp(s + n - 3, ":ro") == 0) {
        flags |= SB_HOSTFS_READONLY;
        s[n - 3] = '\0';
    }
    char *sep = strstr(s, "::"), *guest = s;
    if (sep) {
        *sep = '\0';
        guest = sep + 2;
    }
    if (!*s || !*guest)
        return bad("--dir %s: expected HOST[::GUEST][:ro]", spec);
    for (size_t i = 0; i < o->ndirs; i++)
        if (strcmp(o->dirs[i].guest_path, guest) == 0)
            return bad("--dir %s: that guest path is already mapped", spec);
    sb_err err;
    sb_hostfs *h = sb_hostfs_new(s, flags, &err);
    if (!h)
        return bad("--dir %s: %s", spec, err.msg);
    o->fs[o->ndirs] = h;
    o->dirs[o->ndirs++] = (sb_wasi_preopen){guest, &sb_hostfs_ops, h, NULL};
    return 0;
}

static int add_env(run_opts *o, const char *kv)
{
    if (o->nenv == MAX_ENV)
        return bad("--env %s: too many --env options (at most 256)", kv);
    if (!*kv || *kv == '=')
        return bad("--env %s: expected K=V or K", kv);
    if (strchr(kv, '=')) {
        o->env[o->nenv++] = kv;
        return 0;
    }
    const char *v = getenv(kv);
    if (!v)
        return bad("--env %s: not set in this environment", kv);
    char *s = malloc(strlen(kv) + strlen(v) + 2);
    if (!s)
        return bad("out of memory at %s", kv);
    sprintf(s, "%s=%s", kv, v);
    o->env_owned[o->nenv] = s;
    o->env[o->nenv++] = s;
    return 0;
}

/* Applies one option that takes a value. */
static int apply(run_opts *o, const char *name, const char *v)
{
    uint64_t n;
    if (strcmp(name, "--dir") == 0)
        return add_dir(o, v);
    if (strcmp(name, "--env") == 0)
        return add_env(o, v);
    if (strcmp(name, "--fuel") == 0) {
        if (parse_u64(v, UINT64_MAX - 1, &n))
            return bad("--fuel %s: expected a number of instructions", v);
        o->cfg.fuel = n;
        return 0;
    }
    if (strcmp(name, "--engine") == 0) {
        if (wasm_engine_parse(v, &o->cfg.engine) != 0)
            return bad("--engine %s: expected interpreter or compiled", v);
        if (!wasm_engine_available(o->cfg.engine))
            return bad("--engine %s: this build has no %s tier (built interpreter-only)", v, v);
        return 0;
    }
    if (parse_u64(v, 4096, &n) || n == 0)
        return bad("--max-memory %s: expected MiB between 1 and 4096", v);
    o->cfg.max_memory_pages = (uint32_t)n * 16;
    return 0;
}

/* Parses options up to the module (both "--opt value" and "--opt=value"); returns the module's
 * index in argv, or -1. */
static int parse(run_opts *o, int argc, char **argv)
{
    static const char *const with_value[] = {"--dir", "--env", "--fuel", "--max-memory", "--engine"};
    const size_t n_with_value = sizeof with_value / sizeof with_value[0];
    wasm_config_default(&o->cfg);
    o->cfg.max_memory_pages = 4096u * 16; /* 4 GiB: the wasm32 maximum */
    /* as in a policy without limits.engine: the compiled tier where this build has it */
    if (wasm_engine_available(WASM_ENGINE_COMPILED))
        o->cfg.engine = WASM_ENGINE_COMPILED;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        if (a[0] != '-')
            return i;
        if (strcmp(a, "--clock") == 0) {
            o->clock = 1;
            continue;
        }
        if (strcmp(a, "--") == 0)
            return i + 1 < argc ? i + 1 : bad("%s: no module given", a);
        size_t len = eq ? (size_t)(eq - a) : strlen(a), k = 0;
        while (k < n_with_value && (strlen(with_value[k]) != len || strncmp(a, with_value[k], len)))
            k++;
        if (k == n_with_value)
            return bad("unknown option %s (see strongbox run --help)", a);
        if (!eq && i + 1 == argc)
            return bad("%s needs a value", a);
        if (apply(o, with_value[k], eq ? eq + 1 : argv[++i]))
            return -1;
    }
    return bad("%s", "no module given (see strongbox run --help)");
}

static int to_stdio(void *ctx, int stream, const void *data, size_t len)
{
    (void)ctx;
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t r = write(stream, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static int report(const char *module, const sb_wasi_result *res, int started)
{
    if (!started) {
        fprintf(stderr, "strongbox run: %s: %s\n", module, res->msg);
        return EXIT_START;
    }
    if (res->status == SB_WASI_EXITED)
        return (int)(res->exit_code & 0xff);
    const wasm_trap *t = &res->trap;
    fprintf(stderr, "strongbox run: %s: trap: %s", module, wasm_trap_text(t->kind));
    if (res->msg[0] && strcmp(res->msg, wasm_trap_text(t->kind)))
        fprintf(stderr, " (%s)", res->msg);
    fprintf(stderr, " in function %u at code offset 0x%x\n", t->func_index, t->code_offset);
    return EXIT_TRAP;
}

static int run_module(run_opts *o, const char *module, int argc, char **argv)
{
    uint8_t *bytes;
    size_t len;
    sb_err err;
    if (sb_read_file(module, MAX_MODULE, &bytes, &len, &err)) {
        fprintf(stderr, "strongbox run: %s\n", err.msg);
        return EXIT_START;
    }
    sb_wasi_config wc = {.argv = (const char *const *)argv, .argc = (size_t)argc,
                         .envp = o->env, .envc = o->nenv, .preopens = o->dirs,
                         .npreopens = o->ndirs, .clock = o->clock, .out = to_stdio};
    /* A closed stdout (prog | head) is the program's EPIPE to handle, not the runner's death. */
    signal(SIGPIPE, SIG_IGN);
    sb_wasi *w = sb_wasi_new(&wc, &err);
    int status = EXIT_START;
    if (!w) {
        fprintf(stderr, "strongbox run: %s\n", err.msg);
    } else {
        sb_wasi_result res;
        int rc = sb_wasi_run(w, bytes, len, &o->cfg, &res);
        status = report(module, &res, rc == 0);
        sb_wasi_free(w);
    }
    free(bytes);
    return status;
}

int sb_cmd_run(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    run_opts *o = calloc(1, sizeof *o);
    if (!o)
        return EXIT_START;
    int m = parse(o, argc, argv), status = EXIT_START;
    if (m > 0) {
        /* The program's argv: the module path, then what follows it (after an optional "--"). */
        int first = m + 1 < argc && strcmp(argv[m + 1], "--") == 0 ? m + 2 : m + 1;
        char **pargv = malloc(sizeof *pargv * (size_t)(argc - first + 1));
        if (pargv) {
            pargv[0] = argv[m];
            memcpy(pargv + 1, argv + first, sizeof *pargv * (size_t)(argc - first));
            status = run_module(o, argv[m], argc - first + 1, pargv);
            free(pargv);
        }
    }
    for (size_t i = 0; i < o->ndirs; i++)
        sb_hostfs_free(o->fs[i]);
    for (size_t i = 0; i < MAX_DIRS; i++)
        free(o->dir_specs[i]);
    for (size_t i = 0; i < MAX_ENV; i++)
        free(o->env_owned[i]);
    free(o);
    return status;
}
