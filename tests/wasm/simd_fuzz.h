/* simd_fuzz.h - fuzzer bytes -> one SIMD case (simd_check.h), checked in every accelerated form
 * this machine builds (x86-64: SSE4.1 and SSE2) against the portable form. Used by the libFuzzer
 * target fuzz_simd_ops and by its replay test (simd_fuzz_replay over simd_fuzz_seeds/).
 *
 * Input format (every byte string decodes; missing bytes read as zero, extra bytes are ignored):
 *   byte 0      family: value % 8 in the order un bin tern test shift splat load shuffle
 *   byte 1      operation: value % (operations in the family), table order of simdops.h
 *   byte 2      load misalignment: value % 16
 *   bytes 3...  operands, 16-byte vectors little-endian lane order:
 *               un, test: a | bin: a b | tern: a b c | shift: a, count (4 bytes LE)
 *               splat: scalar (8 bytes LE) | load: the bytes the load reads (1 to 16)
 *               shuffle: a b, 16 lane indices (each taken % 32) */
#ifndef SB_TEST_SIMD_FUZZ_H
#define SB_TEST_SIMD_FUZZ_H

#include <stddef.h>

#include "simd_check.h"

#define SIMD_FUZZ_HEADER 3
#define SIMD_FUZZ_MAX_INPUT (SIMD_FUZZ_HEADER + 48) /* the longest operands: three vectors */

/* The accelerated forms (simd_forms.c, built once per instruction set). */
typedef struct {
    const char *name;
    const struct simd_impl *impl;
} simd_form;
extern const simd_form simd_fuzz_forms[];
extern const unsigned simd_fuzz_form_count;

void simd_fuzz_decode(const uint8_t *data, size_t size, simd_case *c);

/* Decodes and checks every accelerated form against the portable one. Returns how many forms
 * disagree (each printed to out unless out is NULL), or -1 if out of memory. */
int simd_fuzz_check(const uint8_t *data, size_t size, simd_case *c, FILE *out);

#endif
