/* x64.c - the encoder (see x64.h). */
#include "wasm/jit/x64.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void x_byte_slow(xbuf *b, uint8_t v)
{
    if (b->failed)
        return;
    if (b->len >= b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 4096;
        if (ncap > b->max)
            ncap = b->max;
        if (b->len >= ncap) {
            b->failed = true;
            return;
        }
        uint8_t *p;
        if (b->mapped) { /* grows in place or moves its pages: no copy */
            p = mremap(b->p, b->cap, ncap, MREMAP_MAYMOVE);
            p = p == MAP_FAILED ? NULL : p;
        } else {
            p = realloc(b->p, ncap);
        }
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = ncap;
    }
    b->p[b->len++] = v;
}

void x_free(xbuf *b)
{
    if (b->mapped && b->p)
        munmap(b->p, b->cap);
    else
        free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void x_u32(xbuf *b, uint32_t v)
{
    if (b->cap - b->len >= 4 && b->len <= b->cap && !b->failed) { /* the common case: one store */
        memcpy(b->p + b->len, &v, 4); /* x86-64 is little-endian, as the encoding */
        b->len += 4;
        return;
    }
    for (int i = 0; i < 4; i++)
        x_byte(b, (uint8_t)(v >> (8 * i)));
}

void x_u64(xbuf *b, uint64_t v)
{
    x_u32(b, (uint32_t)v);
    x_u32(b, (uint32_t)(v >> 32));
}

void x_put32(xbuf *b, size_t at, uint32_t v)
{
    if (b->failed || at + 4 > b->len)
        return;
    for (int i = 0; i < 4; i++)
        b->p[at + i] = (uint8_t)(v >> (8 * i));
}

static void opcode(xbuf *b, uint32_t opc, int n)
{
    for (int i = n - 1; i >= 0; i--)
        x_byte(b, (uint8_t)(opc >> (8 * i)));
}

static void prefix_rex(xbuf *b, int pfx, int w, int r, int x, int base, bool force)
{
    if (pfx)
        x_byte(b, (uint8_t)pfx);
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((r & 8) ? 4 : 0) | ((x & 8) ? 2 : 0) |
                            ((base & 8) ? 1 : 0));
    if (rex != 0x40 || force)
        x_byte(b, rex);
}

void x_rr(xbuf *b, int pfx, int w, uint32_t opc, int n, int reg, int rm)
{
    prefix_rex(b, pfx, w, reg, 0, rm, false);
    opcode(b, opc, n);
    x_byte(b, (uint8_t)(0xC0 | ((reg & 7) << 3) | (rm & 7)));
}

void x_rr8(xbuf *b, uint32_t opc, int n, int reg, int rm)
{
    prefix_rex(b, 0, 0, reg, 0, rm, true);
    opcode(b, opc, n);
    x_byte(b, (uint8_t)(0xC0 | ((reg & 7) << 3) | (rm & 7)));
}

void x_rm(xbuf *b, int pfx, int w, uint32_t opc, int n, int reg, int base, int index, int scale,
          int32_t disp)
{
    prefix_rex(b, pfx, w, reg, index == X_NOINDEX ? 0 : index, base, false);
    opcode(b, opc, n);
    /* rbp/r13 as base have no displacement-free form: use disp8 0 */
    int mod = disp == 0 && (base & 7) != 5 ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
    bool sib = index != X_NOINDEX || (base & 7) == 4;
    x_byte(b, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (sib ? 4 : (base & 7))));
    if (sib) {
        int ss = scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
        int idx = index == X_NOINDEX ? 4 : (index & 7);
        x_byte(b, (uint8_t)((ss << 6) | (idx << 3) | (base & 7)));
    }
    if (mod == 1)
        x_byte(b, (uint8_t)(int8_t)disp);
    else if (mod == 2)
        x_u32(b, (uint32_t)disp);
}

size_t x_rip(xbuf *b, int pfx, int w, uint32_t opc, int n, int reg)
{
    prefix_rex(b, pfx, w, reg, 0, 0, false);
    opcode(b, opc, n);
    x_byte(b, (uint8_t)(((reg & 7) << 3) | 5)); /* mod 00, r/m 101: [rip + disp32] */
    x_u32(b, 0);
    return b->len - 4;
}

void x_mov_imm(xbuf *b, int reg, uint64_t v)
{
    if (v <= UINT32_MAX) { /* mov r32, imm32 zero-extends */
        prefix_rex(b, 0, 0, 0, 0, reg, false);
        x_byte(b, (uint8_t)(0xB8 + (reg & 7)));
        x_u32(b, (uint32_t)v);
    } else if ((int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX) { /* mov r/m64, simm32 */
        prefix_rex(b, 0, 1, 0, 0, reg, false);
        x_byte(b, 0xC7);
        x_byte(b, (uint8_t)(0xC0 | (reg & 7)));
        x_u32(b, (uint32_t)v);
    } else {
        prefix_rex(b, 0, 1, 0, 0, reg, false);
        x_byte(b, (uint8_t)(0xB8 + (reg & 7)));
        x_u64(b, v);
    }
}

void x_push(xbuf *b, int reg)
{
    prefix_rex(b, 0, 0, 0, 0, reg, false);
    x_byte(b, (uint8_t)(0x50 + (reg & 7)));
}

void x_pop(xbuf *b, int reg)
{
    prefix_rex(b, 0, 0, 0, 0, reg, false);
    x_byte(b, (uint8_t)(0x58 + (reg & 7)));
}

void x_ret(xbuf *b) { x_byte(b, 0xC3); }

void x_call_abs(xbuf *b, const void *fn)
{
    x_mov_imm(b, RAX, (uint64_t)(uintptr_t)fn);
    x_rr(b, 0, 0, 0xFF, 1, 2, RAX);
}

size_t x_jmp32(xbuf *b)
{
    x_byte(b, 0xE9);
    x_u32(b, 0);
    return b->len - 4;
}

size_t x_jcc32(xbuf *b, int cc)
{
    x_byte(b, 0x0F);
    x_byte(b, (uint8_t)(0x80 + cc));
    x_u32(b, 0);
    return b->len - 4;
}

size_t x_call32(xbuf *b)
{
    x_byte(b, 0xE8);
    x_u32(b, 0);
    return b->len - 4;
}

void x_patch_rel(xbuf *b, size_t at, size_t target)
{
    x_put32(b, at, (uint32_t)(int32_t)((int64_t)target - (int64_t)(at + 4)));
}

void x_alu_imm(xbuf *b, int w, int digit, int reg, int32_t imm)
{
    if (imm >= -128 && imm <= 127) {
        x_rr(b, 0, w, 0x83, 1, digit, reg);
        x_byte(b, (uint8_t)(int8_t)imm);
    } else {
        x_rr(b, 0, w, 0x81, 1, digit, reg);
        x_u32(b, (uint32_t)imm);
    }
}

void x_alu_imm_m(xbuf *b, int w, int digit, int base, int32_t disp, int32_t imm)
{
    if (imm >= -128 && imm <= 127) {
        x_rm(b, 0, w, 0x83, 1, digit, base, X_NOINDEX, 1, disp);
        x_byte(b, (uint8_t)(int8_t)imm);
    } else {
        x_rm(b, 0, w, 0x81, 1, digit, base, X_NOINDEX, 1, disp);
        x_u32(b, (uint32_t)imm);
    }
}

void x_shift_imm(xbuf *b, int w, int digit, int reg, uint8_t count)
{
    x_rr(b, 0, w, 0xC1, 1, digit, reg);
    x_byte(b, count);
}
