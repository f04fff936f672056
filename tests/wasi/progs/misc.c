/* Arguments, environment, clocks, sleeping, randomness, stdio and the exit status. Covers
 * args_get, args_sizes_get, environ_get, environ_sizes_get, clock_time_get, clock_res_get,
 * poll_oneoff (a sleep), random_get, sched_yield, fd_write/fd_read on stdio, proc_exit. */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    base_dir = argv[1];
    printf("argc=%d\n", argc);
    for (int i = 2; i < argc; i++)
        printf("arg: %s\n", argv[i]);
    for (char **e = environ; *e; e++)
        printf("env: %s\n", *e);
    printf("FOO=%s\n", getenv("FOO") ? getenv("FOO") : "(unset)");
    struct timespec a, b, r;
    T(clock_gettime(CLOCK_MONOTONIC, &a));
    T(clock_getres(CLOCK_REALTIME, &r));
    struct timespec nap = {0, 20 * 1000 * 1000};
    T(nanosleep(&nap, NULL));
    T(clock_gettime(CLOCK_MONOTONIC, &b));
    long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    printf("slept at least 20ms: %d\n", ns >= 20000000);
    T(clock_gettime(CLOCK_REALTIME, &a));
    printf("realtime after 1999: %d\n", a.tv_sec > 915148800);
    unsigned char rnd[64] = {0};
    T(getentropy(rnd, sizeof rnd));
    int nonzero = 0;
    for (size_t i = 0; i < sizeof rnd; i++)
        nonzero += rnd[i] != 0;
    printf("random bytes mostly nonzero: %d\n", nonzero > 40);
    T(sched_yield());
    /* poll: a regular file is always ready for reading and writing */
    int fd = open(P("polled"), O_CREAT | O_RDWR, 0644);
    T(write(fd, "abc", 3));
    struct pollfd pf[2] = {{fd, POLLIN, 0}, {fd, POLLOUT, 0}};
    T(poll(pf, 2, 1000));
    printf("  revents: in=%d out=%d\n", (pf[0].revents & POLLIN) != 0, (pf[1].revents & POLLOUT) != 0);
    T(close(fd));
    T(poll(NULL, 0, 30)); /* a plain sleep */
    char c;
    T(read(0, &c, 1));
    fflush(stdout); /* the two libcs buffer a redirected stdout differently */
    T(write(1, "raw write\n", 10));
    fprintf(stderr, "to stderr\n");
    fflush(stdout);
    if (argc > 2 && strcmp(argv[2], "big") == 0)
        for (int i = 0; i < 20000; i++)
            printf("line %d of a large output to check that nothing is lost or reordered\n", i);
    exit(argc > 3 ? atoi(argv[3]) : 0);
}
