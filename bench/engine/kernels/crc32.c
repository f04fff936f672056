/* crc32.c - table-driven CRC-32 (IEEE, reflected) over a 64 KiB buffer, `n` times.
 * Exercises byte loads, table lookups, shifts and xors. */
#include <stdint.h>

uint64_t bench_run(uint32_t n);

#define BUF_LEN 65536u

static uint8_t buf[BUF_LEN];
static uint32_t table[256];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t len)
{
    crc = ~crc;
    for (uint32_t i = 0; i < len; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint64_t bench_run(uint32_t n)
{
    make_table();
    uint32_t seed = 7;
    for (uint32_t i = 0; i < BUF_LEN; i++) {
        seed = seed * 22695477u + 1u;
        buf[i] = (uint8_t)(seed >> 24);
    }
    uint32_t crc = 0;
    uint64_t sum = 0;
    for (uint32_t r = 0; r < n; r++) {
        crc = crc32(crc, buf, BUF_LEN);
        sum += crc;
    }
    return sum << 32 | crc;
}
