// Batch norm over x contiguous [N, C, HW], statistics per channel over N * HW values, in double as the reference.
// Forward: k_bn_stats (a block per channel: mean, biased variance, invstd, running-stat update with the unbiased
// variance; or the running stats in eval mode) keeps the exact double mean and invstd in `stats` [2C] for
// k_bn_apply. Backward: k_bn_bwd_reduce (a block per channel: sum(g), sum(g * xhat)), then k_bn_bwd_apply.
#include "common.cuh"

template <typename T>
__device__ __forceinline__ void bn_stats(
    const T* x, i64 N, i64 C, i64 HW, int training, double momentum, double eps, T* rmean, T* rvar,
    T* saveMean, T* saveInvstd, double* stats) {
  __shared__ double sh[32];
  const i64 M = N * HW;
  for (i64 c = blockIdx.x; c < C; c += gridDim.x) {
    double mean, invstd;
    if (training) {
      double s = 0.0;
      for (i64 j = threadIdx.x; j < M; j += blockDim.x) {
        const i64 n = j / HW;
        s += (double)x[(n * C + c) * HW + (j - n * HW)];
      }
      mean = k_block_sum(s, sh) / (double)M;
      double v = 0.0;
      for (i64 j = threadIdx.x; j < M; j += blockDim.x) {
        const i64 n = j / HW;
        const double d = (double)x[(n * C + c) * HW + (j - n * HW)] - mean;
        v += d * d;
      }
      v = k_block_sum(v, sh);
      const double varBiased = v / (double)M;
      invstd = 1.0 / sqrt(varBiased + eps);
      if (threadIdx.x == 0 && rmean && rvar) {
        rmean[c] = (T)((1.0 - momentum) * (double)rmean[c] + momentum * mean);
        const double unbiased = M > 1 ? v / (double)(M - 1) : varBiased;
        rvar[c] = (T)((1.0 - momentum) * (double)rvar[c] + momentum * unbiased);
      }
    } else {
      mean = rmean ? (double)rmean[c] : 0.0;
      invstd = 1.0 / sqrt((rvar ? (double)rvar[c] : 1.0) + eps);
    }
    if (threadIdx.x == 0) {
      saveMean[c] = (T)mean;
      saveInvstd[c] = (T)invstd;
      stats[2 * c] = mean;
      stats[2 * c + 1] = invstd;
    }
  }
}

extern "C" __global__ void __launch_bounds__(1024) k_bn_stats_f32(
    const float* x, i64 N, i64 C, i64 HW, int training, double momentum, double eps, float* rmean, float* rvar,
    float* saveMean, float* saveInvstd, double* stats) {
  bn_stats(x, N, C, HW, training, momentum, eps, rmean, rvar, saveMean, saveInvstd, stats);
}
extern "C" __global__ void __launch_bounds__(1024) k_bn_stats_f64(
    const double* x, i64 N, i64 C, i64 HW, int training, double momentum, double eps, double* rmean, double* rvar,
    double* saveMean, double* saveInvstd, double* stats) {
  bn_stats(x, N, C, HW, training, momentum, eps, rmean, rvar, saveMean, saveInvstd, stats);
}

template <typename T>
__device__ __forceinline__ void bn_apply(const T* x, const double* stats, const T* w, const T* b, T* y, i64 C, i64 HW, i64 total) {
  for (i64 i = k_tid(); i < total; i += k_nthreads()) {
    const i64 c = (i / HW) % C;
    const double wc = w ? (double)w[c] : 1.0, bc = b ? (double)b[c] : 0.0;
    y[i] = (T)(((double)x[i] - stats[2 * c]) * stats[2 * c + 1] * wc + bc);
  }
}

extern "C" __global__ void k_bn_apply_f32(const float* x, const double* stats, const float* w, const float* b, float* y, i64 C, i64 HW, i64 total) {
  bn_apply(x, stats, w, b, y, C, HW, total);
}
extern "C" __global__ void k_bn_apply_f64(const double* x, const double* stats, const double* w, const double* b, double* y, i64 C, i64 HW, i64 total) {
  bn_apply(x, stats, w, b, y, C, HW, total);
}

template <typename T>
__device__ __forceinline__ void bn_bwd_reduce(
    const T* gy, const T* x, const T* saveMean, const T* saveInvstd, i64 N, i64 C, i64 HW, T* gw, T* gb, double* sums) {
  __shared__ double sh[32];
  const i64 M = N * HW;
  for (i64 c = blockIdx.x; c < C; c += gridDim.x) {
    const double mean = (double)saveMean[c], invstd = (double)saveInvstd[c];
    double sg = 0.0, sgx = 0.0;
    for (i64 j = threadIdx.x; j < M; j += blockDim.x) {
      const i64 n = j / HW;
      const i64 i = (n * C + c) * HW + (j - n * HW);
      const double g = (double)gy[i];
      sg += g;
      sgx += g * ((double)x[i] - mean) * invstd;
    }
    sg = k_block_sum(sg, sh);
    sgx = k_block_sum(sgx, sh);
    if (threadIdx.x == 0) {
      if (gb) gb[c] = (T)sg;
      if (gw) gw[c] = (T)sgx;
      sums[2 * c] = sg;
      sums[2 * c + 1] = sgx;
    }
  }
}

extern "C" __global__ void __launch_bounds__(1024) k_bn_bwd_reduce_f32(
    const float* gy, const float* x, const float* saveMean, const float* saveInvstd, i64 N, i64 C, i64 HW,
    float* gw, float* gb, double* sums) {
  bn_bwd_reduce(gy, x, saveMean, saveInvstd, N, C, HW, gw, gb, sums);
}
extern "C" __global__ void __launch_bounds__(1024) k_bn_bwd_reduce_f64(
    const double* gy, const double* x, const double* saveMean, const double* saveInvstd, i64 N, i64 C, i64 HW,
    double* gw, double* gb, double* sums) {
  bn_bwd_reduce(gy, x, saveMean, saveInvstd, N, C, HW, gw, gb, sums);
}

// training: gx = w * invstd / M * (M * g - sum(g) - xhat * sum(g * xhat)); eval: gx = g * w * invstd.
template <typename T>
__device__ __forceinline__ void bn_bwd_apply(
    const T* gy, const T* x, const T* w, const T* saveMean, const T* saveInvstd, const double* sums, T* gx,
    i64 N, i64 C, i64 HW, int training) {
  const i64 total = N * C * HW;
  const double M = (double)(N * HW);
  for (i64 i = k_tid(); i < total; i += k_nthreads()) {
    const i64 c = (i / HW) % C;
    const double mean = (double)saveMean[c], invstd = (double)saveInvstd[c], wc = w ? (double)w[c] : 1.0;
    const double g = (double)gy[i];
    if (training) {
      const double xhat = ((double)x[i] - mean) * invstd;
      gx[i] = (T)(((wc * invstd) / M) * (M * g - sums[2 * c] - xhat * sums[2 * c + 1]));
    } else {
      gx[i] = (T)(g * wc * invstd);
    }
  }
}

extern "C" __global__ void k_bn_bwd_apply_f32(
    const float* gy, const float* x, const float* w, const float* saveMean, const float* saveInvstd,
    const double* sums, float* gx, i64 N, i64 C, i64 HW, int training) {
  bn_bwd_apply(gy, x, w, saveMean, saveInvstd, sums, gx, N, C, HW, training);
}
extern "C" __global__ void k_bn_bwd_apply_f64(
    const double* gy, const double* x, const double* w, const double* saveMean, const double* saveInvstd,
    const double* sums, double* gx, i64 N, i64 C, i64 HW, int training) {
  bn_bwd_apply(gy, x, w, saveMean, saveInvstd, sums, gx, N, C, HW, training);
}
