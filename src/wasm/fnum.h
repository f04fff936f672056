/* fnum.h - float helpers shared by the interpreter and the compiled tier's C helpers, so both
 * tiers compute min/max (NaN and signed zeros) with the very same code. */
#ifndef SB_WASM_FNUM_H
#define SB_WASM_FNUM_H

#include "wasm/internal.h"

#include <math.h>

static inline float f32_of(slot_t s) { union { uint32_t u; float f; } x = {.u = (uint32_t)s}; return x.f; }
static inline double f64_of(slot_t s) { union { uint64_t u; double f; } x = {.u = s}; return x.f; }
static inline slot_t slot_f32(float f) { union { uint32_t u; float f; } x = {.f = f}; return x.u; }
static inline slot_t slot_f64(double f) { union { uint64_t u; double f; } x = {.f = f}; return x.u; }

/* The NaN min/max return: the first NaN operand, quieted (what x86's addsd gives for a + b).
 * Written out because `a + b` is commutative to the compiler, which may emit it either way round
 * in the interpreter and in the compiled tier's helper, and the payloads must agree. */
static inline float fnan32(float a, float b)
{
    union { float f; uint32_t u; } x = {.f = a != a ? a : b};
    x.u |= 0x00400000u;
    return x.f;
}
static inline double fnan64(double a, double b)
{
    union { double f; uint64_t u; } x = {.f = a != a ? a : b};
    x.u |= 0x0008000000000000ull;
    return x.f;
}

/* WebAssembly min/max: NaN if either operand is NaN, and -0 < +0. */
static inline float fmin32(float a, float b)
{
    if (a != a || b != b) return fnan32(a, b);
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float fmax32(float a, float b)
{
    if (a != a || b != b) return fnan32(a, b);
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double fmin64(double a, double b)
{
    if (a != a || b != b) return fnan64(a, b);
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double fmax64(double a, double b)
{
    if (a != a || b != b) return fnan64(a, b);
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}

#endif
