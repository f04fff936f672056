/* Native reference for the sensor-fusion example (tests only): coarse-to-fine grid search over the
 * position, with the emission time solved in closed form at each point (t0 = mean(toa - d/c)), an
 * independent method from the program's Levenberg-Marquardt. Usage: reference INPUT_DIR */
#include "../common/exio.h"

#include <math.h>

static double xs[4096], ys[4096], ts[4096];
static int n;

static double cost_at(double x, double y, double *t0)
{
    double m = 0, s = 0;
    for (int i = 0; i < n; i++)
        m += (ts[i] - hypot(xs[i] - x, ys[i] - y) / 343.0) / n;
    for (int i = 0; i < n; i++) {
        double r = ts[i] - m - hypot(xs[i] - x, ys[i] - y) / 343.0;
        s += r * r;
    }
    *t0 = m;
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        ex_die("usage: reference INPUT_DIR");
    static char owners[EX_MAX_PARTIES][EX_NAME_MAX];
    int no = ex_list_parties(argv[1], owners);
    for (int o = 0; o < no; o++) {
        FILE *f = ex_open_input(argv[1], owners[o], "readings.csv");
        char line[EX_LINE_MAX];
        ex_read_line(f, line, "readings.csv");
        while (ex_read_line(f, line, "readings.csv") && n < 4096)
            if (sscanf(line, "%lf,%lf,%lf", &xs[n], &ys[n], &ts[n]) == 3)
                n++;
        fclose(f);
    }
    double bx = 0, by = 0, t0, best = INFINITY, step = 250;
    for (int level = 0; level < 60; level++, step /= 2) {
        double cx = bx, cy = by;
        int span = level == 0 ? 12 : 4; /* the first level covers +/- 3 km */
        for (int i = -span; i <= span; i++)
            for (int j = -span; j <= span; j++) {
                double t, c = cost_at(cx + i * step, cy + j * step, &t);
                if (c < best) {
                    best = c;
                    bx = cx + i * step;
                    by = cy + j * step;
                }
            }
    }
    cost_at(bx, by, &t0);
    printf("{\"sensors\": %d, \"x\": %.6f, \"y\": %.6f, \"t0\": %.9f, \"rms_residual_s\": %.3e}\n", n,
           bx, by, t0, sqrt(best / n));
    return 0;
}
