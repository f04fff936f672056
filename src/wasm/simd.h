/* simd.h - semantics of the WebAssembly 2.0 fixed-width SIMD operations listed in simdops.h, as
 * static inline functions simd_<name>() for the interpreter.
 *
 * Each operation has an SSE2 form (x86-64 always has it), SSE4.1/SSSE3 forms where those help
 * (build with -msse4.1), and a portable form of plain lane loops, used on other hosts or when
 * SB_SIMD_PORTABLE is defined before inclusion. tests/wasm/test_simd_ops.c checks the accelerated
 * forms against the portable ones and both against answers from the spec testsuite.
 *
 * Float results follow the spec's NaN rules: any NaN produced is quiet (x86 and the C operators
 * quiet signalling inputs; min/max return the canonical NaN), bitwise operations (abs, neg,
 * pmin, pmax) return their input bits unchanged. The portable forms avoid C's undefined
 * behaviour: wrapping arithmetic on unsigned lanes, range checks before float-to-int casts. */
#ifndef SB_WASM_SIMD_H
#define SB_WASM_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(SB_SIMD_PORTABLE)
#define SV_SSE2 1
#include <emmintrin.h>
#else
#define SV_SSE2 0
#endif
#if SV_SSE2 && defined(__SSE4_1__)
#define SV_SSE41 1
#include <smmintrin.h>
#else
#define SV_SSE41 0
#endif
#if SV_SSE2 && defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

/* The vector member is always present so that every translation unit passes v128 the same way,
 * whichever form it selected. */
typedef long long sv_vec __attribute__((vector_size(16)));
typedef union {
    sv_vec v;
    uint8_t u8[16];
    int8_t i8[16];
    uint16_t u16[8];
    int16_t i16[8];
    uint32_t u32[4];
    int32_t i32[4];
    uint64_t u64[2];
    int64_t i64[2];
    float f32[4];
    double f64[2];
} v128;

static inline v128 v128_get(const void *p) { v128 r; memcpy(&r, p, 16); return r; }
static inline void v128_put(void *p, v128 v) { memcpy(p, &v, 16); }
static inline v128 sv_v(sv_vec v) { v128 r; r.v = v; return r; }

/* v with lane `lane` (of `size` bytes) replaced by the low bytes of x, computed in registers by a
 * compare-and-blend: writing the lane into a copy in memory and reloading the vector would stall
 * on store forwarding. Used by replace_lane and the lane loads. */
#define SV_INSERT(W, T, ...)                                                                   \
    case W: {                                                                                  \
        typedef T vt __attribute__((vector_size(16)));                                         \
        vt iota = {__VA_ARGS__}, m = (vt)(iota == (T)lane), xs = (vt){0} + (T)x;               \
        return sv_v((sv_vec)(((vt)v.v & ~m) | (xs & m)));                                      \
    }
static inline v128 v128_insert_lane(v128 v, unsigned lane, unsigned size, uint64_t x) {
    switch (size) {
    SV_INSERT(1, uint8_t, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    SV_INSERT(2, uint16_t, 0, 1, 2, 3, 4, 5, 6, 7)
    SV_INSERT(4, uint32_t, 0, 1, 2, 3)
    default: SV_INSERT(8, uint64_t, 0, 1)
    }
}

#define SV_N(R) (16 / sizeof(((v128 *)0)->R[0]))
#define SV_MASK(c) (0 - (uint64_t)(c))
#define SV_CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))

/* Operation generators: name, SSE operand type suffix T (i, empty for float, d), SSE expression
 * over x, y (operands as __m128##T), portable operand lane F, result lane R and lane expression
 * over x, y (lane i of each operand; R must not have more lanes than F). */
#if SV_SSE2
#define SV_UN(name, T, sse, F, R, port)                                                        \
    static inline v128 simd_##name(v128 a) {                                                   \
        __m128##T x = (__m128##T)a.v;                                                          \
        return sv_v((sv_vec)(sse));                                                            \
    }
#define SV_BIN(name, T, sse, F, R, port)                                                       \
    static inline v128 simd_##name(v128 a, v128 b) {                                           \
        __m128##T x = (__m128##T)a.v, y = (__m128##T)b.v;                                      \
        (void)y;                                                                               \
        return sv_v((sv_vec)(sse));                                                            \
    }
#if SV_SSE41
#define SV_41(fast, slow) (fast)
#else
#define SV_41(fast, slow) (slow)
#endif
#else
#define SV_UN(name, T, sse, F, R, port)                                                        \
    static inline v128 simd_##name(v128 a) {                                                   \
        v128 r;                                                                                \
        for (unsigned i = 0; i < SV_N(R); i++) {                                               \
            __typeof__(a.F[0]) x = a.F[i];                                                     \
            (void)x;                                                                           \
            r.R[i] = (port);                                                                   \
        }                                                                                      \
        return r;                                                                              \
    }
#define SV_BIN(name, T, sse, F, R, port)                                                       \
    static inline v128 simd_##name(v128 a, v128 b) {                                           \
        v128 r;                                                                                \
        for (unsigned i = 0; i < SV_N(R); i++) {                                               \
            __typeof__(a.F[0]) x = a.F[i], y = b.F[i];                                         \
            (void)x, (void)y;                                                                  \
            r.R[i] = (port);                                                                   \
        }                                                                                      \
        return r;                                                                              \
    }
#endif

/* ---- portable scalar helpers ---- */

/* Round half to even for |x| < 2^mantissa: adding and subtracting 2^mantissa leaves the integer
 * the current (default: nearest-even) rounding mode picks. Larger values, infinities and NaNs
 * are already integral; x + 0 quiets a signalling NaN. */
#define SV_ROUNDERS(T, s, BIG)                                                                 \
    static inline T sv_nearest##s(T x) {                                                       \
        T ax = fabs##s(x);                                                                     \
        return ax < BIG ? copysign##s((ax + BIG) - BIG, x) : x + 0;                            \
    }                                                                                          \
    static inline T sv_trunc##s(T x) {                                                         \
        T ax = fabs##s(x), n = sv_nearest##s(ax);                                              \
        return ax < BIG ? copysign##s(n > ax ? n - 1 : n, x) : x + 0;                          \
    }                                                                                          \
    static inline T sv_floor##s(T x) { T t = sv_trunc##s(x); return t > x ? t - 1 : t; }       \
    static inline T sv_ceil##s(T x) { T t = sv_trunc##s(x); return t < x ? t + 1 : t; }
SV_ROUNDERS(float, f, 8388608.0f)
SV_ROUNDERS(double, , 4503599627370496.0)

/* Which NaN a float result carries is pinned to what the SSE forms (and the compiled tier, which
 * emits the same instructions) give, so every build and both tiers agree bit for bit:
 * arithmetic returns its first operand's NaN, quieted (x + x), if it is one, and otherwise
 * whatever the operation gives (the one NaN operand quieted, or the default NaN). Left to
 * itself, the C compiler may swap the operands of x + y, and then two NaN operands give the
 * second one's payload. */
#define SV_FARITH(x, e) (x != x ? x + x : (e))
/* The canonical NaN with the sign set: what the SSE min/max forms return for a NaN lane. */
#define SV_NEG_NAN(x) ((__typeof__(x))-(double)NAN)
/* Wasm fmin/fmax: NaN if either operand is, and -0 < +0. */
#define SV_FMIN(x, y) (x != x || y != y ? SV_NEG_NAN(x) : x == y ? (signbit(x) ? x : y) : x < y ? x : y)
#define SV_FMAX(x, y) (x != x || y != y ? SV_NEG_NAN(x) : x == y ? (signbit(x) ? y : x) : x > y ? x : y)

/* Bit counts of the 8 bytes of x, each in its byte (the same steps as sv_popcnt8). */
static inline uint64_t sv_popcnt_bytes(uint64_t x) {
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    return (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
}

/* Saturating float-to-int conversions; the range checks come first (out of range casts are UB). */
#define SV_SAT_S32(x) (x != x ? 0 : x >= 2147483648.0 ? INT32_MAX : x < -2147483648.0 ? INT32_MIN : (int32_t)x)
#define SV_SAT_U32(x) (x != x || x <= -1.0 ? 0 : x >= 4294967296.0 ? UINT32_MAX : (uint32_t)x)

/* ---- SSE helpers ---- */
#if SV_SSE2
#define SV_ONES _mm_set1_epi32(-1)
#define SV_NOT(v) _mm_xor_si128(v, SV_ONES)
#define SV_SEL(m, t, f) SV_41(_mm_blendv_epi8(f, t, m), _mm_or_si128(_mm_and_si128(m, t), _mm_andnot_si128(m, f)))
/* Unsigned compare: flip the sign bits (K: the sign bits of each lane as an int) then signed. */
#define SV_GTU(W, K, x, y) _mm_cmpgt_epi##W(_mm_xor_si128(x, _mm_set1_epi32(K)), _mm_xor_si128(y, _mm_set1_epi32(K)))
/* A signed min/max from the unsigned one or back: op on sign-flipped operands, flipped back. */
#define SV_FLIPPED(op, W, K, x, y) _mm_xor_si128(op(_mm_xor_si128(x, _mm_set1_epi32(K)), _mm_xor_si128(y, _mm_set1_epi32(K))), _mm_set1_epi32(K))
#define SV_EXT_S(H, W, x) _mm_unpack##H##_epi##W(x, _mm_cmpgt_epi##W(_mm_setzero_si128(), x))
#define SV_EXT_U(H, W, x) _mm_unpack##H##_epi##W(x, _mm_setzero_si128())

static inline __m128i sv_eq64(__m128i x, __m128i y) {
#if SV_SSE41
    return _mm_cmpeq_epi64(x, y);
#else
    __m128i t = _mm_cmpeq_epi32(x, y);
    return _mm_and_si128(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
#endif
}

static inline __m128i sv_gt64(__m128i x, __m128i y) {
#ifdef __SSE4_2__
    return _mm_cmpgt_epi64(x, y);
#else
    /* y < x is the sign of y - x, flipped when the subtraction overflowed */
    __m128i d = _mm_sub_epi64(y, x);
    __m128i lt = _mm_xor_si128(d, _mm_and_si128(_mm_xor_si128(y, x), _mm_xor_si128(y, d)));
    return _mm_shuffle_epi32(_mm_srai_epi32(lt, 31), _MM_SHUFFLE(3, 3, 1, 1));
#endif
}

static inline __m128i sv_mul32(__m128i x, __m128i y) {
#if SV_SSE41
    return _mm_mullo_epi32(x, y);
#else
    __m128i even = _mm_mul_epu32(x, y), odd = _mm_mul_epu32(_mm_srli_epi64(x, 32), _mm_srli_epi64(y, 32));
    return _mm_unpacklo_epi32(_mm_shuffle_epi32(even, _MM_SHUFFLE(0, 0, 2, 0)), _mm_shuffle_epi32(odd, _MM_SHUFFLE(0, 0, 2, 0)));
#endif
}

static inline __m128i sv_mul64(__m128i x, __m128i y) {
    __m128i cross = _mm_add_epi64(_mm_mul_epu32(_mm_srli_epi64(x, 32), y), _mm_mul_epu32(x, _mm_srli_epi64(y, 32)));
    return _mm_add_epi64(_mm_mul_epu32(x, y), _mm_slli_epi64(cross, 32));
}

/* i64 lanes from i32 lanes 0 and 2 of x, y, multiplied as signed 32-bit numbers */
static inline __m128i sv_mul_epi32(__m128i x, __m128i y) {
#if SV_SSE41
    return _mm_mul_epi32(x, y);
#else
    /* the unsigned product minus y * 2^32 where x < 0 and x * 2^32 where y < 0 (x and y hold
     * the same value in both halves of each lane, see the callers) */
    __m128i p = _mm_mul_epu32(x, y);
    p = _mm_sub_epi64(p, _mm_slli_epi64(_mm_and_si128(_mm_srai_epi32(x, 31), y), 32));
    return _mm_sub_epi64(p, _mm_slli_epi64(_mm_and_si128(_mm_srai_epi32(y, 31), x), 32));
#endif
}

static inline __m128i sv_q15mulr(__m128i x, __m128i y) {
#if SV_SSE41
    __m128i r = _mm_mulhrs_epi16(x, y); /* only -32768 * -32768 overflows, to -32768 */
    return _mm_xor_si128(r, _mm_cmpeq_epi16(r, _mm_set1_epi16(INT16_MIN)));
#else
    __m128i lo = _mm_mullo_epi16(x, y), hi = _mm_mulhi_epi16(x, y), k = _mm_set1_epi32(0x4000);
    __m128i p0 = _mm_srai_epi32(_mm_add_epi32(_mm_unpacklo_epi16(lo, hi), k), 15);
    __m128i p1 = _mm_srai_epi32(_mm_add_epi32(_mm_unpackhi_epi16(lo, hi), k), 15);
    return _mm_packs_epi32(p0, p1);
#endif
}

static inline __m128i sv_narrow_u32(__m128i x, __m128i y) {
#if SV_SSE41
    return _mm_packus_epi32(x, y);
#else
    /* clamp to [0, 65535], sign-extend the low 16 bits so the signed pack keeps them */
    __m128i max = _mm_set1_epi32(65535);
    x = _mm_and_si128(SV_SEL(_mm_cmpgt_epi32(x, max), max, x), _mm_cmpgt_epi32(x, _mm_setzero_si128()));
    y = _mm_and_si128(SV_SEL(_mm_cmpgt_epi32(y, max), max, y), _mm_cmpgt_epi32(y, _mm_setzero_si128()));
    return _mm_packs_epi32(_mm_srai_epi32(_mm_slli_epi32(x, 16), 16), _mm_srai_epi32(_mm_slli_epi32(y, 16), 16));
#endif
}

static inline __m128i sv_popcnt8(__m128i x) {
    __m128i m1 = _mm_set1_epi8(0x55), m2 = _mm_set1_epi8(0x33), m4 = _mm_set1_epi8(0x0F);
    x = _mm_sub_epi8(x, _mm_and_si128(_mm_srli_epi16(x, 1), m1));
    x = _mm_add_epi8(_mm_and_si128(x, m2), _mm_and_si128(_mm_srli_epi16(x, 2), m2));
    return _mm_and_si128(_mm_add_epi8(x, _mm_srli_epi16(x, 4)), m4);
}

/* Float min/max (SH, N: shift that leaves a lane's payload bits): min in both operand orders
 * ORed (so -0 wins; x86 returns the second operand for NaNs and equal values), max ANDed (+0
 * wins); NaN lanes then become the canonical NaN (sign set). Rounding without SSE4.1 uses the
 * same add-2^mantissa idea as the portable form. */
#define SV_SSE_FLOAT(s, T, SH, N, BIG)                                                         \
    static inline __m128##T sv_nanfix_##s(__m128##T r, __m128##T x, __m128##T y) {             \
        __m128##T nan = _mm_cmpunord_##s(x, y);                                                \
        return _mm_andnot_##s((__m128##T)_mm_srli_epi##SH((__m128i)nan, N), _mm_or_##s(r, nan)); \
    }                                                                                          \
    static inline __m128##T sv_min_##s(__m128##T x, __m128##T y) {                             \
        return sv_nanfix_##s(_mm_or_##s(_mm_min_##s(x, y), _mm_min_##s(y, x)), x, y);          \
    }                                                                                          \
    static inline __m128##T sv_max_##s(__m128##T x, __m128##T y) {                             \
        return sv_nanfix_##s(_mm_and_##s(_mm_max_##s(x, y), _mm_max_##s(y, x)), x, y);         \
    }                                                                                          \
    static inline __m128##T sv_select_##s(__m128##T m, __m128##T t, __m128##T f) {            \
        return _mm_or_##s(_mm_and_##s(m, t), _mm_andnot_##s(m, f));                            \
    }                                                                                          \
    static inline __m128##T sv_nearest_##s(__m128##T x) {                                      \
        __m128##T sign = _mm_set1_##s(-0.0), big = _mm_set1_##s(BIG);                          \
        __m128##T ax = _mm_andnot_##s(sign, x);                                                \
        __m128##T n = _mm_or_##s(_mm_sub_##s(_mm_add_##s(ax, big), big), _mm_and_##s(sign, x)); \
        return sv_select_##s(_mm_cmplt_##s(ax, big), n, _mm_add_##s(x, _mm_setzero_##s()));    \
    }                                                                                          \
    static inline __m128##T sv_trunc_##s(__m128##T x) {                                        \
        __m128##T sign = _mm_set1_##s(-0.0), big = _mm_set1_##s(BIG);                          \
        __m128##T ax = _mm_andnot_##s(sign, x), n = sv_nearest_##s(ax);                        \
        n = _mm_sub_##s(n, _mm_and_##s(_mm_cmpgt_##s(n, ax), _mm_set1_##s(1.0)));              \
        n = _mm_or_##s(n, _mm_and_##s(sign, x));                                               \
        return sv_select_##s(_mm_cmplt_##s(ax, big), n, _mm_add_##s(x, _mm_setzero_##s()));    \
    }                                                                                          \
    static inline __m128##T sv_floor_##s(__m128##T x) {                                        \
        __m128##T t = sv_trunc_##s(x);                                                         \
        return _mm_sub_##s(t, _mm_and_##s(_mm_cmpgt_##s(t, x), _mm_set1_##s(1.0)));            \
    }                                                                                          \
    static inline __m128##T sv_ceil_##s(__m128##T x) {                                         \
        __m128##T t = sv_trunc_##s(x);                                                         \
        return _mm_sub_##s(t, _mm_and_##s(_mm_cmplt_##s(t, x), _mm_set1_##s(-1.0))); /* keeps -0 */ \
    }
SV_SSE_FLOAT(ps, , 32, 10, 8388608.0f)
SV_SSE_FLOAT(pd, d, 64, 13, 4503599627370496.0)

/* x86 returns the first operand's NaN when both are NaNs, but the compiler may swap the operands
 * of a commutative _mm_add/_mm_mul (it did, in the sanitizer build): asm pins x first, as the
 * compiled tier emits it (sub and div cannot be swapped). */
#ifdef __AVX__
#define SV_PINNED(op, s, T)                                                                    \
    static inline __m128##T sv_##op##_##s(__m128##T x, __m128##T y) {                          \
        __m128##T r;                                                                           \
        __asm__("v" #op #s " %2, %1, %0" : "=x"(r) : "x"(x), "xm"(y));                         \
        return r;                                                                              \
    }
#else
#define SV_PINNED(op, s, T)                                                                    \
    static inline __m128##T sv_##op##_##s(__m128##T x, __m128##T y) {                          \
        __asm__(#op #s " %1, %0" : "+x"(x) : "x"(y));                                          \
        return x;                                                                              \
    }
#endif
SV_PINNED(add, ps, ) SV_PINNED(mul, ps, ) SV_PINNED(add, pd, d) SV_PINNED(mul, pd, d)

#define SV_RNEAREST(s, x) SV_41(_mm_round_##s(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), sv_nearest_##s(x))
#define SV_RTRUNC(s, x) SV_41(_mm_round_##s(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), sv_trunc_##s(x))
#define SV_RFLOOR(s, x) SV_41(_mm_round_##s(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), sv_floor_##s(x))
#define SV_RCEIL(s, x) SV_41(_mm_round_##s(x, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC), sv_ceil_##s(x))

static inline __m128i sv_trunc_sat_s32(__m128 x) {
    /* cvttps2dq gives INT32_MIN for NaN and overflow: zero the NaNs first, flip positive ones */
    __m128i r = _mm_cvttps_epi32(_mm_and_ps(x, _mm_cmpord_ps(x, x)));
    return _mm_xor_si128(r, (__m128i)_mm_cmpge_ps(x, _mm_set1_ps(2147483648.0f)));
}

static inline __m128i sv_trunc_sat_u32(__m128 x) {
    __m128 two31 = _mm_set1_ps(2147483648.0f);
    x = _mm_max_ps(x, _mm_setzero_ps()); /* NaN (second operand returned) and negatives -> 0 */
    __m128i lo = _mm_cvttps_epi32(x), hi = _mm_cvttps_epi32(_mm_sub_ps(x, two31));
    __m128i big = (__m128i)_mm_cmpge_ps(x, two31), over = (__m128i)_mm_cmpge_ps(x, _mm_set1_ps(4294967296.0f));
    /* x >= 2^31: lo is 0x80000000, hi = x - 2^31 (also 0x80000000 from 2^32 on) */
    return _mm_or_si128(_mm_or_si128(lo, _mm_and_si128(big, hi)), over);
}

static inline __m128i sv_trunc_sat_s32_pd(__m128d x) {
    x = _mm_and_pd(x, _mm_cmpord_pd(x, x)); /* NaN -> 0; below INT32_MIN cvttpd2dq gives it */
    return _mm_cvttpd_epi32(_mm_min_pd(x, _mm_set1_pd(2147483647.0)));
}

static inline __m128i sv_trunc_sat_u32_pd(__m128d x) {
    /* clamp (max returns 0 for NaN), truncate, then the integer is the low mantissa bits of
     * x + 2^52 */
    x = _mm_min_pd(_mm_max_pd(x, _mm_setzero_pd()), _mm_set1_pd(4294967295.0));
    x = _mm_add_pd(SV_RTRUNC(pd, x), _mm_set1_pd(4503599627370496.0));
    return _mm_move_epi64(_mm_shuffle_epi32((__m128i)x, _MM_SHUFFLE(3, 3, 2, 0)));
}

static inline __m128 sv_convert_u32(__m128i x) {
    /* both 16-bit halves convert exactly, the sum rounds once */
    __m128 hi = _mm_mul_ps(_mm_cvtepi32_ps(_mm_srli_epi32(x, 16)), _mm_set1_ps(65536.0f));
    return _mm_add_ps(hi, _mm_cvtepi32_ps(_mm_and_si128(x, _mm_set1_epi32(0xFFFF))));
}

static inline __m128d sv_convert_low_u32(__m128i x) {
    /* the high halves of 2^52 next to x give 2^52 + x exactly; subtract 2^52 */
    __m128i high = _mm_set1_epi32(0x43300000);
    return _mm_sub_pd((__m128d)_mm_unpacklo_epi32(x, high), _mm_set1_pd(4503599627370496.0));
}
#endif

/* ---- bitwise ---- */
SV_UN(v128_not, i, SV_NOT(x), u64, u64, ~x)
SV_BIN(v128_and, i, _mm_and_si128(x, y), u64, u64, x & y)
SV_BIN(v128_andnot, i, _mm_andnot_si128(y, x), u64, u64, x & ~y)
SV_BIN(v128_or, i, _mm_or_si128(x, y), u64, u64, x | y)
SV_BIN(v128_xor, i, _mm_xor_si128(x, y), u64, u64, x ^ y)

static inline v128 simd_v128_bitselect(v128 a, v128 b, v128 c) {
#if SV_SSE2
    __m128i m = (__m128i)c.v;
    return sv_v((sv_vec)_mm_or_si128(_mm_and_si128((__m128i)a.v, m), _mm_andnot_si128(m, (__m128i)b.v)));
#else
    for (unsigned i = 0; i < 2; i++) a.u64[i] = (a.u64[i] & c.u64[i]) | (b.u64[i] & ~c.u64[i]);
    return a;
#endif
}

/* ---- integer comparisons (P: shape, W: lane bits, K: sign bits as int, S/U: lane members) ---- */
#define SV_ICMP(P, W, K, S, U, EQ, GT)                                                         \
    SV_BIN(P##_eq, i, EQ(x, y), U, U, SV_MASK(x == y))                                         \
    SV_BIN(P##_ne, i, SV_NOT(EQ(x, y)), U, U, SV_MASK(x != y))                                 \
    SV_BIN(P##_lt_s, i, GT(y, x), S, U, SV_MASK(x < y))                                        \
    SV_BIN(P##_gt_s, i, GT(x, y), S, U, SV_MASK(x > y))                                        \
    SV_BIN(P##_le_s, i, SV_NOT(GT(x, y)), S, U, SV_MASK(x <= y))                               \
    SV_BIN(P##_ge_s, i, SV_NOT(GT(y, x)), S, U, SV_MASK(x >= y))
#define SV_ICMPU(P, W, K, U)                                                                   \
    SV_BIN(P##_lt_u, i, SV_GTU(W, K, y, x), U, U, SV_MASK(x < y))                              \
    SV_BIN(P##_gt_u, i, SV_GTU(W, K, x, y), U, U, SV_MASK(x > y))                              \
    SV_BIN(P##_le_u, i, SV_NOT(SV_GTU(W, K, x, y)), U, U, SV_MASK(x <= y))                     \
    SV_BIN(P##_ge_u, i, SV_NOT(SV_GTU(W, K, y, x)), U, U, SV_MASK(x >= y))
SV_ICMP(i8x16, 8, (int)0x80808080, i8, u8, _mm_cmpeq_epi8, _mm_cmpgt_epi8)
SV_ICMP(i16x8, 16, (int)0x80008000, i16, u16, _mm_cmpeq_epi16, _mm_cmpgt_epi16)
SV_ICMP(i32x4, 32, INT32_MIN, i32, u32, _mm_cmpeq_epi32, _mm_cmpgt_epi32)
SV_ICMP(i64x2, 64, 0, i64, u64, sv_eq64, sv_gt64)
SV_ICMPU(i8x16, 8, (int)0x80808080, u8)
SV_ICMPU(i16x8, 16, (int)0x80008000, u16)
SV_ICMPU(i32x4, 32, INT32_MIN, u32)

/* ---- integer arithmetic ---- */
#define SV_IARITH(P, W, S, U)                                                                  \
    SV_BIN(P##_add, i, _mm_add_epi##W(x, y), U, U, x + y)                                      \
    SV_BIN(P##_sub, i, _mm_sub_epi##W(x, y), U, U, x - y)                                      \
    SV_UN(P##_neg, i, _mm_sub_epi##W(_mm_setzero_si128(), x), U, U, 0 - x)
SV_IARITH(i8x16, 8, i8, u8)
SV_IARITH(i16x8, 16, i16, u16)
SV_IARITH(i32x4, 32, i32, u32)
SV_IARITH(i64x2, 64, i64, u64)

#define SV_ISAT(P, W, S, U, SMIN, SMAX, UMAX)                                                  \
    SV_BIN(P##_add_sat_s, i, _mm_adds_epi##W(x, y), S, S, SV_CLAMP(x + y, SMIN, SMAX))         \
    SV_BIN(P##_add_sat_u, i, _mm_adds_epu##W(x, y), U, U, SV_CLAMP(x + y, 0, UMAX))            \
    SV_BIN(P##_sub_sat_s, i, _mm_subs_epi##W(x, y), S, S, SV_CLAMP(x - y, SMIN, SMAX))         \
    SV_BIN(P##_sub_sat_u, i, _mm_subs_epu##W(x, y), U, U, SV_CLAMP(x - y, 0, UMAX))            \
    SV_BIN(P##_avgr_u, i, _mm_avg_epu##W(x, y), U, U, (x + y + 1) >> 1)
SV_ISAT(i8x16, 8, i8, u8, INT8_MIN, INT8_MAX, UINT8_MAX)
SV_ISAT(i16x8, 16, i16, u16, INT16_MIN, INT16_MAX, UINT16_MAX)

#define SV_MIN(x, y) (x < y ? x : y)
#define SV_MAX(x, y) (x > y ? x : y)
SV_BIN(i8x16_min_s, i, SV_41(_mm_min_epi8(x, y), SV_FLIPPED(_mm_min_epu8, 8, (int)0x80808080, x, y)), i8, i8, SV_MIN(x, y))
SV_BIN(i8x16_max_s, i, SV_41(_mm_max_epi8(x, y), SV_FLIPPED(_mm_max_epu8, 8, (int)0x80808080, x, y)), i8, i8, SV_MAX(x, y))
SV_BIN(i8x16_min_u, i, _mm_min_epu8(x, y), u8, u8, SV_MIN(x, y))
SV_BIN(i8x16_max_u, i, _mm_max_epu8(x, y), u8, u8, SV_MAX(x, y))
SV_BIN(i16x8_min_s, i, _mm_min_epi16(x, y), i16, i16, SV_MIN(x, y))
SV_BIN(i16x8_max_s, i, _mm_max_epi16(x, y), i16, i16, SV_MAX(x, y))
SV_BIN(i16x8_min_u, i, SV_41(_mm_min_epu16(x, y), SV_FLIPPED(_mm_min_epi16, 16, (int)0x80008000, x, y)), u16, u16, SV_MIN(x, y))
SV_BIN(i16x8_max_u, i, SV_41(_mm_max_epu16(x, y), SV_FLIPPED(_mm_max_epi16, 16, (int)0x80008000, x, y)), u16, u16, SV_MAX(x, y))
SV_BIN(i32x4_min_s, i, SV_41(_mm_min_epi32(x, y), SV_SEL(_mm_cmpgt_epi32(x, y), y, x)), i32, i32, SV_MIN(x, y))
SV_BIN(i32x4_max_s, i, SV_41(_mm_max_epi32(x, y), SV_SEL(_mm_cmpgt_epi32(x, y), x, y)), i32, i32, SV_MAX(x, y))
SV_BIN(i32x4_min_u, i, SV_41(_mm_min_epu32(x, y), SV_SEL(SV_GTU(32, INT32_MIN, x, y), y, x)), u32, u32, SV_MIN(x, y))
SV_BIN(i32x4_max_u, i, SV_41(_mm_max_epu32(x, y), SV_SEL(SV_GTU(32, INT32_MIN, x, y), x, y)), u32, u32, SV_MAX(x, y))

SV_UN(i8x16_abs, i, SV_41(_mm_abs_epi8(x), _mm_min_epu8(x, _mm_sub_epi8(_mm_setzero_si128(), x))), i8, u8, x < 0 ? -x : x)
SV_UN(i16x8_abs, i, SV_41(_mm_abs_epi16(x), _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x))), i16, u16, x < 0 ? -x : x)
SV_UN(i32x4_abs, i, SV_41(_mm_abs_epi32(x), _mm_sub_epi32(_mm_xor_si128(x, _mm_srai_epi32(x, 31)), _mm_srai_epi32(x, 31))), i32, u32, x < 0 ? 0u - (uint32_t)x : (uint32_t)x)
SV_UN(i64x2_abs, i, _mm_sub_epi64(_mm_xor_si128(x, _mm_shuffle_epi32(_mm_srai_epi32(x, 31), _MM_SHUFFLE(3, 3, 1, 1))), _mm_shuffle_epi32(_mm_srai_epi32(x, 31), _MM_SHUFFLE(3, 3, 1, 1))), i64, u64, x < 0 ? 0u - (uint64_t)x : (uint64_t)x)
SV_UN(i8x16_popcnt, i, sv_popcnt8(x), u64, u64, sv_popcnt_bytes(x))

SV_BIN(i16x8_mul, i, _mm_mullo_epi16(x, y), u16, u16, (uint32_t)x * y)
SV_BIN(i32x4_mul, i, sv_mul32(x, y), u32, u32, x * y)
SV_BIN(i64x2_mul, i, sv_mul64(x, y), u64, u64, x * y)
SV_BIN(i16x8_q15mulr_sat_s, i, sv_q15mulr(x, y), i16, i16, SV_CLAMP((x * y + 0x4000) >> 15, INT16_MIN, INT16_MAX))
SV_BIN(i32x4_dot_i16x8_s, i, _mm_madd_epi16(x, y), u32, u32, (uint32_t)((int64_t)a.i16[2 * i] * b.i16[2 * i] + (int64_t)a.i16[2 * i + 1] * b.i16[2 * i + 1]))

/* ---- narrowing, widening (D, S: destination and source shapes) ---- */
SV_BIN(i8x16_narrow_i16x8_s, i, _mm_packs_epi16(x, y), i8, i8, SV_CLAMP(i < 8 ? a.i16[i] : b.i16[i - 8], INT8_MIN, INT8_MAX))
SV_BIN(i8x16_narrow_i16x8_u, i, _mm_packus_epi16(x, y), u8, u8, SV_CLAMP(i < 8 ? a.i16[i] : b.i16[i - 8], 0, UINT8_MAX))
SV_BIN(i16x8_narrow_i32x4_s, i, _mm_packs_epi32(x, y), i16, i16, SV_CLAMP(i < 4 ? a.i32[i] : b.i32[i - 4], INT16_MIN, INT16_MAX))
SV_BIN(i16x8_narrow_i32x4_u, i, sv_narrow_u32(x, y), u16, u16, SV_CLAMP(i < 4 ? a.i32[i] : b.i32[i - 4], 0, UINT16_MAX))

/* W: source lane bits; LS/LU: SSE4.1 low-half sign/zero extension; DS/DU and SS/SU: the
 * destination and source lane members; MUL: the SSE multiplication of the widened halves. */
#define SV_WIDEN(D, S, W, LS, LU, DS, DU, SS, SU)                                              \
    SV_UN(D##_extend_low_##S##_s, i, SV_41(LS(x), SV_EXT_S(lo, W, x)), DS, DS, a.SS[i])        \
    SV_UN(D##_extend_high_##S##_s, i, SV_EXT_S(hi, W, x), DS, DS, a.SS[i + SV_N(DS)])          \
    SV_UN(D##_extend_low_##S##_u, i, SV_41(LU(x), SV_EXT_U(lo, W, x)), DU, DU, a.SU[i])        \
    SV_UN(D##_extend_high_##S##_u, i, SV_EXT_U(hi, W, x), DU, DU, a.SU[i + SV_N(DU)])
SV_WIDEN(i16x8, i8x16, 8, _mm_cvtepi8_epi16, _mm_cvtepu8_epi16, i16, u16, i8, u8)
SV_WIDEN(i32x4, i16x8, 16, _mm_cvtepi16_epi32, _mm_cvtepu16_epi32, i32, u32, i16, u16)
SV_WIDEN(i64x2, i32x4, 32, _mm_cvtepi32_epi64, _mm_cvtepu32_epi64, i64, u64, i32, u32)

/* NAME: low/high, H: the SSE unpack half (lo/hi), HI: 0/1; DR, SR: destination and source lane
 * members, CAST: the type the portable product is computed in (wide enough not to overflow) */
#define SV_EXTMUL(D, S, NAME, SFX, sse, DR, SR, CAST, HI)                                      \
    SV_BIN(D##_extmul_##NAME##_##S##_##SFX, i, sse, DR, DR, (CAST)a.SR[i + HI * SV_N(DR)] * b.SR[i + HI * SV_N(DR)])
#define SV_EXTMULS(NAME, H, HI)                                                                \
    SV_EXTMUL(i16x8, i8x16, NAME, s, _mm_mullo_epi16(SV_EXT_S(H, 8, x), SV_EXT_S(H, 8, y)), i16, i8, int, HI) \
    SV_EXTMUL(i16x8, i8x16, NAME, u, _mm_mullo_epi16(SV_EXT_U(H, 8, x), SV_EXT_U(H, 8, y)), u16, u8, int, HI) \
    SV_EXTMUL(i32x4, i16x8, NAME, s, _mm_unpack##H##_epi16(_mm_mullo_epi16(x, y), _mm_mulhi_epi16(x, y)), i32, i16, int32_t, HI) \
    SV_EXTMUL(i32x4, i16x8, NAME, u, _mm_unpack##H##_epi16(_mm_mullo_epi16(x, y), _mm_mulhi_epu16(x, y)), u32, u16, uint32_t, HI) \
    SV_EXTMUL(i64x2, i32x4, NAME, s, sv_mul_epi32(_mm_unpack##H##_epi32(x, x), _mm_unpack##H##_epi32(y, y)), i64, i32, int64_t, HI) \
    SV_EXTMUL(i64x2, i32x4, NAME, u, _mm_mul_epu32(_mm_unpack##H##_epi32(x, x), _mm_unpack##H##_epi32(y, y)), u64, u32, uint64_t, HI)
SV_EXTMULS(low, lo, 0)
SV_EXTMULS(high, hi, 1)

SV_UN(i16x8_extadd_pairwise_i8x16_s, i, SV_41(_mm_maddubs_epi16(_mm_set1_epi8(1), x), _mm_add_epi16(_mm_srai_epi16(_mm_slli_epi16(x, 8), 8), _mm_srai_epi16(x, 8))), i16, i16, a.i8[2 * i] + a.i8[2 * i + 1])
SV_UN(i16x8_extadd_pairwise_i8x16_u, i, SV_41(_mm_maddubs_epi16(x, _mm_set1_epi8(1)), _mm_add_epi16(_mm_and_si128(x, _mm_set1_epi16(0xFF)), _mm_srli_epi16(x, 8))), u16, u16, a.u8[2 * i] + a.u8[2 * i + 1])
SV_UN(i32x4_extadd_pairwise_i16x8_s, i, _mm_madd_epi16(x, _mm_set1_epi16(1)), i32, i32, a.i16[2 * i] + a.i16[2 * i + 1])
SV_UN(i32x4_extadd_pairwise_i16x8_u, i, _mm_add_epi32(_mm_and_si128(x, _mm_set1_epi32(0xFFFF)), _mm_srli_epi32(x, 16)), u32, u32, (uint32_t)a.u16[2 * i] + a.u16[2 * i + 1])

/* ---- floating point (P: shape, T: SSE type suffix, s: SSE op suffix, F/U: float and unsigned
 * lane members, f: libm suffix, ABS: the mask of non-sign bits) ---- */
#define SV_FLOAT(P, T, s, F, U, f, ABS)                                                        \
    SV_BIN(P##_eq, T, _mm_cmpeq_##s(x, y), F, U, SV_MASK(x == y))                              \
    SV_BIN(P##_ne, T, _mm_cmpneq_##s(x, y), F, U, SV_MASK(x != y))                             \
    SV_BIN(P##_lt, T, _mm_cmplt_##s(x, y), F, U, SV_MASK(x < y))                               \
    SV_BIN(P##_gt, T, _mm_cmpgt_##s(x, y), F, U, SV_MASK(x > y))                               \
    SV_BIN(P##_le, T, _mm_cmple_##s(x, y), F, U, SV_MASK(x <= y))                              \
    SV_BIN(P##_ge, T, _mm_cmpge_##s(x, y), F, U, SV_MASK(x >= y))                              \
    SV_BIN(P##_add, T, sv_add_##s(x, y), F, F, SV_FARITH(x, x + y))                            \
    SV_BIN(P##_sub, T, _mm_sub_##s(x, y), F, F, SV_FARITH(x, x - y))                           \
    SV_BIN(P##_mul, T, sv_mul_##s(x, y), F, F, SV_FARITH(x, x * y))                            \
    SV_BIN(P##_div, T, _mm_div_##s(x, y), F, F, SV_FARITH(x, x / y))                           \
    SV_BIN(P##_min, T, sv_min_##s(x, y), F, F, SV_FMIN(x, y))                                  \
    SV_BIN(P##_max, T, sv_max_##s(x, y), F, F, SV_FMAX(x, y))                                  \
    SV_BIN(P##_pmin, T, _mm_min_##s(y, x), F, F, y < x ? y : x)                                \
    SV_BIN(P##_pmax, T, _mm_max_##s(y, x), F, F, x < y ? y : x)                                \
    SV_UN(P##_abs, i, _mm_and_si128(x, _mm_set1_epi64x(ABS)), U, U, x & ABS)                   \
    SV_UN(P##_neg, i, _mm_xor_si128(x, _mm_set1_epi64x(~ABS)), U, U, x ^ ~ABS)                 \
    SV_UN(P##_sqrt, T, _mm_sqrt_##s(x), F, F, sqrt##f(x))                                      \
    SV_UN(P##_ceil, T, SV_RCEIL(s, x), F, F, sv_ceil##f(x))                                    \
    SV_UN(P##_floor, T, SV_RFLOOR(s, x), F, F, sv_floor##f(x))                                 \
    SV_UN(P##_trunc, T, SV_RTRUNC(s, x), F, F, sv_trunc##f(x))                                 \
    SV_UN(P##_nearest, T, SV_RNEAREST(s, x), F, F, sv_nearest##f(x))
SV_FLOAT(f32x4, , ps, f32, u32, f, 0x7FFFFFFF7FFFFFFFLL)
SV_FLOAT(f64x2, d, pd, f64, u64, , 0x7FFFFFFFFFFFFFFFLL)

/* ---- conversions ---- */
SV_UN(f32x4_demote_f64x2_zero, d, _mm_cvtpd_ps(x), f32, f32, i < 2 ? (float)a.f64[i] : 0.0f)
SV_UN(f64x2_promote_low_f32x4, , _mm_cvtps_pd(x), f64, f64, a.f32[i])
SV_UN(i32x4_trunc_sat_f32x4_s, , sv_trunc_sat_s32(x), f32, i32, SV_SAT_S32(x))
SV_UN(i32x4_trunc_sat_f32x4_u, , sv_trunc_sat_u32(x), f32, u32, SV_SAT_U32(x))
SV_UN(i32x4_trunc_sat_f64x2_s_zero, d, sv_trunc_sat_s32_pd(x), i32, i32, i < 2 ? SV_SAT_S32(a.f64[i]) : 0)
SV_UN(i32x4_trunc_sat_f64x2_u_zero, d, sv_trunc_sat_u32_pd(x), u32, u32, i < 2 ? SV_SAT_U32(a.f64[i]) : 0)
SV_UN(f32x4_convert_i32x4_s, i, _mm_cvtepi32_ps(x), i32, f32, (float)x)
SV_UN(f32x4_convert_i32x4_u, i, sv_convert_u32(x), u32, f32, (float)x)
SV_UN(f64x2_convert_low_i32x4_s, i, _mm_cvtepi32_pd(x), f64, f64, a.i32[i])
SV_UN(f64x2_convert_low_i32x4_u, i, sv_convert_low_u32(x), f64, f64, a.u32[i])

/* ---- shifts: the count is taken modulo the lane width ---- */
#define SV_SHIFT(name, W, M, sse, port)                                                        \
    static inline v128 simd_##name(v128 a, uint32_t count) {                                   \
        unsigned n = count & (W - 1);                                                          \
        SV_SHIFT_BODY(M, sse, port)                                                            \
    }
#if SV_SSE2
#define SV_SHIFT_BODY(M, sse, port)                                                            \
    __m128i x = (__m128i)a.v, c = _mm_cvtsi32_si128((int)n);                                   \
    (void)c;                                                                                   \
    return sv_v((sv_vec)(sse));
/* x >> n with the sign extended, from the logical shift u: (u ^ k) - k, k = the shifted sign bit */
#define SV_SRA(W, u, k) _mm_sub_epi##W(_mm_xor_si128(u, k), k)
#else
#define SV_SHIFT_BODY(M, sse, port)                                                            \
    for (unsigned i = 0; i < SV_N(M); i++) a.M[i] = (port);                                    \
    return a;
#endif
SV_SHIFT(i8x16_shl, 8, u8, _mm_and_si128(_mm_sll_epi16(x, c), _mm_set1_epi8((char)(0xFF << n))), a.u8[i] << n)
SV_SHIFT(i8x16_shr_u, 8, u8, _mm_and_si128(_mm_srl_epi16(x, c), _mm_set1_epi8((char)(0xFF >> n))), a.u8[i] >> n)
SV_SHIFT(i8x16_shr_s, 8, i8, SV_SRA(8, _mm_and_si128(_mm_srl_epi16(x, c), _mm_set1_epi8((char)(0xFF >> n))), _mm_set1_epi8((char)(0x80 >> n))), a.i8[i] >> n)
SV_SHIFT(i16x8_shl, 16, u16, _mm_sll_epi16(x, c), a.u16[i] << n)
SV_SHIFT(i16x8_shr_u, 16, u16, _mm_srl_epi16(x, c), a.u16[i] >> n)
SV_SHIFT(i16x8_shr_s, 16, i16, _mm_sra_epi16(x, c), a.i16[i] >> n)
SV_SHIFT(i32x4_shl, 32, u32, _mm_sll_epi32(x, c), a.u32[i] << n)
SV_SHIFT(i32x4_shr_u, 32, u32, _mm_srl_epi32(x, c), a.u32[i] >> n)
SV_SHIFT(i32x4_shr_s, 32, i32, _mm_sra_epi32(x, c), a.i32[i] >> n)
SV_SHIFT(i64x2_shl, 64, u64, _mm_sll_epi64(x, c), a.u64[i] << n)
SV_SHIFT(i64x2_shr_u, 64, u64, _mm_srl_epi64(x, c), a.u64[i] >> n)
SV_SHIFT(i64x2_shr_s, 64, i64, SV_SRA(64, _mm_srl_epi64(x, c), _mm_set1_epi64x((long long)(0x8000000000000000ULL >> n))), a.i64[i] >> n)

/* ---- tests: v128 -> i32 ---- */
static inline uint32_t simd_v128_any_true(v128 a) { return (a.u64[0] | a.u64[1]) != 0; }

#define SV_TESTS(P, M, EQZ, MOVEMASK)                                                          \
    static inline uint32_t simd_##P##_all_true(v128 a) {                                       \
        SV_ALL_TRUE(M, EQZ)                                                                    \
    }                                                                                          \
    static inline uint32_t simd_##P##_bitmask(v128 a) {                                        \
        SV_BITMASK(M, MOVEMASK)                                                                \
    }
#if SV_SSE2
#define SV_ALL_TRUE(M, EQZ) return _mm_movemask_epi8(EQZ((__m128i)a.v, _mm_setzero_si128())) == 0;
#define SV_BITMASK(M, MOVEMASK) return (uint32_t)(MOVEMASK);
#define SV_PACK16(x) (_mm_movemask_epi8(_mm_packs_epi16(x, _mm_setzero_si128())))
#else
#define SV_ALL_TRUE(M, EQZ)                                                                    \
    for (unsigned i = 0; i < SV_N(M); i++)                                                     \
        if (!a.M[i]) return 0;                                                                 \
    return 1;
#define SV_BITMASK(M, MOVEMASK)                                                                \
    uint32_t r = 0;                                                                            \
    for (unsigned i = 0; i < SV_N(M); i++) r |= (uint32_t)(a.M[i] < 0) << i;                   \
    return r;
#endif
SV_TESTS(i8x16, i8, _mm_cmpeq_epi8, _mm_movemask_epi8((__m128i)a.v))
SV_TESTS(i16x8, i16, _mm_cmpeq_epi16, SV_PACK16((__m128i)a.v))
SV_TESTS(i32x4, i32, _mm_cmpeq_epi32, _mm_movemask_ps((__m128)a.v))
SV_TESTS(i64x2, i64, sv_eq64, _mm_movemask_pd((__m128d)a.v))

/* ---- splats (bits: the scalar as an interpreter slot) ---- */
#define SV_SPLAT(name, M, T)                                                                   \
    static inline v128 simd_##name(uint64_t bits) {                                            \
        v128 r;                                                                                \
        for (unsigned i = 0; i < SV_N(M); i++) r.M[i] = (T)bits;                               \
        return r;                                                                              \
    }
SV_SPLAT(i8x16_splat, u8, uint8_t)
SV_SPLAT(i16x8_splat, u16, uint16_t)
SV_SPLAT(i32x4_splat, u32, uint32_t)
SV_SPLAT(i64x2_splat, u64, uint64_t)
SV_SPLAT(f32x4_splat, u32, uint32_t)
SV_SPLAT(f64x2_splat, u64, uint64_t)

/* ---- swizzle, shuffle ---- */
static inline v128 simd_i8x16_swizzle(v128 a, v128 b) {
#if SV_SSE41 /* pshufb zeroes lanes whose index has bit 7 set: push indices >= 16 there */
    __m128i idx = _mm_adds_epu8((__m128i)b.v, _mm_set1_epi8(0x70));
    return sv_v((sv_vec)_mm_shuffle_epi8((__m128i)a.v, idx));
#else
    v128 r;
    for (unsigned i = 0; i < 16; i++) r.u8[i] = b.u8[i] < 16 ? a.u8[b.u8[i]] : 0;
    return r;
#endif
}

static inline v128 simd_i8x16_shuffle(v128 a, v128 b, const uint8_t lanes[16]) {
    v128 r;
#if SV_SSE41
    __m128i idx = _mm_loadu_si128((const __m128i *)(const void *)lanes);
    __m128i from_a = _mm_shuffle_epi8((__m128i)a.v, _mm_adds_epu8(idx, _mm_set1_epi8(0x70)));
    __m128i from_b = _mm_shuffle_epi8((__m128i)b.v, _mm_sub_epi8(idx, _mm_set1_epi8(16)));
    r.v = (sv_vec)_mm_or_si128(from_a, from_b);
#else
    for (unsigned i = 0; i < 16; i++) r.u8[i] = lanes[i] < 16 ? a.u8[lanes[i]] : b.u8[lanes[i] & 15];
#endif
    return r;
}

/* ---- loads: the vector from `bytes` bytes at p ---- */
/* The low `bytes` (<= 8, or 16) are built in a register: filling a zeroed vector in memory with
 * a short memcpy and reloading it would stall on store forwarding (8-byte stores, 16-byte load),
 * which made the widening loads slower than scalar code. */
static inline v128 sv_load_low(const uint8_t *p, size_t bytes) {
    if (bytes == 16)
        return v128_get(p);
    uint64_t lo = 0;
    memcpy(&lo, p, bytes);
    return sv_v((sv_vec){(long long)lo, 0});
}
#define SV_LOAD(name, bytes, expr)                                                             \
    static inline v128 simd_##name(const uint8_t *p) { v128 v = sv_load_low(p, bytes); return expr; }
SV_LOAD(v128_load, 16, v)
SV_LOAD(v128_load8x8_s, 8, simd_i16x8_extend_low_i8x16_s(v))
SV_LOAD(v128_load8x8_u, 8, simd_i16x8_extend_low_i8x16_u(v))
SV_LOAD(v128_load16x4_s, 8, simd_i32x4_extend_low_i16x8_s(v))
SV_LOAD(v128_load16x4_u, 8, simd_i32x4_extend_low_i16x8_u(v))
SV_LOAD(v128_load32x2_s, 8, simd_i64x2_extend_low_i32x4_s(v))
SV_LOAD(v128_load32x2_u, 8, simd_i64x2_extend_low_i32x4_u(v))
SV_LOAD(v128_load8_splat, 1, simd_i8x16_splat(v.u8[0]))
SV_LOAD(v128_load16_splat, 2, simd_i16x8_splat(v.u16[0]))
SV_LOAD(v128_load32_splat, 4, simd_i32x4_splat(v.u32[0]))
SV_LOAD(v128_load64_splat, 8, simd_i64x2_splat(v.u64[0]))
SV_LOAD(v128_load32_zero, 4, v)
SV_LOAD(v128_load64_zero, 8, v)

#endif
