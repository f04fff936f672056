/* fuzz_attest_request - the service's request parsing: the JSON body of POST /v1/attest (base64
 * evidence, hex fields, size caps). */
#include "attestd/attestd.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_attest_req req;
    if (sb_attestd_parse_attest((const char *)data, size, &req, NULL) == 0)
        sb_attest_req_free(&req);
    return 0;
}
