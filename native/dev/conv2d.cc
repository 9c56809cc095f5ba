// conv2d playground: reference, numbered versions, validation and timing.
//   g++ -O3 -std=c++17 -fno-math-errno -ffp-contract=fast -pthread -Inative/cpu native/dev/conv2d.cc
//       native/cpu/threadpool.cc -o /tmp/conv2d && /tmp/conv2d [threads]
// Versions (all on the AVX-512 instantiation of native/cpu/kernels.inc):
//   v1  naive direct loops in float
//   v2  im2col + gemm per image (production building blocks, 1 thread)
//   v3  direct stride-1 kernel on a padded copy (production, 1 thread; only where stride == 1)
//   v4  production conv2d() entry (path choice + threads)
//   bwd production conv2dBackward() (gx, gw, gb together, then gw alone and gx alone)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "common.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
namespace pg {
#define KD_W 16
#define KD_MR 14
#define KD_NV 2
#ifndef PG_KERNELS
#define PG_KERNELS "kernels.inc"
#endif
#include PG_KERNELS
}  // namespace pg
#pragma GCC pop_options

using clk = std::chrono::steady_clock;
static double now() { return std::chrono::duration<double>(clk::now().time_since_epoch()).count(); }

template <class F>
static double best_time(F f, double min_time = 0.25) {
  f();
  double best = 1e30, t0 = now();
  int reps = 0;
  while (now() - t0 < min_time || reps < 3) {
    double s = now();
    f();
    double e = now() - s;
    if (e < best) best = e;
    reps++;
  }
  return best;
}

struct Shape {
  const char* name;
  long N, C, H, W, OC, K, stride, pad;
};

int main(int argc, char** argv) {
  int th = argc > 1 ? atoi(argv[1]) : (int)std::thread::hardware_concurrency();
  Shape shapes[] = {
      {"lenet conv1 b4", 4, 3, 32, 32, 6, 5, 1, 0},     {"lenet conv2 b4", 4, 6, 14, 14, 16, 5, 1, 0},
      {"lenet conv1 b128", 128, 3, 32, 32, 6, 5, 1, 0}, {"lenet conv2 b128", 128, 6, 14, 14, 16, 5, 1, 0},
      {"air 2x2 3->24 b128", 128, 3, 32, 32, 24, 2, 1, 0}, {"3x3 64->64 32x32 b16", 16, 64, 32, 32, 64, 3, 1, 1},
      {"3x3 256->256 16x16 b16", 16, 256, 16, 16, 256, 3, 1, 1}, {"3x3 256->256 8x8 b16", 16, 256, 8, 8, 256, 3, 1, 1},
      {"3x3 3->24 32x32 b32", 32, 3, 32, 32, 24, 3, 1, 1}, {"3x3 16->32 16x16 b32", 32, 16, 16, 16, 32, 3, 1, 1},
      {"3x3 3->8 32x32 b32", 32, 3, 32, 32, 8, 3, 1, 1}, {"2x2 16->16 16x16 b32", 32, 16, 16, 16, 16, 2, 1, 0},
      {"air 3x3 24->64 31x31 b32", 32, 24, 31, 31, 64, 3, 1, 1}, {"air 3x3 64->64 15x15 b32", 32, 64, 15, 15, 64, 3, 1, 1},
      {"air 3x3 64->256 15x15 b32", 32, 64, 15, 15, 256, 3, 1, 1}, {"air 3x3 256->256 7x7 b32", 32, 256, 7, 7, 256, 3, 1, 1},
      {"air 3x3 256->256 3x3 b32", 32, 256, 3, 3, 256, 3, 1, 1},
      {"1x1 64->128 16x16 b16", 16, 64, 16, 16, 128, 1, 1, 0},  {"3x3 s2 32->64 16x16 b16", 16, 32, 16, 16, 64, 3, 2, 1},
  };
  for (const Shape& s : shapes) {
    long OH = (s.H + 2 * s.pad - s.K) / s.stride + 1, OW = (s.W + 2 * s.pad - s.K) / s.stride + 1;
    kd::i64 d[kd::CD_COUNT] = {s.N, s.C, s.H, s.W, s.OC, s.K, s.K, s.stride, s.stride, s.pad, s.pad, 1, 1, 1, OH, OW};
    pg::Conv p(d);
    std::vector<float> x(s.N * s.C * s.H * s.W), w(s.OC * s.C * s.K * s.K), b(s.OC), y(s.N * s.OC * OH * OW);
    srand(3);
    for (auto& v : x) v = (float)rand() / RAND_MAX - 0.5f;
    for (auto& v : w) v = (float)rand() / RAND_MAX - 0.5f;
    for (auto& v : b) v = (float)rand() / RAND_MAX - 0.5f;
    double flops = 2.0 * s.N * s.OC * OH * OW * s.C * s.K * s.K;
    // reference (double) on the first image only
    std::vector<double> ref(s.OC * OH * OW);
    for (long o = 0; o < s.OC; o++)
      for (long oh = 0; oh < OH; oh++)
        for (long ow = 0; ow < OW; ow++) {
          double acc = b[o];
          for (long c = 0; c < s.C; c++)
            for (long kh = 0; kh < s.K; kh++)
              for (long kw = 0; kw < s.K; kw++) {
                long ih = oh * s.stride - s.pad + kh, iw = ow * s.stride - s.pad + kw;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                acc += (double)x[(c * s.H + ih) * s.W + iw] * w[((o * s.C + c) * s.K + kh) * s.K + kw];
              }
          ref[(o * OH + oh) * OW + ow] = acc;
        }
    auto err = [&] {
      double e = 0;
      for (size_t i = 0; i < ref.size(); i++) e = std::fmax(e, std::fabs(ref[i] - y[i]) / (1 + std::fabs(ref[i])));
      return e;
    };
    printf("%-26s N=%ld C=%ld %ldx%ld OC=%ld k%ld s%ld p%ld  (%.1f MFLOP)\n", s.name, s.N, s.C, s.H, s.W, s.OC, s.K,
           s.stride, s.pad, flops * 1e-6);
    kd::set_num_threads(1);
    if (flops < 3e8) {
      double t = best_time([&] {
        for (long n = 0; n < s.N; n++)
          for (long o = 0; o < s.OC; o++)
            for (long oh = 0; oh < OH; oh++)
              for (long ow = 0; ow < OW; ow++) {
                float acc = b[o];
                for (long c = 0; c < s.C; c++)
                  for (long kh = 0; kh < s.K; kh++)
                    for (long kw = 0; kw < s.K; kw++) {
                      long ih = oh * s.stride - s.pad + kh, iw = ow * s.stride - s.pad + kw;
                      if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                      acc += x[((n * s.C + c) * s.H + ih) * s.W + iw] * w[((o * s.C + c) * s.K + kh) * s.K + kw];
                    }
                y[((n * s.OC + o) * OH + oh) * OW + ow] = acc;
              }
      });
      printf("  v1 naive           %9.1f us %7.1f GFLOP/s err %.1e\n", t * 1e6, flops / t * 1e-9, err());
    }
    {
      double t = best_time([&] {
        for (long n = 0; n < s.N; n++) {
          const float* xn = x.data() + n * s.C * s.H * s.W;
          float* yn = y.data() + n * s.OC * OH * OW;
          const float* col = xn;
          if (!p.is1x1()) {
            float* c = kd::scratch(3, (size_t)(p.Kc * p.OHW));
            pg::im2col(p, xn, c, p.OHW);
            col = c;
          }
          for (long o = 0; o < s.OC; o++)
            for (long q = 0; q < p.OHW; q++) yn[o * p.OHW + q] = b[o];
          pg::gemm_serial(false, false, s.OC, p.OHW, p.Kc, 1.f, w.data(), p.Kc, col, p.OHW, 1.f, yn, p.OHW);
        }
      });
      printf("  v2 im2col+gemm     %9.1f us %7.1f GFLOP/s err %.1e\n", t * 1e6, flops / t * 1e-9, err());
    }
    if (s.stride == 1) {
      double t = best_time([&] {
        for (long n = 0; n < s.N; n++)
          pg::conv_direct_image(p, x.data() + n * s.C * s.H * s.W, w.data(), b.data(), y.data() + n * s.OC * OH * OW);
      });
      printf("  v3 direct          %9.1f us %7.1f GFLOP/s err %.1e\n", t * 1e6, flops / t * 1e-9, err());
    }
    kd::set_num_threads(th);
    {
      double t = best_time([&] { pg::conv2d(x.data(), w.data(), b.data(), y.data(), d); });
      printf("  v4 conv2d() %dt     %9.1f us %7.1f GFLOP/s err %.1e  [%s]\n", th, t * 1e6, flops / t * 1e-9, err(),
             p.direct() ? "direct" : (p.is1x1() ? "1x1 gemm" : "im2col+gemm"));
    }
    {
      std::vector<float> gx(x.size()), gw(w.size()), gb(b.size());
      double t = best_time([&] { pg::conv2dBackward(y.data(), x.data(), w.data(), gx.data(), gw.data(), gb.data(), d); });
      double tw = best_time([&] { pg::conv2dBackward(y.data(), x.data(), w.data(), nullptr, gw.data(), nullptr, d); });
      double tx = best_time([&] { pg::conv2dBackward(y.data(), x.data(), w.data(), gx.data(), nullptr, nullptr, d); });
      printf("  bwd conv2dBackward %9.1f us %7.1f GFLOP/s (gx+gw+gb); gw alone %.1f us %.1f GFLOP/s, gx alone %.1f us %.1f GFLOP/s\n",
             t * 1e6, 2 * flops / t * 1e-9, tw * 1e6, flops / tw * 1e-9, tx * 1e6, flops / tx * 1e-9);
    }
  }
  return 0;
}
