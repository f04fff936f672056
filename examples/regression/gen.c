/* Data generator for the joint-training example: gen SEED ROWS > rows.csv
 * Rows follow y = 1.5 + 2 x1 - 3 x2 + 0.5 x3 + noise, and label ~ Bernoulli(sigmoid(0.3 + x1 - 2 x2 + x3)),
 * so the fitted models have a known truth to land near. */
#include "../common/exgen.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen SEED ROWS\n");
        return 2;
    }
    ex_rng r;
    ex_seed(&r, strtoull(argv[1], NULL, 10));
    long n = strtol(argv[2], NULL, 10);
    printf("x1,x2,x3,y,label\n");
    for (long i = 0; i < n; i++) {
        double x1 = ex_normal(&r), x2 = ex_normal(&r), x3 = 2 * ex_uniform(&r) - 1;
        double y = 1.5 + 2 * x1 - 3 * x2 + 0.5 * x3 + 0.3 * ex_normal(&r);
        double p = 1.0 / (1.0 + exp(-(0.3 + x1 - 2 * x2 + x3)));
        printf("%.6f,%.6f,%.6f,%.6f,%d\n", x1, x2, x3, y, ex_uniform(&r) < p);
    }
    return 0;
}
