// maxPool2d playground: the 2x2/stride-2 fast path against a naive reference (values and indices, with ties and
// NaNs), then timing on the tutorial shapes. ISA: AVX-512 by default, -DPG_AVX2 / -DPG_SCALAR for the others.
//   g++ -O3 -std=c++17 -fno-math-errno -ffp-contract=fast -pthread -Wall -Wextra -Inative/cpu
//       native/dev/maxpool.cc native/cpu/threadpool.cc -o /tmp/maxpool && /tmp/maxpool
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common.h"

#pragma GCC push_options
#if defined(PG_SCALAR)
namespace pg {
#define KD_W 1
#define KD_MR 4
#define KD_NV 4
#elif defined(PG_AVX2)
#pragma GCC target("avx2,fma,bmi,bmi2,f16c")
namespace pg {
#define KD_W 8
#define KD_MR 6
#define KD_NV 2
#else
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2,f16c")
namespace pg {
#define KD_W 16
#define KD_MR 14
#define KD_NV 2
#endif
#include "kernels.inc"
}  // namespace pg
#pragma GCC pop_options

using kd::i64;

// maxPool2dBackward: the kernel (one pass per plane where windows tile the plane, else zero + scatter) against the
// old single-threaded zero-fill + scatter, on forward indices of several pool configurations (non-overlapping,
// overlapping, padded, odd sizes, ties/NaNs), then timed on the airbench shapes.
static void old_bwd(const float* gy, const int32_t* idx, float* gx, i64 NC, i64 HW, i64 OHW) {
  for (i64 i = 0; i < NC * HW; i++) gx[i] = 0.f;
  for (i64 pl = 0; pl < NC; pl++)
    for (i64 q = 0; q < OHW; q++) {
      int32_t k = idx[pl * OHW + q];
      if (k >= 0 && k < HW) gx[pl * HW + k] += gy[pl * OHW + q];
    }
}
static int check_backward() {
  int bad = 0;
  // N, C, H, W, K, S, P
  const i64 cfg[][7] = {{2, 3, 31, 31, 2, 2, 0}, {2, 3, 15, 15, 3, 3, 0}, {2, 3, 7, 7, 3, 3, 0}, {2, 3, 3, 3, 3, 3, 0},
                        {2, 3, 31, 31, 3, 2, 0}, {2, 3, 9, 9, 3, 3, 1}, {1, 2, 8, 9, 2, 1, 0}, {1, 2, 10, 10, 2, 2, 1},
                        {1, 1, 5, 7, 5, 7, 0},   {1, 2, 6, 6, 1, 1, 0}};
  for (auto& c : cfg) {
    const i64 N = c[0], C = c[1], H = c[2], Wd = c[3], K = c[4], S = c[5], P = c[6];
    const i64 OH = (H + 2 * P - K) / S + 1, OW = (Wd + 2 * P - K) / S + 1;
    std::vector<float> x(N * C * H * Wd), y(N * C * OH * OW), gy(y.size()), g0(x.size()), g1(x.size(), 7.f);
    std::vector<int32_t> idx(y.size());
    for (auto& v : x) v = rand() % 20 == 0 ? NAN : (float)(rand() % 5);
    for (auto& v : gy) v = (float)rand() / RAND_MAX;
    i64 d[kd::PD_COUNT] = {N, C, H, Wd, K, K, S, S, P, P, 1, 1, OH, OW, 0, 0};
    pg::maxPool2d(x.data(), y.data(), idx.data(), d);
    old_bwd(gy.data(), idx.data(), g0.data(), N * C, H * Wd, OH * OW);
    pg::maxPool2dBackward(gy.data(), idx.data(), g1.data(), N * C, H, Wd, OH, OW);
    for (size_t i = 0; i < g0.size(); i++)
      if (g0[i] != g1[i] && bad++ < 5) printf("backward mismatch k%ld s%ld p%ld %ldx%ld at %zu\n", K, S, P, H, Wd, i);
  }
  // N, C, H, W, kernel = stride
  const i64 sh[][5] = {{128, 64, 31, 31, 2}, {128, 256, 15, 15, 2}, {128, 256, 7, 7, 2}, {128, 256, 3, 3, 3},
                       {4, 6, 28, 28, 2},     {4, 16, 10, 10, 2}};
  for (auto& s : sh) {
    const i64 N = s[0], C = s[1], H = s[2], Wd = s[3], KK = s[4], OH = H / KK, OW = Wd / KK;
    std::vector<float> x(N * C * H * Wd), y(N * C * OH * OW), gy(y.size()), gx(x.size());
    std::vector<int32_t> idx(y.size());
    for (auto& v : x) v = (float)rand() / RAND_MAX;
    for (auto& v : gy) v = (float)rand() / RAND_MAX;
    i64 d[kd::PD_COUNT] = {N, C, H, Wd, KK, KK, KK, KK, 0, 0, 1, 1, OH, OW, 0, 0};
    pg::maxPool2d(x.data(), y.data(), idx.data(), d);
    double t_old = 1e30, t_new = 1e30;
    for (int r = 0; r < 200; r++) {
      auto t0 = std::chrono::steady_clock::now();
      old_bwd(gy.data(), idx.data(), gx.data(), N * C, H * Wd, OH * OW);
      auto t1 = std::chrono::steady_clock::now();
      pg::maxPool2dBackward(gy.data(), idx.data(), gx.data(), N * C, H, Wd, OH, OW);
      auto t2 = std::chrono::steady_clock::now();
      t_old = std::fmin(t_old, std::chrono::duration<double, std::micro>(t1 - t0).count());
      t_new = std::fmin(t_new, std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
    printf("maxpool bwd k%ld %ldx%ldx%ldx%ld -> %ldx%ld: old %.1f us, new %.1f us (best of 200, %d threads)\n", KK, N,
           C, H, Wd, OH, OW, t_old, t_new, kd::num_threads());
  }
  return bad;
}

int main() {
  int bad = check_backward();
  const i64 shapes[][4] = {{4, 6, 28, 28}, {4, 16, 10, 10}, {2, 3, 29, 31}, {1, 2, 7, 9}, {3, 5, 66, 67}, {1, 1, 2, 2}};
  for (auto& s : shapes) {
    const i64 N = s[0], C = s[1], H = s[2], Wd = s[3], OH = H / 2, OW = Wd / 2;
    std::vector<float> x(N * C * H * Wd), y(N * C * OH * OW);
    std::vector<int32_t> idx(y.size());
    srand(5);
    for (auto& v : x) {
      int r = rand() % 20;
      v = r == 0 ? NAN : (float)(rand() % 5);  // many ties, some NaNs
    }
    i64 d[kd::PD_COUNT] = {N, C, H, Wd, 2, 2, 2, 2, 0, 0, 1, 1, OH, OW, 0, 0};
    pg::maxPool2d(x.data(), y.data(), idx.data(), d);
    for (i64 pl = 0; pl < N * C; pl++)
      for (i64 oh = 0; oh < OH; oh++)
        for (i64 ow = 0; ow < OW; ow++) {
          const float* xp = x.data() + pl * H * Wd;
          float best = -INFINITY;
          i64 bi = 2 * oh * Wd + 2 * ow;
          for (i64 kh = 0; kh < 2; kh++)
            for (i64 kw = 0; kw < 2; kw++) {
              i64 q = (2 * oh + kh) * Wd + 2 * ow + kw;
              if (xp[q] > best || xp[q] != xp[q]) best = xp[q], bi = q;
            }
          i64 o = pl * OH * OW + oh * OW + ow;
          bool same = (best == y[o] || (best != best && y[o] != y[o])) && bi == idx[o];
          if (!same && bad++ < 5) printf("mismatch shape %ldx%ldx%ldx%ld at %ld\n", N, C, H, Wd, o);
        }
    double best_us = 1e30;
    for (int r = 0; r < 200; r++) {
      auto t0 = std::chrono::steady_clock::now();
      pg::maxPool2d(x.data(), y.data(), idx.data(), d);
      best_us = std::fmin(best_us, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    printf("maxpool 2x2 %ldx%ldx%ldx%ld: %.2f us (best of 200)\n", N, C, H, Wd, best_us);
  }
  printf(bad ? "FAILED (%d mismatches)\n" : "all match\n", bad);
  return bad != 0;
}
