/* strongbox receipt verify --policy P [--json] [--input NAME=FILE]... [--output NAME=FILE]... FILE:
 * checks a run's receipt (written by `strongbox run ... --receipt FILE`) offline, at any later
 * time, with only a copy of the policy, and says what it proves (docs/receipts.md). */
#include "cli/commands.h"
#include "common/common.h"
#include "strongbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SB_COMMAND_DECL(receipt);
const char sb_cmd_receipt_summary[] = "verify a run's receipt offline against the policy (receipt verify)";

#define MAX_RECEIPT_BYTES ((size_t)1 << 20)
#define MAX_FILES 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: strongbox receipt verify --policy POLICY [--json] [--input NAME=FILE]...\n"
            "                                [--output NAME=FILE]... RECEIPT\n"
            "Verifies RECEIPT (from `strongbox run ... --receipt RECEIPT`) offline: the isolate's\n"
            "certificate chain in it to the policy's attestation root as of the receipt's time, the\n"
            "attestation token in it, the runtime measurement accepted by the policy, the policy\n"
            "hash, each program's hash, the isolate's signature. --input/--output check your own\n"
            "FILE against the hash the receipt names for NAME (a path of the computation).\n"
            "Prints what the receipt proves (--json: as one JSON object).\n"
            "Exit: 0 verified, 1 local error, 2 usage, 3 refused (with the reason).\n");
}

/* NAME=FILE into files[*n]. */
static int add_file(const char *spec, int output, strongbox_receipt_file *files, size_t *n)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1] || *n == MAX_FILES) {
        fprintf(stderr, "strongbox receipt: %s %s: expected NAME=FILE (at most %d)\n",
                output ? "--output" : "--input", spec, MAX_FILES);
        return -1;
    }
    char *name = strndup(spec, (size_t)(eq - spec));
    if (!name)
        return -1;
    files[(*n)++] = (strongbox_receipt_file){name, eq + 1, output};
    return 0;
}

static int verify_file(const char *policy, int json, const strongbox_receipt_file *files,
                       size_t n, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    sb_err e = {0};
    if (sb_read_file(path, MAX_RECEIPT_BYTES, &data, &len, &e) != 0) {
        fprintf(stderr, "strongbox receipt: %s\n", e.msg);
        return 1;
    }
    strongbox_error se;
    char *text = NULL, *js = NULL;
    int rc = strongbox_receipt_verify(data, len, policy, files, n, &text, json ? &js : NULL, &se);
    free(data);
    if (rc != 0) {
        fprintf(stderr, "strongbox receipt: %s: refused: %s\n", path, se.message);
        return se.code == STRONGBOX_E_VERIFY ? 3 : 1;
    }
    if (json)
        printf("%s\n", js);
    else
        fputs(text, stdout);
    free(text);
    free(js);
    return 0;
}

int sb_cmd_receipt(int argc, char **argv)
{
    const char *policy = NULL, *file = NULL;
    strongbox_receipt_file files[MAX_FILES];
    size_t n = 0;
    int json = 0, rc = 2;
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (strcmp(a, "--policy") == 0 && i + 1 < argc) {
            policy = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if ((strcmp(a, "--input") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            if (add_file(argv[++i], a[2] == 'o', files, &n) != 0)
                goto out;
        } else if (a[0] == '-' || file) {
            fprintf(stderr, "strongbox receipt: unexpected argument %s\n", a);
            usage(stderr);
            goto out;
        } else {
            file = a;
        }
    }
    if (!policy || !file) {
        fprintf(stderr, "strongbox receipt: %s\n", !policy ? "--policy POLICY is required"
                                                            : "no RECEIPT given");
        usage(stderr);
        goto out;
    }
    rc = verify_file(policy, json, files, n, file);
out:
    for (size_t i = 0; i < n; i++)
        free((char *)files[i].name);
    return rc;
}
