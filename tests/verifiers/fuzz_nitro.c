#include "fuzz_common.h"
SB_FUZZ_VERIFIER(sb_verify_nitro, "2022-10-13T08:58:02Z", "nitro/aws_nitro_enclaves_root_g1.pem")
