/* Runs the VFS fuzz body over deterministic pseudo-random inputs in ordinary builds, so the
 * invariants are checked by ctest (and under ASan/UBSan) without libFuzzer. */
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(void)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    uint8_t buf[2048];
    for (int run = 0; run < 3000; run++) {
        size_t n = 64 + (size_t)(run * 13) % (sizeof buf - 64);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = (uint8_t)(x >> 24);
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz_vfs replay: 3000 random operation sequences, invariants held\n");
    return 0;
}
