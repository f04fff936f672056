#include "fuzz_common.h"
SB_FUZZ_VERIFIER(sb_verify_tdx, "2023-07-01T00:00:00Z", "tdx/intel_sgx_root_ca.pem")
