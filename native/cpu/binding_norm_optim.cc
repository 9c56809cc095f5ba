// Node-API bindings: batch norm and the optimizer steps (which take JS arrays of parameters).
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "binding_args.h"

namespace kdb {
namespace {

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


}  // namespace

void export_norm_optim(napi_env env, napi_value exports) {
  static const Export fns[] = {
      {"batchNorm2d", BatchNorm2d},
      {"batchNorm2dBackward", BatchNorm2dBackward},
      {"sgdStep", SgdStep},
      {"adamStep", AdamStep},
  };
  export_all(env, exports, fns);
}

}  // namespace kdb
