/* keep.c - sealed results that outlive the computation (docs/sealed.md, "Kept by the host").
 *
 * When a computation whose policy names shutdown.keep_sealed ends in order (its shutdown rule,
 * or expiry), every file under those paths is sealed to EACH identity that may read it - read
 * over TLS before or not: a reader who lost its copy gets it again, and the host learns nothing
 * about who read what - and the envelopes go to the host after the shutdown frame, one at a time:
 * keep-begin(reader index, path, size), keep-data chunks, then keep-done. The channel paces it:
 * a chunk is made only while the output queue is under RT_OUT_HIGH, so the runtime holds one
 * envelope (plus its snapshot while sealing) at a time, whatever the number of files. */
#include "runtime/runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

struct rt_keep {
    file_list files;  /* every file to keep, found when the computation ended */
    size_t file, reader; /* the next (file, identity) pair to consider */
    uint8_t *env;      /* the envelope being sent */
    size_t env_len, env_off;
    uint64_t sent;
};

void rt_keep_free(rt *r)
{
    struct rt_keep *k = r->keep;
    if (!k)
        return;
    rt_files_free(&k->files);
    if (k->env)
        OPENSSL_cleanse(k->env, k->env_len); /* ciphertext, but of entrusted data */
    free(k->env);
    free(k);
    r->keep = NULL;
}

/* Appends every file under `path` to fl (a keep path that does not exist keeps nothing). */
static int collect(rt *r, const char *path, file_list *fl, sb_err *err)
{
    sb_vfs_view v = {r->vfs, &r->root};
    file_list one;
    int rc = rt_files_under(&v, path, &one, err);
    if (rc == -ENOENT)
        rc = 0;
    for (size_t i = 0; i < one.n; i++) {
        if (rc == 0 && fl->n == fl->cap) {
            size_t cap = fl->cap ? fl->cap * 2 : 16;
            char **p = realloc(fl->paths, cap * sizeof *p);
            if (!p)
                rc = -ENOMEM;
            else
                fl->paths = p, fl->cap = cap;
        }
        if (rc == 0)
            fl->paths[fl->n++] = one.paths[i];
        else
            free(one.paths[i]);
        one.paths[i] = NULL;
    }
    one.n = 0;
    rt_files_free(&one);
    return rc;
}

bool rt_keep_start(rt *r, sb_status cause)
{
    size_t n_keep;
    const char *const *keep = r->policy ? sb_policy_keep_sealed(r->policy, &n_keep) : NULL;
    if (!keep || (cause != SB_ST_SHUTTING_DOWN && cause != SB_ST_EXPIRED) || !r->vfs ||
        !r->ctx || !SSL_CTX_get0_certificate(r->ctx))
        return false; /* nothing to keep, not an orderly end, or never attested */
    struct rt_keep *k = calloc(1, sizeof *k);
    sb_err err = {0};
    int rc = k ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n_keep; i++)
        rc = collect(r, keep[i], &k->files, &err);
    r->keep = k;
    if (rc != 0) {
        rt_event(r, SB_LVL_ERROR, "sealed results not kept: listing the files failed (%s)",
                 rc == -ENOMEM ? "out of memory" : err.msg);
        rt_keep_free(r);
        return false;
    }
    rt_event(r, SB_LVL_INFO, "sealing %zu file%s under shutdown.keep_sealed to %s readers for "
             "the host to keep", k->files.n, k->files.n == 1 ? "" : "s",
             k->files.n == 1 ? "its" : "their");
    r->end_by = time(NULL) + 10;
    return true;
}

/* Seals the next (file, reader) pair into k->env and announces it; false when none is left.
 * A file that cannot be sealed for a reader is reported and skipped: the others still go. */
static bool next_envelope(rt *r, struct rt_keep *k)
{
    sb_vfs_view v = {r->vfs, &r->root};
    for (; k->file < k->files.n; k->file++, k->reader = 0) {
        const char *path = k->files.paths[k->file];
        while (k->reader < r->n_identities) {
            const sb_policy_identity *who = sb_policy_identity_at(r->policy, k->reader++);
            if (!sb_policy_is_result_for(r->policy, who, path))
                continue;
            sb_fs_stat st;
            sb_err err = {0};
            size_t got = 0;
            uint8_t *snap = NULL;
            int rc = sb_vfs_stat_path(&v, path, &st, &err);
            if (rc == 0 && st.size > SIZE_MAX - 1)
                rc = -EFBIG, snprintf(err.msg, sizeof err.msg, "too large");
            if (rc == 0 && !(snap = malloc(st.size ? (size_t)st.size : 1)))
                rc = -ENOMEM, snprintf(err.msg, sizeof err.msg, "out of memory");
            if (rc == 0)
                rc = sb_vfs_get(&v, path, 0, snap, (size_t)st.size, &got, &err);
            if (rc == 0)
                rc = rt_seal_for(r, who, path, &snap, &got, &err);
            if (rc != 0) {
                if (snap)
                    OPENSSL_cleanse(snap, got);
                free(snap);
                rt_event(r, SB_LVL_ERROR, "%s for %s not kept: %s", path, who->name, err.msg);
                continue;
            }
            k->env = snap;
            k->env_len = got;
            k->env_off = 0;
            sb_msg m;
            sb_msg_init(&m, SB_MSG_KEEP_BEGIN);
            m.present = SB_F(SB_K_ID) | SB_F(SB_K_PATH) | SB_F(SB_K_SIZE);
            m.id = who->index;
            m.path = path;
            m.size = got;
            rt_send(r, &m);
            return true;
        }
    }
    return false;
}

void rt_keep_pump(rt *r)
{
    struct rt_keep *k = r->keep;
    while (k && rt_queued(r) < RT_OUT_HIGH && !r->chan_eof) {
        if (!k->env && !next_envelope(r, k)) {
            sb_msg m;
            sb_msg_init(&m, SB_MSG_KEEP_DONE);
            m.present = SB_F(SB_K_SIZE);
            m.size = k->sent;
            rt_send(r, &m);
            rt_keep_free(r);
            return;
        }
        size_t n = k->env_len - k->env_off;
        sb_msg m;
        sb_msg_init(&m, SB_MSG_KEEP_DATA);
        m.present = SB_F(SB_K_DATA);
        m.data = (sb_bytes){k->env + k->env_off, n < SB_CHUNK_SIZE ? n : SB_CHUNK_SIZE};
        rt_send(r, &m);
        k->env_off += m.data.len;
        if (k->env_off == k->env_len) {
            free(k->env);
            k->env = NULL;
            k->sent++;
        }
    }
}
