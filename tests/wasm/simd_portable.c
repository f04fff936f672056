/* The portable forms of src/wasm/simd.h, for test_simd_ops' differential test. */
#define SB_SIMD_PORTABLE 1
#include "simd_tables.h"

const struct simd_impl simd_portable_impl = SIMD_IMPL_INIT;
