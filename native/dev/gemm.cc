// GEMM playground: reference, numbered versions, validation and timing.
//   g++ -O3 -std=c++17 -fno-math-errno -ffp-contract=fast -pthread -Inative/cpu native/dev/gemm.cc
//       native/cpu/threadpool.cc -o /tmp/gemm && /tmp/gemm [M N K] [threads]
// Versions:
//   v1  naive i-k-j loop (compiler auto-vectorised)
//   v2  production kernels.inc small (unpacked) path, forced
//   v3  production kernels.inc packed path, 1 thread
//   v4  production gemm() entry (small/packed choice + threads)
// Also measures the FMA peak (independent FMAs in registers) for 1 and N threads.
// Tile overrides for experiments: -DPG_MR=14 -DPG_NV=2 (AVX-512 register tile).
#include <immintrin.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "common.h"

#ifndef PG_MR
#define PG_MR 14
#endif
#ifndef PG_NV
#define PG_NV 2
#endif

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
namespace pg {
#define KD_W 16
#define KD_MR PG_MR
#define KD_NV PG_NV
#include "kernels.inc"
}  // namespace pg

// FMA peak: 24 independent zmm accumulators.
__attribute__((noinline)) static float fma_peak_loop(long iters) {
  __m512 acc[24];
  for (int i = 0; i < 24; i++) acc[i] = _mm512_set1_ps((float)i);
  __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 24; i++) s = _mm512_add_ps(s, acc[i]);
  float r[16];
  _mm512_storeu_ps(r, s);
  return r[0] + r[15];
}
#pragma GCC pop_options

using clk = std::chrono::steady_clock;
static double now() { return std::chrono::duration<double>(clk::now().time_since_epoch()).count(); }

static void ref(int M, int N, int K, const float* A, const float* B, double* C) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < K; k++) s += (double)A[i * K + k] * B[k * N + j];
      C[i * N + j] = s;
    }
}

static void v1(int M, int N, int K, const float* A, const float* B, float* C) {
  for (int i = 0; i < M * N; i++) C[i] = 0;
  for (int i = 0; i < M; i++)
    for (int k = 0; k < K; k++) {
      float a = A[i * K + k];
      for (int j = 0; j < N; j++) C[i * N + j] += a * B[k * N + j];
    }
}

template <class F>
static double bench(F f, double flops, double min_time = 0.3) {
  f();
  int reps = 1;
  double best = 1e30;
  double t0 = now();
  while (now() - t0 < min_time || reps < 3) {
    double s = now();
    f();
    double e = now() - s;
    if (e < best) best = e;
    reps++;
  }
  return flops / best * 1e-9;
}

int main(int argc, char** argv) {
  int M = argc > 3 ? atoi(argv[1]) : 512, N = argc > 3 ? atoi(argv[2]) : 512, K = argc > 3 ? atoi(argv[3]) : 512;
  int th = argc > 4 ? atoi(argv[4]) : (int)std::thread::hardware_concurrency();
  printf("tile %dx%d (NR=%d)  M=%d N=%d K=%d threads=%d\n", PG_MR, PG_NV * 16, PG_NV * 16, M, N, K, th);
  {
    long iters = 20000000;
    double t = now();
    volatile float r = fma_peak_loop(iters);
    (void)r;
    double g1 = 24.0 * 16 * 2 * iters / (now() - t) * 1e-9;
    std::vector<std::thread> ts;
    t = now();
    for (int i = 0; i < th; i++) ts.emplace_back([&] { volatile float q = fma_peak_loop(iters); (void)q; });
    for (auto& x : ts) x.join();
    double gn = 24.0 * 16 * 2 * iters * th / (now() - t) * 1e-9;
    printf("fp32 FMA peak: 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s\n", g1, th, gn);
  }
  std::vector<float> A((size_t)M * K), B((size_t)K * N), C((size_t)M * N);
  srand(1);
  for (auto& x : A) x = (float)rand() / RAND_MAX - 0.5f;
  for (auto& x : B) x = (float)rand() / RAND_MAX - 0.5f;
  double flops = 2.0 * M * N * K;
  bool check = (double)M * N * K <= 1.1e9;
  std::vector<double> R;
  if (check) {
    R.resize((size_t)M * N);
    ref(M, N, K, A.data(), B.data(), R.data());
  }
  auto err = [&]() {
    if (!check) return -1.0;
    double e = 0;
    for (size_t i = 0; i < C.size(); i++) {
      double d = std::fabs(C[i] - R[i]) / (std::fabs(R[i]) + 1e-3 * std::sqrt((double)K));
      if (d > e) e = d;
    }
    return e;
  };
  if ((double)M * N * K <= 2.0e8) {
    double g = bench([&] { v1(M, N, K, A.data(), B.data(), C.data()); }, flops);
    printf("v1 naive ikj          %8.1f GFLOP/s  err %.2e\n", g, err());
  }
  kd::set_num_threads(1);
  if ((double)M * N * K <= 3.0e8) {
    double g = bench([&] { pg::gemm_small_nn(false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N); }, flops);
    printf("v2 small unpacked     %8.1f GFLOP/s  err %.2e\n", g, err());
  }
  {
    double g = bench([&] { pg::gemm_packed(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N); },
                     flops);
    printf("v3 packed, 1 thread   %8.1f GFLOP/s  err %.2e\n", g, err());
  }
  kd::set_num_threads(th);
  {
    double g = bench([&] { pg::gemm(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N); }, flops);
    printf("v4 gemm(), %d threads  %8.1f GFLOP/s  err %.2e\n", th, g, err());
  }
  {
    // transposed variants through the production entry
    std::vector<float> At((size_t)K * M), Bt((size_t)N * K);
    for (int i = 0; i < M; i++)
      for (int k = 0; k < K; k++) At[(size_t)k * M + i] = A[(size_t)i * K + k];
    for (int k = 0; k < K; k++)
      for (int j = 0; j < N; j++) Bt[(size_t)j * K + k] = B[(size_t)k * N + j];
    double g = bench([&] { pg::gemm(true, true, M, N, K, 1.f, At.data(), M, Bt.data(), K, 0.f, C.data(), N); }, flops);
    printf("v4 gemm() TT          %8.1f GFLOP/s  err %.2e\n", g, err());
    g = bench([&] { pg::gemm(false, true, M, N, K, 1.f, A.data(), K, Bt.data(), K, 0.f, C.data(), N); }, flops);
    printf("v4 gemm() NT          %8.1f GFLOP/s  err %.2e\n", g, err());
  }
  return 0;
}
