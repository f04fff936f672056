/* Native reference for the joint-training example, used only by the tests: an independent
 * implementation (Householder QR for least squares, Cholesky-based Newton steps for the logistic
 * model) whose output must match the isolate's model.json within numeric tolerance.
 * Usage: reference INPUT_DIR > model.json */
#include "../common/exio.h"

#include <math.h>

#define P 4

static double (*X)[P];
static double *Y;
static int *L;
static size_t n, cap;

static void load(const char *dir, const char *party)
{
    FILE *f = ex_open_input(dir, party, "rows.csv");
    char line[EX_LINE_MAX];
    ex_read_line(f, line, "rows.csv"); /* header */
    while (ex_read_line(f, line, "rows.csv")) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            X = realloc(X, cap * sizeof *X);
            Y = realloc(Y, cap * sizeof *Y);
            L = realloc(L, cap * sizeof *L);
            if (!X || !Y || !L)
                ex_die("out of memory");
        }
        X[n][0] = 1;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%d", &X[n][1], &X[n][2], &X[n][3], &Y[n], &L[n]) != 5)
            ex_die("bad row");
        n++;
    }
    fclose(f);
}

/* Least squares by Householder QR on a copy of X (n x P). */
static void qr_least_squares(double beta[P])
{
    double (*a)[P] = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    if (!a || !b)
        ex_die("out of memory");
    memcpy(a, X, n * sizeof *a);
    memcpy(b, Y, n * sizeof *b);
    for (int k = 0; k < P; k++) {
        double norm = 0;
        for (size_t i = k; i < n; i++)
            norm += a[i][k] * a[i][k];
        norm = sqrt(norm);
        double alpha = a[k][k] > 0 ? -norm : norm;
        double v0 = a[k][k] - alpha, vnorm2 = v0 * v0;
        for (size_t i = k + 1; i < n; i++)
            vnorm2 += a[i][k] * a[i][k];
        /* Reflect the remaining columns and b by I - 2 v v^T / (v^T v), v = (v0, a[k+1..][k]). */
        for (int j = k + 1; j < P; j++) {
            double dot = v0 * a[k][j];
            for (size_t i = k + 1; i < n; i++)
                dot += a[i][k] * a[i][j];
            double f = 2 * dot / vnorm2;
            a[k][j] -= f * v0;
            for (size_t i = k + 1; i < n; i++)
                a[i][j] -= f * a[i][k];
        }
        double dot = v0 * b[k];
        for (size_t i = k + 1; i < n; i++)
            dot += a[i][k] * b[i];
        double f = 2 * dot / vnorm2;
        b[k] -= f * v0;
        for (size_t i = k + 1; i < n; i++)
            b[i] -= f * a[i][k];
        a[k][k] = alpha;
    }
    for (int k = P - 1; k >= 0; k--) {
        double s = b[k];
        for (int j = k + 1; j < P; j++)
            s -= a[k][j] * beta[j];
        beta[k] = s / a[k][k];
    }
    free(a);
    free(b);
}

/* Solves the symmetric positive definite system h s = g by Cholesky. */
static void cholesky_solve(double h[P][P], const double g[P], double s[P])
{
    double l[P][P] = {{0}}, z[P];
    for (int i = 0; i < P; i++)
        for (int j = 0; j <= i; j++) {
            double sum = h[i][j];
            for (int k = 0; k < j; k++)
                sum -= l[i][k] * l[j][k];
            l[i][j] = i == j ? sqrt(sum) : sum / l[j][j];
        }
    for (int i = 0; i < P; i++) {
        double sum = g[i];
        for (int k = 0; k < i; k++)
            sum -= l[i][k] * z[k];
        z[i] = sum / l[i][i];
    }
    for (int i = P - 1; i >= 0; i--) {
        double sum = z[i];
        for (int k = i + 1; k < P; k++)
            sum -= l[k][i] * s[k];
        s[i] = sum / l[i][i];
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        ex_die("usage: reference INPUT_DIR");
    static char parties[EX_MAX_PARTIES][EX_NAME_MAX];
    int np = ex_list_parties(argv[1], parties);
    for (int i = 0; i < np; i++)
        load(argv[1], parties[i]);

    double lin[P];
    qr_least_squares(lin);
    double mean = 0, ss_res = 0, ss_tot = 0;
    for (size_t i = 0; i < n; i++)
        mean += Y[i] / (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = Y[i] - (lin[0] + lin[1] * X[i][1] + lin[2] * X[i][2] + lin[3] * X[i][3]);
        ss_res += e * e;
        ss_tot += (Y[i] - mean) * (Y[i] - mean);
    }

    double w[P] = {0};
    for (int iter = 0; iter < 200; iter++) {
        double h[P][P] = {{0}}, g[P] = {0}, s[P], change = 0;
        for (size_t i = 0; i < n; i++) {
            double z = w[0] + w[1] * X[i][1] + w[2] * X[i][2] + w[3] * X[i][3];
            double p = 1 / (1 + exp(-z));
            for (int a = 0; a < P; a++) {
                g[a] += (p - L[i]) * X[i][a];
                for (int b = 0; b < P; b++)
                    h[a][b] += p * (1 - p) * X[i][a] * X[i][b];
            }
        }
        cholesky_solve(h, g, s);
        for (int a = 0; a < P; a++) {
            w[a] -= s[a];
            change = fmax(change, fabs(s[a]));
        }
        if (change < 1e-13)
            break;
    }
    size_t right = 0;
    for (size_t i = 0; i < n; i++)
        right += ((w[0] + w[1] * X[i][1] + w[2] * X[i][2] + w[3] * X[i][3]) >= 0) == (L[i] == 1);

    printf("{\n  \"rows\": %zu,\n  \"parties\": %d,\n", n, np);
    printf("  \"linear\": {\"intercept\": %.12g, \"coefficients\": [%.12g, %.12g, %.12g], "
           "\"r_squared\": %.12g},\n", lin[0], lin[1], lin[2], lin[3], 1 - ss_res / ss_tot);
    printf("  \"logistic\": {\"intercept\": %.12g, \"coefficients\": [%.12g, %.12g, %.12g], "
           "\"training_accuracy\": %.12g}\n}\n", w[0], w[1], w[2], w[3], (double)right / (double)n);
    return 0;
}
