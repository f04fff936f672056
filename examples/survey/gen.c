/* Data generator for the survey example: gen SEED ROWS QUESTIONS > answers.csv
 * Groups north/south/east/west are common; "island" is rare, so suppression shows. */
#include "../common/exgen.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: gen SEED ROWS QUESTIONS\n");
        return 2;
    }
    ex_rng r;
    ex_seed(&r, strtoull(argv[1], NULL, 10));
    long rows = strtol(argv[2], NULL, 10), nq = strtol(argv[3], NULL, 10);
    static const char *regions[] = {"north", "south", "east", "west"};
    printf("group");
    for (long q = 1; q <= nq; q++)
        printf(",q%ld", q);
    printf("\n");
    for (long i = 0; i < rows; i++) {
        printf("%s", ex_below(&r, 50) == 0 ? "island" : regions[ex_below(&r, 4)]);
        for (long q = 0; q < nq; q++)
            printf(",%d", 1 + (int)ex_below(&r, 5));
        printf("\n");
    }
    return 0;
}
