/* matmul.c - dense double-precision matrix multiply (64x64), repeated `n` times.
 * Exercises f64 loads, multiplies and adds in a tight triple loop. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

#define DIM 64

static double a[DIM][DIM], b[DIM][DIM], c[DIM][DIM];

static void multiply(void)
{
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) {
            double sum = 0.0;
            for (int k = 0; k < DIM; k++)
                sum += a[i][k] * b[k][j];
            c[i][j] = sum;
        }
}

uint64_t bench_run(uint32_t n)
{
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) {
            a[i][j] = (double)((i * 7 + j * 3) % 17) / 17.0;
            b[i][j] = (double)((i * 5 + j * 11) % 13) / 13.0 - 0.5;
        }
    double trace = 0.0;
    for (uint32_t r = 0; r < n; r++) {
        multiply();
        /* Feed the product back, scaled, so values stay bounded and every round depends on the last. */
        for (int i = 0; i < DIM; i++)
            for (int j = 0; j < DIM; j++)
                a[i][j] = c[i][j] * (1.0 / DIM) + 0.25;
        trace += c[r % DIM][r % DIM];
    }
    union { double d; uint64_t u; } bits = {trace};
    return bits.u;
}
