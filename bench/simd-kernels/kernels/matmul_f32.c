/* matmul_f32.c - 64x64 single-precision matrix multiply in i-k-j order, repeated `n` times with
 * the product fed back. The inner loop is c[i][j] += a[i][k] * b[k][j] over j: an elementwise
 * multiply-add with no reduction, so a vectoriser can widen it to f32x4 without reassociating
 * anything (no -ffast-math needed) and every build gets bit-identical results. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

#define DIM 64

static float a[DIM][DIM], b[DIM][DIM], c[DIM][DIM];

static void multiply(void)
{
    for (int i = 0; i < DIM; i++) {
        for (int j = 0; j < DIM; j++)
            c[i][j] = 0.0f;
        for (int k = 0; k < DIM; k++) {
            float aik = a[i][k];
            for (int j = 0; j < DIM; j++)
                c[i][j] += aik * b[k][j];
        }
    }
}

/* Scaling by 1/64 is exact, so feeding back keeps values bounded without rounding differences. */
static void feed_back(void)
{
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++)
            a[i][j] = c[i][j] * (1.0f / DIM) + 0.25f;
}

static uint32_t float_bits(float f)
{
    union { float f; uint32_t u; } v = {f};
    return v.u;
}

uint64_t bench_run(uint32_t n)
{
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) {
            a[i][j] = (float)((i * 7 + j * 3) % 17) / 17.0f;
            b[i][j] = (float)((i * 5 + j * 11) % 13) / 13.0f - 0.5f;
        }
    uint64_t sum = 0;
    for (uint32_t r = 0; r < n; r++) {
        multiply();
        feed_back();
        sum = sum * 31 + float_bits(c[r % DIM][(r * 7) % DIM]);
    }
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++)
            sum += (uint64_t)float_bits(c[i][j]) << (j & 31);
    return sum;
}
