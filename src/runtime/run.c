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

/* Reads the uploaded module at `path` and checks it against the policy. Returns a status (OK
 * to go on). */
static sb_status load_module(rt *r, rt_session *s, const char *path, job *j, char *why, size_t n)
{
    sb_vfs_view root = {r->vfs, &r->root};
    sb_err err = {0};
    sb_fs_stat st;
    uint8_t hash[32];
    if (!sb_policy_find_program(r->policy, path))
        return snprintf(why, n, "run %s: the policy names no program there", path),
               SB_ST_NOT_FOUND;
    if (!(sb_policy_rights(s->who, path) & SB_RIGHT_EXEC))
        return snprintf(why, n, "run %s: the policy does not let %s run it", path,
                        s->who->name), SB_ST_DENIED;
    if (sb_vfs_stat_path(&root, path, &st, &err) < 0 || st.type != SB_FS_REG)
        return snprintf(why, n, "run %s: the program has not been uploaded", path),
               SB_ST_NOT_READY;
    size_t got = 0;
    if (!(j->module = malloc(st.size ? st.size : 1)) ||
        sb_vfs_get(&root, path, 0, j->module, st.size, &got, &err) < 0)
        return snprintf(why, n, "run %s: reading the module failed", path), SB_ST_INTERNAL;
    j->module_len = got;
    if (!EVP_Digest(j->module, got, hash, NULL, EVP_sha256(), NULL))
        return snprintf(why, n, "run %s: hashing failed", path), SB_ST_INTERNAL;
    if (!sb_policy_may_run(r->policy, s->who, path, hash, &err))
        return snprintf(why, n, "run %s: %s", path, err.msg), SB_ST_HASH_MISMATCH;
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

/* How a run ended, and the text that explains it (trap, limit, output cut). */
static sb_outcome outcome_of(const sb_wasi_result *res, const job *j, char *reason, size_t n)
{
    sb_outcome o;
    reason[0] = '\0';
    if (res->status == SB_WASI_EXITED) {
        o = SB_OUT_EXITED;
    } else if (res->status == SB_WASI_LIMIT) {
        o = SB_OUT_MEMORY_LIMIT;
        snprintf(reason, n, "%s", res->msg);
#ifdef WASM_HAS_INTERRUPT
    } else if (res->trap.kind == WASM_TRAP_INTERRUPTED) {
        o = SB_OUT_TIME_LIMIT;
        snprintf(reason, n, "the policy's time limit (run_seconds) was reached");
#endif
    } else if (res->trap.kind == WASM_TRAP_OUT_OF_FUEL) {
        o = SB_OUT_FUEL_LIMIT;
        snprintf(reason, n, "the policy's fuel limit was used up");
    } else {
        o = SB_OUT_TRAPPED;
        snprintf(reason, n, "trap: %s (function %u, offset %u)", res->trap.msg,
                 res->trap.func_index, res->trap.code_offset);
    }
    size_t cap = SB_DATA_MAX / 2;
    if (j->out.truncated || j->out.len[0] > cap || j->out.len[1] > cap)
        snprintf(reason + strlen(reason), n - strlen(reason),
                 "%soutput cut at the policy's output_bytes (%llu bytes)", reason[0] ? "; " : "",
                 (unsigned long long)j->out.limit);
    return o;
}

/* The run's answer; with a receipt, SIZE announces it and one chunk frame carries it. */
static void respond_run(rt *r, rt_session *s, const sb_msg *m, const rt_step *st,
                        const capture *out, const uint8_t *receipt, size_t receipt_len)
{
    sb_msg a;
    sb_msg_init(&a, SB_MSG_RESPONSE);
    a.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_EXIT_CODE) | SB_F(SB_K_OUTCOME) |
                SB_F(SB_K_OUT) | SB_F(SB_K_ERR);
    a.id = m->id;
    a.status = SB_ST_OK;
    a.exit_code = st->exit_code;
    a.outcome = st->outcome;
    size_t cap = SB_DATA_MAX / 2;
    a.out = (sb_bytes){out->buf[0], out->len[0] < cap ? out->len[0] : cap};
    a.err = (sb_bytes){out->buf[1], out->len[1] < cap ? out->len[1] : cap};
    if (st->reason && st->reason[0]) {
        a.present |= SB_F(SB_K_REASON);
        a.reason = st->reason;
    }
    if (receipt) {
        a.present |= SB_F(SB_K_SIZE);
        a.size = receipt_len;
    }
    rt_session_reply(r, s, &a);
    if (receipt) {
        sb_msg c;
        sb_msg_init(&c, SB_MSG_CHUNK);
        c.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        c.id = m->id;
        c.data = (sb_bytes){receipt, receipt_len};
        rt_session_reply(r, s, &c);
    }
}

static wasm_engine engine_of(sb_policy_engine e)
{
    return e == SB_POLICY_ENGINE_COMPILED ? WASM_ENGINE_COMPILED : WASM_ENGINE_INTERPRETER;
}

/* The tier runs execute on: the policy's, or, when the policy names none and this runtime lacks
 * the default tier, the interpreter (the receipt names the tier that ran). */
static wasm_engine engine_for(const sb_policy_limits *lim)
{
    wasm_engine e = engine_of(lim->engine);
    if (!lim->engine_named && !wasm_engine_available(e))
        return WASM_ENGINE_INTERPRETER;
    return e;
}

/* At policy load, not at the first run: a party should learn before uploading anything that this
 * runtime cannot keep the contract. */
int rt_engine_check(const sb_policy *policy, sb_err *err)
{
    const sb_policy_limits *lim = sb_policy_limits_of(policy);
    if (!wasm_engine_available(engine_for(lim)))
        return sb_err_set(err, SB_ST_BAD_REQUEST, "policy.limits.engine: the policy asks for the "
                          "%s tier, and this runtime was built without it (interpreter only)",
                          sb_policy_engine_name(lim->engine));
    return 0;
}

/* Runs the loaded module of st->program; fills st's outcome. Returns 0 when it ran (whatever its
 * outcome), else a status with why filled. */
static sb_status execute(rt *r, job *j, rt_step *st, char *reason, size_t reason_len, char *why,
                         size_t n)
{
    const sb_policy_limits *lim = sb_policy_limits_of(r->policy);
    const char *argv[SB_ARGS_MAX + 1] = {st->program->path};
    for (size_t i = 0; i < st->n_args; i++)
        argv[i + 1] = st->args[i];
    j->out.limit = lim->output_bytes;
    sb_wasi_config cfg = {.argv = argv, .argc = st->n_args + 1, .preopens = j->pre,
                          .npreopens = j->n_pre, .clock = sb_policy_clock(r->policy),
                          .out = capture_out, .out_ctx = &j->out};
    wasm_config wc;
    wasm_config_default(&wc);
    wc.max_memory_pages = (uint32_t)(lim->memory_bytes / 65536);
    wc.fuel = lim->fuel;
    wc.engine = engine_for(lim);
#ifdef WASM_HAS_INTERRUPT
    wc.interrupt = &run_interrupted;
#endif
    st->engine = wasm_engine_name(wc.engine);
    sb_err err = {0};
    sb_wasi_result res;
    memset(&res, 0, sizeof res);
    sb_status rc = SB_ST_OK;
    run_interrupted = 0;
    alarm_set(lim->run_seconds); /* the wall-clock limit covers instantiation too */
    sb_wasi *w = sb_wasi_new(&cfg, &err);
    r->runs++;
    if (!w) {
        rc = SB_ST_INTERNAL;
        snprintf(why, n, "run %s: %s", st->program->path, err.msg);
    } else if (sb_wasi_run(w, j->module, j->module_len, &wc, &res) < 0 &&
               res.status != SB_WASI_LIMIT) {
        rc = SB_ST_BAD_REQUEST;
        snprintf(why, n, "run %s: the program did not start: %s", st->program->path, res.msg);
    } else {
        st->outcome = outcome_of(&res, j, reason, reason_len);
        st->exit_code = res.status == SB_WASI_EXITED ? res.exit_code : 0;
        st->reason = reason;
        st->fuel_used = res.fuel_used;
    }
    alarm_set(0);
    sb_wasi_free(w);
    return rc;
}

/* After the program ran: what it can see now, who wrote what; the receipt when asked for. A
 * receipt that cannot be made leaves the run's answer as it is, with the reason appended. */
static void finish_run(rt *r, rt_session *s, const sb_msg *m, rt_step *st, job *j,
                       char *reason, size_t reason_len)
{
    sb_err err = {0};
    uint8_t *receipt = NULL;
    size_t receipt_len = 0;
    rt_marks_clear(r, NULL); /* the program may have changed any result */
    int rc = rt_snapshot_take(r, st->program, m->flags & SB_RUN_RECEIPT, &st->after, &err);
    if (rc == 0)
        rt_step_note_writes(r, st);
    if (rc == 0 && (m->flags & SB_RUN_RECEIPT))
        rc = rt_receipt_make(r, s->who->name, NULL, st, 1, &receipt, &receipt_len, &err);
    if (rc != 0 && (m->flags & SB_RUN_RECEIPT)) {
        size_t used = strlen(reason);
        snprintf(reason + used, reason_len - used, "%sno receipt: %s", used ? "; " : "", err.msg);
        st->reason = reason;
    }
    respond_run(r, s, m, st, &j->out, receipt, receipt_len);
    free(receipt);
}

void rt_run(rt *r, rt_session *s, const sb_msg *m)
{
    char why[SB_REASON_MAX], reason[SB_REASON_MAX + 1] = "";
    job j;
    rt_step st;
    memset(&j, 0, sizeof j);
    memset(&st, 0, sizeof st);
    if (!rt_path_ok(r, s, m))
        return;
    const sb_policy_program *pr = sb_policy_find_program(r->policy, m->path);
    sb_status rc = load_module(r, s, m->path, &j, why, sizeof why);
    if (rc == SB_ST_OK)
        rc = prepare_fs(r, pr, &j, why, sizeof why);
    /* A program whose policy entry fixes its arguments runs with exactly those. */
    sb_err aerr = {0};
    if (rc == SB_ST_OK && (sb_policy_run_args(pr, m->args, m->n_args, &st.args, &st.n_args,
                                              &aerr) < 0 || st.n_args > SB_ARGS_MAX)) {
        rc = SB_ST_DENIED;
        snprintf(why, sizeof why, "run %s: %s", m->path,
                 aerr.msg[0] ? aerr.msg : "too many arguments");
    }
    st.program = pr;
    sb_err serr = {0};
    if (rc == SB_ST_OK &&
        rt_snapshot_take(r, pr, m->flags & SB_RUN_RECEIPT, &st.before, &serr) < 0) {
        rc = SB_ST_INTERNAL;
        snprintf(why, sizeof why, "run %s: %s", m->path, serr.msg);
    }
    if (rc == SB_ST_OK)
        rc = execute(r, &j, &st, reason, sizeof reason, why, sizeof why);
    if (rc == SB_ST_OK)
        finish_run(r, s, m, &st, &j, reason, sizeof reason);
    else
        rt_respond(r, s, m->id, rc, "%s", why);
    rt_snapshot_free(&st.before);
    rt_snapshot_free(&st.after);
    job_free(&j);
}

/* ---------------------------------------------------------------- pipelines */

/* Every step of one pipeline run, released in one place. */
typedef struct pipe_run {
    const sb_policy_pipeline *pl;
    job jobs[SB_POLICY_STEPS_MAX];
    rt_step steps[SB_POLICY_STEPS_MAX];
    char reasons[SB_POLICY_STEPS_MAX][SB_REASON_MAX + 1];
    size_t ran;                 /* steps that ran (the last may have failed) */
    capture all;                /* every step's stdout / stderr, in order */
} pipe_run;

static void pipe_free(pipe_run *p)
{
    for (size_t i = 0; i < SB_POLICY_STEPS_MAX; i++) {
        job_free(&p->jobs[i]);
        rt_snapshot_free(&p->steps[i].before);
        rt_snapshot_free(&p->steps[i].after);
    }
    for (int k = 0; k < 2; k++) {
        if (p->all.buf[k])
            OPENSSL_cleanse(p->all.buf[k], p->all.cap[k]);
        free(p->all.buf[k]);
    }
}

/* Before any step runs: the caller may run every step's program, and each is uploaded with the
 * policy's hash. So a pipeline never stops half-way for a reason known in advance. */
static sb_status pipe_check(rt *r, rt_session *s, pipe_run *p, char *why, size_t n)
{
    for (size_t i = 0; i < p->pl->n_steps; i++) {
        char w[SB_REASON_MAX];
        sb_status st = load_module(r, s, p->pl->steps[i].program->path, &p->jobs[i], w, sizeof w);
        if (st != SB_ST_OK)
            return snprintf(why, n, "pipeline %s: step %zu of %zu: %.800s; no step ran", p->pl->name,
                            i + 1, p->pl->n_steps, w), st;
    }
    return SB_ST_OK;
}

/* Runs step i; SB_ST_OK when it ran (whatever its outcome). */
static sb_status pipe_step(rt *r, pipe_run *p, size_t i, bool all, char *why, size_t n)
{
    const sb_policy_step *ps = &p->pl->steps[i];
    rt_step *st = &p->steps[i];
    job *j = &p->jobs[i];
    sb_err err = {0};
    st->program = ps->program;
    st->args = ps->args;
    st->n_args = ps->n_args;
    sb_status rc = prepare_fs(r, ps->program, j, why, n);
    if (rc == SB_ST_OK && rt_snapshot_take(r, ps->program, all, &st->before, &err) < 0)
        rc = SB_ST_INTERNAL, snprintf(why, n, "%s", err.msg);
    if (rc == SB_ST_OK)
        rc = execute(r, j, st, p->reasons[i], sizeof p->reasons[i], why, n);
    if (rc != SB_ST_OK)
        return rc;
    p->ran = i + 1;
    rt_marks_clear(r, NULL);
    if (rt_snapshot_take(r, ps->program, all, &st->after, &err) < 0)
        return snprintf(why, n, "%s", err.msg), SB_ST_INTERNAL;
    rt_step_note_writes(r, st);
    for (int k = 0; k < 2; k++) /* bounded like one run: the rest is cut, and said so */
        if (j->out.len[k] && capture_out(&p->all, k ? 2 : 1, j->out.buf[k], j->out.len[k]) < 0)
            p->all.truncated = true;
    return SB_ST_OK;
}

static bool step_failed(const rt_step *st)
{
    return st->outcome != SB_OUT_EXITED || st->exit_code != 0;
}

/* The report: how far the pipeline got, and why it stopped. */
static void pipe_report(const pipe_run *p, char *out, size_t n)
{
    const rt_step *last = &p->steps[p->ran - 1];
    if (!step_failed(last) && p->ran == p->pl->n_steps) {
        snprintf(out, n, "pipeline %s: all %zu steps ran", p->pl->name, p->ran);
    } else {
        char how[64];
        if (last->outcome == SB_OUT_EXITED)
            snprintf(how, sizeof how, "exited with code %u", last->exit_code);
        else
            snprintf(how, sizeof how, "%s", sb_outcome_name((int)last->outcome));
        snprintf(out, n, "pipeline %s stopped at step %zu of %zu (%s): %s%s%.400s; the later steps "
                 "did not run", p->pl->name, p->ran, p->pl->n_steps, last->program->path, how,
                 last->reason && last->reason[0] ? ": " : "", last->reason ? last->reason : "");
    }
    if (p->all.truncated)
        snprintf(out + strlen(out), n - strlen(out), "; output cut at %llu bytes",
                 (unsigned long long)p->all.limit);
}

static void pipe_respond(rt *r, rt_session *s, const sb_msg *m, pipe_run *p)
{
    char report[SB_REASON_MAX + 1];
    sb_err err = {0};
    uint8_t *receipt = NULL;
    size_t receipt_len = 0;
    pipe_report(p, report, sizeof report);
    if ((m->flags & SB_RUN_RECEIPT) &&
        rt_receipt_make(r, s->who->name, p->pl->name, p->steps, p->ran, &receipt, &receipt_len,
                        &err) != 0)
        snprintf(report + strlen(report), sizeof report - strlen(report), "; no receipt: %s",
                 err.msg);
    rt_step summary = p->steps[p->ran - 1]; /* the outcome of the last step that ran */
    summary.reason = report;
    respond_run(r, s, m, &summary, &p->all, receipt, receipt_len);
    free(receipt);
}

void rt_run_pipeline(rt *r, rt_session *s, const sb_msg *m)
{
    char why[SB_REASON_MAX];
    pipe_run *p = calloc(1, sizeof *p);
    if (!p) {
        rt_respond(r, s, m->id, SB_ST_INTERNAL, "out of memory");
        return;
    }
    p->pl = sb_policy_find_pipeline(r->policy, m->name);
    if (!p->pl) {
        rt_respond(r, s, m->id, SB_ST_NOT_FOUND, "the policy names no pipeline '%s'", m->name);
        free(p);
        return;
    }
    p->all.limit = SB_DATA_MAX / 2; /* with the report, the answer fits one frame */
    sb_status rc = pipe_check(r, s, p, why, sizeof why);
    for (size_t i = 0; rc == SB_ST_OK && i < p->pl->n_steps; i++) {
        char w[SB_REASON_MAX];
        rc = pipe_step(r, p, i, m->flags & SB_RUN_RECEIPT, w, sizeof w);
        if (rc != SB_ST_OK)
            snprintf(why, sizeof why, "pipeline %s stopped at step %zu of %zu: %.800s; the later steps "
                     "did not run", p->pl->name, i + 1, p->pl->n_steps, w);
        else if (step_failed(&p->steps[i]))
            break;
    }
    if (rc == SB_ST_OK)
        pipe_respond(r, s, m, p);
    else
        rt_respond(r, s, m->id, rc, "%s", why);
    pipe_free(p);
}
