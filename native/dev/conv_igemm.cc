// Implicit-GEMM conv playground (native/cpu/kernels/conv_igemm.inc) on airbench94's 3x3 layers, AVX2 build:
// forward, input gradient (flipped convolution) and weight gradient, one thread, GFLOP per CPU-second of the thread
// (a loaded machine disturbs CPU time much less than wall time; compare with native/dev/fma_peak.cc's per-CPU-second
// peak), median of 5. Arg: [batch] (default 32; the per-image work is what matters).
//   g++ -O3 -std=c++17 -fno-math-errno -ffp-contract=fast -pthread -Inative/cpu native/dev/conv_igemm.cc
//       native/cpu/threadpool.cc -o /tmp/conv_igemm && /tmp/conv_igemm
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi,bmi2,f16c")
namespace pg {
#define KD_W 8
#define KD_MR 6
#define KD_NV 2
#include "kernels.inc"
}  // namespace pg
#pragma GCC pop_options

static double cpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
template <class F>
static double med(F f) {
  f();
  std::vector<double> v;
  for (int r = 0; r < 5; r++) {
    double t = cpu();
    f();
    v.push_back(cpu() - t);
  }
  std::sort(v.begin(), v.end());
  return v[2];
}

int main(int argc, char** argv) {
  const long N = argc > 1 ? atol(argv[1]) : 32;
  kd::set_num_threads(1);
  struct L { const char* name; long C, H, OC; } ls[] = {{"24->64 @31", 24, 31, 64},   {"64->64 @15", 64, 15, 64},
                                                        {"64->256 @15", 64, 15, 256}, {"256->256 @7", 256, 7, 256},
                                                        {"256->256 @3", 256, 3, 256}};
  for (auto& l : ls) {
    const long d[kd::CD_COUNT] = {N, l.C, l.H, l.H, l.OC, 3, 3, 1, 1, 1, 1, 1, 1, 1, l.H, l.H};
    pg::Conv p(d);
    std::vector<float> x(N * l.C * l.H * l.H), w(l.OC * l.C * 9), y(N * l.OC * l.H * l.H), gw(w.size());
    for (auto& v : x) v = rand() / (float)RAND_MAX - 0.5f;
    for (auto& v : w) v = rand() / (float)RAND_MAX - 0.5f;
    for (auto& v : y) v = rand() / (float)RAND_MAX - 0.5f;
    std::vector<float> gx(x.size());
    const double fl = 2.0 * N * l.OC * l.H * l.H * l.C * 9 / 1e9;
    double tf = med([&] { pg::conv2d_igemm(p, x.data(), w.data(), nullptr, y.data()); });
    double td = med([&] { pg::conv_gx_direct(p, y.data(), w.data(), gx.data()); });
    double tw = med([&] { pg::conv2d_wgrad_igemm(p, y.data(), x.data(), gw.data()); });
    printf("%-12s fwd %5.1f  dgrad %5.1f  wgrad %5.1f GFLOP/cpu-s\n", l.name, fl / tf, fl / td, fl / tw);
  }
}
