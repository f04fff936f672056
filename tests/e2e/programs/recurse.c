/* recurse - unbounded recursion that no compiler can turn into a loop (a volatile frame is read
 * after each call): the engine's call-depth or stack limit must trap it. */
#include <stdio.h>

/* The recursion is the point of this program. */
#pragma clang diagnostic ignored "-Winfinite-recursion"

static int down(int n)
{
    volatile char frame[64];
    frame[n & 63] = (char)n;
    int r = down(n + 1);
    return r + frame[n & 63];
}

int main(void)
{
    printf("%d\n", down(1));
    return 0;
}
