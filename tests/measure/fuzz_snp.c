/* libFuzzer target for the SEV-SNP launch digest: the input is the end of an OVMF image (its footer
 * table and SEV metadata live there), placed at the end of a zeroed image of up to 4 pages; its
 * first byte picks the vCPU count and whether a kernel is measured. Every run must end in a digest
 * or an error with a message, without crash, leak or read outside the image. */
#include "measure/measure.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t image[4 * SB_SNP_PAGE]; /* fuzzer state, not library state */
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    data++, size--;
    size_t len = size <= SB_SNP_PAGE ? SB_SNP_PAGE : size <= sizeof image ? (size + 4095) / 4096 * 4096
                                                                           : sizeof image;
    if (size > len)
        data += size - len, size = len;
    memset(image, 0, len - size);
    memcpy(image + len - size, data, size);
    sb_snp_launch in = {image, len, NULL, (int)(flags & 1), {0}, {0}, {0}, 1 + (flags >> 1 & 3),
                        0x800f12, 1};
    uint8_t ld[SB_SNP_LD_LEN];
    sb_err err = {0};
    if (sb_snp_launch_digest(&in, ld, &err) != 0 && !err.msg[0])
        __builtin_trap(); /* a refusal must say why */
    return 0;
}
