/* membomb - allocates and touches memory until it fails: the policy's memory limit must stop it
 * (growth refused), and the program then traps rather than limp on. Every allocation is kept
 * reachable and touched through volatile stores, so the compiler cannot elide it. */
#include <stdio.h>
#include <stdlib.h>

static char *volatile last;

int main(void)
{
    for (unsigned long mib = 0;; mib++) {
        char *p = malloc(1 << 20);
        if (!p) {
            fprintf(stderr, "membomb: allocation refused after %lu MiB\n", mib);
            __builtin_trap();
        }
        for (size_t i = 0; i < (1u << 20); i += 4096)
            ((volatile char *)p)[i] = 1;
        last = p;
    }
}
