/* Native reference for the survey example (tests only): keeps every row, sorts the rows by group
 * and aggregates runs, an independent method from the program's streaming tallies.
 * Usage: reference MIN_GROUP INPUT_DIR */
#include "../common/exio.h"

typedef struct { char group[32]; int a[32]; } row;

static int by_group(const void *x, const void *y) { return strcmp(((const row *)x)->group, ((const row *)y)->group); }

int main(int argc, char **argv)
{
    if (argc != 3)
        ex_die("usage: reference MIN_GROUP INPUT_DIR");
    unsigned long min_group = strtoul(argv[1], NULL, 10);
    static char parties[EX_MAX_PARTIES][EX_NAME_MAX];
    int np = ex_list_parties(argv[2], parties), nq = 0;
    row *rows = NULL;
    size_t n = 0, cap = 0;
    for (int p = 0; p < np; p++) {
        FILE *f = ex_open_input(argv[2], parties[p], "answers.csv");
        char line[EX_LINE_MAX];
        ex_read_line(f, line, "answers.csv");
        nq = 0;
        for (char *c = line; *c; c++)
            nq += *c == ',';
        while (ex_read_line(f, line, "answers.csv")) {
            if (n == cap && !(rows = realloc(rows, (cap = cap ? 2 * cap : 256) * sizeof *rows)))
                ex_die("out of memory");
            char *tok = strtok(line, ",");
            snprintf(rows[n].group, sizeof rows[n].group, "%s", tok);
            for (int q = 0; q < nq; q++)
                rows[n].a[q] = atoi(strtok(NULL, ","));
            n++;
        }
        fclose(f);
    }
    printf("{\n  \"respondents\": %zu,\n  \"min_group\": %lu,\n  \"questions\": [\n", n, min_group);
    for (int q = 0; q < nq; q++) {
        unsigned long c[5] = {0}, sum = 0;
        for (size_t i = 0; i < n; i++) {
            c[rows[i].a[q] - 1]++;
            sum += (unsigned long)rows[i].a[q];
        }
        printf("    {\"mean\": %.6f, \"answers\": [%lu, %lu, %lu, %lu, %lu]}%s\n",
               (double)sum / (double)n, c[0], c[1], c[2], c[3], c[4], q + 1 < nq ? "," : "");
    }
    printf("  ],\n  \"groups\": [\n");
    qsort(rows, n, sizeof *rows, by_group);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(rows[j].group, rows[i].group) == 0)
            j++;
        if (j - i < min_group) {
            printf("    {\"group\": \"%s\", \"suppressed\": true}", rows[i].group);
        } else {
            printf("    {\"group\": \"%s\", \"respondents\": %zu, \"means\": [", rows[i].group, j - i);
            for (int q = 0; q < nq; q++) {
                double s = 0;
                for (size_t k = i; k < j; k++)
                    s += rows[k].a[q];
                printf("%.6f%s", s / (double)(j - i), q + 1 < nq ? ", " : "");
            }
            printf("]}");
        }
        printf("%s\n", j < n ? "," : "");
        i = j;
    }
    printf("  ]\n}\n");
    free(rows);
    return 0;
}
