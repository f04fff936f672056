/* exgen.h - a deterministic random generator (xorshift64*) for the examples' data generators, so
 * that test data is reproducible from a seed. Generators only: programs never include it. */
#ifndef EXGEN_H
#define EXGEN_H

#include <math.h>
#include <stdint.h>

typedef struct ex_rng {
    uint64_t s;
} ex_rng;

static inline void ex_seed(ex_rng *r, uint64_t seed) { r->s = seed * 2654435761ULL + 0x9E3779B97F4A7C15ULL; }
static inline uint64_t ex_rand(ex_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}
/* Uniform in [0, 1). */
static inline double ex_uniform(ex_rng *r) { return (double)(ex_rand(r) >> 11) / 9007199254740992.0; }
/* Standard normal (Box-Muller). */
static inline double ex_normal(ex_rng *r)
{
    double u = ex_uniform(r), v = ex_uniform(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}
/* Uniform integer in [0, n). */
static inline uint64_t ex_below(ex_rng *r, uint64_t n) { return ex_rand(r) % n; }

#endif
