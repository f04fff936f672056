/* values.c - spec-script values: parsing arguments, matching expectations, printing both.
 *
 * Encoding (wast2json): integers as unsigned decimal strings, f32/f64 as the unsigned decimal of
 * their bit pattern, expected NaNs as "nan:canonical" / "nan:arithmetic", v128 as lane_type plus
 * an array of lane strings (each lane in the same encoding), references as "null" or a number. */
#include "spectest/spectest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- externref identities */

void *extern_ref_for(extern_refs *refs, uint32_t n)
{
    for (size_t i = 0; i < refs->count; i++)
        if (*refs->items[i] == n)
            return refs->items[i];
    if (refs->count == refs->cap) {
        size_t cap = refs->cap ? refs->cap * 2 : 16;
        uint32_t **items = realloc(refs->items, cap * sizeof *items);
        if (!items)
            return NULL;
        refs->items = items;
        refs->cap = cap;
    }
    uint32_t *slot = malloc(sizeof *slot);
    if (!slot)
        return NULL;
    *slot = n;
    refs->items[refs->count++] = slot;
    return slot;
}

int extern_ref_lookup(const extern_refs *refs, const void *ptr, uint32_t *n)
{
    for (size_t i = 0; i < refs->count; i++)
        if (refs->items[i] == ptr) {
            *n = *refs->items[i];
            return 0;
        }
    return -1;
}

void extern_refs_free(extern_refs *refs)
{
    for (size_t i = 0; i < refs->count; i++)
        free(refs->items[i]);
    free(refs->items);
    *refs = (extern_refs){0};
}

/* ---------------------------------------------------------------- parsing */

typedef struct lane_shape {
    const char *name;
    unsigned count, bytes;
    bool is_float;
} lane_shape;

static const lane_shape lane_shapes[] = {
    {"i8", 16, 1, false}, {"i16", 8, 2, false}, {"i32", 4, 4, false},
    {"i64", 2, 8, false}, {"f32", 4, 4, true},  {"f64", 2, 8, true},
};

static const lane_shape *lane_shape_named(const char *name)
{
    for (size_t i = 0; i < sizeof lane_shapes / sizeof lane_shapes[0]; i++)
        if (name && strcmp(lane_shapes[i].name, name) == 0)
            return &lane_shapes[i];
    return NULL;
}

/* An unsigned decimal that must fit in `bits` bits. */
static int parse_unsigned(const char *s, unsigned bits, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || (bits < 64 && v >> bits))
        return -1;
    *out = v;
    return 0;
}

static void store_lane(uint8_t *v128, unsigned lane, unsigned bytes, uint64_t value)
{
    for (unsigned b = 0; b < bytes; b++) /* little-endian, as in wasm memory */
        v128[lane * bytes + b] = (uint8_t)(value >> (8 * b));
}

static uint64_t load_lane(const uint8_t *v128, unsigned lane, unsigned bytes)
{
    uint64_t value = 0;
    for (unsigned b = 0; b < bytes; b++)
        value |= (uint64_t)v128[lane * bytes + b] << (8 * b);
    return value;
}

static int parse_v128(const json_t *j, uint8_t out[16], char *why, size_t why_len)
{
    const lane_shape *shape = lane_shape_named(json_string_value(json_object_get(j, "lane_type")));
    const json_t *lanes = json_object_get(j, "value");
    if (!shape || !json_is_array(lanes) || json_array_size(lanes) != shape->count) {
        snprintf(why, why_len, "v128 value needs a lane_type and the right number of lanes");
        return -1;
    }
    for (unsigned i = 0; i < shape->count; i++) {
        uint64_t lane;
        if (parse_unsigned(json_string_value(json_array_get(lanes, i)), shape->bytes * 8, &lane)) {
            snprintf(why, why_len, "v128 lane %u: not an unsigned %u-bit number", i,
                     shape->bytes * 8);
            return -1;
        }
        store_lane(out, i, shape->bytes, lane);
    }
    return 0;
}

static int parse_ref(const char *text, wasm_valtype type, extern_refs *refs, wasm_val *out,
                     char *why, size_t why_len)
{
    out->type = type;
    if (text && strcmp(text, "null") == 0) {
        if (type == WASM_FUNCREF)
            out->of.funcref = NULL;
        else
            out->of.externref = NULL;
        return 0;
    }
    uint64_t n;
    if (type != WASM_EXTERNREF || parse_unsigned(text, 32, &n)) {
        snprintf(why, why_len, "unsupported %s argument \"%s\"",
                 type == WASM_FUNCREF ? "funcref" : "externref", text ? text : "");
        return -1;
    }
    out->of.externref = extern_ref_for(refs, (uint32_t)n);
    if (!out->of.externref) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    return 0;
}

static int valtype_named(const char *name, wasm_valtype *out)
{
    static const struct { const char *name; wasm_valtype type; } names[] = {
        {"i32", WASM_I32}, {"i64", WASM_I64}, {"f32", WASM_F32}, {"f64", WASM_F64},
        {"v128", WASM_V128}, {"funcref", WASM_FUNCREF}, {"externref", WASM_EXTERNREF},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name && strcmp(names[i].name, name) == 0) {
            *out = names[i].type;
            return 0;
        }
    return -1;
}

int value_parse(const json_t *j, extern_refs *refs, wasm_val *out, char *why, size_t why_len)
{
    const char *tname = json_string_value(json_object_get(j, "type"));
    memset(out, 0, sizeof *out);
    if (valtype_named(tname, &out->type)) {
        snprintf(why, why_len, "unknown value type \"%s\"", tname ? tname : "");
        return -1;
    }
    if (out->type == WASM_V128)
        return parse_v128(j, out->of.v128, why, why_len);
    const char *text = json_string_value(json_object_get(j, "value"));
    if (out->type == WASM_FUNCREF || out->type == WASM_EXTERNREF)
        return parse_ref(text, out->type, refs, out, why, why_len);
    unsigned bits = (out->type == WASM_I32 || out->type == WASM_F32) ? 32 : 64;
    uint64_t v;
    if (parse_unsigned(text, bits, &v)) {
        snprintf(why, why_len, "%s argument \"%s\" is not an unsigned %u-bit number", tname,
                 text ? text : "", bits);
        return -1;
    }
    if (bits == 32)
        out->of.i32 = (uint32_t)v; /* f32 shares the slot: both are 32-bit patterns */
    else
        out->of.i64 = v;
    return 0;
}

/* ---------------------------------------------------------------- matching */

/* A canonical NaN has only the quiet bit set in its payload; an arithmetic NaN has at least the
 * quiet bit. Sign is free in both. */
static bool float_matches(const char *expected, uint64_t bits, unsigned width)
{
    uint64_t exp_mask = width == 32 ? 0x7F800000u : 0x7FF0000000000000u;
    uint64_t quiet = width == 32 ? 0x00400000u : 0x0008000000000000u;
    uint64_t payload = width == 32 ? 0x007FFFFFu : 0x000FFFFFFFFFFFFFu;
    if (expected && strcmp(expected, "nan:canonical") == 0)
        return (bits & exp_mask) == exp_mask && (bits & payload) == quiet;
    if (expected && strcmp(expected, "nan:arithmetic") == 0)
        return (bits & exp_mask) == exp_mask && (bits & quiet);
    uint64_t want;
    return parse_unsigned(expected, width, &want) == 0 && want == bits;
}

static bool v128_matches(const json_t *expected, const uint8_t got[16])
{
    const lane_shape *shape =
        lane_shape_named(json_string_value(json_object_get(expected, "lane_type")));
    const json_t *lanes = json_object_get(expected, "value");
    if (!shape || !json_is_array(lanes) || json_array_size(lanes) != shape->count)
        return false;
    for (unsigned i = 0; i < shape->count; i++) {
        const char *text = json_string_value(json_array_get(lanes, i));
        uint64_t lane = load_lane(got, i, shape->bytes), want;
        if (shape->is_float ? !float_matches(text, lane, shape->bytes * 8)
                            : parse_unsigned(text, shape->bytes * 8, &want) || want != lane)
            return false;
    }
    return true;
}

bool value_matches(const json_t *expected, const wasm_val *got, const extern_refs *refs)
{
    wasm_valtype type;
    if (valtype_named(json_string_value(json_object_get(expected, "type")), &type) ||
        type != got->type)
        return false;
    const char *text = json_string_value(json_object_get(expected, "value"));
    uint64_t want;
    uint32_t n;
    switch (type) {
    case WASM_I32: return parse_unsigned(text, 32, &want) == 0 && want == got->of.i32;
    case WASM_I64: return parse_unsigned(text, 64, &want) == 0 && want == got->of.i64;
    case WASM_F32: return float_matches(text, got->of.f32, 32);
    case WASM_F64: return float_matches(text, got->of.f64, 64);
    case WASM_V128: return v128_matches(expected, got->of.v128);
    case WASM_FUNCREF:
        /* The script can only name ref.null; any other expectation means "some function". */
        return text && strcmp(text, "null") == 0 ? got->of.funcref == NULL : got->of.funcref != NULL;
    case WASM_EXTERNREF:
        if (text && strcmp(text, "null") == 0)
            return got->of.externref == NULL;
        return parse_unsigned(text, 32, &want) == 0 &&
               extern_ref_lookup(refs, got->of.externref, &n) == 0 && n == want;
    }
    return false;
}

/* ---------------------------------------------------------------- printing */

static const char *valtype_name(wasm_valtype t)
{
    switch (t) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_V128: return "v128";
    case WASM_FUNCREF: return "funcref";
    case WASM_EXTERNREF: return "externref";
    }
    return "?";
}

void value_format(const wasm_val *v, const extern_refs *refs, char *buf, size_t len)
{
    const char *name = valtype_name(v->type);
    uint32_t n;
    float f;
    double d;
    switch (v->type) {
    case WASM_I32: snprintf(buf, len, "i32:%" PRIu32, v->of.i32); break;
    case WASM_I64: snprintf(buf, len, "i64:%" PRIu64, v->of.i64); break;
    case WASM_F32:
        memcpy(&f, &v->of.f32, sizeof f);
        snprintf(buf, len, "f32:%" PRIu32 " (%a)", v->of.f32, (double)f);
        break;
    case WASM_F64:
        memcpy(&d, &v->of.f64, sizeof d);
        snprintf(buf, len, "f64:%" PRIu64 " (%a)", v->of.f64, d);
        break;
    case WASM_V128: {
        size_t used = (size_t)snprintf(buf, len, "v128:");
        for (int i = 0; i < 16 && used < len; i++)
            used += (size_t)snprintf(buf + used, len - used, "%02x", v->of.v128[i]);
        break;
    }
    case WASM_FUNCREF: snprintf(buf, len, "funcref:%s", v->of.funcref ? "func" : "null"); break;
    case WASM_EXTERNREF:
        if (!v->of.externref)
            snprintf(buf, len, "externref:null");
        else if (extern_ref_lookup(refs, v->of.externref, &n) == 0)
            snprintf(buf, len, "externref:%" PRIu32, n);
        else
            snprintf(buf, len, "externref:<unknown %p>", v->of.externref);
        break;
    default: snprintf(buf, len, "%s:<type %d>", name, (int)v->type); break;
    }
}

void value_format_expected(const json_t *expected, char *buf, size_t len)
{
    const char *type = json_string_value(json_object_get(expected, "type"));
    const json_t *value = json_object_get(expected, "value");
    if (json_is_array(value)) {
        size_t used = (size_t)snprintf(buf, len, "v128:%s[",
                                       json_string_value(json_object_get(expected, "lane_type")));
        for (size_t i = 0; i < json_array_size(value) && used < len; i++)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "",
                                     json_string_value(json_array_get(value, i)));
        if (used < len)
            snprintf(buf + used, len - used, "]");
    } else {
        snprintf(buf, len, "%s:%s", type ? type : "?",
                 json_is_string(value) ? json_string_value(value) : "?");
    }
}
