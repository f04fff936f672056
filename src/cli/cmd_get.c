/* strongbox get [--sealed] POLICY --as NAME REMOTE LOCAL: download a file from the isolate. */
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

/* Removes "--sealed" from argv (before the shared parser, which does not know it). */
static int take_sealed_flag(int *argc, char **argv)
{
    int found = 0, n = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) { /* nothing after "--" is an option */
            while (i < *argc)
                argv[n++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--sealed") == 0)
            found = 1;
        else
            argv[n++] = argv[i];
    }
    *argc = n;
    return found;
}

int sb_cmd_get(int argc, char **argv)
{
    static const char usage[] =
        "strongbox get [--sealed] POLICY --as NAME [--key F --cert F] [--host H:P] [--quiet] [--json] REMOTE LOCAL|-\n"
        "  --sealed  LOCAL gets the file sealed inside the isolate to NAME's key (open it with\n"
        "            `strongbox unseal`); a file, not -";
    sbcli_args a;
    strongbox *s;
    int sealed = take_sealed_flag(&argc, argv);
    int rc = sbcli_parse(argc, argv, usage, 1, 2, &a);
    if (rc == SBCLI_OK && sealed && strcmp(a.pos[1], "-") == 0) { /* refused before connecting */
        fprintf(stderr, "strongbox get: --sealed writes a file (an envelope), not standard output\n%s\n", usage);
        return SBCLI_USAGE;
    }
    rc = rc == SBCLI_OK ? sbcli_connect(&a, &s) : rc;
    if (rc != SBCLI_OK)
        return rc < 0 ? 0 : rc;
    strongbox_error e;
    int to_stdout = strcmp(a.pos[1], "-") == 0;
    sbcli_progress_begin(&a, "get");
    rc = sealed      ? strongbox_get_sealed_file(s, a.pos[0], a.pos[1], &e)
         : to_stdout ? get_to_stdout(s, a.pos[0], &e)
                     : strongbox_get_file(s, a.pos[0], a.pos[1], &e);
    sbcli_progress_end(&a);
    strongbox_close(s);
    if (rc != 0)
        return sbcli_fail(&a, &e);
    if (!a.quiet && !to_stdout)
        fprintf(stderr, "%s -> %s: done%s\n", a.pos[0], a.pos[1], sealed ? " (sealed to your key)" : "");
    return 0;
}
