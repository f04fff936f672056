/* process.c - the "process" platform: the runtime as a sandboxed child process of the host.
 *
 * Launch: one raw clone() with fresh namespaces (net, mount, pid, ipc, uts; each dropped with a
 * warning when the kernel refuses), then in the child, in this order:
 *   1. mount view: pivot_root into a small tmpfs holding only /usr (and the /lib links) read-only,
 *      so the dynamic loader and shared libraries load and nothing else of the host is visible;
 *   2. descriptors: stdin/stdout = /dev/null, stderr kept (runtime diagnostics, never data),
 *      channel = fd 3, everything else closed;
 *   3. credentials: when root, switch to an unprivileged uid/gid with no supplementary groups;
 *   4. rlimits (CORE=0, NOFILE, AS, CPU, NPROC=0 after the uid switch: no forking);
 *   5. PR_SET_NO_NEW_PRIVS, parent-death signal = SIGKILL (nothing outlives the host);
 *   6. execveat() of the sealed memfd holding the measured runtime bytes.
 * The runtime installs its own seccomp filter after start-up (it knows what it needs).
 * The child reports each skipped step (warning) or failed step (fatal) on a close-on-exec pipe;
 * EOF on that pipe means the exec succeeded. Only async-signal-safe calls run in the child. */
#include "platform/platform_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Steps the child reports on; the texts are what the host logs. */
enum child_step {
    STEP_NEWNS_ROOT, STEP_FDS, STEP_UID, STEP_RLIMIT, STEP_NNP, STEP_PDEATHSIG, STEP_EXEC,
    STEP_COUNT
};
static const char *const step_names[STEP_COUNT] = {
    "empty mount view (pivot_root)", "descriptor setup", "uid/gid switch", "rlimits",
    "PR_SET_NO_NEW_PRIVS", "parent-death signal", "execveat of the runtime image",
};

struct child_report {
    int fatal;
    int step;
    int err;
};

struct child_args {
    int image_fd, chan_fd, report_fd, null_fd;
    int newns, mount_proc;
    uid_t uid;
    int drop;
    sb_isolate_limits lim;
};

static void report(int fd, int fatal, int step, int err)
{
    struct child_report r = {fatal, step, err};
    ssize_t n = write(fd, &r, sizeof r);
    (void)n;
    if (fatal)
        _exit(127);
}

static int bind_readonly(const char *src, const char *dst)
{
    if (mkdir(dst, 0755) != 0 && errno != EEXIST)
        return -1;
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
        return -1;
    return mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

/* /lib, /lib64... are symlinks into /usr on merged-/usr systems and directories elsewhere. */
static int mirror_libdir(const char *name)
{
    char src[32], dst[48], target[256];
    snprintf(src, sizeof src, "/%s", name); /* async-signal-safe enough: no locale, no malloc */
    snprintf(dst, sizeof dst, "/tmp/%s", name);
    struct stat st;
    if (lstat(src, &st) != 0)
        return 0;
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0)
            return -1;
        target[n] = '\0';
        return symlink(target, dst);
    }
    return S_ISDIR(st.st_mode) ? bind_readonly(src, dst) : 0;
}

/* Builds the new root on /tmp of this (private) mount namespace and pivots into it. */
static int make_empty_root(int mount_proc)
{
    static const char *const libdirs[] = {"lib", "lib64", "lib32", "libx32"};
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    if (mount("strongbox", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755") != 0)
        return -1;
    if (bind_readonly("/usr", "/tmp/usr") != 0)
        return -1;
    for (size_t i = 0; i < sizeof libdirs / sizeof *libdirs; i++)
        if (mirror_libdir(libdirs[i]) != 0)
            return -1;
    if (mount_proc && (mkdir("/tmp/proc", 0555) != 0 ||
                       mount("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)))
        return -1;
    if (mkdir("/tmp/.old", 0700) != 0 || syscall(SYS_pivot_root, "/tmp", "/tmp/.old") != 0)
        return -1;
    if (chdir("/") != 0 || umount2("/.old", MNT_DETACH) != 0 || rmdir("/.old") != 0)
        return -1;
    return mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

/* Channel to fd 3, the report pipe to fd 4, the image to fd 5, stdio to /dev/null; the rest closed. */
static int arrange_fds(struct child_args *a)
{
    int chan = fcntl(a->chan_fd, F_DUPFD_CLOEXEC, 10);
    int rep = fcntl(a->report_fd, F_DUPFD_CLOEXEC, 10);
    int img = fcntl(a->image_fd, F_DUPFD_CLOEXEC, 10);
    if (chan < 0 || rep < 0 || img < 0)
        return -1;
    if (dup2(a->null_fd, 0) < 0 || dup2(a->null_fd, 1) < 0 || dup2(chan, SB_CHANNEL_FD) < 0)
        return -1;
    if (dup3(rep, 4, O_CLOEXEC) < 0 || dup3(img, 5, O_CLOEXEC) < 0)
        return -1;
    a->report_fd = 4;
    a->image_fd = 5;
    return close_range(6, ~0U, 0);
}

static int apply_rlimits(const sb_isolate_limits *lim)
{
    struct rlimit zero = {0, 0};
    rlim_t nofile = lim->open_files ? lim->open_files : 16;
    struct rlimit files = {nofile, nofile};
    if (setrlimit(RLIMIT_CORE, &zero) != 0 || setrlimit(RLIMIT_NOFILE, &files) != 0)
        return -1;
    if (lim->address_space) {
        struct rlimit as = {lim->address_space, lim->address_space};
        if (setrlimit(RLIMIT_AS, &as) != 0)
            return -1;
    }
    if (lim->cpu_seconds) {
        struct rlimit cpu = {lim->cpu_seconds, lim->cpu_seconds + 1};
        if (setrlimit(RLIMIT_CPU, &cpu) != 0)
            return -1;
    }
    /* Set after the uid switch so execve is not refused; every later fork is. (Root ignores it.) */
    return setrlimit(RLIMIT_NPROC, &zero);
}

static void child_main(struct child_args *a)
{
    int rep = a->report_fd;
    if (a->newns && make_empty_root(a->mount_proc) != 0)
        report(rep, 0, STEP_NEWNS_ROOT, errno);
    if (arrange_fds(a) != 0)
        report(rep, 1, STEP_FDS, errno);
    rep = a->report_fd;
    if (a->drop) {
        /* Raw syscalls: glibc's wrappers broadcast credential changes to every thread of the
         * parent it believes still exist (this child was cloned from a threaded host), and would
         * wait for them forever. */
        gid_t g = (gid_t)a->uid;
        if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, g, g, g) != 0 ||
            syscall(SYS_setresuid, a->uid, a->uid, a->uid) != 0)
            report(rep, 1, STEP_UID, errno);
    }
    if (apply_rlimits(&a->lim) != 0)
        report(rep, 1, STEP_RLIMIT, errno);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        report(rep, 1, STEP_NNP, errno);
    /* After the credential change, which clears it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        report(rep, 1, STEP_PDEATHSIG, errno);
    /* docs/protocol.md: the runtime takes its channel descriptor and platform on the command line. */
    char *const argv[] = {(char *)"strongbox-runtime", (char *)"--channel-fd", (char *)"3",
                          (char *)"--platform", (char *)"process", NULL};
    char *const no_env[] = {NULL};
    char *const san_env[] = {(char *)"ASAN_OPTIONS=detect_leaks=0",
                             (char *)"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1", NULL};
    char *const *envp = a->mount_proc ? san_env : no_env;
    syscall(SYS_execveat, a->image_fd, "", argv, envp, AT_EMPTY_PATH);
    report(rep, 1, STEP_EXEC, errno);
}

/* clone() without a new stack behaves like fork() but can create a PID namespace for the child
 * itself. Tries the full set, then without the PID namespace, then without any. */
static pid_t clone_isolated(unsigned *sandbox, char *warn, size_t warn_len)
{
    static const struct {
        unsigned long flags;
        unsigned bits;
    } tries[] = {
        {CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS,
         SB_SANDBOX_NEWNET | SB_SANDBOX_NEWNS | SB_SANDBOX_NEWPID | SB_SANDBOX_NEWIPC |
             SB_SANDBOX_NEWUTS},
        {CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS,
         SB_SANDBOX_NEWNET | SB_SANDBOX_NEWNS | SB_SANDBOX_NEWIPC | SB_SANDBOX_NEWUTS},
        {0, 0},
    };
    int first_err = 0;
    for (size_t i = 0; i < sizeof tries / sizeof *tries; i++) {
        pid_t pid = (pid_t)syscall(SYS_clone, tries[i].flags | SIGCHLD, 0, 0, 0, 0);
        if (pid >= 0) {
            *sandbox = tries[i].bits;
            if (pid > 0) {
                if (i > 0)
                    snprintf(warn, warn_len, "namespaces reduced (%s); ", strerror(first_err));
            }
            return pid;
        }
        if (!first_err)
            first_err = errno;
    }
    return -1;
}

/* Reads the child's reports until EOF (exec done) or a fatal one. Returns 0 or -1. */
static int collect_reports(int fd, sb_isolate *iso, sb_err *err)
{
    struct child_report r;
    for (;;) {
        ssize_t n = read(fd, &r, sizeof r);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return 0;
        if (n != (ssize_t)sizeof r || r.step < 0 || r.step >= STEP_COUNT)
            return sb_err_set(err, EIO, "isolate launch: garbled report from the child");
        if (r.fatal)
            return sb_err_set(err, r.err, "isolate launch: %s failed: %s", step_names[r.step],
                              strerror(r.err));
        size_t used = strlen(iso->warnings);
        snprintf(iso->warnings + used, sizeof iso->warnings - used, "%s skipped (%s); ",
                 step_names[r.step], strerror(r.err));
        if (r.step == STEP_NEWNS_ROOT)
            iso->sandbox &= ~(unsigned)SB_SANDBOX_EMPTY_ROOT;
    }
}

int sb_process_launch(sb_platform *p, const sb_isolate_limits *lim, sb_isolate **out, sb_err *err)
{
    *out = NULL;
    sb_isolate *iso = calloc(1, sizeof *iso);
    if (!iso)
        return sb_err_set(err, ENOMEM, "isolate launch: out of memory");
    iso->chan = -1;
    iso->platform = p;
    int sv[2] = {-1, -1}, rp[2] = {-1, -1};
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        pipe2(rp, O_CLOEXEC) != 0) {
        sb_err_set(err, errno, "isolate launch: cannot create the channel: %s", strerror(errno));
        goto fail;
    }
    struct child_args a = {
        .image_fd = p->image_fd, .chan_fd = sv[1], .report_fd = rp[1], .null_fd = null_fd,
        .mount_proc = p->sanitizer_compat, .uid = p->drop_uid, .drop = geteuid() == 0,
        .lim = lim ? *lim : (sb_isolate_limits){0},
    };
    unsigned bits = 0;
    pid_t pid = clone_isolated(&bits, iso->warnings, sizeof iso->warnings);
    if (pid < 0) {
        sb_err_set(err, errno, "isolate launch: clone: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        a.newns = (bits & SB_SANDBOX_NEWNS) != 0; /* never pivot in the host's own mount view */
        child_main(&a); /* never returns */
    }
    iso->pid = pid;
    iso->sandbox = bits | SB_SANDBOX_UID_DROPPED * (unsigned)a.drop | SB_SANDBOX_NO_NEW_PRIVS |
                   SB_SANDBOX_RLIMITS | ((bits & SB_SANDBOX_NEWNS) ? SB_SANDBOX_EMPTY_ROOT : 0);
    close(sv[1]);
    close(rp[1]);
    sv[1] = rp[1] = -1;
    int rc = collect_reports(rp[0], iso, err);
    close(rp[0]);
    close(null_fd);
    if (rc != 0) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        iso->pid = 0;
        close(sv[0]);
        free(iso);
        return -1;
    }
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0) {
        sb_err_set(err, errno, "isolate launch: fcntl: %s", strerror(errno));
        iso->chan = sv[0];
        sb_isolate_free(iso);
        return -1;
    }
    iso->chan = sv[0];
    *out = iso;
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (rp[i] >= 0)
            close(rp[i]);
    }
    if (null_fd >= 0)
        close(null_fd);
    free(iso);
    return -1;
}
