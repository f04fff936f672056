/* Frama-C/EVA driver: the wasm binary reader's bounds arithmetic on arbitrary bytes.
 *
 * Includes the real src/wasm/decode.c and runs the reader primitives every decoder path uses
 * (one-byte fast paths, strict LEB128 of 32/33/64 bits signed and unsigned, fixed-width reads,
 * vector counts checked against the remaining bytes, value types) in an arbitrary
 * order over an arbitrary buffer of 0..LEN bytes. Zero alarms means no out-of-bounds read, no
 * invalid shift and no overflow for any such input, including reads past the end (sticky failure).
 * Not covered: rd_name (its copy relies on `n <= end - p`, a relation between a count and a pointer
 * offset that EVA's non-relational domains lose: 3 alarms remain; docs/tcb.md). */
#include "__fc_builtin.h"
#include "../../src/wasm/decode.c"

#define LEN 12
#define STEPS 4

static uint8_t bytes[LEN];

int main(void)
{
    Frama_C_make_unknown((char *)bytes, LEN);
    size_t len = (size_t)Frama_C_interval(0, LEN);
    //@ split len;
    wasm_error err = {0};
    reader r = {.p = bytes, .end = bytes + len, .base = bytes, .err = &err, .eof_msg = NULL};
    uint64_t sink = 0;
    for (int i = 0; i < STEPS; i++) {
        switch (Frama_C_interval(0, 8)) {
        case 0: sink += rd_u8(&r); break;
        case 1: sink += rd_u32(&r); break;
        case 2: sink += (uint32_t)rd_s32(&r); break;
        case 3: sink += (uint64_t)rd_s64(&r); break;
        case 4: sink += (uint64_t)rd_s33(&r); break;
        case 5: sink += rd_fixed32(&r); break;
        case 6: sink += rd_fixed64(&r); break;
        case 7: sink += rd_count(&r, (size_t)Frama_C_interval(1, 16)); break;
        default: {
            wasm_valtype t;
            sink += (uint64_t)rd_valtype(&r, &t);
        }
        }
        /* The reader never leaves its buffer. */
        //@ assert r.p >= (uint8_t const *)bytes && r.p <= r.end && r.end == (uint8_t const *)bytes + len;
    }
    return (int)(sink & 1);
}
