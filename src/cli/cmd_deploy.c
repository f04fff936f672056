/* strongbox deploy POLICY [--host HOST:PORT]: start (or find) the computation of a policy. */
#include "cli/commands.h"
#include "client/cli_support.h"

#include <stdio.h>

SB_COMMAND_DECL(deploy);
const char sb_cmd_deploy_summary[] = "send a policy to its host, which launches an attested isolate";

int sb_cmd_deploy(int argc, char **argv)
{
    static const char usage[] = "strongbox deploy POLICY [--host HOST:PORT] [--quiet]";
    sbcli_args a;
    int rc = sbcli_parse(argc, argv, usage, 0, 0, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    strongbox_options o;
    sbcli_options(&a, &o);
    strongbox_error e;
    char hash[65];
    if (strongbox_deploy(&o, hash, &e) != 0)
        return sbcli_fail(&a, &e);
    if (!a.quiet)
        printf("computation %s is running and attested\n", hash);
    return 0;
}
