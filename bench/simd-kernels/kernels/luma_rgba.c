/* luma_rgba.c - RGBA -> 8-bit luma (BT.601 studio range, the integer form
 * Y = ((66 R + 129 G + 25 B + 128) >> 8) + 16) of a 128x128 image, `n` times. With -msimd128 it
 * is written with explicit intrinsics (<wasm_simd128.h>) instead of relying on the vectoriser:
 * 16 pixels per step, bytes widened to i16, i32x4.dot_i16x8_s against the weights, an i32x4
 * shuffle pair to add the two halves of each pixel, then two narrowing steps back to bytes.
 * Every other build (wasm without SIMD, native) runs the plain C loop; results are identical. */
#include <stdint.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

uint64_t bench_run(uint32_t n);

#define PIXELS (128 * 128)

static uint8_t rgba[PIXELS * 4], luma[PIXELS];

#ifdef __wasm_simd128__
/* 4 pixels (one vector of RGBA bytes) widened as 2 x 2 pixels of i16 -> 4 raw sums in i32x4. */
static v128_t weighted4(v128_t px)
{
    const v128_t w = wasm_i16x8_make(66, 129, 25, 0, 66, 129, 25, 0);
    v128_t lo = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(px), w);  /* RG0 B0 RG1 B1 */
    v128_t hi = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(px), w); /* RG2 B2 RG3 B3 */
    v128_t rg = wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6);
    v128_t b = wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7);
    v128_t y = wasm_u32x4_shr(wasm_i32x4_add(wasm_i32x4_add(rg, b), wasm_i32x4_splat(128)), 8);
    return wasm_i32x4_add(y, wasm_i32x4_splat(16));
}

static void convert(void)
{
    for (int p = 0; p < PIXELS; p += 16) {
        const uint8_t *src = rgba + 4 * p;
        v128_t y0 = weighted4(wasm_v128_load(src));
        v128_t y1 = weighted4(wasm_v128_load(src + 16));
        v128_t y2 = weighted4(wasm_v128_load(src + 32));
        v128_t y3 = weighted4(wasm_v128_load(src + 48));
        v128_t lo = wasm_u16x8_narrow_i32x4(y0, y1);
        v128_t hi = wasm_u16x8_narrow_i32x4(y2, y3);
        wasm_v128_store(luma + p, wasm_u8x16_narrow_i16x8(lo, hi));
    }
}
#else
static void convert(void)
{
    for (int p = 0; p < PIXELS; p++) {
        const uint8_t *px = rgba + 4 * p;
        luma[p] = (uint8_t)(((66 * px[0] + 129 * px[1] + 25 * px[2] + 128) >> 8) + 16);
    }
}
#endif

uint64_t bench_run(uint32_t n)
{
    uint32_t seed = 0xC0FFEEu;
    for (int i = 0; i < PIXELS * 4; i++) {
        seed = seed * 1664525u + 1013904223u;
        rgba[i] = (uint8_t)(seed >> 24);
    }
    uint64_t sum = 0;
    for (uint32_t r = 0; r < n; r++) {
        convert();
        sum = sum * 31 + luma[(r * 101) % PIXELS];
        rgba[(r * 29) % (PIXELS * 4)] += 1; /* one input byte changes per round */
    }
    for (int p = 0; p < PIXELS; p++)
        sum += (uint64_t)luma[p] << (p & 31);
    return sum;
}
