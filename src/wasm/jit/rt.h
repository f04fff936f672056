/* rt.h - the C helpers compiled code calls (run.c, simd.c), shared by the code generator. */
#ifndef SB_WASM_JIT_RT_H
#define SB_WASM_JIT_RT_H

#include "wasm/jit/jit.h"

/* The lazy-compile entry: compiles defined function `def` of the running instance's module and
 * returns its body, or fills in the trap (WASM_TRAP_COMPILE_FAILED) and returns NULL. */
void *jit_h_compile(jit_ctx *c, uint32_t def);
/* `where` packs the calling function's index (high 32 bits) and the call's code index. */
int jit_h_call(jit_ctx *c, wasm_func *f, slot_t *fp, uint64_t where);
void *jit_h_indirect(jit_ctx *c, uint64_t type_table, uint32_t elem, slot_t *fp, uint64_t where);
uint32_t jit_h_mem_grow(jit_ctx *c, uint32_t delta);
int jit_h_mem_fill(jit_ctx *c, uint32_t d, uint32_t val, uint32_t n);
int jit_h_mem_copy(jit_ctx *c, uint32_t d, uint32_t s, uint32_t n);
int jit_h_mem_init(jit_ctx *c, uint32_t seg, uint32_t d, uint32_t s, uint32_t n);
void jit_h_data_drop(jit_ctx *c, uint32_t seg);
int jit_h_table_get(jit_ctx *c, uint32_t t, uint32_t i, slot_t *dst);
int jit_h_table_set(jit_ctx *c, uint32_t t, uint32_t i, uint64_t v);
uint32_t jit_h_table_grow(jit_ctx *c, uint32_t t, uint64_t init, uint32_t n);
int jit_h_table_fill(jit_ctx *c, uint32_t t, uint32_t i, uint64_t v, uint32_t n);
int jit_h_table_copy(jit_ctx *c, uint64_t dt_st, uint32_t d, uint32_t s, uint32_t n);
int jit_h_table_init(jit_ctx *c, uint64_t t_seg, uint32_t d, uint32_t s, uint32_t n);
void jit_h_elem_drop(jit_ctx *c, uint32_t seg);
/* Float operations whose exact bits are easiest to share with the interpreter as C. */
uint64_t jit_h_fminmax(uint64_t a, uint64_t b, uint32_t which); /* 0 f32 min 1 f32 max 2 f64 min 3 f64 max */
uint64_t jit_h_convert_u64(uint64_t a, uint32_t to_f64);
uint64_t jit_h_trunc_sat(uint64_t bits, uint32_t which); /* which: the 0xFC sub-opcode 0..7 */

/* simd.c: compiles SIMD operation `op` at cells p; returns the cells consumed or 0 if `op` is
 * not a SIMD operation the tier knows. */
struct jc;
uint32_t jit_simd_op(struct jc *j, int op, const cell *p);
/* Whether `op` is a SIMD operation simd.c compiles inline (no call: it leaves rdx, rsi, rdi and
 * r8..r11 alone). */
bool jit_simd_inline(int op);

#endif
