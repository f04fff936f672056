/* wasm_bytes.c - see wasm_bytes.h. */
#include "wasm_bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wb_put(wasm_bytes *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void wb_byte(wasm_bytes *b, uint8_t v)
{
    wb_put(b, &v, 1);
}

void wb_u32(wasm_bytes *b, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7F;
        v >>= 7;
        wb_byte(b, byte | (v ? 0x80 : 0));
    } while (v);
}

void wb_header(wasm_bytes *b)
{
    wb_put(b, "\0asm\1\0\0\0", 8);
}

void wb_section(wasm_bytes *b, uint8_t id, const wasm_bytes *body)
{
    wb_byte(b, id);
    wb_u32(b, (uint32_t)body->len);
    wb_put(b, body->p, body->len);
}
