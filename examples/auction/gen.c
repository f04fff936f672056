/* Data generator for the auction example: gen SEED > bid.txt (a bid between $100.00 and $10,000.00). */
#include "../common/exgen.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen SEED\n");
        return 2;
    }
    ex_rng r;
    ex_seed(&r, strtoull(argv[1], NULL, 10));
    printf("%llu\n", 10000 + (unsigned long long)ex_below(&r, 990001));
    return 0;
}
