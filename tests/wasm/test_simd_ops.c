/* test_simd_ops - the SIMD semantics of src/wasm/simd.h.
 *
 * 1. Known answers from the spec testsuite (simd_kat.inc, plus loads and shuffles written here)
 *    against both the accelerated forms (this file's build: SSE2, or SSE4.1 with -msse4.1) and
 *    the portable forms (simd_portable.c).
 * 2. A differential test of accelerated against portable for every operation over random
 *    vectors mixed with edge values, under the rules of simd_check.h (shared with the fuzzer
 *    fuzz_simd_ops): float results may differ only in which NaN they return; every NaN result
 *    must be quiet, and canonical when no input was a non-canonical NaN.
 * 3. Self-checks that the comparisons do reject wrong answers.
 * Usage: test_simd_ops [seed] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd_check.h"

static const struct simd_impl accel = SIMD_IMPL_INIT;

static int failures;

/* ---- values written as in the .wast files: "i16x8 1 -2 0x7fff ...", "f32x4 nan:canonical
 * -0x1p-1 inf ...", "i32 5"; a single lane value is splatted ---- */

enum { EXACT, NAN_CANONICAL, NAN_ARITHMETIC };

typedef struct {
    v128 v;
    unsigned lane_bytes, lanes;
    int is_float;
    uint8_t kind[16]; /* per lane: EXACT or a NaN class the result must belong to */
} text_value;

static int parse_float_lane(const char *tok, unsigned bytes, uint64_t *bits, uint8_t *kind) {
    const char *p = tok;
    char *end;
    uint64_t sign = 0;
    *kind = EXACT;
    if (!strcmp(tok, "nan:canonical") || !strcmp(tok, "nan:arithmetic")) {
        *kind = tok[4] == 'c' ? NAN_CANONICAL : NAN_ARITHMETIC;
        *bits = simd_exp_mask(bytes) | simd_quiet_bit(bytes);
        return 0;
    }
    if (*p == '-' || *p == '+') sign = *p++ == '-' ? simd_sign_bit(bytes) : 0;
    if (!strncmp(p, "nan", 3)) {
        uint64_t payload = simd_quiet_bit(bytes);
        if (p[3] == ':') {
            payload = strtoull(p + 4, &end, 16);
            if (*end || !payload || payload >= simd_quiet_bit(bytes) * 2) return -1;
        } else if (p[3]) {
            return -1;
        }
        *bits = sign | simd_exp_mask(bytes) | payload;
        return 0;
    }
    if (bytes == 4) {
        float f = strtof(tok, &end);
        uint32_t u;
        memcpy(&u, &f, 4);
        *bits = u;
    } else {
        double d = strtod(tok, &end);
        memcpy(bits, &d, 8);
    }
    return *end ? -1 : 0;
}

/* decimal (leading zeros allowed, as in .wast) or 0x hex, optionally negative */
static int parse_int_lane(const char *tok, uint64_t *bits) {
    char *end;
    int neg = tok[0] == '-';
    const char *digits = tok + (neg || tok[0] == '+');
    int hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
    if (!*digits || *digits == '-' || *digits == '+') return -1;
    *bits = strtoull(digits, &end, hex ? 16 : 10);
    if (neg) *bits = 0 - *bits;
    return *end ? -1 : 0;
}

static int parse_value(const char *text, text_value *out) {
    static const struct { const char *name; unsigned bytes, lanes; int is_float; } shapes[] = {
        {"i8x16", 1, 16, 0}, {"i16x8", 2, 8, 0}, {"i32x4", 4, 4, 0}, {"i64x2", 8, 2, 0},
        {"f32x4", 4, 4, 1},  {"f64x2", 8, 2, 1}, {"i32", 4, 1, 0},   {"i64", 8, 1, 0},
        {"f32", 4, 1, 1},    {"f64", 8, 1, 1},
    };
    char buf[1024], *save = NULL, *tok;
    unsigned n = 0, s;
    memset(out, 0, sizeof *out);
    if (strlen(text) >= sizeof buf) return -1;
    strcpy(buf, text);
    tok = strtok_r(buf, " ", &save);
    for (s = 0; tok && s < sizeof shapes / sizeof shapes[0]; s++)
        if (!strcmp(tok, shapes[s].name)) break;
    if (!tok || s == sizeof shapes / sizeof shapes[0]) return -1;
    out->lane_bytes = shapes[s].bytes;
    out->lanes = shapes[s].lanes;
    out->is_float = shapes[s].is_float;
    while ((tok = strtok_r(NULL, " ", &save))) {
        uint64_t bits;
        uint8_t kind = EXACT;
        if (n == out->lanes) return -1;
        if (out->is_float ? parse_float_lane(tok, out->lane_bytes, &bits, &kind) : parse_int_lane(tok, &bits)) return -1;
        simd_lane_set(&out->v, out->lane_bytes, n, bits);
        out->kind[n++] = kind;
    }
    if (n == 1)
        for (; n < out->lanes; n++) {
            simd_lane_set(&out->v, out->lane_bytes, n, simd_lane_get(out->v, out->lane_bytes, 0));
            out->kind[n] = out->kind[0];
        }
    return n == out->lanes ? 0 : -1;
}

/* ---- known answers ---- */

typedef struct {
    const char *op;
    const char *args[3];
    const char *want;
} known_answer;

static const known_answer spec_answers[] = {
#include "simd_kat.inc"
};

/* Loads and shuffles take their operands from memory or immediates, which the extraction from
 * the testsuite does not follow; these follow simd_load*.wast and simd_lane.wast. The first
 * argument is the memory at the address. */
static const known_answer more_answers[] = {
    {"v128_load", {"i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"}, "i32x4 0x03020100 0x07060504 0x0b0a0908 0x0f0e0d0c"},
    {"v128_load8x8_s", {"i8x16 0x80 0x81 0x82 0x83 0x84 0x85 0x86 0x87 0x88 1 2 3 4 5 6 7"}, "i16x8 -128 -127 -126 -125 -124 -123 -122 -121"},
    {"v128_load8x8_u", {"i8x16 0x80 0x81 0x82 0x83 0x84 0x85 0x86 0x87 0x88 1 2 3 4 5 6 7"}, "i16x8 128 129 130 131 132 133 134 135"},
    {"v128_load16x4_s", {"i8x16 0x80 0x81 0x82 0x83 0x84 0x85 0x86 0x87 0x88 1 2 3 4 5 6 7"}, "i32x4 -32384 -31870 -31356 -30842"},
    {"v128_load16x4_u", {"i8x16 0x80 0x81 0x82 0x83 0x84 0x85 0x86 0x87 0x88 1 2 3 4 5 6 7"}, "i32x4 33152 33666 34180 34694"},
    {"v128_load32x2_s", {"i8x16 0x80 0x81 0x82 0x83 0x84 0x85 0x86 0x87 0x88 1 2 3 4 5 6 7"}, "i64x2 -2088599168 -2021227132"},
    {"v128_load32x2_u", {"i8x16 0x80 0x81 0x82 0x83 0x84 0x85 0x86 0x87 0x88 1 2 3 4 5 6 7"}, "i64x2 2206368128 2273740164"},
    {"v128_load8_splat", {"i8x16 0x80 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0"}, "i8x16 0x80"},
    {"v128_load16_splat", {"i8x16 1 2 3 0 0 0 0 0 0 0 0 0 0 0 0 0"}, "i16x8 0x0201"},
    {"v128_load32_splat", {"i8x16 1 2 3 4 5 0 0 0 0 0 0 0 0 0 0 0"}, "i32x4 0x04030201"},
    {"v128_load64_splat", {"i8x16 1 2 3 4 5 6 7 8 9 0 0 0 0 0 0 0"}, "i64x2 0x0807060504030201"},
    {"v128_load32_zero", {"i8x16 1 2 3 4 5 6 7 8 9 0 0 0 0 0 0 0"}, "i32x4 0x04030201 0 0 0"},
    {"v128_load64_zero", {"i8x16 1 2 3 4 5 6 7 8 9 0 0 0 0 0 0 0"}, "i64x2 0x0807060504030201 0"},
    {"i8x16_shuffle", {"i8x16 0x64 0x65 0x66 0x67 0x68 0x69 0x6a 0x6b 0x6c 0x6d 0x6e 0x6f 0x70 0x71 0x72 0x73", "i8x16 0xf0 0xf1 0xf2 0xf3 0xf4 0xf5 0xf6 0xf7 0xf8 0xf9 0xfa 0xfb 0xfc 0xfd 0xfe 0xff", "i8x16 31 30 29 28 27 26 25 24 23 22 21 20 19 18 17 16"}, "i8x16 0xff 0xfe 0xfd 0xfc 0xfb 0xfa 0xf9 0xf8 0xf7 0xf6 0xf5 0xf4 0xf3 0xf2 0xf1 0xf0"},
    {"i8x16_shuffle", {"i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", "i8x16 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31", "i8x16 0 16 1 17 15 31 7 23 0 0 31 31 8 24 3 19"}, "i8x16 0 16 1 17 15 31 7 23 0 0 31 31 8 24 3 19"},
};

/* Runs one operation of impl on the parsed arguments; the result is a vector or, for the
 * tests family, an i32 in the low lane. Returns -1 if the operation is unknown. */
static int run_op(const struct simd_impl *impl, const char *op, const text_value *arg, v128 *res) {
    simd_case c;
    memset(&c, 0, sizeof c);
    if (simd_find_op(op, &c.family, &c.op)) return -1;
    for (unsigned k = 0; k < 3; k++) c.in[k] = arg[k].v;
    c.count = arg[1].v.u32[0];
    c.scalar = arg[0].v.u64[0];
    memcpy(c.mem, arg[0].v.u8, 16);
    memcpy(c.lanes, arg[2].v.u8, 16);
    return simd_run_case(impl, &c, res);
}

/* Does res match want lane by lane (NaN classes for lanes written nan:canonical/arithmetic)? */
static int matches(v128 res, const text_value *want) {
    for (unsigned i = 0; i < want->lanes; i++) {
        uint64_t got = simd_lane_get(res, want->lane_bytes, i), exp = simd_lane_get(want->v, want->lane_bytes, i);
        if (want->kind[i] == NAN_CANONICAL && !simd_is_canonical_nan(got, want->lane_bytes)) return 0;
        if (want->kind[i] == NAN_ARITHMETIC && !(simd_is_nan(got, want->lane_bytes) && (got & simd_quiet_bit(want->lane_bytes)))) return 0;
        if (want->kind[i] == EXACT && got != exp) return 0;
    }
    /* a scalar result (i32 from the tests family) leaves the rest zero */
    for (unsigned i = want->lanes * want->lane_bytes; i < 16; i++)
        if (res.u8[i]) return 0;
    return 1;
}

/* Checks one known answer against both implementations; returns the number of mismatches
 * (printed unless quiet). */
static int check_answer(const known_answer *ka, int quiet) {
    text_value arg[3], want;
    int bad = 0;
    memset(arg, 0, sizeof arg);
    for (unsigned i = 0; i < 3 && ka->args[i]; i++)
        if (parse_value(ka->args[i], &arg[i])) {
            fprintf(stderr, "FAIL %s: cannot parse argument \"%s\"\n", ka->op, ka->args[i]);
            return 1;
        }
    if (parse_value(ka->want, &want)) {
        fprintf(stderr, "FAIL %s: cannot parse result \"%s\"\n", ka->op, ka->want);
        return 1;
    }
    const struct simd_impl *impls[2] = {&accel, &simd_portable_impl};
    for (unsigned m = 0; m < 2; m++) {
        v128 res;
        if (run_op(impls[m], ka->op, arg, &res)) {
            fprintf(stderr, "FAIL %s: no such operation\n", ka->op);
            return 1;
        }
        if (matches(res, &want)) continue;
        bad++;
        if (quiet) continue;
        fprintf(stderr, "FAIL %s (%s): want %s\n", ka->op, m ? "portable" : "accelerated", ka->want);
        for (unsigned i = 0; i < 3 && ka->args[i]; i++) fprintf(stderr, "  arg %u: %s\n", i, ka->args[i]);
        simd_print_v128(stderr, "got", res);
    }
    return bad;
}

static unsigned check_known_answers(void) {
    unsigned n = 0;
    for (size_t i = 0; i < sizeof spec_answers / sizeof spec_answers[0]; i++, n++) failures += check_answer(&spec_answers[i], 0);
    for (size_t i = 0; i < sizeof more_answers / sizeof more_answers[0]; i++, n++) failures += check_answer(&more_answers[i], 0);
    return n;
}

/* ---- differential test ---- */

static uint64_t rng_state;

static uint64_t rng(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static const uint64_t edges8[] = {0, 1, 0x7F, 0x80, 0x81, 0xFF, 0xFE, 0x40, 0x0F, 0x10, 0x1F, 0x20};
static const uint64_t edges16[] = {0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0xFFFE, 0x4000, 0xFF, 0x100, 0x7F, 0x80, 0xFF80, 0xFF7F};
static const uint64_t edges32[] = {
    0, 1, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFF, 0x10000, 0x7FFF, 0xFFFF8000,
    0x01000001, 0xFFFFFF80, 0x80000080, 0x7FFFFFBF, 0x7FFFFFC0, 0x80000081, 0xFFFF7FFF,
    /* f32: ±0, ±1, ±inf, NaNs (canonical, payload, signalling, negative), 0.5 steps around
     * integers, 2^23 boundaries, 2^31/2^32 boundaries, denormals, max, -0.99999994 */
    0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FC00001, 0xFFC12345,
    0x7F800001, 0xFFA00000, 0x7FBFFFFF, 0x3F000000, 0xBF000000, 0x3FC00000, 0xBFC00000, 0x40200000,
    0xC0200000, 0x3EFFFFFF, 0xBEFFFFFF, 0x4AFFFFFF, 0xCAFFFFFF, 0x4B000000, 0x4B000001, 0x4B7FFFFF,
    0x4EFFFFFF, 0x4F000000, 0x4F000001, 0x4F7FFFFF, 0x4F800000, 0xCF000000, 0xCF000001, 0x00000001,
    0x80000001, 0x007FFFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0xBF7FFFFF, 0x3F7FFFFF, 0x40400000, 0xC0400000,
};
static const uint64_t edges64[] = {
    0, 1, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0x8000000000000001, 0xFFFFFFFFFFFFFFFF,
    0xFFFFFFFF, 0x100000000, 0x7FFFFFFF, 0xFFFFFFFF80000000, 0x00000000FFFFFFFF,
    /* f64: ±0, ±1, ±inf, NaNs, 0.5 steps, 2^52 boundaries, conversion boundaries around
     * ±2^31 and 2^32, denormals, max, values that demote to f32 max/inf/ties */
    0x3FF0000000000000, 0xBFF0000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
    0x7FF8000000000000, 0xFFF8000000000000, 0x7FF8000000000001, 0xFFF8123456789ABC,
    0x7FF0000000000001, 0xFFF4000000000000, 0x7FF7FFFFFFFFFFFF, 0x3FE0000000000000,
    0xBFE0000000000000, 0x3FF8000000000000, 0xBFF8000000000000, 0x4004000000000000,
    0xC004000000000000, 0x3FDFFFFFFFFFFFFF, 0xBFDFFFFFFFFFFFFF, 0x432FFFFFFFFFFFFF,
    0xC32FFFFFFFFFFFFF, 0x4330000000000000, 0x4330000000000001, 0x433FFFFFFFFFFFFF,
    0x41DFFFFFFFC00000 /* 2^31-1 */, 0x41DFFFFFFFE00000 /* 2^31-0.5 */, 0x41E0000000000000 /* 2^31 */,
    0xC1E0000000000000 /* -2^31 */, 0xC1E0000000100000 /* -2^31-0.5 */, 0xC1E0000000200000 /* -2^31-1 */,
    0x41EFFFFFFFE00000 /* 2^32-1 */, 0x41EFFFFFFFF00000 /* 2^32-0.5 */, 0x41F0000000000000 /* 2^32 */,
    0x0000000000000001, 0x8000000000000001, 0x000FFFFFFFFFFFFF, 0x7FEFFFFFFFFFFFFF,
    0xFFEFFFFFFFFFFFFF, 0x47EFFFFFE0000000 /* f32 max */, 0x47EFFFFFF0000000 /* rounds to inf */,
    0x3FF0000010000000 /* 1 + 2^-24: tie */, 0x3FF0000030000000, 0x36A0000000000000 /* 2^-149 */,
    0x3690000000000000 /* 2^-150: tie to 0 */, 0xBFEFFFFFFFFFFFFF,
};

/* A random vector: one lane width per vector, each lane random bits or an edge value. */
static v128 random_vector(void) {
    static const struct { const uint64_t *v; size_t n; unsigned bytes; } pools[] = {
        {edges8, sizeof edges8 / 8, 1}, {edges16, sizeof edges16 / 8, 2},
        {edges32, sizeof edges32 / 8, 4}, {edges64, sizeof edges64 / 8, 8},
    };
    unsigned p = (unsigned)(rng() % 4), bytes = pools[p].bytes;
    v128 v;
    for (unsigned i = 0; i < 16 / bytes; i++) {
        uint64_t r = rng();
        simd_lane_set(&v, bytes, i, r % 3 ? pools[p].v[(r >> 8) % pools[p].n] : rng());
    }
    return v;
}

static const uint32_t shift_counts[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 0x80000000, 0xFFFFFFFF};

/* Every operation on one set of random inputs; returns the number of cases. */
static unsigned differential_round(void) {
    simd_case c;
    unsigned cases = 0;
    memset(&c, 0, sizeof c);
    for (unsigned k = 0; k < 3; k++) c.in[k] = random_vector();
    c.count = rng() % 2 ? shift_counts[rng() % (sizeof shift_counts / 4)] : (uint32_t)rng();
    c.scalar = c.in[0].u64[0];
    for (unsigned i = 0; i < 16; i++) c.lanes[i] = (uint8_t)(rng() % 32), c.mem[i] = c.in[0].u8[i];
    for (unsigned f = 0; f < SIMD_FAMILIES; f++)
        for (unsigned k = 0; k < simd_family_size[f]; k++, cases++) {
            c.family = (enum simd_family)f, c.op = k, c.mem_offset = (unsigned)(rng() % 16);
            int rc = simd_check_case(&accel, &simd_portable_impl, &c, "accelerated", failures < 40 ? stderr : NULL);
            if (rc < 0) abort(); /* out of memory in a test */
            failures += rc;
        }
    return cases;
}

static unsigned differential(unsigned rounds) {
    unsigned cases = 0;
    for (unsigned round = 0; round < rounds; round++) cases += differential_round();
    return cases;
}

/* ---- self-checks: the comparisons reject what they must ---- */

static simd_case case_named(const char *op) {
    simd_case c;
    memset(&c, 0, sizeof c);
    if (simd_find_op(op, &c.family, &c.op)) abort(); /* a typo in this file */
    return c;
}

/* The shared rules (simd_check.c) reject what they must; returns the number of failures. */
static int rule_self_checks(void) {
    v128 quiet = {0}, signalling = {0}, canonical = {0};
    quiet.u32[0] = 0x7FC00001, signalling.u32[0] = 0x7F800001, canonical.u32[0] = 0xFFC00000;
    simd_case add = case_named("f32x4_add"), pmin = case_named("f32x4_pmin"), iadd = case_named("i32x4_add");
    simd_case odd_in = add, shuffle = case_named("i8x16_shuffle");
    odd_in.in[1].u32[2] = 0x7FA00000; /* a signalling NaN input frees the result NaN */
    for (unsigned i = 0; i < 16; i++) shuffle.in[0].u8[i] = (uint8_t)i, shuffle.lanes[i] = 3;
    v128 threes, fours;
    memset(&threes, 3, 16), memset(&fours, 4, 16);
    int bad = 0;
    bad += simd_results_agree(&add, signalling, signalling);  /* NaN results must be quiet */
    bad += simd_results_agree(&add, quiet, canonical);        /* ... and canonical here */
    bad += !simd_results_agree(&add, canonical, canonical);
    bad += !simd_results_agree(&odd_in, quiet, canonical);
    bad += simd_results_agree(&pmin, quiet, canonical);       /* bit for bit */
    bad += simd_results_agree(&iadd, quiet, canonical);
    bad += !simd_results_agree(&shuffle, threes, threes);
    bad += simd_results_agree(&shuffle, fours, fours);        /* both wrong alike: still wrong */
    /* a form with a wrong operation is caught through the whole path */
    struct simd_impl broken = simd_portable_impl;
    simd_case iadd8 = case_named("i8x16_add"), isub8 = case_named("i8x16_sub");
    broken.bin[iadd8.op] = broken.bin[isub8.op];
    iadd8.in[0].u8[5] = iadd8.in[1].u8[5] = 1;
    bad += simd_check_case(&broken, &simd_portable_impl, &iadd8, "broken", NULL) != 1;
    bad += simd_check_case(&simd_portable_impl, &simd_portable_impl, &iadd8, "portable", NULL) != 0;
    if (bad) fprintf(stderr, "FAIL self-check: %d comparison rules accepted or rejected wrongly\n", bad);
    return bad;
}

static void self_checks(void) {
    static const known_answer wrong[] = {
        {"i8x16_add", {"i8x16 1", "i8x16 1"}, "i8x16 3"},                   /* wrong value */
        {"f32x4_add", {"f32x4 -nan:0x1", "f32x4 1"}, "f32x4 nan:canonical"}, /* NaN not canonical */
        {"f32x4_pmin", {"f32x4 nan:0x200000", "f32x4 1"}, "f32x4 nan"},     /* pmin keeps the payload */
        {"i8x16_all_true", {"i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 0"}, "i32 1"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
        if (check_answer(&wrong[i], 1) != 2) {
            fprintf(stderr, "FAIL self-check: a wrong answer for %s was accepted\n", wrong[i].op);
            failures++;
        }
    text_value t;
    if (!parse_value("i8x16 1 2", &t) || !parse_value("f32x4 nan:0x800000", &t) || !parse_value("i32x4 1x", &t) ||
        !parse_value("v8x16 1", &t)) {
        fprintf(stderr, "FAIL self-check: a malformed value was accepted\n");
        failures++;
    }
    failures += rule_self_checks();
    /* v128_get/v128_put through two 8-byte interpreter slots that are not 16-byte aligned */
    uint64_t slots[5] = {0};
    v128 v = random_vector();
    v128_put(&slots[1], v);
    v128 back = v128_get(&slots[1]);
    if (memcmp(&back, &v, 16) || slots[0] || slots[3]) {
        fprintf(stderr, "FAIL v128_get/v128_put round trip\n");
        failures++;
    }
}

int main(int argc, char **argv) {
    rng_state = argc > 1 ? strtoull(argv[1], NULL, 0) | 1 : 0x5DEECE66Dull;
    unsigned answers = check_known_answers();
    self_checks();
    unsigned cases = differential(20000);
    printf("simd: %u known answers x 2 forms, %u differential cases (%s vs portable), %d failures\n", answers, cases,
#if SV_SSE41
           "SSE4.1",
#elif SV_SSE2
           "SSE2",
#else
           "portable",
#endif
           failures);
    return failures ? 1 : 0;
}
