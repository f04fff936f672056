/* Vectorisable loops: built for wasm32 with -msimd128 (clang turns them into v128 code) and
 * natively with gcc, then compared by compare.sh: stdout (checksums of every result) and the
 * files written must be identical, so the engine's SIMD gives the native answers bit for bit.
 * The kernels avoid reductions over floats (which would need -ffast-math to vectorise and then
 * may reassociate): every float result is elementwise. */
#include "common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N 4099 /* not a multiple of the vector width: the scalar tails run too */

static uint8_t a8[N], b8[N], r8[N];
static int16_t a16[N], b16[N], r16[N];
static int32_t a32[N], r32[N];
static float af[N], bf[N], rf[N];
static double ad[N], rd[N];

static uint64_t fnv(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static void fill(void)
{
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        a8[i] = (uint8_t)(x >> 16), b8[i] = (uint8_t)(x >> 8);
        a16[i] = (int16_t)(x >> 12), b16[i] = (int16_t)(x >> 3);
        a32[i] = (int32_t)x;
        af[i] = (float)(int32_t)(x >> 8) / 1024.0f;
        bf[i] = (float)(i % 97) - 48.5f;
        ad[i] = (double)(int32_t)x / 3.0;
    }
}

static void show(const char *name, const void *p, size_t n)
{
    printf("%-12s %016llx\n", name, (unsigned long long)fnv(p, n));
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    base_dir = argv[1];
    fill();
    for (int i = 0; i < N; i++) /* saturating add (i8x16.add_sat_u) */
        r8[i] = (uint8_t)(a8[i] + b8[i] > 255 ? 255 : a8[i] + b8[i]);
    show("add_sat_u8", r8, sizeof r8);
    for (int i = 0; i < N; i++) /* unsigned average, rounding up (i8x16.avgr_u) */
        r8[i] = (uint8_t)((a8[i] + b8[i] + 1) >> 1);
    show("avgr_u8", r8, sizeof r8);
    for (int i = 0; i < N; i++) /* min/max, abs */
        r16[i] = (int16_t)(a16[i] < b16[i] ? b16[i] : a16[i]);
    show("max_s16", r16, sizeof r16);
    for (int i = 0; i < N; i++)
        r32[i] = abs(a32[i] >> 1) - (a32[i] & 0xFF);
    show("abs_s32", r32, sizeof r32);
    for (int i = 0; i < N; i++) /* widening multiply (extmul) */
        r32[i] = (int32_t)a16[i] * b16[i];
    show("mul_wide16", r32, sizeof r32);
    for (int i = 0; i < N; i++) /* shifts by a constant and by a variable amount */
        r32[i] = (a32[i] >> 3) ^ (int32_t)((uint32_t)a32[i] << (argc & 7));
    show("shifts32", r32, sizeof r32);
    for (int i = 0; i < N; i++) /* float multiply-add, elementwise */
        rf[i] = af[i] * bf[i] + 0.5f * af[i];
    show("saxpy_f32", rf, sizeof rf);
    for (int i = 0; i < N; i++) /* float compare and select */
        rf[i] = af[i] > bf[i] ? af[i] - bf[i] : bf[i] / 4.0f;
    show("select_f32", rf, sizeof rf);
    for (int i = 0; i < N; i++) /* conversions */
        r32[i] = (int32_t)(af[i] * 3.0f);
    show("trunc_f32", r32, sizeof r32);
    for (int i = 0; i < N; i++)
        rd[i] = ad[i] * 0.25 - (double)a32[i];
    show("f64_mix", rd, sizeof rd);
    for (int i = 0; i < N; i++) /* narrowing with saturation */
        r8[i] = (uint8_t)(a16[i] < 0 ? 0 : a16[i] > 255 ? 255 : a16[i]);
    show("narrow_u8", r8, sizeof r8);
    for (int i = 0; i < N / 2; i++) /* byte reversal of a buffer (shuffles) */
        r8[i] = a8[N - 1 - i];
    show("reverse_u8", r8, N / 2);

    char path[512];
    snprintf(path, sizeof path, "%s/result.bin", base_dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(rf, sizeof rf, 1, f) != 1 || fwrite(r32, sizeof r32, 1, f) != 1 || fclose(f))
        return 1;
    return 0;
}
