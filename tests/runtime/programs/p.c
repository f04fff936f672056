/* p.c - the test program the runtime tests run (wasm32-wasi). argv[1] picks what it does:
 *   (none)  sum the numbers in /inputs/alice/n.txt and /inputs/bob/n.txt into /results/sum.txt
 *   exit N  exit with code N          trap   hit `unreachable`      spin  loop forever
 *   grow    allocate until it fails   loud   print more than the policy allows
 *   escape  try to write where the program has no right
 *   clock   write /results/t.txt and print its mtime and the program's time(NULL) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static long read_number(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = 0;
    if (!f || fscanf(f, "%ld", &v) != 1) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "sum";
    if (strcmp(mode, "exit") == 0)
        return argc > 2 ? atoi(argv[2]) : 0;
    if (strcmp(mode, "trap") == 0)
        __builtin_trap();
    if (strcmp(mode, "spin") == 0)
        for (volatile unsigned i = 0;; i++)
            ;
    if (strcmp(mode, "grow") == 0) {
        for (int i = 0; i < 1 << 20; i++) {
            char *volatile block = malloc(1 << 20); /* volatile: the allocation must happen */
            if (!block) {
                printf("allocation %d failed\n", i);
                return 4;
            }
            block[0] = 1;
        }
        return 0;
    }
    if (strcmp(mode, "loud") == 0) {
        for (int i = 0; i < 100000; i++)
            printf("line %d of far too much output\n", i);
        return 0;
    }
    if (strcmp(mode, "escape") == 0) {
        FILE *f = fopen("/inputs/alice/evil", "w");
        printf("%s\n", f ? "wrote" : strerror(errno));
        return f ? 1 : 5;
    }
    if (strcmp(mode, "clock") == 0) {
        FILE *f = fopen("/results/t.txt", "w");
        struct stat st;
        if (!f || fputs("t\n", f) < 0 || fclose(f) != 0 || stat("/results/t.txt", &st) != 0)
            return 6;
        printf("mtime=%lld now=%lld\n", (long long)st.st_mtime, (long long)time(NULL));
        return 0;
    }
    long sum = read_number("/inputs/alice/n.txt") + read_number("/inputs/bob/n.txt");
    FILE *out = fopen("/results/sum.txt", "w");
    if (!out || fprintf(out, "%ld\n", sum) < 0 || fclose(out) != 0) {
        fprintf(stderr, "cannot write /results/sum.txt\n");
        return 3;
    }
    printf("sum=%ld\n", sum);
    fprintf(stderr, "done\n");
    return 0;
}
