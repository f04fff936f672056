/* strongbox unseal --key K [--policy P] [--path REMOTE] FILE [OUT|-]: opens a result sealed to
 * its reader (`strongbox get --sealed`), offline: no host, no isolate, only the reader's private
 * key. With --policy the envelope must name that policy's hash; with --path, that file. */
#include "cli/commands.h"
#include "common/common.h"
#include "strongbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

SB_COMMAND_DECL(unseal);
const char sb_cmd_unseal_summary[] = "open a result sealed to your key (from get --sealed), offline";

#define MAX_ENVELOPE_BYTES ((size_t)1 << 30)

static void usage(FILE *out)
{
    fprintf(out, "usage: strongbox unseal --key KEY [--policy POLICY] [--path REMOTE] FILE [OUT|-]\n"
                 "Opens FILE, an envelope written by `strongbox get --sealed`, with your private key\n"
                 "(PEM) and writes the result to OUT (default: standard output). --policy checks\n"
                 "the envelope was sealed and signed by an isolate attested for that policy (as of\n"
                 "its sealing time), --path that it holds REMOTE.\n"
                 "Exit: 0 opened, 1 local error, 2 usage, 3 refused (modified, or not sealed to\n"
                 "this key, or another policy or path).\n");
}

static int write_out(const char *out, const uint8_t *data, size_t len)
{
    sb_err e = {0};
    if (!out || strcmp(out, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            fprintf(stderr, "strongbox unseal: cannot write to standard output\n");
            return 1;
        }
        return 0;
    }
    if (sb_write_file(out, data, len, 0600, &e) != 0) {
        fprintf(stderr, "strongbox unseal: %s\n", e.msg);
        return 1;
    }
    return 0;
}

int sb_cmd_unseal(int argc, char **argv)
{
    const char *key = NULL, *policy = NULL, *path = NULL, *pos[2] = {0};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key = argv[++i];
        } else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            policy = argv[++i];
        } else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if ((argv[i][0] == '-' && strcmp(argv[i], "-") != 0) || npos == 2) {
            usage(stderr);
            return 2;
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (!key || npos == 0) {
        fprintf(stderr, "strongbox unseal: %s\n", !key ? "--key KEY is required" : "no FILE given");
        usage(stderr);
        return 2;
    }
    uint8_t *env = NULL, *data = NULL;
    size_t env_len = 0, len = 0;
    sb_err e = {0};
    if (sb_read_file(pos[0], MAX_ENVELOPE_BYTES, &env, &env_len, &e) != 0) {
        fprintf(stderr, "strongbox unseal: %s\n", e.msg);
        return 1;
    }
    strongbox_error se;
    strongbox_unsealed info;
    int rc = strongbox_unseal(env, env_len, key, policy, path, &data, &len, &info, &se);
    free(env);
    if (rc != 0) {
        fprintf(stderr, "strongbox unseal: %s: %s\n", pos[0], se.message);
        return se.code == STRONGBOX_E_VERIFY ? 3 : 1;
    }
    rc = write_out(pos[1], data, len);
    OPENSSL_cleanse(data, len);
    free(data);
    if (rc == 0)
        fprintf(stderr, "%s: %s of computation %.16s...: opened\norigin: %s\n", pos[0], info.path,
                info.policy_hash, info.origin);
    return rc;
}
