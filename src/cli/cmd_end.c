/* strongbox end POLICY --as NAME: vote to end the computation (the policy's shutdown rule decides
 * when enough parties agree). */
#include "cli/commands.h"
#include "client/cli_support.h"

#include <stdio.h>
#include <stdlib.h>

SB_COMMAND_DECL(end);
const char sb_cmd_end_summary[] = "vote to end a computation (ends when the policy's rule is met)";

int sb_cmd_end(int argc, char **argv)
{
    static const char usage[] =
        "strongbox end POLICY --as NAME [--key F --cert F] [--host H:P] [--quiet] [--json]";
    sbcli_args a;
    strongbox *s;
    int rc = sbcli_open(argc, argv, usage, 1, 0, &a, &s);
    if (rc != SBCLI_OK)
        return rc < 0 ? 0 : rc;
    strongbox_error e;
    char *tally;
    rc = strongbox_end_vote(s, &tally, &e);
    strongbox_close(s);
    if (rc != 0)
        return sbcli_fail(&a, &e);
    printf("vote recorded: %s\n", tally);
    free(tally);
    return 0;
}
