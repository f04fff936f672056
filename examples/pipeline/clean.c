/* Step 1 of the survey pipeline (README.md): clean. Reads every clinic's
 * /inputs/<clinic>/answers.csv ("group,q1,...,qK" header, then one respondent per row with
 * answers 1..5), keeps the rows that are well formed and writes them, with one header, to
 * /work/clean.csv; says how many rows it dropped. Exits 1 when no row is left.
 *
 * Usage: clean.wasm [INPUT_DIR [WORK_DIR]] (defaults /inputs, /work) */
#include "../common/exio.h"

static char header[EX_LINE_MAX];

/* A row is kept when it has the header's field count, a group label and answers 1..5. */
static int row_ok(char *line, int fields)
{
    int n = 0;
    for (char *f = strtok(line, ","); f; f = strtok(NULL, ","), n++)
        if (n > 0 && !(f[0] >= '1' && f[0] <= '5' && f[1] == '\0'))
            return 0;
    return n == fields;
}

static int count_fields(const char *line)
{
    int n = 1;
    for (const char *p = strchr(line, ','); p; p = strchr(p + 1, ','))
        n++;
    return n;
}

int main(int argc, char **argv)
{
    const char *in = argc > 1 ? argv[1] : "/inputs", *work = argc > 2 ? argv[2] : "/work";
    static char names[EX_MAX_PARTIES][EX_NAME_MAX];
    char line[EX_LINE_MAX], copy[EX_LINE_MAX];
    int parties = ex_list_parties(in, names), fields = 0;
    unsigned long kept = 0, dropped = 0;
    FILE *out = ex_open_output(work, "clean.csv");
    for (int i = 0; i < parties; i++) {
        if (!ex_has_input(in, names[i], "answers.csv"))
            continue;
        FILE *f = ex_open_input(in, names[i], "answers.csv");
        int lineno = 0;
        if (!ex_next_row(f, line, names[i], &lineno))
            ex_die("%s/answers.csv: empty", names[i]);
        if (!header[0]) {
            snprintf(header, sizeof header, "%s", line);
            fields = count_fields(header);
            fprintf(out, "%s\n", header);
        } else if (strcmp(header, line) != 0) {
            ex_die("%s/answers.csv: another header than the first clinic's", names[i]);
        }
        while (ex_next_row(f, line, names[i], &lineno)) {
            snprintf(copy, sizeof copy, "%s", line);
            if (row_ok(copy, fields)) {
                fprintf(out, "%s\n", line);
                kept++;
            } else {
                dropped++;
            }
        }
        fclose(f);
    }
    if (fclose(out) != 0)
        ex_die("cannot write %s/clean.csv", work);
    printf("clean: kept %lu rows, dropped %lu\n", kept, dropped);
    if (kept == 0)
        ex_die("no valid rows");
    return 0;
}
