// Node-API argument parsing shared by the binding files (one per kernel family). Argument parsing uses the plain C
// API with a fixed stack array (no per-call heap allocation); every typed-array argument is bounds-checked against
// the extent the kernel will touch, so a wrong shape from JS throws instead of corrupting memory.
#pragma once
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "common.h"

namespace kdb {

using kd::i64;

// The kernel table picked for this CPU at load (binding.cc).
inline const kd::KernelTable* T = nullptr;

struct Export {
  const char* name;
  napi_callback cb;
};
inline void export_all(napi_env env, napi_value exports, const Export* fns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    napi_value v;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, nullptr, &v);
    napi_set_named_property(env, exports, fns[i].name, v);
  }
}
template <size_t N>
inline void export_all(napi_env env, napi_value exports, const Export (&fns)[N]) {
  export_all(env, exports, fns, N);
}

// One per family file: adds that family's functions to the module's exports.
void export_linalg(napi_env env, napi_value exports);
void export_conv_pool(napi_env env, napi_value exports);
void export_elementwise(napi_env env, napi_value exports);
void export_reduce_softmax(napi_env env, napi_value exports);
void export_norm_optim(napi_env env, napi_value exports);
void export_random(napi_env env, napi_value exports);
void export_scan_sort(napi_env env, napi_value exports);

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
    const i64 size = want == napi_uint8_array ? 1 : want == napi_float64_array ? 8 : 4;
    return (char*)data + off * size;
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

inline napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
inline napi_value number(napi_env env, double d) {
  napi_value r;
  napi_create_double(env, d, &r);
  return r;
}

inline i64 mat_extent(i64 rows, i64 cols, i64 ld) { return (rows <= 0 || cols <= 0) ? 0 : (rows - 1) * ld + cols; }

// Reads an Int32Array of ndim entries.
inline bool read_i32s(Args& a, size_t i, i64 ndim, i64* out) {
  if (ndim == 0) return a.ok;
  const int32_t* p = a.i32(i, (size_t)-1, ndim);
  if (!a.ok) return false;
  for (i64 k = 0; k < ndim; k++) out[k] = p[k];
  return true;
}

// extent [lo, hi) relative to the base offset for a strided view
inline void strided_extent(int nd, const i64* shape, const i64* st, i64& lo, i64& hi) {
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

}  // namespace kdb
