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

int main() {
  int bad = 0;
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
