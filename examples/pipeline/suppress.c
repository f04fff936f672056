/* Step 3 of the survey pipeline (README.md): suppress small groups. Reads /work/groups.csv
 * (step 2's output) and writes /outputs/summary.csv: per group its count and each question's mean
 * (two decimals), except that a group with fewer than --min-group respondents (fixed by the
 * policy) is reported only as "suppressed", so no small group can be singled out.
 *
 * Usage: suppress.wasm [--min-group N] [WORK_DIR [OUTPUT_DIR]] (defaults 5, /work, /outputs) */
#include "../common/exio.h"

int main(int argc, char **argv)
{
    int a = 1, min_group = 5;
    if (argc > 2 && strcmp(argv[1], "--min-group") == 0) {
        min_group = atoi(argv[2]);
        if (min_group < 1)
            ex_die("--min-group %s: expected a positive number", argv[2]);
        a = 3;
    }
    const char *work = argc > a ? argv[a] : "/work", *outdir = argc > a + 1 ? argv[a + 1] : "/outputs";
    char line[EX_LINE_MAX], path[512];
    snprintf(path, sizeof path, "%s/groups.csv", work);
    FILE *f = fopen(path, "r");
    if (!f)
        ex_die("cannot open %s (run the aggregate step first)", path);
    FILE *out = ex_open_output(outdir, "summary.csv");
    int lineno = 0, shown = 0, hidden = 0;
    while (ex_next_row(f, line, "groups.csv", &lineno)) {
        char *name = strtok(line, ","), *cnt = strtok(NULL, ",");
        unsigned long n = cnt ? strtoul(cnt, NULL, 10) : 0;
        if (!name || n == 0)
            ex_die("groups.csv:%d: expected group,count,sums...", lineno);
        if (n < (unsigned long)min_group) {
            fprintf(out, "%s,suppressed\n", name);
            hidden++;
            continue;
        }
        fprintf(out, "%s,%lu", name, n);
        for (char *s = strtok(NULL, ","); s; s = strtok(NULL, ","))
            fprintf(out, ",%.2f", (double)strtoul(s, NULL, 10) / (double)n);
        fprintf(out, "\n");
        shown++;
    }
    fclose(f);
    if (fclose(out) != 0)
        ex_die("cannot write %s/summary.csv", outdir);
    printf("suppress: %d groups shown, %d suppressed (fewer than %d respondents)\n", shown, hidden,
           min_group);
    return 0;
}
