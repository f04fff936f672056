/* cli_support.h - what the session subcommands of `strongbox` share: arguments (POLICY, --as NAME
 * and the key/certificate lookup), connecting with a printed verification transcript, progress
 * display, error reporting and exit codes. Prints (it is the CLI's own code). */
#ifndef SB_CLIENT_CLI_SUPPORT_H
#define SB_CLIENT_CLI_SUPPORT_H

#include "strongbox.h"

#include <stdio.h>

/* Exit codes of the session commands (docs/client.md). */
enum {
    SBCLI_OK = 0,
    SBCLI_FAILED = 1,      /* local, network, host or protocol error */
    SBCLI_USAGE = 2,
    SBCLI_UNVERIFIED = 3,  /* the isolate's attestation did not verify; nothing was sent */
    SBCLI_REFUSED = 4,     /* the isolate refused the request or our identity */
    SBCLI_ENDED = 5,       /* the computation ended (crash, shutdown rule, expiry) */
};

#define SBCLI_MAX_POS 4

typedef struct sbcli_args {
    const char *cmd;
    const char *policy;
    const char *as;
    const char *key, *cert, *host;
    int quiet, append, json;
    const char *pos[SBCLI_MAX_POS]; /* positional arguments after POLICY */
    int npos;
    char **rest;                    /* after "--" */
    int nrest;
    char key_buf[4096], cert_buf[4096];
    /* progress state */
    const char *progress_label;
    double t0, last;
} sbcli_args;

/* Parses `CMD POLICY [--as NAME] [--key F] [--cert F] [--host H:P] [--append] [--quiet] [--json] POS...
 * [-- REST...]`. need_identity: 1 = --as or --key/--cert required, 0 = optional. Resolves the key
 * and certificate (NAME.key / NAME.crt beside the policy unless given) and checks that NAME is an
 * identity of the policy whose certificate is that file. Returns SBCLI_OK or an exit code (after
 * printing the problem and `usage`). */
int sbcli_parse(int argc, char **argv, const char *usage, int need_identity, int npos,
                sbcli_args *a);
void sbcli_options(sbcli_args *a, strongbox_options *o);
/* Connects, prints the verification transcript (unless --quiet), or prints why not. */
int sbcli_connect(sbcli_args *a, strongbox **s);
/* The same, but a failure is only returned (-1, err filled), not printed: for a fallback. */
int sbcli_try_connect(sbcli_args *a, strongbox **s, strongbox_error *err);
/* sbcli_parse then sbcli_connect, the start of every command that talks to an isolate. Returns
 * SBCLI_OK with *s connected; otherwise the command returns `rc < 0 ? 0 : rc` (negative: --help
 * was printed). */
int sbcli_open(int argc, char **argv, const char *usage, int need_identity, int npos,
               sbcli_args *a, strongbox **s);
/* Deploys the policy, verifies the isolate (printing the transcript unless --quiet) and says
 * so; or prints why not. Returns the exit code. */
int sbcli_deploy(sbcli_args *a);
/* Prints "strongbox CMD: message" and returns the exit code for the error. */
int sbcli_fail(const sbcli_args *a, const strongbox_error *e);
void sbcli_progress_begin(sbcli_args *a, const char *label);
void sbcli_progress_end(sbcli_args *a);

#endif
