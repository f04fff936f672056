/* lz77.c - LZ77 compression with a hash table of previous positions (LZ4-like token stream), then
 * decompression and verification, over 128 KiB of compressible text, `n` rounds. Exercises hashing,
 * unaligned byte matching and branchy copy loops. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

#define IN_LEN (128u * 1024u)
#define OUT_MAX (IN_LEN + IN_LEN / 8 + 16)
#define HASH_BITS 14
#define MIN_MATCH 4
#define MAX_OFFSET 65535u

static uint8_t input[IN_LEN], packed[OUT_MAX], unpacked[IN_LEN];
static uint32_t table[1u << HASH_BITS];

static uint32_t hash4(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static uint32_t put_len(uint8_t *out, uint32_t o, uint32_t len)
{
    while (len >= 255) {
        out[o++] = 255;
        len -= 255;
    }
    out[o++] = (uint8_t)len;
    return o;
}

/* Token: literal-count byte(s), literals, then offset (2 bytes) and match-length byte(s);
 * a final token has literals only. */
static uint32_t compress(const uint8_t *in, uint32_t len, uint8_t *out)
{
    for (uint32_t i = 0; i < (1u << HASH_BITS); i++)
        table[i] = 0xFFFFFFFFu;
    uint32_t o = 0, anchor = 0, pos = 0;
    while (pos + MIN_MATCH <= len) {
        uint32_t h = hash4(in + pos), cand = table[h];
        table[h] = pos;
        if (cand != 0xFFFFFFFFu && pos - cand <= MAX_OFFSET && in[cand] == in[pos] &&
            in[cand + 1] == in[pos + 1] && in[cand + 2] == in[pos + 2] && in[cand + 3] == in[pos + 3]) {
            uint32_t mlen = MIN_MATCH;
            while (pos + mlen < len && in[cand + mlen] == in[pos + mlen])
                mlen++;
            o = put_len(out, o, pos - anchor);
            for (uint32_t i = anchor; i < pos; i++)
                out[o++] = in[i];
            out[o++] = (uint8_t)(pos - cand);
            out[o++] = (uint8_t)((pos - cand) >> 8);
            o = put_len(out, o, mlen - MIN_MATCH);
            pos += mlen;
            anchor = pos;
        } else {
            pos++;
        }
    }
    o = put_len(out, o, len - anchor);
    for (uint32_t i = anchor; i < len; i++)
        out[o++] = in[i];
    return o;
}

static uint32_t get_len(const uint8_t *in, uint32_t *i)
{
    uint32_t len = 0, b;
    do {
        b = in[(*i)++];
        len += b;
    } while (b == 255);
    return len;
}

static uint32_t decompress(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap)
{
    uint32_t i = 0, o = 0;
    while (i < len) {
        uint32_t lit = get_len(in, &i);
        if (lit > cap - o || lit > len - i)
            return 0;
        for (uint32_t k = 0; k < lit; k++)
            out[o++] = in[i++];
        if (i >= len)
            break;
        uint32_t off = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
        i += 2;
        uint32_t mlen = get_len(in, &i) + MIN_MATCH;
        if (off == 0 || off > o || mlen > cap - o)
            return 0;
        for (uint32_t k = 0; k < mlen; k++, o++)
            out[o] = out[o - off]; /* byte by byte: overlapping copies are the point */
    }
    return o;
}

uint64_t bench_run(uint32_t n)
{
    /* "Text": words from a small vocabulary, so there is plenty to match. */
    static const char *const words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ",
                                        "lazy ", "dog ", "strongbox ", "wasm ", "engine ", "data "};
    uint32_t seed = 2024, o = 0;
    while (o < IN_LEN) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % 12];
        for (uint32_t k = 0; w[k] && o < IN_LEN; k++)
            input[o++] = (uint8_t)w[k];
        if (((seed >> 8) & 15) == 0 && o < IN_LEN)
            input[o++] = (uint8_t)('A' + (seed >> 20) % 26);
    }
    uint64_t check = 0;
    for (uint32_t r = 0; r < n; r++) {
        input[(r * 7919u) % IN_LEN] ^= (uint8_t)r; /* vary each round */
        uint32_t plen = compress(input, IN_LEN, packed);
        uint32_t ulen = decompress(packed, plen, unpacked, IN_LEN);
        if (ulen != IN_LEN)
            return 0;
        for (uint32_t i = 0; i < IN_LEN; i++)
            if (unpacked[i] != input[i])
                return 0;
        check = check * 1000003u + plen;
    }
    return check;
}
