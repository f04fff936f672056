/* seccomp_dump - prints the seccomp filter strongbox-runtime installs, without installing it.
 *
 * Built from the runtime's own src/runtime/sandbox.c (not a copy of its list): the link wraps
 * seccomp_load (-Wl,--wrap=seccomp_load) so that rt_sandbox_install() builds its real filter and
 * this file exports it as libseccomp's pseudo filter code instead of loading it.
 * scripts/tcb-report.sh counts the allowed system calls from this output.
 *
 * Without arguments it prints the widest filter this build installs: the compiled tier's (W^X)
 * when the engine has that tier, else the interpreter's; --interpreter or --compiled chooses. */
#include "runtime/runtime.h"
#include "wasm/wasm.h"

#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int __wrap_seccomp_load(const scmp_filter_ctx ctx);

int __wrap_seccomp_load(const scmp_filter_ctx ctx)
{
    fflush(stdout);
    return seccomp_export_pfc(ctx, STDOUT_FILENO);
}

int main(int argc, char **argv)
{
    sb_err err;
    bool generated_code = wasm_engine_available(WASM_ENGINE_COMPILED);
    if (argc == 2 && strcmp(argv[1], "--interpreter") == 0)
        generated_code = false;
    else if (argc == 2 && strcmp(argv[1], "--compiled") == 0)
        generated_code = true;
    else if (argc != 1) {
        fprintf(stderr, "usage: tcb-seccomp-dump [--interpreter | --compiled]\n");
        return 2;
    }
    if (rt_sandbox_install(generated_code, &err) != 0) {
        fprintf(stderr, "seccomp_dump: %s\n", err.msg);
        return 1;
    }
    return 0;
}
