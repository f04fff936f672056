/* v8_run.h - runs bench/common/v8_bench.js under node (the reference JIT of bench-engine and
 * bench-simd-kernels) and hands each "NAME CHECKSUM MS" line it prints to a callback. */
#ifndef SB_BENCH_V8_RUN_H
#define SB_BENCH_V8_RUN_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef void v8_line_fn(void *ctx, const char *name, unsigned long long checksum, double ms);

/* Runs `cmd` (node, the script and its arguments, already quoted). Returns 0, or -1 after saying
 * on stderr why (prefixed by `tool`; `what` names the measurement in the message). */
static inline int v8_run(const char *tool, const char *what, const char *cmd, v8_line_fn *fn,
                         void *ctx)
{
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "%s: cannot run node: %s\n", tool, strerror(errno));
        return -1;
    }
    char line[512], name[64];
    unsigned long long sum;
    double ms;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "%63s %llu %lf", name, &sum, &ms) == 3)
            fn(ctx, name, sum, ms);
    if (pclose(p) != 0) {
        fprintf(stderr, "%s: node failed on %s (no V8 number)\n", tool, what);
        return -1;
    }
    return 0;
}

#endif
