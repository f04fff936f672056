/* decode.h - the byte reader shared by the decoder and the function-body translator. */
#ifndef SB_WASM_DECODE_H
#define SB_WASM_DECODE_H

#include "wasm/internal.h"

typedef struct reader {
    const uint8_t *p, *end, *base; /* base: start of the binary, for error offsets */
    wasm_error *err;
    const char *eof_msg;           /* message when reading past end */
    bool failed;                   /* sticky: after a failure every read returns 0 */
} reader;

int rd_fail(reader *r, wasm_errkind kind, const char *msg);
uint8_t rd_u8_slow(reader *r);
uint64_t rd_leb_slow(reader *r, unsigned bits, bool is_signed);

/* The one-byte cases are by far the most common: inline them. */
static inline uint8_t rd_u8(reader *r)
{
    return r->p < r->end ? *r->p++ : rd_u8_slow(r);
}

static inline uint32_t rd_u32(reader *r)
{
    if (r->p < r->end && !(*r->p & 0x80))
        return *r->p++;
    return (uint32_t)rd_leb_slow(r, 32, false);
}

static inline int32_t rd_s32(reader *r)
{
    if (r->p < r->end && !(*r->p & 0x80)) {
        uint8_t b = *r->p++;
        return (int32_t)(b & 0x40 ? (uint32_t)b | ~0x7Fu : b);
    }
    return (int32_t)(uint32_t)rd_leb_slow(r, 32, true);
}

int64_t rd_s64(reader *r);
int64_t rd_s33(reader *r);
uint32_t rd_fixed32(reader *r);
uint64_t rd_fixed64(reader *r);
uint32_t rd_count(reader *r, size_t min_size);
char *rd_name(reader *r, uint32_t *len_out);
int rd_valtype(reader *r, wasm_valtype *out);

#endif
