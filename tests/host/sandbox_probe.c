/* sandbox_probe - launched by test_platform in place of the runtime: reports, over the channel
 * (fd 3), what the sandbox lets it see and do, one "key=value" line each, then waits for the host
 * to close the channel (or exits at once when started with "crash" on the channel). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int can_reach_loopback(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(s, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(s);
    /* ECONNREFUSED means the packet reached a live stack: network present. */
    return rc == 0 || e == ECONNREFUSED;
}

static int open_fds_beyond_channel(void)
{
    int n = 0;
    for (int fd = 4; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

int main(void)
{
    struct rlimit as, nofile, core, nproc;
    getrlimit(RLIMIT_AS, &as);
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_CORE, &core);
    getrlimit(RLIMIT_NPROC, &nproc);
    struct stat st;
    char out[1024];
    int n = snprintf(out, sizeof out,
                     "nnp=%d\nuid=%d\npid=%d\nnet=%d\netc=%d\nwork=%d\nusr=%d\nfds=%d\n"
                     "as=%llu\nnofile=%llu\ncore=%llu\nnproc=%llu\nrootwrite=%d\nend\n",
                     prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), (int)getuid(), (int)getpid(),
                     can_reach_loopback(), stat("/etc/passwd", &st) == 0,
                     stat("/work", &st) == 0, stat("/usr/lib", &st) == 0,
                     open_fds_beyond_channel(), (unsigned long long)as.rlim_cur,
                     (unsigned long long)nofile.rlim_cur, (unsigned long long)core.rlim_cur,
                     (unsigned long long)nproc.rlim_cur, mkdir("/x", 0700) == 0);
    if (write(3, out, (size_t)n) != n)
        return 1;
    char buf[16];
    ssize_t r = read(3, buf, sizeof buf);
    if (r > 0 && memcmp(buf, "crash", 5) == 0)
        *(volatile int *)0 = 1;
    return 0;
}
