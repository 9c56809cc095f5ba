// Node-API bindings: unary, binary and comparison ops (contiguous, scalar, broadcast-strided), axpby and strided
// copy, plus the op-name lists that tell the TypeScript loader which code is which op.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "binding_args.h"

namespace kdb {
namespace {

bool unknown_op(Args& a, i64 op, const char* what) {
  std::string m = "unknown " + std::string(what) + " op code " + std::to_string(op) +
                  " (the addon and the TypeScript op table disagree: rebuild with `npm run build`)";
  a.fail_range(m.c_str());
  return false;
}

napi_value Unary(napi_env env, napi_callback_info info) {
  Args a(env, info, "unary", 6);
  i64 op = a.integer(0), n = a.dim(5);
  const float* x = a.f32(1, 2, n);
  float* y = a.f32(3, 4, n);
  if (!a.ok) return nullptr;
  if (op < 0 || op >= kd::U_COUNT || !T->unary((int)op, x, y, n)) return unknown_op(a, op, "unary"), nullptr;
  return undef(env);
}

napi_value UnaryBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "unaryBackward", 8);
  i64 op = a.integer(0), n = a.dim(7);
  const float* gy = a.f32(1, 2, n);
  const float* x = a.f32(3, 4, n);
  float* gx = a.f32(5, 6, n);
  if (!a.ok) return nullptr;
  if (op < 0 || op >= kd::U_COUNT || !T->unaryBackward((int)op, gy, x, gx, n)) {
    a.fail_range("op code must be that of relu, gelu, sigmoid or tanh");
    return nullptr;
  }
  return undef(env);
}

napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info, "binary", 8);
  i64 op = a.integer(0), n = a.dim(7);
  const float* x = a.f32(1, 2, n);
  const float* z = a.f32(3, 4, n);
  float* y = a.f32(5, 6, n);
  if (!a.ok) return nullptr;
  if (op < 0 || op >= kd::B_FIRST_CMP || !T->binary((int)op, x, z, y, n)) return unknown_op(a, op, "arithmetic"), nullptr;
  return undef(env);
}

napi_value BinaryScalar(napi_env env, napi_callback_info info) {
  Args a(env, info, "binaryScalar", 7);
  i64 op = a.integer(0), n = a.dim(6);
  const float* x = a.f32(1, 2, n);
  float s = (float)a.num(3);
  float* y = a.f32(4, 5, n);
  if (!a.ok) return nullptr;
  if (op < 0 || op >= kd::B_FIRST_CMP || !T->binaryScalar((int)op, x, s, y, n)) {
    return unknown_op(a, op, "arithmetic"), nullptr;
  }
  return undef(env);
}

// The strided elementwise calls share one argument layout from argument `first`: (ndim, shape, then per input:
// array, offset, strides, then the contiguous output: array, offset). Strides are in elements and may be 0 or
// negative. Inputs are Float32Arrays unless in_types says otherwise.
struct Strided {
  int m = 0;  // coalesced dims
  i64 shape[16];
  i64 st[3][16];
  const void* in[3] = {nullptr, nullptr, nullptr};
  void* out = nullptr;
  i64 total = 0;
};

const char* type_name(napi_typedarray_type t) {
  return t == napi_uint8_array ? "Uint8Array" : t == napi_float64_array ? "Float64Array" : "Float32Array";
}

// Reads, bounds-checks and coalesces (size-1 dims dropped, dims contiguous for every input merged).
bool read_strided(Args& a, size_t first, int nin, napi_typedarray_type outType, Strided& s,
                  const napi_typedarray_type* in_types = nullptr) {
  i64 nd = a.dim(first);
  if (!a.ok) return false;
  if (nd > 16) {
    a.fail_range("at most 16 dimensions");
    return false;
  }
  i64 shape[16], st[3][16];
  read_i32s(a, first + 1, nd, shape);
  for (int k = 0; k < nin; k++) read_i32s(a, first + 4 + 3 * k, nd, st[k]);
  if (!a.ok) return false;
  s.total = 1;
  for (int d = 0; d < nd; d++) {
    if (shape[d] < 0) {
      a.fail_range("negative dimension");
      return false;
    }
    s.total *= shape[d];
  }
  for (int k = 0; k < nin; k++) {
    i64 lo, hi;
    strided_extent((int)nd, shape, st[k], lo, hi);
    i64 off = a.integer(first + 3 + 3 * k);
    const napi_typedarray_type t = in_types ? in_types[k] : napi_float32_array;
    s.in[k] = a.typed(first + 2 + 3 * k, t, type_name(t), off, -lo, hi, false);
  }
  const size_t yi = first + 2 + 3 * nin;
  i64 yoff = a.integer(yi + 1);
  s.out = a.typed(yi, outType, type_name(outType), yoff, 0, s.total, false);
  if (!a.ok) return false;
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    bool merge = s.m > 0;
    for (int k = 0; k < nin && merge; k++) merge = s.st[k][s.m - 1] == st[k][d] * shape[d];
    if (merge) {
      s.shape[s.m - 1] *= shape[d];
      for (int k = 0; k < nin; k++) s.st[k][s.m - 1] = st[k][d];
      continue;
    }
    s.shape[s.m] = shape[d];
    for (int k = 0; k < nin; k++) s.st[k][s.m] = st[k][d];
    s.m++;
  }
  if (s.m == 0) {
    s.shape[0] = 1, s.m = 1;
    for (int k = 0; k < nin; k++) s.st[k][0] = 0;
  }
  return true;
}

napi_value UnaryStrided(napi_env env, napi_callback_info info) {
  Args a(env, info, "unaryStrided", 8);
  i64 op = a.integer(0);
  Strided s;
  if (!read_strided(a, 1, 1, napi_float32_array, s)) return nullptr;
  if (op < 0 || op >= kd::U_COUNT) return unknown_op(a, op, "unary"), nullptr;
  if (s.total == 0) return undef(env);
  if (!T->unaryStrided((int)op, s.m, s.shape, (const float*)s.in[0], s.st[0], (float*)s.out)) return unknown_op(a, op, "unary"), nullptr;
  return undef(env);
}

napi_value BinaryStrided(napi_env env, napi_callback_info info) {
  Args a(env, info, "binaryStrided", 11);
  i64 op = a.integer(0);
  Strided s;
  if (!read_strided(a, 1, 2, napi_float32_array, s)) return nullptr;
  const bool known = op >= 0 && op < kd::B_COUNT && (op < kd::B_FIRST_CMP || op >= kd::B_FIRST_GRAD);
  if (!known) return unknown_op(a, op, "arithmetic or gradient"), nullptr;
  if (s.total == 0) return undef(env);
  if (!T->binaryStrided((int)op, s.m, s.shape, (const float*)s.in[0], s.st[0], (const float*)s.in[1], s.st[1],
                        (float*)s.out)) {
    return unknown_op(a, op, "arithmetic or gradient"), nullptr;
  }
  return undef(env);
}

napi_value CompareStrided(napi_env env, napi_callback_info info) {
  Args a(env, info, "compareStrided", 11);
  i64 op = a.integer(0);
  Strided s;
  if (!read_strided(a, 1, 2, napi_uint8_array, s)) return nullptr;
  if (op < kd::B_FIRST_CMP || op >= kd::B_FIRST_GRAD) return unknown_op(a, op, "comparison"), nullptr;
  if (s.total == 0) return undef(env);
  if (!T->compareStrided((int)op, s.m, s.shape, (const float*)s.in[0], s.st[0], (const float*)s.in[1], s.st[1],
                         (uint8_t*)s.out)) {
    return unknown_op(a, op, "comparison"), nullptr;
  }
  return undef(env);
}

// clampStrided(lo, hi, ndim, shape, x, xOff, xStrides, y, yOff)
napi_value ClampStrided(napi_env env, napi_callback_info info) {
  Args a(env, info, "clampStrided", 9);
  const float lo = (float)a.num(0), hi = (float)a.num(1);
  Strided s;
  if (!read_strided(a, 2, 1, napi_float32_array, s)) return nullptr;
  if (s.total > 0) T->clampStrided(s.m, s.shape, (const float*)s.in[0], s.st[0], lo, hi, (float*)s.out);
  return undef(env);
}

// whereStrided(ndim, shape, cond (Uint8Array), cOff, cStrides, a, aOff, aStrides, b, bOff, bStrides, y, yOff)
napi_value WhereStrided(napi_env env, napi_callback_info info) {
  Args a(env, info, "whereStrided", 13);
  static const napi_typedarray_type types[3] = {napi_uint8_array, napi_float32_array, napi_float32_array};
  Strided s;
  if (!read_strided(a, 0, 3, napi_float32_array, s, types)) return nullptr;
  if (s.total > 0) {
    T->whereStrided(s.m, s.shape, (const uint8_t*)s.in[0], s.st[0], (const float*)s.in[1], s.st[1],
                    (const float*)s.in[2], s.st[2], (float*)s.out);
  }
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

napi_value names(napi_env env, const char* const* list, uint32_t n) {
  napi_value arr;
  napi_create_array_with_length(env, n, &arr);
  for (uint32_t i = 0; i < n; i++) {
    napi_value s;
    napi_create_string_utf8(env, list[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, arr, i, s);
  }
  return arr;
}

}  // namespace

void export_elementwise(napi_env env, napi_value exports) {
  static const Export fns[] = {
      {"unary", Unary},
      {"unaryStrided", UnaryStrided},
      {"unaryBackward", UnaryBackward},
      {"binary", Binary},
      {"binaryScalar", BinaryScalar},
      {"binaryStrided", BinaryStrided},
      {"compareStrided", CompareStrided},
      {"clampStrided", ClampStrided},
      {"whereStrided", WhereStrided},
      {"axpby", Axpby},
      {"copyStrided", CopyStrided},
  };
  export_all(env, exports, fns);
  // Op codes are positions in these lists (ops.h); the loader maps the TypeScript op names onto them.
#define KD_NAME(n) #n,
  static const char* const unary_names[] = {KD_UNARY_OPS(KD_NAME)};
  static const char* const binary_names[] = {KD_BINARY_OPS(KD_NAME)};
#undef KD_NAME
  napi_set_named_property(env, exports, "unaryOps", names(env, unary_names, kd::U_COUNT));
  napi_set_named_property(env, exports, "binaryOps", names(env, binary_names, kd::B_COUNT));
}

}  // namespace kdb
