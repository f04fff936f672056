/* run.c - the run request: a program of the policy, uploaded with the exact hash the policy names,
 * run through WASI with the program's own rights (one preopen per grant, in sorted path order) and
 * the policy's limits. Runs synchronously: other sessions wait until it ends (the runtime is one
 * thread, which is what keeps every request atomic). */
#include "runtime/runtime.h"
#include "wasi/wasi.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* run_seconds: an ITIMER_REAL timer armed for the length of one run raises this flag from the
 * SIGALRM handler, and the engine, which polls it where it charges fuel, stops the run with
 * WASM_TRAP_INTERRUPTED. A signal handler can reach nothing but static storage: this is the one
 * piece of global state in the runtime. */
static volatile sig_atomic_t run_interrupted;

static void on_alarm(int sig)
{
    (void)sig;
    run_interrupted = 1;
}

/* Installed at start-up, before seccomp (rt_sigaction is not on the allow-list; rt_sigreturn and
 * setitimer are). No SA_RESTART: the timer is only armed during a run, and a poll restarted after
 * a signal would need restart_syscall, which the allow-list leaves out. */
int rt_alarm_install(sb_err *err)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        return sb_err_set(err, SB_ST_INTERNAL, "SIGALRM handler: %s", strerror(errno));
    return 0;
}

/* seconds 0 disarms. The policy caps run_seconds at 7 days, well within time_t. */
static void alarm_set(uint64_t seconds)
{
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_sec = (time_t)seconds;
    setitimer(ITIMER_REAL, &t, NULL);
}

/* stdout + stderr of one run, capped together at the policy's output_bytes. */
typedef struct capture {
    uint8_t *buf[2];
    size_t len[2], cap[2];
    uint64_t used, limit;
    bool truncated;
} capture;

static int capture_out(void *ctx, int stream, const void *data, size_t len)
{
    capture *c = ctx;
    int k = stream == 2;
    if (len > c->limit - c->used) {
        c->truncated = true;
        return -ENOSPC;
    }
    if (len > c->cap[k] - c->len[k]) {
        size_t cap = c->cap[k] ? c->cap[k] : 4096;
        while (cap - c->len[k] < len)
            cap *= 2;
        uint8_t *n = realloc(c->buf[k], cap);
        if (!n)
            return -ENOMEM;
        c->buf[k] = n;
        c->cap[k] = cap;
    }
    memcpy(c->buf[k] + c->len[k], data, len);
    c->len[k] += len;
    c->used += len;
    return 0;
}

/* Everything one run holds, released in one place. */
typedef struct job {
    uint8_t *module;
    size_t module_len;
    sb_vfs_grant *grants;
    sb_vfs_principal who;
    sb_vfs_view view;
    sb_wasi_preopen *pre;
    size_t n_pre;
    capture out;
} job;

static void job_free(job *j)
{
    for (size_t i = 0; i < j->n_pre; i++)
        if (j->pre[i].dir)
            sb_vfs_ops.close(&j->view, j->pre[i].dir);
    if (j->module)
        OPENSSL_cleanse(j->module, j->module_len);
    free(j->module);
    free(j->grants);
    free(j->pre);
    for (int k = 0; k < 2; k++) {
        if (j->out.buf[k])
            OPENSSL_cleanse(j->out.buf[k], j->out.cap[k]);
        free(j->out.buf[k]);
    }
}

/* Reads the uploaded module and checks it against the policy. Returns a status (OK to go on). */
static sb_status load_module(rt *r, rt_session *s, const sb_msg *m, job *j, char *why, size_t n)
{
    sb_vfs_view root = {r->vfs, &r->root};
    sb_err err = {0};
    sb_fs_stat st;
    uint8_t hash[32];
    if (!sb_policy_find_program(r->policy, m->path))
        return snprintf(why, n, "run %s: the policy names no program there", m->path),
               SB_ST_NOT_FOUND;
    if (!(sb_policy_rights(s->who, m->path) & SB_RIGHT_EXEC))
        return snprintf(why, n, "run %s: the policy does not let %s run it", m->path,
                        s->who->name), SB_ST_DENIED;
    if (sb_vfs_stat_path(&root, m->path, &st, &err) < 0 || st.type != SB_FS_REG)
        return snprintf(why, n, "run %s: the program has not been uploaded", m->path),
               SB_ST_NOT_READY;
    size_t got = 0;
    if (!(j->module = malloc(st.size ? st.size : 1)) ||
        sb_vfs_get(&root, m->path, 0, j->module, st.size, &got, &err) < 0)
        return snprintf(why, n, "run %s: reading the module failed", m->path), SB_ST_INTERNAL;
    j->module_len = got;
    if (!EVP_Digest(j->module, got, hash, NULL, EVP_sha256(), NULL))
        return snprintf(why, n, "run %s: hashing failed", m->path), SB_ST_INTERNAL;
    if (!sb_policy_may_run(r->policy, s->who, m->path, hash, &err))
        return snprintf(why, n, "run %s: %s", m->path, err.msg), SB_ST_HASH_MISMATCH;
    return SB_ST_OK;
}

/* The program's principal and one preopen per grant (directories created when missing). */
static sb_status prepare_fs(rt *r, const sb_policy_program *pr, job *j, char *why, size_t n)
{
    sb_vfs_view root = {r->vfs, &r->root};
    sb_err err = {0};
    j->grants = calloc(pr->n_grants ? pr->n_grants : 1, sizeof *j->grants);
    j->pre = calloc(pr->n_grants ? pr->n_grants : 1, sizeof *j->pre);
    if (!j->grants || !j->pre)
        return snprintf(why, n, "out of memory"), SB_ST_INTERNAL;
    for (size_t i = 0; i < pr->n_grants; i++)
        j->grants[i] = (sb_vfs_grant){pr->grants[i].prefix, pr->grants[i].rights};
    j->who = (sb_vfs_principal){pr->path, j->grants, pr->n_grants};
    j->view = (sb_vfs_view){r->vfs, &j->who};
    for (size_t i = 0; i < pr->n_grants; i++) {
        const char *prefix = pr->grants[i].prefix;
        sb_fs_stat st;
        int rc = strcmp(prefix, "/") == 0 ? 0 : sb_vfs_mkdirs(&root, prefix, &err);
        if (rc == 0 && strcmp(prefix, "/") != 0)
            rc = sb_vfs_ops.open(&j->view, NULL, prefix + 1, strlen(prefix + 1),
                                 SB_FS_DIRECTORY | SB_FS_PATH, &j->pre[i].dir, &st);
        if (rc < 0)
            return snprintf(why, n, "preparing %s for the program: %s", prefix,
                            err.msg[0] ? err.msg : strerror(-rc)), SB_ST_CONFLICT;
        j->pre[i] = (sb_wasi_preopen){prefix, &sb_vfs_ops, &j->view, j->pre[i].dir};
        j->n_pre = i + 1;
    }
    return SB_ST_OK;
}

static void respond_run(rt *r, rt_session *s, const sb_msg *m, const sb_wasi_result *res, job *j)
{
    sb_msg a;
    char reason[SB_REASON_MAX + 1] = "";
    sb_msg_init(&a, SB_MSG_RESPONSE);
    a.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_EXIT_CODE) | SB_F(SB_K_OUTCOME) |
                SB_F(SB_K_OUT) | SB_F(SB_K_ERR);
    a.id = m->id;
    a.status = SB_ST_OK;
    a.exit_code = res->status == SB_WASI_EXITED ? res->exit_code : 0;
    if (res->status == SB_WASI_EXITED) {
        a.outcome = SB_OUT_EXITED;
    } else if (res->status == SB_WASI_LIMIT) {
        a.outcome = SB_OUT_MEMORY_LIMIT;
        snprintf(reason, sizeof reason, "%s", res->msg);
#ifdef WASM_HAS_INTERRUPT
    } else if (res->trap.kind == WASM_TRAP_INTERRUPTED) {
        a.outcome = SB_OUT_TIME_LIMIT;
        snprintf(reason, sizeof reason, "the policy's time limit (run_seconds) was reached");
#endif
    } else if (res->trap.kind == WASM_TRAP_OUT_OF_FUEL) {
        a.outcome = SB_OUT_FUEL_LIMIT;
        snprintf(reason, sizeof reason, "the policy's fuel limit was used up");
    } else {
        a.outcome = SB_OUT_TRAPPED;
        snprintf(reason, sizeof reason, "trap: %s (function %u, offset %u)", res->trap.msg,
                 res->trap.func_index, res->trap.code_offset);
    }
    size_t cap = SB_DATA_MAX / 2;
    a.out = (sb_bytes){j->out.buf[0], j->out.len[0] < cap ? j->out.len[0] : cap};
    a.err = (sb_bytes){j->out.buf[1], j->out.len[1] < cap ? j->out.len[1] : cap};
    if (j->out.truncated || j->out.len[0] > cap || j->out.len[1] > cap)
        snprintf(reason + strlen(reason), sizeof reason - strlen(reason),
                 "%soutput cut at the policy's output_bytes (%llu bytes)", reason[0] ? "; " : "",
                 (unsigned long long)j->out.limit);
    if (reason[0]) {
        a.present |= SB_F(SB_K_REASON);
        a.reason = reason;
    }
    rt_session_reply(r, s, &a);
}

static wasm_engine engine_of(sb_policy_engine e)
{
    return e == SB_POLICY_ENGINE_COMPILED ? WASM_ENGINE_COMPILED : WASM_ENGINE_INTERPRETER;
}

/* At policy load, not at the first run: a party should learn before uploading anything that this
 * runtime cannot keep the contract. */
int rt_engine_check(const sb_policy *policy, sb_err *err)
{
    sb_policy_engine e = sb_policy_limits_of(policy)->engine;
    if (!wasm_engine_available(engine_of(e)))
        return sb_err_set(err, SB_ST_BAD_REQUEST, "policy.limits.engine: the policy asks for the "
                          "%s tier, and this runtime was built without it (interpreter only)",
                          sb_policy_engine_name(e));
    return 0;
}

void rt_run(rt *r, rt_session *s, const sb_msg *m)
{
    char why[SB_REASON_MAX];
    job j;
    memset(&j, 0, sizeof j);
    if (!rt_path_ok(r, s, m))
        return;
    const sb_policy_limits *lim = sb_policy_limits_of(r->policy);
    const sb_policy_program *pr = sb_policy_find_program(r->policy, m->path);
    sb_status st = load_module(r, s, m, &j, why, sizeof why);
    if (st == SB_ST_OK)
        st = prepare_fs(r, pr, &j, why, sizeof why);
    if (st != SB_ST_OK) {
        rt_respond(r, s, m->id, st, "%s", why);
        job_free(&j);
        return;
    }
    /* A program whose policy entry fixes its arguments runs with exactly those. */
    const char *const *args;
    size_t n_args;
    sb_err aerr = {0};
    if (sb_policy_run_args(pr, m->args, m->n_args, &args, &n_args, &aerr) < 0 ||
        n_args > SB_ARGS_MAX) {
        rt_respond(r, s, m->id, SB_ST_DENIED, "run %s: %s", m->path,
                   aerr.msg[0] ? aerr.msg : "too many arguments");
        job_free(&j);
        return;
    }
    const char *argv[SB_ARGS_MAX + 1] = {m->path};
    for (size_t i = 0; i < n_args; i++)
        argv[i + 1] = args[i];
    j.out.limit = lim->output_bytes;
    sb_wasi_config cfg = {.argv = argv, .argc = n_args + 1, .preopens = j.pre,
                          .npreopens = j.n_pre, .clock = sb_policy_clock(r->policy),
                          .out = capture_out, .out_ctx = &j.out};
    wasm_config wc;
    wasm_config_default(&wc);
    wc.max_memory_pages = (uint32_t)(lim->memory_bytes / 65536);
    wc.fuel = lim->fuel;
    wc.engine = engine_of(lim->engine);
#ifdef WASM_HAS_INTERRUPT
    wc.interrupt = &run_interrupted;
#endif
    sb_err err = {0};
    sb_wasi_result res;
    memset(&res, 0, sizeof res);
    run_interrupted = 0;
    alarm_set(lim->run_seconds); /* the wall-clock limit covers instantiation too */
    sb_wasi *w = sb_wasi_new(&cfg, &err);
    if (!w) {
        rt_respond(r, s, m->id, SB_ST_INTERNAL, "run %s: %s", m->path, err.msg);
    } else if (sb_wasi_run(w, j.module, j.module_len, &wc, &res) < 0 &&
               res.status != SB_WASI_LIMIT) {
        rt_respond(r, s, m->id, SB_ST_BAD_REQUEST, "run %s: the program did not start: %s",
                   m->path, res.msg);
    } else {
        rt_marks_clear(r, NULL); /* the program may have changed any result */
        respond_run(r, s, m, &res, &j);
    }
    alarm_set(0);
    sb_wasi_free(w);
    job_free(&j);
}
