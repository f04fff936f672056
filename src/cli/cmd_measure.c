/* strongbox measure - the measurement a party puts in its policy for a runtime binary.
 *
 * For the process platform the host measures exactly the bytes it executes: SHA-256 of the
 * strongbox-runtime binary (the host hashes the open file and then executes that same file
 * descriptor). A party who rebuilds the runtime reproducibly (docs/reproducing.md) runs this on
 * its own build and compares with the policy's accepted list. */
#include "cli/commands.h"
#include "common/common.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SB_COMMAND_DECL(measure);
const char sb_cmd_measure_summary[] = "print the measurement of a runtime binary for a policy";

#define MAX_RUNTIME_BYTES (512u << 20)

static void usage(FILE *out)
{
    fprintf(out, "usage: strongbox measure [--platform process] [--json] RUNTIME_BINARY\n"
                 "Prints the platform's measurement of the binary as hex, the form a policy's\n"
                 "runtimes[].measurements entry takes. Platforms: process (SHA-256 of the binary).\n"
                 "--json prints {\"platform\": NAME, \"measurement\": HEX}.\n");
}

int sb_cmd_measure(int argc, char **argv)
{
    const char *platform = "process", *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc) {
            platform = argv[++i];
        } else if (argv[i][0] == '-' || path) {
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (strcmp(platform, "process") != 0) {
        fprintf(stderr, "strongbox measure: platform '%s' has no binary measurement here: "
                        "VM-image forms come with their backends (process is supported)\n", platform);
        return 2;
    }
    uint8_t *data, digest[32];
    size_t len;
    unsigned int dlen = 0;
    sb_err err;
    if (sb_read_file(path, MAX_RUNTIME_BYTES, &data, &len, &err) != 0) {
        fprintf(stderr, "strongbox measure: %s\n", err.msg);
        return 1;
    }
    int ok = EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL);
    free(data);
    if (!ok || dlen != sizeof digest) {
        fprintf(stderr, "strongbox measure: SHA-256 failed\n");
        return 1;
    }
    char hex[65];
    sb_hex_encode(digest, sizeof digest, hex);
    if (json)
        printf("{\"platform\":\"%s\",\"measurement\":\"%s\"}\n", platform, hex);
    else
        printf("%s\n", hex);
    return 0;
}
