/* fs.h - the small filesystem interface WASI talks to.
 *
 * Two backends implement it: src/vfs (in-memory, trusted, what the isolate uses) and src/hostfs
 * (a host directory, `strongbox run` only). Every operation takes the backend's context `fs` and
 * opaque node handles that the backend hands out with open() and takes back with close().
 *
 * Paths are (pointer, length), relative to a directory node, '/'-separated. An absolute path or a
 * ".." that climbs above the starting directory fails with SB_FS_ENOTCAPABLE: the starting
 * directory is a capability, as in WASI.
 *
 * Every function returns 0 or a negative POSIX errno (-ENOENT, ...), or -SB_FS_ENOTCAPABLE. The
 * WASI layer maps them to WASI errno values (table in docs/wasi.md). */
#ifndef SB_VFS_FS_H
#define SB_VFS_FS_H

#include <stddef.h>
#include <stdint.h>

/* Not a POSIX errno: "outside the capability" (WASI's ENOTCAPABLE). */
#define SB_FS_ENOTCAPABLE 10076

/* File types: the WASI filetype values, so no mapping is needed. */
enum { SB_FS_UNKNOWN = 0, SB_FS_CHARDEV = 2, SB_FS_DIR = 3, SB_FS_REG = 4, SB_FS_SYMLINK = 7 };

/* open() flags. READ/WRITE ask for that access (checked against the backend's rights); PATH asks
 * for neither (a handle for stat/set_times/readdir-less lookups). NOFOLLOW: do not follow a
 * symlink in the last component. */
enum {
    SB_FS_CREAT = 1 << 0,
    SB_FS_EXCL = 1 << 1,
    SB_FS_TRUNC = 1 << 2,
    SB_FS_DIRECTORY = 1 << 3,
    SB_FS_NOFOLLOW = 1 << 4,
    SB_FS_READ = 1 << 5,
    SB_FS_WRITE = 1 << 6,
    SB_FS_PATH = 1 << 7,
};

/* set_times() flags: the WASI fstflags values. */
enum { SB_FS_ATIM = 1, SB_FS_ATIM_NOW = 2, SB_FS_MTIM = 4, SB_FS_MTIM_NOW = 8 };

/* Passed as the offset to write(): append at the end of the file. */
#define SB_FS_APPEND UINT64_MAX

typedef struct sb_fs_stat {
    uint64_t dev, ino, nlink, size;
    uint64_t atim, mtim, ctim; /* nanoseconds since the Unix epoch */
    uint8_t type;              /* SB_FS_* file type */
} sb_fs_stat;

typedef struct sb_fs_dirent {
    uint64_t next; /* cookie of the entry after this one */
    uint64_t ino;
    uint8_t type;
    size_t namelen; /* full length, even when the copy into name[] was truncated */
} sb_fs_dirent;

typedef struct sb_fs_ops {
    /* Opens path relative to dir (dir NULL = the backend's root). *st describes the opened node. */
    int (*open)(void *fs, void *dir, const char *path, size_t len, uint32_t flags, void **node,
                sb_fs_stat *st);
    void (*close)(void *fs, void *node);
    int (*read)(void *fs, void *node, void *buf, size_t len, uint64_t off, size_t *n);
    /* off == SB_FS_APPEND writes at the current end of the file. */
    int (*write)(void *fs, void *node, const void *buf, size_t len, uint64_t off, size_t *n);
    int (*stat)(void *fs, void *node, sb_fs_stat *st);
    int (*truncate)(void *fs, void *node, uint64_t size);
    int (*set_times)(void *fs, void *node, uint64_t atim, uint64_t mtim, uint32_t flags);
    int (*sync)(void *fs, void *node);
    /* The entry at `cookie` (0 = first). Returns 0 with *e filled and up to cap bytes of the name
     * copied, 1 at the end of the directory, or -errno. */
    int (*readdir)(void *fs, void *dir, uint64_t cookie, sb_fs_dirent *e, char *name, size_t cap);
    int (*mkdir)(void *fs, void *dir, const char *path, size_t len);
    int (*rmdir)(void *fs, void *dir, const char *path, size_t len);
    int (*unlink)(void *fs, void *dir, const char *path, size_t len);
    int (*rename)(void *fs, void *dir1, const char *p1, size_t l1, void *dir2, const char *p2,
                  size_t l2);
    int (*link)(void *fs, void *dir1, const char *p1, size_t l1, int follow, void *dir2,
                const char *p2, size_t l2);
    int (*symlink)(void *fs, const char *target, size_t tlen, void *dir, const char *path,
                   size_t len);
    int (*readlink)(void *fs, void *dir, const char *path, size_t len, char *buf, size_t cap,
                    size_t *n);
} sb_fs_ops;

#endif
