/* fuzz_policy.c - libFuzzer target for the policy parser and the JCS canonicaliser.
 *
 * Properties checked beyond "no crash, no leak": a canonical form is a fixed point (canonicalising
 * it again gives the same bytes), and a parsed policy's hash is SHA-256 of its canonical bytes. */
#include "policy/policy.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_err err;
    uint8_t *canon, *again;
    size_t clen, alen;
    if (sb_policy_jcs(data, size, 64, &canon, &clen, &err) == 0) {
        if (sb_policy_jcs(canon, clen, 64, &again, &alen, &err) != 0 || alen != clen ||
            memcmp(again, canon, clen) != 0)
            abort();
        free(again);
        free(canon);
    }
    sb_policy *p = NULL;
    /* fixed "now" so a crash reproduces; time checks on and off reach different paths */
    for (unsigned flags = 0; flags < 2; flags++) {
        if (sb_policy_parse(data, size, 1800000000, flags, &p, &err) == 0) {
            size_t n;
            const uint8_t *c = sb_policy_canonical(p, &n);
            uint8_t digest[32];
            EVP_Digest(c, n, digest, NULL, EVP_sha256(), NULL);
            if (memcmp(digest, sb_policy_hash(p), 32) != 0)
                abort();
            sb_policy_free(p);
        } else if (p || err.msg[0] == '\0') {
            abort();
        }
    }
    return 0;
}
