// Reductions of a contiguous x viewed as [outer, red, inner] over red: sum, product, and max/min with int64
// indices (NaN wins, first index on ties, as the reference's sequential scan). Every dtype is read as a double and
// accumulated in double, as the reference does, then stored with castValue's semantics.
// Two layouts: `_rows` (inner == 1: a block per row, threads stride along it) and `_cols` (inner > 1: a 32 x 8
// block, x along inner for coalesced reads, y splitting red, partials combined in shared memory).
#include "common.cuh"

#define RD_COLS_X 32
#define RD_COLS_Y 8

struct RdSum {
  __device__ __forceinline__ static double init() { return 0.0; }
  __device__ __forceinline__ static double op(double a, double b) { return a + b; }
};
struct RdProd {
  __device__ __forceinline__ static double init() { return 1.0; }
  __device__ __forceinline__ static double op(double a, double b) { return a * b; }
};

template <class R>
__device__ __forceinline__ void rd_rows(const void* x, int xdt, void* out, int odt, i64 outer, i64 red) {
  __shared__ double sh[RD_COLS_X];
  for (i64 o = blockIdx.x; o < outer; o += gridDim.x) {
    double acc = R::init();
    for (i64 r = threadIdx.x; r < red; r += blockDim.x) acc = R::op(acc, k_load(x, xdt, o * red + r));
    for (int w = 16; w > 0; w >>= 1) acc = R::op(acc, __shfl_down_sync(0xffffffffu, acc, w));
    __syncthreads();
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
      double t = R::init();
      for (int w = 0; w < (int)(blockDim.x >> 5); w++) t = R::op(t, sh[w]);
      k_store(out, odt, o, t);
    }
  }
}

template <class R>
__device__ __forceinline__ void rd_cols(const void* x, int xdt, void* out, int odt, i64 outer, i64 red, i64 inner) {
  __shared__ double sh[RD_COLS_Y][RD_COLS_X];
  const i64 i = (i64)blockIdx.x * RD_COLS_X + threadIdx.x;
  for (i64 o = blockIdx.y; o < outer; o += gridDim.y) {
    double acc = R::init();
    if (i < inner) {
      for (i64 r = threadIdx.y; r < red; r += RD_COLS_Y) acc = R::op(acc, k_load(x, xdt, (o * red + r) * inner + i));
    }
    __syncthreads();
    sh[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && i < inner) {
      double t = R::init();
      for (int y = 0; y < RD_COLS_Y; y++) t = R::op(t, sh[y][threadIdx.x]);
      k_store(out, odt, o * inner + i, t);
    }
  }
}

extern "C" __global__ void k_sum_rows(const void* x, int xdt, void* out, int odt, i64 outer, i64 red) {
  rd_rows<RdSum>(x, xdt, out, odt, outer, red);
}
extern "C" __global__ void k_sum_cols(const void* x, int xdt, void* out, int odt, i64 outer, i64 red, i64 inner) {
  rd_cols<RdSum>(x, xdt, out, odt, outer, red, inner);
}
extern "C" __global__ void k_prod_rows(const void* x, int xdt, void* out, int odt, i64 outer, i64 red) {
  rd_rows<RdProd>(x, xdt, out, odt, outer, red);
}
extern "C" __global__ void k_prod_cols(const void* x, int xdt, void* out, int odt, i64 outer, i64 red, i64 inner) {
  rd_cols<RdProd>(x, xdt, out, odt, outer, red, inner);
}

// Should candidate (v2, i2) replace the current best (v1, i1)? i1 < 0 marks "nothing yet". NaN beats numbers,
// the better value wins, and equal values (two NaNs included) keep the lower index.
__device__ __forceinline__ bool rd_better(double v2, i64 i2, double v1, i64 i1, int isMin) {
  if (i2 < 0) return false;
  if (i1 < 0) return true;
  const bool n1 = v1 != v1, n2 = v2 != v2;
  if (n1 || n2) return n1 && n2 ? i2 < i1 : n2;
  if (isMin ? v2 < v1 : v2 > v1) return true;
  return v2 == v1 && i2 < i1;
}

extern "C" __global__ void k_max_rows(
    const void* x, int xdt, void* vals, int vdt, void* idx, int idt, i64 outer, i64 red, int isMin) {
  __shared__ double shv[RD_COLS_X];
  __shared__ i64 shi[RD_COLS_X];
  for (i64 o = blockIdx.x; o < outer; o += gridDim.x) {
    double best = 0.0;
    i64 bi = -1;
    for (i64 r = threadIdx.x; r < red; r += blockDim.x) {
      const double v = k_load(x, xdt, o * red + r);
      if (rd_better(v, r, best, bi, isMin)) { best = v; bi = r; }
    }
    for (int w = 16; w > 0; w >>= 1) {
      const double v = __shfl_down_sync(0xffffffffu, best, w);
      const i64 j = __shfl_down_sync(0xffffffffu, bi, w);
      if (rd_better(v, j, best, bi, isMin)) { best = v; bi = j; }
    }
    __syncthreads();
    if ((threadIdx.x & 31) == 0) { shv[threadIdx.x >> 5] = best; shi[threadIdx.x >> 5] = bi; }
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < (int)(blockDim.x >> 5); w++) {
        if (rd_better(shv[w], shi[w], best, bi, isMin)) { best = shv[w]; bi = shi[w]; }
      }
      if (bi >= 0) {
        k_store(vals, vdt, o, best);
        k_store(idx, idt, o, (double)bi);
      }
    }
  }
}

extern "C" __global__ void k_max_cols(
    const void* x, int xdt, void* vals, int vdt, void* idx, int idt, i64 outer, i64 red, i64 inner, int isMin) {
  __shared__ double shv[RD_COLS_Y][RD_COLS_X];
  __shared__ i64 shi[RD_COLS_Y][RD_COLS_X];
  const i64 i = (i64)blockIdx.x * RD_COLS_X + threadIdx.x;
  for (i64 o = blockIdx.y; o < outer; o += gridDim.y) {
    double best = 0.0;
    i64 bi = -1;
    if (i < inner) {
      for (i64 r = threadIdx.y; r < red; r += RD_COLS_Y) {
        const double v = k_load(x, xdt, (o * red + r) * inner + i);
        if (rd_better(v, r, best, bi, isMin)) { best = v; bi = r; }
      }
    }
    __syncthreads();
    shv[threadIdx.y][threadIdx.x] = best;
    shi[threadIdx.y][threadIdx.x] = bi;
    __syncthreads();
    if (threadIdx.y == 0 && i < inner) {
      for (int y = 1; y < RD_COLS_Y; y++) {
        if (rd_better(shv[y][threadIdx.x], shi[y][threadIdx.x], best, bi, isMin)) {
          best = shv[y][threadIdx.x];
          bi = shi[y][threadIdx.x];
        }
      }
      if (bi >= 0) {
        k_store(vals, vdt, o * inner + i, best);
        k_store(idx, idt, o * inner + i, (double)bi);
      }
    }
  }
}
