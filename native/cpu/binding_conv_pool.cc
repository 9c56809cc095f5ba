// Node-API bindings: conv2d and pooling, forward and backward.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "binding_args.h"

namespace kdb {
namespace {

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


}  // namespace

void export_conv_pool(napi_env env, napi_value exports) {
  static const Export fns[] = {
      {"conv2d", Conv2d},
      {"conv2dBackward", Conv2dBackward},
      {"maxPool2d", MaxPool2d},
      {"maxPool2dBackward", MaxPool2dBackward},
      {"avgPool2d", AvgPool2d},
      {"avgPool2dBackward", AvgPool2dBackward},
  };
  export_all(env, exports, fns);
}

}  // namespace kdb
