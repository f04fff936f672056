#include "fuzz_common.h"
SB_FUZZ_VERIFIER(sb_verify_cca, "2024-01-01T00:00:00Z", "cca/tfrmm_cpak.pub.pem")
