/* x64.h - a small x86-64 instruction encoder for the compiled tier.
 *
 * Table-free: callers name the opcode bytes (as in the Intel manual) and the encoder adds the
 * legacy prefix, REX and ModRM/SIB/displacement. Every byte goes through x_byte(), which checks it
 * against the buffer's hard cap: a buffer that would overflow is marked failed and stops growing,
 * and the compiler then reports the module as too large (never a write past the end). */
#ifndef SB_WASM_JIT_X64_H
#define SB_WASM_JIT_X64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define X_NOINDEX (-1)

/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP,
       CC_L, CC_GE, CC_LE, CC_G };

typedef struct xbuf {
    uint8_t *p;
    size_t len, cap, max; /* max: the hard cap on code size */
    bool failed;          /* out of memory or over max: the contents are not usable */
    bool mapped;          /* p is an anonymous read+write mapping (grown with mremap), else malloc */
} xbuf;

/* Releases the buffer's memory (either kind). */
void x_free(xbuf *b);

void x_byte_slow(xbuf *b, uint8_t v);
/* The one place bytes enter the buffer: never past cap (x_byte_slow grows it up to max). */
static inline void x_byte(xbuf *b, uint8_t v)
{
    if (b->len < b->cap && !b->failed)
        b->p[b->len++] = v;
    else
        x_byte_slow(b, v);
}
void x_u32(xbuf *b, uint32_t v);
void x_u64(xbuf *b, uint64_t v);
/* Writes a 32-bit value at an earlier position (patching); ignored outside the written bytes. */
void x_put32(xbuf *b, size_t at, uint32_t v);

/* opc: up to 3 opcode bytes, most significant first (0x0FAF is 0F AF); n: how many.
 * pfx: 0 or a mandatory prefix (0x66, 0xF2, 0xF3), emitted before REX. w: REX.W. */
void x_rr(xbuf *b, int pfx, int w, uint32_t opc, int n, int reg, int rm);
/* Memory operand [base + index*scale + disp] (index X_NOINDEX for none; scale 1, 2, 4, 8). */
void x_rm(xbuf *b, int pfx, int w, uint32_t opc, int n, int reg, int base, int index, int scale,
          int32_t disp);
/* The same with a rip-relative operand [rip + disp32]; returns the position of the disp32 for
 * x_patch_rel (only for instructions that end with it: no immediate after it). */
size_t x_rip(xbuf *b, int pfx, int w, uint32_t opc, int n, int reg);
/* Like x_rr / x_rm but forces a REX prefix (byte registers sil/dil/spl/bpl). */
void x_rr8(xbuf *b, uint32_t opc, int n, int reg, int rm);

void x_mov_imm(xbuf *b, int reg, uint64_t v); /* shortest form that yields v in the 64-bit reg */
void x_push(xbuf *b, int reg);
void x_pop(xbuf *b, int reg);
void x_ret(xbuf *b);
void x_call_abs(xbuf *b, const void *fn); /* mov rax, fn; call rax */
/* Near jumps with rel32: return the position of the displacement for x_patch_rel. */
size_t x_jmp32(xbuf *b);
size_t x_jcc32(xbuf *b, int cc);
size_t x_call32(xbuf *b);
/* Points the rel32 at `at` to target (a position in the same buffer). */
void x_patch_rel(xbuf *b, size_t at, size_t target);
/* Group-1 arithmetic with an immediate: /digit 0 add, 1 or, 4 and, 5 sub, 6 xor, 7 cmp. */
void x_alu_imm(xbuf *b, int w, int digit, int reg, int32_t imm);
void x_alu_imm_m(xbuf *b, int w, int digit, int base, int32_t disp, int32_t imm);
/* Shift group with an 8-bit count: /digit 0 rol, 1 ror, 4 shl, 5 shr, 7 sar. */
void x_shift_imm(xbuf *b, int w, int digit, int reg, uint8_t count);

#endif
