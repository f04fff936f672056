/* Sensor fusion (runs inside the isolate): locate an event from its arrival times.
 *
 * Each sensor owner writes /inputs/<owner>/readings.csv (header "x,y,toa"): for each of its sensors
 * the position in metres and the time of arrival in seconds of the same sound event (say a gunshot
 * or an explosion). Owners do not want to reveal where their sensors are or what they heard. The
 * program finds the source position (x, y) and emission time t0 that best explain all arrivals,
 * minimising sum_i (toa_i - t0 - |p_i - (x,y)| / c)^2 with c = 343 m/s by Gauss-Newton with
 * Levenberg-Marquardt damping, and writes only the estimate to /outputs/estimate.json.
 *
 * Usage: program.wasm [INPUT_DIR [OUTPUT_DIR]] */
#include "../common/exio.h"

#include <math.h>

#define MAX_SENSORS 4096
#define SPEED 343.0

static double sx[MAX_SENSORS], sy[MAX_SENSORS], toa[MAX_SENSORS];
static int n;

static void read_owner(const char *dir, const char *owner)
{
    FILE *f = ex_open_input(dir, owner, "readings.csv");
    char line[EX_LINE_MAX], extra;
    if (!ex_read_line(f, line, "readings.csv") || strcmp(line, "x,y,toa") != 0)
        ex_die("%s/readings.csv: first line must be the header x,y,toa", owner);
    for (int lineno = 1; ex_next_row(f, line, "readings.csv", &lineno);) {
        if (n == MAX_SENSORS)
            ex_die("more than %d sensors", MAX_SENSORS);
        if (sscanf(line, "%lf,%lf,%lf%c", &sx[n], &sy[n], &toa[n], &extra) != 3 ||
            !isfinite(sx[n]) || !isfinite(sy[n]) || !isfinite(toa[n]))
            ex_die("%s/readings.csv:%d: expected three finite numbers x,y,toa", owner, lineno);
        n++;
    }
    fclose(f);
}

static double cost(const double p[3])
{
    double s = 0;
    for (int i = 0; i < n; i++) {
        double r = toa[i] - p[2] - hypot(sx[i] - p[0], sy[i] - p[1]) / SPEED;
        s += r * r;
    }
    return s;
}

/* One Levenberg-Marquardt step: solves (J^T J + lambda diag) d = J^T r by Cramer's rule (3x3). */
static int lm_step(const double p[3], double lambda, double d[3])
{
    double a[3][3] = {{0}}, g[3] = {0};
    for (int i = 0; i < n; i++) {
        double dx = p[0] - sx[i], dy = p[1] - sy[i], dist = hypot(dx, dy);
        if (dist < 1e-9)
            dist = 1e-9;
        double r = toa[i] - p[2] - dist / SPEED;
        double j[3] = {dx / (dist * SPEED), dy / (dist * SPEED), 1.0}; /* -d r / d p */
        for (int u = 0; u < 3; u++) {
            g[u] += j[u] * r;
            for (int v = 0; v < 3; v++)
                a[u][v] += j[u] * j[v];
        }
    }
    for (int u = 0; u < 3; u++)
        a[u][u] *= 1 + lambda;
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    if (fabs(det) < 1e-300)
        return -1;
    for (int c = 0; c < 3; c++) {
        double m[3][3];
        memcpy(m, a, sizeof m);
        for (int r = 0; r < 3; r++)
            m[r][c] = g[r];
        d[c] = (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])) / det;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *in = argc > 1 ? argv[1] : "/inputs", *out = argc > 2 ? argv[2] : "/outputs";
    static char owners[EX_MAX_PARTIES][EX_NAME_MAX];
    int owners_n = ex_list_parties(in, owners);
    for (int i = 0; i < owners_n; i++)
        if (ex_has_input(in, owners[i], "readings.csv"))
            read_owner(in, owners[i]);
    if (n < 4)
        ex_die("need at least 4 sensors to fix a position and a time, got %d", n);

    double p[3] = {0, 0, 0}, first = toa[0];
    for (int i = 0; i < n; i++) {
        p[0] += sx[i] / n;
        p[1] += sy[i] / n;
        first = fmin(first, toa[i]);
    }
    p[2] = first;
    double lambda = 1e-3, c = cost(p);
    for (int iter = 0; iter < 500 && lambda < 1e12; iter++) {
        double d[3], q[3];
        if (lm_step(p, lambda, d) != 0)
            break;
        for (int k = 0; k < 3; k++)
            q[k] = p[k] + d[k];
        double cq = cost(q);
        if (cq < c) {
            int done = fabs(d[0]) < 1e-10 && fabs(d[1]) < 1e-10 && fabs(d[2]) < 1e-15;
            memcpy(p, q, sizeof p);
            c = cq;
            lambda = fmax(lambda / 10, 1e-12);
            if (done)
                break;
        } else {
            lambda *= 10;
        }
    }
    FILE *f = ex_open_output(out, "estimate.json");
    fprintf(f, "{\"sensors\": %d, \"x\": %.6f, \"y\": %.6f, \"t0\": %.9f, \"rms_residual_s\": %.3e}\n",
            n, p[0], p[1], p[2], sqrt(c / n));
    if (fclose(f) != 0)
        ex_die("cannot write estimate.json");
    return 0;
}
