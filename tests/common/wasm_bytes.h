/* wasm_bytes.h - building WebAssembly binaries byte by byte in tests (modules too large or too
 * malformed to write as .wat: a huge br_table, deep nesting, absurd local counts). Out of memory
 * ends the test (exit 2): a test that cannot build its input has nothing to check. */
#ifndef SB_TEST_WASM_BYTES_H
#define SB_TEST_WASM_BYTES_H

#include <stddef.h>
#include <stdint.h>

typedef struct wasm_bytes {
    uint8_t *p; /* malloc'd: free(b.p) */
    size_t len, cap;
} wasm_bytes;

void wb_put(wasm_bytes *b, const void *data, size_t n);
void wb_byte(wasm_bytes *b, uint8_t v);
void wb_u32(wasm_bytes *b, uint32_t v);                               /* unsigned LEB128 */
void wb_header(wasm_bytes *b);                                        /* "\0asm", version 1 */
void wb_section(wasm_bytes *b, uint8_t id, const wasm_bytes *body);   /* id, size, body */

#endif
