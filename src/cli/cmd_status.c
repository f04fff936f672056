/* strongbox status POLICY [--as NAME]: the computation's state, from the host (unauthenticated)
 * and, with an identity, from the verified isolate itself. */
#include "cli/commands.h"
#include "client/cli_support.h"

#include <stdio.h>
#include <stdlib.h>

SB_COMMAND_DECL(status);
const char sb_cmd_status_summary[] = "show a computation's state (host view; with --as, the isolate's)";

int sb_cmd_status(int argc, char **argv)
{
    static const char usage[] =
        "strongbox status POLICY [--as NAME | --key F --cert F] [--host H:P] [--quiet]";
    sbcli_args a;
    int rc = sbcli_parse(argc, argv, usage, 0, 0, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    strongbox_options o;
    sbcli_options(&a, &o);
    strongbox_error e;
    char *text;
    if (strongbox_host_status(&o, NULL, &text, &e) != 0)
        return sbcli_fail(&a, &e);
    printf("host (unauthenticated):\n%s", text[0] ? text : "  no computations\n");
    free(text);
    if (!a.key)
        return 0;
    strongbox *s;
    if ((rc = sbcli_connect(&a, &s)) != 0)
        return rc;
    char *json;
    rc = strongbox_status(s, &json, &e);
    strongbox_close(s);
    if (rc != 0)
        return sbcli_fail(&a, &e);
    printf("isolate (verified):\n%s\n", json);
    free(json);
    return 0;
}
