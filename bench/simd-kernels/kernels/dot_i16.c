/* dot_i16.c - dot product of two 4096-element int16 vectors with 32-bit accumulation, `n` times
 * (one element changes between rounds so no round can be skipped). The products are widened
 * i16 -> i32 and summed with wrap-around (uint32), which is associative, so a vectoriser may
 * reorder the sum (i32x4 lanes, extmul or dot instructions) and still match the scalar result. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

#define LEN 4096

static int16_t va[LEN], vb[LEN];

static uint32_t dot(void)
{
    uint32_t sum = 0;
    for (int i = 0; i < LEN; i++)
        sum += (uint32_t)((int32_t)va[i] * (int32_t)vb[i]);
    return sum;
}

uint64_t bench_run(uint32_t n)
{
    uint32_t seed = 0x9E3779B9u;
    for (int i = 0; i < LEN; i++) {
        seed = seed * 1664525u + 1013904223u;
        va[i] = (int16_t)(seed >> 16);
        seed = seed * 1664525u + 1013904223u;
        vb[i] = (int16_t)(seed >> 16);
    }
    uint64_t sum = 0;
    for (uint32_t r = 0; r < n; r++) {
        sum = sum * 0x100000001B3ull + dot();
        va[(r * 37) % LEN] = (int16_t)(va[(r * 37) % LEN] + 1);
    }
    return sum;
}
