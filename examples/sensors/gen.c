/* Data generator for the sensor-fusion example: gen SEED SENSORS > readings.csv
 * Sensors stand within 2 km of the origin; the event happens at (120, -45) m at t0 = 10 s; arrival
 * times carry 50 microseconds of timing noise. */
#include "../common/exgen.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen SEED SENSORS\n");
        return 2;
    }
    ex_rng r;
    ex_seed(&r, strtoull(argv[1], NULL, 10));
    long n = strtol(argv[2], NULL, 10);
    printf("x,y,toa\n");
    for (long i = 0; i < n; i++) {
        double x = 4000 * ex_uniform(&r) - 2000, y = 4000 * ex_uniform(&r) - 2000;
        double toa = 10.0 + hypot(x - 120.0, y + 45.0) / 343.0 + 50e-6 * ex_normal(&r);
        printf("%.3f,%.3f,%.9f\n", x, y, toa);
    }
    return 0;
}
