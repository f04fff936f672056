/* Data generator for the set-intersection example:
 *   gen viewers SEED COUNT     > viewers.csv     (ids user<k> for k drawn from 0..3*COUNT)
 *   gen purchases SEED COUNT   > purchases.csv   (ids drawn from the same space, with spend) */
#include "../common/exgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "viewers") && strcmp(argv[1], "purchases"))) {
        fprintf(stderr, "usage: gen viewers|purchases SEED COUNT\n");
        return 2;
    }
    ex_rng r;
    ex_seed(&r, strtoull(argv[2], NULL, 10));
    long n = strtol(argv[3], NULL, 10);
    int viewers = strcmp(argv[1], "viewers") == 0;
    printf(viewers ? "user_id\n" : "user_id,spend_cents\n");
    for (long i = 0; i < n; i++) {
        unsigned long long k = ex_below(&r, (uint64_t)(3 * n));
        if (viewers)
            printf("user%llu\n", k);
        else
            printf("user%llu,%llu\n", k, 100 + (unsigned long long)ex_below(&r, 20000));
    }
    return 0;
}
