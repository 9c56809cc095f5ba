// Node-API bindings: gemm, batched gemm, linear forward/backward.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "binding_args.h"

namespace kdb {
namespace {

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


}  // namespace

void export_linalg(napi_env env, napi_value exports) {
  static const Export fns[] = {
      {"gemm", Gemm},
      {"bgemm", Bgemm},
      {"linear", Linear},
      {"linearBackward", LinearBackward},
  };
  export_all(env, exports, fns);
}

}  // namespace kdb
