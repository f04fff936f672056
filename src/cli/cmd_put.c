/* strongbox put POLICY --as NAME LOCAL REMOTE: upload a file into the isolate. */
#include "cli/commands.h"
#include "client/cli_support.h"

#include <stdio.h>

SB_COMMAND_DECL(put);
const char sb_cmd_put_summary[] = "upload a file into a computation (after verifying the isolate)";

int sb_cmd_put(int argc, char **argv)
{
    static const char usage[] =
        "strongbox put POLICY --as NAME [--key F --cert F] [--host H:P] [--append] [--quiet] "
        "LOCAL REMOTE";
    sbcli_args a;
    strongbox *s;
    int rc = sbcli_open(argc, argv, usage, 1, 2, &a, &s);
    if (rc != SBCLI_OK)
        return rc < 0 ? 0 : rc;
    strongbox_error e;
    sbcli_progress_begin(&a, "put");
    rc = strongbox_put_file(s, a.pos[0], a.pos[1], a.append, &e);
    sbcli_progress_end(&a);
    strongbox_close(s);
    if (rc != 0)
        return sbcli_fail(&a, &e);
    if (!a.quiet)
        printf("%s -> %s: stored\n", a.pos[0], a.pos[1]);
    return 0;
}
