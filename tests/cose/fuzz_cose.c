/* fuzz_cose - COSE_Sign1/Mac0 decoding, header lookup, COSE_Key and the strict CBOR reader. */
#include "cose/cose.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_cbor_check_single(data, size, NULL);
    static const sb_cose_type types[] = {SB_COSE_ANY, SB_COSE_SIGN1, SB_COSE_MAC0};
    for (size_t i = 0; i < 3; i++) {
        sb_cose_msg m;
        if (sb_cose_decode(data, size, types[i], &m, NULL) < 0)
            continue;
        sb_cbor v;
        int in_prot;
        const uint8_t *kid;
        size_t kid_len;
        sb_cose_header_find(&m, SB_COSE_HDR_X5CHAIN, &v, &in_prot, NULL);
        sb_cose_kid(&m, &kid, &kid_len, NULL);
        if (m.type == SB_COSE_MAC0) {
            static const uint8_t key[32] = {1};
            sb_cose_mac0_verify(&m, key, sizeof key, NULL, 0, NULL);
        }
    }
    EVP_PKEY *k = NULL;
    if (sb_cose_key_decode(data, size, &k, NULL) == 0)
        EVP_PKEY_free(k);
    return 0;
}
