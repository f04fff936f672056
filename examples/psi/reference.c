/* Native reference for the set-intersection example (tests only): sorts both lists and merges,
 * an independent method from the program's hash table. Usage: reference INPUT_DIR */
#include "../common/exio.h"

#include <stdint.h>
#include <sys/stat.h>

typedef struct { char id[64]; unsigned long long cents; } rec;

static int by_id(const void *a, const void *b) { return strcmp(((const rec *)a)->id, ((const rec *)b)->id); }

static rec *load(const char *dir, const char *party, const char *file, size_t *n, rec *v, size_t *cap)
{
    char path[600], line[EX_LINE_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/%s", dir, party, file);
    if (stat(path, &st) != 0)
        return v;
    FILE *f = ex_open_input(dir, party, file);
    ex_read_line(f, line, file);
    while (ex_read_line(f, line, file)) {
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 1024;
            if (!(v = realloc(v, *cap * sizeof *v)))
                ex_die("out of memory");
        }
        char *comma = strchr(line, ',');
        v[*n].cents = comma ? strtoull(comma + 1, NULL, 10) : 0;
        if (comma)
            *comma = '\0';
        snprintf(v[*n].id, sizeof v[*n].id, "%s", line);
        (*n)++;
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        ex_die("usage: reference INPUT_DIR");
    static char parties[EX_MAX_PARTIES][EX_NAME_MAX];
    int np = ex_list_parties(argv[1], parties);
    rec *v = NULL, *p = NULL;
    size_t nv = 0, cv = 0, npur = 0, cp = 0;
    for (int i = 0; i < np; i++) {
        v = load(argv[1], parties[i], "viewers.csv", &nv, v, &cv);
        p = load(argv[1], parties[i], "purchases.csv", &npur, p, &cp);
    }
    qsort(v, nv, sizeof *v, by_id);
    qsort(p, npur, sizeof *p, by_id);
    unsigned long long users = 0, spend = 0;
    size_t i = 0;
    for (size_t j = 0; j < npur;) {
        size_t k = j;
        while (k < npur && strcmp(p[k].id, p[j].id) == 0)
            k++;
        while (i < nv && strcmp(v[i].id, p[j].id) < 0)
            i++;
        if (i < nv && strcmp(v[i].id, p[j].id) == 0) {
            users++;
            for (size_t m = j; m < k; m++)
                spend += p[m].cents;
        }
        j = k;
    }
    printf("{\"overlap_users\": %llu, \"total_spend_cents\": %llu}\n", users, spend);
    free(v);
    free(p);
    return 0;
}
