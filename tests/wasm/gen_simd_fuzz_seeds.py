#!/usr/bin/env python3
"""Write the seed corpus of fuzz_simd_ops (tests/wasm/simd_fuzz_seeds/), one file per case.

Each seed names an operation of src/wasm/simdops.h and hand-picked operands: NaNs of every kind
(canonical, payload, signalling, negative), signed zeros, infinities, rounding ties and the
boundaries of the saturating conversions, lane sign bits, out-of-range swizzle and shuffle
indices, shift counts beyond the lane width, misaligned loads. The format is in simd_fuzz.h.
Run by hand after changing the list:  tests/wasm/gen_simd_fuzz_seeds.py src/wasm/simdops.h tests/wasm/simd_fuzz_seeds
"""
import os, re, struct, sys

FAMILIES = ['SIMD_UNOPS', 'SIMD_BINOPS', 'SIMD_TERNOPS', 'SIMD_TESTS', 'SIMD_SHIFTS', 'SIMD_SPLATS', 'SIMD_LOADS']
SHORT = ['un', 'bin', 'tern', 'test', 'shift', 'splat', 'load', 'shuffle']

def families(simdops):
    """family index -> operation names in table order, from the X-macro lists"""
    text = open(simdops).read().replace('\\\n', ' ')
    out = []
    for fam in FAMILIES:
        body = re.search(r'#define %s\(X\)(.*)' % fam, text).group(1)
        out.append(re.findall(r'X\(\s*\d+\s*,\s*(\w+)', body))
    out.append(['i8x16_shuffle'])
    return out

def lanes(fmt, count, vals):
    """`count` lanes little-endian, the values repeated as needed"""
    size = struct.calcsize(fmt)
    return b''.join(struct.pack('<' + fmt, vals[i % len(vals)] & ((1 << (8 * size)) - 1)) for i in range(count))

def i8(*v): return lanes('B', 16, v)
def i16(*v): return lanes('H', 8, v)
def i32(*v): return lanes('I', 4, v)
def i64(*v): return lanes('Q', 2, v)
def count(n): return struct.pack('<I', n)

F32_ONE, F32_INF, F32_SNAN, F32_QPAY = 0x3F800000, 0x7F800000, 0x7FA00000, 0x7FC00001
F64_ONE, F64_INF, F64_SNAN = 0x3FF0000000000000, 0x7FF0000000000000, 0x7FF4000000000000

SEEDS = [
    # unary: rounding, sqrt, conversions, integer edge lanes
    ('un', 'f32x4_nearest', 'nan', i32(F32_SNAN, 0xFFC12345, 0x3F000000, 0xBFC00000)),
    ('un', 'f32x4_nearest', 'ties', i32(0x40200000, 0xC0200000, 0x4B000001, 0x4AFFFFFF)),
    ('un', 'f32x4_ceil', 'edges', i32(0xBF000000, 0x4B000001, F32_INF, 0x80000001)),
    ('un', 'f32x4_floor', 'edges', i32(0x3EFFFFFF, 0xBEFFFFFF, 0xFF800000, 0x7FC00000)),
    ('un', 'f32x4_trunc', 'edges', i32(0x4AFFFFFF, 0xCAFFFFFF, 0x7F800001, 0x80000000)),
    ('un', 'f64x2_nearest', 'nan', i64(0x4330000000000001, 0x7FF0000000000001)),
    ('un', 'f64x2_nearest', 'ties', i64(0x4004000000000000, 0xBFE0000000000000)),
    ('un', 'f64x2_floor', 'nan', i64(0xBFE0000000000000, 0xFFF8123456789ABC)),
    ('un', 'f64x2_ceil', 'edges', i64(0x3FDFFFFFFFFFFFFF, 0x8000000000000001)),
    ('un', 'f64x2_trunc', 'edges', i64(0xC32FFFFFFFFFFFFF, F64_SNAN)),
    ('un', 'f32x4_sqrt', 'nan', i32(0xBF800000, F32_SNAN, 0x80000000, 0x00000001)),
    ('un', 'f64x2_sqrt', 'nan', i64(0xBFF0000000000000, F64_SNAN)),
    ('un', 'f32x4_demote_f64x2_zero', 'inf-nan', i64(0x47EFFFFFF0000000, F64_SNAN)),
    ('un', 'f32x4_demote_f64x2_zero', 'ties', i64(0x3FF0000010000000, 0x3690000000000000)),
    ('un', 'f64x2_promote_low_f32x4', 'nan', i32(F32_SNAN, 0xFFC00000, 0x00000001, 0x7F7FFFFF)),
    ('un', 'i32x4_trunc_sat_f32x4_s', 'bounds', i32(0x4F000000, 0xCF000001, 0x7FC00000, 0xBF7FFFFF)),
    ('un', 'i32x4_trunc_sat_f32x4_u', 'bounds', i32(0x4F800000, 0x4F7FFFFF, 0xBF7FFFFF, 0xFF800000)),
    ('un', 'i32x4_trunc_sat_f64x2_s_zero', 'bounds', i64(0x41DFFFFFFFE00000, 0xC1E0000000200000)),
    ('un', 'i32x4_trunc_sat_f64x2_u_zero', 'bounds', i64(0x41EFFFFFFFF00000, 0x7FF8000000000001)),
    ('un', 'f32x4_convert_i32x4_s', 'bounds', i32(0x7FFFFFFF, 0x80000000, 0x01000001, 0xFFFFFFFF)),
    ('un', 'f32x4_convert_i32x4_u', 'bounds', i32(0xFFFFFFFF, 0x80000001, 0x01000001, 0x7FFFFFBF)),
    ('un', 'f64x2_convert_low_i32x4_u', 'bounds', i32(0xFFFFFFFF, 0x80000000, 1, 2)),
    ('un', 'i8x16_popcnt', 'bytes', i8(0x00, 0xFF, 0x80, 0x55, 0xAA, 0x01, 0x7F, 0xFE)),
    ('un', 'i64x2_abs', 'min', i64(0x8000000000000000, 0xFFFFFFFFFFFFFFFF)),
    ('un', 'i8x16_abs', 'min', i8(0x80, 0x81, 0x7F, 0xFF)),
    ('un', 'i16x8_extadd_pairwise_i8x16_s', 'min', i8(0x80)),
    ('un', 'i32x4_extadd_pairwise_i16x8_u', 'max', i16(0xFFFF)),
    ('un', 'i64x2_extend_high_i32x4_s', 'signs', i32(1, 2, 0x80000000, 0x7FFFFFFF)),
    ('un', 'f32x4_abs', 'nan', i32(0xFFA00001, 0xFFC00000, 0x80000000, 0xFF800000)),
    ('un', 'f64x2_neg', 'nan', i64(F64_SNAN, 0)),
    # binary: min/max on zeros and NaNs, IEEE specials, saturation, narrowing, lane tricks
    ('bin', 'f32x4_min', 'zeros-nan', i32(0x80000000, 0, F32_SNAN, F32_ONE) + i32(0, 0x80000000, F32_ONE, 0xFFC00000)),
    ('bin', 'f32x4_max', 'zeros-nan', i32(0x80000000, 0, F32_SNAN, F32_ONE) + i32(0, 0x80000000, F32_ONE, 0xFFC00000)),
    ('bin', 'f64x2_min', 'zeros-nan', i64(0x8000000000000000, F64_SNAN) + i64(0, F64_ONE)),
    ('bin', 'f64x2_max', 'zeros-nan', i64(0, 0xFFF0000000000000) + i64(0x8000000000000000, 0x7FF8000000000000)),
    ('bin', 'f32x4_pmin', 'nan', i32(F32_SNAN, F32_ONE, 0x80000000, 0xFF800000) + i32(F32_ONE, 0x7FC12345, 0, F32_INF)),
    ('bin', 'f64x2_pmax', 'nan', i64(F64_SNAN, 0x8000000000000000) + i64(F64_ONE, 0)),
    ('bin', 'f32x4_div', 'zero-inf', i32(0, F32_ONE, 0xBF800000, F32_INF) + i32(0, 0x80000000, 0, F32_INF)),
    ('bin', 'f64x2_div', 'zero-inf', i64(0x8000000000000000, F64_INF) + i64(0, 0xFFF0000000000000)),
    ('bin', 'f64x2_mul', 'inf-zero', i64(F64_INF, 0x7FF0000000000001) + i64(0, F64_ONE)),
    ('bin', 'f32x4_add', 'nan-payload', i32(F32_QPAY, 0x7FC00000, F32_SNAN, F32_INF) + i32(F32_ONE, F32_SNAN, F32_QPAY, 0xFF800000)),
    ('bin', 'f32x4_mul', 'inf-zero', i32(F32_INF, 0x80000000, 0x7F7FFFFF, 1) + i32(0, F32_INF, 0x40000000, 0x3F000000)),
    ('bin', 'f64x2_sub', 'inf', i64(F64_INF, 0x8000000000000000) + i64(F64_INF, 0)),
    ('bin', 'f32x4_lt', 'nan', i32(0x7FC00000, F32_ONE, 0x80000000, F32_INF) + i32(F32_ONE, 0x7FC00000, 0, F32_INF)),
    ('bin', 'f64x2_ne', 'nan', i64(0x7FF8000000000000, 0) + i64(0x7FF8000000000000, 0x8000000000000000)),
    ('bin', 'f64x2_le', 'zeros', i64(0x8000000000000000, F64_SNAN) + i64(0, F64_SNAN)),
    ('bin', 'i16x8_q15mulr_sat_s', 'min', i16(0x8000, 0x8000, 0x7FFF, 0x8001, 0x4000, 0xC000, 1, 0xFFFF) + i16(0x8000, 0x7FFF, 0x7FFF, 0x8000, 0x4000, 0x4000, 0xFFFF, 0xFFFF)),
    ('bin', 'i8x16_narrow_i16x8_s', 'sat', i16(0x7FFF, 0x8000, 0x80, 0xFF7F, 0x7F, 0xFF80, 0, 0xFFFF) + i16(0x100, 0xFF00, 1, 0x8001, 0xFF, 0x81, 0x7FFE, 2)),
    ('bin', 'i8x16_narrow_i16x8_u', 'sat', i16(0x7FFF, 0x8000, 0x80, 0xFF7F, 0xFF, 0x100, 0, 0xFFFF) + i16(0x1FF, 0xFF00, 1, 0x8001, 0xFE, 0x81, 0x7FFE, 2)),
    ('bin', 'i16x8_narrow_i32x4_u', 'sat', i32(0xFFFFFFFF, 0x10000, 0xFFFF, 0x80000000) + i32(0x7FFFFFFF, 0x8000, 0x7FFF, 1)),
    ('bin', 'i16x8_narrow_i32x4_s', 'sat', i32(0xFFFF8000, 0x8000, 0xFFFF7FFF, 0x7FFFFFFF) + i32(0x80000000, 0x7FFF, 0xFFFFFFFF, 0)),
    ('bin', 'i8x16_swizzle', 'out-of-range', i8(*range(16)) + i8(0, 15, 16, 0x80, 0xFF, 0x7F, 31, 17, 1, 14, 0x8F, 0x10, 2, 3, 0x40, 13)),
    ('bin', 'i64x2_mul', 'wrap', i64(0xFFFFFFFFFFFFFFFF, 0x100000001) + i64(0x8000000000000001, 0xFFFFFFFF)),
    ('bin', 'i32x4_mul', 'wrap', i32(0xFFFFFFFF, 0x10001, 0x80000000, 0x7FFFFFFF) + i32(0x80000001, 0xFFFF, 2, 0x7FFFFFFF)),
    ('bin', 'i32x4_dot_i16x8_s', 'min', i16(0x8000) + i16(0x8000)),
    ('bin', 'i8x16_avgr_u', 'max', i8(0xFF, 0xFE, 0, 1) + i8(0xFF, 0xFF, 1, 0)),
    ('bin', 'i64x2_lt_s', 'signs', i64(0x8000000000000000, 0x7FFFFFFFFFFFFFFF) + i64(0x7FFFFFFFFFFFFFFF, 0x8000000000000000)),
    ('bin', 'i64x2_ge_s', 'signs', i64(0xFFFFFFFF, 0x8000000000000000) + i64(0x100000000, 0x8000000000000000)),
    ('bin', 'i32x4_gt_u', 'signs', i32(0x80000000, 0, 0xFFFFFFFF, 1) + i32(0x7FFFFFFF, 0xFFFFFFFF, 0, 1)),
    ('bin', 'i32x4_min_u', 'signs', i32(0x80000000, 0, 0xFFFFFFFF, 1) + i32(0x7FFFFFFF, 0xFFFFFFFF, 0, 1)),
    ('bin', 'i16x8_sub_sat_s', 'min', i16(0x8000, 0x7FFF, 0, 0xFFFF) + i16(1, 0xFFFF, 0x8000, 0x7FFF)),
    ('bin', 'i8x16_add_sat_u', 'max', i8(0xFF, 0x80, 0x7F, 0) + i8(1, 0x80, 0x81, 0xFF)),
    ('bin', 'i64x2_extmul_high_i32x4_s', 'min', i32(1, 2, 0x80000000, 0x80000000) + i32(3, 4, 0x80000000, 0x7FFFFFFF)),
    ('bin', 'i64x2_extmul_low_i32x4_u', 'max', i32(0xFFFFFFFF, 0x80000000, 0, 0) + i32(0xFFFFFFFF, 2, 0, 0)),
    ('bin', 'v128_andnot', 'bits', i64(0xFF00FF00F0F0CCAA, 0x0123456789ABCDEF) + i64(0x0F0F0F0F0F0F0F0F, 0xFFFFFFFF00000000)),
    # ternary
    ('tern', 'v128_bitselect', 'mask', i64(0x0123456789ABCDEF, 0xFFFFFFFFFFFFFFFF) + i64(0xFEDCBA9876543210, 0) + i64(0xFF00FF00FF00FF00, 0x8000000000000001)),
    # tests (v128 -> i32)
    ('test', 'v128_any_true', 'zero', i8(0)),
    ('test', 'v128_any_true', 'top-bit', i64(0, 0x8000000000000000)),
    ('test', 'i8x16_all_true', 'one-zero', i8(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0)),
    ('test', 'i16x8_all_true', 'high-bytes', i16(0x100, 0x8000, 1, 0xFF00, 0x0001, 0x0100, 0x1000, 0x0010)),
    ('test', 'i32x4_all_true', 'bytes', i32(1, 0x100, 0x10000, 0x1000000)),
    ('test', 'i64x2_all_true', 'halves', i64(0x100000000, 1)),
    ('test', 'i8x16_bitmask', 'signs', i8(0x80, 0x7F, 0xFF, 0, 0x81, 1, 0xC0, 0x40)),
    ('test', 'i16x8_bitmask', 'signs', i16(0x8000, 0x7FFF, 0xFFFF, 0, 0x80, 0x8080, 0xFF7F, 1)),
    ('test', 'i32x4_bitmask', 'signs', i32(0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 0x80)),
    ('test', 'i64x2_bitmask', 'signs', i64(0x8000000000000000, 0x7FFFFFFFFFFFFFFF)),
    # shifts: counts at, beyond and far beyond the lane width
    ('shift', 'i8x16_shr_s', 'count-ffffffff', i8(0x80, 0x7F, 0xFF, 0x01, 0xC0) + count(0xFFFFFFFF)),
    ('shift', 'i8x16_shl', 'count-9', i8(0x81, 0x7F, 0xFF, 0x01) + count(9)),
    ('shift', 'i8x16_shr_u', 'count-15', i8(0x80, 0xFF, 0x7F, 0x01) + count(15)),
    ('shift', 'i16x8_shr_s', 'count-31', i16(0x8000, 0x7FFF, 0xFFFF, 1) + count(31)),
    ('shift', 'i16x8_shr_u', 'count-17', i16(0x8000, 0x7FFF, 0xFFFF, 1) + count(17)),
    ('shift', 'i32x4_shr_s', 'count-8000001f', i32(0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 1) + count(0x8000001F)),
    ('shift', 'i32x4_shl', 'count-32', i32(0x80000001, 0x7FFFFFFF, 0xFFFFFFFF, 1) + count(32)),
    ('shift', 'i64x2_shr_s', 'count-65', i64(0x8000000000000000, 0x7FFFFFFFFFFFFFFF) + count(65)),
    ('shift', 'i64x2_shl', 'count-64', i64(0x8000000000000001, 0xFFFFFFFFFFFFFFFF) + count(64)),
    ('shift', 'i64x2_shr_u', 'count-127', i64(0x8000000000000000, 0xFFFFFFFFFFFFFFFF) + count(127)),
    # splats: only the low bits of the scalar count; float splats keep NaN bits
    ('splat', 'i8x16_splat', 'high-bits', struct.pack('<Q', 0x123456789ABCDEFF)),
    ('splat', 'i16x8_splat', 'high-bits', struct.pack('<Q', 0xFFFFFFFFFFFF8001)),
    ('splat', 'i32x4_splat', 'high-bits', struct.pack('<Q', 0xDEADBEEF80000001)),
    ('splat', 'i64x2_splat', 'min', struct.pack('<Q', 0x8000000000000000)),
    ('splat', 'f32x4_splat', 'snan', struct.pack('<Q', 0xDEADBEEF7FA00001)),
    ('splat', 'f64x2_splat', 'snan', struct.pack('<Q', 0xFFF4000000000001)),
]

# loads: every one, with sign bits set and at varied misalignments (header byte 2)
LOAD_BYTES = bytes([0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0xFF, 0x01, 0x7F, 0xFE, 0x00, 0xC0, 0x40, 0x9A])
LOADS = ['v128_load', 'v128_load8x8_s', 'v128_load8x8_u', 'v128_load16x4_s', 'v128_load16x4_u', 'v128_load32x2_s',
         'v128_load32x2_u', 'v128_load8_splat', 'v128_load16_splat', 'v128_load32_splat', 'v128_load64_splat',
         'v128_load32_zero', 'v128_load64_zero']

SHUFFLES = [
    ('identity', bytes(range(16))),
    ('reverse', bytes(range(31, 15, -1))),
    ('interleave', bytes([0, 16, 1, 17, 15, 31, 7, 23, 0, 0, 31, 31, 8, 24, 3, 19])),
    ('mod-32', bytes([32, 63, 0xFF, 0xE0, 48, 47, 64, 95, 200, 33, 0x7F, 0x80, 16, 31, 1, 255])),
]

def write(out_dir, fams, family, op, tag, operands, offset=0):
    f = SHORT.index(family)
    names = fams[f]
    if op not in names:
        sys.exit('%s: no operation %s in the %s family' % (sys.argv[1], op, family))
    data = bytes([f, names.index(op), offset]) + operands
    name = '%s-%s' % (family, tag) if family == 'shuffle' else '%s-%s-%s' % (family, op, tag)
    with open(os.path.join(out_dir, name), 'wb') as fh:
        fh.write(data)

def main():
    fams = families(sys.argv[1])
    out_dir = sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    for family, op, tag, operands in SEEDS:
        write(out_dir, fams, family, op, tag, operands)
    for k, op in enumerate(LOADS):
        write(out_dir, fams, 'load', op, 'offset%d' % (k * 5 % 16), LOAD_BYTES, k * 5 % 16)
    a, b = bytes(range(0x60, 0x70)), bytes(range(0xF0, 0x100))
    for tag, sel in SHUFFLES:
        write(out_dir, fams, 'shuffle', 'i8x16_shuffle', tag, a + b + sel)

main()
