// The matmul used when no cuBLAS(Lt) is found: C = alpha * op(A) @ op(B) + beta * C over a batch, all row-major
// with leading dimensions and batch strides in elements (the GemmArgs contract of src/backends/cuda/runtime.ts).
// 64 x 64 output tiles, K in steps of 16 through shared memory, 256 threads each computing a 4 x 4 grid of outputs
// spaced 16 apart (conflict-free shared reads). Accumulates in T (float32 matmul accumulates in float, as PyTorch's).
// Also the bias broadcasts that linear and conv2d start from (then a gemm with beta = 1).
#include "common.cuh"

#define GM_TILE 64
#define GM_KT 16

template <typename T>
__device__ __forceinline__ void gemm_tile(
    int transA, int transB, i64 M, i64 N, i64 K, const T* A, i64 lda, i64 sA, const T* B, i64 ldb, i64 sB,
    T* C, i64 ldc, i64 sC, i64 batch, double alpha, double beta) {
  __shared__ T As[GM_KT][GM_TILE + 1];
  __shared__ T Bs[GM_KT][GM_TILE + 1];
  const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
  const i64 tilesN = (N + GM_TILE - 1) / GM_TILE, tilesM = (M + GM_TILE - 1) / GM_TILE;
  for (i64 b = blockIdx.z; b < batch; b += gridDim.z) {
    const T* Ab = A + b * sA;
    const T* Bb = B + b * sB;
    T* Cb = C + b * sC;
    for (i64 tile = blockIdx.x; tile < tilesM * tilesN; tile += gridDim.x) {
      const i64 row0 = (tile / tilesN) * GM_TILE, col0 = (tile % tilesN) * GM_TILE;
      T acc[4][4];
      for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = (T)0;
      for (i64 k0 = 0; k0 < K; k0 += GM_KT) {
        // 1024 elements of each tile, 4 per thread: element e -> (k = e / 64, m = e % 64) of the K x 64 tile.
        for (int q = 0; q < 4; q++) {
          const int e = threadIdx.x + q * 256, kk = e >> 6, mm = e & 63;
          const i64 k = k0 + kk, i = row0 + mm, j = col0 + mm;
          As[kk][mm] = (k < K && i < M) ? (transA ? Ab[k * lda + i] : Ab[i * lda + k]) : (T)0;
          Bs[kk][mm] = (k < K && j < N) ? (transB ? Bb[j * ldb + k] : Bb[k * ldb + j]) : (T)0;
        }
        __syncthreads();
        for (int kk = 0; kk < GM_KT; kk++) {
          T a[4], bv[4];
          for (int r = 0; r < 4; r++) a[r] = As[kk][ty + 16 * r];
          for (int c = 0; c < 4; c++) bv[c] = Bs[kk][tx + 16 * c];
          for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) acc[r][c] += a[r] * bv[c];
        }
        __syncthreads();
      }
      for (int r = 0; r < 4; r++) {
        const i64 i = row0 + ty + 16 * r;
        if (i >= M) continue;
        for (int c = 0; c < 4; c++) {
          const i64 j = col0 + tx + 16 * c;
          if (j >= N) continue;
          T* out = Cb + i * ldc + j;
          const T v = (T)alpha * acc[r][c];
          *out = beta == 0.0 ? v : v + (T)beta * *out;
        }
      }
    }
  }
}

extern "C" __global__ void k_gemm_f32(
    int transA, int transB, i64 M, i64 N, i64 K, const float* A, i64 lda, i64 sA, const float* B, i64 ldb, i64 sB,
    float* C, i64 ldc, i64 sC, i64 batch, double alpha, double beta) {
  gemm_tile(transA, transB, M, N, K, A, lda, sA, B, ldb, sB, C, ldc, sC, batch, alpha, beta);
}
extern "C" __global__ void k_gemm_f64(
    int transA, int transB, i64 M, i64 N, i64 K, const double* A, i64 lda, i64 sA, const double* B, i64 ldb, i64 sB,
    double* C, i64 ldc, i64 sC, i64 batch, double alpha, double beta) {
  gemm_tile(transA, transB, M, N, K, A, lda, sA, B, ldb, sB, C, ldc, sC, batch, alpha, beta);
}

// out viewed as [outer, n, inner] = bias[n] (or 0 without a bias): linear is outer = M, inner = 1; conv2d is
// outer = N, n = OC, inner = OH * OW.
template <typename T>
__device__ __forceinline__ void bias_fill(T* out, const T* bias, i64 outer, i64 n, i64 inner) {
  const i64 total = outer * n * inner;
  for (i64 i = k_tid(); i < total; i += k_nthreads()) out[i] = bias ? bias[(i / inner) % n] : (T)0;
}

extern "C" __global__ void k_bias_fill_f32(float* out, const float* bias, i64 outer, i64 n, i64 inner) { bias_fill(out, bias, outer, n, inner); }
extern "C" __global__ void k_bias_fill_f64(double* out, const double* bias, i64 outer, i64 n, i64 inner) { bias_fill(out, bias, outer, n, inner); }

// out viewed as [outer, n, inner] += bias[n] (after a library convolution, which has no bias term).
template <typename T>
__device__ __forceinline__ void bias_add(T* out, const T* bias, i64 outer, i64 n, i64 inner) {
  const i64 total = outer * n * inner;
  for (i64 i = k_tid(); i < total; i += k_nthreads()) out[i] += bias[(i / inner) % n];
}

extern "C" __global__ void k_bias_add_f32(float* out, const float* bias, i64 outer, i64 n, i64 inner) { bias_add(out, bias, outer, n, inner); }
extern "C" __global__ void k_bias_add_f64(double* out, const double* bias, i64 outer, i64 n, i64 inner) { bias_add(out, bias, outer, n, inner); }
