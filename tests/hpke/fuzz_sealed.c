/* fuzz_sealed.c - libFuzzer target: sb_sealed_open on arbitrary bytes. It must refuse or open
 * without touching memory outside the input, and never hand out plaintext of a refused envelope. */
#include "hpke/sealed.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t ikm[32] = {1, 2, 3};
    uint8_t sk[HPKE_SK_LEN], pk[HPKE_PK_LEN], *pt = NULL;
    size_t pt_len = 0;
    sb_sealed_header h;
    if (hpke_derive_keypair(ikm, sizeof ikm, sk, pk, NULL) != 0)
        abort();
    int rc = sb_sealed_open(data, size, sk, &h, &pt, &pt_len, NULL);
    if (rc != 0 && pt)
        abort();
    free(pt);
    return 0;
}
