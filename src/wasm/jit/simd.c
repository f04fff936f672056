/* simd.c - SIMD (v128) operations for the compiled tier. */
#include "wasm/jit/jc.h"
#include "wasm/ops.h"

#include <stdio.h>

uint32_t jit_simd_op(jc *j, int op, const cell *p)
{
    (void)p;
    if (op >= OP_v128_not && !j->why[0])
        snprintf(j->why, sizeof ((jit_module *)0)->unsupported,
                 "SIMD (v128) instructions are not compiled yet");
    return 0;
}
