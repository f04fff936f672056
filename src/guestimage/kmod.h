/* kmod.h - the dependency closure of a guest image's kernel modules (kmod.c). */
#ifndef SB_GUESTIMAGE_KMOD_H
#define SB_GUESTIMAGE_KMOD_H

#include <stddef.h>

#define SB_KMOD_NAME_MAX 64

struct sb_kmod {
    char name[SB_KMOD_NAME_MAX]; /* as requested or as a "depends=" entry names it */
    char file[SB_KMOD_NAME_MAX + 8]; /* the .ko file name in the image (sev-guest.ko) */
    char path[4096];                 /* tree/kernel/.../file, or file.xz */
};

/* Fills out[0..*n) with the modules named in `roots` (comma-separated; a built-in one is
 * skipped) and everything they depend on, each after its dependencies, from the module tree
 * `tree` (a kernel's lib/modules/RELEASE: modules.order, modules.builtin, kernel/...). Returns 0,
 * or -1 after printing why (unknown module, unreadable or malformed .ko, a cycle, more than
 * max modules). */
int sb_kmod_closure(const char *tree, const char *roots, struct sb_kmod *out, size_t max,
                    size_t *n);

/* The bytes the image holds for m (malloc'd; decompressed from a .xz file), or NULL after
 * printing why. */
unsigned char *sb_kmod_read(const struct sb_kmod *m, size_t *len);

/* in[0..in_len), one whole xz stream, decompressed (malloc'd, *len bytes), at most max bytes;
 * NULL after printing why, naming `what` (truncated, corrupt, trailing data, too large). */
unsigned char *sb_kmod_unxz(const unsigned char *in, size_t in_len, size_t max, size_t *len,
                            const char *what);

#endif
