// Node-API bindings: running sums/products, stable sort, searchsorted, gather/scatter along a dim and integer
// bitwise ops. Sequential per row (a scan or a sort does not vectorise the way elementwise ops do), so plain C++
// serves every ISA and lives outside the per-ISA kernel tables.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "binding_args.h"

namespace kdb {
namespace {

// scan(prod, x, xOff, y, yOff, outer, n, inner): inclusive running sum (prod = 0) or product along n, accumulated in
// double like PyTorch's CPU kernel.
napi_value Scan(napi_env env, napi_callback_info info) {
  Args a(env, info, "scan", 8);
  const bool prod = a.flag(0);
  i64 outer = a.dim(5), n = a.dim(6), inner = a.dim(7);
  const float* x = a.f32(1, 2, outer * n * inner);
  float* y = a.f32(3, 4, outer * n * inner);
  if (!a.ok) return nullptr;
  // Row by row along n, a whole inner block at a time: memory is read and written in order (a loop over n inside
  // the inner loop would stride by inner, one cache line per element when scanning a leading dim).
  if (inner == 1) {  // the common case (the last dim): one register accumulator per row
    for (i64 o = 0; o < outer; o++) {
      const float* xr = x + o * n;
      float* yr = y + o * n;
      double acc = prod ? 1.0 : 0.0;
      if (prod)
        for (i64 r = 0; r < n; r++) yr[r] = (float)(acc *= xr[r]);
      else
        for (i64 r = 0; r < n; r++) yr[r] = (float)(acc += xr[r]);
    }
    return undef(env);
  }
  std::vector<double> acc((size_t)inner);
  for (i64 o = 0; o < outer; o++) {
    std::fill(acc.begin(), acc.end(), prod ? 1.0 : 0.0);
    for (i64 r = 0; r < n; r++) {
      const float* xr = x + (o * n + r) * inner;
      float* yr = y + (o * n + r) * inner;
      if (prod)
        for (i64 i = 0; i < inner; i++) yr[i] = (float)(acc[i] *= xr[i]);
      else
        for (i64 i = 0; i < inner; i++) yr[i] = (float)(acc[i] += xr[i]);
    }
  }
  return undef(env);
}

// NaN ranks above every number, as in PyTorch's sort.
inline bool less_nan_last(float a, float b) { return std::isnan(b) ? !std::isnan(a) : a < b; }

// sort(x, xOff, values, vOff, indices (Float64Array), iOff, outer, n, inner, descending): stable.
napi_value Sort(napi_env env, napi_callback_info info) {
  Args a(env, info, "sort", 10);
  i64 outer = a.dim(6), n = a.dim(7), inner = a.dim(8);
  const bool desc = a.flag(9);
  const i64 total = outer * n * inner;
  const float* x = a.f32(0, 1, total);
  float* v = a.f32(2, 3, total);
  double* idx = (double*)a.typed(4, napi_float64_array, "Float64Array", a.integer(5), 0, total, false);
  if (!a.ok) return nullptr;
  std::vector<i64> order((size_t)n);
  std::vector<float> row((size_t)n);
  for (i64 o = 0; o < outer; o++)
    for (i64 i = 0; i < inner; i++) {
      const i64 base = o * n * inner + i;
      for (i64 r = 0; r < n; r++) {
        row[r] = x[base + r * inner];
        order[r] = r;
      }
      if (desc) std::stable_sort(order.begin(), order.end(), [&](i64 p, i64 q) { return less_nan_last(row[q], row[p]); });
      else std::stable_sort(order.begin(), order.end(), [&](i64 p, i64 q) { return less_nan_last(row[p], row[q]); });
      for (i64 r = 0; r < n; r++) {
        v[base + r * inner] = row[order[r]];
        idx[base + r * inner] = (double)order[r];
      }
    }
  return undef(env);
}

// searchsorted(seq, sOff, values, vOff, out (Float64Array), oOff, outer, m, k, right)
napi_value SearchSorted(napi_env env, napi_callback_info info) {
  Args a(env, info, "searchsorted", 10);
  i64 outer = a.dim(6), m = a.dim(7), k = a.dim(8);
  const bool right = a.flag(9);
  const float* seq = a.f32(0, 1, outer * m);
  const float* val = a.f32(2, 3, outer * k);
  double* out = (double*)a.typed(4, napi_float64_array, "Float64Array", a.integer(5), 0, outer * k, false);
  if (!a.ok) return nullptr;
  for (i64 o = 0; o < outer; o++) {
    const float* s = seq + o * m;
    for (i64 j = 0; j < k; j++) {
      const float q = val[o * k + j];
      const float* p = right ? std::upper_bound(s, s + m, q, less_nan_last) : std::lower_bound(s, s + m, q, less_nan_last);
      out[o * k + j] = (double)(p - s);
    }
  }
  return undef(env);
}

// Shared by gather and scatter: reads ndim, the index's shape and strides, and checks every index against size.
struct IndexWalk {
  i64 nd = 0, shape[16], ist[16], total = 1;
  const double* index = nullptr;
  i64 ilo = 0;
};

bool read_walk(Args& a, size_t ndArg, size_t shapeArg, size_t idxArg, size_t iOffArg, size_t iStArg, IndexWalk& w) {
  w.nd = a.dim(ndArg);
  if (!a.ok) return false;
  if (w.nd > 16) {
    a.fail_range("at most 16 dimensions");
    return false;
  }
  read_i32s(a, shapeArg, w.nd, w.shape);
  read_i32s(a, iStArg, w.nd, w.ist);
  if (!a.ok) return false;
  for (i64 d = 0; d < w.nd; d++) {
    if (w.shape[d] < 0) {
      a.fail_range("negative dimension");
      return false;
    }
    w.total *= w.shape[d];
  }
  i64 lo, hi;
  strided_extent((int)w.nd, w.shape, w.ist, lo, hi);
  w.index = (const double*)a.typed(idxArg, napi_float64_array, "Float64Array", a.integer(iOffArg), -lo, hi, false);
  return a.ok;
}

// Calls f(c, k) for each element of the index in row-major order: c its coordinates, k the index value there.
template <class F>
bool walk(Args& a, const IndexWalk& w, i64 dim, i64 size, F f) {
  i64 c[16] = {0};
  i64 ip = 0;
  for (i64 e = 0; e < w.total; e++) {
    const double k = w.index[ip];
    if (!(k >= 0 && k < (double)size && k == std::floor(k))) {
      std::string m = "index " + std::to_string((long long)k) + " is out of bounds for dimension " + std::to_string(dim) +
                      " with size " + std::to_string(size);
      a.fail_range(m.c_str());
      return false;
    }
    f(c, (i64)k);
    for (i64 d = w.nd - 1; d >= 0; d--) {
      ip += w.ist[d];
      if (++c[d] < w.shape[d]) break;
      ip -= w.ist[d] * w.shape[d];
      c[d] = 0;
    }
  }
  return true;
}

// gather(nd, idxShape, x, xOff, xShape, xStrides, index, iOff, iStrides, y, yOff, dim): y contiguous, index's shape.
napi_value Gather(napi_env env, napi_callback_info info) {
  Args a(env, info, "gather", 12);
  IndexWalk w;
  if (!read_walk(a, 0, 1, 6, 7, 8, w)) return nullptr;
  i64 xshape[16], xst[16];
  read_i32s(a, 4, w.nd, xshape);
  read_i32s(a, 5, w.nd, xst);
  i64 dim = a.dim(11);
  if (!a.ok) return nullptr;
  if (dim >= w.nd) {
    a.fail_range("dim out of range");
    return nullptr;
  }
  for (i64 d = 0; d < w.nd; d++)
    if (d != dim && w.shape[d] > xshape[d]) {
      a.fail_range("index is larger than the input outside dim");
      return nullptr;
    }
  i64 lo, hi;
  strided_extent((int)w.nd, xshape, xst, lo, hi);
  const float* x = (const float*)a.typed(2, napi_float32_array, "Float32Array", a.integer(3), -lo, hi, false);
  float* y = a.f32(9, 10, w.total);
  if (!a.ok) return nullptr;
  i64 e = 0;
  walk(a, w, dim, xshape[dim], [&](const i64* c, i64 k) {
    i64 p = 0;
    for (i64 d = 0; d < w.nd; d++) p += (d == dim ? k : c[d]) * xst[d];
    y[e++] = x[p];
  });
  return a.ok ? undef(env) : nullptr;
}

// scatter(nd, idxShape, src, sOff, sStrides, index, iOff, iStrides, y, yOff, yShape, dim, accumulate): y contiguous.
napi_value Scatter(napi_env env, napi_callback_info info) {
  Args a(env, info, "scatter", 13);
  IndexWalk w;
  if (!read_walk(a, 0, 1, 5, 6, 7, w)) return nullptr;
  i64 sst[16], yshape[16], yst[16];
  read_i32s(a, 4, w.nd, sst);
  read_i32s(a, 10, w.nd, yshape);
  i64 dim = a.dim(11);
  const bool acc = a.flag(12);
  if (!a.ok) return nullptr;
  if (dim >= w.nd) {
    a.fail_range("dim out of range");
    return nullptr;
  }
  i64 ytotal = 1;
  for (i64 d = w.nd - 1; d >= 0; d--) {
    if (d != dim && w.shape[d] > yshape[d]) {
      a.fail_range("index is larger than the output outside dim");
      return nullptr;
    }
    yst[d] = ytotal;
    ytotal *= yshape[d];
  }
  i64 lo, hi;
  strided_extent((int)w.nd, w.shape, sst, lo, hi);
  const float* s = (const float*)a.typed(2, napi_float32_array, "Float32Array", a.integer(3), -lo, hi, false);
  float* y = a.f32(8, 9, ytotal);
  if (!a.ok) return nullptr;
  walk(a, w, dim, yshape[dim], [&](const i64* c, i64 k) {
    i64 p = 0, q = 0;
    for (i64 d = 0; d < w.nd; d++) {
      p += (d == dim ? k : c[d]) * yst[d];
      q += c[d] * sst[d];
    }
    if (acc) y[p] += s[q];
    else y[p] = s[q];
  });
  return a.ok ? undef(env) : nullptr;
}

template <class T>
void bitwise_loop(int op, const T* x, const T* z, T* y, i64 n) {
  for (i64 i = 0; i < n; i++) y[i] = op == 0 ? (x[i] & z[i]) : op == 1 ? (x[i] | z[i]) : (x[i] ^ z[i]);
}

// bitwise(op (0 and, 1 or, 2 xor), a, aOff, b, bOff, y, yOff, n): contiguous, one integer array type for all three
// (Int32Array, Uint8Array for uint8/bool, Float64Array for int64, whose values are exact integers).
napi_value Bitwise(napi_env env, napi_callback_info info) {
  Args a(env, info, "bitwise", 8);
  i64 op = a.integer(0), n = a.dim(7);
  if (!a.ok) return nullptr;
  if (op < 0 || op > 2) {
    a.fail_range("op must be 0 (and), 1 (or) or 2 (xor)");
    return nullptr;
  }
  napi_typedarray_type type;
  size_t len;
  void* data;
  napi_value ab;
  size_t bo;
  if (napi_get_typedarray_info(env, a.v[1], &type, &len, &data, &ab, &bo) != napi_ok ||
      (type != napi_int32_array && type != napi_uint8_array && type != napi_float64_array)) {
    a.fail_arg(1, "an Int32Array, Uint8Array or Float64Array");
    return nullptr;
  }
  const char* name = type == napi_int32_array ? "Int32Array" : type == napi_uint8_array ? "Uint8Array" : "Float64Array";
  void* x = a.typed(1, type, name, a.integer(2), 0, n, false);
  void* z = a.typed(3, type, name, a.integer(4), 0, n, false);
  void* y = a.typed(5, type, name, a.integer(6), 0, n, false);
  if (!a.ok) return nullptr;
  if (type == napi_int32_array) bitwise_loop((int)op, (const int32_t*)x, (const int32_t*)z, (int32_t*)y, n);
  else if (type == napi_uint8_array) bitwise_loop((int)op, (const uint8_t*)x, (const uint8_t*)z, (uint8_t*)y, n);
  else {
    const double* X = (const double*)x;
    const double* Z = (const double*)z;
    double* Y = (double*)y;
    for (i64 i = 0; i < n; i++) {
      const int64_t u = (int64_t)X[i], v = (int64_t)Z[i];
      Y[i] = (double)(op == 0 ? (u & v) : op == 1 ? (u | v) : (u ^ v));
    }
  }
  return undef(env);
}

}  // namespace

void export_scan_sort(napi_env env, napi_value exports) {
  static const Export fns[] = {
      {"scan", Scan},
      {"sort", Sort},
      {"searchsorted", SearchSorted},
      {"gather", Gather},
      {"scatter", Scatter},
      {"bitwise", Bitwise},
  };
  export_all(env, exports, fns);
}

}  // namespace kdb
