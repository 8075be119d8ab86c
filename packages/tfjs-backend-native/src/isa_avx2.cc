// AVX2 + FMA kernels (8 floats per vector).
#include <immintrin.h>
#include <math.h>
#include "kernels.h"

#define VBROADCAST(x) _mm256_set1_ps(x)
#define VLEN 8
#define MR_WIDE 6
#define MR_NARROW 12
#define ITILE_L 6, 2
#define ITILE_M 6, 2
#define ITILE_S 8, 1
#define OTILE_L 6, 2
#define OTILE_M 6, 2
#define OTILE_S 12, 1

namespace dlopt {
namespace isa_avx2 {
#include "kernels/all.inc"
}  // namespace isa_avx2

void fill_table_avx2(KernelTable* t) { isa_avx2::fill(t, "avx2"); }
}  // namespace dlopt
