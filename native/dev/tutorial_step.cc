// The PyTorch CIFAR-10 tutorial training step at batch 4, as the exact sequence of native kernels one step runs
// (forward, cross entropy, backward, SGD with momentum), timed per kernel. Prints the median µs of every kernel
// over many steps and the median total, so kernel changes can be compared without the JS side.
//   g++ -O3 -std=c++17 -fno-math-errno -ffp-contract=fast -pthread -Wall -Wextra -Inative/cpu
//       native/dev/tutorial_step.cc native/cpu/threadpool.cc -o /tmp/tstep && /tmp/tstep [steps] [threads]
// To time another version of the kernels (e.g. the previous commit), point PG_KERNELS at a copy:
//   mkdir -p /tmp/old && git archive HEAD~1 native/cpu | tar -x -C /tmp/old   (kernels.inc includes kernels/*.inc)
//   g++ ... -DPG_KERNELS='"/tmp/old/native/cpu/kernels.inc"' native/dev/tutorial_step.cc
//       /tmp/old/native/cpu/threadpool.cc -o /tmp/tstep_old
// ISA: AVX-512 instantiation by default; -DPG_AVX2 or -DPG_SCALAR for the other paths.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common.h"

#ifndef PG_KERNELS
#define PG_KERNELS "kernels.inc"
#endif

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
#include PG_KERNELS
}  // namespace pg
#pragma GCC pop_options

using kd::i64;
using clk = std::chrono::steady_clock;

static std::vector<float> rnd(size_t n, float scale = 1.f) {
  std::vector<float> v(n);
  for (auto& x : v) x = ((float)rand() / RAND_MAX - 0.5f) * scale;
  return v;
}

struct Timer {
  std::vector<const char*> names;
  std::vector<std::vector<double>> t;
  int k = 0;
  clk::time_point last;
  void start() { k = 0, last = clk::now(); }
  void lap(const char* name) {
    auto n = clk::now();
    if ((int)names.size() <= k) names.push_back(name), t.emplace_back();
    t[k++].push_back(std::chrono::duration<double, std::micro>(n - last).count());
    last = clk::now();
  }
};

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 3000;
  if (argc > 2) kd::set_num_threads(atoi(argv[2]));
  srand(7);
  const i64 B = 4;
  // parameters, grads, momentum buffers: conv1 w,b conv2 w,b fc1 w,b fc2 w,b fc3 w,b
  const i64 psz[10] = {6 * 3 * 25, 6, 16 * 6 * 25, 16, 120 * 400, 120, 84 * 120, 84, 10 * 84, 10};
  std::vector<std::vector<float>> P, G, M;
  for (i64 s : psz) P.push_back(rnd(s, 0.2f)), G.emplace_back(s), M.emplace_back(s);
  auto x = rnd(B * 3 * 32 * 32, 2.f);
  int32_t tgt[4] = {3, 1, 7, 0};
  std::vector<float> a1(B * 6 * 784), r1(a1.size()), p1(B * 6 * 196), a2(B * 16 * 100), r2(a2.size()), p2(B * 400);
  std::vector<int32_t> i1(p1.size()), i2(p2.size());
  std::vector<float> h1(B * 120), q1(h1.size()), h2(B * 84), q2(h2.size()), lg(B * 10), glg(lg.size());
  std::vector<float> gq2(h2.size()), gh2(h2.size()), gq1(h1.size()), gh1(h1.size()), gp2(p2.size());
  std::vector<float> gr2(r2.size()), ga2(a2.size()), gp1(p1.size()), gr1(r1.size()), ga1(a1.size());
  float loss = 0;
  i64 c1[kd::CD_COUNT] = {B, 3, 32, 32, 6, 5, 5, 1, 1, 0, 0, 1, 1, 1, 28, 28};
  i64 c2[kd::CD_COUNT] = {B, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1, 10, 10};
  i64 m1[kd::PD_COUNT] = {B, 6, 28, 28, 2, 2, 2, 2, 0, 0, 1, 1, 14, 14, 0, 0};
  i64 m2[kd::PD_COUNT] = {B, 16, 10, 10, 2, 2, 2, 2, 0, 0, 1, 1, 5, 5, 0, 0};
  Timer tm;
  for (int it = 0; it < steps + 50; it++) {
    if (it == 50) tm = Timer();  // warm-up done
    tm.start();
    pg::conv2d(x.data(), P[0].data(), P[1].data(), a1.data(), c1);
    tm.lap("conv1 fwd 4x3x32x32->6 5x5");
    pg::unary(5, a1.data(), r1.data(), (i64)a1.size());
    tm.lap("relu 18816");
    pg::maxPool2d(r1.data(), p1.data(), i1.data(), m1);
    tm.lap("maxpool 4x6x28x28");
    pg::conv2d(p1.data(), P[2].data(), P[3].data(), a2.data(), c2);
    tm.lap("conv2 fwd 4x6x14x14->16 5x5");
    pg::unary(5, a2.data(), r2.data(), (i64)a2.size());
    tm.lap("relu 6400");
    pg::maxPool2d(r2.data(), p2.data(), i2.data(), m2);
    tm.lap("maxpool 4x16x10x10");
    pg::linear(p2.data(), P[4].data(), P[5].data(), h1.data(), B, 120, 400);
    pg::unary(5, h1.data(), q1.data(), (i64)h1.size());
    pg::linear(q1.data(), P[6].data(), P[7].data(), h2.data(), B, 84, 120);
    pg::unary(5, h2.data(), q2.data(), (i64)h2.size());
    pg::linear(q2.data(), P[8].data(), P[9].data(), lg.data(), B, 10, 84);
    tm.lap("fc1..fc3 fwd (+relu)");
    pg::crossEntropy(lg.data(), tgt, B, 10, -100, 0.f, 1, &loss, glg.data());
    tm.lap("cross entropy");
    pg::linearBackward(glg.data(), q2.data(), P[8].data(), gq2.data(), G[8].data(), G[9].data(), B, 10, 84);
    pg::unaryBackward(5, gq2.data(), h2.data(), gh2.data(), (i64)h2.size());
    pg::linearBackward(gh2.data(), q1.data(), P[6].data(), gq1.data(), G[6].data(), G[7].data(), B, 84, 120);
    pg::unaryBackward(5, gq1.data(), h1.data(), gh1.data(), (i64)h1.size());
    pg::linearBackward(gh1.data(), p2.data(), P[4].data(), gp2.data(), G[4].data(), G[5].data(), B, 120, 400);
    tm.lap("fc3..fc1 bwd (+relu)");
    pg::maxPool2dBackward(gp2.data(), i2.data(), gr2.data(), B * 16, 10, 10, 5, 5);
    tm.lap("maxpool bwd 4x16x10x10");
    pg::unaryBackward(5, gr2.data(), a2.data(), ga2.data(), (i64)a2.size());
    tm.lap("relu bwd 6400");
    pg::conv2dBackward(ga2.data(), p1.data(), P[2].data(), gp1.data(), G[2].data(), G[3].data(), c2);
    tm.lap("conv2 bwd (gx,gw,gb)");
    pg::maxPool2dBackward(gp1.data(), i1.data(), gr1.data(), B * 6, 28, 28, 14, 14);
    tm.lap("maxpool bwd 4x6x28x28");
    pg::unaryBackward(5, gr1.data(), a1.data(), ga1.data(), (i64)a1.size());
    tm.lap("relu bwd 18816");
    pg::conv2dBackward(ga1.data(), x.data(), P[0].data(), nullptr, G[0].data(), G[1].data(), c1);
    tm.lap("conv1 bwd (gw,gb)");
    for (int k = 0; k < 10; k++)
      pg::sgdStep(P[k].data(), G[k].data(), M[k].data(), psz[k], 1e-4f, 0.9f, 0.f, 0.f, false, false, it == 0);
    tm.lap("sgd momentum (10 params)");
  }
  printf("tutorial step b4, %d steps, %d threads, median us per kernel (loss %.4f)\n", steps, kd::num_threads(),
         loss);
  std::vector<double> tot(tm.t[0].size(), 0.0);
  for (size_t k = 0; k < tm.names.size(); k++) {
    printf("  %-32s %8.2f\n", tm.names[k], median(tm.t[k]));
    for (size_t i = 0; i < tot.size(); i++) tot[i] += tm.t[k][i];
  }
  printf("  %-32s %8.2f   (min %.2f)\n", "TOTAL (median of step sums)", median(tot),
         *std::min_element(tot.begin(), tot.end()));
  return 0;
}
