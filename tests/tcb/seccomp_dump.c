/* seccomp_dump - prints the seccomp filter strongbox-runtime installs, without installing it.
 *
 * Built from the runtime's own src/runtime/sandbox.c (not a copy of its list): the link wraps
 * seccomp_load (-Wl,--wrap=seccomp_load) so that rt_sandbox_install() builds its real filter and
 * this file exports it as libseccomp's pseudo filter code instead of loading it.
 * scripts/tcb-report.sh counts the allowed system calls from this output. */
#include "runtime/runtime.h"

#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int __wrap_seccomp_load(const scmp_filter_ctx ctx);

int __wrap_seccomp_load(const scmp_filter_ctx ctx)
{
    fflush(stdout);
    return seccomp_export_pfc(ctx, STDOUT_FILENO);
}

int main(void)
{
    sb_err err;
    if (rt_sandbox_install(&err) != 0) {
        fprintf(stderr, "seccomp_dump: %s\n", err.msg);
        return 1;
    }
    return 0;
}
