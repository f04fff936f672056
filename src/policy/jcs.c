/* jcs.c - RFC 8785 JSON Canonicalization Scheme over jansson trees.
 *
 * Canonical form: no whitespace; object members sorted by the UTF-16 code units of their names;
 * strings with only the mandatory escapes (\" \\ \b \f \n \r \t, other controls as \u00xx) and
 * everything else as raw UTF-8; numbers as ECMAScript's Number.prototype.toString prints them. */
#include "policy/jcs.h"
#include "policy/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXACT_INT 9007199254740992LL /* 2^53: beyond it a double cannot hold every integer */

/* ---- bounded loading ---- */

/* Nesting depth of JSON text, counted without parsing so jansson's own recursion is never fed
 * more than max_depth levels. Brackets inside strings do not count. */
static int depth_ok(const char *s, size_t len, unsigned max_depth)
{
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return 0;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 1;
}

int sb_jcs_load(const void *data, size_t len, size_t max_bytes, unsigned max_depth, json_t **out,
                sb_err *err)
{
    *out = NULL;
    if (len > max_bytes)
        return sb_err_set(err, SB_POLICY_E_SYNTAX, "%zu bytes is more than the limit of %zu",
                          len, max_bytes);
    if (!depth_ok(data, len, max_depth))
        return sb_err_set(err, SB_POLICY_E_SYNTAX, "nested more than %u levels deep", max_depth);
    json_error_t je;
    *out = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!*out)
        return sb_err_set(err, SB_POLICY_E_SYNTAX, "invalid JSON at line %d column %d: %s",
                          je.line, je.column, je.text);
    return 0;
}

/* ---- output buffer ---- */

typedef struct buf {
    uint8_t *data;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* ---- numbers: ECMAScript Number::toString ----
 * Built on printf("%.*e") and strtod, both correctly rounded in glibc, in the C locale (no
 * Strongbox program calls setlocale, so the decimal point is always '.'). */

/* Digits and decimal exponent of "%.*e" output: "d.ddde+XX" -> "dddd", exp. */
static int split_exp(const char *s, char *digits, int *exp)
{
    int k = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[k++] = *s;
    digits[k] = '\0';
    *exp = *s == 'e' ? atoi(s + 1) : 0;
    return k;
}

static double value_of(const char *digits, int exp)
{
    char s[48];
    snprintf(s, sizeof s, "%c.%se%d", digits[0], digits + 1, exp);
    return strtod(s, NULL);
}

/* One unit up or down in the last of the k digits, keeping k digits (10.0 -> 9.9, 9.9 -> 10.0). */
static void step_digits(char *d, int k, int *exp, int up)
{
    int i = k - 1;
    if (up) {
        while (i >= 0 && d[i] == '9')
            d[i--] = '0';
        if (i >= 0) {
            d[i]++;
        } else {
            d[0] = '1';
            (*exp)++;
        }
    } else {
        while (i >= 0 && d[i] == '0')
            d[i--] = '9';
        d[i]--; /* i >= 0: the leading digit is never 0 */
        if (d[0] == '0') {
            memmove(d, d + 1, (size_t)k - 1);
            d[k - 1] = '9';
            (*exp)--;
        }
    }
}

/* Shortest digit string that reads back as v (v > 0, finite); among equally short candidates the
 * closest to v. The correctly rounded candidate is the closest; when it does not read back, its
 * neighbour on the other side of v may (the rounding interval is asymmetric at powers of two). */
static int shortest_digits(double v, char *digits, int *exp)
{
    char s[48];
    for (int k = 1; k <= 17; k++) {
        snprintf(s, sizeof s, "%.*e", k - 1, v);
        split_exp(s, digits, exp);
        double back = value_of(digits, *exp);
        if (back == v)
            return k;
        step_digits(digits, k, exp, back < v);
        if (value_of(digits, *exp) == v)
            return k;
    }
    snprintf(s, sizeof s, "%.16e", v); /* unreachable: 17 digits always read back */
    return split_exp(s, digits, exp);
}

void sb_jcs_format_double(double v, char *out)
{
    if (v == 0) { /* also -0 */
        strcpy(out, "0");
        return;
    }
    if (v < 0) {
        *out++ = '-';
        v = -v;
    }
    char d[24];
    int e, k = shortest_digits(v, d, &e);
    while (k > 1 && d[k - 1] == '0')
        d[--k] = '\0';
    int n = e + 1; /* v = 0.d * 10^n */
    if (k <= n && n <= 21) {
        sprintf(out, "%s%.*s", d, n - k, "000000000000000000000");
    } else if (0 < n && n <= 21) {
        sprintf(out, "%.*s.%s", n, d, d + n);
    } else if (-6 < n && n <= 0) {
        sprintf(out, "0.%.*s%s", -n, "000000", d);
    } else {
        sprintf(out, "%c%s%se%c%d", d[0], k > 1 ? "." : "", d + 1, n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
}

/* ---- strings and keys ---- */

static void put_string(buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    put(b, "\"", 1);
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: memcpy(esc + 1, "u00", 3); esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
        }
        puts_(b, esc);
    }
    put(b, s + run, len - run);
    put(b, "\"", 1);
}

/* Next code point of valid UTF-8 (jansson guarantees validity). */
static unsigned next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned cp;
    int extra;
    if (s[0] < 0x80) {
        cp = s[0];
        extra = 0;
    } else if (s[0] < 0xE0) {
        cp = s[0] & 0x1F;
        extra = 1;
    } else if (s[0] < 0xF0) {
        cp = s[0] & 0x0F;
        extra = 2;
    } else {
        cp = s[0] & 0x07;
        extra = 3;
    }
    for (int i = 1; i <= extra; i++)
        cp = cp << 6 | (s[i] & 0x3F);
    *p = s + 1 + extra;
    return cp;
}

/* First UTF-16 code unit of a code point: supplementary planes sort by their high surrogate. */
static unsigned utf16_lead(unsigned cp)
{
    return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

static int compare_utf16(const void *pa, const void *pb)
{
    const unsigned char *a = *(const unsigned char *const *)pa, *b = *(const unsigned char *const *)pb;
    while (*a && *b) {
        unsigned ca = next_cp(&a), cb = next_cp(&b);
        if (ca != cb) {
            unsigned la = utf16_lead(ca), lb = utf16_lead(cb);
            if (la != lb)
                return la < lb ? -1 : 1;
            return ca < cb ? -1 : 1; /* same high surrogate: low surrogates order as code points */
        }
    }
    return (*a != 0) - (*b != 0);
}

/* ---- values ---- */

static int encode(buf *b, const json_t *v, unsigned depth, sb_err *err);

static int encode_object(buf *b, const json_t *obj, unsigned depth, sb_err *err)
{
    size_t n = json_object_size(obj);
    const char **keys = n ? malloc(n * sizeof *keys) : NULL;
    if (n && !keys)
        return sb_err_set(err, SB_POLICY_E_NOMEM, "out of memory");
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) keys[i++] = key;
    if (n)
        qsort(keys, n, sizeof *keys, compare_utf16);
    put(b, "{", 1);
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++) {
        if (i)
            put(b, ",", 1);
        put_string(b, keys[i], strlen(keys[i]));
        put(b, ":", 1);
        rc = encode(b, json_object_get(obj, keys[i]), depth + 1, err);
    }
    put(b, "}", 1);
    free(keys);
    return rc;
}

static int encode(buf *b, const json_t *v, unsigned depth, sb_err *err)
{
    char num[40];
    if (depth > SB_JCS_MAX_DEPTH) /* sb_jcs_load already bounds depth; trees built by hand too */
        return sb_err_set(err, SB_POLICY_E_SYNTAX, "nested more than %d levels deep",
                          SB_JCS_MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return encode_object(b, v, depth, err);
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put(b, ",", 1);
            if (encode(b, json_array_get(v, i), depth + 1, err))
                return -1;
        }
        put(b, "]", 1);
        return 0;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        if (i > MAX_EXACT_INT || i < -MAX_EXACT_INT)
            return sb_err_set(err, SB_POLICY_E_SYNTAX, "integer %lld is outside +/-2^53: a double "
                              "cannot hold every such integer", (long long)i);
        snprintf(num, sizeof num, "%lld", (long long)i);
        puts_(b, num);
        return 0;
    }
    case JSON_REAL: {
        /* Between 2^53 and 1e21 ECMAScript prints a number as a plain integer, which would then
         * stand for a value outside the exact range above: refused the same way, so every
         * accepted number's canonical text means exactly the hashed double to any reader. */
        double d = json_real_value(v);
        if (!isfinite(d))
            return sb_err_set(err, SB_POLICY_E_SYNTAX, "number is not finite");
        sb_jcs_format_double(d, num);
        if (fabs(d) > (double)MAX_EXACT_INT && fabs(d) < 1e21)
            return sb_err_set(err, SB_POLICY_E_SYNTAX, "number %s is outside +/-2^53 and below "
                              "1e21, where its canonical form is an integer beyond the exact range",
                              num);
        puts_(b, num);
        return 0;
    }
    case JSON_TRUE:
        puts_(b, "true");
        return 0;
    case JSON_FALSE:
        puts_(b, "false");
        return 0;
    default:
        puts_(b, "null");
        return 0;
    }
}

int sb_jcs_encode(const json_t *value, uint8_t **out, size_t *out_len, sb_err *err)
{
    buf b = {0};
    *out = NULL;
    *out_len = 0;
    if (encode(&b, value, 0, err) != 0) {
        free(b.data);
        return -1;
    }
    if (b.failed) {
        free(b.data);
        return sb_err_set(err, SB_POLICY_E_NOMEM, "out of memory");
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

int sb_policy_jcs(const void *json, size_t len, unsigned max_depth, uint8_t **out, size_t *out_len,
                  sb_err *err)
{
    json_t *root;
    *out = NULL;
    *out_len = 0;
    if (max_depth > SB_JCS_MAX_DEPTH)
        max_depth = SB_JCS_MAX_DEPTH;
    if (sb_jcs_load(json, len, SB_POLICY_MAX_BYTES, max_depth, &root, err) != 0)
        return -1;
    int rc = sb_jcs_encode(root, out, out_len, err);
    json_decref(root);
    return rc;
}
