// Portable kernels (4 floats per vector: SSE2 on x86-64, NEON on arm64), the
// baseline every CPU runs and the reference the faster tables are tested against.
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define VBROADCAST(x) _mm_set1_ps(x)
#elif defined(__aarch64__)
#include <arm_neon.h>
#define VBROADCAST(x) vdupq_n_f32(x)
#else
#define VBROADCAST(x) (vf{} + (x))
#endif
#include "kernels.h"

#define VLEN 4
#define MR_WIDE 6
#define MR_NARROW 8
#define ITILE_L 6, 2
#define ITILE_M 6, 2
#define ITILE_S 8, 1
#define OTILE_L 6, 2
#define OTILE_M 6, 2
#define OTILE_S 8, 1

namespace dlopt {
namespace isa_generic {
#include "kernels/all.inc"
}  // namespace isa_generic

void fill_table_generic(KernelTable* t) { isa_generic::fill(t, "generic"); }
}  // namespace dlopt
