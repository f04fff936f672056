/* blur_u8.c - 3x3 Gaussian blur ([1 2 1; 2 4 2; 1 2 1] / 16, rounded) of a 256x256 8-bit
 * grayscale image, applied `n` times (each pass blurs the previous result). Integer arithmetic on
 * bytes: the weighted sum needs 12 bits, so a vectoriser works in u8 -> u16 widened lanes
 * (v128.load8x8_u) and narrows back; neighbours are unaligned loads at offsets -1/+1. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

#define W 256
#define H 256

static uint8_t img[2][H][W];

/* Separable form: column sums (1 2 1 down each column), then sums of neighbouring columns twice
 * ((c0 + c1) + (c1 + c2) = c0 + 2 c1 + c2), all in u16. Written as nine neighbour loads in one
 * loop, clang-14's load PRE turns the -1/+1 loads into second-order recurrences that its loop
 * vectoriser cannot handle; each loop here has at most a first-order one (an i8x16.shuffle). */
static void blur(uint8_t (*restrict dst)[W], const uint8_t (*restrict src)[W])
{
    uint16_t col[W], pair[W];
    for (int y = 1; y < H - 1; y++) {
        const uint8_t *up = src[y - 1], *mid = src[y], *down = src[y + 1];
        for (int x = 0; x < W; x++)
            col[x] = (uint16_t)(up[x] + 2 * mid[x] + down[x]);
        for (int x = 0; x < W - 1; x++)
            pair[x] = (uint16_t)(col[x] + col[x + 1]);
        uint8_t *out = dst[y];
        for (int x = 1; x < W - 1; x++)
            out[x] = (uint8_t)((pair[x - 1] + pair[x] + 8) >> 4);
    }
}

/* Borders are copied through unchanged. */
static void copy_borders(uint8_t (*dst)[W], const uint8_t (*src)[W])
{
    for (int x = 0; x < W; x++) {
        dst[0][x] = src[0][x];
        dst[H - 1][x] = src[H - 1][x];
    }
    for (int y = 0; y < H; y++) {
        dst[y][0] = src[y][0];
        dst[y][W - 1] = src[y][W - 1];
    }
}

uint64_t bench_run(uint32_t n)
{
    uint32_t seed = 0x12345678u;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            seed = seed * 1664525u + 1013904223u; /* LCG noise over a gradient */
            img[0][y][x] = (uint8_t)(((x ^ y) & 0x80) + (seed >> 25));
        }
    uint64_t sum = 0;
    int cur = 0;
    for (uint32_t r = 0; r < n; r++) {
        blur(img[cur ^ 1], (const uint8_t (*)[W])img[cur]);
        copy_borders(img[cur ^ 1], (const uint8_t (*)[W])img[cur]);
        cur ^= 1;
        /* Re-seed one pixel per pass so the image never converges to a fixed point. */
        img[cur][1 + r % (H - 2)][1 + (r * 13) % (W - 2)] ^= 0xA5;
        sum = sum * 31 + img[cur][r % H][(r * 7) % W];
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            sum += (uint64_t)img[cur][y][x] << ((x + y) & 31);
    return sum;
}
