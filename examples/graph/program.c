/* Private graph analytics (runs inside the isolate).
 *
 * Each organisation writes its part of a graph to /inputs/<org>/edges.csv (header "a,b", one
 * undirected edge per line between named nodes, e.g. phone numbers in call records). A party with
 * questions writes /inputs/<party>/queries.csv (header "from,to"). The result, /outputs/graph.json,
 * holds metrics of the union only: node and edge counts, the number of connected components, the
 * largest component's size, and the hop distance for each query (null when unreachable). Neither
 * organisation sees the other's edges.
 *
 * Usage: program.wasm [INPUT_DIR [OUTPUT_DIR]] */
#include "../common/exio.h"

#include <stdint.h>

#define NAME_MAX_LEN 48
#define MAX_NODES (1u << 22)

typedef struct { char name[NAME_MAX_LEN]; uint32_t id; int used; } entry;

static entry *names;
static size_t names_cap;
static uint32_t nnodes;
static uint32_t (*edges)[2];
static size_t nedges, edges_cap;
static uint32_t *parent;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
    return h;
}

static entry *slot_for(entry *t, size_t cap, const char *name)
{
    for (size_t i = hash(name) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!t[i].used || strcmp(t[i].name, name) == 0)
            return &t[i];
}

static void rehash(void)
{
    size_t cap = names_cap ? 2 * names_cap : 1024;
    entry *t = calloc(cap, sizeof *t);
    if (!t)
        ex_die("out of memory at %u nodes", nnodes);
    for (size_t i = 0; i < names_cap; i++)
        if (names[i].used)
            *slot_for(t, cap, names[i].name) = names[i];
    free(names);
    names = t;
    names_cap = cap;
}

/* The node id for `name`; creates it when `create`, else returns UINT32_MAX for unknown names. */
static uint32_t node(const char *name, int create)
{
    /* Names are echoed into graph.json (queries): no quote, backslash or control character. */
    if (!*name || strlen(name) >= NAME_MAX_LEN || strpbrk(name, "\"\\") ||
        strcspn(name, "\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12"
                      "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f") != strlen(name))
        ex_die("node names are 1 to %d bytes without quotes, backslashes or control characters: "
               "'%.60s'", NAME_MAX_LEN - 1, name);
    if (2 * ((size_t)nnodes + 1) > names_cap)
        rehash();
    entry *e = slot_for(names, names_cap, name);
    if (!e->used) {
        if (!create)
            return UINT32_MAX;
        if (nnodes == MAX_NODES)
            ex_die("more than %u nodes", MAX_NODES);
        e->used = 1;
        e->id = nnodes++;
        strcpy(e->name, name);
    }
    return e->id;
}

static int split_pair(char *line, char **a, char **b)
{
    char *comma = strchr(line, ',');
    if (!comma || strchr(comma + 1, ','))
        return -1;
    *comma = '\0';
    *a = line;
    *b = comma + 1;
    return 0;
}

static void read_edges(const char *dir, const char *party)
{
    FILE *f = ex_open_input(dir, party, "edges.csv");
    char line[EX_LINE_MAX], *a, *b;
    if (!ex_read_line(f, line, "edges.csv") || strcmp(line, "a,b") != 0)
        ex_die("%s/edges.csv: first line must be the header a,b", party);
    for (int lineno = 1; ex_next_row(f, line, "edges.csv", &lineno);) {
        if (split_pair(line, &a, &b) != 0)
            ex_die("%s/edges.csv:%d: expected a,b", party, lineno);
        if (nedges == edges_cap &&
            !(edges = realloc(edges, (edges_cap = edges_cap ? 2 * edges_cap : 1024) * sizeof *edges)))
            ex_die("out of memory at %zu edges", nedges);
        edges[nedges][0] = node(a, 1);
        edges[nedges][1] = node(b, 1);
        nedges++;
    }
    fclose(f);
}

static uint32_t find_root(uint32_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/* Adjacency in compressed form: neighbours of v are adj[start[v] .. start[v+1]). */
static uint32_t *start, *adj;

static void build_adjacency(void)
{
    start = calloc((size_t)nnodes + 1, sizeof *start);
    adj = malloc((2 * nedges + 1) * sizeof *adj);
    uint32_t *fill = calloc((size_t)nnodes + 1, sizeof *fill);
    if (!start || !adj || !fill)
        ex_die("out of memory");
    for (size_t i = 0; i < nedges; i++) {
        start[edges[i][0] + 1]++;
        start[edges[i][1] + 1]++;
    }
    for (uint32_t v = 0; v < nnodes; v++)
        start[v + 1] += start[v];
    for (size_t i = 0; i < nedges; i++) {
        uint32_t a = edges[i][0], b = edges[i][1];
        adj[start[a] + fill[a]++] = b;
        adj[start[b] + fill[b]++] = a;
    }
    free(fill);
}

static long bfs(uint32_t from, uint32_t to, uint32_t *dist, uint32_t *queue)
{
    for (uint32_t v = 0; v < nnodes; v++)
        dist[v] = UINT32_MAX;
    size_t head = 0, tail = 0;
    dist[from] = 0;
    queue[tail++] = from;
    while (head < tail) {
        uint32_t v = queue[head++];
        if (v == to)
            return dist[v];
        for (uint32_t k = start[v]; k < start[v + 1]; k++)
            if (dist[adj[k]] == UINT32_MAX) {
                dist[adj[k]] = dist[v] + 1;
                queue[tail++] = adj[k];
            }
    }
    return -1;
}

/* Reads every query once before graph.json is opened, so a bad query file fails the run without
 * leaving a half-written result. */
static void check_queries(const char *dir, const char *party)
{
    FILE *f = ex_open_input(dir, party, "queries.csv");
    char line[EX_LINE_MAX], *a, *b;
    if (!ex_read_line(f, line, "queries.csv") || strcmp(line, "from,to") != 0)
        ex_die("%s/queries.csv: first line must be the header from,to", party);
    for (int lineno = 1; ex_next_row(f, line, "queries.csv", &lineno);) {
        if (split_pair(line, &a, &b) != 0)
            ex_die("%s/queries.csv:%d: expected from,to", party, lineno);
        node(a, 0);
        node(b, 0);
    }
    fclose(f);
}

static void answer_queries(const char *dir, const char *party, FILE *out, int *first)
{
    FILE *f = ex_open_input(dir, party, "queries.csv");
    char line[EX_LINE_MAX], *a, *b;
    uint32_t *dist = malloc(((size_t)nnodes + 1) * sizeof *dist);
    uint32_t *queue = malloc(((size_t)nnodes + 1) * sizeof *queue);
    if (!dist || !queue)
        ex_die("out of memory");
    if (!ex_read_line(f, line, "queries.csv") || strcmp(line, "from,to") != 0)
        ex_die("%s/queries.csv: first line must be the header from,to", party);
    for (int lineno = 1; ex_next_row(f, line, "queries.csv", &lineno);) {
        if (split_pair(line, &a, &b) != 0)
            ex_die("%s/queries.csv:%d: expected from,to", party, lineno);
        uint32_t x = node(a, 0), y = node(b, 0);
        long hops = x == UINT32_MAX || y == UINT32_MAX ? -1 : bfs(x, y, dist, queue);
        fprintf(out, "%s    {\"from\": \"%s\", \"to\": \"%s\", \"hops\": ", *first ? "" : ",\n", a, b);
        if (hops < 0)
            fprintf(out, "null}");
        else
            fprintf(out, "%ld}", hops);
        *first = 0;
    }
    free(dist);
    free(queue);
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *in = argc > 1 ? argv[1] : "/inputs", *out = argc > 2 ? argv[2] : "/outputs";
    static char parties[EX_MAX_PARTIES][EX_NAME_MAX];
    int n = ex_list_parties(in, parties);
    for (int i = 0; i < n; i++)
        if (ex_has_input(in, parties[i], "edges.csv"))
            read_edges(in, parties[i]);
    parent = malloc(((size_t)nnodes + 1) * sizeof *parent);
    uint32_t *size = calloc((size_t)nnodes + 1, sizeof *size);
    if (!parent || !size)
        ex_die("out of memory");
    for (uint32_t v = 0; v < nnodes; v++)
        parent[v] = v;
    for (size_t i = 0; i < nedges; i++)
        parent[find_root(edges[i][0])] = find_root(edges[i][1]);
    uint32_t components = 0, largest = 0;
    for (uint32_t v = 0; v < nnodes; v++) {
        uint32_t r = find_root(v);
        components += r == v;
        if (++size[r] > largest)
            largest = size[r];
    }
    build_adjacency();
    for (int i = 0; i < n; i++)
        if (ex_has_input(in, parties[i], "queries.csv"))
            check_queries(in, parties[i]);
    FILE *f = ex_open_output(out, "graph.json");
    fprintf(f, "{\n  \"nodes\": %u,\n  \"edges\": %zu,\n  \"components\": %u,\n"
               "  \"largest_component\": %u,\n  \"distances\": [\n", nnodes, nedges, components, largest);
    int first = 1;
    for (int i = 0; i < n; i++)
        if (ex_has_input(in, parties[i], "queries.csv"))
            answer_queries(in, parties[i], f, &first);
    fprintf(f, "\n  ]\n}\n");
    if (fclose(f) != 0)
        ex_die("cannot write graph.json");
    free(size);
    free(parent);
    free(start);
    free(adj);
    free(edges);
    free(names);
    return 0;
}
