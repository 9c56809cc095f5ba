// gelu forward / backward: the float kernels (unary op 6, unaryBackward op 6) checked against double erfc over a
// dense grid (max relative error, worst x) and timed against the old scalar double versions, at the airbench size.
//   g++ -O3 -std=c++17 -fno-math-errno -ffp-contract=fast -pthread -Wall -Wextra -Inative/cpu
//       native/dev/gelu.cc native/cpu/threadpool.cc -o /tmp/gelu && /tmp/gelu [n] [threads]
// -DPG_AVX2 / -DPG_SCALAR select the other instantiations.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common.h"

#pragma GCC push_options
#if defined(PG_SCALAR)
namespace pg {
#define KD_W 4
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
using clk = std::chrono::steady_clock;

static void old_fwd(const float* x, float* y, i64 n) {  // the previous kernel: scalar, double erfc
  for (i64 i = 0; i < n; i++) {
    double d = x[i];
    y[i] = (float)(0.5 * d * erfc(-d * 0.70710678118654752));
  }
}
static void old_bwd(const float* gy, const float* x, float* gx, i64 n) {
  for (i64 i = 0; i < n; i++) {
    double v = x[i];
    double cdf = 0.5 * erfc(-v * 0.70710678118654752);
    double pdf = exp(-0.5 * v * v) * 0.39894228040143268;
    gx[i] = (float)(gy[i] * (cdf + v * pdf));
  }
}
template <class F>
static double med_us(F f, int reps) {
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    auto a = clk::now();
    f();
    t.push_back(std::chrono::duration<double, std::micro>(clk::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main(int argc, char** argv) {
  i64 n = argc > 1 ? atoll(argv[1]) : 128LL * 64 * 32 * 32;
  if (argc > 2) kd::set_num_threads(atoi(argv[2]));
  // accuracy: every float in [-14.5, 14.5] step 2^-14 near 0 .. (dense grid), plus specials
  std::vector<float> xs;
  for (double v = -14.5; v <= 14.5; v += 1.0 / 4096) xs.push_back((float)v);
  for (float v : {0.f, -0.f, 1e-30f, -1e-30f, -0.7517915f, -0.75179154f, -0.7517916f, 1.f, -1.f, -1.5f, -0.2f,
                  -1.4999999f, -0.19999999f, 0.99999994f, -0.99999994f})
    xs.push_back(v);
  const i64 m = (i64)xs.size();
  std::vector<float> y(m), g(m), one(m, 1.f);
  pg::unary(6, xs.data(), y.data(), m);
  pg::unaryBackward(6, one.data(), xs.data(), g.data(), m);
  double wf = 0, wb = 0, xf = 0, xb = 0;
  for (i64 i = 0; i < m; i++) {
    double v = xs[i];
    double rf = 0.5 * v * erfc(-v * 0.70710678118654752);
    double rb = 0.5 * erfc(-v * 0.70710678118654752) + v * exp(-0.5 * v * v) * 0.39894228040143268;
    // the reference near gelu' = 0 loses digits in double too: use the product form there
    double ef = rf == 0 ? (y[i] == 0 ? 0 : 1) : fabs(y[i] - rf) / fabs(rf);
    double eb = rb == 0 ? (g[i] == 0 ? 0 : 1) : fabs(g[i] - rb) / fabs(rb);
    if (fabs(rf) < 1e-37) ef = 0;  // denormal results: absolute
    if (fabs(rb) < 1e-37) eb = 0;
    if (ef > wf) wf = ef, xf = v;
    if (eb > wb) wb = eb, xb = v;
  }
  printf("max rel err vs double: forward %.3g at x=%.9g, backward %.3g at x=%.9g (%lld points)\n", wf, xf, wb, xb,
         (long long)m);
  float sp[] = {NAN, INFINITY, -INFINITY, 20.f, -20.f, -14.f}, so[6], sg[6], s1[6] = {1, 1, 1, 1, 1, 1};
  pg::unary(6, sp, so, 6);
  pg::unaryBackward(6, s1, sp, sg, 6);
  for (int i = 0; i < 6; i++) printf("  x=%g gelu=%g gelu'=%g\n", sp[i], so[i], sg[i]);

  std::vector<float> x(n), o(n), gy(n), gx(n);
  for (i64 i = 0; i < n; i++) x[i] = ((float)rand() / RAND_MAX - 0.5f) * 6.f, gy[i] = (float)rand() / RAND_MAX;
  int reps = 15;
  printf("n=%lld threads=%d (W=%d)\n", (long long)n, kd::num_threads(), pg::W);
  printf("  forward  old (scalar double, 1 thread) %9.0f us\n", med_us([&] { old_fwd(x.data(), o.data(), n); }, reps));
  printf("  forward  new (unary op 6)              %9.0f us\n", med_us([&] { pg::unary(6, x.data(), o.data(), n); }, reps));
  printf("  backward old (scalar double, 1 thread) %9.0f us\n",
         med_us([&] { old_bwd(gy.data(), x.data(), gx.data(), n); }, reps));
  printf("  backward new (unaryBackward op 6)      %9.0f us\n",
         med_us([&] { pg::unaryBackward(6, gy.data(), x.data(), gx.data(), n); }, reps));
  return 0;
}
