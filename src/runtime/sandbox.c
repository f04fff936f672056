/* sandbox.c - the seccomp-bpf allow-list strongbox-runtime puts on itself once it has everything
 * it needs from outside (after sending its attestation request, before any party data arrives).
 *
 * W^X: no page is ever writable and executable at once. In an interpreter-only runtime nothing
 * may be executable at all (mmap without PROT_EXEC, no mprotect). A runtime with the compiled tier
 * adds mprotect, and lets mmap and mprotect ask for PROT_EXEC only without PROT_WRITE: the compiler
 * writes code into read-write pages and turns them read-execute before it runs them.
 *
 * From then on the runtime is one thread polling one descriptor: it reads and writes the channel,
 * asks for time and randomness, and manages memory. Anything else kills the process. The list was
 * measured with strace over the whole test suite (docs/protocol.md lists it with reasons). */
#include "runtime/runtime.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>

static const int allowed[] = {
    SCMP_SYS(read),          /* channel */
    SCMP_SYS(write),         /* channel */
    SCMP_SYS(poll),          /* the event loop */
    SCMP_SYS(clock_gettime), /* expiry, wall-clock limit of runs (vDSO fallback) */
    SCMP_SYS(getrandom),     /* OpenSSL's DRBG reseeding, TLS randoms */
    SCMP_SYS(brk),           /* malloc */
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),        /* realloc of large blocks, memory.grow */
    SCMP_SYS(madvise),       /* free() returning pages */
    SCMP_SYS(getpid),        /* OpenSSL DRBG fork detection */
    SCMP_SYS(futex),         /* pthread_once wake-ups in OpenSSL/glibc at exit */
    SCMP_SYS(exit_group),    /* the end */
    SCMP_SYS(setitimer),     /* run_seconds: arm/disarm the wall-clock timer around a run */
    SCMP_SYS(rt_sigreturn),  /* return from the SIGALRM handler */
    /* restart_syscall stays out (the list would be 16 > the budget of 15): no handler uses
     * SA_RESTART and the timer is disarmed before the loop polls again, so nothing restarts. */
};

/* mmap and mprotect may ask for anything but PROT_WRITE together with PROT_EXEC: libseccomp ORs
 * the rules of one call, so three rules allow the masked values none, W, and X (not W|X). */
static int allow_unless_write_exec(scmp_filter_ctx f, int call)
{
    static const unsigned long allowed_wx[] = {0, PROT_WRITE, PROT_EXEC};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof allowed_wx / sizeof allowed_wx[0]; i++)
        rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, call, 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, allowed_wx[i]));
    return rc;
}

static int add_memory_rules(scmp_filter_ctx f, bool generated_code)
{
    if (generated_code) {
        int rc = allow_unless_write_exec(f, SCMP_SYS(mmap));
        return rc ? rc : allow_unless_write_exec(f, SCMP_SYS(mprotect));
    }
    /* mmap for malloc of large blocks and wasm memories; never executable (the interpreter
     * generates no code, so nothing may be mapped PROT_EXEC). */
    return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                            SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

int rt_sandbox_install(bool generated_code, sb_err *err)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return sb_err_set(err, SB_ST_INTERNAL, "sandbox: no_new_privs: %s", strerror(errno));
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
    int rc = f ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < sizeof allowed / sizeof allowed[0]; i++)
        rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
    if (rc == 0)
        rc = add_memory_rules(f, generated_code);
    if (rc == 0)
        rc = seccomp_load(f);
    seccomp_release(f);
    if (rc < 0)
        return sb_err_set(err, SB_ST_INTERNAL, "sandbox: installing the seccomp filter: %s",
                          strerror(-rc));
    return 0;
}
