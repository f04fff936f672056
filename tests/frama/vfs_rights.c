/* Frama-C/EVA driver: the VFS rights check (whole-component prefix matching) on arbitrary inputs.
 *
 * Includes the real src/vfs/vfs.c (so its static helpers are reachable) and calls the rights
 * functions with every principal of up to NGRANTS grants whose prefixes and the queried path are
 * arbitrary NUL-terminated strings of up to LEN bytes. EVA over-approximates every such input;
 * zero alarms means no run-time error (out-of-bounds read, overflow, invalid pointer) for any. */
#include "__fc_builtin.h"
#include <stddef.h>
#include <string.h> /* declared before strncmp is redirected below */

/* strncmp as the C standard defines it, in plain C: Frama-C's libc gives it only as a logic
 * specification EVA cannot evaluate, which would leave the vfs code's reliance on its result
 * (a match of n bytes means path has at least n bytes) unprovable. */
static int model_strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
        if (a[i] == '\0')
            return 0;
    }
    return 0;
}
#define strncmp model_strncmp
#include "../../src/vfs/vfs.c"

#define NGRANTS 3
#define LEN 8

static char strings[NGRANTS + 1][LEN + 1];

/* An arbitrary string of 0..LEN bytes, NUL-terminated within its buffer. */
static const char *any_string(char *buf)
{
    Frama_C_make_unknown(buf, LEN);
    buf[Frama_C_interval(0, LEN)] = '\0';
    buf[LEN] = '\0';
    return buf;
}

int main(void)
{
    sb_vfs_grant grants[NGRANTS];
    for (int i = 0; i < NGRANTS; i++) {
        grants[i].prefix = any_string(strings[i]);
        grants[i].rights = Frama_C_unsigned_int_interval(0, 7);
    }
    sb_vfs_principal p = {"party", grants, (size_t)Frama_C_interval(0, NGRANTS)};
    const char *path = any_string(strings[NGRANTS]);
    size_t plen = strlen(path);
    uint32_t r = sb_vfs_rights(&p, path);
    r |= rights_of(&p, path);
    int v = visible(&p, path, plen);
    r |= sb_vfs_rights(NULL, path);
    return (int)r + v;
}
