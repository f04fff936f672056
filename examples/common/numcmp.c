/* numcmp A B [REL_TOL] - compares two text files token by token: numbers must agree within a
 * relative tolerance (default 1e-6, absolute 1e-9 near zero), everything else exactly. The example
 * tests use it to compare the isolate's result with the native reference's. Exit 0 when equal. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "numcmp: cannot open %s\n", path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "numcmp: out of memory\n");
        exit(2);
    }
    buf[n] = '\0';
    return buf;
}

static int is_num_start(const char *p)
{
    return isdigit((unsigned char)*p) || ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1]));
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: numcmp A B [REL_TOL]\n");
        return 2;
    }
    double tol = argc > 3 ? atof(argv[3]) : 1e-6;
    char *a = slurp(argv[1]), *b = slurp(argv[2]), *p = a, *q = b;
    while (*p || *q) {
        while (isspace((unsigned char)*p))
            p++;
        while (isspace((unsigned char)*q))
            q++;
        if (is_num_start(p) && is_num_start(q)) {
            char *pe, *qe;
            double x = strtod(p, &pe), y = strtod(q, &qe);
            if (fabs(x - y) > tol * fmax(fabs(x), fabs(y)) && fabs(x - y) > 1e-9) {
                fprintf(stderr, "numcmp: %.12g != %.12g (offset %ld)\n", x, y, (long)(p - a));
                return 1;
            }
            p = pe;
            q = qe;
        } else if (*p != *q) {
            fprintf(stderr, "numcmp: differ at offset %ld: '%.20s' vs '%.20s'\n", (long)(p - a), p, q);
            return 1;
        } else if (*p) {
            p++;
            q++;
        }
    }
    free(a);
    free(b);
    return 0;
}
