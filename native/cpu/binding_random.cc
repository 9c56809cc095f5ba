// Node-API bindings: bulk random draws (random.cc) into Float32Array or Float64Array outputs. The generator state
// is the caller's Uint32Array of 4 words, advanced in place, so the JS Generator sees exactly where the draws left
// it (getState()/setState() stay exact).
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "binding_args.h"
#include "random.h"

namespace kdb {
namespace {

uint32_t* state_arg(Args& a, size_t i) {
  return (uint32_t*)a.typed(i, napi_uint32_array, "Uint32Array", 0, 0, 4, false);
}

// Argument i: a Float32Array or Float64Array holding [off, off + n) (off from argument i + 1).
bool float_out(Args& a, size_t i, i64 n, float** f32, double** f64) {
  *f32 = nullptr, *f64 = nullptr;
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t bo;
  if (a.ok && napi_get_typedarray_info(a.env, a.v[i], &type, &length, &data, &ab, &bo) == napi_ok &&
      type == napi_float64_array) {
    *f64 = (double*)a.typed(i, napi_float64_array, "Float64Array", a.integer(i + 1), 0, n, false);
  } else {
    *f32 = a.f32(i, i + 1, n);
  }
  return a.ok;
}

napi_value RngUniform(napi_env env, napi_callback_info info) {
  Args a(env, info, "rngUniform", 6);
  uint32_t* s = state_arg(a, 0);
  i64 n = a.dim(3);
  double from = a.num(4), to = a.num(5);
  float* f;
  double* d;
  if (!a.ok || !float_out(a, 1, n, &f, &d)) return nullptr;
  if (d) kd::rng_uniform(s, d, n, from, to);
  else kd::rng_uniform(s, f, n, from, to);
  return undef(env);
}

napi_value RngNormal(napi_env env, napi_callback_info info) {
  Args a(env, info, "rngNormal", 6);
  uint32_t* s = state_arg(a, 0);
  i64 n = a.dim(3);
  double mean = a.num(4), std = a.num(5);
  float* f;
  double* d;
  if (!a.ok || !float_out(a, 1, n, &f, &d)) return nullptr;
  return number(env, d ? kd::rng_normal(s, d, n, mean, std) : kd::rng_normal(s, f, n, mean, std));
}

napi_value RngPermutation(napi_env env, napi_callback_info info) {
  Args a(env, info, "rngPermutation", 4);
  uint32_t* s = state_arg(a, 0);
  i64 n = a.dim(3);
  double* p = (double*)a.typed(1, napi_float64_array, "Float64Array", a.integer(2), 0, n, false);
  if (!a.ok) return nullptr;
  kd::rng_permutation(s, p, n);
  return undef(env);
}

}  // namespace

void export_random(napi_env env, napi_value exports) {
  static const Export fns[] = {
      {"rngUniform", RngUniform},
      {"rngNormal", RngNormal},
      {"rngPermutation", RngPermutation},
  };
  export_all(env, exports, fns);
}

}  // namespace kdb
