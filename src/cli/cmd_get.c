/* strongbox get POLICY --as NAME REMOTE LOCAL: download a file from the isolate. */
#include "cli/commands.h"
#include "client/cli_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SB_COMMAND_DECL(get);
const char sb_cmd_get_summary[] = "download a file from a computation (after verifying the isolate)";

/* LOCAL "-" writes to standard output. */
static int get_to_stdout(strongbox *s, const char *remote, strongbox_error *e)
{
    uint8_t *data;
    size_t len;
    if (strongbox_get_buffer(s, remote, (size_t)1 << 30, &data, &len, e) != 0)
        return -1;
    size_t n = fwrite(data, 1, len, stdout);
    free(data);
    if (n != len || fflush(stdout) != 0) {
        e->code = STRONGBOX_E_LOCAL;
        snprintf(e->message, sizeof e->message, "cannot write to standard output");
        return -1;
    }
    return 0;
}

int sb_cmd_get(int argc, char **argv)
{
    static const char usage[] =
        "strongbox get POLICY --as NAME [--key F --cert F] [--host H:P] [--quiet] [--json] REMOTE LOCAL|-";
    sbcli_args a;
    strongbox *s;
    int rc = sbcli_open(argc, argv, usage, 1, 2, &a, &s);
    if (rc != SBCLI_OK)
        return rc < 0 ? 0 : rc;
    strongbox_error e;
    int to_stdout = strcmp(a.pos[1], "-") == 0;
    sbcli_progress_begin(&a, "get");
    rc = to_stdout ? get_to_stdout(s, a.pos[0], &e) : strongbox_get_file(s, a.pos[0], a.pos[1], &e);
    sbcli_progress_end(&a);
    strongbox_close(s);
    if (rc != 0)
        return sbcli_fail(&a, &e);
    if (!a.quiet && !to_stdout)
        fprintf(stderr, "%s -> %s: done\n", a.pos[0], a.pos[1]);
    return 0;
}
