/* One behaviour per argument, for the trap / exit / output / limit tests. */
#include "common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "div") == 0) {
        volatile int zero = 0;
        return 10 / zero;
    }
    if (strcmp(what, "unreachable") == 0)
        __builtin_trap();
    if (strcmp(what, "loop") == 0)
        for (volatile unsigned i = 0;; i++)
            ;
    if (strcmp(what, "exit") == 0)
        exit(argc > 2 ? atoi(argv[2]) : 0);
    if (strcmp(what, "flood") == 0) {
        static char line[100];
        memset(line, 'x', sizeof line - 1);
        line[sizeof line - 1] = '\n';
        int lines = argc > 2 ? atoi(argv[2]) : 100;
        for (int i = 0; i < lines; i++)
            if (write(1, line, sizeof line) < 0) {
                fprintf(stderr, "write %d: %s\n", i, errname(errno));
                return 5;
            }
        return 0;
    }
    if (strcmp(what, "touch") == 0 && argc > 2) {
        int fd = open(argv[2], O_CREAT | O_WRONLY, 0644);
        printf("touch %s: %s\n", argv[2], fd < 0 ? errname(errno) : "OK");
        return fd < 0;
    }
    if (strcmp(what, "clock") == 0) { /* virtual time starts at 2000-01-01; real time is later */
        struct timespec t0, t1, nap = {2, 0};
        clock_gettime(CLOCK_REALTIME, &t0);
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_REALTIME, &t1);
        printf("%s clock, slept %lld s\n", t0.tv_sec == 946684800 ? "virtual" : "real",
               (long long)(t1.tv_sec - t0.tv_sec));
        return 0;
    }
    if (strcmp(what, "memory") == 0) {
        static char *volatile last; /* keeps the allocations observable to the optimiser */
        size_t got = 0;
        while ((last = malloc(1 << 20)) != NULL)
            got++, last[0] = 1;
        printf("allocated %zu MiB\n", got);
        return 0;
    }
    printf("usage: behave div|unreachable|loop|exit N|flood|touch PATH|clock|memory\n");
    return 2;
}
