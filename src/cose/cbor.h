/* cbor.h - a strict, bounded, non-allocating CBOR reader and a small CBOR writer.
 *
 * The reader walks a buffer with a cursor; nothing is copied or allocated, so a decoded value
 * (byte string, text, raw item) is a pointer into the caller's buffer. It is strict where that
 * matters for security and lenient where RFC 9783 asks for it:
 *   - definite lengths only: indefinite-length items and "break" are refused;
 *   - reserved additional-information values (28..30) are refused;
 *   - every length is checked against the bytes that remain before it is used, and an array or
 *     map may not announce more elements than there are bytes left;
 *   - non-preferred ("non-canonical") integer and length encodings are accepted.
 * Skipping a nested item is iterative (a counter of pending items), never recursive.
 *
 * The writer appends preferred-form (shortest) heads to a growable buffer with a hard size cap; its
 * first error sticks (so a sequence of appends is checked once at the end). It depends on nothing
 * but libc: the runtime links it to encode receipts. */
#ifndef SB_COSE_CBOR_H
#define SB_COSE_CBOR_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum {
    SB_CBOR_UINT = 0,
    SB_CBOR_NEGINT = 1,
    SB_CBOR_BYTES = 2,
    SB_CBOR_TEXT = 3,
    SB_CBOR_ARRAY = 4,
    SB_CBOR_MAP = 5,
    SB_CBOR_TAG = 6,
    SB_CBOR_SIMPLE = 7,
};

typedef struct sb_cbor {
    const uint8_t *p;
    const uint8_t *end;
} sb_cbor;

void sb_cbor_init(sb_cbor *r, const uint8_t *data, size_t len);
/* Bytes not yet consumed. */
size_t sb_cbor_remaining(const sb_cbor *r);
/* The major type of the next item without consuming it; -1 at end of input. */
int sb_cbor_peek(const sb_cbor *r);

/* Each reader consumes exactly one item of the expected type, or fails without moving the cursor
 * and says what it found instead. */
int sb_cbor_read_uint(sb_cbor *r, uint64_t *out, sb_err *err);
/* Major type 0 or 1, within int64_t. */
int sb_cbor_read_int(sb_cbor *r, int64_t *out, sb_err *err);
int sb_cbor_read_bytes(sb_cbor *r, const uint8_t **out, size_t *len, sb_err *err);
int sb_cbor_read_text(sb_cbor *r, const char **out, size_t *len, sb_err *err);
/* Array/map: *n is the element (pair) count; the elements follow. */
int sb_cbor_read_array(sb_cbor *r, size_t *n, sb_err *err);
int sb_cbor_read_map(sb_cbor *r, size_t *n, sb_err *err);
int sb_cbor_read_tag(sb_cbor *r, uint64_t *tag, sb_err *err);
int sb_cbor_read_bool(sb_cbor *r, int *out, sb_err *err);
/* Consumes one complete item (with everything nested in it). */
int sb_cbor_skip(sb_cbor *r, sb_err *err);
/* Consumes one complete item and returns its encoded bytes. */
int sb_cbor_read_raw(sb_cbor *r, const uint8_t **out, size_t *len, sb_err *err);
/* Checks that the whole buffer is exactly one well-formed item. */
int sb_cbor_check_single(const uint8_t *data, size_t len, sb_err *err);

/* --- writer --- */
typedef struct sb_cbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;   /* hard cap on the encoded size; 0 = 1 MiB */
    int failed;   /* sticky: allocation failure or cap exceeded */
} sb_cbuf;

void sb_cbuf_init(sb_cbuf *b);
void sb_cbuf_free(sb_cbuf *b);
void sb_cbor_put_uint(sb_cbuf *b, uint64_t v);
void sb_cbor_put_int(sb_cbuf *b, int64_t v);
void sb_cbor_put_bytes(sb_cbuf *b, const void *data, size_t len);
void sb_cbor_put_text(sb_cbuf *b, const char *s);
void sb_cbor_put_textn(sb_cbuf *b, const char *s, size_t len);
void sb_cbor_put_array(sb_cbuf *b, size_t n);
void sb_cbor_put_map(sb_cbuf *b, size_t n);
void sb_cbor_put_tag(sb_cbuf *b, uint64_t tag);
void sb_cbor_put_bool(sb_cbuf *b, int v);
void sb_cbor_put_null(sb_cbuf *b);
/* Appends already-encoded CBOR. */
void sb_cbor_put_raw(sb_cbuf *b, const void *data, size_t len);
/* 0 when every append succeeded, else -1 with err filled. On success the caller owns b->data. */
int sb_cbuf_finish(sb_cbuf *b, sb_err *err);

#endif
