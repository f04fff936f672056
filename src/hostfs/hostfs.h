/* hostfs.h - a host directory as an sb_fs_ops backend, for `strongbox run` only (never linked into
 * the runtime).
 *
 * Confinement: every path is resolved beneath the directory it starts from. With openat2 (Linux
 * >= 5.6) resolution uses RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; without it a component walk with
 * openat(O_PATH | O_NOFOLLOW) and a stack of directory fds does the same in user space. Either
 * way "..", absolute paths and symlinks (relative or absolute) that would leave the directory fail
 * with SB_FS_ENOTCAPABLE, symlinks that stay inside are followed as on the host, more than 40
 * links in one lookup is -ELOOP. Operations on a last component that are not resolved (mkdir,
 * unlink, rmdir, rename, symlink, link, readlink) act on the directory entry itself and never
 * follow it; link with follow goes through the confined resolution.
 * A read-only mapping refuses every change with -EROFS. */
#ifndef SB_HOSTFS_H
#define SB_HOSTFS_H

#include "common/common.h"
#include "vfs/fs.h"

typedef struct sb_hostfs sb_hostfs;

enum {
    SB_HOSTFS_READONLY = 1,
    SB_HOSTFS_NO_OPENAT2 = 2, /* force the component-walk fallback (for tests) */
};

/* Maps host directory `dir`. NULL with err filled if it cannot be opened as a directory. */
sb_hostfs *sb_hostfs_new(const char *dir, unsigned flags, sb_err *err);
void sb_hostfs_free(sb_hostfs *h);

/* The `fs` context for these ops is the sb_hostfs itself. */
extern const sb_fs_ops sb_hostfs_ops;

#endif
