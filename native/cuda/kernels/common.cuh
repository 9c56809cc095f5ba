// Shared definitions of kindling's CUDA kernels. No headers at all (not even the toolkit's), so NVRTC can compile
// the kernels on a machine with only the driver: every type and constant used is defined here. The build compiles
// all kernels/*.cu as one translation unit, so this file is guarded and each kernel is `extern "C"` and named k_*.
#ifndef KINDLING_CUDA_COMMON_CUH
#define KINDLING_CUDA_COMMON_CUH

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

// Element types as src/backends/cuda/kernels_common.ts numbers them. int64 is a true two's-complement int64 in
// device memory; bool is one byte holding 0 or 1.
#define DT_F32 0
#define DT_F64 1
#define DT_I32 2
#define DT_I64 3
#define DT_U8 4
#define DT_BOOL 5

#define K_MAX_RANK 8
#define K_BLOCK 256

// A strided view's geometry, passed by value (KernelArgs.raw, 8-byte aligned, 136 bytes). Sizes and strides are in
// elements; the view's offset is already folded into the pointer the kernel receives.
struct KGeom {
  i64 size[K_MAX_RANK];
  i64 stride[K_MAX_RANK];
  int rank;
  int pad;
};

// The device-side error record one runtime owns (src/backends/cuda/kernels_errors.ts): the first failing check
// stores its code, the offending value and the bound; the host reads it at the next synchronisation.
struct KErr {
  u64 code;
  i64 value;
  i64 bound;
};

__device__ __forceinline__ void k_report(KErr* err, u64 code, i64 value, i64 bound) {
  if (atomicCAS(&err->code, 0ULL, code) == 0ULL) {
    err->value = value;
    err->bound = bound;
  }
}

__device__ __forceinline__ i64 k_tid() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ i64 k_nthreads() { return (i64)gridDim.x * blockDim.x; }

__device__ __forceinline__ double k_nan() { return __longlong_as_double(0x7ff8000000000000LL); }
__device__ __forceinline__ double k_inf() { return __longlong_as_double(0x7ff0000000000000LL); }

// Storage position (in elements) of the linear, row-major index `i` of a view; rank 0 means contiguous.
__device__ __forceinline__ i64 k_pos(const KGeom& g, i64 i) {
  if (g.rank == 0) return i;
  i64 pos = 0;
  for (int d = g.rank - 1; d >= 0; d--) {
    const i64 s = g.size[d];
    const i64 q = i / s;
    pos += (i - q * s) * g.stride[d];
    i = q;
  }
  return pos;
}

__device__ __forceinline__ double k_load(const void* p, int dt, i64 i) {
  switch (dt) {
    case DT_F32: return (double)((const float*)p)[i];
    case DT_F64: return ((const double*)p)[i];
    case DT_I32: return (double)((const int*)p)[i];
    case DT_I64: return (double)((const i64*)p)[i];
    default: return (double)((const u8*)p)[i];
  }
}

// JavaScript's ToInt32 (what `v | 0` and an Int32Array store do): truncate, wrap modulo 2^32, NaN/inf to 0.
__device__ __forceinline__ int k_to_int32(double v) {
  if (!(v - v == 0.0)) return 0;
  double t = trunc(v);
  double m = fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (int)(u32)(u64)m;
}

// The value a dtype stores for v (core/dtype.ts castValue): truncation for ints, 0/1 for bool.
__device__ __forceinline__ void k_store(void* p, int dt, i64 i, double v) {
  switch (dt) {
    case DT_F32: ((float*)p)[i] = (float)v; break;
    case DT_F64: ((double*)p)[i] = v; break;
    case DT_I32: ((int*)p)[i] = k_to_int32(v); break;
    case DT_I64: {
      i64 r = 0;
      if (v - v == 0.0) {
        const double t = trunc(v);
        r = t >= 9.2233720368547758e18 ? (i64)0x7fffffffffffffffLL : t < -9.2233720368547758e18 ? (i64)(-0x7fffffffffffffffLL - 1) : (i64)t;
      }
      ((i64*)p)[i] = r;
      break;
    }
    case DT_U8: ((u8*)p)[i] = (u8)(k_to_int32(v) & 255); break;
    default: ((u8*)p)[i] = v != 0.0 ? 1 : 0; break;
  }
}

// Sum over a block (all threads call it; every thread gets the result). `sh` holds 32 doubles.
__device__ __forceinline__ double k_warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ double k_block_sum(double v, double* sh) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  v = k_warp_sum(v);
  __syncthreads();
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  double r = 0.0;
  if (warp == 0) {
    r = lane < nw ? sh[lane] : 0.0;
    r = k_warp_sum(r);
    if (lane == 0) sh[0] = r;
  }
  __syncthreads();
  r = sh[0];
  __syncthreads();
  return r;
}

// Max over a block that propagates NaN (as Math.max does).
__device__ __forceinline__ double k_nanmax(double a, double b) { return (a != a || b != b) ? k_nan() : (a > b ? a : b); }

__device__ __forceinline__ double k_block_max(double v, double* sh) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  for (int o = 16; o > 0; o >>= 1) v = k_nanmax(v, __shfl_down_sync(0xffffffffu, v, o));
  __syncthreads();
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  if (warp == 0) {
    double r = lane < nw ? sh[lane] : -k_inf();
    for (int o = 16; o > 0; o >>= 1) r = k_nanmax(r, __shfl_down_sync(0xffffffffu, r, o));
    if (lane == 0) sh[0] = r;
  }
  __syncthreads();
  const double r = sh[0];
  __syncthreads();
  return r;
}

#endif
