/* test_values.c - the spectest driver's value layer: argument parsing (every type, v128 lanes,
 * range and format errors), expectation matching (NaN patterns per float and per v128 lane,
 * references) and externref identities. The SIMD spec files need the v128 paths before the engine
 * supports SIMD, so they are checked here directly. */
#include <stdio.h>
#include <string.h>

#include "spectest/spectest.h"

#include "../common/check.h"


static json_t *js(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) {
        printf("bad test JSON %s: %s\n", text, e.text);
        failures++;
    }
    return j;
}

/* Parses `text`; returns the parse status and leaves the message in why. */
static int parse(const char *text, extern_refs *refs, wasm_val *v, char *why, size_t why_len)
{
    json_t *j = js(text);
    why[0] = '\0';
    int rc = j ? value_parse(j, refs, v, why, why_len) : -1;
    json_decref(j);
    return rc;
}

static bool matches(const char *expected, const wasm_val *got, const extern_refs *refs)
{
    json_t *j = js(expected);
    bool ok = j && value_matches(j, got, refs);
    json_decref(j);
    return ok;
}

static void test_scalars(void)
{
    extern_refs refs = {0};
    wasm_val v;
    char why[256];
    CHECKF(parse("{\"type\":\"i32\",\"value\":\"4294967295\"}", &refs, &v, why, sizeof why) == 0 &&
               v.type == WASM_I32 && v.of.i32 == UINT32_MAX, "%s", why);
    CHECKF(parse("{\"type\":\"i64\",\"value\":\"18446744073709551615\"}", &refs, &v, why, sizeof why) == 0 &&
               v.of.i64 == UINT64_MAX, "%s", why);
    CHECKF(parse("{\"type\":\"f32\",\"value\":\"2143289344\"}", &refs, &v, why, sizeof why) == 0 &&
               v.type == WASM_F32 && v.of.f32 == 0x7FC00000u, "%s", why);
    CHECKF(parse("{\"type\":\"i32\",\"value\":\"4294967296\"}", &refs, &v, why, sizeof why) == -1 &&
               strcmp(why, "i32 argument \"4294967296\" is not an unsigned 32-bit number") == 0, "%s", why);
    CHECKF(parse("{\"type\":\"i64\",\"value\":\"18446744073709551616\"}", &refs, &v, why, sizeof why) == -1 &&
               strstr(why, "not an unsigned 64-bit number"), "%s", why);
    CHECKF(parse("{\"type\":\"i32\",\"value\":\"-1\"}", &refs, &v, why, sizeof why) == -1, "negative accepted");
    CHECKF(parse("{\"type\":\"i32\",\"value\":\"12x\"}", &refs, &v, why, sizeof why) == -1, "trailing junk accepted");
    CHECKF(parse("{\"type\":\"i32\"}", &refs, &v, why, sizeof why) == -1, "missing value accepted");
    CHECKF(parse("{\"type\":\"i128\",\"value\":\"1\"}", &refs, &v, why, sizeof why) == -1 &&
               strcmp(why, "unknown value type \"i128\"") == 0, "%s", why);
    CHECKF(parse("{\"type\":\"funcref\",\"value\":\"3\"}", &refs, &v, why, sizeof why) == -1 &&
               strstr(why, "unsupported funcref argument"), "%s", why);
    extern_refs_free(&refs);
}

static void test_float_patterns(void)
{
    extern_refs refs = {0};
    wasm_val v = {.type = WASM_F32, .of.f32 = 0x7FC00000u};
    CHECKF(matches("{\"type\":\"f32\",\"value\":\"nan:canonical\"}", &v, &refs), "canonical");
    CHECKF(matches("{\"type\":\"f32\",\"value\":\"nan:arithmetic\"}", &v, &refs), "canonical is arithmetic");
    v.of.f32 = 0xFFC00000u; /* sign is free */
    CHECKF(matches("{\"type\":\"f32\",\"value\":\"nan:canonical\"}", &v, &refs), "-canonical");
    v.of.f32 = 0x7FC00001u;
    CHECKF(!matches("{\"type\":\"f32\",\"value\":\"nan:canonical\"}", &v, &refs), "payload bits");
    CHECKF(matches("{\"type\":\"f32\",\"value\":\"nan:arithmetic\"}", &v, &refs), "arithmetic");
    v.of.f32 = 0x7F800001u; /* signalling */
    CHECKF(!matches("{\"type\":\"f32\",\"value\":\"nan:arithmetic\"}", &v, &refs), "signalling NaN");
    v.of.f32 = 0x7F800000u; /* infinity */
    CHECKF(!matches("{\"type\":\"f32\",\"value\":\"nan:arithmetic\"}", &v, &refs), "infinity");
    v = (wasm_val){.type = WASM_F64, .of.f64 = 0xFFF8000000000000ull};
    CHECKF(matches("{\"type\":\"f64\",\"value\":\"nan:canonical\"}", &v, &refs), "f64 canonical");
    v.of.f64 = 0x7FF4000000000000ull;
    CHECKF(!matches("{\"type\":\"f64\",\"value\":\"nan:arithmetic\"}", &v, &refs), "f64 signalling");
    CHECKF(!matches("{\"type\":\"f32\",\"value\":\"nan:canonical\"}", &v, &refs), "type differs");
    v = (wasm_val){.type = WASM_F64, .of.f64 = 0x8000000000000000ull};
    CHECKF(matches("{\"type\":\"f64\",\"value\":\"9223372036854775808\"}", &v, &refs), "-0 bits");
    CHECKF(!matches("{\"type\":\"f64\",\"value\":\"0\"}", &v, &refs), "-0 is not +0");
    extern_refs_free(&refs);
}

static void test_v128(void)
{
    extern_refs refs = {0};
    wasm_val v;
    char why[256];
    CHECKF(parse("{\"type\":\"v128\",\"lane_type\":\"i8\",\"value\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\","
                 "\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"255\"]}",
                 &refs, &v, why, sizeof why) == 0 && v.type == WASM_V128 && v.of.v128[1] == 1 &&
               v.of.v128[15] == 255, "%s", why);
    CHECKF(parse("{\"type\":\"v128\",\"lane_type\":\"i16\",\"value\":[\"65535\",\"1\",\"2\",\"3\",\"4\","
                 "\"5\",\"6\",\"258\"]}", &refs, &v, why, sizeof why) == 0 &&
               v.of.v128[0] == 0xFF && v.of.v128[1] == 0xFF && v.of.v128[14] == 2 && v.of.v128[15] == 1,
           "little-endian lanes: %s", why);
    CHECKF(parse("{\"type\":\"v128\",\"lane_type\":\"i64\",\"value\":[\"1\",\"18446744073709551615\"]}",
                 &refs, &v, why, sizeof why) == 0 && v.of.v128[0] == 1 && v.of.v128[8] == 0xFF, "%s", why);
    CHECKF(parse("{\"type\":\"v128\",\"lane_type\":\"i8\",\"value\":[\"256\",\"0\",\"0\",\"0\",\"0\",\"0\","
                 "\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\"]}", &refs, &v, why, sizeof why) == -1 &&
               strcmp(why, "v128 lane 0: not an unsigned 8-bit number") == 0, "%s", why);
    CHECKF(parse("{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":[\"1\",\"2\",\"3\"]}", &refs, &v, why,
                 sizeof why) == -1 && strstr(why, "right number of lanes"), "%s", why);
    CHECKF(parse("{\"type\":\"v128\",\"lane_type\":\"i24\",\"value\":[\"1\"]}", &refs, &v, why, sizeof why) == -1,
           "unknown lane type accepted");
    /* f32x4 with NaN patterns per lane: canonical, arithmetic, exact, exact. */
    wasm_val got = {.type = WASM_V128};
    const uint32_t lanes[4] = {0x7FC00000u, 0x7FC00123u, 0x3F800000u, 0};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            got.of.v128[4 * i + b] = (uint8_t)(lanes[i] >> (8 * b));
    const char *want = "{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"nan:canonical\","
                       "\"nan:arithmetic\",\"1065353216\",\"0\"]}";
    CHECKF(matches(want, &got, &refs), "f32x4 lanes with NaN patterns");
    got.of.v128[4] = 0x24; /* lane 1 still arithmetic */
    CHECKF(matches(want, &got, &refs), "lane 1 payload change");
    got.of.v128[8] ^= 1; /* lane 2 no longer 1.0 */
    CHECKF(!matches(want, &got, &refs), "lane 2 differs but matched");
    got.of.v128[8] ^= 1;
    CHECKF(!matches("{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"nan:canonical\","
                    "\"nan:canonical\",\"1065353216\",\"0\"]}", &got, &refs), "lane 1 is not canonical");
    CHECKF(!matches("{\"type\":\"v128\",\"lane_type\":\"i64\",\"value\":[\"1\"]}", &got, &refs),
           "short lane list matched");
    char text[128];
    value_format(&got, &refs, text, sizeof text);
    CHECKF(strcmp(text, "v128:0000c07f2401c07f0000803f00000000") == 0, "%s", text);
    extern_refs_free(&refs);
}

static void test_references(void)
{
    extern_refs refs = {0};
    wasm_val a, b, c, n;
    char why[256];
    CHECKF(parse("{\"type\":\"externref\",\"value\":\"0\"}", &refs, &a, why, sizeof why) == 0 &&
               a.of.externref != NULL, "ref.extern 0 must not be NULL");
    parse("{\"type\":\"externref\",\"value\":\"1\"}", &refs, &b, why, sizeof why);
    parse("{\"type\":\"externref\",\"value\":\"0\"}", &refs, &c, why, sizeof why);
    parse("{\"type\":\"externref\",\"value\":\"null\"}", &refs, &n, why, sizeof why);
    CHECKF(a.of.externref != b.of.externref && a.of.externref == c.of.externref,
           "identities: distinct per N, stable for the same N");
    CHECKF(n.type == WASM_EXTERNREF && n.of.externref == NULL, "ref.null extern");
    CHECKF(matches("{\"type\":\"externref\",\"value\":\"1\"}", &b, &refs), "ref.extern 1");
    CHECKF(!matches("{\"type\":\"externref\",\"value\":\"0\"}", &b, &refs), "1 matched 0");
    CHECKF(!matches("{\"type\":\"externref\",\"value\":\"null\"}", &a, &refs), "0 matched null");
    int unknown;
    wasm_val stranger = {.type = WASM_EXTERNREF, .of.externref = &unknown};
    CHECKF(!matches("{\"type\":\"externref\",\"value\":\"0\"}", &stranger, &refs), "foreign pointer");
    wasm_val fnull = {.type = WASM_FUNCREF, .of.funcref = NULL};
    CHECKF(matches("{\"type\":\"funcref\",\"value\":\"null\"}", &fnull, &refs), "ref.null func");
    CHECKF(!matches("{\"type\":\"externref\",\"value\":\"null\"}", &fnull, &refs), "funcref vs externref");
    extern_refs_free(&refs);
}

int main(void)
{
    test_scalars();
    test_float_patterns();
    test_v128();
    test_references();
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all value checks passed\n");
    return 0;
}
