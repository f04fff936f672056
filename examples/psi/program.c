/* Private set intersection with sum (runs inside the isolate).
 *
 * The advertiser writes /inputs/<party>/viewers.csv  (header "user_id", one id per line): who saw the ad.
 * The shop writes       /inputs/<party>/purchases.csv (header "user_id,spend_cents"): who bought, for how much.
 * The result, /outputs/overlap.json, is only the number of distinct buyers who saw the ad and their
 * total spend: neither party learns which of its users are in the other's list.
 *
 * Usage: program.wasm [INPUT_DIR [OUTPUT_DIR]] */
#include "../common/exio.h"

#include <stdint.h>

#define ID_MAX 64
#define MAX_VIEWERS (1u << 24)

typedef struct { char id[ID_MAX]; uint8_t used, bought; } slot;

static slot *table;
static size_t table_size, viewers;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
    return h;
}

static slot *find(const char *id)
{
    for (size_t i = fnv1a(id) & (table_size - 1);; i = (i + 1) & (table_size - 1))
        if (!table[i].used || strcmp(table[i].id, id) == 0)
            return &table[i];
}

static void grow(void)
{
    slot *old = table;
    size_t old_size = table_size;
    table_size = table_size ? table_size * 2 : 1024;
    table = calloc(table_size, sizeof *table);
    if (!table)
        ex_die("out of memory at %zu viewers", viewers);
    for (size_t i = 0; i < old_size; i++)
        if (old[i].used)
            *find(old[i].id) = old[i];
    free(old);
}

static void check_id(const char *id, const char *party, const char *file, int lineno)
{
    size_t n = strlen(id);
    if (n == 0 || n >= ID_MAX)
        ex_die("%s/%s:%d: user ids are 1 to %d bytes", party, file, lineno, ID_MAX - 1);
}

static void read_viewers(const char *dir, const char *party)
{
    FILE *f = ex_open_input(dir, party, "viewers.csv");
    char line[EX_LINE_MAX];
    if (!ex_read_line(f, line, "viewers.csv") || strcmp(line, "user_id") != 0)
        ex_die("%s/viewers.csv: first line must be the header user_id", party);
    for (int lineno = 1; ex_next_row(f, line, "viewers.csv", &lineno);) {
        check_id(line, party, "viewers.csv", lineno);
        if (2 * (viewers + 1) > table_size)
            grow();
        slot *s = find(line);
        if (!s->used) {
            if (++viewers > MAX_VIEWERS)
                ex_die("more than %u viewers", MAX_VIEWERS);
            s->used = 1;
            strcpy(s->id, line);
        }
    }
    fclose(f);
}

static void match_purchases(const char *dir, const char *party, uint64_t *buyers, uint64_t *spend)
{
    FILE *f = ex_open_input(dir, party, "purchases.csv");
    char line[EX_LINE_MAX], id[EX_LINE_MAX];
    if (!ex_read_line(f, line, "purchases.csv") || strcmp(line, "user_id,spend_cents") != 0)
        ex_die("%s/purchases.csv: first line must be the header user_id,spend_cents", party);
    for (int lineno = 1; ex_next_row(f, line, "purchases.csv", &lineno);) {
        char *comma = strchr(line, ',');
        size_t digits = comma ? strspn(comma + 1, "0123456789") : 0;
        if (!comma || digits == 0 || digits > 12 || comma[1 + digits] != '\0')
            ex_die("%s/purchases.csv:%d: expected user_id,spend_cents (1 to 12 digits)", party,
                   lineno);
        unsigned long long cents = strtoull(comma + 1, NULL, 10);
        memcpy(id, line, (size_t)(comma - line));
        id[comma - line] = '\0';
        check_id(id, party, "purchases.csv", lineno);
        slot *s = table_size ? find(id) : NULL;
        if (s && s->used) {
            *buyers += !s->bought;
            s->bought = 1;
            if (*spend > UINT64_MAX - cents)
                ex_die("the total spend does not fit in 64 bits");
            *spend += cents;
        }
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *in = argc > 1 ? argv[1] : "/inputs", *out = argc > 2 ? argv[2] : "/outputs";
    static char parties[EX_MAX_PARTIES][EX_NAME_MAX];
    int n = ex_list_parties(in, parties), shops = 0, advertisers = 0;
    for (int i = 0; i < n; i++)
        if (ex_has_input(in, parties[i], "viewers.csv")) {
            read_viewers(in, parties[i]);
            advertisers++;
        }
    uint64_t buyers = 0, spend = 0;
    for (int i = 0; i < n; i++)
        if (ex_has_input(in, parties[i], "purchases.csv")) {
            match_purchases(in, parties[i], &buyers, &spend);
            shops++;
        }
    if (!advertisers || !shops)
        ex_die("need viewers.csv from an advertiser and purchases.csv from a shop");
    FILE *f = ex_open_output(out, "overlap.json");
    fprintf(f, "{\"overlap_users\": %llu, \"total_spend_cents\": %llu}\n",
            (unsigned long long)buyers, (unsigned long long)spend);
    if (fclose(f) != 0)
        ex_die("cannot write overlap.json");
    free(table);
    return 0;
}
