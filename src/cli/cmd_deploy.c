/* strongbox deploy POLICY [--as NAME] [--host HOST:PORT]: start (or find) the computation of a
 * policy, then verify its isolate like every other command before saying it runs. */
#include "cli/commands.h"
#include "client/cli_support.h"

SB_COMMAND_DECL(deploy);
const char sb_cmd_deploy_summary[] = "send a policy to its host, which launches an attested isolate";

int sb_cmd_deploy(int argc, char **argv)
{
    static const char usage[] =
        "strongbox deploy POLICY [--as NAME | --key F --cert F] [--host H:P] [--quiet]";
    sbcli_args a;
    int rc = sbcli_parse(argc, argv, usage, 0, 0, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    return sbcli_deploy(&a);
}
