/* simd_check.c - runs one SIMD case through a form of simd.h and judges accelerated against
 * portable results; see simd_check.h for the rules. */
#include "simd_check.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const un_names[] = {SIMD_UNOPS(SIMD_T_NAME)};
static const char *const bin_names[] = {SIMD_BINOPS(SIMD_T_NAME)};
static const char *const tern_names[] = {SIMD_TERNOPS(SIMD_T_NAME)};
static const char *const test_names[] = {SIMD_TESTS(SIMD_T_NAME)};
static const char *const shift_names[] = {SIMD_SHIFTS(SIMD_T_NAME)};
static const char *const splat_names[] = {SIMD_SPLATS(SIMD_T_NAME)};
static const char *const load_names[] = {SIMD_LOADS(SIMD_T_NAME)};
static const char *const shuffle_names[] = {"i8x16_shuffle"};

const char *const *const simd_op_names[SIMD_FAMILIES] = {
    un_names, bin_names, tern_names, test_names, shift_names, splat_names, load_names, shuffle_names,
};
const unsigned simd_family_size[SIMD_FAMILIES] = {
    SIMD_N_UN, SIMD_N_BIN, SIMD_N_TERN, SIMD_N_TEST, SIMD_N_SHIFT, SIMD_N_SPLAT, SIMD_N_LOAD, 1,
};
const char *const simd_family_name[SIMD_FAMILIES] = {
    "un", "bin", "tern", "test", "shift", "splat", "load", "shuffle",
};
const unsigned simd_load_bytes[SIMD_N_LOAD] = {SIMD_LOADS(SIMD_T_BYTES)};

uint64_t simd_lane_get(v128 v, unsigned bytes, unsigned i) {
    uint64_t x = 0;
    memcpy(&x, v.u8 + i * bytes, bytes);
    return x;
}

void simd_lane_set(v128 *v, unsigned bytes, unsigned i, uint64_t x) { memcpy(v->u8 + i * bytes, &x, bytes); }

uint64_t simd_exp_mask(unsigned bytes) { return bytes == 4 ? 0x7F800000u : 0x7FF0000000000000u; }
uint64_t simd_quiet_bit(unsigned bytes) { return bytes == 4 ? 0x400000u : 0x8000000000000u; }
uint64_t simd_sign_bit(unsigned bytes) { return bytes == 4 ? 0x80000000u : 0x8000000000000000u; }

int simd_is_nan(uint64_t x, unsigned bytes) {
    uint64_t e = simd_exp_mask(bytes), m = simd_quiet_bit(bytes) * 2 - 1;
    return (x & e) == e && (x & m) != 0;
}

int simd_is_canonical_nan(uint64_t x, unsigned bytes) {
    return (x & ~simd_sign_bit(bytes)) == (simd_exp_mask(bytes) | simd_quiet_bit(bytes));
}

void simd_print_v128(FILE *out, const char *label, v128 v) {
    fprintf(out, "  %-12s", label);
    for (unsigned i = 0; i < 16; i++) fprintf(out, " %02x", v.u8[i]);
    fprintf(out, "   (i32x4 %08" PRIx32 " %08" PRIx32 " %08" PRIx32 " %08" PRIx32 ")\n", v.u32[0], v.u32[1],
            v.u32[2], v.u32[3]);
}

int simd_find_op(const char *name, enum simd_family *family, unsigned *op) {
    for (unsigned f = 0; f < SIMD_FAMILIES; f++)
        for (unsigned k = 0; k < simd_family_size[f]; k++)
            if (!strcmp(simd_op_names[f][k], name)) {
                *family = (enum simd_family)f;
                *op = k;
                return 0;
            }
    return -1;
}

const char *simd_case_name(const simd_case *c) { return simd_op_names[c->family][c->op]; }

static int run_load(const struct simd_impl *impl, const simd_case *c, v128 *res) {
    unsigned bytes = simd_load_bytes[c->op], offset = c->mem_offset % 16;
    uint8_t *block = malloc(offset + bytes);
    if (!block) return -1;
    memcpy(block + offset, c->mem, bytes);
    *res = impl->load[c->op](block + offset);
    free(block);
    return 0;
}

int simd_run_case(const struct simd_impl *impl, const simd_case *c, v128 *res) {
    const v128 *in = c->in;
    memset(res, 0, sizeof *res);
    switch (c->family) {
    case SIMD_FAM_UN: *res = impl->un[c->op](in[0]); break;
    case SIMD_FAM_BIN: *res = impl->bin[c->op](in[0], in[1]); break;
    case SIMD_FAM_TERN: *res = impl->tern[c->op](in[0], in[1], in[2]); break;
    case SIMD_FAM_TEST: res->u32[0] = impl->test[c->op](in[0]); break;
    case SIMD_FAM_SHIFT: *res = impl->shift[c->op](in[0], c->count); break;
    case SIMD_FAM_SPLAT: *res = impl->splat[c->op](c->scalar); break;
    case SIMD_FAM_LOAD: return run_load(impl, c, res);
    case SIMD_FAM_SHUFFLE: *res = impl->shuffle(in[0], in[1], c->lanes); break;
    default: abort(); /* a caller's bug, not an input */
    }
    return 0;
}

/* How float results are compared: as lanes of `bytes` bytes whose NaNs need only both be quiet
 * (the spec leaves the NaN open), canonical unless an input (of `in_bytes` lanes) holds a
 * non-canonical NaN. bytes == 0: bit for bit. */
typedef struct {
    unsigned bytes, in_bytes;
} float_rule;

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static float_rule rule_for(const simd_case *c) {
    static const char *const exact[] = {"_abs", "_neg", "_pmin", "_pmax", "_eq", "_ne", "_lt", "_gt", "_le", "_ge"};
    const char *op = simd_case_name(c);
    float_rule r = {0, 0};
    if (c->family != SIMD_FAM_UN && c->family != SIMD_FAM_BIN) return r;
    if (strncmp(op, "f32x4_", 6) && strncmp(op, "f64x2_", 6)) return r;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (ends_with(op, exact[i])) return r;
    r.bytes = r.in_bytes = op[1] == '3' ? 4 : 8;
    if (strstr(op, "demote")) r.in_bytes = 8;
    if (strstr(op, "promote")) r.in_bytes = 4;
    return r;
}

static int has_odd_nan(v128 v, unsigned bytes) {
    for (unsigned i = 0; i < 16 / bytes; i++) {
        uint64_t x = simd_lane_get(v, bytes, i);
        if (simd_is_nan(x, bytes) && !simd_is_canonical_nan(x, bytes)) return 1;
    }
    return 0;
}

static int floats_agree(float_rule rule, v128 fast, v128 slow, const v128 *in, unsigned n_in) {
    uint64_t quiet = simd_quiet_bit(rule.bytes);
    int canonical = 1;
    for (unsigned k = 0; k < n_in; k++)
        if (has_odd_nan(in[k], rule.in_bytes)) canonical = 0;
    for (unsigned i = 0; i < 16 / rule.bytes; i++) {
        uint64_t x = simd_lane_get(fast, rule.bytes, i), y = simd_lane_get(slow, rule.bytes, i);
        int nx = simd_is_nan(x, rule.bytes), ny = simd_is_nan(y, rule.bytes);
        if (nx != ny || (!nx && x != y)) return 0;
        if (nx && (!(x & quiet) || !(y & quiet))) return 0;
        if (nx && canonical && (!simd_is_canonical_nan(x, rule.bytes) || !simd_is_canonical_nan(y, rule.bytes)))
            return 0;
    }
    return 1;
}

static int is_shuffle_of(v128 res, const simd_case *c) {
    for (unsigned i = 0; i < 16; i++) {
        unsigned l = c->lanes[i];
        if (l >= 32 || res.u8[i] != (l < 16 ? c->in[0].u8[l] : c->in[1].u8[l - 16])) return 0;
    }
    return 1;
}

int simd_results_agree(const simd_case *c, v128 fast, v128 slow) {
    float_rule rule = rule_for(c);
    if (rule.bytes) return floats_agree(rule, fast, slow, c->in, c->family == SIMD_FAM_BIN ? 2 : 1);
    if (c->family == SIMD_FAM_SHUFFLE && !is_shuffle_of(fast, c)) return 0;
    return !memcmp(&fast, &slow, sizeof fast);
}

static void print_case(FILE *out, const simd_case *c) {
    static const unsigned vectors[SIMD_FAMILIES] = {1, 2, 3, 1, 1, 0, 0, 2};
    static const char *const labels[3] = {"a", "b", "c"};
    for (unsigned k = 0; k < vectors[c->family]; k++) simd_print_v128(out, labels[k], c->in[k]);
    if (c->family == SIMD_FAM_SHIFT) fprintf(out, "  count        %" PRIu32 " (0x%" PRIx32 ")\n", c->count, c->count);
    if (c->family == SIMD_FAM_SPLAT) fprintf(out, "  scalar       0x%016" PRIx64 "\n", c->scalar);
    if (c->family == SIMD_FAM_LOAD) {
        fprintf(out, "  memory       (%u bytes at offset %u)", simd_load_bytes[c->op], c->mem_offset % 16);
        for (unsigned i = 0; i < simd_load_bytes[c->op]; i++) fprintf(out, " %02x", c->mem[i]);
        fprintf(out, "\n");
    }
    if (c->family == SIMD_FAM_SHUFFLE) {
        fprintf(out, "  lanes       ");
        for (unsigned i = 0; i < 16; i++) fprintf(out, " %u", c->lanes[i]);
        fprintf(out, "\n");
    }
}

int simd_check_case(const struct simd_impl *fast, const struct simd_impl *slow, const simd_case *c,
                    const char *form, FILE *out) {
    v128 a, b;
    if (simd_run_case(fast, c, &a) || simd_run_case(slow, c, &b)) return -1;
    if (simd_results_agree(c, a, b)) return 0;
    if (out) {
        fprintf(out, "FAIL %s: %s and portable differ\n", simd_case_name(c), form);
        print_case(out, c);
        simd_print_v128(out, form, a);
        simd_print_v128(out, "portable", b);
    }
    return 1;
}
