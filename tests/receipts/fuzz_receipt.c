/* fuzz_receipt - a receipt from an untrusted source through the client's offline verification
 * (strongbox_receipt_verify, src/client/receipt.c): COSE_Sign1 and strict CBOR decoding
 * (src/cose), the payload's fields, the x5chain, then the checks against a real policy
 * (fuzz/policy.json, the one the seeds were issued under: tests/receipts/fuzz/README.md).
 * Built as a libFuzzer target with -DSB_FUZZ=ON, and replayed over the seeds and regressions/ by
 * tests/common/fuzz_replay.c in every build (ctest receipts.fuzz_replay). */
#include "strongbox.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef SB_RECEIPT_FUZZ_DIR
#error "SB_RECEIPT_FUZZ_DIR: the folder of policy.json (tests/receipts/CMakeLists.txt)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char policy[] = SB_RECEIPT_FUZZ_DIR "/policy.json";
    char *text = NULL, *json = NULL;
    strongbox_error err = {0};
    int rc = strongbox_receipt_verify(data, size, policy, NULL, 0, &text, &json, &err);
    free(text);
    free(json);
    if (rc == 0) {
        /* A receipt that verifies: also the check of a party's file against it (this one is
         * named by no receipt, or has another hash: refused either way). */
        const strongbox_receipt_file f = {"/inputs/alice/rows.csv", policy, 0};
        if (strongbox_receipt_verify(data, size, policy, &f, 1, &text, NULL, &err) == 0)
            abort(); /* a file the receipt does not describe was accepted */
        free(text);
    }
    return 0;
}
