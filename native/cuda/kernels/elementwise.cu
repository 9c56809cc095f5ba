// Elementwise kernels: copy/cast, fill, unary, binary (tensor and scalar operand), where, clamp. Each family has
// float32 and float64 kernels that compute in their own type, and an `_any` kernel that reads every dtype as a
// double and stores it with castValue's semantics (the reference backend's arithmetic, exactly). Views are KGeom
// structs; rank 0 marks a contiguous view, so one kernel serves both layouts.
#include "common.cuh"

// Op codes: src/backends/cuda/kernels_elementwise.ts (UNARY_CODES, BINARY_CODES) numbers them the same way.
#define U_NEG 0
#define U_EXP 1
#define U_LOG 2
#define U_SQRT 3
#define U_RSQRT 4
#define U_ABS 5
#define U_RELU 6
#define U_GELU 7
#define U_SIGMOID 8
#define U_TANH 9
#define U_RECIPROCAL 10
#define U_SQUARE 11
#define U_SIN 12
#define U_COS 13
#define U_SIGN 14
#define U_FLOOR 15
#define U_CEIL 16
#define U_ROUND 17

#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_POW 4
#define B_MAXIMUM 5
#define B_MINIMUM 6
#define B_EQ 7
#define B_NE 8
#define B_GT 9
#define B_LT 10
#define B_GE 11
#define B_LE 12
#define B_RELU_GRAD 13
#define B_GELU_GRAD 14

__device__ __forceinline__ float ew_exp(float x) { return expf(x); }
__device__ __forceinline__ double ew_exp(double x) { return exp(x); }
__device__ __forceinline__ float ew_log(float x) { return logf(x); }
__device__ __forceinline__ double ew_log(double x) { return log(x); }
__device__ __forceinline__ float ew_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double ew_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float ew_erf(float x) { return erff(x); }
__device__ __forceinline__ double ew_erf(double x) { return erf(x); }
__device__ __forceinline__ float ew_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double ew_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float ew_sin(float x) { return sinf(x); }
__device__ __forceinline__ double ew_sin(double x) { return sin(x); }
__device__ __forceinline__ float ew_cos(float x) { return cosf(x); }
__device__ __forceinline__ double ew_cos(double x) { return cos(x); }
__device__ __forceinline__ float ew_floor(float x) { return floorf(x); }
__device__ __forceinline__ double ew_floor(double x) { return floor(x); }
__device__ __forceinline__ float ew_ceil(float x) { return ceilf(x); }
__device__ __forceinline__ double ew_ceil(double x) { return ceil(x); }
__device__ __forceinline__ float ew_rint(float x) { return rintf(x); }
__device__ __forceinline__ double ew_rint(double x) { return rint(x); }
__device__ __forceinline__ float ew_fabs(float x) { return fabsf(x); }
__device__ __forceinline__ double ew_fabs(double x) { return fabs(x); }
__device__ __forceinline__ float ew_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double ew_pow(double a, double b) { return pow(a, b); }

template <typename T>
__device__ __forceinline__ T ew_unary(int op, T x) {
  const T zero = (T)0, one = (T)1;
  switch (op) {
    case U_NEG: return -x;
    case U_EXP: return ew_exp(x);
    case U_LOG: return ew_log(x);
    case U_SQRT: return ew_sqrt(x);
    case U_RSQRT: return one / ew_sqrt(x);
    case U_ABS: return ew_fabs(x);
    case U_RELU: return x > zero ? x : (x == x ? zero : x);
    case U_GELU: return (T)0.5 * x * (one + ew_erf(x * (T)0.70710678118654752440));
    case U_SIGMOID: return one / (one + ew_exp(-x));
    case U_TANH: return ew_tanh(x);
    case U_RECIPROCAL: return one / x;
    case U_SQUARE: return x * x;
    case U_SIN: return ew_sin(x);
    case U_COS: return ew_cos(x);
    case U_SIGN: return x > zero ? one : x < zero ? -one : x == zero ? zero : x;
    case U_FLOOR: return ew_floor(x);
    case U_CEIL: return ew_ceil(x);
    default: return ew_rint(x);  // U_ROUND: half to even, as PyTorch
  }
}

// Math.pow's special cases where C's pow differs: a NaN exponent, and +-1 to an infinite power, give NaN.
template <typename T>
__device__ __forceinline__ T ew_js_pow(T a, T b) {
  if (b != b) return b;
  if ((a == (T)1 || a == (T)-1) && ew_fabs(b) == (T)k_inf()) return (T)k_nan();
  return ew_pow(a, b);
}

template <typename T>
__device__ __forceinline__ T ew_binary(int op, T a, T b) {
  const T zero = (T)0, one = (T)1;
  switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_POW: return ew_js_pow(a, b);
    case B_MAXIMUM: return (a != a || b != b) ? (T)k_nan() : (a > b ? a : b);
    case B_MINIMUM: return (a != a || b != b) ? (T)k_nan() : (a < b ? a : b);
    case B_EQ: return a == b ? one : zero;
    case B_NE: return a != b ? one : zero;
    case B_GT: return a > b ? one : zero;
    case B_LT: return a < b ? one : zero;
    case B_GE: return a >= b ? one : zero;
    case B_LE: return a <= b ? one : zero;
    case B_RELU_GRAD: return b > zero ? a : zero;
    default: {  // B_GELU_GRAD: a * gelu'(b)
      const T cdf = (T)0.5 * (one + ew_erf(b * (T)0.70710678118654752440));
      const T pdf = (T)0.39894228040143267794 * ew_exp((T)-0.5 * b * b);
      return a * (cdf + b * pdf);
    }
  }
}

// ---- copy / cast ----

extern "C" __global__ void k_copy_any(const void* src, int sdt, KGeom sg, void* dst, int ddt, KGeom dg, i64 n) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) k_store(dst, ddt, k_pos(dg, i), k_load(src, sdt, k_pos(sg, i)));
}

template <typename E>
__device__ __forceinline__ void ew_copy_same(const E* src, const KGeom& sg, E* dst, const KGeom& dg, i64 n) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) dst[k_pos(dg, i)] = src[k_pos(sg, i)];
}

extern "C" __global__ void k_copy_b1(const u8* src, KGeom sg, u8* dst, KGeom dg, i64 n) { ew_copy_same(src, sg, dst, dg, n); }
extern "C" __global__ void k_copy_b4(const u32* src, KGeom sg, u32* dst, KGeom dg, i64 n) { ew_copy_same(src, sg, dst, dg, n); }
extern "C" __global__ void k_copy_b8(const u64* src, KGeom sg, u64* dst, KGeom dg, i64 n) { ew_copy_same(src, sg, dst, dg, n); }

// ---- fill (any dtype, any strides; contiguous 4-byte fills use memsetD32 instead) ----

extern "C" __global__ void k_fill_any(void* dst, int ddt, KGeom dg, i64 n, double v) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) k_store(dst, ddt, k_pos(dg, i), v);
}

// ---- unary ----

template <typename T>
__device__ __forceinline__ void ew_unary_run(const T* x, const KGeom& xg, T* y, i64 n, int op) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) y[i] = ew_unary(op, x[k_pos(xg, i)]);
}

extern "C" __global__ void k_unary_f32(const float* x, KGeom xg, float* y, i64 n, int op) { ew_unary_run(x, xg, y, n, op); }
extern "C" __global__ void k_unary_f64(const double* x, KGeom xg, double* y, i64 n, int op) { ew_unary_run(x, xg, y, n, op); }
extern "C" __global__ void k_unary_any(const void* x, int xdt, KGeom xg, void* y, int ydt, i64 n, int op) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) k_store(y, ydt, i, ew_unary(op, k_load(x, xdt, k_pos(xg, i))));
}

// ---- binary ----

template <typename T>
__device__ __forceinline__ void ew_binary_run(const T* a, const KGeom& ag, const T* b, const KGeom& bg, T* c, i64 n, int op) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) c[i] = ew_binary(op, a[k_pos(ag, i)], b[k_pos(bg, i)]);
}

extern "C" __global__ void k_binary_f32(const float* a, KGeom ag, const float* b, KGeom bg, float* c, i64 n, int op) {
  ew_binary_run(a, ag, b, bg, c, n, op);
}
extern "C" __global__ void k_binary_f64(const double* a, KGeom ag, const double* b, KGeom bg, double* c, i64 n, int op) {
  ew_binary_run(a, ag, b, bg, c, n, op);
}
extern "C" __global__ void k_binary_any(
    const void* a, int adt, KGeom ag, const void* b, int bdt, KGeom bg, void* c, int cdt, i64 n, int op) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) {
    k_store(c, cdt, i, ew_binary(op, k_load(a, adt, k_pos(ag, i)), k_load(b, bdt, k_pos(bg, i))));
  }
}

template <typename T>
__device__ __forceinline__ void ew_binary_scalar_run(const T* a, const KGeom& ag, T s, T* c, i64 n, int op) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) c[i] = ew_binary(op, a[k_pos(ag, i)], s);
}

extern "C" __global__ void k_binary_scalar_f32(const float* a, KGeom ag, double s, float* c, i64 n, int op) {
  ew_binary_scalar_run(a, ag, (float)s, c, n, op);
}
extern "C" __global__ void k_binary_scalar_f64(const double* a, KGeom ag, double s, double* c, i64 n, int op) {
  ew_binary_scalar_run(a, ag, s, c, n, op);
}
extern "C" __global__ void k_binary_scalar_any(const void* a, int adt, KGeom ag, double s, void* c, int cdt, i64 n, int op) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) k_store(c, cdt, i, ew_binary(op, k_load(a, adt, k_pos(ag, i)), s));
}

// ---- where ----

extern "C" __global__ void k_where_f32(const u8* cond, KGeom cg, const float* a, KGeom ag, const float* b, KGeom bg, float* out, i64 n) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) out[i] = cond[k_pos(cg, i)] ? a[k_pos(ag, i)] : b[k_pos(bg, i)];
}

extern "C" __global__ void k_where_any(
    const void* cond, int cdt, KGeom cg, const void* a, int adt, KGeom ag, const void* b, int bdt, KGeom bg,
    void* out, int odt, i64 n) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) {
    const double c = k_load(cond, cdt, k_pos(cg, i));  // JavaScript truthiness: 0 and NaN are false
    k_store(out, odt, i, (c != 0.0 && c == c) ? k_load(a, adt, k_pos(ag, i)) : k_load(b, bdt, k_pos(bg, i)));
  }
}

// ---- clamp (NaN passes through, as in PyTorch; bounds compared in double like the reference) ----

__device__ __forceinline__ double ew_clamp(double v, double lo, double hi) {
  const double r = v < lo ? lo : v;
  return r > hi ? hi : r;
}

extern "C" __global__ void k_clamp_f32(const float* x, KGeom xg, float* y, i64 n, double lo, double hi) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) y[i] = (float)ew_clamp((double)x[k_pos(xg, i)], lo, hi);
}
extern "C" __global__ void k_clamp_f64(const double* x, KGeom xg, double* y, i64 n, double lo, double hi) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) y[i] = ew_clamp(x[k_pos(xg, i)], lo, hi);
}
extern "C" __global__ void k_clamp_any(const void* x, int xdt, KGeom xg, void* y, int ydt, i64 n, double lo, double hi) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) k_store(y, ydt, i, ew_clamp(k_load(x, xdt, k_pos(xg, i)), lo, hi));
}
