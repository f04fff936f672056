/* vfs.c - the in-memory filesystem (see vfs.h for the rights model and the guarantees). */
#include "vfs/vfs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NAME_MAX_LEN 255
#define FIRST_SEQ 3 /* cookies 0 and 1 lead to "." and "..", 2 to the first entry; entries are 3.. */
#define FILL_STEP (1u << 20) /* prefault granule: zeroed pages still in cache when written */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

typedef struct node {
    struct node *parent; /* NULL for the root and for unlinked nodes */
    struct node *hnext;  /* next in the parent's hash bucket */
    char *name;
    uint64_t ino, seq, atim, mtim, ctim;
    uint32_t refs; /* one for the link from the parent, one per open handle */
    uint8_t type;
    uint8_t *data; /* regular files */
    uint64_t size, cap;
    struct node **kids; /* directories: entries in creation (= seq) order, for listing */
    uint32_t nkids, capkids;
    struct node **buckets; /* directories: the same entries hashed by name, for lookup */
    uint32_t nbuckets;     /* 0 or a power of two >= capkids */
    uint64_t next_seq;
} node;

struct sb_vfs {
    sb_vfs_limits lim;
    node *root;
    uint64_t bytes, next_ino;
    uint32_t files;
    sb_vfs_clock clock;
    void *clock_ctx;
};

/* The result of walking a path: the directory holding the last component, its name, and the
 * absolute path of that directory in `path` ("" for the root) with room to append the name. */
typedef struct walk {
    node *dir;
    const char *name;
    size_t nlen;       /* 0: the path names `dir` itself ("." or "..") */
    int trailing;      /* the path ended in '/': the target must be a directory */
    char *path;
    size_t plen;
} walk;

static uint64_t now(const sb_vfs *v)
{
    return v->clock ? v->clock(v->clock_ctx) : SB_VFS_FIXED_TIME;
}

/* ---------------------------------------------------------------- rights */

static size_t prefix_len(const char *prefix)
{
    size_t n = strlen(prefix);
    while (n > 0 && prefix[n - 1] == '/')
        n--;
    return n;
}

/* Internal paths are "" for the root, "/a/b" otherwise. */
static uint32_t rights_of(const sb_vfs_principal *p, const char *path)
{
    uint32_t r = 0;
    for (size_t i = 0; p && i < p->ngrants; i++) {
        const char *pre = p->grants[i].prefix;
        size_t n = prefix_len(pre);
        if (pre[0] == '/' && strncmp(pre, path, n) == 0 && (path[n] == '\0' || path[n] == '/'))
            r |= p->grants[i].rights;
    }
    return r;
}

/* True when path is a strict ancestor of some granted prefix. */
static int leads_to_grant(const sb_vfs_principal *p, const char *path, size_t plen)
{
    for (size_t i = 0; p && i < p->ngrants; i++) {
        const char *pre = p->grants[i].prefix;
        if (p->grants[i].rights && pre[0] == '/' && prefix_len(pre) > plen &&
            strncmp(pre, path, plen) == 0 && pre[plen] == '/')
            return 1;
    }
    return 0;
}

static int visible(const sb_vfs_principal *p, const char *path, size_t plen)
{
    return rights_of(p, path) != 0 || leads_to_grant(p, path, plen);
}

uint32_t sb_vfs_rights(const sb_vfs_principal *p, const char *path)
{
    return strcmp(path, "/") == 0 ? rights_of(p, "") : rights_of(p, path);
}

/* ---------------------------------------------------------------- nodes */

static int new_node(sb_vfs *v, uint8_t type, node **out)
{
    if (v->root && v->files >= v->lim.max_files)
        return -EDQUOT;
    node *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    n->type = type;
    n->ino = v->next_ino++;
    n->atim = n->mtim = n->ctim = now(v);
    n->refs = 1;
    n->next_seq = FIRST_SEQ;
    if (v->root)
        v->files++;
    *out = n;
    return 0;
}

/* Frees n and everything below it, iteratively (a deep tree must not exhaust the C stack). */
static void free_node(sb_vfs *v, node *n)
{
    node *cur = n;
    while (cur) {
        if (cur->nkids) {
            cur = cur->kids[--cur->nkids];
            continue;
        }
        node *up = cur == n ? NULL : cur->parent;
        if (cur != v->root)
            v->files--;
        v->bytes -= cur->size;
        free(cur->kids);
        free(cur->buckets);
        free(cur->data);
        free(cur->name);
        free(cur);
        cur = up;
    }
}

static void unref(sb_vfs *v, node *n)
{
    if (--n->refs == 0)
        free_node(v, n);
}

static uint32_t hash_name(const char *name, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    return h;
}

static node *lookup(const node *dir, const char *name, size_t len)
{
    if (!dir->nbuckets)
        return NULL;
    for (node *k = dir->buckets[hash_name(name, len) & (dir->nbuckets - 1)]; k; k = k->hnext)
        if (strncmp(k->name, name, len) == 0 && k->name[len] == '\0')
            return k;
    return NULL;
}

static void hash_in(node *dir, node *kid)
{
    node **b = &dir->buckets[hash_name(kid->name, strlen(kid->name)) & (dir->nbuckets - 1)];
    kid->hnext = *b;
    *b = kid;
}

/* Makes room for one more entry (list and hash), so that attach() cannot fail half-way through an
 * operation. */
static int reserve(node *dir)
{
    if (dir->nkids < dir->capkids)
        return 0;
    if (dir->capkids >= (1u << 30))
        return -EDQUOT;
    uint32_t cap = dir->capkids ? dir->capkids * 2 : 8;
    node **k = realloc(dir->kids, cap * sizeof *k);
    if (!k)
        return -ENOMEM;
    dir->kids = k;
    node **b = calloc(cap, sizeof *b);
    if (!b)
        return -ENOMEM; /* the larger list is kept; capkids still says the old size */
    dir->capkids = cap;
    free(dir->buckets);
    dir->buckets = b;
    dir->nbuckets = cap;
    for (uint32_t i = 0; i < dir->nkids; i++)
        hash_in(dir, dir->kids[i]);
    return 0;
}

static void attach(sb_vfs *v, node *dir, node *kid, char *name)
{
    kid->name = name;
    kid->parent = dir;
    kid->seq = dir->next_seq++;
    dir->kids[dir->nkids++] = kid;
    hash_in(dir, kid);
    dir->mtim = dir->ctim = now(v);
}

/* Index of the first entry with seq > after (entries are in seq order). */
static uint32_t first_after(const node *dir, uint64_t after)
{
    uint32_t lo = 0, hi = dir->nkids;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (dir->kids[mid]->seq <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void detach(sb_vfs *v, node *kid)
{
    node *dir = kid->parent, **b;
    uint32_t i = first_after(dir, kid->seq - 1);
    memmove(dir->kids + i, dir->kids + i + 1, (dir->nkids - i - 1) * sizeof *dir->kids);
    dir->nkids--;
    for (b = &dir->buckets[hash_name(kid->name, strlen(kid->name)) & (dir->nbuckets - 1)];
         *b != kid; b = &(*b)->hnext)
        ;
    *b = kid->hnext;
    dir->mtim = dir->ctim = now(v);
    kid->parent = NULL;
}

/* Absolute path of n into buf (cap bytes incl. NUL); "" for the root. -ENOENT if unlinked. */
static int path_of(const sb_vfs *v, const node *n, char *buf, size_t cap, size_t *len)
{
    size_t total = 0;
    const node *m;
    for (m = n; m->parent; m = m->parent)
        total += 1 + strlen(m->name);
    if (m != v->root)
        return -ENOENT;
    if (total + 1 > cap)
        return -ENAMETOOLONG;
    buf[total] = '\0';
    *len = total;
    for (m = n; m->parent; m = m->parent) {
        size_t k = strlen(m->name);
        total -= k;
        memcpy(buf + total, m->name, k);
        buf[--total] = '/';
    }
    return 0;
}

/* ---------------------------------------------------------------- file memory (see vfs.h) */

/* Populates each FILL_STEP-sized step of the block whose start the write [off, off + len) covers:
 * in a sequential fill every step is mapped once, in one call, just as the writes reach it. */
void sb_vfs_data_prefault(void *data, size_t cap, size_t off, size_t len)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (cap < FILL_STEP || off >= cap || len == 0 || page == 0 || (page & (page - 1)))
        return;
    size_t end = len > cap - off ? cap : off + len;
    for (size_t s = (off + FILL_STEP - 1) / FILL_STEP * FILL_STEP; s < end; s += FILL_STEP) {
        uintptr_t a = ((uintptr_t)data + s) & ~(page - 1);
        uintptr_t e = (uintptr_t)data + (cap - s > FILL_STEP ? s + FILL_STEP : cap);
        madvise((void *)a, e - a, MADV_POPULATE_WRITE); /* EINVAL on old kernels: faults as usual */
    }
}

/* Sets a file's size, checking the byte limit before allocating; new bytes read as zeros unless
 * the caller overwrites them at once (zero false: a write, which zeroes only the gap it leaves). */
static int set_size(sb_vfs *v, node *n, uint64_t size, bool zero)
{
    if (size == n->size)
        return 0;
    if (size < n->size) {
        v->bytes -= n->size - size;
        n->size = size;
        return 0;
    }
    uint64_t grow = size - n->size;
    if (grow > v->lim.max_bytes - v->bytes)
        return -ENOSPC;
    if (size > SIZE_MAX / 2)
        return -EFBIG;
    if (size > n->cap) {
        uint64_t cap = n->cap * 2 > size ? n->cap * 2 : size;
        if (cap - size > (64u << 20)) /* do not double very large files */
            cap = size + (64u << 20);
        uint8_t *d = realloc(n->data, cap);
        if (!d)
            return -ENOMEM;
        n->data = d;
        n->cap = cap;
    }
    sb_vfs_data_prefault(n->data, n->cap, n->size, grow);
    if (zero)
        memset(n->data + n->size, 0, grow);
    v->bytes += grow;
    n->size = size;
    return 0;
}

/* ---------------------------------------------------------------- path walking */

static int push(walk *k, size_t max_path, const char *name, size_t len)
{
    if (len > NAME_MAX_LEN || k->plen + 1 + len > max_path)
        return -ENAMETOOLONG;
    k->path[k->plen] = '/';
    memcpy(k->path + k->plen + 1, name, len);
    k->plen += 1 + len;
    k->path[k->plen] = '\0';
    return 0;
}

static void pop(walk *k)
{
    while (k->plen > 0 && k->path[--k->plen] != '/')
        ;
    k->path[k->plen] = '\0';
}

/* Steps from k->dir into component (name, len); depth counts levels below the start. */
static int step(sb_vfs_view *w, walk *k, const char *name, size_t len, int *depth)
{
    if (len == 1 && name[0] == '.')
        return 0;
    if (len == 2 && name[0] == '.' && name[1] == '.') {
        if (*depth == 0)
            return -SB_FS_ENOTCAPABLE;
        k->dir = k->dir->parent;
        pop(k);
        (*depth)--;
        return 0;
    }
    int rc = push(k, w->vfs->lim.max_path, name, len);
    if (rc)
        return rc;
    if (!visible(w->who, k->path, k->plen))
        return -EACCES;
    node *n = lookup(k->dir, name, len);
    if (!n)
        return -ENOENT;
    if (n->type != SB_FS_DIR)
        return -ENOTDIR;
    k->dir = n;
    (*depth)++;
    return 0;
}

/* Walks every component but the last. On success k->path is malloc'd (free it with walk_end). */
static int walk_path(sb_vfs_view *w, node *dir, const char *path, size_t len, walk *k)
{
    memset(k, 0, sizeof *k);
    k->dir = dir ? dir : w->vfs->root;
    if (len == 0)
        return -ENOENT;
    if (path[0] == '/')
        return -SB_FS_ENOTCAPABLE;
    if (memchr(path, '\0', len))
        return -EINVAL;
    k->path = malloc(w->vfs->lim.max_path + 1);
    if (!k->path)
        return -ENOMEM;
    int rc = path_of(w->vfs, k->dir, k->path, w->vfs->lim.max_path + 1, &k->plen);
    int depth = 0;
    size_t i = 0;
    while (rc == 0) {
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        size_t end = i;
        while (i < len && path[i] == '/')
            i++;
        if (i == len) { /* last component */
            k->trailing = end < len;
            const char *name = path + start;
            size_t n = end - start;
            if ((n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.'))
                return step(w, k, name, n, &depth);
            if (n > NAME_MAX_LEN || k->plen + 1 + n > w->vfs->lim.max_path)
                return -ENAMETOOLONG;
            k->name = name;
            k->nlen = n;
            return 0;
        }
        rc = step(w, k, path + start, end - start, &depth);
    }
    return rc;
}

static void walk_end(walk *k)
{
    free(k->path);
}

/* Appends the last component to k->path (room was checked by walk_path) and returns the target's
 * rights; -EACCES when the target is invisible. */
static int target_rights(sb_vfs_view *w, walk *k, uint32_t *r)
{
    if (k->nlen)
        push(k, w->vfs->lim.max_path, k->name, k->nlen);
    *r = rights_of(w->who, k->path);
    return *r || leads_to_grant(w->who, k->path, k->plen) ? 0 : -EACCES;
}

/* ---------------------------------------------------------------- fs ops */

static void fill_stat(const node *n, sb_fs_stat *st)
{
    memset(st, 0, sizeof *st);
    st->dev = 1;
    st->ino = n->ino;
    st->nlink = n->type == SB_FS_DIR ? 2 : (n->parent ? 1 : 0);
    st->size = n->type == SB_FS_DIR ? 0 : n->size;
    st->atim = n->atim;
    st->mtim = n->mtim;
    st->ctim = n->ctim;
    st->type = n->type;
}

static int create_file(sb_vfs_view *w, walk *k, node **out)
{
    char *name = strndup(k->name, k->nlen);
    int rc = name ? reserve(k->dir) : -ENOMEM;
    if (rc == 0)
        rc = new_node(w->vfs, SB_FS_REG, out);
    if (rc) {
        free(name);
        return rc;
    }
    attach(w->vfs, k->dir, *out, name);
    return 0;
}

/* The checks of open(2), in its order, against an existing node n (or NULL) with rights r. */
static int open_node(sb_vfs_view *w, walk *k, uint32_t flags, uint32_t r, node **np)
{
    node *n = *np;
    if (!n) {
        if (!(flags & SB_FS_CREAT))
            return -ENOENT;
        if (flags & SB_FS_DIRECTORY)
            return -EINVAL;
        if (k->trailing)
            return -EISDIR;
        if (!(r & SB_VFS_WRITE))
            return -EACCES;
        return create_file(w, k, np);
    }
    if ((flags & SB_FS_CREAT) && (flags & SB_FS_EXCL))
        return -EEXIST;
    if (n->type != SB_FS_DIR && (k->trailing || (flags & SB_FS_DIRECTORY)))
        return -ENOTDIR;
    if (n->type == SB_FS_DIR && (flags & (SB_FS_WRITE | SB_FS_TRUNC)))
        return -EISDIR;
    /* Reading a directory is listing it, which is filtered by visibility instead. */
    if ((flags & SB_FS_READ) && n->type == SB_FS_REG && !(r & SB_VFS_READ))
        return -EACCES;
    if ((flags & (SB_FS_WRITE | SB_FS_TRUNC)) && !(r & SB_VFS_WRITE))
        return -EACCES;
    if ((flags & SB_FS_TRUNC) && n->size) {
        set_size(w->vfs, n, 0, true);
        n->mtim = n->ctim = now(w->vfs);
    }
    return 0;
}

static int vfs_open(void *fs, void *dir, const char *path, size_t len, uint32_t flags, void **out,
                    sb_fs_stat *st)
{
    sb_vfs_view *w = fs;
    walk k;
    uint32_t r = 0;
    int rc = walk_path(w, dir, path, len, &k);
    if (rc == 0)
        rc = target_rights(w, &k, &r);
    if (rc == 0) {
        node *n = k.nlen ? lookup(k.dir, k.name, k.nlen) : k.dir;
        rc = open_node(w, &k, flags, r, &n);
        if (rc == 0) {
            n->refs++;
            fill_stat(n, st);
            *out = n;
        }
    }
    walk_end(&k);
    return rc;
}

static void vfs_close(void *fs, void *n)
{
    unref(((sb_vfs_view *)fs)->vfs, n);
}

static int vfs_read(void *fs, void *np, void *buf, size_t len, uint64_t off, size_t *got)
{
    (void)fs;
    node *n = np;
    *got = 0;
    if (n->type == SB_FS_DIR)
        return -EISDIR;
    if (off < n->size) {
        *got = n->size - off < len ? (size_t)(n->size - off) : len;
        memcpy(buf, n->data + off, *got);
    }
    return 0;
}

static int vfs_write(void *fs, void *np, const void *buf, size_t len, uint64_t off, size_t *put)
{
    sb_vfs *v = ((sb_vfs_view *)fs)->vfs;
    node *n = np;
    *put = 0;
    if (n->type == SB_FS_DIR)
        return -EISDIR;
    if (off == SB_FS_APPEND)
        off = n->size;
    if (off > UINT64_MAX / 2 || len > UINT64_MAX / 2 - off)
        return -EFBIG;
    if (off + len > n->size) {
        uint64_t old = n->size;
        int rc = set_size(v, n, off + len, false);
        if (rc)
            return rc;
        if (off > old)
            memset(n->data + old, 0, off - old);
    }
    if (len)
        memcpy(n->data + off, buf, len);
    n->mtim = n->ctim = now(v);
    *put = len;
    return 0;
}

static int vfs_stat(void *fs, void *n, sb_fs_stat *st)
{
    (void)fs;
    fill_stat(n, st);
    return 0;
}

static int vfs_truncate(void *fs, void *np, uint64_t size)
{
    sb_vfs *v = ((sb_vfs_view *)fs)->vfs;
    node *n = np;
    if (n->type == SB_FS_DIR)
        return -EISDIR;
    int rc = set_size(v, n, size, true);
    if (rc == 0)
        n->mtim = n->ctim = now(v);
    return rc;
}

/* Changing times needs WRITE on the node's current path (an unlinked node is nobody else's). */
static int vfs_set_times(void *fs, void *np, uint64_t atim, uint64_t mtim, uint32_t flags)
{
    sb_vfs_view *w = fs;
    node *n = np;
    char *path = malloc(w->vfs->lim.max_path + 1);
    size_t plen;
    if (!path)
        return -ENOMEM;
    int rc = path_of(w->vfs, n, path, w->vfs->lim.max_path + 1, &plen);
    if (rc == 0 && !(rights_of(w->who, path) & SB_VFS_WRITE))
        rc = -EACCES;
    free(path);
    if (rc && rc != -ENOENT)
        return rc;
    uint64_t t = now(w->vfs);
    if (flags & SB_FS_ATIM_NOW)
        n->atim = t;
    else if (flags & SB_FS_ATIM)
        n->atim = atim;
    if (flags & SB_FS_MTIM_NOW)
        n->mtim = t;
    else if (flags & SB_FS_MTIM)
        n->mtim = mtim;
    n->ctim = t;
    return 0;
}

static int vfs_sync(void *fs, void *n)
{
    (void)fs;
    (void)n;
    return 0; /* memory is the storage */
}

static int dirent_of(const node *n, uint64_t next, sb_fs_dirent *e, const char *name, char *buf,
                     size_t cap)
{
    e->next = next;
    e->ino = n->ino;
    e->type = n->type;
    e->namelen = strlen(name);
    memcpy(buf, name, e->namelen < cap ? e->namelen : cap);
    return 0;
}

/* Entries in creation order after "." and ".."; a cookie is the seq of the entry returned last,
 * so inserting or removing entries never moves a listing in progress. Entries the principal cannot
 * see are skipped. */
static int vfs_readdir(void *fs, void *dp, uint64_t cookie, sb_fs_dirent *e, char *buf,
                       size_t cap)
{
    sb_vfs_view *w = fs;
    node *d = dp;
    if (d->type != SB_FS_DIR)
        return -ENOTDIR;
    if (cookie == 0)
        return dirent_of(d, 1, e, ".", buf, cap);
    if (cookie == 1)
        return dirent_of(d->parent ? d->parent : d, 2, e, "..", buf, cap);
    uint32_t i = first_after(d, cookie);
    if (i == d->nkids)
        return 1;
    walk k = {.path = malloc(w->vfs->lim.max_path + 1)};
    if (!k.path)
        return -ENOMEM;
    int rc = path_of(w->vfs, d, k.path, w->vfs->lim.max_path + 1, &k.plen);
    int all = rc == 0 && rights_of(w->who, k.path) != 0;
    size_t base = k.plen;
    for (; rc == 0 && i < d->nkids; i++) {
        node *kid = d->kids[i];
        k.plen = base;
        if (all || (push(&k, w->vfs->lim.max_path, kid->name, strlen(kid->name)) == 0 &&
                    visible(w->who, k.path, k.plen)))
            break;
    }
    if (rc == 0)
        rc = i == d->nkids ? 1 : dirent_of(d->kids[i], d->kids[i]->seq, e, d->kids[i]->name, buf,
                                           cap);
    walk_end(&k);
    return rc;
}

static int vfs_mkdir(void *fs, void *dir, const char *path, size_t len)
{
    sb_vfs_view *w = fs;
    walk k;
    uint32_t r = 0;
    node *n = NULL;
    char *name = NULL;
    int rc = walk_path(w, dir, path, len, &k);
    if (rc == 0)
        rc = target_rights(w, &k, &r);
    if (rc == 0 && (k.nlen == 0 || lookup(k.dir, k.name, k.nlen)))
        rc = -EEXIST;
    if (rc == 0 && !(r & SB_VFS_WRITE))
        rc = -EACCES;
    if (rc == 0)
        rc = (name = strndup(k.name, k.nlen)) ? reserve(k.dir) : -ENOMEM;
    if (rc == 0)
        rc = new_node(w->vfs, SB_FS_DIR, &n);
    if (rc == 0)
        attach(w->vfs, k.dir, n, name);
    else
        free(name);
    walk_end(&k);
    return rc;
}

/* Common start of rmdir/unlink: the existing, writable target of the path. */
static int removable(sb_vfs_view *w, walk *k, node *dir, const char *path, size_t len, node **n)
{
    uint32_t r = 0;
    int rc = walk_path(w, dir, path, len, k);
    if (rc == 0)
        rc = target_rights(w, k, &r);
    if (rc == 0 && k->nlen == 0)
        rc = -EINVAL;
    if (rc == 0 && !(*n = lookup(k->dir, k->name, k->nlen)))
        rc = -ENOENT;
    if (rc == 0 && !(r & SB_VFS_WRITE))
        rc = -EACCES;
    return rc;
}

static int vfs_rmdir(void *fs, void *dir, const char *path, size_t len)
{
    sb_vfs_view *w = fs;
    walk k;
    node *n = NULL;
    int rc = removable(w, &k, dir, path, len, &n);
    if (rc == 0 && n->type != SB_FS_DIR)
        rc = -ENOTDIR;
    if (rc == 0 && n->nkids)
        rc = -ENOTEMPTY;
    if (rc == 0) {
        detach(w->vfs, n);
        unref(w->vfs, n);
    }
    walk_end(&k);
    return rc;
}

static int vfs_unlink(void *fs, void *dir, const char *path, size_t len)
{
    sb_vfs_view *w = fs;
    walk k;
    node *n = NULL;
    int rc = removable(w, &k, dir, path, len, &n);
    if (rc == 0 && n->type == SB_FS_DIR)
        rc = -EISDIR;
    if (rc == 0 && k.trailing)
        rc = -ENOTDIR;
    if (rc == 0) {
        detach(w->vfs, n);
        unref(w->vfs, n);
    }
    walk_end(&k);
    return rc;
}

static int is_inside(const node *n, const node *dir)
{
    for (; n; n = n->parent)
        if (n == dir)
            return 1;
    return 0;
}

/* rename(2)'s type checks between an existing source s and destination d (or NULL). */
static int rename_checks(const walk *a, const walk *b, const node *s, const node *d)
{
    if (s->type != SB_FS_DIR && (a->trailing || b->trailing))
        return -ENOTDIR;
    if (s == d)
        return 0;
    if (s->type == SB_FS_DIR && is_inside(b->dir, s))
        return -EINVAL;
    if (!d)
        return 0;
    if (s->type == SB_FS_DIR && d->type != SB_FS_DIR)
        return -ENOTDIR;
    if (s->type != SB_FS_DIR && d->type == SB_FS_DIR)
        return -EISDIR;
    return d->nkids ? -ENOTEMPTY : 0;
}

static int vfs_rename(void *fs, void *d1, const char *p1, size_t l1, void *d2, const char *p2,
                      size_t l2)
{
    sb_vfs_view *w = fs;
    walk a, b;
    uint32_t ra = 0, rb = 0;
    node *s = NULL, *d = NULL;
    char *name = NULL;
    int rc = walk_path(w, d1, p1, l1, &a);
    int rc2 = walk_path(w, d2, p2, l2, &b);
    rc = rc ? rc : rc2;
    if (rc == 0)
        rc = target_rights(w, &a, &ra);
    if (rc == 0)
        rc = target_rights(w, &b, &rb);
    if (rc == 0 && (a.nlen == 0 || b.nlen == 0))
        rc = -EBUSY;
    if (rc == 0 && !(s = lookup(a.dir, a.name, a.nlen)))
        rc = -ENOENT;
    if (rc == 0 && ((ra & (SB_VFS_READ | SB_VFS_WRITE)) != (SB_VFS_READ | SB_VFS_WRITE) ||
                    !(rb & SB_VFS_WRITE)))
        rc = -EACCES;
    if (rc == 0)
        rc = rename_checks(&a, &b, s, d = lookup(b.dir, b.name, b.nlen));
    if (rc == 0 && s != d)
        rc = (name = strndup(b.name, b.nlen)) ? reserve(b.dir) : -ENOMEM;
    if (rc == 0 && s != d) {
        if (d) {
            detach(w->vfs, d);
            unref(w->vfs, d);
        }
        detach(w->vfs, s);
        free(s->name);
        attach(w->vfs, b.dir, s, name);
        s->ctim = now(w->vfs);
    } else {
        free(name);
    }
    walk_end(&a);
    walk_end(&b);
    return rc;
}

/* No hard or symbolic links: one path per node keeps rights from widening. Linux answers EPERM
 * for a filesystem that does not support them. */
static int vfs_link(void *fs, void *d1, const char *p1, size_t l1, int follow, void *d2,
                    const char *p2, size_t l2)
{
    (void)fs, (void)d1, (void)p1, (void)l1, (void)follow, (void)d2, (void)p2, (void)l2;
    return -EPERM;
}

static int vfs_symlink(void *fs, const char *t, size_t tl, void *dir, const char *p, size_t l)
{
    (void)fs, (void)t, (void)tl, (void)dir, (void)p, (void)l;
    return -EPERM;
}

/* Nothing is a symlink: an existing visible path gives EINVAL, as readlink(2) does. */
static int vfs_readlink(void *fs, void *dir, const char *path, size_t len, char *buf, size_t cap,
                        size_t *n)
{
    (void)buf, (void)cap;
    void *h;
    sb_fs_stat st;
    *n = 0;
    int rc = vfs_open(fs, dir, path, len, SB_FS_PATH, &h, &st);
    if (rc == 0)
        vfs_close(fs, h);
    return rc ? rc : -EINVAL;
}

const sb_fs_ops sb_vfs_ops = {
    vfs_open, vfs_close, vfs_read, vfs_write, vfs_stat, vfs_truncate, vfs_set_times, vfs_sync,
    vfs_readdir, vfs_mkdir, vfs_rmdir, vfs_unlink, vfs_rename, vfs_link, vfs_symlink, vfs_readlink,
};

/* ---------------------------------------------------------------- lifecycle */

sb_vfs *sb_vfs_new(const sb_vfs_limits *lim)
{
    sb_vfs *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    if (lim)
        v->lim = *lim;
    if (!v->lim.max_bytes)
        v->lim.max_bytes = 1ull << 30;
    if (!v->lim.max_files)
        v->lim.max_files = 65536;
    if (!v->lim.max_path)
        v->lim.max_path = 4096;
    v->next_ino = 1;
    if (new_node(v, SB_FS_DIR, &v->root)) {
        free(v);
        return NULL;
    }
    return v;
}

void sb_vfs_free(sb_vfs *v)
{
    if (v) {
        free_node(v, v->root);
        free(v);
    }
}

void sb_vfs_set_clock(sb_vfs *v, sb_vfs_clock clock, void *ctx)
{
    v->clock = clock;
    v->clock_ctx = ctx;
}

uint64_t sb_vfs_bytes_used(const sb_vfs *v)
{
    return v->bytes;
}

uint32_t sb_vfs_files_used(const sb_vfs *v)
{
    return v->files;
}

/* ---------------------------------------------------------------- provisioning by path */

static int fail(sb_vfs_view *w, const char *path, int rc, sb_err *err)
{
    const char *who = w->who && w->who->name ? w->who->name : "?";
    if (rc == -EACCES)
        sb_err_set(err, -rc, "%s: permission denied for %s", path, who);
    else if (rc == -ENOSPC)
        sb_err_set(err, -rc, "%s: filesystem byte limit (%llu) reached", path,
                   (unsigned long long)w->vfs->lim.max_bytes);
    else if (rc == -EDQUOT)
        sb_err_set(err, -rc, "%s: filesystem file limit (%u) reached", path,
                   w->vfs->lim.max_files);
    else if (rc == -SB_FS_ENOTCAPABLE)
        sb_err_set(err, -rc, "%s: not a normalised absolute path", path);
    else
        sb_err_set(err, -rc, "%s: %s", path, strerror(-rc));
    return rc;
}

/* Absolute path -> relative to the root; "/" becomes ".". */
static const char *rel(const char *path)
{
    if (path[0] != '/')
        return NULL;
    while (*path == '/')
        path++;
    return *path ? path : ".";
}

int sb_vfs_mkdirs(sb_vfs_view *w, const char *path, sb_err *err)
{
    const char *r = rel(path);
    if (!r)
        return fail(w, path, -SB_FS_ENOTCAPABLE, err);
    for (size_t i = 0;; i++) {
        if (r[i] == '/' || r[i] == '\0') {
            int rc = vfs_mkdir(w, NULL, r, i);
            if (rc && rc != -EEXIST)
                return fail(w, path, rc, err);
        }
        if (r[i] == '\0')
            return 0;
    }
}

static int open_abs(sb_vfs_view *w, const char *path, uint32_t flags, node **n, sb_fs_stat *st,
                    sb_err *err)
{
    const char *r = rel(path);
    int rc = r ? vfs_open(w, NULL, r, strlen(r), flags, (void **)n, st) : -SB_FS_ENOTCAPABLE;
    return rc ? fail(w, path, rc, err) : 0;
}

/* Creates the parents of an absolute path: mkdirs on a copy without the last component. */
static int make_parents(sb_vfs_view *w, const char *path, sb_err *err)
{
    const char *r = rel(path);
    const char *slash = r ? strrchr(r, '/') : NULL;
    if (!slash)
        return 0;
    char *dir = strndup(path, (size_t)(slash - path));
    int rc = dir ? sb_vfs_mkdirs(w, dir, err) : fail(w, path, -ENOMEM, err);
    free(dir);
    return rc;
}

int sb_vfs_put(sb_vfs_view *w, const char *path, uint64_t offset, const void *data, size_t len,
               uint32_t flags, sb_err *err)
{
    int rc = make_parents(w, path, err);
    if (rc)
        return rc;
    uint32_t of = SB_FS_WRITE | (flags & SB_VFS_PUT_CREATE ? SB_FS_CREAT : 0) |
                  (flags & SB_VFS_PUT_TRUNC ? SB_FS_TRUNC : 0) |
                  (flags & SB_VFS_PUT_EXCL ? SB_FS_EXCL : 0);
    node *n;
    sb_fs_stat st;
    size_t put;
    rc = open_abs(w, path, of, &n, &st, err);
    if (rc)
        return rc;
    rc = vfs_write(w, n, data, len, offset, &put);
    vfs_close(w, n);
    return rc ? fail(w, path, rc, err) : 0;
}

int sb_vfs_put_adopt(sb_vfs_view *w, const char *path, uint8_t *data, size_t len, size_t cap,
                     sb_err *err)
{
    if (!data || cap < len)
        return fail(w, path, -EINVAL, err);
    int rc = make_parents(w, path, err);
    if (rc)
        return rc;
    const char *r = rel(path);
    node *n;
    sb_fs_stat st; /* open_abs's body, so the analysis sees n set on every 0 return */
    rc = r ? vfs_open(w, NULL, r, strlen(r), SB_FS_WRITE | SB_FS_CREAT, (void **)&n, &st)
           : -SB_FS_ENOTCAPABLE;
    if (rc)
        return fail(w, path, rc, err);
    /* The limit is checked with the old contents gone, before they are touched. */
    if (len > w->vfs->lim.max_bytes - (w->vfs->bytes - n->size)) {
        vfs_close(w, n);
        return fail(w, path, -ENOSPC, err);
    }
    free(n->data);
    w->vfs->bytes = w->vfs->bytes - n->size + len;
    n->data = data;
    n->size = len;
    n->cap = cap;
    n->mtim = n->ctim = now(w->vfs);
    vfs_close(w, n);
    return 0;
}

int sb_vfs_get(sb_vfs_view *w, const char *path, uint64_t offset, void *buf, size_t len,
               size_t *got, sb_err *err)
{
    node *n;
    sb_fs_stat st;
    int rc = open_abs(w, path, SB_FS_READ, &n, &st, err);
    if (rc)
        return rc;
    rc = vfs_read(w, n, buf, len, offset, got);
    vfs_close(w, n);
    return rc ? fail(w, path, rc, err) : 0;
}

int sb_vfs_stat_path(sb_vfs_view *w, const char *path, sb_fs_stat *st, sb_err *err)
{
    node *n;
    int rc = open_abs(w, path, SB_FS_PATH, &n, st, err);
    if (rc == 0)
        vfs_close(w, n);
    return rc;
}

int sb_vfs_remove(sb_vfs_view *w, const char *path, sb_err *err)
{
    sb_fs_stat st;
    int rc = sb_vfs_stat_path(w, path, &st, err);
    if (rc)
        return rc;
    const char *r = rel(path);
    rc = st.type == SB_FS_DIR ? vfs_rmdir(w, NULL, r, strlen(r)) : vfs_unlink(w, NULL, r, strlen(r));
    return rc ? fail(w, path, rc, err) : 0;
}

int sb_vfs_list(sb_vfs_view *w, const char *path, sb_vfs_list_fn fn, void *ctx, sb_err *err)
{
    node *d;
    sb_fs_stat st;
    int rc = open_abs(w, path, SB_FS_READ | SB_FS_DIRECTORY, &d, &st, err);
    if (rc)
        return rc;
    char name[NAME_MAX_LEN + 1];
    sb_fs_dirent e;
    int stop = 0;
    for (uint64_t cookie = 2; !stop; cookie = e.next) {
        rc = vfs_readdir(w, d, cookie, &e, name, sizeof name);
        if (rc)
            break;
        name[e.namelen] = '\0';
        fill_stat(lookup(d, name, e.namelen), &st);
        stop = fn(ctx, name, &st);
    }
    vfs_close(w, d);
    if (rc < 0)
        return fail(w, path, rc, err);
    return stop;
}
