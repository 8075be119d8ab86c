// AVX-512 kernels (16 floats per vector). Compiled with -mavx512f and friends;
// only called when the CPU and OS support AVX-512 (see dispatch.cc).
#include <immintrin.h>
#include <math.h>
#include "kernels.h"

#define VBROADCAST(x) _mm512_set1_ps(x)
#define VLEN 16
#define MR_WIDE 12
#define MR_NARROW 24
#define ITILE_L 6, 4
#define ITILE_M 8, 2
#define ITILE_S 8, 1
#define OTILE_L 6, 4
#define OTILE_M 14, 2
#define OTILE_S 24, 1

namespace dlopt {
namespace isa_avx512 {
#include "kernels/all.inc"
}  // namespace isa_avx512

void fill_table_avx512(KernelTable* t) { isa_avx512::fill(t, "avx512"); }
}  // namespace dlopt
