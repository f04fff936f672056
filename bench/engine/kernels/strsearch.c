/* strsearch.c - Boyer-Moore-Horspool substring search: 64 patterns (8..23 bytes, cut from the
 * text itself) counted over a 256 KiB text, `n` rounds. Exercises byte compares, a skip table and
 * data-dependent branches. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

#define TEXT_LEN (256u * 1024u)
#define PATTERNS 64

static uint8_t text[TEXT_LEN];

static uint32_t count_matches(const uint8_t *pat, uint32_t m)
{
    uint32_t skip[256];
    for (int i = 0; i < 256; i++)
        skip[i] = m;
    for (uint32_t i = 0; i + 1 < m; i++)
        skip[pat[i]] = m - 1 - i;
    uint32_t count = 0;
    for (uint32_t pos = 0; pos + m <= TEXT_LEN;) {
        uint8_t last = text[pos + m - 1];
        if (last == pat[m - 1]) {
            uint32_t k = 0;
            while (k + 1 < m && text[pos + k] == pat[k])
                k++;
            if (k + 1 >= m)
                count++;
        }
        pos += skip[last];
    }
    return count;
}

uint64_t bench_run(uint32_t n)
{
    /* A text over a 6-letter alphabet with some repetition, so patterns recur. */
    uint32_t seed = 99;
    for (uint32_t i = 0; i < TEXT_LEN; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 16;
        text[i] = (i >= 64 && (r & 7) == 0) ? text[i - 64] : (uint8_t)('a' + r % 6);
    }
    uint64_t total = 0;
    for (uint32_t round = 0; round < n; round++)
        for (uint32_t p = 0; p < PATTERNS; p++) {
            uint32_t start = (p * 40503u + round * 977u) % (TEXT_LEN - 32);
            uint32_t len = 8 + (p + round) % 16;
            total = total * 1000003u + count_matches(text + start, len);
        }
    return total;
}
