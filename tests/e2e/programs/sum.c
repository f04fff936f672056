/* sum - the two-data-provider test computation. Reads one integer from each provider's input
 * (/inputs/alice/number, /inputs/bob/number) and tells each of them, in their own result file, the
 * total and their share of it: each result reader gets a different, checkable answer. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static long read_number(const char *path)
{
    FILE *f = fopen(path, "r");
    long v;
    if (!f || fscanf(f, "%ld", &v) != 1) {
        fprintf(stderr, "sum: cannot read a number from %s\n", path);
        exit(2);
    }
    fclose(f);
    return v;
}

static void tell(const char *path, const char *who, long mine, long total)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "sum: cannot write %s\n", path);
        exit(3);
    }
    fprintf(f, "total=%ld %s=%ld share=%ld%%\n", total, who, mine, total ? 100 * mine / total : 0);
    if (fclose(f) != 0)
        exit(3);
}

int main(void)
{
    long a = read_number("/inputs/alice/number"), b = read_number("/inputs/bob/number");
    mkdir("/results/alice", 0700); /* may exist from an earlier run */
    mkdir("/results/bob", 0700);
    tell("/results/alice/answer", "alice", a, a + b);
    tell("/results/bob/answer", "bob", b, a + b);
    printf("sum: wrote two answers\n");
    return 0;
}
