/* Data generator for the graph example:
 *   gen edges SEED NODES EDGES    > edges.csv    (random edges between n0..n<NODES-1>)
 *   gen queries SEED NODES COUNT  > queries.csv  (random node pairs) */
#include "../common/exgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "edges") && strcmp(argv[1], "queries"))) {
        fprintf(stderr, "usage: gen edges|queries SEED NODES COUNT\n");
        return 2;
    }
    ex_rng r;
    ex_seed(&r, strtoull(argv[2], NULL, 10));
    uint64_t nodes = strtoull(argv[3], NULL, 10);
    long count = strtol(argv[4], NULL, 10);
    printf(strcmp(argv[1], "edges") == 0 ? "a,b\n" : "from,to\n");
    for (long i = 0; i < count; i++)
        printf("n%llu,n%llu\n", (unsigned long long)ex_below(&r, nodes),
               (unsigned long long)ex_below(&r, nodes));
    return 0;
}
