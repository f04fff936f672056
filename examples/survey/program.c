/* Survey aggregation with small-group suppression (runs inside the isolate).
 *
 * Each respondent (or a collector on behalf of several) writes /inputs/<party>/answers.csv:
 *     group,q1,q2,...,qK        header: the same K questions for everyone
 *     north,4,2,5               one row per respondent: a group label and answers 1..5
 * The result, /outputs/summary.json, gives per question the overall count and mean and the count of
 * each answer, and per group the respondent count and each question's mean, but a group with fewer
 * than MIN_GROUP respondents is reported only as suppressed, so no small group can be singled out.
 * MIN_GROUP comes from the program's arguments, which the policy fixes for the run
 * (--min-group N, default 5).
 *
 * Usage: program.wasm [--min-group N] [INPUT_DIR [OUTPUT_DIR]] */
#include "../common/exio.h"

#define MAX_Q 32
#define MAX_GROUPS 256
#define GROUP_MAX 32

typedef struct {
    char name[GROUP_MAX];
    unsigned long count;
    unsigned long sum[MAX_Q];
} group;

static group groups[MAX_GROUPS];
static int ngroups, nq = -1;
static unsigned long total, answers[MAX_Q][5];
static char header[EX_LINE_MAX];

static group *group_named(const char *name)
{
    for (int i = 0; i < ngroups; i++)
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    if (ngroups == MAX_GROUPS)
        ex_die("more than %d groups", MAX_GROUPS);
    group *g = &groups[ngroups++];
    snprintf(g->name, sizeof g->name, "%s", name);
    return g;
}

static int count_questions(const char *line)
{
    int q = 0;
    for (const char *p = strchr(line, ','); p; p = strchr(p + 1, ','))
        q++;
    return q;
}

/* The next comma-separated field, or NULL after the last one. Unlike strtok, an empty field
 * ("north,,3") is a field, so a missing answer is an error rather than a shift of the others. */
static char *next_field(char **cursor)
{
    char *field = *cursor;
    if (!field)
        return NULL;
    char *comma = strchr(field, ',');
    *cursor = comma ? comma + 1 : NULL;
    if (comma)
        *comma = '\0';
    return field;
}

static int plain_label(const char *s)
{
    if (!*s || strlen(s) >= GROUP_MAX)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f)
            return 0;
    return 1;
}

static void read_row(char *line, const char *what, int lineno)
{
    char *cursor = line, *tok = next_field(&cursor);
    if (!plain_label(tok))
        ex_die("%s:%d: the group label must be 1 to %d plain characters", what, lineno, GROUP_MAX - 1);
    group *g = group_named(tok);
    int vals[MAX_Q];
    for (int q = 0; q < nq; q++) {
        tok = next_field(&cursor);
        char extra;
        if (!tok || sscanf(tok, "%d%c", &vals[q], &extra) != 1 || vals[q] < 1 || vals[q] > 5)
            ex_die("%s:%d: answer %d must be a number from 1 to 5", what, lineno, q + 1);
    }
    if (cursor)
        ex_die("%s:%d: more answers than questions", what, lineno);
    for (int q = 0; q < nq; q++) {
        g->sum[q] += (unsigned long)vals[q];
        answers[q][vals[q] - 1]++;
    }
    g->count++;
    total++;
}

static void read_party(const char *dir, const char *party)
{
    FILE *f = ex_open_input(dir, party, "answers.csv");
    char line[EX_LINE_MAX], what[128];
    snprintf(what, sizeof what, "%s/answers.csv", party);
    if (!ex_read_line(f, line, what) || strncmp(line, "group,", 6) != 0)
        ex_die("%s: first line must be the header group,q1,...", what);
    if (nq < 0) {
        nq = count_questions(line);
        if (nq > MAX_Q)
            ex_die("%s: more than %d questions", what, MAX_Q);
        strcpy(header, line);
    } else if (strcmp(header, line) != 0) {
        ex_die("%s: the questions differ from the other parties'", what);
    }
    for (int lineno = 1; ex_next_row(f, line, what, &lineno);)
        read_row(line, what, lineno);
    fclose(f);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const group *)a)->name, ((const group *)b)->name);
}

static void write_summary(const char *out, unsigned long min_group)
{
    FILE *f = ex_open_output(out, "summary.json");
    fprintf(f, "{\n  \"respondents\": %lu,\n  \"min_group\": %lu,\n  \"questions\": [\n", total,
            min_group);
    for (int q = 0; q < nq; q++) {
        unsigned long sum = 0;
        for (int a = 0; a < 5; a++)
            sum += answers[q][a] * (unsigned long)(a + 1);
        fprintf(f, "    {\"mean\": %.6f, \"answers\": [%lu, %lu, %lu, %lu, %lu]}%s\n",
                total ? (double)sum / (double)total : 0.0, answers[q][0], answers[q][1],
                answers[q][2], answers[q][3], answers[q][4], q + 1 < nq ? "," : "");
    }
    fprintf(f, "  ],\n  \"groups\": [\n");
    qsort(groups, (size_t)ngroups, sizeof *groups, by_name);
    for (int i = 0; i < ngroups; i++) {
        const group *g = &groups[i];
        if (g->count < min_group) {
            fprintf(f, "    {\"group\": \"%s\", \"suppressed\": true}", g->name);
        } else {
            fprintf(f, "    {\"group\": \"%s\", \"respondents\": %lu, \"means\": [", g->name, g->count);
            for (int q = 0; q < nq; q++)
                fprintf(f, "%.6f%s", (double)g->sum[q] / (double)g->count, q + 1 < nq ? ", " : "");
            fprintf(f, "]}");
        }
        fprintf(f, "%s\n", i + 1 < ngroups ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (fclose(f) != 0)
        ex_die("cannot write summary.json");
}

int main(int argc, char **argv)
{
    unsigned long min_group = 5;
    int arg = 1;
    if (argc > 1 && strcmp(argv[1], "--min-group") == 0) {
        size_t digits = argc > 2 ? strspn(argv[2], "0123456789") : 0;
        min_group = digits ? strtoul(argv[2], NULL, 10) : 0;
        if (digits == 0 || argv[2][digits] != '\0' || digits > 7 || min_group < 1)
            ex_die("--min-group takes a whole number from 1 to 9999999");
        arg = 3;
    }
    const char *in = argc > arg ? argv[arg] : "/inputs";
    const char *out = argc > arg + 1 ? argv[arg + 1] : "/outputs";
    static char parties[EX_MAX_PARTIES][EX_NAME_MAX];
    int n = ex_list_parties(in, parties);
    for (int i = 0; i < n; i++)
        if (ex_has_input(in, parties[i], "answers.csv"))
            read_party(in, parties[i]);
    if (nq < 0)
        ex_die("no answers");
    write_summary(out, min_group);
    return 0;
}
