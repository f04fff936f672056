/* strongbox run POLICY --as NAME PATH [-- ARGS...]: run a program inside the isolate. (`run` with
 * --as comes here; `strongbox run prog.wasm` alone runs a program locally.) */
#include "cli/commands.h"
#include "client/cli_support.h"

#include "common/common.h"

#include <stdio.h>
#include <string.h>

SB_COMMAND_DECL(session_run);
const char sb_cmd_session_run_summary[] =
    "run a program of the policy inside a computation (typed as: strongbox run POLICY --as NAME PATH)";

static const char *outcome_text(strongbox_outcome o)
{
    switch (o) {
    case STRONGBOX_EXITED: return "exited";
    case STRONGBOX_TRAPPED: return "trapped";
    case STRONGBOX_FUEL_LIMIT: return "stopped: fuel limit";
    case STRONGBOX_MEMORY_LIMIT: return "stopped: memory limit";
    case STRONGBOX_TIME_LIMIT: return "stopped: time limit";
    }
    return "unknown outcome";
}

/* Removes "OPTION VALUE" (or OPTION=VALUE) from argv (before the shared parser, which does not
 * know it): the value, NULL when absent, or "" when the option has no value. */
static const char *take_option(int *argc, char **argv, const char *option)
{
    size_t olen = strlen(option);
    const char *file = NULL;
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) { /* nothing after "--" is an option */
            while (i < *argc)
                argv[n++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], option) == 0)
            file = i + 1 < *argc ? argv[++i] : "";
        else if (strncmp(argv[i], option, olen) == 0 && argv[i][olen] == '=')
            file = argv[i] + olen + 1;
        else
            argv[n++] = argv[i];
    }
    *argc = n;
    return file;
}

/* The receipt is written even when the program failed: it records that failure too. */
static int save_receipt(const sbcli_args *a, const char *file, const strongbox_run_result *r)
{
    sb_err e = {0};
    if (sb_write_file(file, r->receipt, r->receipt_len, 0644, &e) != 0) {
        fprintf(stderr, "strongbox run: %s\n", e.msg);
        return SBCLI_FAILED;
    }
    if (!a->quiet)
        fprintf(stderr, "receipt of the run, signed by the isolate: %s (check it with `strongbox "
                        "receipt verify --policy %s %s`)\n", file, a->policy, file);
    return SBCLI_OK;
}

int sb_cmd_session_run(int argc, char **argv)
{
    static const char usage[] = "strongbox run POLICY --as NAME [--key F --cert F] [--host H:P] "
                                "[--quiet] [--json] [--receipt FILE] PROGRAM_PATH [-- ARGS...]\n"
                                "       strongbox run POLICY --as NAME ... [--receipt FILE] "
                                "--pipeline PIPELINE\n"
                                "  --receipt FILE       save the run's receipt, signed by the isolate "
                                "(docs/receipts.md)\n"
                                "  --pipeline PIPELINE  run the policy's pipeline PIPELINE: its steps "
                                "in order, stopping at the first that fails";
    sbcli_args a;
    strongbox *s;
    const char *receipt = take_option(&argc, argv, "--receipt");
    const char *pipeline = take_option(&argc, argv, "--pipeline");
    if ((receipt && !receipt[0]) || (pipeline && !pipeline[0])) {
        fprintf(stderr, "strongbox run: %s\n%s\n", receipt && !receipt[0] ? "--receipt needs a FILE"
                                                     : "--pipeline needs a PIPELINE", usage);
        return SBCLI_USAGE;
    }
    int rc = sbcli_open(argc, argv, usage, 1, pipeline ? 0 : 1, &a, &s);
    if (rc != SBCLI_OK)
        return rc < 0 ? 0 : rc;
    if (pipeline && a.nrest > 0) {
        strongbox_close(s);
        fprintf(stderr, "strongbox run: a pipeline's arguments are fixed by the policy\n%s\n", usage);
        return SBCLI_USAGE;
    }
    strongbox_error e;
    strongbox_run_result r;
    const char *const *args = (const char *const *)a.rest;
    const char *what = pipeline ? pipeline : a.pos[0];
    rc = pipeline  ? strongbox_run_pipeline(s, pipeline, receipt != NULL, &r, &e)
         : receipt ? strongbox_run_with_receipt(s, a.pos[0], args, (size_t)a.nrest, &r, &e)
                   : strongbox_run(s, a.pos[0], args, (size_t)a.nrest, &r, &e);
    strongbox_close(s);
    if (rc != 0) {
        strongbox_run_result_free(&r);
        return sbcli_fail(&a, &e);
    }
    if (receipt && save_receipt(&a, receipt, &r) != SBCLI_OK) {
        strongbox_run_result_free(&r);
        return SBCLI_FAILED;
    }
    fwrite(r.out, 1, r.out_len, stdout);
    fflush(stdout);
    fwrite(r.err, 1, r.err_len, stderr);
    if (pipeline) { /* the runtime's report: how far it got, and why it stopped */
        fprintf(stderr, "%s\n", r.reason);
        rc = r.outcome != STRONGBOX_EXITED ? 6 : r.exit_code == 0 ? 0 : 1;
    } else if (r.outcome == STRONGBOX_EXITED) {
        /* The reason of a normal exit is a notice (output cut at the policy's limit): always shown. */
        if (!a.quiet || r.reason[0])
            fprintf(stderr, "%s: exited with code %u%s%s\n", what, r.exit_code,
                    r.reason[0] ? "; " : "", r.reason);
        rc = r.exit_code == 0 ? 0 : 1;
    } else {
        fprintf(stderr, "%s: %s%s%s\n", what, outcome_text(r.outcome), r.reason[0] ? ": " : "",
                r.reason);
        rc = 6; /* docs/client.md: the program did not finish normally */
    }
    strongbox_run_result_free(&r);
    return rc;
}
