/* Step 2 of the survey pipeline (README.md): aggregate. Reads /work/clean.csv (step 1's output)
 * and writes /work/groups.csv: per group, the respondent count and each question's sum of
 * answers. With --max-groups N (fixed by the policy) it refuses data with more than N groups,
 * exiting 1: the pipeline then stops here and no later step runs.
 *
 * Usage: aggregate.wasm [--max-groups N] [WORK_DIR] (default /work) */
#include "../common/exio.h"

#define MAX_Q 32
#define MAX_GROUPS 256
#define GROUP_MAX 32

typedef struct {
    char name[GROUP_MAX];
    unsigned long count, sum[MAX_Q];
} group;

static group groups[MAX_GROUPS];
static int ngroups, nq, max_groups = MAX_GROUPS;

static group *group_named(const char *name)
{
    for (int i = 0; i < ngroups; i++)
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    if (ngroups == max_groups)
        ex_die("more than %d groups (the policy's --max-groups)", max_groups);
    group *g = &groups[ngroups++];
    snprintf(g->name, sizeof g->name, "%s", name);
    return g;
}

static void add_row(char *line)
{
    char *f = strtok(line, ",");
    group *g = group_named(f ? f : "");
    g->count++;
    for (int q = 0; q < nq && (f = strtok(NULL, ",")); q++)
        g->sum[q] += (unsigned long)atoi(f);
}

int main(int argc, char **argv)
{
    int a = 1;
    if (argc > 2 && strcmp(argv[1], "--max-groups") == 0) {
        max_groups = atoi(argv[2]);
        if (max_groups < 1 || max_groups > MAX_GROUPS)
            ex_die("--max-groups %s: expected 1..%d", argv[2], MAX_GROUPS);
        a = 3;
    }
    const char *work = argc > a ? argv[a] : "/work";
    char line[EX_LINE_MAX], path[512];
    snprintf(path, sizeof path, "%s/clean.csv", work);
    FILE *f = fopen(path, "r");
    if (!f)
        ex_die("cannot open %s (run the clean step first)", path);
    int lineno = 0;
    if (!ex_next_row(f, line, "clean.csv", &lineno))
        ex_die("clean.csv: empty");
    for (const char *p = strchr(line, ','); p; p = strchr(p + 1, ','))
        nq++;
    if (nq < 1 || nq > MAX_Q)
        ex_die("clean.csv: %d questions (1..%d)", nq, MAX_Q);
    while (ex_next_row(f, line, "clean.csv", &lineno))
        add_row(line);
    fclose(f);
    FILE *out = ex_open_output(work, "groups.csv");
    for (int i = 0; i < ngroups; i++) {
        fprintf(out, "%s,%lu", groups[i].name, groups[i].count);
        for (int q = 0; q < nq; q++)
            fprintf(out, ",%lu", groups[i].sum[q]);
        fprintf(out, "\n");
    }
    if (fclose(out) != 0)
        ex_die("cannot write %s/groups.csv", work);
    printf("aggregate: %d groups, %d questions\n", ngroups, nq);
    return 0;
}
