/* Native reference for the graph example (tests only): numbers nodes by sorting their names,
 * labels components by iterative depth-first search, and answers each query with its own
 * breadth-first search over adjacency lists: independent of the program's hash table and
 * union-find. Usage: reference INPUT_DIR */
#include "../common/exio.h"

#include <sys/stat.h>

typedef struct { char a[48], b[48]; } pair;

static pair *load(const char *dir, const char *party, const char *file, size_t *n)
{
    char path[600], line[EX_LINE_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/%s", dir, party, file);
    if (stat(path, &st) != 0)
        return NULL;
    FILE *f = ex_open_input(dir, party, file);
    pair *v = NULL;
    size_t cap = 0;
    ex_read_line(f, line, file);
    while (ex_read_line(f, line, file)) {
        if (*n == cap && !(v = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof *v)))
            ex_die("out of memory");
        char *comma = strchr(line, ',');
        *comma = '\0';
        snprintf(v[*n].a, 48, "%s", line);
        snprintf(v[*n].b, 48, "%s", comma + 1);
        (*n)++;
    }
    fclose(f);
    return v;
}

static char (*names)[48];
static size_t nn;
static int by_name(const void *x, const void *y) { return strcmp(x, y); }
static long id_of(const char *s)
{
    char (*hit)[48] = bsearch(s, names, nn, 48, by_name);
    return hit ? hit - names : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        ex_die("usage: reference INPUT_DIR");
    static char parties[EX_MAX_PARTIES][EX_NAME_MAX];
    int np = ex_list_parties(argv[1], parties);
    pair *all = NULL;
    size_t ne = 0;
    for (int p = 0; p < np; p++) {
        size_t k = 0;
        pair *e = load(argv[1], parties[p], "edges.csv", &k);
        if (!(all = realloc(all, (ne + k + 1) * sizeof *all)))
            ex_die("out of memory");
        if (k)
            memcpy(all + ne, e, k * sizeof *e);
        ne += k;
        free(e);
    }
    names = malloc((2 * ne + 1) * sizeof *names);
    for (size_t i = 0; i < ne; i++) {
        strcpy(names[2 * i], all[i].a);
        strcpy(names[2 * i + 1], all[i].b);
    }
    qsort(names, 2 * ne, 48, by_name);
    for (size_t i = 0; i < 2 * ne; i++)
        if (nn == 0 || strcmp(names[nn - 1], names[i]) != 0)
            memmove(names[nn++], names[i], 48);
    size_t *deg = calloc(nn + 1, sizeof *deg), *off = calloc(nn + 1, sizeof *off);
    long *nb = malloc((2 * ne + 1) * sizeof *nb), *label = malloc((nn + 1) * sizeof *label);
    long *stack = malloc((nn + 1) * sizeof *stack), *dist = malloc((nn + 1) * sizeof *dist);
    for (size_t i = 0; i < ne; i++) {
        deg[id_of(all[i].a)]++;
        deg[id_of(all[i].b)]++;
    }
    for (size_t v = 0; v < nn; v++)
        off[v + 1] = off[v] + deg[v];
    memset(deg, 0, (nn + 1) * sizeof *deg);
    for (size_t i = 0; i < ne; i++) {
        long a = id_of(all[i].a), b = id_of(all[i].b);
        nb[off[a] + deg[a]++] = b;
        nb[off[b] + deg[b]++] = a;
    }
    size_t comps = 0, largest = 0;
    for (size_t v = 0; v < nn; v++)
        label[v] = -1;
    for (size_t v = 0; v < nn; v++) {
        if (label[v] >= 0)
            continue;
        size_t top = 0, size = 0;
        stack[top++] = (long)v;
        label[v] = (long)comps;
        while (top) {
            long x = stack[--top];
            size++;
            for (size_t k = off[x]; k < off[x + 1]; k++)
                if (label[nb[k]] < 0) {
                    label[nb[k]] = (long)comps;
                    stack[top++] = nb[k];
                }
        }
        comps++;
        if (size > largest)
            largest = size;
    }
    printf("{\n  \"nodes\": %zu,\n  \"edges\": %zu,\n  \"components\": %zu,\n"
           "  \"largest_component\": %zu,\n  \"distances\": [\n", nn, ne, comps, largest);
    int first = 1;
    for (int p = 0; p < np; p++) {
        size_t nq = 0;
        pair *q = load(argv[1], parties[p], "queries.csv", &nq);
        for (size_t i = 0; i < nq; i++) {
            long a = id_of(q[i].a), b = id_of(q[i].b), hops = -1;
            if (a >= 0 && b >= 0) {
                for (size_t v = 0; v < nn; v++)
                    dist[v] = -1;
                size_t head = 0, tail = 0;
                stack[tail++] = a;
                dist[a] = 0;
                while (head < tail) {
                    long x = stack[head++];
                    for (size_t k = off[x]; k < off[x + 1]; k++)
                        if (dist[nb[k]] < 0) {
                            dist[nb[k]] = dist[x] + 1;
                            stack[tail++] = nb[k];
                        }
                }
                hops = dist[b];
            }
            printf("%s    {\"from\": \"%s\", \"to\": \"%s\", \"hops\": ", first ? "" : ",\n", q[i].a, q[i].b);
            if (hops < 0)
                printf("null}");
            else
                printf("%ld}", hops);
            first = 0;
        }
        free(q);
    }
    printf("\n  ]\n}\n");
    free(all); free(names); free(deg); free(off); free(nb); free(label); free(stack); free(dist);
    return 0;
}
