// The kernel table: every native kernel, as a function pointer filled in by the
// ISA translation unit chosen at load time (AVX-512, AVX2+FMA, or portable).
// Arguments are plain structs so the table has one simple, stable shape.
#pragma once
#include "common.h"

namespace dlopt {

// Fused activations applied in GEMM/conv epilogues and by the unary kernel.
enum Act : int32_t { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3, kElu = 4, kSigmoid = 5 };

// C[m x n] (+)= A[m x k] * B[k x n] (+ bias[n]), then activation. Element (i, j)
// of A is a[i * a_rs + j * a_cs]; same for B. C is row-major with leading
// dimension ldc. With batch > 1, matrices advance by the *_bs strides
// (0 broadcasts one matrix over the batch).
struct GemmArgs {
  const float* a;
  const float* b;
  float* c;
  i64 m, n, k;
  i64 a_rs, a_cs, b_rs, b_cs, ldc;
  i64 batch, a_bs, b_bs, c_bs;
  const float* bias;  // n values or null
  int32_t act;
  float alpha;  // leaky relu slope
  int32_t accumulate;  // add to C instead of overwriting it
};

// 2-D convolution geometry, NHWC input x[n][h][w][c], filter w[kh][kw][c][k]
// (tfjs's HWIO), output y[n][oh][ow][k]. Padding is TF's: pad_t/pad_l zeros
// before the first row/column (asymmetric 'same' padding puts the extra one
// at the bottom/right, which needs no explicit number here).
struct ConvGeom {
  i64 n, h, w, c;
  i64 oh, ow, k;
  i64 kh, kw;
  i64 sh, sw;
  i64 dh, dw;
  i64 pad_t, pad_l;
};

struct ConvArgs {
  ConvGeom g;
  const float* x;     // forward input / backward-filter input
  const float* w;     // filter
  const float* dy;    // gradient of the output (backward)
  float* out;         // y, dx or dw
  const float* bias;  // forward only, k values or null
  int32_t act;        // forward: activation applied; backward: activation dy flows back through (with y)
  float alpha;
  // Backward only: the forward output y, when dy is the gradient of act(conv + bias) and must first be
  // multiplied by act'(y) (null: dy is the convolution's own gradient).
  const float* y;
  // Backward filter only: also the bias gradient (sum of the pre-activation gradient over pixels), k values.
  float* dbias;
};

// Pooling geometry (NHWC, per channel).
struct PoolGeom {
  i64 n, h, w, c;
  i64 oh, ow;
  i64 kh, kw;
  i64 sh, sw;
  i64 dh, dw;
  i64 pad_t, pad_l;
};

enum UnaryOp : int32_t {
  kUAbs, kUNeg, kURelu, kURelu6, kUStep, kUSquare, kUSqrt, kURsqrt, kUExp, kULog, kUSigmoid, kUTanh,
  kULeakyRelu, kUElu, kUReciprocal, kUFloor, kUCeil, kURound, kUSign, kULog1p, kUExpm1, kUSoftplus,
  kUSin, kUCos, kUClip, kUUnaryCount
};

enum BinaryOp : int32_t {
  kBAdd, kBSub, kBMul, kBDiv, kBMax, kBMin, kBPow, kBSquaredDiff, kBReluGrad, kBEluGrad, kBBinaryCount
};

// Elementwise binary op with broadcasting over up to kMaxRank dims: out has
// `shape`; a and b are read with their own strides (0 on broadcast dims).
enum { kMaxRank = 6 };
struct BinaryArgs {
  const float* a;
  const float* b;
  float* out;
  int32_t rank;
  i64 shape[kMaxRank];
  i64 a_strides[kMaxRank];
  i64 b_strides[kMaxRank];
  int32_t op;
};

struct AdamArgs {
  const float *w, *m, *v, *g;
  float *w_out, *m_out, *v_out;
  i64 n;
  // c1 = 1 - beta1 and c2 = 1 - beta2 as JavaScript computes them (in double, then rounded).
  float lr, beta1, beta2, c1, c2, eps, bias1, bias2;
};

struct KernelTable {
  const char* isa;
  void (*gemm)(const GemmArgs&);
  void (*conv2d)(const ConvArgs&);
  void (*conv2d_backprop_input)(const ConvArgs&);
  void (*conv2d_backprop_filter)(const ConvArgs&);
  // Depthwise convolution: ConvGeom with k = c * channel multiplier; filter [kh][kw][c][m].
  void (*depthwise_conv2d)(const ConvArgs&);
  void (*depthwise_conv2d_backprop_input)(const ConvArgs&);
  void (*depthwise_conv2d_backprop_filter)(const ConvArgs&);
  // Batch normalisation (inference form) over the last axis; parameters of size 1 broadcast.
  void (*batch_norm)(const float* x, const float* mean, i64 nmean, const float* var, i64 nvar, const float* offset,
                     i64 noff, const float* scale, i64 nscale, float eps, float* y, i64 rows, i64 c);
  void (*pad)(const float* x, float* y, int32_t rank, const i64* shape, const i64* before, const i64* after, float value);
  void (*max_pool)(const PoolGeom&, const float* x, float* y);
  // relu_mask: x is a relu output and the gradient should also go back through that relu: a
  // window's gradient is dropped when its maximum is not positive.
  void (*max_pool_grad)(const PoolGeom&, const float* x, const float* dy, float* dx, bool relu_mask);
  void (*avg_pool)(const PoolGeom&, const float* x, float* y);
  void (*avg_pool_grad)(const PoolGeom&, const float* dy, float* dx);
  void (*unary)(int32_t op, const float* x, float* y, i64 n, float p0, float p1);
  void (*binary)(const BinaryArgs&);
  // Reductions over the middle axis of a [outer][red][inner] view.
  void (*reduce_sum)(const float* x, float* y, i64 outer, i64 red, i64 inner);
  void (*reduce_max)(const float* x, float* y, i64 outer, i64 red, i64 inner);
  void (*reduce_min)(const float* x, float* y, i64 outer, i64 red, i64 inner);
  void (*arg_max)(const float* x, int32_t* y, i64 outer, i64 red, i64 inner);
  void (*softmax)(const float* x, float* y, i64 rows, i64 cols);
  void (*transpose)(const float* x, float* y, int32_t rank, const i64* shape, const int32_t* perm);
  // One Adam step for one variable, in tfjs's float32 operation order (see eltwise.inc).
  void (*adam)(const AdamArgs&);
  // Gradient through a fused activation: dx = dy * act'(y) for rows x C values,
  // and, when dbias is not null, dbias[c] = sum over rows of dx.
  void (*act_grad)(int32_t act, float alpha, const float* dy, const float* y, float* dx, float* dbias, i64 rows, i64 c);
  // Batch-norm training over [rows][c]: s1 = sum of a, s2 = sum of (a - ca)(b - cb) per channel
  // (b null: b = a, cb = ca; a null centre is 0); and out = p*dy + q*x + r per channel.
  void (*bn_sums)(const float* a, const float* ca, const float* b, const float* cb, float* s1, float* s2, i64 rows, i64 c);
  void (*bn_affine2)(const float* dy, const float* x, const float* p, const float* q, const float* r, float* out, i64 rows, i64 c);
  // Runs `iters` rounds of independent vector FMAs on every pool thread; returns the FLOPs done.
  // Benchmarks divide by the time taken: the machine's FMA peak, measured next to the kernels.
  double (*fma_peak)(i64 iters);
  // dst[i][k] = src[index[i]][k] * scale for rows of `size` bytes: a batch of uint8 images as floats.
  void (*gather_u8)(const uint8_t* src, const uint32_t* index, i64 rows, i64 size, float scale, float* dst);
};

void fill_table_generic(KernelTable* t);
#if defined(__x86_64__)
void fill_table_avx2(KernelTable* t);
void fill_table_avx512(KernelTable* t);
#endif

// The table in use (chosen once by dispatch.cc).
const KernelTable& kernels();
// Which ISA tables this CPU can run, most capable first (for tests and benchmarks).
const char* const* available_isas();
// Forces a table by name ("avx512", "avx2", "generic"); false if this CPU cannot run it.
bool select_isa(const char* name);

}  // namespace dlopt
