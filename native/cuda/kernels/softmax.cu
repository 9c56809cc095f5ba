// Softmax / log-softmax forward and backward over [outer, n, inner] (contiguous), and the losses: fused
// cross-entropy (log-softmax + NLL with label smoothing, ignoreIndex, reductions, gradient) and NLL forward and
// backward. Sums are accumulated in double as in the reference. A class index outside [0, C) that is not
// ignoreIndex is reported through the runtime's KErr record (the host throws at the next synchronisation) and the
// row is treated as ignored.
#include "common.cuh"

__device__ __forceinline__ float sm_exp(float x) { return expf(x); }
__device__ __forceinline__ double sm_exp(double x) { return exp(x); }

// ---- softmax: a block per row when inner == 1, a thread per (outer, inner) column otherwise ----

template <typename T>
__device__ __forceinline__ void sm_rows(const T* x, T* y, i64 outer, i64 n, int logOut) {
  __shared__ double sh[32];
  for (i64 o = blockIdx.x; o < outer; o += gridDim.x) {
    const T* xr = x + o * n;
    T* yr = y + o * n;
    double m = -k_inf();
    for (i64 k = threadIdx.x; k < n; k += blockDim.x) m = k_nanmax(m, (double)xr[k]);
    m = k_block_max(m, sh);
    double s = 0.0;
    for (i64 k = threadIdx.x; k < n; k += blockDim.x) s += (double)sm_exp((T)((double)xr[k] - m));
    s = k_block_sum(s, sh);
    const double ls = log(s);
    for (i64 k = threadIdx.x; k < n; k += blockDim.x) {
      const double z = (double)xr[k] - m;
      yr[k] = logOut ? (T)(z - ls) : (T)((double)sm_exp((T)z) / s);
    }
  }
}

template <typename T>
__device__ __forceinline__ void sm_cols(const T* x, T* y, i64 outer, i64 n, i64 inner, int logOut) {
  for (i64 j = k_tid(); j < outer * inner; j += k_nthreads()) {
    const i64 o = j / inner, i = j - o * inner;
    const T* xr = x + o * n * inner + i;
    T* yr = y + o * n * inner + i;
    double m = -k_inf();
    for (i64 k = 0; k < n; k++) m = k_nanmax(m, (double)xr[k * inner]);
    double s = 0.0;
    for (i64 k = 0; k < n; k++) s += (double)sm_exp((T)((double)xr[k * inner] - m));
    const double ls = log(s);
    for (i64 k = 0; k < n; k++) {
      const double z = (double)xr[k * inner] - m;
      yr[k * inner] = logOut ? (T)(z - ls) : (T)((double)sm_exp((T)z) / s);
    }
  }
}

extern "C" __global__ void k_softmax_rows_f32(const float* x, float* y, i64 outer, i64 n, int logOut) { sm_rows(x, y, outer, n, logOut); }
extern "C" __global__ void k_softmax_rows_f64(const double* x, double* y, i64 outer, i64 n, int logOut) { sm_rows(x, y, outer, n, logOut); }
extern "C" __global__ void k_softmax_cols_f32(const float* x, float* y, i64 outer, i64 n, i64 inner, int logOut) {
  sm_cols(x, y, outer, n, inner, logOut);
}
extern "C" __global__ void k_softmax_cols_f64(const double* x, double* y, i64 outer, i64 n, i64 inner, int logOut) {
  sm_cols(x, y, outer, n, inner, logOut);
}

// gx = log ? gy - exp(y) * sum(gy) : y * (gy - sum(gy * y))
template <typename T>
__device__ __forceinline__ void sm_bwd_rows(const T* gy, const T* y, T* gx, i64 outer, i64 n, int logOut) {
  __shared__ double sh[32];
  for (i64 o = blockIdx.x; o < outer; o += gridDim.x) {
    const i64 b = o * n;
    double s = 0.0;
    for (i64 k = threadIdx.x; k < n; k += blockDim.x) s += logOut ? (double)gy[b + k] : (double)gy[b + k] * (double)y[b + k];
    s = k_block_sum(s, sh);
    for (i64 k = threadIdx.x; k < n; k += blockDim.x) {
      const double yv = (double)y[b + k], g = (double)gy[b + k];
      gx[b + k] = logOut ? (T)(g - (double)sm_exp((T)yv) * s) : (T)(yv * (g - s));
    }
  }
}

template <typename T>
__device__ __forceinline__ void sm_bwd_cols(const T* gy, const T* y, T* gx, i64 outer, i64 n, i64 inner, int logOut) {
  for (i64 j = k_tid(); j < outer * inner; j += k_nthreads()) {
    const i64 o = j / inner, i = j - o * inner, b = o * n * inner + i;
    double s = 0.0;
    for (i64 k = 0; k < n; k++) {
      const i64 q = b + k * inner;
      s += logOut ? (double)gy[q] : (double)gy[q] * (double)y[q];
    }
    for (i64 k = 0; k < n; k++) {
      const i64 q = b + k * inner;
      const double yv = (double)y[q], g = (double)gy[q];
      gx[q] = logOut ? (T)(g - (double)sm_exp((T)yv) * s) : (T)(yv * (g - s));
    }
  }
}

extern "C" __global__ void k_softmax_bwd_rows_f32(const float* gy, const float* y, float* gx, i64 outer, i64 n, int logOut) {
  sm_bwd_rows(gy, y, gx, outer, n, logOut);
}
extern "C" __global__ void k_softmax_bwd_rows_f64(const double* gy, const double* y, double* gx, i64 outer, i64 n, int logOut) {
  sm_bwd_rows(gy, y, gx, outer, n, logOut);
}
extern "C" __global__ void k_softmax_bwd_cols_f32(const float* gy, const float* y, float* gx, i64 outer, i64 n, i64 inner, int logOut) {
  sm_bwd_cols(gy, y, gx, outer, n, inner, logOut);
}
extern "C" __global__ void k_softmax_bwd_cols_f64(const double* gy, const double* y, double* gx, i64 outer, i64 n, i64 inner, int logOut) {
  sm_bwd_cols(gy, y, gx, outer, n, inner, logOut);
}

// ---- losses ----

#define RED_NONE 0
#define RED_MEAN 1
#define RED_SUM 2

// Is target t a class to score? Reports (and skips) an index outside [0, C) that is not ignoreIndex.
__device__ __forceinline__ bool sm_keep(double t, i64 C, double ignore, KErr* err, u64 code) {
  if (t == ignore) return false;
  if (!(t >= 0.0 && t < (double)C)) {
    k_report(err, code, (i64)t, C);
    return false;
  }
  return true;
}

// One block: the number of scored targets into scratch[0] (the mean's divisor), every bad index reported.
extern "C" __global__ void k_loss_count(const void* tgt, int tdt, i64 N, i64 C, double ignore, double* scratch, KErr* err, u64 code) {
  __shared__ double sh[32];
  double c = 0.0;
  for (i64 i = threadIdx.x; i < N; i += blockDim.x) c += sm_keep(k_load(tgt, tdt, i), C, ignore, err, code) ? 1.0 : 0.0;
  c = k_block_sum(c, sh);
  if (threadIdx.x == 0) scratch[0] = c;
}

// A block per row: per[i] = (1 - eps) * (lse - x[t]) + eps / C * sum_c (lse - x[c]); grad (optional) is
// (softmax - smoothed one-hot) times the reduction's scale (1 / count for mean).
template <typename T>
__device__ __forceinline__ void ce_rows(
    const T* x, const void* tgt, int tdt, i64 N, i64 C, double ignore, double eps, int reduction,
    const double* scratch, double* per, T* grad) {
  __shared__ double sh[32];
  const double scale = reduction == RED_MEAN ? 1.0 / scratch[0] : 1.0;
  for (i64 i = blockIdx.x; i < N; i += gridDim.x) {
    const T* xr = x + i * C;
    const double t = k_load(tgt, tdt, i);
    const bool keep = t != ignore && t >= 0.0 && t < (double)C;
    if (!keep) {
      if (threadIdx.x == 0) per[i] = 0.0;
      if (grad) for (i64 c = threadIdx.x; c < C; c += blockDim.x) grad[i * C + c] = (T)0;
      continue;
    }
    const i64 ti = (i64)t;
    double m = -k_inf();
    for (i64 c = threadIdx.x; c < C; c += blockDim.x) m = k_nanmax(m, (double)xr[c]);
    m = k_block_max(m, sh);
    double s = 0.0;
    for (i64 c = threadIdx.x; c < C; c += blockDim.x) s += exp((double)xr[c] - m);
    s = k_block_sum(s, sh);
    const double lse = m + log(s);
    double neg = 0.0;
    for (i64 c = threadIdx.x; c < C; c += blockDim.x) neg += lse - (double)xr[c];
    neg = k_block_sum(neg, sh);
    if (threadIdx.x == 0) per[i] = (1.0 - eps) * (lse - (double)xr[ti]) + (eps / (double)C) * neg;
    if (grad) {
      for (i64 c = threadIdx.x; c < C; c += blockDim.x) {
        const double pc = exp((double)xr[c] - m) / s;
        grad[i * C + c] = (T)((pc - (c == ti ? 1.0 - eps : 0.0) - eps / (double)C) * scale);
      }
    }
  }
}

extern "C" __global__ void k_ce_rows_f32(
    const float* x, const void* tgt, int tdt, i64 N, i64 C, double ignore, double eps, int reduction,
    const double* scratch, double* per, float* grad) {
  ce_rows(x, tgt, tdt, N, C, ignore, eps, reduction, scratch, per, grad);
}
extern "C" __global__ void k_ce_rows_f64(
    const double* x, const void* tgt, int tdt, i64 N, i64 C, double ignore, double eps, int reduction,
    const double* scratch, double* per, double* grad) {
  ce_rows(x, tgt, tdt, N, C, ignore, eps, reduction, scratch, per, grad);
}

// per[i] = -logp[i, t] for scored rows, 0 otherwise.
template <typename T>
__device__ __forceinline__ void nll_rows(const T* logp, const void* tgt, int tdt, i64 N, i64 C, double ignore, double* per) {
  for (i64 i = k_tid(); i < N; i += k_nthreads()) {
    const double t = k_load(tgt, tdt, i);
    per[i] = (t != ignore && t >= 0.0 && t < (double)C) ? -(double)logp[i * C + (i64)t] : 0.0;
  }
}

extern "C" __global__ void k_nll_rows_f32(const float* logp, const void* tgt, int tdt, i64 N, i64 C, double ignore, double* per) {
  nll_rows(logp, tgt, tdt, N, C, ignore, per);
}
extern "C" __global__ void k_nll_rows_f64(const double* logp, const void* tgt, int tdt, i64 N, i64 C, double ignore, double* per) {
  nll_rows(logp, tgt, tdt, N, C, ignore, per);
}

// One block: loss = per (reduction none), or sum(per) * scale (1 / count for mean, from scratch[0]).
template <typename T>
__device__ __forceinline__ void loss_reduce(const double* per, i64 N, int reduction, const double* scratch, T* loss) {
  __shared__ double sh[32];
  if (reduction == RED_NONE) {
    for (i64 i = threadIdx.x; i < N; i += blockDim.x) loss[i] = (T)per[i];
    return;
  }
  double s = 0.0;
  for (i64 i = threadIdx.x; i < N; i += blockDim.x) s += per[i];
  s = k_block_sum(s, sh);
  if (threadIdx.x == 0) loss[0] = (T)(s * (reduction == RED_MEAN ? 1.0 / scratch[0] : 1.0));
}

extern "C" __global__ void k_loss_reduce_f32(const double* per, i64 N, int reduction, const double* scratch, float* loss) {
  loss_reduce(per, N, reduction, scratch, loss);
}
extern "C" __global__ void k_loss_reduce_f64(const double* per, i64 N, int reduction, const double* scratch, double* loss) {
  loss_reduce(per, N, reduction, scratch, loss);
}

// One block; gx is already zero. gx[i, t] = -g, g the upstream gradient of row i (none) or gLoss / count (mean)
// or gLoss (sum); count is every target that is not ignoreIndex, as in the reference.
template <typename T>
__device__ __forceinline__ void nll_bwd(
    const void* tgt, int tdt, i64 N, i64 C, double ignore, const T* gLoss, int reduction, T* gx, KErr* err, u64 code) {
  __shared__ double sh[32];
  double cnt = 0.0;
  for (i64 i = threadIdx.x; i < N; i += blockDim.x) cnt += k_load(tgt, tdt, i) != ignore ? 1.0 : 0.0;
  cnt = k_block_sum(cnt, sh);
  for (i64 i = threadIdx.x; i < N; i += blockDim.x) {
    const double t = k_load(tgt, tdt, i);
    if (!sm_keep(t, C, ignore, err, code)) continue;
    const double g = reduction == RED_NONE ? (double)gLoss[i] : (double)gLoss[0] / (reduction == RED_MEAN ? cnt : 1.0);
    gx[i * C + (i64)t] = (T)(-g);
  }
}

extern "C" __global__ void k_nll_bwd_f32(
    const void* tgt, int tdt, i64 N, i64 C, double ignore, const float* gLoss, int reduction, float* gx, KErr* err, u64 code) {
  nll_bwd(tgt, tdt, N, C, ignore, gLoss, reduction, gx, err, code);
}
extern "C" __global__ void k_nll_bwd_f64(
    const void* tgt, int tdt, i64 N, i64 C, double ignore, const double* gLoss, int reduction, double* gx, KErr* err, u64 code) {
  nll_bwd(tgt, tdt, N, C, ignore, gLoss, reduction, gx, err, code);
}
