/* strongbox status POLICY [--as NAME] [--json]: the computation's state, from the host
 * (unauthenticated) and, with an identity, from the verified isolate itself. */
#include "cli/commands.h"
#include "client/cli_support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

SB_COMMAND_DECL(status);
const char sb_cmd_status_summary[] = "show a computation's state (host view; with --as, the isolate's)";

/* --json: {"host": {...}, "isolate": {...} or null}, one object on stdout. */
static int print_json(const char *host_text, const char *isolate_text)
{
    json_error_t je;
    json_t *host = json_loads(host_text, JSON_DISABLE_EOF_CHECK, &je);
    json_t *iso = isolate_text ? json_loads(isolate_text, 0, &je) : json_null();
    json_t *o = json_pack("{s:o?, s:o?}", "host", host, "isolate", iso);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
        fprintf(stderr, "strongbox status: the answers are not JSON\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

int sb_cmd_status(int argc, char **argv)
{
    static const char usage[] =
        "strongbox status POLICY [--as NAME | --key F --cert F] [--host H:P] [--quiet] [--json]";
    sbcli_args a;
    int rc = sbcli_parse(argc, argv, usage, 0, 0, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    strongbox_options o;
    sbcli_options(&a, &o);
    strongbox_error e;
    char *text, *json = NULL;
    if (strongbox_host_status(&o, NULL, &text, &e) != 0)
        return sbcli_fail(&a, &e);
    if (!a.json)
        printf("host (unauthenticated):\n%s", text[0] ? text : "  no computations\n");
    strongbox *s;
    if (a.key && (rc = sbcli_connect(&a, &s)) == 0) {
        rc = strongbox_status(s, &json, &e);
        strongbox_close(s);
        if (rc != 0)
            rc = sbcli_fail(&a, &e);
    }
    if (rc == 0 && a.json)
        rc = print_json(text, json);
    else if (rc == 0 && json)
        printf("isolate (verified):\n%s\n", json);
    free(text);
    free(json);
    return rc;
}
