// Node-API bindings: unary, binary (contiguous, scalar, broadcast-strided), axpby and strided copy.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "binding_args.h"

namespace kdb {
namespace {

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


}  // namespace

void export_elementwise(napi_env env, napi_value exports) {
  static const Export fns[] = {
      {"unary", Unary},
      {"unaryBackward", UnaryBackward},
      {"binary", Binary},
      {"binaryScalar", BinaryScalar},
      {"binaryStrided", BinaryStrided},
      {"axpby", Axpby},
      {"copyStrided", CopyStrided},
  };
  export_all(env, exports, fns);
}

}  // namespace kdb
