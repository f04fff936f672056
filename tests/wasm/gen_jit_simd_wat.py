#!/usr/bin/env python3
"""Writes tests/wasm/wat/jit_simd.wat: every SIMD operation applied to edge-case inputs, results
stored to memory, for test_jit's tier comparison (the interpreter and the compiled tier must
leave identical memory, bit for bit, NaN payloads included).

    python3 tests/wasm/gen_jit_simd_wat.py > tests/wasm/wat/jit_simd.wat

The inputs are 16 vectors (lane boundaries of every shape, NaNs with payloads and signs,
infinities, signed zeros, 2^31 / 2^32 around the saturating conversions, swizzle indices in and
out of range) and 16 shift counts (0, lane widths and around them, negative, huge)."""
import struct

def f32(x): return struct.pack('<f', x)
def f64(x): return struct.pack('<d', x)
def u32(x): return struct.pack('<I', x & 0xFFFFFFFF)
def u64(x): return struct.pack('<Q', x & 0xFFFFFFFFFFFFFFFF)

VECS = [
    bytes(16),
    b'\xff' * 16,
    bytes([0x80, 0x7F, 0x00, 0xFF, 0x01, 0xFE, 0x81, 0x7E] * 2),
    u32(0x80000000) + u32(0x7FFFFFFF) + u32(0x00008000) + u32(0xFFFF7FFF),
    u64(1 << 63) + u64((1 << 63) - 1),
    f32(float('nan')) + u32(0xFFC00001) + u32(0x7F800001) + u32(0xFF812345),  # NaNs, sNaNs
    f32(float('inf')) + f32(float('-inf')) + f32(-0.0) + f32(0.0),
    f32(2147483648.0) + f32(4294967296.0) + f32(-2147483904.0) + f32(2147483520.0),
    f32(-1.5) + f32(0.5) + f32(2.5) + f32(-0.4999999),
    f32(1e10) + u32(0x00000001) + f32(-1e-40) + f32(3.4028235e38),
    u64(0x7FF8000000000000) + u64(0xFFF0000000000001),  # f64 canonical NaN, sNaN
    f64(-0.0) + f64(float('inf')),
    f64(4294967295.5) + f64(-2147483648.9),
    f64(2.5) + f64(-1e300),
    bytes(range(16)),
    bytes([0, 16, 31, 15, 1, 0x80, 0xFF, 17, 14, 2, 3, 32, 0x70, 0x8F, 5, 8]),
]
COUNTS = [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0xFFFFFFFF, 0x80000007]

UNOPS = """v128.not f32x4.demote_f64x2_zero f64x2.promote_low_f32x4 i8x16.abs i8x16.neg i8x16.popcnt
f32x4.ceil f32x4.floor f32x4.trunc f32x4.nearest f64x2.ceil f64x2.floor f64x2.trunc
i16x8.extadd_pairwise_i8x16_s i16x8.extadd_pairwise_i8x16_u i32x4.extadd_pairwise_i16x8_s
i32x4.extadd_pairwise_i16x8_u i16x8.abs i16x8.neg i16x8.extend_low_i8x16_s i16x8.extend_high_i8x16_s
i16x8.extend_low_i8x16_u i16x8.extend_high_i8x16_u f64x2.nearest i32x4.abs i32x4.neg
i32x4.extend_low_i16x8_s i32x4.extend_high_i16x8_s i32x4.extend_low_i16x8_u i32x4.extend_high_i16x8_u
i64x2.abs i64x2.neg i64x2.extend_low_i32x4_s i64x2.extend_high_i32x4_s i64x2.extend_low_i32x4_u
i64x2.extend_high_i32x4_u f32x4.abs f32x4.neg f32x4.sqrt f64x2.abs f64x2.neg f64x2.sqrt
i32x4.trunc_sat_f32x4_s i32x4.trunc_sat_f32x4_u f32x4.convert_i32x4_s f32x4.convert_i32x4_u
i32x4.trunc_sat_f64x2_s_zero i32x4.trunc_sat_f64x2_u_zero f64x2.convert_low_i32x4_s
f64x2.convert_low_i32x4_u""".split()

BINOPS = """i8x16.swizzle i8x16.eq i8x16.ne i8x16.lt_s i8x16.lt_u i8x16.gt_s i8x16.gt_u i8x16.le_s
i8x16.le_u i8x16.ge_s i8x16.ge_u i16x8.eq i16x8.ne i16x8.lt_s i16x8.lt_u i16x8.gt_s i16x8.gt_u
i16x8.le_s i16x8.le_u i16x8.ge_s i16x8.ge_u i32x4.eq i32x4.ne i32x4.lt_s i32x4.lt_u i32x4.gt_s
i32x4.gt_u i32x4.le_s i32x4.le_u i32x4.ge_s i32x4.ge_u f32x4.eq f32x4.ne f32x4.lt f32x4.gt
f32x4.le f32x4.ge f64x2.eq f64x2.ne f64x2.lt f64x2.gt f64x2.le f64x2.ge v128.and v128.andnot
v128.or v128.xor i8x16.narrow_i16x8_s i8x16.narrow_i16x8_u i8x16.add i8x16.add_sat_s
i8x16.add_sat_u i8x16.sub i8x16.sub_sat_s i8x16.sub_sat_u i8x16.min_s i8x16.min_u i8x16.max_s
i8x16.max_u i8x16.avgr_u i16x8.q15mulr_sat_s i16x8.narrow_i32x4_s i16x8.narrow_i32x4_u
i16x8.add i16x8.add_sat_s i16x8.add_sat_u i16x8.sub i16x8.sub_sat_s i16x8.sub_sat_u i16x8.mul
i16x8.min_s i16x8.min_u i16x8.max_s i16x8.max_u i16x8.avgr_u i16x8.extmul_low_i8x16_s
i16x8.extmul_high_i8x16_s i16x8.extmul_low_i8x16_u i16x8.extmul_high_i8x16_u i32x4.add
i32x4.sub i32x4.mul i32x4.min_s i32x4.min_u i32x4.max_s i32x4.max_u i32x4.dot_i16x8_s
i32x4.extmul_low_i16x8_s i32x4.extmul_high_i16x8_s i32x4.extmul_low_i16x8_u
i32x4.extmul_high_i16x8_u i64x2.add i64x2.sub i64x2.mul i64x2.eq i64x2.ne i64x2.lt_s
i64x2.gt_s i64x2.le_s i64x2.ge_s i64x2.extmul_low_i32x4_s i64x2.extmul_high_i32x4_s
i64x2.extmul_low_i32x4_u i64x2.extmul_high_i32x4_u f32x4.add f32x4.sub f32x4.mul f32x4.div
f32x4.min f32x4.max f32x4.pmin f32x4.pmax f64x2.add f64x2.sub f64x2.mul f64x2.div f64x2.min
f64x2.max f64x2.pmin f64x2.pmax""".split()

SHIFTS = """i8x16.shl i8x16.shr_s i8x16.shr_u i16x8.shl i16x8.shr_s i16x8.shr_u i32x4.shl i32x4.shr_s
i32x4.shr_u i64x2.shl i64x2.shr_s i64x2.shr_u""".split()
TESTS = """v128.any_true i8x16.all_true i8x16.bitmask i16x8.all_true i16x8.bitmask i32x4.all_true
i32x4.bitmask i64x2.all_true i64x2.bitmask""".split()
LOADS = """v128.load v128.load8x8_s v128.load8x8_u v128.load16x4_s v128.load16x4_u v128.load32x2_s
v128.load32x2_u v128.load8_splat v128.load16_splat v128.load32_splat v128.load64_splat
v128.load32_zero v128.load64_zero""".split()
SHUFFLES = [list(range(16)), list(range(16, 32)), list(range(15, -1, -1)),
            [0, 17, 2, 19, 4, 21, 6, 23, 8, 25, 10, 27, 12, 29, 14, 31], [31] * 16,
            [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23]]
LANES = {'i8x16': 16, 'i16x8': 8, 'i32x4': 4, 'i64x2': 2, 'f32x4': 4, 'f64x2': 2}
SCALAR = {'i8x16': 'i32', 'i16x8': 'i32', 'i32x4': 'i32', 'i64x2': 'i64', 'f32x4': 'f32', 'f64x2': 'f64'}

OUT = 4096  # results start here

def data(at, b):
    return '  (data (i32.const %d) "%s")\n' % (at, ''.join('\\%02x' % c for c in b))

def loop2(name, body, per, inner='(local.get $j)'):
    """for i, j in 0..16: body (with $a = vector i, $b = vector j, $c = count j), $out += per"""
    return f'''  (func (export "{name}")
    (local $i i32) (local $j i32) (local $out i32) (local $a v128) (local $b v128) (local $c i32)
    (local.set $out (i32.const {OUT}))
    (loop $li
      (local.set $j (i32.const 0))
      (loop $lj
        (local.set $a (v128.load (i32.shl (local.get $i) (i32.const 4))))
        (local.set $b (v128.load (i32.shl (local.get $j) (i32.const 4))))
        (local.set $c (i32.load offset=256 (i32.shl (local.get $j) (i32.const 2))))
{body}        (local.set $out (i32.add (local.get $out) (i32.const {per})))
        (br_if $lj (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 16))))
      (br_if $li (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 16)))))
'''

def st(k, expr):
    return f'        (v128.store offset={16 * k} (local.get $out) {expr})\n'

def main():
    out = ['(module\n', '  ;; generated by tests/wasm/gen_jit_simd_wat.py: do not edit\n',
           '  (memory (export "memory") 48)\n']
    out.append(data(0, b''.join(VECS)))
    out.append(data(256, b''.join(u32(c) for c in COUNTS)))
    body = ''.join(st(k, f'({op} (local.get $a) (local.get $b))') for k, op in enumerate(BINOPS))
    out.append(loop2('binops', body, 16 * len(BINOPS)))
    body = ''.join(st(k, f'({op} (local.get $a))') for k, op in enumerate(UNOPS))
    body += st(len(UNOPS), '(v128.bitselect (local.get $a) (local.get $b) (v128.load offset=16 (i32.and (i32.add (local.get $i) (local.get $j)) (i32.const 0xF0))))')
    body += st(len(UNOPS) + 1, '(select (local.get $a) (local.get $b) (i32.sub (local.get $c) (i32.const 1)))')
    out.append(loop2('unops', body, 16 * (len(UNOPS) + 2)))
    body = ''.join(st(k, f'({op} (local.get $a) (local.get $c))') for k, op in enumerate(SHIFTS))
    k = len(SHIFTS)
    for t in TESTS:  # each test's i32 result, splatted
        body += st(k, f'(i32x4.splat ({t} (local.get $b)))')
        k += 1
    for shape, n in LANES.items():  # splat of lane 0 of b, extract / replace lane (i mod lanes)
        sfx = '_u' if n > 4 else ''
        body += st(k, f'({shape}.splat ({shape}.extract_lane{sfx} 0 (local.get $b)))')
        body += st(k + 1, f'({shape}.replace_lane {n - 1} (local.get $a) ({shape}.extract_lane{"_s" if n > 4 else ""} {n // 2} (local.get $b)))')
        k += 2
    for s in SHUFFLES:
        body += st(k, f'(i8x16.shuffle {" ".join(map(str, s))} (local.get $a) (local.get $b))')
        k += 1
    # memory: every load kind at 16 byte offsets across the vectors (address j * 13 + i)
    addr = '(i32.add (i32.mul (local.get $j) (i32.const 13)) (local.get $i))'
    for op in LOADS:
        body += st(k, f'({op} offset=3 {addr})')
        k += 1
    for bits, n in ((8, 16), (16, 8), (32, 4), (64, 2)):
        body += st(k, f'(v128.load{bits}_lane offset=1 {n - 1} {addr} (local.get $a))')
        body += st(k + 1, f'(v128.load{bits}_lane 0 {addr} (local.get $a))')
        k += 2
    out.append(loop2('misc', body, 16 * k))
    # lane stores into the result area, then read back
    body = ''
    for bits, n in ((8, 16), (16, 8), (32, 4), (64, 2)):
        body += f'        (v128.store{bits}_lane offset={16 * len(body.splitlines())} {n - 1} (local.get $out) (local.get $a))\n'
        body += f'        (v128.store{bits}_lane offset={16 * len(body.splitlines())} 0 (local.get $out) (local.get $b))\n'
    out.append(loop2('lanestores', body, 16 * 8))
    out.append(')\n')
    print(''.join(out), end='')

main()
