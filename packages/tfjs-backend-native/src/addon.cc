// Node-API entry points: one function per kernel. JavaScript allocates every
// output and passes typed arrays (no copies: their memory is used in place)
// plus plain numbers; C++ creates no JS objects on the hot path. Each entry
// checks array lengths against the geometry it is given, so a mistake in the
// caller is a JS exception, never a write out of bounds.
#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include <napi.h>

#include "kernels.h"

namespace dlopt {
namespace {

// Kernels share per-thread scratch buffers: run one at a time per process
// (worker_threads may call in concurrently).
std::mutex g_kernel_mutex;

// Flush denormals to zero for the duration of a kernel on the calling thread,
// restoring JavaScript's IEEE behaviour afterwards.
struct CallScope {
  std::lock_guard<std::mutex> lock{g_kernel_mutex};
#if defined(__x86_64__) || defined(__i386__)
  unsigned int saved = _mm_getcsr();
  CallScope() { _mm_setcsr(saved | 0x8040); }
  ~CallScope() { _mm_setcsr(saved); }
#endif
};

bool fail(const Napi::CallbackInfo& info, const char* message) {
  Napi::TypeError::New(info.Env(), message).ThrowAsJavaScriptException();
  return false;
}

struct F32 {
  float* data = nullptr;
  i64 length = 0;
};

bool f32(const Napi::CallbackInfo& info, size_t i, F32* out, bool optional = false) {
  if (optional && (info[i].IsNull() || info[i].IsUndefined())) return true;
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    return fail(info, "expected a Float32Array argument");
  Napi::Float32Array a = info[i].As<Napi::Float32Array>();
  out->data = a.Data();
  out->length = (i64)a.ElementLength();
  return true;
}

bool i32array(const Napi::CallbackInfo& info, size_t i, int32_t** data, i64* length) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    return fail(info, "expected an Int32Array argument");
  Napi::Int32Array a = info[i].As<Napi::Int32Array>();
  *data = a.Data();
  *length = (i64)a.ElementLength();
  return true;
}

i64 num(const Napi::CallbackInfo& info, size_t i) { return (i64)info[i].As<Napi::Number>().Int64Value(); }
float numf(const Napi::CallbackInfo& info, size_t i) { return (float)info[i].As<Napi::Number>().DoubleValue(); }

bool need(const Napi::CallbackInfo& info, const F32& a, i64 elements, const char* what) {
  if (elements < 0 || a.length < elements) {
    std::string m = std::string(what) + " is too small for the shape given";
    Napi::RangeError::New(info.Env(), m).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kernels().isa); }

Napi::Value AvailableIsas(const Napi::CallbackInfo& info) {
  Napi::Array list = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (const char* const* p = available_isas(); *p; p++) list.Set(i++, Napi::String::New(info.Env(), *p));
  return list;
}

Napi::Value SelectIsa(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Boolean::New(info.Env(), select_isa(name.c_str()));
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

// gemm(a, b, c, bias|null, dims Int32Array[12], act, alpha, accumulate)
// dims: m, n, k, a_rs, a_cs, b_rs, b_cs, ldc, batch, a_bs, b_bs, c_bs
void Gemm(const Napi::CallbackInfo& info) {
  F32 a, b, c, bias;
  int32_t* d;
  i64 dn;
  if (!f32(info, 0, &a) || !f32(info, 1, &b) || !f32(info, 2, &c) || !f32(info, 3, &bias, true) ||
      !i32array(info, 4, &d, &dn))
    return;
  if (dn != 12) return (void)fail(info, "gemm: dims must have 12 entries");
  GemmArgs g;
  g.m = d[0], g.n = d[1], g.k = d[2], g.a_rs = d[3], g.a_cs = d[4], g.b_rs = d[5], g.b_cs = d[6], g.ldc = d[7];
  g.batch = d[8], g.a_bs = d[9], g.b_bs = d[10], g.c_bs = d[11];
  if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 1) return (void)fail(info, "gemm: bad dims");
  // Largest element index touched in each matrix (strides are non-negative).
  auto extent = [](i64 rows, i64 cols, i64 rs, i64 cs, i64 batch, i64 bs) {
    if (rows == 0 || cols == 0) return (i64)0;
    return (rows - 1) * rs + (cols - 1) * cs + (batch - 1) * bs + 1;
  };
  if (!need(info, a, extent(g.m, g.k, g.a_rs, g.a_cs, g.batch, g.a_bs), "gemm: a") ||
      !need(info, b, extent(g.k, g.n, g.b_rs, g.b_cs, g.batch, g.b_bs), "gemm: b") ||
      !need(info, c, extent(g.m, g.n, g.ldc, 1, g.batch, g.c_bs), "gemm: c"))
    return;
  if (bias.data && !need(info, bias, g.n, "gemm: bias")) return;
  g.a = a.data, g.b = b.data, g.c = c.data, g.bias = bias.data;
  g.act = (int32_t)num(info, 5);
  g.alpha = numf(info, 6);
  g.accumulate = info[7].ToBoolean().Value() ? 1 : 0;
  CallScope scope;
  kernels().gemm(g);
}

bool conv_geom(const Napi::CallbackInfo& info, size_t i, ConvGeom* g) {
  int32_t* d;
  i64 n;
  if (!i32array(info, i, &d, &n)) return false;
  if (n != 15) return fail(info, "conv geometry must have 15 entries");
  *g = ConvGeom{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14]};
  for (int k = 0; k < 13; k++)
    if (d[k] < 0) return fail(info, "conv geometry has a negative size");
  if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) return fail(info, "conv strides and dilations must be >= 1");
  return true;
}

// conv2d(x, w, bias|null, y, geom, act, alpha)
void Conv2d(const Napi::CallbackInfo& info) {
  ConvArgs a{};
  F32 x, w, bias, y;
  if (!f32(info, 0, &x) || !f32(info, 1, &w) || !f32(info, 2, &bias, true) || !f32(info, 3, &y) ||
      !conv_geom(info, 4, &a.g))
    return;
  const ConvGeom& g = a.g;
  if (!need(info, x, g.n * g.h * g.w * g.c, "conv2d: x") || !need(info, w, g.kh * g.kw * g.c * g.k, "conv2d: filter") ||
      !need(info, y, g.n * g.oh * g.ow * g.k, "conv2d: y") || (bias.data && !need(info, bias, g.k, "conv2d: bias")))
    return;
  a.x = x.data, a.w = w.data, a.bias = bias.data, a.out = y.data;
  a.act = (int32_t)num(info, 5);
  a.alpha = numf(info, 6);
  CallScope scope;
  kernels().conv2d(a);
}

// Optional trailing arguments of the backward convolutions: (y|null, act, alpha): dy is the gradient of
// act(conv) and is first multiplied by act'(y).
bool grad_act(const Napi::CallbackInfo& info, size_t i, ConvArgs* a, i64 y_size) {
  if (info.Length() <= i) return true;
  F32 y;
  if (!f32(info, i, &y, true)) return false;
  if (!y.data) return true;
  if (!need(info, y, y_size, "conv backprop: y")) return false;
  a->y = y.data;
  a->act = (int32_t)num(info, i + 1);
  a->alpha = numf(info, i + 2);
  return true;
}

// conv2dBackpropInput(dy, w, dx, geom, [y|null, act, alpha])
void Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  ConvArgs a{};
  F32 dy, w, dx;
  if (!f32(info, 0, &dy) || !f32(info, 1, &w) || !f32(info, 2, &dx) || !conv_geom(info, 3, &a.g)) return;
  if (!grad_act(info, 4, &a, a.g.n * a.g.oh * a.g.ow * a.g.k)) return;
  const ConvGeom& g = a.g;
  if (!need(info, dy, g.n * g.oh * g.ow * g.k, "conv2dBackpropInput: dy") ||
      !need(info, w, g.kh * g.kw * g.c * g.k, "conv2dBackpropInput: filter") ||
      !need(info, dx, g.n * g.h * g.w * g.c, "conv2dBackpropInput: dx"))
    return;
  a.dy = dy.data, a.w = w.data, a.out = dx.data;
  CallScope scope;
  kernels().conv2d_backprop_input(a);
}

// conv2dBackpropFilter(x, dy, dw, geom, [y|null, act, alpha, dbias|null])
void Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  ConvArgs a{};
  F32 x, dy, dw, db;
  if (!f32(info, 0, &x) || !f32(info, 1, &dy) || !f32(info, 2, &dw) || !conv_geom(info, 3, &a.g)) return;
  if (!grad_act(info, 4, &a, a.g.n * a.g.oh * a.g.ow * a.g.k)) return;
  if (info.Length() > 7 && !f32(info, 7, &db, true)) return;
  if (db.data && !need(info, db, a.g.k, "conv2dBackpropFilter: dbias")) return;
  a.dbias = db.data;
  const ConvGeom& g = a.g;
  if (!need(info, x, g.n * g.h * g.w * g.c, "conv2dBackpropFilter: x") ||
      !need(info, dy, g.n * g.oh * g.ow * g.k, "conv2dBackpropFilter: dy") ||
      !need(info, dw, g.kh * g.kw * g.c * g.k, "conv2dBackpropFilter: dw"))
    return;
  a.x = x.data, a.dy = dy.data, a.out = dw.data;
  CallScope scope;
  kernels().conv2d_backprop_filter(a);
}

// depthwiseConv2d(x, w, bias|null, y, geom, act, alpha): geom's k is c * multiplier.
void DepthwiseConv2d(const Napi::CallbackInfo& info) {
  ConvArgs a{};
  F32 x, w, bias, y;
  if (!f32(info, 0, &x) || !f32(info, 1, &w) || !f32(info, 2, &bias, true) || !f32(info, 3, &y) ||
      !conv_geom(info, 4, &a.g))
    return;
  const ConvGeom& g = a.g;
  if (g.c == 0 || g.k % g.c != 0) return (void)fail(info, "depthwiseConv2d: k must be a multiple of c");
  if (!need(info, x, g.n * g.h * g.w * g.c, "depthwiseConv2d: x") || !need(info, w, g.kh * g.kw * g.k, "depthwiseConv2d: filter") ||
      !need(info, y, g.n * g.oh * g.ow * g.k, "depthwiseConv2d: y") || (bias.data && !need(info, bias, g.k, "depthwiseConv2d: bias")))
    return;
  a.x = x.data, a.w = w.data, a.bias = bias.data, a.out = y.data;
  a.act = (int32_t)num(info, 5);
  a.alpha = numf(info, 6);
  CallScope scope;
  kernels().depthwise_conv2d(a);
}

// depthwiseConv2dBackpropInput(dy, w, dx, geom)
void DepthwiseConv2dBackpropInput(const Napi::CallbackInfo& info) {
  ConvArgs a{};
  F32 dy, w, dx;
  if (!f32(info, 0, &dy) || !f32(info, 1, &w) || !f32(info, 2, &dx) || !conv_geom(info, 3, &a.g)) return;
  const ConvGeom& g = a.g;
  if (g.c == 0 || g.k % g.c != 0) return (void)fail(info, "depthwise backprop: k must be a multiple of c");
  if (!need(info, dy, g.n * g.oh * g.ow * g.k, "depthwise backprop: dy") || !need(info, w, g.kh * g.kw * g.k, "depthwise backprop: filter") ||
      !need(info, dx, g.n * g.h * g.w * g.c, "depthwise backprop: dx"))
    return;
  a.dy = dy.data, a.w = w.data, a.out = dx.data;
  CallScope scope;
  kernels().depthwise_conv2d_backprop_input(a);
}

// depthwiseConv2dBackpropFilter(x, dy, dw, geom)
void DepthwiseConv2dBackpropFilter(const Napi::CallbackInfo& info) {
  ConvArgs a{};
  F32 x, dy, dw;
  if (!f32(info, 0, &x) || !f32(info, 1, &dy) || !f32(info, 2, &dw) || !conv_geom(info, 3, &a.g)) return;
  const ConvGeom& g = a.g;
  if (g.c == 0 || g.k % g.c != 0) return (void)fail(info, "depthwise backprop: k must be a multiple of c");
  if (!need(info, x, g.n * g.h * g.w * g.c, "depthwise backprop: x") || !need(info, dy, g.n * g.oh * g.ow * g.k, "depthwise backprop: dy") ||
      !need(info, dw, g.kh * g.kw * g.k, "depthwise backprop: dw"))
    return;
  a.x = x.data, a.dy = dy.data, a.out = dw.data;
  CallScope scope;
  kernels().depthwise_conv2d_backprop_filter(a);
}

// batchNorm(x, mean, variance, offset|null, scale|null, eps, y, rows, c)
void BatchNorm(const Napi::CallbackInfo& info) {
  F32 x, mean, var, off, scale, y;
  if (!f32(info, 0, &x) || !f32(info, 1, &mean) || !f32(info, 2, &var) || !f32(info, 3, &off, true) ||
      !f32(info, 4, &scale, true) || !f32(info, 6, &y))
    return;
  const float eps = numf(info, 5);
  const i64 rows = num(info, 7), c = num(info, 8);
  if (rows < 0 || c < 1) return (void)fail(info, "batchNorm: bad size");
  auto param_ok = [&](const F32& p) { return !p.data || p.length == 1 || p.length == c; };
  if (!param_ok(mean) || !param_ok(var) || !param_ok(off) || !param_ok(scale) || !mean.data || !var.data)
    return (void)fail(info, "batchNorm: parameters must have 1 or c values");
  if (!need(info, x, rows * c, "batchNorm: x") || !need(info, y, rows * c, "batchNorm: y")) return;
  CallScope scope;
  kernels().batch_norm(x.data, mean.data, mean.length, var.data, var.length, off.data, off.length, scale.data, scale.length,
                       eps, y.data, rows, c);
}

// pad(x, y, shape Int32Array, before Int32Array, after Int32Array, value)
void Pad(const Napi::CallbackInfo& info) {
  F32 x, y;
  int32_t *shape, *before, *after;
  i64 rank, nb, na;
  if (!f32(info, 0, &x) || !f32(info, 1, &y) || !i32array(info, 2, &shape, &rank) || !i32array(info, 3, &before, &nb) ||
      !i32array(info, 4, &after, &na))
    return;
  if (rank < 1 || rank > kMaxRank || nb != rank || na != rank) return (void)fail(info, "pad: bad rank");
  i64 s[kMaxRank], b[kMaxRank], e[kMaxRank], in_total = 1, out_total = 1;
  for (int d = 0; d < rank; d++) {
    if (shape[d] < 0 || before[d] < 0 || after[d] < 0) return (void)fail(info, "pad: negative size");
    s[d] = shape[d], b[d] = before[d], e[d] = after[d];
    in_total *= s[d];
    out_total *= s[d] + b[d] + e[d];
  }
  if (!need(info, x, in_total, "pad: x") || !need(info, y, out_total, "pad: y")) return;
  CallScope scope;
  kernels().pad(x.data, y.data, (int32_t)rank, s, b, e, numf(info, 5));
}

bool pool_geom(const Napi::CallbackInfo& info, size_t i, PoolGeom* g) {
  int32_t* d;
  i64 n;
  if (!i32array(info, i, &d, &n)) return false;
  if (n != 14) return fail(info, "pool geometry must have 14 entries");
  *g = PoolGeom{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13]};
  for (int k = 0; k < 12; k++)
    if (d[k] < 0) return fail(info, "pool geometry has a negative size");
  if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) return fail(info, "pool strides and dilations must be >= 1");
  return true;
}

// maxPool(x, y, geom) / avgPool(x, y, geom)
template <bool MAX>
void Pool(const Napi::CallbackInfo& info) {
  PoolGeom g;
  F32 x, y;
  if (!f32(info, 0, &x) || !f32(info, 1, &y) || !pool_geom(info, 2, &g)) return;
  if (!need(info, x, g.n * g.h * g.w * g.c, "pool: x") || !need(info, y, g.n * g.oh * g.ow * g.c, "pool: y")) return;
  CallScope scope;
  (MAX ? kernels().max_pool : kernels().avg_pool)(g, x.data, y.data);
}

// maxPoolGrad(x, dy, dx, geom, [reluMask])
void MaxPoolGrad(const Napi::CallbackInfo& info) {
  PoolGeom g;
  F32 x, dy, dx;
  if (!f32(info, 0, &x) || !f32(info, 1, &dy) || !f32(info, 2, &dx) || !pool_geom(info, 3, &g)) return;
  if (!need(info, x, g.n * g.h * g.w * g.c, "maxPoolGrad: x") ||
      !need(info, dy, g.n * g.oh * g.ow * g.c, "maxPoolGrad: dy") ||
      !need(info, dx, g.n * g.h * g.w * g.c, "maxPoolGrad: dx"))
    return;
  CallScope scope;
  const bool relu_mask = info.Length() > 4 && info[4].ToBoolean().Value();
  kernels().max_pool_grad(g, x.data, dy.data, dx.data, relu_mask);
}

// avgPoolGrad(dy, dx, geom)
void AvgPoolGrad(const Napi::CallbackInfo& info) {
  PoolGeom g;
  F32 dy, dx;
  if (!f32(info, 0, &dy) || !f32(info, 1, &dx) || !pool_geom(info, 2, &g)) return;
  if (!need(info, dy, g.n * g.oh * g.ow * g.c, "avgPoolGrad: dy") || !need(info, dx, g.n * g.h * g.w * g.c, "avgPoolGrad: dx"))
    return;
  CallScope scope;
  kernels().avg_pool_grad(g, dy.data, dx.data);
}

// unary(op, x, y, p0, p1)
void Unary(const Napi::CallbackInfo& info) {
  F32 x, y;
  const i64 op = num(info, 0);
  if (!f32(info, 1, &x) || !f32(info, 2, &y)) return;
  if (op < 0 || op >= kUUnaryCount) return (void)fail(info, "unary: unknown op");
  if (!need(info, y, x.length, "unary: y")) return;
  CallScope scope;
  kernels().unary((int32_t)op, x.data, y.data, x.length, numf(info, 3), numf(info, 4));
}

// binary(op, a, b, out, shape, aStrides, bStrides)
void Binary(const Napi::CallbackInfo& info) {
  BinaryArgs p{};
  F32 a, b, out;
  int32_t *shape, *sa, *sb;
  i64 rank, na, nb;
  p.op = (int32_t)num(info, 0);
  if (!f32(info, 1, &a) || !f32(info, 2, &b) || !f32(info, 3, &out) || !i32array(info, 4, &shape, &rank) ||
      !i32array(info, 5, &sa, &na) || !i32array(info, 6, &sb, &nb))
    return;
  if (p.op < 0 || p.op >= kBBinaryCount) return (void)fail(info, "binary: unknown op");
  if (rank > kMaxRank || na != rank || nb != rank) return (void)fail(info, "binary: bad rank");
  p.rank = (int32_t)rank;
  i64 total = 1, ea = 0, eb = 0;
  for (int d = 0; d < rank; d++) {
    if (shape[d] < 0 || sa[d] < 0 || sb[d] < 0) return (void)fail(info, "binary: negative shape or stride");
    p.shape[d] = shape[d], p.a_strides[d] = sa[d], p.b_strides[d] = sb[d];
    total *= shape[d];
    if (shape[d] > 0) ea += (shape[d] - 1) * sa[d], eb += (shape[d] - 1) * sb[d];
  }
  if (total > 0 && (!need(info, a, ea + 1, "binary: a") || !need(info, b, eb + 1, "binary: b") ||
                    !need(info, out, total, "binary: out")))
    return;
  if (total == 0) return;
  p.a = a.data, p.b = b.data, p.out = out.data;
  CallScope scope;
  kernels().binary(p);
}

// reduce(kind, x, y, outer, red, inner): kind 0 sum, 1 max, 2 min
void Reduce(const Napi::CallbackInfo& info) {
  F32 x, y;
  const i64 kind = num(info, 0);
  if (!f32(info, 1, &x) || !f32(info, 2, &y)) return;
  const i64 outer = num(info, 3), red = num(info, 4), inner = num(info, 5);
  if (outer < 0 || red < 0 || inner < 0) return (void)fail(info, "reduce: negative size");
  if (!need(info, x, outer * red * inner, "reduce: x") || !need(info, y, outer * inner, "reduce: y")) return;
  CallScope scope;
  const KernelTable& k = kernels();
  (kind == 0 ? k.reduce_sum : kind == 1 ? k.reduce_max : k.reduce_min)(x.data, y.data, outer, red, inner);
}

// argMax(x, y Int32Array, outer, red, inner)
void ArgMax(const Napi::CallbackInfo& info) {
  F32 x;
  int32_t* y;
  i64 ny;
  if (!f32(info, 0, &x) || !i32array(info, 1, &y, &ny)) return;
  const i64 outer = num(info, 2), red = num(info, 3), inner = num(info, 4);
  if (outer < 0 || red < 1 || inner < 0) return (void)fail(info, "argMax: bad size");
  if (!need(info, x, outer * red * inner, "argMax: x")) return;
  if (ny < outer * inner) return (void)fail(info, "argMax: y is too small");
  CallScope scope;
  kernels().arg_max(x.data, y, outer, red, inner);
}

// softmax(x, y, rows, cols)
void Softmax(const Napi::CallbackInfo& info) {
  F32 x, y;
  if (!f32(info, 0, &x) || !f32(info, 1, &y)) return;
  const i64 rows = num(info, 2), cols = num(info, 3);
  if (rows < 0 || cols < 1) return (void)fail(info, "softmax: bad size");
  if (!need(info, x, rows * cols, "softmax: x") || !need(info, y, rows * cols, "softmax: y")) return;
  CallScope scope;
  kernels().softmax(x.data, y.data, rows, cols);
}

// transpose(x, y, shape Int32Array, perm Int32Array)
void Transpose(const Napi::CallbackInfo& info) {
  F32 x, y;
  int32_t *shape, *perm;
  i64 rank, np;
  if (!f32(info, 0, &x) || !f32(info, 1, &y) || !i32array(info, 2, &shape, &rank) || !i32array(info, 3, &perm, &np))
    return;
  if (rank < 1 || rank > kMaxRank || np != rank) return (void)fail(info, "transpose: bad rank");
  i64 s[kMaxRank], total = 1;
  bool seen[kMaxRank] = {};
  for (int d = 0; d < rank; d++) {
    if (shape[d] < 0 || perm[d] < 0 || perm[d] >= rank || seen[perm[d]]) return (void)fail(info, "transpose: bad perm");
    seen[perm[d]] = true;
    s[d] = shape[d];
    total *= shape[d];
  }
  if (!need(info, x, total, "transpose: x") || !need(info, y, total, "transpose: y")) return;
  CallScope scope;
  kernels().transpose(x.data, y.data, (int32_t)rank, s, perm);
}

// adam(w, m, v, g, wOut, mOut, vOut, params Float64Array[8]: lr, beta1, beta2, c1, c2, eps, bias1, bias2)
void Adam(const Napi::CallbackInfo& info) {
  F32 w, m, v, g, wo, mo, vo;
  if (!f32(info, 0, &w) || !f32(info, 1, &m) || !f32(info, 2, &v) || !f32(info, 3, &g) || !f32(info, 4, &wo) ||
      !f32(info, 5, &mo) || !f32(info, 6, &vo))
    return;
  if (!need(info, m, w.length, "adam: m") || !need(info, v, w.length, "adam: v") || !need(info, g, w.length, "adam: g") ||
      !need(info, wo, w.length, "adam: wOut") || !need(info, mo, w.length, "adam: mOut") ||
      !need(info, vo, w.length, "adam: vOut"))
    return;
  if (!info[7].IsTypedArray() || info[7].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[7].As<Napi::Float64Array>().ElementLength() != 8)
    return (void)fail(info, "adam: params must be a Float64Array of 8");
  const double* p = info[7].As<Napi::Float64Array>().Data();
  AdamArgs a{w.data, m.data, v.data, g.data, wo.data, mo.data, vo.data, w.length,
             (float)p[0], (float)p[1], (float)p[2], (float)p[3], (float)p[4], (float)p[5], (float)p[6], (float)p[7]};
  CallScope scope;
  kernels().adam(a);
}

// actGrad(act, alpha, dy, y, dx, dbias|null, rows, c)
void ActGrad(const Napi::CallbackInfo& info) {
  F32 dy, y, dx, db;
  const i64 act = num(info, 0);
  const float alpha = numf(info, 1);
  if (!f32(info, 2, &dy) || !f32(info, 3, &y) || !f32(info, 4, &dx) || !f32(info, 5, &db, true)) return;
  const i64 rows = num(info, 6), c = num(info, 7);
  if (rows < 0 || c < 1) return (void)fail(info, "actGrad: bad size");
  if (!need(info, dy, rows * c, "actGrad: dy") || !need(info, y, rows * c, "actGrad: y") ||
      !need(info, dx, rows * c, "actGrad: dx") || (db.data && !need(info, db, c, "actGrad: dbias")))
    return;
  CallScope scope;
  kernels().act_grad((int32_t)act, alpha, dy.data, y.data, dx.data, db.data, rows, c);
}

// bnSums(a, ca|null, b|null, cb|null, s1, s2, rows, c)
void BnSums(const Napi::CallbackInfo& info) {
  F32 a, ca, b, cb, s1, s2;
  if (!f32(info, 0, &a) || !f32(info, 1, &ca, true) || !f32(info, 2, &b, true) || !f32(info, 3, &cb, true) ||
      !f32(info, 4, &s1) || !f32(info, 5, &s2))
    return;
  const i64 rows = num(info, 6), c = num(info, 7);
  if (rows < 0 || c < 1) return (void)fail(info, "bnSums: bad size");
  if (!need(info, a, rows * c, "bnSums: a") || (b.data && !need(info, b, rows * c, "bnSums: b")) ||
      (ca.data && !need(info, ca, c, "bnSums: ca")) || (cb.data && !need(info, cb, c, "bnSums: cb")) ||
      !need(info, s1, c, "bnSums: s1") || !need(info, s2, c, "bnSums: s2"))
    return;
  CallScope scope;
  kernels().bn_sums(a.data, ca.data, b.data, cb.data, s1.data, s2.data, rows, c);
}

// bnAffine2(dy, x, p, q, r, out, rows, c)
void BnAffine2(const Napi::CallbackInfo& info) {
  F32 dy, x, p, q, r, out;
  if (!f32(info, 0, &dy) || !f32(info, 1, &x) || !f32(info, 2, &p) || !f32(info, 3, &q) || !f32(info, 4, &r) || !f32(info, 5, &out))
    return;
  const i64 rows = num(info, 6), c = num(info, 7);
  if (rows < 0 || c < 1) return (void)fail(info, "bnAffine2: bad size");
  if (!need(info, dy, rows * c, "bnAffine2: dy") || !need(info, x, rows * c, "bnAffine2: x") || !need(info, out, rows * c, "bnAffine2: out") ||
      !need(info, p, c, "bnAffine2: p") || !need(info, q, c, "bnAffine2: q") || !need(info, r, c, "bnAffine2: r"))
    return;
  CallScope scope;
  kernels().bn_affine2(dy.data, x.data, p.data, q.data, r.data, out.data, rows, c);
}

// fmaPeak(iters) → FLOPs done by every pool thread (time it from JavaScript).
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  const i64 iters = num(info, 0);
  CallScope scope;
  return Napi::Number::New(info.Env(), kernels().fma_peak(iters < 1 ? 1 : iters));
}

// gatherU8(src Uint8Array, index Uint32Array, size, scale, dst Float32Array)
void GatherU8(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    return (void)fail(info, "gatherU8: src must be a Uint8Array");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    return (void)fail(info, "gatherU8: index must be a Uint32Array");
  Napi::Uint8Array src = info[0].As<Napi::Uint8Array>();
  Napi::Uint32Array index = info[1].As<Napi::Uint32Array>();
  const i64 size = num(info, 2);
  const float scale = numf(info, 3);
  F32 dst;
  if (!f32(info, 4, &dst)) return;
  const i64 rows = (i64)index.ElementLength(), count = size > 0 ? (i64)src.ElementLength() / size : 0;
  if (size < 1 || !need(info, dst, rows * size, "gatherU8: dst")) return;
  for (i64 r = 0; r < rows; r++)
    if ((i64)index.Data()[r] >= count) return (void)fail(info, "gatherU8: index out of range");
  CallScope scope;
  kernels().gather_u8(src.Data(), index.Data(), rows, size, scale, dst.data);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("isa", Napi::Function::New(env, Isa));
  exports.Set("availableIsas", Napi::Function::New(env, AvailableIsas));
  exports.Set("selectIsa", Napi::Function::New(env, SelectIsa));
  exports.Set("numThreads", Napi::Function::New(env, NumThreads));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter));
  exports.Set("depthwiseConv2d", Napi::Function::New(env, DepthwiseConv2d));
  exports.Set("depthwiseConv2dBackpropInput", Napi::Function::New(env, DepthwiseConv2dBackpropInput));
  exports.Set("depthwiseConv2dBackpropFilter", Napi::Function::New(env, DepthwiseConv2dBackpropFilter));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("maxPool", Napi::Function::New(env, Pool<true>));
  exports.Set("avgPool", Napi::Function::New(env, Pool<false>));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGrad));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("argMax", Napi::Function::New(env, ArgMax));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("actGrad", Napi::Function::New(env, ActGrad));
  exports.Set("bnSums", Napi::Function::New(env, BnSums));
  exports.Set("bnAffine2", Napi::Function::New(env, BnAffine2));
  exports.Set("gatherU8", Napi::Function::New(env, GatherU8));
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak));
  return exports;
}

}  // namespace
}  // namespace dlopt

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return dlopt::Init(env, exports); }
NODE_API_MODULE(dlopt_native, InitModule)
