/* fuzz_proto.c - libFuzzer target: frame reader + strict decoder + re-encode on arbitrary bytes.
 * A decoded message must re-encode, and the re-encoding must decode to the same bytes again
 * (the encoding is canonical). */
#include "proto/proto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_canonical(const uint8_t *p, size_t len)
{
    sb_msg m;
    sb_err err;
    if (sb_msg_decode(p, len, &m, &err) < 0)
        return;
    uint8_t *f;
    size_t flen;
    if (sb_msg_encode(&m, &f, &flen, &err) < 0)
        abort(); /* everything the decoder accepts must be encodable */
    if (flen != len + 4 || memcmp(f + 4, p, len) != 0)
        abort(); /* strict decoding accepts only the canonical form */
    free(f);
    sb_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_canonical(data, size);
    sb_frame_reader r;
    sb_err err;
    sb_frame_reader_init(&r, 4096);
    size_t step = size ? data[0] % 7 + 1 : 1;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        if (sb_frame_reader_feed(&r, data + off, n, &err) < 0)
            break;
        const uint8_t *p;
        size_t len;
        while (sb_frame_reader_next(&r, &p, &len, &err) == 1)
            check_canonical(p, len);
    }
    sb_frame_reader_free(&r);
    return 0;
}
