/* Shared by the corpus programs: built natively (gcc) and for wasm32-wasi (clang + wasi-libc) and
 * compared. Programs print errno by name (the two libcs word strerror differently), fds as "fd"
 * (the numbers differ by design: the wasm side has its preopens at 3..), and only relative names. */
#ifndef CORPUS_COMMON_H
#define CORPUS_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

__attribute__((unused)) static const char *errname(int e)
{
    switch (e) {
#define N(x) case x: return #x;
        N(EACCES) N(EBADF) N(EEXIST) N(EINVAL) N(EISDIR) N(ENOENT) N(ENOTDIR) N(ENOTEMPTY)
        N(EPERM) N(ELOOP) N(ENAMETOOLONG) N(ESPIPE) N(EROFS) N(EXDEV) N(ENOSPC) N(EFAULT)
        N(ENOTSOCK) N(ENOSYS) N(EFBIG) N(EMFILE) N(EBUSY) N(ENOTSUP) N(EAGAIN) N(EDQUOT) N(EPIPE)
#ifdef ENOTCAPABLE
        N(ENOTCAPABLE)
#endif
#undef N
    default: return "E?";
    }
}

static const char *base_dir;
/* dir/name in one of four rotating buffers, so a call can take two paths. */
__attribute__((unused)) static const char *P(const char *name)
{
    static char bufs[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(bufs[i], sizeof bufs[i], "%s/%s", base_dir, name);
    return bufs[i];
}

__attribute__((unused)) static int report(const char *what, long rc, int is_fd)
{
    if (rc < 0)
        printf("%s = -1 %s\n", what, errname(errno));
    else if (is_fd)
        printf("%s = fd\n", what);
    else
        printf("%s = %ld\n", what, rc);
    return (int)rc;
}
#define T(call) report(#call, (long)(call), 0)
#define TFD(call) report(#call, (long)(call), 1)

#endif
