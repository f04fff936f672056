/* test_simd_kernels.c - the SIMD benchmark kernels (bench/simd-kernels/kernels) under the engine.
 * For each kernel, with a small work factor:
 *  - the wasm32 build without SIMD and the -msimd128 build return the native build's checksum;
 *  - a decoder walks every instruction of each module's code section (so immediates are never
 *    mistaken for opcodes) and shows that the -msimd128 build executes 0xFD-prefixed
 *    instructions inside loops, including the ones that make the kernel's arithmetic, while the
 *    scalar build has none. Without that, a compiler change that silently stopped vectorising
 *    would leave bench-simd-kernels comparing scalar code with scalar code.
 * The decoder itself is checked on hand-made modules, including malformed ones.
 * Usage: test_simd_kernels DIR (where sk_<kernel>_{scalar,simd}.wasm were built) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "wasm/wasm.h"

#include "../common/check.h"

/* ---- a minimal instruction decoder for WebAssembly 2.0 code sections ---- */

enum { SIMD_OPCODES = 0x114, MAX_NESTING = 4096 };

typedef struct simd_scan {
    unsigned simd_total;                /* 0xFD instructions anywhere */
    unsigned simd_in_loops;             /* ... inside at least one `loop` */
    bool in_loop[SIMD_OPCODES];         /* which SIMD opcodes occur inside loops */
    char error[128];                    /* set when the module does not decode */
} simd_scan;

typedef struct cursor {
    const uint8_t *p, *end;
    bool bad;
} cursor;

static uint8_t next_byte(cursor *c)
{
    if (c->p >= c->end) {
        c->bad = true;
        return 0;
    }
    return *c->p++;
}

static void skip_bytes(cursor *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = true;
        c->p = c->end;
        return;
    }
    c->p += n;
}

/* Unsigned LEB128, at most 32 bits (5 bytes). */
static uint32_t read_u32(cursor *c)
{
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        uint8_t b = next_byte(c);
        v |= (uint32_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->bad = true;
    return 0;
}

/* Any LEB128 (signed or unsigned) of at most `max_bytes` bytes, value ignored. */
static void skip_leb(cursor *c, int max_bytes)
{
    for (int i = 0; i < max_bytes; i++)
        if (!(next_byte(c) & 0x80))
            return;
    c->bad = true;
}

static void skip_memarg(cursor *c)
{
    read_u32(c); /* alignment */
    read_u32(c); /* offset */
}

static void skip_blocktype(cursor *c)
{
    if (c->p < c->end && (*c->p == 0x40 || (*c->p >= 0x7B && *c->p <= 0x7F) || *c->p == 0x70 ||
                          *c->p == 0x6F))
        c->p++;
    else
        skip_leb(c, 5); /* s33 type index */
}

/* The immediates of a 0xFC-prefixed instruction. */
static bool skip_fc(cursor *c)
{
    uint32_t sub = read_u32(c);
    if (sub <= 7)
        return true; /* saturating truncations */
    switch (sub) {
    case 8: read_u32(c); skip_bytes(c, 1); return true;     /* memory.init */
    case 10: skip_bytes(c, 2); return true;                 /* memory.copy */
    case 11: skip_bytes(c, 1); return true;                 /* memory.fill */
    case 12: case 14: read_u32(c); read_u32(c); return true; /* table.init, table.copy */
    case 9: case 13: case 15: case 16: case 17: read_u32(c); return true;
    default: return false;
    }
}

/* The immediates of a 0xFD-prefixed instruction; returns its opcode or -1. */
static int skip_fd(cursor *c)
{
    uint32_t sub = read_u32(c);
    if (sub >= SIMD_OPCODES)
        return -1;
    if (sub <= 0x0B || sub == 0x5C || sub == 0x5D)
        skip_memarg(c); /* loads and stores */
    else if (sub == 0x0C || sub == 0x0D)
        skip_bytes(c, 16); /* v128.const, i8x16.shuffle */
    else if (sub >= 0x15 && sub <= 0x22)
        skip_bytes(c, 1); /* extract/replace lane */
    else if (sub >= 0x54 && sub <= 0x5B) {
        skip_memarg(c); /* load/store lane */
        skip_bytes(c, 1);
    }
    return (int)sub;
}

/* Opcodes without immediates. */
static bool is_plain(uint8_t op)
{
    return op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0F || op == 0x1A || op == 0x1B ||
           (op >= 0x45 && op <= 0xC4) || op == 0xD1;
}

/* Decodes one instruction after its opcode byte; returns false if it is unknown. */
static bool skip_immediates(cursor *c, uint8_t op)
{
    if (is_plain(op))
        return true;
    if (op >= 0x20 && op <= 0x26) { read_u32(c); return true; }   /* locals, globals, tables */
    if (op >= 0x28 && op <= 0x3E) { skip_memarg(c); return true; } /* loads and stores */
    switch (op) {
    case 0x0C: case 0x0D: case 0x10: case 0xD2: read_u32(c); return true;
    case 0x0E: {                                                    /* br_table */
        uint32_t n = read_u32(c);
        for (uint64_t i = 0; i <= n && !c->bad; i++)
            read_u32(c);
        return true;
    }
    case 0x11: read_u32(c); read_u32(c); return true;               /* call_indirect */
    case 0x1C: skip_bytes(c, read_u32(c)); return true;             /* typed select */
    case 0x3F: case 0x40: case 0xD0: skip_bytes(c, 1); return true;
    case 0x41: skip_leb(c, 5); return true;
    case 0x42: skip_leb(c, 10); return true;
    case 0x43: skip_bytes(c, 4); return true;
    case 0x44: skip_bytes(c, 8); return true;
    case 0xFC: return skip_fc(c);
    default: return false;
    }
}

/* One function body: locals, then instructions until the `end` that closes the function, which
 * must be its last byte. Counts SIMD instructions, and those inside an open `loop`. */
static bool scan_body(cursor *c, simd_scan *s)
{
    uint32_t groups = read_u32(c);
    for (uint32_t i = 0; i < groups && !c->bad; i++) {
        read_u32(c);
        skip_bytes(c, 1);
    }
    bool is_loop[MAX_NESTING];
    unsigned depth = 0, loops = 0;
    while (!c->bad) {
        uint8_t op = next_byte(c);
        if (op == 0x02 || op == 0x03 || op == 0x04) {
            if (depth == MAX_NESTING) {
                snprintf(s->error, sizeof s->error, "nesting deeper than %d", MAX_NESTING);
                return false;
            }
            skip_blocktype(c);
            is_loop[depth++] = op == 0x03;
            loops += op == 0x03;
        } else if (op == 0x0B) {
            if (depth > 0) {
                loops -= is_loop[--depth];
                continue;
            }
            if (c->p == c->end)
                return true;
            snprintf(s->error, sizeof s->error, "body does not end at its size");
            return false;
        } else if (op == 0xFD) {
            int sub = skip_fd(c);
            if (sub < 0) {
                snprintf(s->error, sizeof s->error, "unknown SIMD opcode");
                return false;
            }
            s->simd_total++;
            if (loops) {
                s->simd_in_loops++;
                s->in_loop[sub] = true;
            }
        } else if (!skip_immediates(c, op)) {
            snprintf(s->error, sizeof s->error, "unknown opcode 0x%02x", op);
            return false;
        }
    }
    snprintf(s->error, sizeof s->error, "truncated function body");
    return false;
}

/* Walks a whole module; returns 0, or -1 with s->error set. */
static int scan_module(const uint8_t *bytes, size_t len, simd_scan *s)
{
    memset(s, 0, sizeof *s);
    static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (len < 8 || memcmp(bytes, header, 8) != 0) {
        snprintf(s->error, sizeof s->error, "not a wasm module");
        return -1;
    }
    cursor c = {bytes + 8, bytes + len, false};
    while (c.p < c.end && !c.bad) {
        uint8_t id = next_byte(&c);
        uint32_t size = read_u32(&c);
        if (c.bad || (size_t)(c.end - c.p) < size)
            break;
        cursor sec = {c.p, c.p + size, false};
        c.p += size;
        if (id != 10)
            continue;
        uint32_t count = read_u32(&sec);
        for (uint32_t i = 0; i < count && !sec.bad; i++) {
            uint32_t body = read_u32(&sec);
            if (sec.bad || (size_t)(sec.end - sec.p) < body) {
                sec.bad = true;
                break;
            }
            cursor fc = {sec.p, sec.p + body, false};
            sec.p += body;
            if (!scan_body(&fc, s))
                return -1;
        }
        if (sec.bad || sec.p != sec.end) {
            snprintf(s->error, sizeof s->error, "malformed code section");
            return -1;
        }
    }
    if (c.bad) {
        snprintf(s->error, sizeof s->error, "truncated section");
        return -1;
    }
    return 0;
}

/* ---- the decoder on hand-made modules ---- */

/* A module of one function `() -> ()` with the given body (locals count byte included). */
static size_t make_module(const uint8_t *body, size_t body_len, uint8_t *out)
{
    static const uint8_t head[] = {0, 'a', 's', 'm', 1, 0, 0, 0,
                                   1, 4, 1, 0x60, 0, 0, /* type () -> () */
                                   3, 2, 1, 0};         /* one function of type 0 */
    size_t n = sizeof head;
    memcpy(out, head, n);
    out[n++] = 10;
    out[n++] = (uint8_t)(body_len + 2);
    out[n++] = 1;
    out[n++] = (uint8_t)body_len;
    memcpy(out + n, body, body_len);
    return n + body_len;
}

static void test_decoder(void)
{
    /* v128.const inside a loop, an i32.const whose immediate holds 0xFD outside any loop */
    static const uint8_t in_loop[] = {0, 0x41, 0xFD, 0x00, 0x1A, 0x03, 0x40, 0xFD, 0x0C,
                                      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xFD,
                                      0x1A, 0x0B, 0x0B};
    /* the same vector outside the loop, and a block inside it */
    static const uint8_t outside[] = {0, 0xFD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                      14, 15, 16, 0x1A, 0x03, 0x40, 0x02, 0x40, 0x0B, 0x0B, 0x0B};
    uint8_t mod[128];
    simd_scan s;
    size_t n = make_module(in_loop, sizeof in_loop, mod);
    CHECK(scan_module(mod, n, &s) == 0 && s.simd_total == 1 && s.simd_in_loops == 1 &&
          s.in_loop[0x0C]);
    n = make_module(outside, sizeof outside, mod);
    CHECK(scan_module(mod, n, &s) == 0 && s.simd_total == 1 && s.simd_in_loops == 0);
    /* malformed: body cut before its final end, an extra byte after it, an unknown opcode */
    n = make_module(in_loop, sizeof in_loop - 1, mod);
    CHECK(scan_module(mod, n, &s) < 0 && strstr(s.error, "truncated"));
    static const uint8_t trailing[] = {0, 0x0B, 0x01};
    n = make_module(trailing, sizeof trailing, mod);
    CHECK(scan_module(mod, n, &s) < 0 && strstr(s.error, "does not end"));
    static const uint8_t unknown[] = {0, 0x06, 0x0B};
    n = make_module(unknown, sizeof unknown, mod);
    CHECK(scan_module(mod, n, &s) < 0 && strstr(s.error, "unknown opcode 0x06"));
    static const uint8_t bad_simd[] = {0, 0xFD, 0xFF, 0x0F, 0x0B};
    n = make_module(bad_simd, sizeof bad_simd, mod);
    CHECK(scan_module(mod, n, &s) < 0 && strstr(s.error, "unknown SIMD opcode"));
    CHECK(scan_module(mod, 4, &s) < 0 && strstr(s.error, "not a wasm module"));
}

/* ---- the kernels ---- */

uint64_t native_matmul_f32(uint32_t);
uint64_t native_blur_u8(uint32_t);
uint64_t native_dot_i16(uint32_t);
uint64_t native_luma_rgba(uint32_t);

typedef struct kernel {
    const char *name;
    uint64_t (*native)(uint32_t);
    uint32_t n;
    int must_have[2]; /* SIMD opcodes the vector build must run in a loop (-1: none) */
} kernel;

/* f32x4.mul/add for the matrix product, i16x8.add for the widened blur sums, i32x4.mul for the
 * widened products (clang-14 emits load16x4_s + mul; a later clang may use extmul or dot, which
 * the check also accepts), the explicit i32x4.dot_i16x8_s + shuffle for the luma conversion. */
static const kernel kernels[] = {
    {"matmul_f32", native_matmul_f32, 3, {0xE6, 0xE4}},
    {"blur_u8", native_blur_u8, 3, {0x8E, -1}},
    {"dot_i16", native_dot_i16, 50, {0xB5, -1}},
    {"luma_rgba", native_luma_rgba, 5, {0xBA, 0x0D}},
};

static bool dot_alternative(const simd_scan *s)
{
    return s->in_loop[0xBA] || s->in_loop[0xBC] || s->in_loop[0xBD] || s->in_loop[0xBE] ||
           s->in_loop[0xBF];
}

/* Loads DIR/sk_<name>_<variant>.wasm, decodes its code, runs bench_run(n); 0 or -1. */
static int run_build(const char *dir, const kernel *k, const char *variant, simd_scan *scan,
                     uint64_t *sum)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sk_%s_%s.wasm", dir, k->name, variant);
    uint8_t *bytes;
    size_t len;
    sb_err e;
    if (sb_read_file(path, 16u << 20, &bytes, &len, &e) != 0) {
        fprintf(stderr, "%s: %s\n", path, e.msg);
        return -1;
    }
    if (scan_module(bytes, len, scan) != 0) {
        fprintf(stderr, "%s: cannot decode: %s\n", path, scan->error);
        free(bytes);
        return -1;
    }
    wasm_error err;
    wasm_module *m = wasm_module_load(bytes, len, &err);
    free(bytes);
    wasm_store *s = m ? wasm_store_new() : NULL;
    wasm_instance *inst = NULL;
    int rc = -1;
    if (!m)
        fprintf(stderr, "%s: load: %s\n", path, err.msg);
    else if (!s || wasm_instantiate(s, m, NULL, 0, NULL, &inst, &err) != 0)
        fprintf(stderr, "%s: instantiate: %s\n", path, s ? err.msg : "out of memory");
    else {
        wasm_func *f = wasm_instance_export_func(inst, "bench_run");
        wasm_val arg = {.type = WASM_I32, .of.i32 = k->n}, res;
        wasm_trap trap;
        if (!f)
            fprintf(stderr, "%s: no bench_run export\n", path);
        else if (wasm_invoke(inst, f, &arg, 1, &res, 1, &trap) != 0)
            fprintf(stderr, "%s: trap: %s\n", path, trap.msg);
        else if (res.type != WASM_I64)
            fprintf(stderr, "%s: bench_run did not return an i64\n", path);
        else {
            *sum = res.of.i64;
            rc = 0;
        }
    }
    wasm_store_free(s);
    wasm_module_free(m);
    return rc;
}

static void test_kernel(const char *dir, const kernel *k)
{
    uint64_t native = k->native(k->n), scalar = 0, vector = 0;
    simd_scan *scan = malloc(2 * sizeof *scan);
    CHECK(scan != NULL);
    if (!scan)
        return;
    CHECK(run_build(dir, k, "scalar", &scan[0], &scalar) == 0);
    CHECK(run_build(dir, k, "simd", &scan[1], &vector) == 0);
    if (scalar != native || vector != native)
        fprintf(stderr, "%s: native %016llx, scalar %016llx, simd %016llx\n", k->name,
                (unsigned long long)native, (unsigned long long)scalar, (unsigned long long)vector);
    CHECK(scalar == native);
    CHECK(vector == native);
    CHECK(scan[0].simd_total == 0);
    CHECK(scan[1].simd_in_loops > 0);
    for (int i = 0; i < 2; i++) {
        int op = k->must_have[i];
        bool ok = op < 0 || scan[1].in_loop[op] || (op == 0xB5 && dot_alternative(&scan[1]));
        if (!ok)
            fprintf(stderr, "%s: SIMD opcode 0x%x not inside a loop of the -msimd128 build\n",
                    k->name, (unsigned)op);
        CHECK(ok);
    }
    printf("%-10s checksum %016llx; -msimd128 build: %u SIMD instructions, %u inside loops\n",
           k->name, (unsigned long long)native, scan[1].simd_total, scan[1].simd_in_loops);
    free(scan);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    test_decoder();
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        test_kernel(argv[1], &kernels[i]);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
