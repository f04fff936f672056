/* test_jit.c - the compiled tier (src/wasm/jit/): its x86-64 encoder against bytes from GNU as,
 * W^X of its code pages (read back from /proc/self/maps), and programs run on both tiers with
 * the same fuel: results, traps (kind, function, offset), fuel left and memory must agree,
 * including host calls, calls across instances and tiers, call depth and interrupts. */
#include "common/common.h"
#include "wasm/jit/jit.h"
#include "wasm/jit/x64.h"
#include "wasm/wasm.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;
static const char *wasm_dir;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        checks++;                                                                                \
        if (!(cond)) {                                                                           \
            failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);             \
        }                                                                                        \
    } while (0)

/* ------------------------------------------------------------------ encoder */

/* Each case: what the encoder emits, and the bytes `as` (binutils) assembles for the
 * instruction in the comment (computed once with as + objdump -d -M intel). */
static void enc_case(const char *what, void (*emit)(xbuf *), const uint8_t *want, size_t n)
{
    xbuf b = {.max = 64};
    emit(&b);
    checks++;
    if (b.failed || b.len != n || memcmp(b.p, want, n) != 0) {
        failures++;
        fprintf(stderr, "encoder: %s: got", what);
        for (size_t i = 0; i < b.len; i++)
            fprintf(stderr, " %02x", b.p[i]);
        fprintf(stderr, "\n");
    }
    free(b.p);
}

#define ENC(name, body, ...)                                                                     \
    static void e_##name(xbuf *b) { body; }                                                      \
    static const uint8_t w_##name[] = {__VA_ARGS__};
ENC(ld_disp32, x_rm(b, 0, 1, 0x8B, 1, RAX, R14, X_NOINDEX, 1, 0x100), 0x49, 0x8b, 0x86, 0, 1, 0, 0) /* mov rax, [r14+0x100] */
ENC(ld32_disp8, x_rm(b, 0, 0, 0x8B, 1, RAX, R14, X_NOINDEX, 1, 8), 0x41, 0x8b, 0x46, 0x08)          /* mov eax, [r14+8] */
ENC(st_big, x_rm(b, 0, 1, 0x89, 1, RCX, R14, X_NOINDEX, 1, 0x7ffff8), 0x49, 0x89, 0x8e, 0xf8, 0xff, 0x7f, 0x00)
ENC(r12_base, x_rm(b, 0, 1, 0x8B, 1, RAX, R12, X_NOINDEX, 1, 0), 0x49, 0x8b, 0x04, 0x24)            /* mov rax, [r12] */
ENC(r13_base, x_rm(b, 0, 1, 0x8B, 1, RAX, R13, X_NOINDEX, 1, 0), 0x49, 0x8b, 0x45, 0x00)            /* mov rax, [r13] */
ENC(r13_index, x_rm(b, 0, 0, 0x8B, 1, RAX, R13, RAX, 1, 0), 0x41, 0x8b, 0x44, 0x05, 0x00)           /* mov eax, [r13+rax] */
ENC(movzx_mem, x_rm(b, 0, 0, 0x0FB6, 2, RAX, R13, RAX, 1, 0), 0x41, 0x0f, 0xb6, 0x44, 0x05, 0x00)
ENC(store8, x_rm(b, 0, 0, 0x88, 1, RCX, R13, RAX, 1, 0), 0x41, 0x88, 0x4c, 0x05, 0x00)              /* mov [r13+rax], cl */
ENC(store16, x_rm(b, 0x66, 0, 0x89, 1, RCX, R13, RAX, 1, 0), 0x66, 0x41, 0x89, 0x4c, 0x05, 0x00)
ENC(add_imm8, x_alu_imm(b, 0, 0, RAX, 5), 0x83, 0xc0, 0x05)                                         /* add eax, 5 */
ENC(sub_imm32, x_alu_imm(b, 1, 5, RBX, 0x12345), 0x48, 0x81, 0xeb, 0x45, 0x23, 0x01, 0x00)          /* sub rbx, 0x12345 */
ENC(cmp_mem0, x_alu_imm_m(b, 0, 7, RCX, 0, 0), 0x83, 0x39, 0x00)                                    /* cmp dword [rcx], 0 */
ENC(imul_imm, (x_rr(b, 0, 0, 0x69, 1, RAX, RAX), x_u32(b, 1000)), 0x69, 0xc0, 0xe8, 0x03, 0, 0)
ENC(shl_imm, x_shift_imm(b, 1, 4, RAX, 3), 0x48, 0xc1, 0xe0, 0x03)                                  /* shl rax, 3 */
ENC(sar_cl, x_rr(b, 0, 0, 0xD3, 1, 7, RAX), 0xd3, 0xf8)                                             /* sar eax, cl */
ENC(movsd_ld, x_rm(b, 0xF2, 0, 0x0F10, 2, 0, R14, X_NOINDEX, 1, 16), 0xf2, 0x41, 0x0f, 0x10, 0x46, 0x10)
ENC(addss, x_rr(b, 0xF3, 0, 0x0F58, 2, 0, 1), 0xf3, 0x0f, 0x58, 0xc1)                              /* addss xmm0, xmm1 */
ENC(cvttsd2si, x_rr(b, 0xF2, 1, 0x0F2C, 2, RAX, 0), 0xf2, 0x48, 0x0f, 0x2c, 0xc0)
ENC(roundsd, (x_rm(b, 0x66, 0, 0x0F3A0B, 3, 0, R14, X_NOINDEX, 1, 24), x_byte(b, 10)),
    0x66, 0x41, 0x0f, 0x3a, 0x0b, 0x46, 0x18, 0x0a)                                                 /* roundsd xmm0, [r14+24], 10 */
ENC(movdqu, x_rm(b, 0xF3, 0, 0x0F6F, 2, 0, R14, X_NOINDEX, 1, 32), 0xf3, 0x41, 0x0f, 0x6f, 0x46, 0x20)
ENC(movq_x_r, x_rr(b, 0x66, 1, 0x0F6E, 2, 1, RAX), 0x66, 0x48, 0x0f, 0x6e, 0xc8)                    /* movq xmm1, rax */
ENC(movd_r_x, x_rr(b, 0x66, 0, 0x0F7E, 2, 0, RAX), 0x66, 0x0f, 0x7e, 0xc0)                          /* movd eax, xmm0 */
ENC(mov_u32, x_mov_imm(b, RAX, 0xffffffffu), 0xb8, 0xff, 0xff, 0xff, 0xff)
ENC(mov_neg, x_mov_imm(b, RAX, (uint64_t)-2), 0x48, 0xc7, 0xc0, 0xfe, 0xff, 0xff, 0xff)
ENC(mov_u64, x_mov_imm(b, RAX, 0x123456789aull), 0x48, 0xb8, 0x9a, 0x78, 0x56, 0x34, 0x12, 0, 0, 0)
ENC(push_r15, x_push(b, R15), 0x41, 0x57)
ENC(pop_rbx, x_pop(b, RBX), 0x5b)
ENC(btc63, (x_rr(b, 0, 1, 0x0FBA, 2, 7, RAX), x_byte(b, 63)), 0x48, 0x0f, 0xba, 0xf8, 0x3f)
ENC(cmovz, x_rr(b, 0, 1, 0x0F44, 2, RAX, RCX), 0x48, 0x0f, 0x44, 0xc1)
ENC(sete, x_rr(b, 0, 0, 0x0F94, 2, 0, RAX), 0x0f, 0x94, 0xc0)
ENC(lea, x_rm(b, 0, 1, 0x8D, 1, RCX, RAX, X_NOINDEX, 1, 8), 0x48, 0x8d, 0x48, 0x08)                 /* lea rcx, [rax+8] */
ENC(call_rax, x_rr(b, 0, 0, 0xFF, 1, 2, RAX), 0xff, 0xd0)
/* SSE forms simd.c emits: 3-byte opcodes, REX.W after the prefix, immediates, /digit shifts */
ENC(pinsrq_mem, (x_rm(b, 0x66, 1, 0x0F3A22, 3, 0, R13, RAX, 1, 0), x_byte(b, 1)),
    0x66, 0x49, 0x0f, 0x3a, 0x22, 0x44, 0x05, 0x00, 0x01)                                           /* pinsrq xmm0, [r13+rax], 1 */
ENC(pshufb, x_rr(b, 0x66, 0, 0x0F3800, 3, 2, 3), 0x66, 0x0f, 0x38, 0x00, 0xd3)                     /* pshufb xmm2, xmm3 */
ENC(pmovzxbw_mem, x_rm(b, 0x66, 0, 0x0F3830, 3, 0, R13, RAX, 1, 0),
    0x66, 0x41, 0x0f, 0x38, 0x30, 0x44, 0x05, 0x00)                                                 /* pmovzxbw xmm0, [r13+rax] */
ENC(psrlq_imm, (x_rr(b, 0x66, 0, 0x0F73, 2, 2, 3), x_byte(b, 13)), 0x66, 0x0f, 0x73, 0xd3, 0x0d)   /* psrlq xmm3, 13 */
ENC(cmpunordps, (x_rr(b, 0, 0, 0x0FC2, 2, 3, 1), x_byte(b, 3)), 0x0f, 0xc2, 0xd9, 0x03)
ENC(pextrw_mem, (x_rm(b, 0x66, 0, 0x0F3A15, 3, 0, R13, RAX, 1, 0), x_byte(b, 7)),
    0x66, 0x41, 0x0f, 0x3a, 0x15, 0x44, 0x05, 0x00, 0x07)                                           /* pextrw [r13+rax], xmm0, 7 */
ENC(movdqa_x12, x_rr(b, 0x66, 0, 0x0F6F, 2, 12, 0), 0x66, 0x44, 0x0f, 0x6f, 0xe0)                   /* movdqa xmm12, xmm0 */
ENC(movdqa_x15, x_rr(b, 0x66, 0, 0x0F6F, 2, 1, 15), 0x66, 0x41, 0x0f, 0x6f, 0xcf)                   /* movdqa xmm1, xmm15 */

static void e_overflow(xbuf *b)
{
    for (int i = 0; i < 100; i++)
        x_mov_imm(b, RAX, 0x123456789aull);
}

static void test_encoder(void)
{
#define RUN(name) enc_case(#name, e_##name, w_##name, sizeof w_##name)
    RUN(ld_disp32); RUN(ld32_disp8); RUN(st_big); RUN(r12_base); RUN(r13_base); RUN(r13_index);
    RUN(movzx_mem); RUN(store8); RUN(store16); RUN(add_imm8); RUN(sub_imm32); RUN(cmp_mem0);
    RUN(imul_imm); RUN(shl_imm); RUN(sar_cl); RUN(movsd_ld); RUN(addss); RUN(cvttsd2si);
    RUN(roundsd); RUN(movdqu); RUN(movq_x_r); RUN(movd_r_x); RUN(mov_u32); RUN(mov_neg);
    RUN(mov_u64); RUN(push_r15); RUN(pop_rbx); RUN(btc63); RUN(cmovz); RUN(sete); RUN(lea);
    RUN(call_rax); RUN(pinsrq_mem); RUN(pshufb); RUN(pmovzxbw_mem); RUN(psrlq_imm);
    RUN(cmpunordps); RUN(pextrw_mem); RUN(movdqa_x12); RUN(movdqa_x15);
    /* the cap holds: a buffer that would pass it fails and never grows beyond it */
    xbuf b = {.max = 64};
    e_overflow(&b);
    CHECK(b.failed && b.cap <= 64 && b.len <= 64);
    free(b.p);
    /* patching outside the written bytes is ignored */
    xbuf c = {.max = 64};
    x_byte(&c, 0x90);
    x_put32(&c, 0, 0x11223344);
    CHECK(c.len == 1 && c.p[0] == 0x90);
    free(c.p);
}

/* ------------------------------------------------------------------ both tiers */

static wasm_module *load_named(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.wasm", wasm_dir, name);
    uint8_t *bytes;
    size_t len;
    sb_err e;
    if (sb_read_file(path, 1 << 20, &bytes, &len, &e) < 0) {
        fprintf(stderr, "cannot read %s: %s\n", path, e.msg);
        exit(2);
    }
    wasm_error err;
    wasm_module *m = wasm_module_load(bytes, len, &err);
    free(bytes);
    if (!m) {
        fprintf(stderr, "%s: %s at %zu\n", name, err.msg, err.offset);
        exit(2);
    }
    return m;
}

static int host_inc(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)caller, (void)user;
    results[0] = (wasm_val){.type = WASM_I32};
    results[0].of.i32 = args[0].of.i32 + 1;
    return 0;
}

static int host_fail(wasm_instance *caller, void *user, const wasm_val *args, wasm_val *results)
{
    (void)user, (void)args, (void)results;
    return wasm_host_trap(caller, WASM_TRAP_HOST, "host refuses");
}

typedef struct outcome {
    int rc;
    wasm_trap trap;
    wasm_val res;
    uint64_t fuel;
    uint8_t mem[256];
} outcome;

static volatile sig_atomic_t interrupt_flag;

/* Instantiates jit_tiers on `engine` and calls export `name` with args. */
static outcome run_tiers(wasm_module *m, wasm_engine engine, const char *name, const wasm_val *args,
                         size_t nargs, uint64_t fuel, uint32_t max_depth)
{
    outcome o;
    memset(&o, 0, sizeof o);
    wasm_store *s = wasm_store_new();
    wasm_error err;
    static const wasm_valtype i32[1] = {WASM_I32};
    wasm_functype ft = {1, 1, i32, i32};
    wasm_extern imports[2] = {{WASM_EXTERN_FUNC, {.func = wasm_func_new_host(s, &ft, host_inc, NULL, &err)}},
                              {WASM_EXTERN_FUNC, {.func = wasm_func_new_host(s, &ft, host_fail, NULL, &err)}}};
    wasm_config cfg;
    wasm_config_default(&cfg);
    cfg.engine = engine;
    cfg.fuel = fuel;
    cfg.max_call_depth = max_depth;
    cfg.interrupt = &interrupt_flag;
    wasm_instance *inst;
    cfg.max_memory_pages = 64;
    size_t nimports = wasm_module_import_count(m) == 2 ? 2 : 0;
    if (wasm_instantiate(s, m, nimports ? imports : NULL, nimports, &cfg, &inst, &err) != 0) {
        fprintf(stderr, "instantiate (%s): %s\n", wasm_engine_name(engine), err.msg);
        o.rc = -100;
        wasm_store_free(s);
        return o;
    }
    o.rc = wasm_invoke(inst, wasm_instance_export_func(inst, name), args, nargs, &o.res, 1, &o.trap);
    o.fuel = wasm_instance_fuel(inst);
    memcpy(o.mem, wasm_memory_data(wasm_instance_memory(inst)), sizeof o.mem);
    wasm_store_free(s);
    return o;
}

/* Runs one call on both tiers and checks they agree in every observable way. */
static void same(wasm_module *m, const char *name, const wasm_val *args, size_t nargs,
                 uint64_t fuel, uint32_t max_depth, int want_rc)
{
    outcome a = run_tiers(m, WASM_ENGINE_INTERPRETER, name, args, nargs, fuel, max_depth);
    outcome b = run_tiers(m, WASM_ENGINE_COMPILED, name, args, nargs, fuel, max_depth);
    checks++;
    bool ok = a.rc == want_rc && b.rc == a.rc && a.fuel == b.fuel &&
              memcmp(a.mem, b.mem, sizeof a.mem) == 0 &&
              (a.rc != 0 || memcmp(&a.res.of, &b.res.of, sizeof a.res.of) == 0) &&
              (a.rc <= 0 || (a.trap.kind == b.trap.kind && a.trap.func_index == b.trap.func_index &&
                             a.trap.code_offset == b.trap.code_offset &&
                             strcmp(a.trap.msg, b.trap.msg) == 0));
    if (!ok) {
        failures++;
        fprintf(stderr,
                "%s: tiers differ (want rc %d): interpreter rc %d trap %s f%u@%u fuel %llu res %llx; "
                "compiled rc %d trap %s f%u@%u fuel %llu res %llx\n",
                name, want_rc, a.rc, a.trap.msg, a.trap.func_index, a.trap.code_offset,
                (unsigned long long)a.fuel, (unsigned long long)a.res.of.i64, b.rc, b.trap.msg,
                b.trap.func_index, b.trap.code_offset, (unsigned long long)b.fuel,
                (unsigned long long)b.res.of.i64);
    }
}

static wasm_val i32v(uint32_t v) { wasm_val x = {.type = WASM_I32}; x.of.i32 = v; return x; }
static wasm_val i64v(uint64_t v) { wasm_val x = {.type = WASM_I64}; x.of.i64 = v; return x; }
static wasm_val f64v(double v)
{
    wasm_val x = {.type = WASM_F64};
    memcpy(&x.of.f64, &v, sizeof v);
    return x;
}

static void test_tiers(void)
{
    wasm_module *m = load_named("jit_tiers");
    const uint64_t lots = 10000000;
    same(m, "fac", (wasm_val[]){i64v(20)}, 1, lots, 10000, 0);
    same(m, "fac", (wasm_val[]){i64v(20)}, 1, 57, 10000, WASM_TRAP_OUT_OF_FUEL); /* in a call */
    same(m, "sum", (wasm_val[]){i32v(1000)}, 1, lots, 10000, 0);
    for (uint64_t fuel = 0; fuel < 40; fuel += 7) /* out of fuel at entry and at the back-edge */
        same(m, "sum", (wasm_val[]){i32v(1000)}, 1, fuel, 10000, WASM_TRAP_OUT_OF_FUEL);
    same(m, "oob", (wasm_val[]){i32v(65528)}, 1, lots, 10000, 0);
    same(m, "oob", (wasm_val[]){i32v(65529)}, 1, lots, 10000, WASM_TRAP_MEMORY_OOB);
    same(m, "oob", (wasm_val[]){i32v(0xFFFFFFFF)}, 1, lots, 10000, WASM_TRAP_MEMORY_OOB);
    same(m, "indirect", (wasm_val[]){i32v(0), i64v(10)}, 2, lots, 10000, 0);
    same(m, "indirect", (wasm_val[]){i32v(1), i64v(1)}, 2, lots, 10000, WASM_TRAP_INDIRECT_MISMATCH);
    same(m, "indirect", (wasm_val[]){i32v(3), i64v(1)}, 2, lots, 10000, WASM_TRAP_UNINIT_ELEMENT);
    same(m, "indirect", (wasm_val[]){i32v(4), i64v(1)}, 2, lots, 10000, WASM_TRAP_UNDEFINED_ELEMENT);
    same(m, "spin", NULL, 0, 100000, 10000, WASM_TRAP_OUT_OF_FUEL);
    same(m, "grow", (wasm_val[]){i32v(1)}, 1, lots, 10000, 0);
    same(m, "grow", (wasm_val[]){i32v(0)}, 1, lots, 10000, WASM_TRAP_MEMORY_OOB);
    same(m, "deep", (wasm_val[]){i32v(500)}, 1, lots, 10000, 0);
    same(m, "deep", (wasm_val[]){i32v(5000)}, 1, lots, 1000, WASM_TRAP_STACK_EXHAUSTED);
    same(m, "deep", (wasm_val[]){i32v(200000)}, 1, WASM_FUEL_UNLIMITED, 100000, WASM_TRAP_STACK_EXHAUSTED);
    same(m, "host", (wasm_val[]){i32v(41)}, 1, lots, 10000, 0);
    same(m, "host_fail", (wasm_val[]){i32v(41)}, 1, lots, 10000, WASM_TRAP_HOST);
    same(m, "fill", (wasm_val[]){i32v(0xAB), i32v(100)}, 2, lots, 10000, 0);
    same(m, "fill", (wasm_val[]){i32v(0xAB), i32v(70000)}, 2, lots, 10000, WASM_TRAP_MEMORY_OOB);
    same(m, "table", (wasm_val[]){i32v(3)}, 1, lots, 10000, 0);
    same(m, "table", (wasm_val[]){i32v(4)}, 1, lots, 10000, WASM_TRAP_TABLE_OOB);
    same(m, "floats", (wasm_val[]){f64v(3.3)}, 1, lots, 10000, 0);
    same(m, "floats", (wasm_val[]){f64v(1e300)}, 1, lots, 10000, WASM_TRAP_INT_OVERFLOW);
    same(m, "floats", (wasm_val[]){f64v(NAN)}, 1, lots, 10000, WASM_TRAP_INVALID_CONVERSION);
    /* pinned loop registers: normal end, early exit, traps inside, re-entry past a call */
    same(m, "pinned", (wasm_val[]){i32v(1000), i32v(5000), i32v(8)}, 3, lots, 10000, 0);
    same(m, "pinned", (wasm_val[]){i32v(1000), i32v(333), i32v(8)}, 3, lots, 10000, 0);
    same(m, "pinned", (wasm_val[]){i32v(1000), i32v(5000), i32v(100)}, 3, lots, 10000,
         WASM_TRAP_MEMORY_OOB);
    for (uint64_t fuel = 50; fuel < 400; fuel += 37)
        same(m, "pinned", (wasm_val[]){i32v(1000), i32v(5000), i32v(8)}, 3, fuel, 10000,
             WASM_TRAP_OUT_OF_FUEL);
    /* SIMD in pinned loops: normal end, early exit, a vector load out of bounds, out of fuel;
     * a loop with a SIMD helper call; f64 work between vector instructions */
    same(m, "simd_pinned", (wasm_val[]){i32v(200), i32v(8), i32v(5000)}, 3, lots, 10000, 0);
    same(m, "simd_pinned", (wasm_val[]){i32v(200), i32v(8), i32v(77)}, 3, lots, 10000, 0);
    same(m, "simd_pinned", (wasm_val[]){i32v(2000), i32v(64), i32v(5000)}, 3, lots, 10000,
         WASM_TRAP_MEMORY_OOB);
    for (uint64_t fuel = 46000; fuel < 64000; fuel += 1700) /* in the loop */
        same(m, "simd_pinned", (wasm_val[]){i32v(200), i32v(8), i32v(5000)}, 3, fuel, 10000,
             WASM_TRAP_OUT_OF_FUEL);
    same(m, "simd_helper", (wasm_val[]){i32v(300)}, 1, lots, 10000, 0);
    same(m, "simd_floats", (wasm_val[]){i32v(300)}, 1, lots, 10000, 0);
    interrupt_flag = 1;
    same(m, "spin", NULL, 0, WASM_FUEL_UNLIMITED, 10000, WASM_TRAP_INTERRUPTED);
    same(m, "fac", (wasm_val[]){i64v(3)}, 1, WASM_FUEL_UNLIMITED, 10000, WASM_TRAP_INTERRUPTED);
    interrupt_flag = 0;
    wasm_module_free(m);
}

/* Hostile programs: every access width at the 4 GiB edge, a memory bomb against the page cap, a
 * 2000-entry br_table, 1000 nested blocks. Each ends as on the interpreter. */
static void test_hostile(void)
{
    wasm_module *m = load_named("jit_hostile");
    char name[16];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, "edge%d", i);
        same(m, name, (wasm_val[]){i32v(0)}, 1, 1000, 100, WASM_TRAP_MEMORY_OOB);
        same(m, name, (wasm_val[]){i32v(0xFFFFFFFF)}, 1, 1000, 100, WASM_TRAP_MEMORY_OOB);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "sedge%d", i);
        same(m, name, (wasm_val[]){i32v(0xFFFFFFFF)}, 1, 1000, 100, WASM_TRAP_MEMORY_OOB);
        same(m, name, (wasm_val[]){i32v(65535)}, 1, 1000, 100, i < 1 ? 0 : WASM_TRAP_MEMORY_OOB);
    }
    same(m, "bomb", NULL, 0, 1000000, 100, 0);
    same(m, "bomb", NULL, 0, 100, 100, WASM_TRAP_OUT_OF_FUEL);
    for (uint32_t i = 0; i < 2100; i += 499)
        same(m, "table", (wasm_val[]){i32v(i)}, 1, 100000, 100, 0);
    same(m, "table", (wasm_val[]){i32v(0xFFFFFFFF)}, 1, 100000, 100, 0);
    same(m, "nested", (wasm_val[]){i32v(7)}, 1, 100000, 100, 0);
    wasm_module_free(m);
}

/* One instance calls another's exported function, directly and through a table, on every
 * combination of tiers: same results and traps. */
/* Runs export `name` (no arguments) on `engine` and returns a copy of memory 0 (its size in
 * *len), or NULL when the call fails. */
static uint8_t *memory_after(wasm_module *m, wasm_engine engine, const char *name, size_t *len)
{
    wasm_store *s = wasm_store_new();
    wasm_config cfg;
    wasm_config_default(&cfg);
    cfg.engine = engine;
    cfg.max_memory_pages = 64;
    wasm_instance *inst;
    wasm_error err;
    wasm_trap trap;
    uint8_t *copy = NULL;
    if (wasm_instantiate(s, m, NULL, 0, &cfg, &inst, &err) != 0) {
        fprintf(stderr, "instantiate (%s): %s\n", wasm_engine_name(engine), err.msg);
    } else if (wasm_invoke(inst, wasm_instance_export_func(inst, name), NULL, 0, NULL, 0, &trap) != 0) {
        fprintf(stderr, "%s (%s): %s\n", name, wasm_engine_name(engine), trap.msg);
    } else {
        wasm_memory *mem = wasm_instance_memory(inst);
        *len = wasm_memory_size(mem);
        copy = malloc(*len);
        if (copy)
            memcpy(copy, wasm_memory_data(mem), *len);
    }
    wasm_store_free(s);
    return copy;
}

/* Every SIMD operation (inline SSE on the compiled tier, or a helper) on edge inputs: lane
 * boundaries, NaNs with payloads and signs, infinities, signed zeros, saturation bounds,
 * out-of-range swizzle indices, shift counts at and beyond the lane width, every load and lane
 * form (jit_simd.wat, from gen_jit_simd_wat.py). Both tiers must leave memory identical. */
static void test_simd(void)
{
    static const char *const fns[] = {"binops", "unops", "misc", "lanestores"};
    wasm_module *m = load_named("jit_simd");
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        size_t la = 0, lb = 0;
        uint8_t *a = memory_after(m, WASM_ENGINE_INTERPRETER, fns[f], &la);
        uint8_t *b = memory_after(m, WASM_ENGINE_COMPILED, fns[f], &lb);
        CHECK(a && b && la == lb);
        if (a && b && la == lb && memcmp(a, b, la) != 0) {
            size_t i = 0;
            while (a[i] == b[i])
                i++;
            failures++;
            /* results are 16-byte slots from 4096, row by row (gen_jit_simd_wat.py) */
            fprintf(stderr, "simd %s: tiers differ at byte %zu (result slot %zu): interpreter "
                    "%02x, compiled %02x\n", fns[f], i, i >= 4096 ? (i - 4096) / 16 : 0, a[i], b[i]);
        }
        free(a);
        free(b);
    }
    wasm_module_free(m);
}

static void test_cross_instance(void)
{
    wasm_module *callee = load_named("jit_callee"), *caller = load_named("jit_caller");
    outcome ref[4];
    for (int combo = 0; combo < 4; combo++) {
        wasm_store *s = wasm_store_new();
        wasm_error err;
        wasm_config c1, c2;
        wasm_config_default(&c1);
        wasm_config_default(&c2);
        c1.engine = combo & 1 ? WASM_ENGINE_COMPILED : WASM_ENGINE_INTERPRETER;
        c2.engine = combo & 2 ? WASM_ENGINE_COMPILED : WASM_ENGINE_INTERPRETER;
        c2.fuel = 1000;
        wasm_instance *a, *b;
        CHECK(wasm_instantiate(s, callee, NULL, 0, &c1, &a, &err) == 0);
        CHECK(wasm_store_register(s, "callee", a, &err) == 0);
        wasm_extern imps[2];
        CHECK(wasm_instance_export(a, "twice", &imps[0]) == 0 && wasm_instance_export(a, "trap", &imps[1]) == 0);
        CHECK(wasm_instantiate(s, caller, imps, 2, &c2, &b, &err) == 0);
        outcome *o = &ref[combo];
        memset(o, 0, sizeof *o);
        wasm_val r;
        o->rc = wasm_invoke(b, wasm_instance_export_func(b, "direct"), (wasm_val[]){i32v(20)}, 1, &r, 1, &o->trap);
        CHECK(o->rc == 0 && r.of.i32 == 41);
        CHECK(wasm_memory_data(wasm_instance_memory(a))[8] == 20);
        CHECK(wasm_invoke(b, wasm_instance_export_func(b, "via_table"), (wasm_val[]){i32v(5), i32v(0)}, 2, &r, 1, &o->trap) == 0 && r.of.i32 == 10);
        o->rc = wasm_invoke(b, wasm_instance_export_func(b, "via_table"), (wasm_val[]){i32v(5), i32v(1)}, 2, &r, 1, &o->trap);
        o->fuel = wasm_instance_fuel(b);
        CHECK(o->rc == WASM_TRAP_DIV_ZERO);
        if (combo > 0)
            CHECK(o->trap.func_index == ref[0].trap.func_index &&
                  o->trap.code_offset == ref[0].trap.code_offset && o->fuel == ref[0].fuel);
        wasm_store_free(s);
    }
    wasm_module_free(callee);
    wasm_module_free(caller);
}

/* ------------------------------------------------------------------ lazy compilation */

/* Functions are compiled on their first call: none when the module is ready; then the called
 * one, and the following ones while they fit on its last page. A compile failure at a first call
 * (here: the code space used up) is a clear trap at the callee's entry, whether reached from C or
 * from compiled code through its lazy stub, and later calls succeed once there is space again.
 * wasm_module_compile compiles all the rest. */
static void test_lazy(void)
{
    wasm_module *m = load_named("jit_tiers");
    if (!m)
        return;
    wasm_error err;
    CHECK(wasm_jit_prepare(m, &err) == 0 && wasm_jit_compiled_count(m) == 0);
    jit_module *jm = (jit_module *)m->jit;
    size_t size = jm->size;
    jm->size = jm->sealed; /* no writable code space left */
    outcome o = run_tiers(m, WASM_ENGINE_COMPILED, "maybe_call", (wasm_val[]){i32v(0)}, 1, 1000, 100);
    CHECK(o.rc == WASM_TRAP_COMPILE_FAILED && o.trap.kind == WASM_TRAP_COMPILE_FAILED);
    CHECK(o.trap.func_index == 15 && o.trap.code_offset > 0); /* maybe_call's entry */
    CHECK(strstr(o.trap.msg, "compile failed: function 15: code space used up") == o.trap.msg);
    CHECK(wasm_module_compile(m, &err) == -1 && err.kind == WASM_ERR_UNSUPPORTED &&
          strstr(err.msg, "code space used up") != NULL);
    CHECK(wasm_jit_compiled_count(m) == 0);
    jm->size = jm->sealed + 4096; /* one page: maybe_call fits, and only some of the rest */
    o = run_tiers(m, WASM_ENGINE_COMPILED, "maybe_call", (wasm_val[]){i32v(0)}, 1, 1000, 100);
    CHECK(o.rc == 0 && o.res.of.i32 == 7);
    uint32_t n = wasm_jit_compiled_count(m);
    CHECK(n >= 1 && n < m->nfuncs - m->nimp_funcs && !jm->ready[12]); /* $big does not fit */
    o = run_tiers(m, WASM_ENGINE_COMPILED, "maybe_call", (wasm_val[]){i32v(5)}, 1, 1000, 100);
    CHECK(o.rc == WASM_TRAP_COMPILE_FAILED && o.trap.func_index == 14); /* $leaf, via its stub */
    CHECK(strstr(o.trap.msg, "compile failed: function 14: code space used up") == o.trap.msg);
    jm->size = size;
    o = run_tiers(m, WASM_ENGINE_COMPILED, "maybe_call", (wasm_val[]){i32v(5)}, 1, 1000, 100);
    CHECK(o.rc == 0 && o.res.of.i32 == 15 && jm->ready[12]);
    CHECK(wasm_module_compile(m, &err) == 0);
    CHECK(wasm_jit_compiled_count(m) == m->nfuncs - m->nimp_funcs);
    same(m, "maybe_call", (wasm_val[]){i32v(4)}, 1, 1000, 100, 0);
    same(m, "fac", (wasm_val[]){i64v(20)}, 1, 57, 10000, WASM_TRAP_OUT_OF_FUEL);
    wasm_module_free(m);
}

/* ------------------------------------------------------------------ W^X */

/* No mapping of this process is writable and executable at once, and the module's machine code
 * sits in a read+execute mapping. */
static void test_wx(void)
{
    wasm_module *m = load_named("jit_tiers");
    outcome o = run_tiers(m, WASM_ENGINE_COMPILED, "fac", (wasm_val[]){i64v(5)}, 1, 1000, 100);
    CHECK(o.rc == 0 && o.res.of.i64 == 120);
    const jit_module *jm = m->jit;
    CHECK(jm && jm->code);
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    char line[512];
    bool found = false, wx = false;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8] = "";
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
            continue;
        if (strchr(perms, 'w') && strchr(perms, 'x'))
            wx = true, fprintf(stderr, "writable+executable mapping: %s", line);
        if (jm && (uintptr_t)jm->code >= lo && (uintptr_t)jm->code < hi)
            found = strncmp(perms, "r-x", 3) == 0;
    }
    if (f)
        fclose(f);
    CHECK(found);
    CHECK(!wx);
    wasm_module_free(m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s WASM_DIR\n", argv[0]);
        return 2;
    }
    wasm_dir = argv[1];
    test_encoder();
    if (wasm_engine_available(WASM_ENGINE_COMPILED)) {
        test_tiers();
        test_cross_instance();
        test_hostile();
        test_lazy();
        test_simd();
        test_wx();
    } else {
        printf("compiled tier not available on this CPU: encoder tests only\n");
    }
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
