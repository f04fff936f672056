/* init.c - PID 1 of the guest image (platforms kvm, sev-snp, tdx; docs/host.md, docs/tcb.md).
 *
 * Trusted: it is in the measured initramfs and starts the runtime. It does only this:
 *   1. mounts devtmpfs on /dev, sysfs on /sys, then configfs on /sys/kernel/config (src/tsm reads
 *      TEE reports there) once its module is loaded;
 *   2. loads the modules /modules/load lists, in its order (finit_module): the image build wrote
 *      it from each module's dependencies (src/guestimage/kmod.c); list and modules are both in
 *      the measured initrd;
 *   3. finds the virtio-serial port named SB_PORT_NAME (/sys/class/virtio-ports/NAME/name) and
 *      makes it descriptor 3; on sev-snp and tdx, checks that the TEE's report interface is there;
 *   4. forks /strongbox-runtime --channel-fd 3 --platform P (P: the kernel command line's word
 *      after "--": measured with the command line, SNP's hash table or TDX's RTMR2, so a host
 *      cannot start a CVM's runtime as "kvm"), with an empty environment, stdin/stdout on /dev/null, stderr on the console;
 *   5. reaps every child until the runtime has ended, prints its exit status on the console and
 *      ends the VM with it (isa-debug-exit; else power-off), so that the VMM's exit is the
 *      isolate's end and carries the runtime's status to the host.
 * PID 1 never execs the runtime and never exits (that would panic the kernel): every failure is
 * printed and ends in power-off. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SB_PORT_NAME "sb.channel"
#define CHANNEL_FD 3
#define PORT_WAIT_MS 10000
#define DEBUG_EXIT_PORT 0xf4 /* QEMU's isa-debug-exit (src/platform/kvm.c) */

#define LOAD_LIST "/modules/load"
#define LOAD_LIST_MAX 2048 /* the CVM image lists 8 modules in ~150 bytes */
#define MODULE_FILE_MAX 80

/* Never return (PID 1 must not exit); noreturn also tells the analysers that no path goes on. */
__attribute__((noreturn)) static void power_off(void)
{
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause(); /* reboot() failed: never exit (PID 1) */
}

__attribute__((noreturn)) static void die(const char *what)
{
    fprintf(stderr, "strongbox-init: %s: %s; powering off\n", what, strerror(errno));
    power_off();
}

/* Loads the modules LOAD_LIST names (one file name of /modules a line), in its order. No list:
 * nothing to load (a kernel with its drivers built in). ENODEV is not fatal: it is what a TEE
 * driver answers outside its TEE (sev-guest on a VM that is not an SNP guest); require_tee checks
 * the device itself. Any other failure ends the VM naming the module. */
static void load_modules(void)
{
    char list[LOAD_LIST_MAX + 1], path[sizeof "/modules/" + MODULE_FILE_MAX];
    int fd = open(LOAD_LIST, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return;
    ssize_t n = fd < 0 ? -1 : read(fd, list, sizeof list);
    if (fd >= 0)
        close(fd);
    if (n > LOAD_LIST_MAX)
        errno = EFBIG;
    if (n < 0 || n > LOAD_LIST_MAX)
        die(LOAD_LIST);
    list[n] = 0;
    for (char *name = list, *nl; *name; name = nl + 1) {
        nl = strchr(name, '\n');
        if (!nl || nl == name || memchr(name, '/', (size_t)(nl - name)) ||
            nl - name > MODULE_FILE_MAX) {
            errno = EINVAL;
            die(LOAD_LIST ": want one module file name a line");
        }
        *nl = 0;
        snprintf(path, sizeof path, "/modules/%.80s", name); /* MODULE_FILE_MAX */
        int mfd = open(path, O_RDONLY | O_CLOEXEC);
        if (mfd < 0 || (syscall(SYS_finit_module, mfd, "", 0) != 0 && errno != EEXIST &&
                        errno != ENODEV))
            die(path);
        close(mfd);
    }
}

/* On sev-snp and tdx the runtime gets its evidence through src/tsm (configfs-tsm, else the TEE's
 * device). The device node is the test: its driver creates it only inside its TEE (and registers
 * with configfs-tsm then), whereas /sys/kernel/config/tsm/report exists whenever tsm is loaded.
 * Without it the VM is not the TEE it is named for (started without SNP/TDX, or a kernel without
 * the driver): end here, saying so, rather than start a runtime that can never attest. */
static void require_tee(const char *platform)
{
    int snp = strcmp(platform, "sev-snp") == 0;
    if (strcmp(platform, "kvm") == 0 || access(snp ? "/dev/sev-guest" : "/dev/tdx_guest", F_OK) == 0)
        return;
    fprintf(stderr, "strongbox-init: platform %s: no TEE report interface (%s): not %s guest, or "
            "its kernel lacks the driver; powering off\n", platform,
            snp ? "/dev/sev-guest" : "/dev/tdx_guest", snp ? "an SEV-SNP" : "a TDX");
    power_off();
}

/* 1 and the device path when the port named SB_PORT_NAME exists, else 0. */
static int find_port(char *dev, size_t len)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
        char path[300], name[32] = {0};
        if (e->d_name[0] == '.' || strlen(e->d_name) > 64)
            continue;
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, name, sizeof name - 1);
        if (fd >= 0)
            close(fd);
        if (n == (ssize_t)strlen(SB_PORT_NAME) + 1 && strncmp(name, SB_PORT_NAME "\n", (size_t)n) == 0) {
            snprintf(dev, len, "/dev/%s", e->d_name);
            found = 1;
        }
    }
    if (d)
        closedir(d);
    return found;
}

/* The port appears when virtio_console has probed it: poll for it for a bounded time. */
static int open_channel(void)
{
    char dev[96];
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int waited = 0; !find_port(dev, sizeof dev); waited += 10) {
        if (waited >= PORT_WAIT_MS) {
            errno = ENODEV;
            die("no virtio-serial port named " SB_PORT_NAME);
        }
        nanosleep(&tick, NULL);
    }
    int fd = open(dev, O_RDWR); /* inherited by the runtime: no close-on-exec */
    if (fd < 0 || dup2(fd, CHANNEL_FD) != CHANNEL_FD)
        die(dev);
    if (fd != CHANNEL_FD)
        close(fd);
    return CHANNEL_FD;
}

static void start_runtime(const char *platform)
{
    char *const argv[] = {(char *)"strongbox-runtime", (char *)"--channel-fd", (char *)"3",
                          (char *)"--platform", (char *)platform, NULL};
    char *const envp[] = {NULL};
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0)
        _exit(126);
    execve("/strongbox-runtime", argv, envp);
    _exit(127);
}

int main(int argc, char **argv)
{
    if (getpid() != 1)
        return fprintf(stderr, "strongbox-init: not PID 1: this is the guest image's init\n"), 2;
    const char *platform = argc == 2 ? argv[1] : "";
    if (strcmp(platform, "kvm") != 0 && strcmp(platform, "sev-snp") != 0 &&
        strcmp(platform, "tdx") != 0) {
        errno = EINVAL;
        die("the kernel command line must end with '-- kvm|sev-snp|tdx'");
    }
    if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") != 0)
        die("mount /dev");
    if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        die("mount /sys");
    load_modules();
    if (mount("configfs", "/sys/kernel/config", "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) != 0)
        die("mount /sys/kernel/config");
    open_channel();
    require_tee(platform);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0)
        start_runtime(platform);
    close(CHANNEL_FD); /* the runtime holds the only copy: its exit closes the channel */
    int st = 0;
    for (pid_t r; (r = wait(&st)) != pid;)
        if (r < 0 && errno != EINTR)
            die("wait");
    if (WIFEXITED(st))
        fprintf(stderr, "strongbox-init: runtime exited with status %d\n", WEXITSTATUS(st));
    else
        fprintf(stderr, "strongbox-init: runtime killed by signal %d\n", WTERMSIG(st));
    /* The VMM's exit status carries the runtime's: QEMU's isa-debug-exit device ends QEMU with
     * status (value << 1) | 1. value = 1 + (exit status, at most 62) or 1 + 63 + signal, so
     * that QEMU's own failure (status 1) is never read as the runtime's. Where the device is
     * absent, power-off still ends the VM. */
    int st_code = WEXITSTATUS(st) < 63 ? WEXITSTATUS(st) : 62;
    int value = 1 + (WIFEXITED(st) ? st_code : 63 + (WTERMSIG(st) & 63));
    sync();
    if (ioperm(DEBUG_EXIT_PORT, 1, 1) == 0)
        outb((unsigned char)value, DEBUG_EXIT_PORT);
    power_off();
}
