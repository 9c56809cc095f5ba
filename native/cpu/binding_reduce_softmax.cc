// Node-API bindings: sum/prod/max reductions, index select/add, softmax and fused cross-entropy.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "binding_args.h"

namespace kdb {
namespace {

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
  const bool isMin = a.argc > 9 && a.flag(9);  // optional: min / argmin instead
  if (!a.ok) return nullptr;
  T->maxDim(x, y, idx, outer, red, inner, isMin);
  return undef(env);
}

napi_value SumAll(napi_env env, napi_callback_info info) {
  Args a(env, info, "sumAll", 3);
  i64 n = a.dim(2);
  const float* x = a.f32(0, 1, n);
  if (!a.ok) return nullptr;
  return number(env, (double)(float)T->sumAll(x, n));
}

napi_value ProdDim(napi_env env, napi_callback_info info) {
  Args a(env, info, "prodDim", 7);
  i64 outer = a.dim(4), red = a.dim(5), inner = a.dim(6);
  const float* x = a.f32(0, 1, outer * red * inner);
  float* y = a.f32(2, 3, outer * inner);
  if (!a.ok) return nullptr;
  T->prodDim(x, y, outer, red, inner);
  return undef(env);
}

// indexSelect / indexAdd(x, xOff, index (Float64Array), iOff, m, y, yOff, outer, n, inner): x is [outer, n, inner]
// and y [outer, m, inner] for indexSelect; the other way round for indexAdd (y accumulates).
napi_value Gather(napi_env env, napi_callback_info info, bool add) {
  Args a(env, info, add ? "indexAdd" : "indexSelect", 10);
  i64 m = a.dim(4), outer = a.dim(7), n = a.dim(8), inner = a.dim(9);
  const double* idx = (const double*)a.typed(2, napi_float64_array, "Float64Array", a.integer(3), 0, m, false);
  const float* x = a.f32(0, 1, outer * (add ? m : n) * inner);
  float* y = a.f32(5, 6, outer * (add ? n : m) * inner);
  if (!a.ok) return nullptr;
  for (i64 j = 0; j < m; j++) {
    if (!(idx[j] >= 0 && idx[j] < (double)n && idx[j] == std::floor(idx[j]))) {
      std::string msg = "index " + std::to_string(idx[j]) + " is out of bounds for dimension of size " + std::to_string(n);
      a.fail_range(msg.c_str());
      return nullptr;
    }
  }
  (add ? T->indexAdd : T->indexSelect)(x, idx, m, y, outer, n, inner);
  return undef(env);
}
napi_value IndexSelect(napi_env env, napi_callback_info info) { return Gather(env, info, false); }
napi_value IndexAdd(napi_env env, napi_callback_info info) { return Gather(env, info, true); }

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


}  // namespace

void export_reduce_softmax(napi_env env, napi_value exports) {
  static const Export fns[] = {
      {"sumDim", SumDim},
      {"maxDim", MaxDim},
      {"sumAll", SumAll},
      {"prodDim", ProdDim},
      {"indexSelect", IndexSelect},
      {"indexAdd", IndexAdd},
      {"softmax", Softmax},
      {"softmaxBackward", SoftmaxBackward},
      {"crossEntropy", CrossEntropy},
  };
  export_all(env, exports, fns);
}

}  // namespace kdb
