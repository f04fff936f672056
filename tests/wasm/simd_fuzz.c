/* simd_fuzz.c - decoding of fuzzer bytes into a SIMD case; see simd_fuzz.h for the format. */
#include "simd_fuzz.h"

#include <string.h>

#if SIMD_FUZZ_X86
extern const struct simd_impl simd_sse41_impl, simd_sse2_impl;
const simd_form simd_fuzz_forms[] = {{"SSE4.1", &simd_sse41_impl}, {"SSE2", &simd_sse2_impl}};
#else
extern const struct simd_impl simd_native_impl;
const simd_form simd_fuzz_forms[] = {{"native", &simd_native_impl}};
#endif
const unsigned simd_fuzz_form_count = sizeof simd_fuzz_forms / sizeof simd_fuzz_forms[0];

static uint64_t little_endian(const uint8_t *p, unsigned bytes) {
    uint64_t x = 0;
    for (unsigned i = bytes; i-- > 0;) x = x << 8 | p[i];
    return x;
}

void simd_fuzz_decode(const uint8_t *data, size_t size, simd_case *c) {
    uint8_t buf[SIMD_FUZZ_MAX_INPUT] = {0};
    const uint8_t *ops = buf + SIMD_FUZZ_HEADER;
    memcpy(buf, data, size < sizeof buf ? size : sizeof buf);
    memset(c, 0, sizeof *c);
    c->family = (enum simd_family)(buf[0] % SIMD_FAMILIES);
    c->op = buf[1] % simd_family_size[c->family];
    c->mem_offset = buf[2] % 16u;
    memcpy(c->in, ops, 48); /* a b c; families take what they need */
    switch (c->family) {
    case SIMD_FAM_SHIFT: c->count = (uint32_t)little_endian(ops + 16, 4); break;
    case SIMD_FAM_SPLAT: c->scalar = little_endian(ops, 8); break;
    case SIMD_FAM_LOAD: memcpy(c->mem, ops, 16); break;
    case SIMD_FAM_SHUFFLE:
        for (unsigned i = 0; i < 16; i++) c->lanes[i] = ops[32 + i] % 32u;
        memset(&c->in[2], 0, sizeof c->in[2]);
        break;
    default: break;
    }
}

int simd_fuzz_check(const uint8_t *data, size_t size, simd_case *c, FILE *out) {
    int differ = 0;
    simd_fuzz_decode(data, size, c);
    for (unsigned f = 0; f < simd_fuzz_form_count; f++) {
        int rc = simd_check_case(simd_fuzz_forms[f].impl, &simd_portable_impl, c, simd_fuzz_forms[f].name, out);
        if (rc < 0) return -1;
        differ += rc;
    }
    return differ;
}
