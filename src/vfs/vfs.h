/* vfs.h - Strongbox's in-memory filesystem with per-principal rights (trusted: runs in the isolate).
 *
 * A tree of directories and regular files held in memory. No symlinks and no hard links: every
 * node has exactly one path, so rights (which are per path prefix) cannot widen through links.
 *
 * Rights. A principal (a party or a program) holds grants {path prefix, rights}; its rights on a
 * path are the union of the grants whose prefix contains the path, matched on whole components
 * ("/inputs" covers "/inputs" and "/inputs/a", never "/inputs2"). Prefixes are normalised absolute
 * paths ("/" covers everything). A path with no rights is invisible unless it is an ancestor of a
 * granted prefix: such directories can be walked through, opened and listed, and a listing shows
 * only the entries that are granted or lead to a grant. Operations need:
 *   open for reading, readdir of a granted dir ........ READ
 *   open for writing, create, truncate, mkdir, rmdir,
 *   unlink, set times, write/append ...................  WRITE
 *   rename ............................................  READ+WRITE on the source, WRITE on the
 *                                                         destination (moving data never lets
 *                                                         anyone read what its mover could not)
 *   stat, open as a path handle .......................  any right, or an ancestor of a grant
 * EXEC (run as a program) is stored for the runtime, which checks it with sb_vfs_rights(). A path
 * the principal cannot see fails with -EACCES whether or not it exists (existence does not leak).
 *
 * Determinism: inode numbers count up from 1 (the root) in creation order; directories list in
 * creation order ("." and ".." first) with cookies that stay valid across inserts and removals;
 * timestamps are SB_VFS_FIXED_TIME unless a clock is set. Reads do not update atime.
 *
 * Limits (sb_vfs_limits): total bytes of file contents (-ENOSPC), number of files and directories
 * (-EDQUOT), absolute path length (-ENAMETOOLONG); a name is at most 255 bytes (-ENAMETOOLONG).
 * Writes past the end of a file fill the gap with zeros; growth is checked against the byte limit
 * before anything is allocated. */
#ifndef SB_VFS_H
#define SB_VFS_H

#include "common/common.h"
#include "vfs/fs.h"

#include <stdint.h>

enum { SB_VFS_READ = 1, SB_VFS_WRITE = 2, SB_VFS_EXEC = 4 };

typedef struct sb_vfs_grant {
    const char *prefix; /* normalised absolute path: "/", "/inputs", "/out/alice" */
    uint32_t rights;    /* SB_VFS_READ | SB_VFS_WRITE | SB_VFS_EXEC */
} sb_vfs_grant;

typedef struct sb_vfs_principal {
    const char *name; /* for error messages */
    const sb_vfs_grant *grants;
    size_t ngrants;
} sb_vfs_principal;

typedef struct sb_vfs_limits {
    uint64_t max_bytes; /* 0 = 1 GiB */
    uint32_t max_files; /* files + directories, the root excluded; 0 = 65536 */
    uint32_t max_path;  /* bytes of an absolute path; 0 = 4096 */
} sb_vfs_limits;

/* 2000-01-01T00:00:00Z in nanoseconds: every timestamp when no clock is set. */
#define SB_VFS_FIXED_TIME 946684800000000000ULL

typedef struct sb_vfs sb_vfs;
typedef uint64_t (*sb_vfs_clock)(void *ctx); /* nanoseconds since the Unix epoch */

/* NULL on allocation failure. lim NULL = defaults. */
sb_vfs *sb_vfs_new(const sb_vfs_limits *lim);
void sb_vfs_free(sb_vfs *v);
/* Timestamps come from clock(ctx) from now on; clock NULL = SB_VFS_FIXED_TIME again. */
void sb_vfs_set_clock(sb_vfs *v, sb_vfs_clock clock, void *ctx);
/* Current totals (for status reports and tests). */
uint64_t sb_vfs_bytes_used(const sb_vfs *v);
uint32_t sb_vfs_files_used(const sb_vfs *v);

/* Rights of principal p on an absolute path (union of matching grants); 0 if none. */
uint32_t sb_vfs_rights(const sb_vfs_principal *p, const char *path);

/* A principal's view of a VFS: the `fs` context for sb_vfs_ops. Both must outlive every node the
 * view opened. Nodes of one VFS may be used with any view of it. */
typedef struct sb_vfs_view {
    sb_vfs *vfs;
    const sb_vfs_principal *who;
} sb_vfs_view;

extern const sb_fs_ops sb_vfs_ops;

/* Provisioning by absolute path for a principal (what the runtime does for a party). Each returns
 * 0, or a negative errno with err saying what failed ("/inputs/a.csv: permission denied for
 * alice"). Missing parent directories are created by put (WRITE needed on each). */
enum { SB_VFS_PUT_CREATE = 1, SB_VFS_PUT_TRUNC = 2, SB_VFS_PUT_EXCL = 4 };
/* Writes len bytes at offset (SB_FS_APPEND = append a chunk). */
int sb_vfs_put(sb_vfs_view *w, const char *path, uint64_t offset, const void *data, size_t len,
               uint32_t flags, sb_err *err);
/* Replaces (or creates) the file at path with data[0, len) without copying it: on success the VFS
 * owns data, a malloc'd block of cap >= len bytes, and frees it with the file; on failure the
 * caller keeps it (-EINVAL for no data or cap < len, and put's errors: -ENOSPC is checked with the
 * old contents counted as gone, and leaves them intact). Parents are created as by put. */
int sb_vfs_put_adopt(sb_vfs_view *w, const char *path, uint8_t *data, size_t len, size_t cap,
                     sb_err *err);
/* About to write data[off, off + len) of a malloc'd block of cap bytes, filling it sequentially
 * (a file growing, an upload being staged). The first write to each fresh page costs a page fault;
 * for blocks of 1 MiB and more this maps each 1 MiB step of the block in one MADV_POPULATE_WRITE
 * as the writes reach it (never more than one step ahead of them), which takes about a third less
 * CPU than faulting the pages in one by one. Advice only: a kernel without it (before 5.14,
 * EINVAL) gets ordinary faults. The VFS does this when it grows a file; the runtime when it
 * stages an upload. */
void sb_vfs_data_prefault(void *data, size_t cap, size_t off, size_t len);
/* Reads up to len bytes at offset; *got = bytes read (0 at the end). */
int sb_vfs_get(sb_vfs_view *w, const char *path, uint64_t offset, void *buf, size_t len,
               size_t *got, sb_err *err);
int sb_vfs_stat_path(sb_vfs_view *w, const char *path, sb_fs_stat *st, sb_err *err);
int sb_vfs_mkdirs(sb_vfs_view *w, const char *path, sb_err *err);
int sb_vfs_remove(sb_vfs_view *w, const char *path, sb_err *err);
/* Calls fn for each visible entry of the directory ("." and ".." skipped), in directory order.
 * A non-zero return from fn stops the listing and is returned. */
typedef int (*sb_vfs_list_fn)(void *ctx, const char *name, const sb_fs_stat *st);
int sb_vfs_list(sb_vfs_view *w, const char *path, sb_vfs_list_fn fn, void *ctx, sb_err *err);

#endif
