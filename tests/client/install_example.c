/* Built against an installed libstrongbox with nothing but `pkg-config`: connects to a computation,
 * verifies its isolate, puts a buffer, gets it back and compares. Uses every part of the library
 * (verifiers, attestation, policy, protocol, COSE), so a missing component in the installed
 * archive or shared object shows as an undefined symbol when this is linked.
 * usage: install_example POLICY KEY CERT REMOTE_PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strongbox.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: install_example POLICY KEY CERT REMOTE_PATH\n");
        return 2;
    }
    strongbox_options o = {.policy_path = argv[1], .key_path = argv[2], .cert_path = argv[3]};
    strongbox *s;
    strongbox_error e;
    if (strongbox_connect(&o, &s, &e) != 0) {
        fprintf(stderr, "connect: %s\n", e.message);
        return 1;
    }
    printf("libstrongbox %s: verified isolate of computation %s\n%s", STRONGBOX_VERSION,
           strongbox_policy_hash(s), strongbox_transcript(s));
    static const char data[] = "bytes from a program linked against the installed library";
    uint8_t *back = NULL;
    size_t len = 0;
    int rc = strongbox_put_buffer(s, data, sizeof data - 1, argv[4], 0, &e) != 0 ||
             strongbox_get_buffer(s, argv[4], 1 << 20, &back, &len, &e) != 0;
    strongbox_close(s);
    if (rc) {
        fprintf(stderr, "put/get: %s\n", e.message);
        return 1;
    }
    if (len != sizeof data - 1 || memcmp(back, data, len) != 0) {
        fprintf(stderr, "got back %zu different bytes\n", len);
        free(back);
        return 1;
    }
    free(back);
    printf("put and got back %zu bytes\n", len);
    return 0;
}
