#include "fuzz_common.h"
SB_FUZZ_VERIFIER(sb_verify_snp, "2024-01-01T00:00:00Z", "snp/gosevguest_milan_vcek.der",
                 "snp/amd_ask_ark_milan.pem")
