/* requests.c - what a party may ask the runtime, each checked against the policy.
 * Every request is handled to completion before the next one (single thread), so each is atomic
 * with respect to every other session: uploads are staged and committed in one step, downloads
 * stream from a snapshot taken when the get arrives. */
#include "runtime/runtime.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- filesystem and principals */

/* Creates the parent directory of `path` with the runtime's rights (parties may lack rights on
 * the parents of their own areas, e.g. "/inputs" above "/inputs/alice"). */
static int make_parent(rt *r, const char *path, sb_err *err)
{
    char dir[SB_POLICY_PATH_MAX + 1];
    sb_vfs_view root = {r->vfs, &r->root};
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    return sb_vfs_mkdirs(&root, dir, err) < 0 ? -1 : 0;
}

/* The directories above every grant and program of the policy (public structure, no data). */
static int make_skeleton(rt *r, sb_err *err)
{
    for (size_t i = 0; i < r->n_identities; i++)
        for (size_t k = 0; k < r->parties[i].ngrants; k++)
            if (make_parent(r, r->parties[i].grants[k].prefix, err) < 0)
                return -1;
    for (size_t i = 0; i < sb_policy_program_count(r->policy); i++)
        if (make_parent(r, sb_policy_program_at(r->policy, i)->path, err) < 0)
            return -1;
    return 0;
}

/* Real time for file timestamps when the policy enables the clock, so files and the program's
 * clock_time_get agree; otherwise the VFS keeps its fixed, deterministic time. */
static uint64_t wall_clock_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int rt_fs_init(rt *r, sb_err *err)
{
    const sb_policy_limits *lim = sb_policy_limits_of(r->policy);
    sb_vfs_limits vl = {.max_bytes = lim->fs_bytes};
    size_t n = r->n_identities = sb_policy_identity_count(r->policy);
    r->vfs = sb_vfs_new(&vl);
    r->parties = calloc(n, sizeof *r->parties);
    r->party_grants = calloc(n, sizeof *r->party_grants);
    r->voted = calloc(n, sizeof *r->voted);
    r->read_all = calloc(n, sizeof *r->read_all);
    if (!r->vfs || !r->parties || !r->party_grants || !r->voted || !r->read_all)
        return sb_err_set(err, SB_ST_INTERNAL, "out of memory");
    if (sb_policy_clock(r->policy))
        sb_vfs_set_clock(r->vfs, wall_clock_ns, NULL);
    /* sb_policy_grant and sb_vfs_grant share the rights bits (policy.h says so). */
    for (size_t i = 0; i < n; i++) {
        const sb_policy_identity *id = sb_policy_identity_at(r->policy, i);
        sb_vfs_grant *g = calloc(id->n_grants ? id->n_grants : 1, sizeof *g);
        if (!g)
            return sb_err_set(err, SB_ST_INTERNAL, "out of memory");
        for (size_t k = 0; k < id->n_grants; k++)
            g[k] = (sb_vfs_grant){id->grants[k].prefix, id->grants[k].rights};
        r->party_grants[i] = g;
        r->parties[i] = (sb_vfs_principal){id->name, g, id->n_grants};
    }
    r->root_grant = (sb_vfs_grant){"/", SB_VFS_READ | SB_VFS_WRITE | SB_VFS_EXEC};
    r->root = (sb_vfs_principal){"runtime", &r->root_grant, 1};
    return make_skeleton(r, err);
}

void rt_fs_free(rt *r)
{
    sb_vfs_free(r->vfs); /* the VFS owns every file's bytes; it frees (and we trust it to) them */
    r->vfs = NULL;
    for (size_t i = 0; r->party_grants && i < r->n_identities; i++)
        free(r->party_grants[i]);
    free(r->party_grants);
    free(r->parties);
    for (size_t i = 0; i < r->n_marks; i++) {
        free(r->marks[i].path);
        free(r->marks[i].readers);
    }
    free(r->marks);
    free(r->receipt_hdr);
    r->receipt_hdr = NULL;
    r->marks = NULL;
    r->n_marks = 0;
}

static sb_vfs_view view_of(rt *r, const rt_session *s)
{
    return (sb_vfs_view){r->vfs, &r->parties[s->who->index]};
}

/* errno from the VFS -> protocol status. */
static sb_status status_of(int rc)
{
    switch (-rc) {
    case EACCES: case EPERM: case SB_FS_ENOTCAPABLE: return SB_ST_DENIED;
    case ENOENT: return SB_ST_NOT_FOUND;
    case ENOSPC: case EDQUOT: case ENAMETOOLONG: case EFBIG: return SB_ST_TOO_LARGE;
    case ENOMEM: return SB_ST_INTERNAL;
    default: return SB_ST_BAD_REQUEST;
    }
}

bool rt_path_ok(rt *r, rt_session *s, const sb_msg *m)
{
    if (sb_policy_path_valid(m->path))
        return true;
    rt_respond(r, s, m->id, SB_ST_BAD_REQUEST,
               "'%s' is not a normalised absolute path (no trailing '/', '.', '..' or '//')",
               m->path);
    return false;
}

/* ---------------------------------------------------------------- read marks (shutdown rule) */

static rt_readmark *mark_of(rt *r, const char *path, bool create)
{
    for (size_t i = 0; i < r->n_marks; i++)
        if (strcmp(r->marks[i].path, path) == 0)
            return &r->marks[i];
    if (!create)
        return NULL;
    rt_readmark *n = realloc(r->marks, (r->n_marks + 1) * sizeof *n);
    if (!n)
        return NULL;
    r->marks = n;
    rt_readmark *m = &r->marks[r->n_marks];
    m->path = strdup(path);
    m->readers = calloc(r->n_identities, sizeof *m->readers);
    m->writer = NULL;
    if (!m->path || !m->readers) {
        free(m->path);
        free(m->readers);
        return NULL;
    }
    r->n_marks++;
    return m;
}

void rt_mark_writer(rt *r, const char *path, const char *writer)
{
    rt_readmark *m = mark_of(r, path, true);
    if (m)
        m->writer = writer;
}

const char *rt_writer_of(rt *r, const char *path)
{
    rt_readmark *m = mark_of(r, path, false);
    return m ? m->writer : NULL;
}

void rt_marks_clear(rt *r, const char *path)
{
    for (size_t i = 0; i < r->n_marks; i++)
        if (!path || strcmp(r->marks[i].path, path) == 0)
            memset(r->marks[i].readers, 0, r->n_identities * sizeof(bool));
}

/* ---------------------------------------------------------------- walking the tree */

static int push(char ***arr, size_t *n, size_t *cap, char *item, uint64_t **sizes, uint64_t size)
{
    if (!item)
        return -ENOMEM;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **na = realloc(*arr, nc * sizeof *na);
        if (na)
            *arr = na;
        uint64_t *ns = sizes ? realloc(*sizes, nc * sizeof *ns) : NULL;
        if (ns)
            *sizes = ns;
        if (!na || (sizes && !ns)) {
            free(item);
            return -ENOMEM;
        }
        *cap = nc;
    }
    if (sizes)
        (*sizes)[*n] = size;
    (*arr)[(*n)++] = item;
    return 0;
}

static int on_entry(void *ctx, const char *name, const sb_fs_stat *st)
{
    file_list *fl = ctx;
    char *path;
    if (asprintf(&path, "%s/%s", strcmp(fl->base, "/") ? fl->base : "", name) < 0)
        path = NULL;
    if (st->type == SB_FS_DIR)
        fl->rc = push(&fl->dirs, &fl->n_dirs, &fl->cap_dirs, path, NULL, 0);
    else
        fl->rc = push(&fl->paths, &fl->n, &fl->cap, path, &fl->sizes, st->size);
    return fl->rc ? 1 : 0;
}

void rt_files_free(file_list *fl)
{
    for (size_t i = 0; i < fl->n; i++)
        free(fl->paths[i]);
    for (size_t i = 0; i < fl->n_dirs; i++)
        free(fl->dirs[i]);
    free(fl->paths);
    free(fl->sizes);
    free(fl->dirs);
}

/* Every regular file at or under `path` that the view can see. Returns 0 or a negative errno. */
int rt_files_under(sb_vfs_view *v, const char *path, file_list *fl, sb_err *err)
{
    memset(fl, 0, sizeof *fl);
    sb_fs_stat st;
    int rc = sb_vfs_stat_path(v, path, &st, err);
    if (rc == 0 && st.type != SB_FS_DIR)
        return push(&fl->paths, &fl->n, &fl->cap, strdup(path), &fl->sizes, st.size);
    if (rc == 0)
        rc = push(&fl->dirs, &fl->n_dirs, &fl->cap_dirs, strdup(path), NULL, 0);
    for (size_t d = 0; rc == 0 && d < fl->n_dirs; d++) {
        fl->base = fl->dirs[d];
        rc = sb_vfs_list(v, fl->dirs[d], on_entry, fl, err);
        if (rc == -EACCES && d > 0)
            rc = 0; /* a directory we may walk through but not list: skip it */
        if (rc > 0)
            rc = fl->rc;
    }
    return rc;
}

/* read_all[i]: identity i has read the current contents of every result file it may read. */
static void compute_read_all(rt *r)
{
    sb_vfs_view v = {r->vfs, &r->root};
    file_list fl;
    sb_err err;
    for (size_t i = 0; i < r->n_identities; i++)
        r->read_all[i] = true;
    if (rt_files_under(&v, "/", &fl, &err) < 0) { /* cannot tell: nobody counts as done */
        memset(r->read_all, 0, r->n_identities * sizeof(bool));
    }
    for (size_t f = 0; f < fl.n; f++) {
        rt_readmark *m = mark_of(r, fl.paths[f], false);
        for (size_t i = 0; i < r->n_identities; i++) {
            const sb_policy_identity *id = sb_policy_identity_at(r->policy, i);
            if (sb_policy_is_result_for(r->policy, id, fl.paths[f]) && !(m && m->readers[i]))
                r->read_all[i] = false;
        }
    }
    rt_files_free(&fl);
}

/* ---------------------------------------------------------------- put */

void rt_put_reset(rt *r, rt_put *p)
{
    r->staged -= p->len;
    if (p->buf)
        OPENSSL_cleanse(p->buf, p->len); /* only [0, len) was ever written */
    free(p->buf);
    memset(p, 0, sizeof *p);
}

static void put_fail(rt *r, rt_session *s, sb_status st, const char *why)
{
    rt_respond(r, s, s->put.id, st, "put %s: %s", s->put.path, why);
    uint64_t id = s->put.id;
    rt_put_reset(r, &s->put);
    s->put.active = s->put.failed = true; /* swallow the rest of this upload */
    s->put.id = id;
}

/* Replaces the staging buffer by one of cap bytes holding what was staged so far. Not realloc:
 * the old copy must be wiped. Returns 0, or -1 after failing the upload. */
static int put_stage(rt *r, rt_session *s, size_t cap)
{
    rt_put *p = &s->put;
    uint8_t *nb = malloc(cap);
    if (!nb) {
        put_fail(r, s, SB_ST_INTERNAL, "out of memory staging the upload");
        return -1;
    }
    if (p->len)
        memcpy(nb, p->buf, p->len);
    if (p->buf)
        OPENSSL_cleanse(p->buf, p->len); /* only [0, len) was ever written */
    free(p->buf);
    p->buf = nb;
    p->cap = cap;
    return 0;
}

/* Bytes an upload may still bring: refused at put-begin, before the party sends them. */
static uint64_t put_room(rt *r, sb_vfs_view *v, const sb_msg *m)
{
    sb_fs_stat st = {0};
    uint64_t old = m->mode == SB_PUT_WRITE && sb_vfs_stat_path(v, m->path, &st, NULL) == 0
                       ? st.size : 0;
    uint64_t used = sb_vfs_bytes_used(r->vfs) - old + r->staged, limit;
    limit = sb_policy_limits_of(r->policy)->fs_bytes;
    return used >= limit ? 0 : limit - used;
}

static void put_begin(rt *r, rt_session *s, const sb_msg *m)
{
    uint64_t limit = sb_policy_limits_of(r->policy)->fs_bytes;
    if (s->put.active && !s->put.failed) {
        rt_respond(r, s, m->id, SB_ST_CONFLICT, "upload %llu is still open in this session",
                   (unsigned long long)s->put.id);
        return;
    }
    rt_put_reset(r, &s->put);
    s->put.active = true;
    s->put.id = m->id;
    snprintf(s->put.path, sizeof s->put.path, "%s", m->path);
    s->put.mode = m->mode;
    s->put.sized = m->present & SB_F(SB_K_SIZE);
    s->put.declared = m->size;
    sb_vfs_view v = view_of(r, s);
    if (m->mode > SB_PUT_APPEND)
        put_fail(r, s, SB_ST_BAD_REQUEST, "mode must be 0 (write) or 1 (append)");
    else if (!sb_policy_path_valid(m->path))
        put_fail(r, s, SB_ST_BAD_REQUEST, "not a normalised absolute path");
    else if (!(sb_vfs_rights(v.who, m->path) & SB_VFS_WRITE))
        put_fail(r, s, SB_ST_DENIED, "the policy gives you no write right here");
    else if (s->put.sized && m->size > limit)
        put_fail(r, s, SB_ST_TOO_LARGE, "larger than the policy's filesystem limit");
    else if (s->put.sized && m->size > put_room(r, &v, m))
        put_fail(r, s, SB_ST_TOO_LARGE, "the filesystem limit of the policy would be exceeded");
    else if (s->put.sized && m->size > 0 && m->size <= limit - r->staged)
        put_stage(r, s, (size_t)m->size); /* one buffer, never regrown, copied or wiped twice */
}

static void put_chunk(rt *r, rt_session *s, const sb_msg *m)
{
    rt_put *p = &s->put;
    if (!p->active || p->id != m->id) {
        rt_respond(r, s, m->id, SB_ST_BAD_REQUEST, "put-chunk: upload %llu is not open",
                   (unsigned long long)m->id);
        return;
    }
    if (p->failed)
        return;
    /* Staged bytes of all sessions together stay within the filesystem limit. */
    uint64_t limit = sb_policy_limits_of(r->policy)->fs_bytes;
    if (m->data.len > limit - r->staged || (p->sized && p->len + m->data.len > p->declared)) {
        put_fail(r, s, SB_ST_TOO_LARGE, p->sized && p->len + m->data.len > p->declared
                                            ? "more bytes than the declared size"
                                            : "larger than the policy's filesystem limit");
        return;
    }
    /* Unsized uploads (and sized ones too big to reserve now) grow by doubling. */
    if (m->data.len > p->cap - p->len) {
        size_t cap = p->cap ? p->cap : SB_CHUNK_SIZE;
        while (cap - p->len < m->data.len)
            cap *= 2;
        if (put_stage(r, s, cap) < 0)
            return;
    }
    sb_vfs_data_prefault(p->buf, p->cap, p->len, m->data.len); /* fresh pages, in 1 MiB steps */
    memcpy(p->buf + p->len, m->data.p, m->data.len);
    p->len += m->data.len;
    r->staged += m->data.len;
}

static void put_end(rt *r, rt_session *s, const sb_msg *m)
{
    rt_put *p = &s->put;
    sb_err err = {0};
    if (!p->active || p->id != m->id) {
        rt_respond(r, s, m->id, SB_ST_BAD_REQUEST, "put-end: upload %llu is not open",
                   (unsigned long long)m->id);
        return;
    }
    if (p->failed) {
        rt_put_reset(r, p);
        return;
    }
    if (p->sized && p->len != p->declared) {
        put_fail(r, s, SB_ST_BAD_REQUEST, "fewer bytes than the declared size");
        rt_put_reset(r, p);
        return;
    }
    sb_vfs_view v = view_of(r, s);
    sb_fs_stat st = {0};
    uint64_t old = p->mode == SB_PUT_WRITE && sb_vfs_stat_path(&v, p->path, &st, NULL) == 0
                       ? st.size : 0;
    /* A write replaces the file: check the space first so a refusal leaves the old contents. */
    if (sb_vfs_bytes_used(r->vfs) - old + p->len > sb_policy_limits_of(r->policy)->fs_bytes) {
        put_fail(r, s, SB_ST_TOO_LARGE, "the filesystem limit of the policy would be exceeded");
        rt_put_reset(r, p);
        return;
    }
    int rc;
    if (p->mode == SB_PUT_WRITE && p->buf) { /* the VFS takes the staged buffer: no copy */
        /* glibc shrinks in place (or moves pages with mremap): no copy of the bytes is left. */
        uint8_t *fit = p->cap - p->len > SB_CHUNK_SIZE && p->len ? realloc(p->buf, p->len) : NULL;
        if (fit)
            p->buf = fit, p->cap = p->len;
        rc = sb_vfs_put_adopt(&v, p->path, p->buf, p->len, p->cap, &err);
        if (rc == 0)
            p->buf = NULL;
    } else {
        rc = sb_vfs_put(&v, p->path, p->mode == SB_PUT_APPEND ? SB_FS_APPEND : 0, p->buf, p->len,
                        SB_VFS_PUT_CREATE | (p->mode == SB_PUT_WRITE ? SB_VFS_PUT_TRUNC : 0), &err);
    }
    if (rc < 0) {
        rt_respond(r, s, m->id, status_of(rc), "put: %s", err.msg);
    } else {
        rt_marks_clear(r, p->path);
        rt_mark_writer(r, p->path, s->who->name); /* the file's provider, for receipts */
        sb_msg a;
        sb_msg_init(&a, SB_MSG_RESPONSE);
        a.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_SIZE);
        a.id = m->id;
        a.size = p->len;
        rt_session_reply(r, s, &a);
    }
    rt_put_reset(r, p);
}

/* ---------------------------------------------------------------- get, list */

static void get(rt *r, rt_session *s, const sb_msg *m)
{
    sb_vfs_view v = view_of(r, s);
    sb_fs_stat st;
    sb_err err = {0};
    if (!rt_path_ok(r, s, m))
        return;
    int rc = sb_vfs_stat_path(&v, m->path, &st, &err);
    if (rc == 0 && st.type == SB_FS_DIR)
        rc = -EISDIR, snprintf(err.msg, sizeof err.msg, "%s: is a directory (use list)", m->path);
    if (rc == 0 && !(sb_vfs_rights(v.who, m->path) & SB_VFS_READ))
        rc = -EACCES, snprintf(err.msg, sizeof err.msg, "%s: no read right", m->path);
    uint8_t *snap = rc == 0 ? malloc(st.size ? st.size : 1) : NULL;
    size_t got = 0;
    if (rc == 0 && !snap)
        rc = -ENOMEM, snprintf(err.msg, sizeof err.msg, "out of memory");
    if (rc == 0)
        rc = sb_vfs_get(&v, m->path, 0, snap, st.size, &got, &err);
    if (rc == 0 && m->type == SB_MSG_GET_SEALED) /* same rights, another transport */
        rc = rt_seal_snapshot(r, s, m->path, &snap, &got, &err);
    if (rc < 0) {
        free(snap);
        rt_respond(r, s, m->id, status_of(rc), "get: %s", err.msg);
        return;
    }
    sb_msg a;
    sb_msg_init(&a, SB_MSG_RESPONSE);
    a.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_SIZE);
    a.id = m->id;
    a.size = got;
    rt_session_reply(r, s, &a);
    s->stream = snap;
    s->stream_len = got;
    s->stream_off = 0;
    s->stream_id = m->id;
    snprintf(s->stream_path, sizeof s->stream_path, "%s", m->path);
    s->streaming = true;
}

bool rt_stream_step(rt *r, rt_session *s)
{
    size_t n = s->stream_len - s->stream_off;
    if (n > 0) {
        sb_msg c;
        sb_msg_init(&c, SB_MSG_CHUNK);
        c.present = SB_F(SB_K_ID) | SB_F(SB_K_DATA);
        c.id = s->stream_id;
        c.data = (sb_bytes){s->stream + s->stream_off, n < SB_CHUNK_SIZE ? n : SB_CHUNK_SIZE};
        rt_session_reply(r, s, &c);
        s->stream_off += c.data.len;
        if (s->stream_off < s->stream_len)
            return true;
    }
    rt_readmark *mk = mark_of(r, s->stream_path, true);
    if (mk && s->who)
        mk->readers[s->who->index] = true;
    OPENSSL_cleanse(s->stream, s->stream_len);
    free(s->stream);
    s->stream = NULL;
    return false;
}

static void list(rt *r, rt_session *s, const sb_msg *m)
{
    sb_vfs_view v = view_of(r, s);
    file_list fl;
    sb_err err = {0};
    if (!rt_path_ok(r, s, m))
        return;
    int rc = rt_files_under(&v, m->path, &fl, &err);
    if (rc < 0) {
        rt_respond(r, s, m->id, status_of(rc), "list: %s", rc == -ENOMEM ? "out of memory" : err.msg);
        rt_files_free(&fl);
        return;
    }
    sb_msg a;
    sb_msg_init(&a, SB_MSG_RESPONSE);
    a.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_SIZE);
    a.id = m->id;
    a.size = fl.n;
    rt_session_reply(r, s, &a);
    for (size_t i = 0; i < fl.n; i++) {
        sb_msg e;
        sb_msg_init(&e, SB_MSG_ENTRY);
        e.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_SIZE);
        e.id = m->id;
        e.path = fl.paths[i];
        e.size = fl.sizes[i];
        rt_session_reply(r, s, &e);
    }
    rt_files_free(&fl);
}

/* ---------------------------------------------------------------- status, votes */

static void status(rt *r, rt_session *s, const sb_msg *m)
{
    char json[4096], expires[32];
    size_t off = 0;
    sb_time_format(sb_policy_expires(r->policy), expires, sizeof expires);
    off += (size_t)snprintf(json, sizeof json,
                            "{\"policy\":\"%s\",\"identity\":\"%s\",\"state\":\"ready\","
                            "\"expires\":\"%s\",\"files\":%u,\"bytes\":%llu,\"votes\":[",
                            sb_policy_hash_hex(r->policy), s->who->name, expires,
                            sb_vfs_files_used(r->vfs),
                            (unsigned long long)sb_vfs_bytes_used(r->vfs));
    for (size_t i = 0, k = 0; i < r->n_identities && off < sizeof json; i++)
        if (r->voted[i])
            off += (size_t)snprintf(json + off, sizeof json - off, "%s\"%s\"", k++ ? "," : "",
                                    sb_policy_identity_at(r->policy, i)->name);
    if (off < sizeof json)
        off += (size_t)snprintf(json + off, sizeof json - off, "]}");
    if (off >= sizeof json) {
        rt_respond(r, s, m->id, SB_ST_INTERNAL, "status: too long");
        return;
    }
    sb_msg a;
    sb_msg_init(&a, SB_MSG_RESPONSE);
    a.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_DATA);
    a.id = m->id;
    a.data = (sb_bytes){(const uint8_t *)json, off};
    rt_session_reply(r, s, &a);
}

static void end_vote(rt *r, rt_session *s, const sb_msg *m)
{
    static const char *const why[] = {
        [SB_POLICY_END_READERS] = "every result reader has read its results and voted",
        [SB_POLICY_END_QUORUM] = "the quorum has voted",
        [SB_POLICY_END_EXPIRED] = "the policy has expired"};
    r->voted[s->who->index] = true;
    compute_read_all(r);
    enum sb_policy_end end = sb_policy_may_end(r->policy, r->voted, r->read_all, time(NULL));
    size_t votes = 0;
    for (size_t i = 0; i < r->n_identities; i++)
        votes += r->voted[i];
    if (end == SB_POLICY_END_NO) {
        rt_respond(r, s, m->id, SB_ST_OK,
                   "vote of %s recorded (%zu of %zu identities); the computation continues",
                   s->who->name, votes, r->n_identities);
        return;
    }
    rt_respond(r, s, m->id, SB_ST_OK, "vote of %s recorded; the computation ends now: %s",
               s->who->name, end < 4 && why[end] ? why[end] : "shutdown rule met");
    char reason[160];
    snprintf(reason, sizeof reason, "shutdown rule met: %s",
             end < 4 && why[end] ? why[end] : "shutdown rule met");
    rt_end(r, end == SB_POLICY_END_EXPIRED ? SB_ST_EXPIRED : SB_ST_SHUTTING_DOWN, reason);
}

/* ---------------------------------------------------------------- dispatch */

void rt_request(rt *r, rt_session *s, const sb_msg *m)
{
    if (sb_policy_expired(r->policy, time(NULL))) {
        rt_respond(r, s, m->id, SB_ST_EXPIRED, "the policy has expired");
        rt_end(r, SB_ST_EXPIRED, "the policy has expired");
        return;
    }
    switch (m->type) {
    case SB_MSG_PUT_BEGIN: put_begin(r, s, m); return;
    case SB_MSG_PUT_CHUNK: put_chunk(r, s, m); return;
    case SB_MSG_PUT_END: put_end(r, s, m); return;
    case SB_MSG_GET_SEALED: /* the same get; get() seals the snapshot */
    case SB_MSG_GET: get(r, s, m); return;
    case SB_MSG_LIST: list(r, s, m); return;
    case SB_MSG_RUN: rt_run(r, s, m); return;
    case SB_MSG_RUN_PIPELINE: rt_run_pipeline(r, s, m); return;
    case SB_MSG_STATUS: status(r, s, m); return;
    case SB_MSG_END_VOTE: end_vote(r, s, m); return;
    case SB_MSG_POLICY_HASH: {
        sb_msg a;
        sb_msg_init(&a, SB_MSG_RESPONSE);
        a.present = SB_F(SB_K_ID) | SB_F(SB_K_STATUS) | SB_F(SB_K_HASH);
        a.id = m->id;
        a.hash = (sb_bytes){sb_policy_hash(r->policy), 32};
        rt_session_reply(r, s, &a);
        return;
    }
    default:
        rt_respond(r, s, m->id, SB_ST_BAD_REQUEST, "%s is not a request",
                   sb_msg_type_name(m->type));
    }
}
