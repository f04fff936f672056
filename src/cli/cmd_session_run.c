/* strongbox run POLICY --as NAME PATH [-- ARGS...]: run a program inside the isolate. (`run` with
 * --as comes here; `strongbox run prog.wasm` alone runs a program locally.) */
#include "cli/commands.h"
#include "client/cli_support.h"

#include <stdio.h>

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

int sb_cmd_session_run(int argc, char **argv)
{
    static const char usage[] = "strongbox run POLICY --as NAME [--key F --cert F] [--host H:P] "
                                "[--quiet] [--json] PROGRAM_PATH [-- ARGS...]";
    sbcli_args a;
    strongbox *s;
    int rc = sbcli_open(argc, argv, usage, 1, 1, &a, &s);
    if (rc != SBCLI_OK)
        return rc < 0 ? 0 : rc;
    strongbox_error e;
    strongbox_run_result r;
    rc = strongbox_run(s, a.pos[0], (const char *const *)a.rest, (size_t)a.nrest, &r, &e);
    strongbox_close(s);
    if (rc != 0)
        return sbcli_fail(&a, &e);
    fwrite(r.out, 1, r.out_len, stdout);
    fflush(stdout);
    fwrite(r.err, 1, r.err_len, stderr);
    if (r.outcome == STRONGBOX_EXITED) {
        /* The reason of a normal exit is a notice (output cut at the policy's limit): always shown. */
        if (!a.quiet || r.reason[0])
            fprintf(stderr, "%s: exited with code %u%s%s\n", a.pos[0], r.exit_code,
                    r.reason[0] ? "; " : "", r.reason);
        rc = r.exit_code == 0 ? 0 : 1;
    } else {
        fprintf(stderr, "%s: %s%s%s\n", a.pos[0], outcome_text(r.outcome), r.reason[0] ? ": " : "",
                r.reason);
        rc = 6; /* docs/client.md: the program did not finish normally */
    }
    strongbox_run_result_free(&r);
    return rc;
}
