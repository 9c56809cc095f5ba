// Node-API binding table for the kindling CPU kernels. Argument parsing uses the plain C API with a fixed stack
// array (no per-call heap allocation); every typed-array argument is bounds-checked against the extent the kernel
// will touch, so a wrong shape from JS throws instead of corrupting memory.
#include <node_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.h"

using kd::i64;

namespace {

const kd::KernelTable* T = nullptr;

bool cpu_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}
bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const kd::KernelTable* pick_table() {
  const char* cap = std::getenv("KINDLING_ISA");
  int limit = kd::ISA_AVX512;
  if (cap && *cap) {
    if (!std::strcmp(cap, "scalar")) limit = kd::ISA_SCALAR;
    else if (!std::strcmp(cap, "avx2")) limit = kd::ISA_AVX2;
  }
  if (limit >= kd::ISA_AVX512 && cpu_has_avx512()) return kd::table_avx512();
  if (limit >= kd::ISA_AVX2 && cpu_has_avx2()) return kd::table_avx2();
  return kd::table_scalar();
}

// ------------------------------------------------------------------ argument helpers
struct Args {
  napi_env env;
  const char* fn;
  size_t argc = 32;
  napi_value v[32];
  bool ok = true;

  Args(napi_env e, napi_callback_info info, const char* name, size_t need) : env(e), fn(name) {
    napi_get_cb_info(env, info, &argc, v, nullptr, nullptr);
    if (argc < need) {
      std::string m = std::string(fn) + ": expected " + std::to_string(need) + " arguments, got " + std::to_string(argc);
      fail_type(m.c_str());
    }
  }
  void fail_type(const char* msg) {
    if (!ok) return;
    ok = false;
    napi_throw_type_error(env, nullptr, msg);
  }
  void fail_range(const char* msg) {
    if (!ok) return;
    ok = false;
    std::string m = std::string(fn) + ": " + msg;
    napi_throw_range_error(env, nullptr, m.c_str());
  }
  void fail_arg(size_t i, const char* what) {
    std::string m = std::string(fn) + ": argument " + std::to_string(i) + " must be " + what;
    fail_type(m.c_str());
  }

  double num(size_t i) {
    if (!ok) return 0;
    double d;
    if (napi_get_value_double(env, v[i], &d) != napi_ok) {
      bool b;
      if (napi_get_value_bool(env, v[i], &b) == napi_ok) return b ? 1 : 0;
      fail_arg(i, "a number");
      return 0;
    }
    return d;
  }
  i64 integer(size_t i) {
    double d = num(i);
    if (!ok) return 0;
    if (!(d == std::floor(d)) || std::fabs(d) > 9.0e15) {
      fail_arg(i, "an integer");
      return 0;
    }
    return (i64)d;
  }
  i64 dim(size_t i) {  // non-negative integer
    i64 x = integer(i);
    if (ok && x < 0) fail_arg(i, "a non-negative integer");
    return x;
  }
  i64 pos(size_t i) {  // positive integer
    i64 x = integer(i);
    if (ok && x < 1) fail_arg(i, "a positive integer");
    return x;
  }
  bool flag(size_t i) { return num(i) != 0; }
  bool is_null(size_t i) {
    if (i >= argc) return true;
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    return t == napi_null || t == napi_undefined;
  }
  // Typed array argument i, element offset taken from argument oi (or oi < 0: offset 0),
  // must hold [off - lo, off + hi) with hi = extent. Returns pointer to element off.
  void* typed(size_t i, napi_typedarray_type want, const char* wname, i64 off, i64 lo, i64 hi, bool nullable) {
    if (!ok) return nullptr;
    if (nullable && is_null(i)) return nullptr;
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t bo;
    if (napi_get_typedarray_info(env, v[i], &type, &length, &data, &ab, &bo) != napi_ok || type != want) {
      fail_arg(i, nullable ? (std::string("a ") + wname + " or null").c_str() : (std::string("a ") + wname).c_str());
      return nullptr;
    }
    if (off < 0 || off - lo < 0 || (hi > 0 && off + hi > (i64)length) || (hi <= 0 && off > (i64)length)) {
      std::string m = "argument " + std::to_string(i) + " (" + wname + " of length " + std::to_string(length) +
                      ") is too short for offset " + std::to_string(off) + " and extent " + std::to_string(hi);
      fail_range(m.c_str());
      return nullptr;
    }
    if (hi > 0 && data == nullptr) {
      fail_range("detached buffer");
      return nullptr;
    }
    return (char*)data + off * (want == napi_int32_array ? 4 : 4);
  }
  float* f32(size_t i, size_t oi, i64 extent, bool nullable = false) {
    if (!ok) return nullptr;
    if (nullable && is_null(i)) return nullptr;
    i64 off = integer(oi);
    return (float*)typed(i, napi_float32_array, "Float32Array", off, 0, extent, nullable);
  }
  int32_t* i32(size_t i, size_t oi, i64 extent, bool nullable = false) {
    if (!ok) return nullptr;
    if (nullable && is_null(i)) return nullptr;
    i64 off = oi == (size_t)-1 ? 0 : integer(oi);
    return (int32_t*)typed(i, napi_int32_array, "Int32Array", off, 0, extent, nullable);
  }
};

napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
napi_value number(napi_env env, double d) {
  napi_value r;
  napi_create_double(env, d, &r);
  return r;
}

i64 mat_extent(i64 rows, i64 cols, i64 ld) { return (rows <= 0 || cols <= 0) ? 0 : (rows - 1) * ld + cols; }

// ------------------------------------------------------------------ functions
napi_value Isa(napi_env env, napi_callback_info) {
  napi_value s;
  napi_create_string_utf8(env, T->name, NAPI_AUTO_LENGTH, &s);
  return s;
}

napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  Args a(env, info, "setNumThreads", 1);
  i64 n = a.integer(0);
  if (!a.ok) return nullptr;
  kd::set_num_threads((int)n);
  return undef(env);
}

napi_value GetNumThreads(napi_env env, napi_callback_info) { return number(env, kd::num_threads()); }

napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "gemm", 16);
  bool ta = a.flag(0), tb = a.flag(1);
  i64 M = a.dim(2), N = a.dim(3), K = a.dim(4);
  float alpha = (float)a.num(5);
  i64 lda = a.integer(8), ldb = a.integer(11), ldc = a.integer(15);
  float beta = (float)a.num(12);
  if (!a.ok) return nullptr;
  i64 ar = ta ? K : M, acl = ta ? M : K, br = tb ? N : K, bcl = tb ? K : N;
  if (lda < (acl > 1 ? acl : 1) || ldb < (bcl > 1 ? bcl : 1) || ldc < (N > 1 ? N : 1)) {
    a.fail_range("leading dimension smaller than the row length");
    return nullptr;
  }
  const float* A = a.f32(6, 7, mat_extent(ar, acl, lda));
  const float* B = a.f32(9, 10, mat_extent(br, bcl, ldb));
  float* C = a.f32(13, 14, mat_extent(M, N, ldc));
  if (!a.ok) return nullptr;
  T->gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  return undef(env);
}

napi_value Bgemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "bgemm", 15);
  i64 batch = a.dim(0);
  bool ta = a.flag(1), tb = a.flag(2);
  i64 M = a.dim(3), N = a.dim(4), K = a.dim(5);
  i64 sa = a.dim(8), sb = a.dim(11), sc = a.dim(14);
  if (!a.ok) return nullptr;
  auto ext = [&](i64 stride, i64 one) { return batch == 0 || one == 0 ? 0 : (batch - 1) * stride + one; };
  const float* A = a.f32(6, 7, ext(sa, M * K));
  const float* B = a.f32(9, 10, ext(sb, K * N));
  float* C = a.f32(12, 13, ext(sc, M * N));
  if (!a.ok) return nullptr;
  if (batch > 1 && sc < M * N) {
    a.fail_range("output batches overlap");
    return nullptr;
  }
  T->bgemm(batch, ta, tb, M, N, K, A, sa, B, sb, C, sc);
  return undef(env);
}

napi_value Linear(napi_env env, napi_callback_info info) {
  Args a(env, info, "linear", 11);
  i64 M = a.dim(8), N = a.dim(9), K = a.dim(10);
  const float* x = a.f32(0, 1, M * K);
  const float* w = a.f32(2, 3, N * K);
  const float* b = a.f32(4, 5, N, true);
  float* y = a.f32(6, 7, M * N);
  if (!a.ok) return nullptr;
  T->linear(x, w, b, y, M, N, K);
  return undef(env);
}

napi_value LinearBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "linearBackward", 15);
  i64 M = a.dim(12), N = a.dim(13), K = a.dim(14);
  const float* gy = a.f32(0, 1, M * N);
  float* gx = a.f32(6, 7, M * K, true);
  float* gw = a.f32(8, 9, N * K, true);
  float* gb = a.f32(10, 11, N, true);
  const float* x = a.f32(2, 3, M * K, !gw);
  const float* w = a.f32(4, 5, N * K, !gx);
  if (!a.ok) return nullptr;
  T->linearBackward(gy, x, w, gx, gw, gb, M, N, K);
  return undef(env);
}

bool conv_dims(Args& a, size_t first, i64* d) {
  for (int i = 0; i < kd::CD_COUNT; i++) d[i] = a.integer(first + i);
  if (!a.ok) return false;
  for (int i = 0; i < kd::CD_COUNT; i++) {
    bool positive = i == kd::CD_KH || i == kd::CD_KW || i == kd::CD_SH || i == kd::CD_SW || i == kd::CD_DH ||
                    i == kd::CD_DW || i == kd::CD_G;
    if (d[i] < (positive ? 1 : 0)) {
      a.fail_arg(first + i, positive ? "a positive integer" : "a non-negative integer");
      return false;
    }
  }
  if (d[kd::CD_C] % d[kd::CD_G] || d[kd::CD_OC] % d[kd::CD_G]) {
    a.fail_range("channels must be divisible by groups");
    return false;
  }
  i64 eh = d[kd::CD_H] + 2 * d[kd::CD_PH] - d[kd::CD_DH] * (d[kd::CD_KH] - 1) - 1;
  i64 ew = d[kd::CD_W] + 2 * d[kd::CD_PW] - d[kd::CD_DW] * (d[kd::CD_KW] - 1) - 1;
  i64 oh = eh < 0 ? 0 : eh / d[kd::CD_SH] + 1, ow = ew < 0 ? 0 : ew / d[kd::CD_SW] + 1;
  if (oh != d[kd::CD_OH] || ow != d[kd::CD_OW]) {
    a.fail_range("OH/OW do not match the input size, kernel, stride, padding and dilation");
    return false;
  }
  return true;
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  Args a(env, info, "conv2d", 24);
  i64 d[kd::CD_COUNT];
  if (!conv_dims(a, 8, d)) return nullptr;
  i64 N = d[kd::CD_N], C = d[kd::CD_C], OC = d[kd::CD_OC];
  const float* x = a.f32(0, 1, N * C * d[kd::CD_H] * d[kd::CD_W]);
  const float* w = a.f32(2, 3, OC * (C / d[kd::CD_G]) * d[kd::CD_KH] * d[kd::CD_KW]);
  const float* b = a.f32(4, 5, OC, true);
  float* y = a.f32(6, 7, N * OC * d[kd::CD_OH] * d[kd::CD_OW]);
  if (!a.ok) return nullptr;
  if (N * OC * d[kd::CD_OH] * d[kd::CD_OW] == 0) return undef(env);
  if (C == 0) {  // empty reduction: y = bias
    for (i64 n = 0; n < N; n++)
      for (i64 o = 0; o < OC; o++)
        for (i64 q = 0; q < d[kd::CD_OH] * d[kd::CD_OW]; q++)
          y[(n * OC + o) * d[kd::CD_OH] * d[kd::CD_OW] + q] = b ? b[o] : 0.f;
    return undef(env);
  }
  T->conv2d(x, w, b, y, d);
  return undef(env);
}

napi_value Conv2dBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "conv2dBackward", 28);
  i64 d[kd::CD_COUNT];
  if (!conv_dims(a, 12, d)) return nullptr;
  i64 N = d[kd::CD_N], C = d[kd::CD_C], OC = d[kd::CD_OC];
  i64 xs = N * C * d[kd::CD_H] * d[kd::CD_W], ws = OC * (C / d[kd::CD_G]) * d[kd::CD_KH] * d[kd::CD_KW];
  const float* gy = a.f32(0, 1, N * OC * d[kd::CD_OH] * d[kd::CD_OW]);
  float* gx = a.f32(6, 7, xs, true);
  float* gw = a.f32(8, 9, ws, true);
  float* gb = a.f32(10, 11, OC, true);
  const float* x = a.f32(2, 3, xs, !gw);
  const float* w = a.f32(4, 5, ws, !gx);
  if (!a.ok) return nullptr;
  if (N * OC * d[kd::CD_OH] * d[kd::CD_OW] == 0 || C == 0) {
    if (gx) std::memset(gx, 0, sizeof(float) * xs);
    if (gw) std::memset(gw, 0, sizeof(float) * ws);
    if (gb) std::memset(gb, 0, sizeof(float) * OC);
    return undef(env);
  }
  T->conv2dBackward(gy, x, w, gx, gw, gb, d);
  return undef(env);
}

bool pool_dims(Args& a, size_t first, i64* d, bool dil) {
  // max: N C H W KH KW sH sW pH pW dH dW OH OW ; avg: N C H W KH KW sH sW pH pW OH OW incl div
  size_t i = first;
  for (int k = kd::PD_N; k <= kd::PD_PW; k++) d[k] = a.integer(i++);
  if (dil) {
    d[kd::PD_DH] = a.integer(i++);
    d[kd::PD_DW] = a.integer(i++);
  } else {
    d[kd::PD_DH] = d[kd::PD_DW] = 1;
  }
  d[kd::PD_OH] = a.integer(i++);
  d[kd::PD_OW] = a.integer(i++);
  if (!dil) {
    d[kd::PD_INCLUDE_PAD] = a.flag(i++);
    d[kd::PD_DIVISOR] = a.integer(i++);
  } else {
    d[kd::PD_INCLUDE_PAD] = 0, d[kd::PD_DIVISOR] = 0;
  }
  if (!a.ok) return false;
  for (int k = 0; k < kd::PD_COUNT; k++) {
    bool positive = k == kd::PD_KH || k == kd::PD_KW || k == kd::PD_SH || k == kd::PD_SW || k == kd::PD_DH ||
                    k == kd::PD_DW;
    if (d[k] < (positive ? 1 : 0)) {
      a.fail_range("pool sizes must be non-negative (kernel, stride and dilation positive)");
      return false;
    }
  }
  return true;
}

napi_value MaxPool2d(napi_env env, napi_callback_info info) {
  Args a(env, info, "maxPool2d", 20);
  i64 d[kd::PD_COUNT];
  if (!pool_dims(a, 6, d, true)) return nullptr;
  i64 NC = d[kd::PD_N] * d[kd::PD_C], out = NC * d[kd::PD_OH] * d[kd::PD_OW];
  const float* x = a.f32(0, 1, NC * d[kd::PD_H] * d[kd::PD_W]);
  float* y = a.f32(2, 3, out);
  int32_t* idx = a.i32(4, 5, out);
  if (!a.ok) return nullptr;
  if (out == 0) return undef(env);
  if (d[kd::PD_H] * d[kd::PD_W] == 0) {
    a.fail_range("empty input plane");
    return nullptr;
  }
  T->maxPool2d(x, y, idx, d);
  return undef(env);
}

napi_value MaxPool2dBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "maxPool2dBackward", 12);
  i64 N = a.dim(6), C = a.dim(7), H = a.dim(8), Wd = a.dim(9), OH = a.dim(10), OW = a.dim(11);
  const float* gy = a.f32(0, 1, N * C * OH * OW);
  const int32_t* idx = a.i32(2, 3, N * C * OH * OW);
  float* gx = a.f32(4, 5, N * C * H * Wd);
  if (!a.ok) return nullptr;
  T->maxPool2dBackward(gy, idx, gx, N * C, H, Wd, OH, OW);
  return undef(env);
}

napi_value AvgPool2d(napi_env env, napi_callback_info info) {
  Args a(env, info, "avgPool2d", 18);
  i64 d[kd::PD_COUNT];
  if (!pool_dims(a, 4, d, false)) return nullptr;
  i64 NC = d[kd::PD_N] * d[kd::PD_C];
  const float* x = a.f32(0, 1, NC * d[kd::PD_H] * d[kd::PD_W]);
  float* y = a.f32(2, 3, NC * d[kd::PD_OH] * d[kd::PD_OW]);
  if (!a.ok) return nullptr;
  T->avgPool2d(x, y, d);
  return undef(env);
}

napi_value AvgPool2dBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "avgPool2dBackward", 18);
  i64 d[kd::PD_COUNT];
  if (!pool_dims(a, 4, d, false)) return nullptr;
  i64 NC = d[kd::PD_N] * d[kd::PD_C];
  const float* gy = a.f32(0, 1, NC * d[kd::PD_OH] * d[kd::PD_OW]);
  float* gx = a.f32(2, 3, NC * d[kd::PD_H] * d[kd::PD_W]);
  if (!a.ok) return nullptr;
  T->avgPool2dBackward(gy, gx, d);
  return undef(env);
}

napi_value Unary(napi_env env, napi_callback_info info) {
  Args a(env, info, "unary", 6);
  i64 op = a.integer(0), n = a.dim(5);
  const float* x = a.f32(1, 2, n);
  float* y = a.f32(3, 4, n);
  if (!a.ok) return nullptr;
  if (op < 0 || op > 12) {
    a.fail_range("unknown op code");
    return nullptr;
  }
  T->unary((int)op, x, y, n);
  return undef(env);
}

napi_value UnaryBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "unaryBackward", 8);
  i64 op = a.integer(0), n = a.dim(7);
  const float* gy = a.f32(1, 2, n);
  const float* x = a.f32(3, 4, n);
  float* gx = a.f32(5, 6, n);
  if (!a.ok) return nullptr;
  if (op < 5 || op > 8) {
    a.fail_range("op code must be 5 (relu), 6 (gelu), 7 (sigmoid) or 8 (tanh)");
    return nullptr;
  }
  T->unaryBackward((int)op, gy, x, gx, n);
  return undef(env);
}

napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info, "binary", 8);
  i64 op = a.integer(0), n = a.dim(7);
  const float* x = a.f32(1, 2, n);
  const float* z = a.f32(3, 4, n);
  float* y = a.f32(5, 6, n);
  if (!a.ok) return nullptr;
  if (op < 0 || op > 6) {
    a.fail_range("unknown op code");
    return nullptr;
  }
  T->binary((int)op, x, z, y, n);
  return undef(env);
}

napi_value BinaryScalar(napi_env env, napi_callback_info info) {
  Args a(env, info, "binaryScalar", 7);
  i64 op = a.integer(0), n = a.dim(6);
  const float* x = a.f32(1, 2, n);
  float s = (float)a.num(3);
  float* y = a.f32(4, 5, n);
  if (!a.ok) return nullptr;
  if (op < 0 || op > 6) {
    a.fail_range("unknown op code");
    return nullptr;
  }
  T->binaryScalar((int)op, x, s, y, n);
  return undef(env);
}

// Reads an Int32Array of ndim entries.
bool read_i32s(Args& a, size_t i, i64 ndim, i64* out) {
  if (ndim == 0) return a.ok;
  const int32_t* p = a.i32(i, (size_t)-1, ndim);
  if (!a.ok) return false;
  for (i64 k = 0; k < ndim; k++) out[k] = p[k];
  return true;
}

// extent [lo, hi) relative to the base offset for a strided view
void strided_extent(int nd, const i64* shape, const i64* st, i64& lo, i64& hi) {
  lo = 0, hi = 1;
  for (int k = 0; k < nd; k++) {
    if (shape[k] == 0) {
      lo = 0, hi = 0;
      return;
    }
    i64 span = (shape[k] - 1) * st[k];
    if (span > 0) hi += span;
    else lo += span;
  }
}

napi_value BinaryStrided(napi_env env, napi_callback_info info) {
  Args a(env, info, "binaryStrided", 11);
  i64 op = a.integer(0), nd = a.dim(1);
  if (!a.ok) return nullptr;
  if (nd > 16 || op < 0 || op > 6) {
    a.fail_range(nd > 16 ? "at most 16 dimensions" : "unknown op code");
    return nullptr;
  }
  i64 shape[16], as[16], bs[16];
  read_i32s(a, 2, nd, shape);
  read_i32s(a, 5, nd, as);
  read_i32s(a, 8, nd, bs);
  if (!a.ok) return nullptr;
  i64 total = 1;
  for (int k = 0; k < nd; k++) {
    if (shape[k] < 0) {
      a.fail_range("negative dimension");
      return nullptr;
    }
    total *= shape[k];
  }
  i64 alo, ahi, blo, bhi;
  strided_extent((int)nd, shape, as, alo, ahi);
  strided_extent((int)nd, shape, bs, blo, bhi);
  i64 aoff = a.integer(4), boff = a.integer(7);
  const float* A = (const float*)a.typed(3, napi_float32_array, "Float32Array", aoff, -alo, ahi, false);
  const float* B = (const float*)a.typed(6, napi_float32_array, "Float32Array", boff, -blo, bhi, false);
  float* Y = a.f32(9, 10, total);
  if (!a.ok || total == 0) return a.ok ? undef(env) : nullptr;
  // drop size-1 dims, then merge dims that are contiguous for both operands
  i64 s2[16], a2[16], b2[16];
  int m = 0;
  for (int k = 0; k < nd; k++) {
    if (shape[k] == 1) continue;
    if (m > 0 && a2[m - 1] == as[k] * shape[k] && b2[m - 1] == bs[k] * shape[k]) {
      s2[m - 1] *= shape[k];
      a2[m - 1] = as[k];
      b2[m - 1] = bs[k];
      continue;
    }
    s2[m] = shape[k], a2[m] = as[k], b2[m] = bs[k];
    m++;
  }
  if (m == 0) s2[0] = 1, a2[0] = 0, b2[0] = 0, m = 1;
  T->binaryStrided((int)op, m, s2, A, a2, B, b2, Y);
  return undef(env);
}

napi_value Axpby(napi_env env, napi_callback_info info) {
  Args a(env, info, "axpby", 7);
  i64 n = a.dim(6);
  float* y = a.f32(0, 1, n);
  const float* x = a.f32(2, 3, n);
  float alpha = (float)a.num(4), beta = (float)a.num(5);
  if (!a.ok) return nullptr;
  T->axpby(y, x, alpha, beta, n);
  return undef(env);
}

napi_value SumDim(napi_env env, napi_callback_info info) {
  Args a(env, info, "sumDim", 7);
  i64 outer = a.dim(4), red = a.dim(5), inner = a.dim(6);
  const float* x = a.f32(0, 1, outer * red * inner);
  float* y = a.f32(2, 3, outer * inner);
  if (!a.ok) return nullptr;
  T->sumDim(x, y, outer, red, inner);
  return undef(env);
}

napi_value MaxDim(napi_env env, napi_callback_info info) {
  Args a(env, info, "maxDim", 9);
  i64 outer = a.dim(6), red = a.dim(7), inner = a.dim(8);
  const float* x = a.f32(0, 1, outer * red * inner);
  float* y = a.f32(2, 3, outer * inner);
  int32_t* idx = a.i32(4, 5, outer * inner, true);
  if (!a.ok) return nullptr;
  if (red == 0 && outer * inner > 0) {
    a.fail_range("cannot reduce an empty dimension");
    return nullptr;
  }
  T->maxDim(x, y, idx, outer, red, inner);
  return undef(env);
}

napi_value SumAll(napi_env env, napi_callback_info info) {
  Args a(env, info, "sumAll", 3);
  i64 n = a.dim(2);
  const float* x = a.f32(0, 1, n);
  if (!a.ok) return nullptr;
  return number(env, (double)(float)T->sumAll(x, n));
}

napi_value Softmax(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmax", 8);
  i64 outer = a.dim(4), n = a.dim(5), inner = a.dim(6);
  bool lg = a.flag(7);
  const float* x = a.f32(0, 1, outer * n * inner);
  float* y = a.f32(2, 3, outer * n * inner);
  if (!a.ok) return nullptr;
  T->softmax(x, y, outer, n, inner, lg);
  return undef(env);
}

napi_value SoftmaxBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmaxBackward", 10);
  i64 outer = a.dim(6), n = a.dim(7), inner = a.dim(8);
  bool lg = a.flag(9);
  const float* gy = a.f32(0, 1, outer * n * inner);
  const float* y = a.f32(2, 3, outer * n * inner);
  float* gx = a.f32(4, 5, outer * n * inner);
  if (!a.ok) return nullptr;
  T->softmaxBackward(gy, y, gx, outer, n, inner, lg);
  return undef(env);
}

napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  Args a(env, info, "crossEntropy", 13);
  i64 N = a.dim(4), C = a.dim(5), ignore = a.integer(6);
  float eps = (float)a.num(7);
  i64 red = a.integer(8);
  if (!a.ok) return nullptr;
  if (red < 0 || red > 2) {
    a.fail_range("reduction must be 0 (sum), 1 (mean) or 2 (none)");
    return nullptr;
  }
  const float* logits = a.f32(0, 1, N * C);
  const int32_t* target = a.i32(2, 3, N);
  float* loss = a.f32(9, 10, red == 2 ? N : 1);
  float* grad = a.f32(11, 12, N * C, true);
  if (!a.ok) return nullptr;
  for (i64 i = 0; i < N; i++) {
    if (target[i] != ignore && (target[i] < 0 || target[i] >= C)) {
      std::string m = "target " + std::to_string(target[i]) + " at row " + std::to_string(i) + " is out of bounds";
      a.fail_range(m.c_str());
      return nullptr;
    }
  }
  T->crossEntropy(logits, target, N, C, ignore, eps, (int)red, loss, grad);
  return undef(env);
}

napi_value BatchNorm2d(napi_env env, napi_callback_info info) {
  Args a(env, info, "batchNorm2d", 22);
  i64 N = a.dim(4), C = a.dim(5), HW = a.dim(6);
  const float* x = a.f32(0, 1, N * C * HW);
  float* y = a.f32(2, 3, N * C * HW);
  const float* w = a.f32(7, 8, C, true);
  const float* b = a.f32(9, 10, C, true);
  float* rm = a.f32(11, 12, C, true);
  float* rv = a.f32(13, 14, C, true);
  bool training = a.flag(15);
  float momentum = (float)a.num(16), eps = (float)a.num(17);
  float* sm = a.f32(18, 19, C, true);
  float* si = a.f32(20, 21, C, true);
  if (!a.ok) return nullptr;
  if (!rm || !rv) training = true;  // no running stats: batch statistics (PyTorch semantics)
  T->batchNorm2d(x, y, N, C, HW, w, b, rm, rv, training, momentum, eps, sm, si);
  return undef(env);
}

napi_value BatchNorm2dBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "batchNorm2dBackward", 19);
  i64 N = a.dim(16), C = a.dim(17), HW = a.dim(18);
  const float* gy = a.f32(0, 1, N * C * HW);
  const float* x = a.f32(2, 3, N * C * HW);
  const float* w = a.f32(4, 5, C, true);
  const float* sm = a.f32(6, 7, C);
  const float* si = a.f32(8, 9, C);
  float* gx = a.f32(10, 11, N * C * HW, true);
  float* gw = a.f32(12, 13, C, true);
  float* gb = a.f32(14, 15, C, true);
  if (!a.ok) return nullptr;
  T->batchNorm2dBackward(gy, x, w, sm, si, gx, gw, gb, N, C, HW);
  return undef(env);
}

// Reads element k of a JS array argument as a Float32Array (nullable) of at least `need` elements from `off`.
float* array_f32(Args& a, size_t i, uint32_t k, i64 off, i64 need, bool nullable) {
  if (!a.ok) return nullptr;
  napi_value e;
  if (napi_get_element(a.env, a.v[i], k, &e) != napi_ok) {
    a.fail_arg(i, "an array");
    return nullptr;
  }
  napi_valuetype t;
  napi_typeof(a.env, e, &t);
  if (t == napi_null || t == napi_undefined) {
    if (!nullable) a.fail_arg(i, "an array of Float32Array");
    return nullptr;
  }
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t bo;
  if (napi_get_typedarray_info(a.env, e, &type, &length, &data, &ab, &bo) != napi_ok || type != napi_float32_array) {
    a.fail_arg(i, "an array of Float32Array");
    return nullptr;
  }
  if (off < 0 || off + need > (i64)length) {
    std::string m = "entry " + std::to_string(k) + " of argument " + std::to_string(i) + " is too short";
    a.fail_range(m.c_str());
    return nullptr;
  }
  return (float*)data + off;
}

uint32_t array_len(Args& a, size_t i) {
  if (!a.ok) return 0;
  bool isarr = false;
  napi_is_array(a.env, a.v[i], &isarr);
  if (!isarr) {
    a.fail_arg(i, "an array");
    return 0;
  }
  uint32_t n;
  napi_get_array_length(a.env, a.v[i], &n);
  return n;
}

napi_value SgdStep(napi_env env, napi_callback_info info) {
  Args a(env, info, "sgdStep", 14);
  uint32_t np = array_len(a, 0);
  if (a.ok && (array_len(a, 1) != np || array_len(a, 2) != np)) a.fail_range("params, grads and bufs differ in length");
  const int32_t* offs = a.i32(3, (size_t)-1, np);
  const int32_t* goffs = a.i32(4, (size_t)-1, np);
  const int32_t* boffs = a.i32(5, (size_t)-1, np);
  const int32_t* sizes = a.i32(6, (size_t)-1, np);
  float lr = (float)a.num(7), momentum = (float)a.num(8), damp = (float)a.num(9), wd = (float)a.num(10);
  bool nesterov = a.flag(11), maximize = a.flag(12), first = a.flag(13);
  if (!a.ok) return nullptr;
  for (uint32_t k = 0; k < np; k++) {
    i64 n = sizes[k];
    float* g = array_f32(a, 1, k, goffs[k], n, true);
    if (!a.ok) return nullptr;
    if (!g) continue;
    float* p = array_f32(a, 0, k, offs[k], n, false);
    float* buf = array_f32(a, 2, k, boffs[k], n, momentum == 0.f);
    if (!a.ok) return nullptr;
    T->sgdStep(p, g, buf, n, lr, momentum, damp, wd, nesterov, maximize, first);
  }
  return undef(env);
}

napi_value AdamStep(napi_env env, napi_callback_info info) {
  Args a(env, info, "adamStep", 13);
  uint32_t np = array_len(a, 0);
  if (a.ok && (array_len(a, 1) != np || array_len(a, 2) != np || array_len(a, 3) != np))
    a.fail_range("params, grads, expAvg and expAvgSq differ in length");
  const int32_t* offs = a.i32(4, (size_t)-1, np);
  const int32_t* sizes = a.i32(5, (size_t)-1, np);
  float lr = (float)a.num(6), b1 = (float)a.num(7), b2 = (float)a.num(8), eps = (float)a.num(9),
        wd = (float)a.num(10);
  double step = a.num(11);
  bool decoupled = a.flag(12);
  bool ams = a.argc > 13 && !a.is_null(13) && a.flag(13);
  bool maximize = a.argc > 14 && !a.is_null(14) && a.flag(14);
  if (!a.ok) return nullptr;
  if (ams) {
    a.fail_range("amsgrad is not supported by the native kernel");
    return nullptr;
  }
  for (uint32_t k = 0; k < np; k++) {
    i64 n = sizes[k];
    float* g = array_f32(a, 1, k, 0, n, true);
    if (!a.ok) return nullptr;
    if (!g) continue;
    float* p = array_f32(a, 0, k, offs[k], n, false);
    float* m = array_f32(a, 2, k, 0, n, false);
    float* v = array_f32(a, 3, k, 0, n, false);
    if (!a.ok) return nullptr;
    T->adamStep(p, g, m, v, n, lr, b1, b2, eps, wd, step, decoupled, maximize);
  }
  return undef(env);
}

napi_value CopyStrided(napi_env env, napi_callback_info info) {
  Args a(env, info, "copyStrided", 8);
  i64 nd = a.dim(0);
  if (!a.ok) return nullptr;
  if (nd > 16) {
    a.fail_range("at most 16 dimensions");
    return nullptr;
  }
  i64 shape[16], ss[16], ds[16];
  read_i32s(a, 1, nd, shape);
  read_i32s(a, 4, nd, ss);
  read_i32s(a, 7, nd, ds);
  if (!a.ok) return nullptr;
  for (int k = 0; k < nd; k++)
    if (shape[k] < 0) {
      a.fail_range("negative dimension");
      return nullptr;
    }
  i64 slo, shi, dlo, dhi;
  strided_extent((int)nd, shape, ss, slo, shi);
  strided_extent((int)nd, shape, ds, dlo, dhi);
  i64 so = a.integer(3), dof = a.integer(6);
  const float* S = (const float*)a.typed(2, napi_float32_array, "Float32Array", so, -slo, shi, false);
  float* D = (float*)a.typed(5, napi_float32_array, "Float32Array", dof, -dlo, dhi, false);
  if (!a.ok) return nullptr;
  // coalesce
  i64 s2[16], a2[16], b2[16];
  int m = 0;
  for (int k = 0; k < nd; k++) {
    if (shape[k] == 1) continue;
    if (m > 0 && a2[m - 1] == ss[k] * shape[k] && b2[m - 1] == ds[k] * shape[k]) {
      s2[m - 1] *= shape[k];
      a2[m - 1] = ss[k];
      b2[m - 1] = ds[k];
      continue;
    }
    s2[m] = shape[k], a2[m] = ss[k], b2[m] = ds[k];
    m++;
  }
  for (int k = 0; k < m; k++)
    if (s2[k] == 0) return undef(env);
  if (m == 0) s2[0] = 1, a2[0] = 1, b2[0] = 1, m = 1;
  T->copyStrided(m, s2, S, a2, D, b2);
  return undef(env);
}

// Tensor memory is V8 ArrayBuffers, which Node takes from malloc. glibc serves blocks from 128 KiB up with fresh
// mmap()s and returns them on free, so every large activation or gradient costs page faults on first touch (about
// 3 ms per MB on some VMs); training allocates and frees the same sizes every step. Keeping blocks up to 32 MiB in
// the heap, and up to 128 MiB of freed heap before trimming, turns that into reuse of warm memory (tutorial net at
// batch 128: 5.9 -> 5.1 ms per step). Skipped when the user tunes malloc (GLIBC_TUNABLES) or sets
// KINDLING_MALLOC_TUNE=0.
void tune_malloc() {
#if defined(__GLIBC__)
  static bool done = false;
  if (done) return;
  done = true;
  const char* off = std::getenv("KINDLING_MALLOC_TUNE");
  if ((off && std::strcmp(off, "0") == 0) || std::getenv("GLIBC_TUNABLES")) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  T = pick_table();
  tune_malloc();
  struct Fn {
    const char* name;
    napi_callback cb;
  } fns[] = {
      {"isa", Isa},
      {"setNumThreads", SetNumThreads},
      {"getNumThreads", GetNumThreads},
      {"gemm", Gemm},
      {"bgemm", Bgemm},
      {"linear", Linear},
      {"linearBackward", LinearBackward},
      {"conv2d", Conv2d},
      {"conv2dBackward", Conv2dBackward},
      {"maxPool2d", MaxPool2d},
      {"maxPool2dBackward", MaxPool2dBackward},
      {"avgPool2d", AvgPool2d},
      {"avgPool2dBackward", AvgPool2dBackward},
      {"unary", Unary},
      {"unaryBackward", UnaryBackward},
      {"binary", Binary},
      {"binaryScalar", BinaryScalar},
      {"binaryStrided", BinaryStrided},
      {"axpby", Axpby},
      {"sumDim", SumDim},
      {"maxDim", MaxDim},
      {"sumAll", SumAll},
      {"softmax", Softmax},
      {"softmaxBackward", SoftmaxBackward},
      {"crossEntropy", CrossEntropy},
      {"batchNorm2d", BatchNorm2d},
      {"batchNorm2dBackward", BatchNorm2dBackward},
      {"sgdStep", SgdStep},
      {"adamStep", AdamStep},
      {"copyStrided", CopyStrided},
  };
  for (const Fn& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
