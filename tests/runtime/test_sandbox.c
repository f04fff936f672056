/* test_sandbox.c - the runtime's seccomp allow-list, installed in forked children: what the
 * runtime needs keeps working, everything else kills the process with SIGSYS. Both filters: the
 * interpreter's (nothing ever executable) and the compiled tier's (W^X: executable only without
 * write, and generated code runs). */
#include "runtime/runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/check.h"

/* exit_group directly: sanitizer runtimes wrap _exit with calls of their own. */
static void quit(int code)
{
    syscall(SYS_exit_group, code);
}

/* Runs fn in a sandboxed child; returns its exit code, or 128 + the signal that killed it. */
static int sandboxed_as(bool generated_code, void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        sb_err err;
        if (rt_sandbox_install(generated_code, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            _exit(99);
        }
        fn();
        quit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int sandboxed(void (*fn)(void)) { return sandboxed_as(false, fn); }

static void runtime_calls(void)
{
    /* What the runtime does after start-up: memory, time, randomness, its one descriptor. */
    char *big = malloc(8u << 20), *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!big || p == MAP_FAILED)
        quit(2);
    memset(big, 1, 8u << 20);
    p = mremap(p, 1 << 20, 4 << 20, MREMAP_MAYMOVE);
    if (p == MAP_FAILED || munmap(p, 4 << 20) < 0)
        quit(3);
    free(big);
    struct timespec ts;
    uint8_t rnd[16];
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
        quit(4);
    struct pollfd pfd = {1, POLLOUT, 0};
    if (poll(&pfd, 1, 0) < 0 || write(1, "", 0) < 0 || getpid() <= 0)
        quit(5);
    quit(0);
}

/* run_seconds: a handler installed before the filter; under it the timer is armed, fires, the
 * handler returns (rt_sigreturn) and the timer is disarmed. */
static volatile sig_atomic_t alarmed;
static void on_alarm(int sig) { (void)sig; alarmed = 1; }
static void run_timer(void)
{
    struct itimerval t = {{0, 0}, {0, 1000}}, off = {{0, 0}, {0, 0}};
    if (setitimer(ITIMER_REAL, &t, NULL) < 0)
        quit(2);
    for (long spin = 0; !alarmed && spin < 4000000000L; spin++)
        __asm__ volatile("" ::: "memory");
    if (!alarmed || setitimer(ITIMER_REAL, &off, NULL) < 0)
        quit(3);
    quit(0);
}

static void opens_file(void) { open("/etc/hostname", O_RDONLY); }
static void makes_socket(void) { socket(AF_INET, SOCK_STREAM, 0); }
static void forks(void) { fork(); }
static void maps_exec(void)
{
    mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void mprotects(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
}
static void execs(void) { execl("/bin/true", "true", (char *)NULL); }

/* ---- the compiled tier's filter: W^X */

static void maps_write_exec(void)
{
    mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void maps_write_exec_only(void)
{
    mmap(NULL, 4096, PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void mprotects_write_exec(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
}
static void mprotects_exec_then_write(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        quit(2);
    mprotect(p, 4096, PROT_WRITE | PROT_EXEC);
}

/* What the compiled tier does: write code into read-write pages, make them read-execute, run it;
 * map read-execute directly; change protections of data pages (guard regions). */
static void generates_code(void)
{
    static const uint8_t mov_eax_42_ret[] = {0xB8, 42, 0, 0, 0, 0xC3};
    uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        quit(2);
    memcpy(p, mov_eax_42_ret, sizeof mov_eax_42_ret);
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0)
        quit(3);
#if defined(__x86_64__)
    int (*fn)(void);
    memcpy(&fn, &p, sizeof fn); /* object to function pointer without a cast warning */
    if (fn() != 42)
        quit(4);
#endif
    void *rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *guard = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rx == MAP_FAILED || guard == MAP_FAILED || mprotect(guard, 4096, PROT_READ | PROT_WRITE) < 0 ||
        mprotect(p, 4096, PROT_READ | PROT_WRITE) < 0)
        quit(5);
    quit(0);
}
static void sigaction_(void) { signal(SIGALRM, SIG_IGN); }

int main(void)
{
    CHECK(sandboxed(runtime_calls) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0 && sandboxed(run_timer) == 0);
    signal(SIGALRM, SIG_DFL);
    void (*const forbidden[])(void) = {opens_file, makes_socket, forks, maps_exec, mprotects,
                                        execs, sigaction_};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        int rc = sandboxed(forbidden[i]);
        if (rc != 128 + SIGSYS)
            fprintf(stderr, "forbidden call %zu: status %d\n", i, rc);
        CHECK(rc == 128 + SIGSYS);
    }
    /* the compiled tier's filter: everything above still works or is still refused, except
     * that code may be made executable without write */
    CHECK(sandboxed_as(true, runtime_calls) == 0);
    CHECK(sandboxed_as(true, generates_code) == 0);
    CHECK(sandboxed(generates_code) == 128 + SIGSYS);
    void (*const never_wx[])(void) = {opens_file, makes_socket, forks, execs, sigaction_,
                                       maps_write_exec, maps_write_exec_only, mprotects_write_exec,
                                       mprotects_exec_then_write};
    for (size_t i = 0; i < sizeof never_wx / sizeof never_wx[0]; i++) {
        int rc = sandboxed_as(true, never_wx[i]);
        if (rc != 128 + SIGSYS)
            fprintf(stderr, "forbidden call %zu under the compiled tier's filter: status %d\n", i, rc);
        CHECK(rc == 128 + SIGSYS);
    }
    printf("sandbox: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
