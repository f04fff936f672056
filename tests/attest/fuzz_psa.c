/* fuzz_psa - PSA claims decoding, whole-token verification (Sign1 and Mac0) and the process
 * platform's evidence verifier on arbitrary input. */
#include "attest/attest.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static EVP_PKEY *key;
    if (!key)
        key = EVP_EC_gen("P-256"); /* kept for the process lifetime of the fuzzer */
    sb_psa_token *t = malloc(sizeof *t);
    if (!t)
        return 0;
    if (sb_psa_decode_claims(data, size, t, NULL) == 0) {
        char *json = sb_psa_to_json(t);
        free(json);
    }
    static const uint8_t hk[32] = {7};
    sb_psa_verify(data, size, key, NULL, 0, t, NULL);
    sb_psa_verify(data, size, NULL, hk, sizeof hk, t, NULL);
    uint8_t iid[33];
    size_t il;
    sb_psa_peek_instance_id(data, size, iid, &il, NULL);
    sb_trust_anchors a = {.keys = &key, .n_keys = 1, .hmac_key = hk, .hmac_key_len = sizeof hk};
    sb_claims c;
    sb_verify_process(data, size, &a, 0, &c, NULL);
    sb_verify_psa(data, size, &a, 0, &c, NULL);
    free(t);
    return 0;
}
