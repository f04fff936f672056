/* evidence.c - process-platform evidence: a PSA token signed by the host attestation key, carrying
 * the runtime measurement and the binding (format and encoder: attest.h). */
#include "attest/attest.h"
#include "platform/platform_impl.h"

#include <errno.h>

int sb_process_evidence(sb_platform *p, const uint8_t *binding, size_t binding_len, uint8_t **ev,
                        size_t *ev_len, sb_err *err)
{
    if (!p->attest_key)
        return sb_err_set(err, EINVAL, "process evidence: no host attestation key configured");
    if (binding_len != SB_BINDING_LEN)
        return sb_err_set(err, EINVAL, "process evidence: binding is %zu bytes, not %d",
                          binding_len, SB_BINDING_LEN);
    if (sb_process_evidence_create(p->attest_key, p->measurement, binding, ev, ev_len, err) != 0) {
        sb_err_prefix(err, "process evidence");
        return -1;
    }
    return 0;
}
