/* Joint model training (runs inside the isolate).
 *
 * Every data provider writes labelled rows to /inputs/<party>/rows.csv:
 *     x1,x2,x3,y,label          (header line, then one row per record)
 * The program fits, over the union of all parties' rows,
 *   - a linear regression y ~ x (ordinary least squares, by the normal equations), and
 *   - a logistic regression label ~ x (Newton-Raphson / IRLS),
 * and writes only the models to /outputs/model.json. No row ever leaves the isolate.
 *
 * Usage: program.wasm [INPUT_DIR [OUTPUT_DIR]]   (defaults /inputs and /outputs) */
#include "../common/exio.h"

#include <math.h>

#define K 3             /* features */
#define P (K + 1)       /* parameters: intercept + features */
#define MAX_ROWS 4000000

typedef struct { double x[P]; double y; int label; } row;

static row *rows;
static size_t nrows, cap;

static void add_row(const row *r)
{
    if (nrows == MAX_ROWS)
        ex_die("more than %d rows", MAX_ROWS);
    if (nrows == cap) {
        cap = cap ? cap * 2 : 1024;
        rows = realloc(rows, cap * sizeof *rows);
        if (!rows)
            ex_die("out of memory at %zu rows", nrows);
    }
    rows[nrows++] = *r;
}

static void read_party(const char *dir, const char *party)
{
    FILE *f = ex_open_input(dir, party, "rows.csv");
    char line[EX_LINE_MAX], what[128];
    snprintf(what, sizeof what, "%s/rows.csv", party);
    if (!ex_read_line(f, line, what) || strcmp(line, "x1,x2,x3,y,label") != 0)
        ex_die("%s: first line must be the header x1,x2,x3,y,label", what);
    for (int lineno = 1; ex_next_row(f, line, what, &lineno);) {
        row r = {.x = {1.0}};
        char extra;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%d%c", &r.x[1], &r.x[2], &r.x[3], &r.y, &r.label,
                   &extra) != 5 || (r.label != 0 && r.label != 1) || !isfinite(r.x[1]) ||
            !isfinite(r.x[2]) || !isfinite(r.x[3]) || !isfinite(r.y))
            ex_die("%s:%d: expected four finite numbers and a 0/1 label", what, lineno);
        add_row(&r);
    }
    fclose(f);
}

/* Solves A b = v (P x P) by Gaussian elimination with partial pivoting. */
static int solve(double a[P][P], double v[P], double out[P])
{
    for (int c = 0; c < P; c++) {
        int piv = c;
        for (int r = c + 1; r < P; r++)
            if (fabs(a[r][c]) > fabs(a[piv][c]))
                piv = r;
        if (fabs(a[piv][c]) < 1e-12)
            return -1;
        for (int k = 0; k < P; k++) {
            double t = a[c][k]; a[c][k] = a[piv][k]; a[piv][k] = t;
        }
        double t = v[c]; v[c] = v[piv]; v[piv] = t;
        for (int r = c + 1; r < P; r++) {
            double f = a[r][c] / a[c][c];
            for (int k = c; k < P; k++)
                a[r][k] -= f * a[c][k];
            v[r] -= f * v[c];
        }
    }
    for (int r = P - 1; r >= 0; r--) {
        double s = v[r];
        for (int k = r + 1; k < P; k++)
            s -= a[r][k] * out[k];
        out[r] = s / a[r][r];
    }
    return 0;
}

static void fit_linear(double beta[P], double *r2)
{
    double xtx[P][P] = {{0}}, xty[P] = {0}, ymean = 0;
    for (size_t i = 0; i < nrows; i++) {
        for (int a = 0; a < P; a++) {
            for (int b = 0; b < P; b++)
                xtx[a][b] += rows[i].x[a] * rows[i].x[b];
            xty[a] += rows[i].x[a] * rows[i].y;
        }
        ymean += rows[i].y;
    }
    if (solve(xtx, xty, beta) != 0)
        ex_die("linear regression: the features are collinear");
    ymean /= (double)nrows;
    double ss_res = 0, ss_tot = 0;
    for (size_t i = 0; i < nrows; i++) {
        double pred = 0;
        for (int a = 0; a < P; a++)
            pred += beta[a] * rows[i].x[a];
        ss_res += (rows[i].y - pred) * (rows[i].y - pred);
        ss_tot += (rows[i].y - ymean) * (rows[i].y - ymean);
    }
    *r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
}

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

static void fit_logistic(double beta[P], double *accuracy)
{
    memset(beta, 0, P * sizeof *beta);
    for (int iter = 0; iter < 100; iter++) {
        double h[P][P] = {{0}}, g[P] = {0}, step[P];
        for (size_t i = 0; i < nrows; i++) {
            double z = 0;
            for (int a = 0; a < P; a++)
                z += beta[a] * rows[i].x[a];
            double p = sigmoid(z), w = p * (1 - p);
            for (int a = 0; a < P; a++) {
                g[a] += (p - rows[i].label) * rows[i].x[a];
                for (int b = 0; b < P; b++)
                    h[a][b] += w * rows[i].x[a] * rows[i].x[b];
            }
        }
        if (solve(h, g, step) != 0)
            ex_die("logistic regression: the data is separable or degenerate");
        double biggest = 0;
        for (int a = 0; a < P; a++) {
            beta[a] -= step[a];
            biggest = fmax(biggest, fabs(step[a]));
        }
        if (biggest < 1e-12)
            break;
    }
    size_t right = 0;
    for (size_t i = 0; i < nrows; i++) {
        double z = 0;
        for (int a = 0; a < P; a++)
            z += beta[a] * rows[i].x[a];
        right += (z >= 0) == (rows[i].label == 1);
    }
    *accuracy = (double)right / (double)nrows;
}

int main(int argc, char **argv)
{
    const char *in = argc > 1 ? argv[1] : "/inputs", *out = argc > 2 ? argv[2] : "/outputs";
    static char parties[EX_MAX_PARTIES][EX_NAME_MAX];
    int listed = ex_list_parties(in, parties), n = 0;
    for (int i = 0; i < listed; i++)
        if (ex_has_input(in, parties[i], "rows.csv")) {
            read_party(in, parties[i]);
            n++;
        }
    if (nrows < 2 * P)
        ex_die("need at least %d rows in all, got %zu", 2 * P, nrows);
    double lin[P], logit[P], r2, acc;
    fit_linear(lin, &r2);
    fit_logistic(logit, &acc);

    FILE *f = ex_open_output(out, "model.json");
    fprintf(f, "{\n  \"rows\": %zu,\n  \"parties\": %d,\n", nrows, n);
    fprintf(f, "  \"linear\": {\"intercept\": %.12g, \"coefficients\": [%.12g, %.12g, %.12g], "
               "\"r_squared\": %.12g},\n", lin[0], lin[1], lin[2], lin[3], r2);
    fprintf(f, "  \"logistic\": {\"intercept\": %.12g, \"coefficients\": [%.12g, %.12g, %.12g], "
               "\"training_accuracy\": %.12g}\n}\n", logit[0], logit[1], logit[2], logit[3], acc);
    if (fclose(f) != 0)
        ex_die("cannot write model.json");
    printf("trained on %zu rows from %d parties\n", nrows, n);
    free(rows);
    return 0;
}
