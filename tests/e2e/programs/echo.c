/* echo - a second, harmless program: its hash differs from every other test program's. */
#include <stdio.h>

int main(void)
{
    puts("echo");
    return 0;
}
