/* cbor.c - strict bounded CBOR reader and a small, bounded CBOR writer (no other dependency: the
 * runtime links the writer to encode receipts, docs/receipts.md). */
#include "cose/cbor.h"

#include <stdlib.h>
#include <string.h>

static const char *const major_names[8] = {"unsigned integer", "negative integer", "byte string",
                                           "text string",      "array",            "map",
                                           "tag",              "simple/float"};

void sb_cbor_init(sb_cbor *r, const uint8_t *data, size_t len)
{
    r->p = data;
    r->end = data + len;
}

size_t sb_cbor_remaining(const sb_cbor *r)
{
    return (size_t)(r->end - r->p);
}

int sb_cbor_peek(const sb_cbor *r)
{
    return r->p < r->end ? r->p[0] >> 5 : -1;
}

/* Reads one item head: major type and argument. For major 7 the argument is the simple value (or
 * the raw float bits) and *ai keeps the additional information so floats can be told apart. */
static int read_head(sb_cbor *r, int *major, uint64_t *arg, int *ai_out, sb_err *err)
{
    if (r->p >= r->end)
        return sb_err_set(err, 1, "cbor: unexpected end of input");
    int mt = r->p[0] >> 5, ai = r->p[0] & 31;
    const uint8_t *q = r->p + 1;
    uint64_t v = 0;
    if (ai < 24) {
        v = (uint64_t)ai;
    } else if (ai <= 27) {
        size_t n = (size_t)1 << (ai - 24);
        if ((size_t)(r->end - q) < n)
            return sb_err_set(err, 1, "cbor: truncated %s head", major_names[mt]);
        for (size_t i = 0; i < n; i++)
            v = (v << 8) | q[i];
        q += n;
    } else if (ai == 31) {
        return sb_err_set(err, 1, "cbor: indefinite-length %s not allowed", major_names[mt]);
    } else {
        return sb_err_set(err, 1, "cbor: reserved additional information %d", ai);
    }
    *major = mt;
    *arg = v;
    if (ai_out)
        *ai_out = ai;
    r->p = q;
    return 0;
}

/* Reads the head of an item of major type `want`; the cursor is left unchanged on failure. */
static int expect_head(sb_cbor *r, int want, uint64_t *arg, sb_err *err)
{
    sb_cbor save = *r;
    int mt;
    if (read_head(r, &mt, arg, NULL, err) < 0)
        return -1;
    if (mt != want) {
        *r = save;
        return sb_err_set(err, 1, "cbor: expected %s, found %s", major_names[want],
                          major_names[mt]);
    }
    return 0;
}

int sb_cbor_read_uint(sb_cbor *r, uint64_t *out, sb_err *err)
{
    return expect_head(r, SB_CBOR_UINT, out, err);
}

int sb_cbor_read_int(sb_cbor *r, int64_t *out, sb_err *err)
{
    sb_cbor save = *r;
    int mt;
    uint64_t v;
    if (read_head(r, &mt, &v, NULL, err) < 0)
        return -1;
    if ((mt != SB_CBOR_UINT && mt != SB_CBOR_NEGINT) || v > (uint64_t)INT64_MAX) {
        *r = save;
        if (mt != SB_CBOR_UINT && mt != SB_CBOR_NEGINT)
            return sb_err_set(err, 1, "cbor: expected integer, found %s", major_names[mt]);
        return sb_err_set(err, 1, "cbor: integer out of range");
    }
    *out = mt == SB_CBOR_UINT ? (int64_t)v : -1 - (int64_t)v;
    return 0;
}

static int read_string(sb_cbor *r, int major, const uint8_t **out, size_t *len, sb_err *err)
{
    sb_cbor save = *r;
    uint64_t n;
    if (expect_head(r, major, &n, err) < 0)
        return -1;
    if (n > sb_cbor_remaining(r)) {
        *r = save;
        return sb_err_set(err, 1, "cbor: %s length %llu exceeds the %zu bytes left",
                          major_names[major], (unsigned long long)n, sb_cbor_remaining(r));
    }
    *out = r->p;
    *len = (size_t)n;
    r->p += n;
    return 0;
}

int sb_cbor_read_bytes(sb_cbor *r, const uint8_t **out, size_t *len, sb_err *err)
{
    return read_string(r, SB_CBOR_BYTES, out, len, err);
}

int sb_cbor_read_text(sb_cbor *r, const char **out, size_t *len, sb_err *err)
{
    return read_string(r, SB_CBOR_TEXT, (const uint8_t **)out, len, err);
}

/* Arrays and maps: every element takes at least one byte, so a count larger than what is left
 * is malformed; this bounds every loop driven by a count. */
static int read_container(sb_cbor *r, int major, size_t per_elem, size_t *n, sb_err *err)
{
    sb_cbor save = *r;
    uint64_t v;
    if (expect_head(r, major, &v, err) < 0)
        return -1;
    if (v > sb_cbor_remaining(r) / per_elem) {
        *r = save;
        return sb_err_set(err, 1, "cbor: %s of %llu elements exceeds the input",
                          major_names[major], (unsigned long long)v);
    }
    *n = (size_t)v;
    return 0;
}

int sb_cbor_read_array(sb_cbor *r, size_t *n, sb_err *err)
{
    return read_container(r, SB_CBOR_ARRAY, 1, n, err);
}

int sb_cbor_read_map(sb_cbor *r, size_t *n, sb_err *err)
{
    return read_container(r, SB_CBOR_MAP, 2, n, err);
}

int sb_cbor_read_tag(sb_cbor *r, uint64_t *tag, sb_err *err)
{
    return expect_head(r, SB_CBOR_TAG, tag, err);
}

int sb_cbor_read_bool(sb_cbor *r, int *out, sb_err *err)
{
    if (r->p < r->end && (r->p[0] == 0xf4 || r->p[0] == 0xf5)) {
        *out = r->p[0] == 0xf5;
        r->p++;
        return 0;
    }
    return sb_err_set(err, 1, "cbor: expected boolean");
}

/* Skips items iteratively: `pending` counts items still to consume. Each container adds its
 * elements; since each element is at least one byte, pending never exceeds the input size. */
int sb_cbor_skip(sb_cbor *r, sb_err *err)
{
    sb_cbor cur = *r;
    uint64_t pending = 1;
    while (pending > 0) {
        int mt, ai;
        uint64_t arg;
        if (read_head(&cur, &mt, &arg, &ai, err) < 0)
            return -1;
        pending--;
        size_t left = sb_cbor_remaining(&cur);
        switch (mt) {
        case SB_CBOR_BYTES:
        case SB_CBOR_TEXT:
            if (arg > left)
                return sb_err_set(err, 1, "cbor: %s length exceeds input", major_names[mt]);
            cur.p += arg;
            break;
        case SB_CBOR_ARRAY:
        case SB_CBOR_MAP: {
            uint64_t per = mt == SB_CBOR_MAP ? 2 : 1;
            if (arg > left / per)
                return sb_err_set(err, 1, "cbor: %s of %llu elements exceeds the input",
                                  major_names[mt], (unsigned long long)arg);
            pending += arg * per;
            if (pending > left + 1)
                return sb_err_set(err, 1, "cbor: nested items exceed the input");
            break;
        }
        case SB_CBOR_TAG:
            pending++;
            break;
        case SB_CBOR_SIMPLE:
            if (ai == 24 && arg < 32)
                return sb_err_set(err, 1, "cbor: invalid two-byte simple value %llu",
                                  (unsigned long long)arg);
            break;
        default:
            break;
        }
    }
    *r = cur;
    return 0;
}

int sb_cbor_read_raw(sb_cbor *r, const uint8_t **out, size_t *len, sb_err *err)
{
    const uint8_t *start = r->p;
    if (sb_cbor_skip(r, err) < 0)
        return -1;
    *out = start;
    *len = (size_t)(r->p - start);
    return 0;
}

int sb_cbor_check_single(const uint8_t *data, size_t len, sb_err *err)
{
    sb_cbor r;
    sb_cbor_init(&r, data, len);
    if (sb_cbor_skip(&r, err) < 0)
        return -1;
    if (sb_cbor_remaining(&r) != 0)
        return sb_err_set(err, 1, "cbor: %zu trailing bytes after the item", sb_cbor_remaining(&r));
    return 0;
}

/* --- writer --- */

void sb_cbuf_init(sb_cbuf *b)
{
    memset(b, 0, sizeof *b);
}

void sb_cbuf_free(sb_cbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static uint8_t *reserve(sb_cbuf *b, size_t n)
{
    size_t max = b->max ? b->max : (1u << 20);
    if (b->failed || n > max - b->len || b->len > max) {
        b->failed = 1;
        return NULL;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return NULL;
        }
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

void sb_cbor_put_raw(sb_cbuf *b, const void *data, size_t len)
{
    uint8_t *p = reserve(b, len);
    if (p && len) {
        memcpy(p, data, len);
        b->len += len;
    }
}

/* One item head in the preferred (shortest) form: at most 9 bytes (RFC 8949 section 4.2.1). */
static void put_head(sb_cbuf *b, int major, uint64_t v)
{
    uint8_t *p = reserve(b, 9);
    if (!p)
        return;
    int n = v < 24 ? 0 : v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
    p[0] = (uint8_t)(major << 5 | (n == 0 ? (int)v : n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
    for (int i = 0; i < n; i++)
        p[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    b->len += 1 + (size_t)n;
}

void sb_cbor_put_uint(sb_cbuf *b, uint64_t v)
{
    put_head(b, SB_CBOR_UINT, v);
}

void sb_cbor_put_int(sb_cbuf *b, int64_t v)
{
    if (v >= 0)
        put_head(b, SB_CBOR_UINT, (uint64_t)v);
    else
        put_head(b, SB_CBOR_NEGINT, (uint64_t)(-1 - v));
}

void sb_cbor_put_bytes(sb_cbuf *b, const void *data, size_t len)
{
    put_head(b, SB_CBOR_BYTES, len);
    sb_cbor_put_raw(b, data, len);
}

void sb_cbor_put_textn(sb_cbuf *b, const char *s, size_t len)
{
    put_head(b, SB_CBOR_TEXT, len);
    sb_cbor_put_raw(b, s, len);
}

void sb_cbor_put_text(sb_cbuf *b, const char *s)
{
    sb_cbor_put_textn(b, s, strlen(s));
}

void sb_cbor_put_array(sb_cbuf *b, size_t n)
{
    put_head(b, SB_CBOR_ARRAY, n);
}

void sb_cbor_put_map(sb_cbuf *b, size_t n)
{
    put_head(b, SB_CBOR_MAP, n);
}

void sb_cbor_put_tag(sb_cbuf *b, uint64_t tag)
{
    put_head(b, SB_CBOR_TAG, tag);
}

void sb_cbor_put_bool(sb_cbuf *b, int v)
{
    uint8_t *p = reserve(b, 1);
    if (p) {
        p[0] = v ? 0xf5 : 0xf4;
        b->len++;
    }
}

void sb_cbor_put_null(sb_cbuf *b)
{
    uint8_t *p = reserve(b, 1);
    if (p) {
        p[0] = 0xf6;
        b->len++;
    }
}

int sb_cbuf_finish(sb_cbuf *b, sb_err *err)
{
    if (b->failed)
        return sb_err_set(err, 1, "cbor: encoding failed (out of memory or size cap)");
    return 0;
}
