/* One accelerated form of src/wasm/simd.h as a table: built once per instruction set, with the
 * flags that select it (-msse4.1 or not) and SIMD_FORM naming the table. */
#include "simd_fuzz.h"

#ifndef SIMD_FORM
#error "SIMD_FORM names the table (see tests/wasm/CMakeLists.txt)"
#endif

const struct simd_impl SIMD_FORM = SIMD_IMPL_INIT;
