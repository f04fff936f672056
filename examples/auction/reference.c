/* Native reference for the auction example (tests only): collects every bid, sorts by amount
 * descending then name ascending, and applies the second-price rule. Usage: reference INPUT_DIR */
#include "../common/exio.h"

typedef struct { char name[EX_NAME_MAX]; unsigned long long bid; } entry;

static int order(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->bid != y->bid)
        return x->bid < y->bid ? 1 : -1;
    return strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        ex_die("usage: reference INPUT_DIR");
    static char names[EX_MAX_PARTIES][EX_NAME_MAX];
    static entry e[EX_MAX_PARTIES];
    int n = ex_list_parties(argv[1], names);
    for (int i = 0; i < n; i++) {
        FILE *f = ex_open_input(argv[1], names[i], "bid.txt");
        if (fscanf(f, "%llu", &e[i].bid) != 1)
            ex_die("bad bid");
        fclose(f);
        strcpy(e[i].name, names[i]);
    }
    qsort(e, (size_t)n, sizeof *e, order);
    printf("{\"bids\": %d, \"winner\": \"%s\", \"price_cents\": %llu}\n", n, e[0].name,
           n > 1 ? e[1].bid : e[0].bid);
    return 0;
}
