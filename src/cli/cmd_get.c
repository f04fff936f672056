/* strongbox get [--sealed] POLICY --as NAME REMOTE LOCAL: download a file from the isolate. */
#include "cli/commands.h"
#include "client/cli_support.h"
#include "common/common.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* Removes `flag` from argv (before the shared parser, which does not know it). */
static int take_flag(int *argc, char **argv, const char *flag)
{
    int found = 0, n = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) { /* nothing after "--" is an option */
            while (i < *argc)
                argv[n++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], flag) == 0)
            found = 1;
        else
            argv[n++] = argv[i];
    }
    *argc = n;
    return found;
}

/* True when the policy (otherwise valid) has expired: its computation has ended. */
static int policy_expired(const char *path, char *why, size_t len)
{
    sb_policy *p = NULL;
    sb_err e = {0};
    char when[32];
    if (sb_policy_load(path, 0, SB_POLICY_SKIP_TIME_CHECKS, &p, &e) != 0)
        return 0; /* the normal path says what is wrong with it */
    int expired = sb_policy_expired(p, time(NULL));
    sb_time_format(sb_policy_expires(p), when, sizeof when);
    snprintf(why, len, "the policy expired at %s: the computation has ended", when);
    sb_policy_free(p);
    return expired;
}

/* The sealed result the host kept after the computation ended, checked before it is written. */
static int get_kept(sbcli_args *a, const char *why_not_live)
{
    strongbox_options o;
    strongbox_unsealed info;
    strongbox_error e;
    sbcli_options(a, &o);
    if (why_not_live && !a->quiet)
        fprintf(stderr, "strongbox get: %s\nstrongbox get: asking the host for the sealed result it "
                "kept\n", why_not_live);
    if (strongbox_get_kept_sealed_file(&o, a->pos[0], a->pos[1], &info, &e) != 0)
        return sbcli_fail(a, &e);
    if (!a->quiet)
        fprintf(stderr, "%s -> %s: done (sealed to your key, kept by the host; checked: it opens "
                "with your key, names this policy and path; origin: %s)\n", a->pos[0], a->pos[1],
                info.origin);
    return 0;
}

int sb_cmd_get(int argc, char **argv)
{
    static const char usage[] =
        "strongbox get [--sealed] POLICY --as NAME [--key F --cert F] [--host H:P] [--quiet] [--json] REMOTE LOCAL|-\n"
        "  --sealed  LOCAL gets the file sealed inside the isolate to NAME's key (open it with\n"
        "            `strongbox unseal`); a file, not -. After the computation ended, the envelope\n"
        "            the host kept (if the policy's shutdown.keep_sealed allows it), checked first\n"
        "  --from-host  with --sealed: ask only the host's store, not the isolate";
    sbcli_args a;
    strongbox *s;
    int sealed = take_flag(&argc, argv, "--sealed"), from_host = take_flag(&argc, argv, "--from-host");
    int rc = sbcli_parse(argc, argv, usage, 1, 2, &a);
    if (rc == SBCLI_OK && from_host && !sealed) {
        fprintf(stderr, "strongbox get: --from-host needs --sealed (the host keeps only envelopes)\n%s\n", usage);
        return SBCLI_USAGE;
    }
    if (rc == SBCLI_OK && sealed && strcmp(a.pos[1], "-") == 0) { /* refused before connecting */
        fprintf(stderr, "strongbox get: --sealed writes a file (an envelope), not standard output\n%s\n", usage);
        return SBCLI_USAGE;
    }
    if (rc == SBCLI_OK && from_host)
        return get_kept(&a, NULL);
    strongbox_error e;
    char expired[128];
    if (rc == SBCLI_OK && sealed && policy_expired(a.policy, expired, sizeof expired))
        return get_kept(&a, expired); /* no isolate can run it any more: only the host's store */
    if (rc == SBCLI_OK && sealed) { /* a computation that ended may have left it with the host */
        if (sbcli_try_connect(&a, &s, &e) != 0)
            return e.code == STRONGBOX_E_ENDED ||
                           (e.code == STRONGBOX_E_HOST && strstr(e.message, "no computation"))
                       ? get_kept(&a, e.message)
                       : sbcli_fail(&a, &e);
    } else {
        rc = rc == SBCLI_OK ? sbcli_connect(&a, &s) : rc;
        if (rc != SBCLI_OK)
            return rc < 0 ? 0 : rc;
    }
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
