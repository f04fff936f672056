/* memscan - counts occurrences of a string in a process's memory: every readable mapping of
 * /proc/PID/maps, read through /proc/PID/mem.
 *
 *   memscan PID STRING       prints "HITS SKIPPED": hits (0 = the process never holds it) and the
 *                            number of mappings skipped for being over 64 GiB (reservations such
 *                            as AddressSanitizer's shadow: terabytes that are never touched)
 *   memscan --self STRING    positive control: puts STRING on its own heap, then scans itself */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MAPPING (64ul << 30)

static long scan(int pid, const char *needle, long *skipped)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *maps = fopen(path, "r");
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    FILE *mem = fopen(path, "rb");
    if (!maps || !mem) {
        fprintf(stderr, "memscan: cannot open /proc/%d (maps/mem)\n", pid);
        exit(2);
    }
    size_t nlen = strlen(needle), chunk = 1 << 20;
    char *buf = malloc(chunk + nlen);
    long hits = 0;
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            strstr(line, "[vvar]") || strstr(line, "[vsyscall]"))
            continue;
        if (hi - lo > MAX_MAPPING) {
            (*skipped)++;
            continue;
        }
        size_t carry = 0;
        for (unsigned long at = lo; at < hi; at += chunk) {
            size_t want = hi - at < chunk ? hi - at : chunk;
            if (fseek(mem, (long)at, SEEK_SET) != 0)
                break;
            size_t got = fread(buf + carry, 1, want, mem);
            if (got == 0)
                break;
            size_t total = carry + got;
            for (char *p = buf; (p = memmem(p, (size_t)(buf + total - p), needle, nlen)); p++)
                hits++;
            /* keep the tail so a hit across a chunk boundary is seen (and counted once) */
            carry = total < nlen - 1 ? total : nlen - 1;
            memmove(buf, buf + total - carry, carry);
        }
    }
    free(buf);
    fclose(maps);
    fclose(mem);
    return hits;
}

int main(int argc, char **argv)
{
    if (argc != 3 || !argv[2][0])
        return 2;
    if (strcmp(argv[1], "--self") == 0) {
        char *copy = strdup(argv[2]);
        long skipped = 0, hits = scan(getpid(), argv[2], &skipped);
        printf("%ld %ld\n", hits, skipped);
        free(copy);
        return 0;
    }
    long skipped = 0, hits = scan(atoi(argv[1]), argv[2], &skipped);
    printf("%ld %ld\n", hits, skipped);
    return 0;
}
