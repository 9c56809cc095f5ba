// FMA throughput of this machine: 12 independent 8-float FMA chains per thread (enough to cover 2 ports x 4-5 cycles
// of latency), timed on 1..T threads. The figure every conv/GEMM percentage in bench/conv_layers.ts is measured
// against. Besides wall-clock rates it prints the rate per CPU-second of one thread (CLOCK_THREAD_CPUTIME_ID), which
// a loaded machine disturbs much less: compare it with `node dist/bench/conv_layers.js --threads 1 --cpu`.
//   g++ -O3 -std=c++17 -mavx2 -mfma -pthread native/dev/fma_peak.cc -o /tmp/fma_peak && /tmp/fma_peak [threads]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

static double run(long iters) {
  // the loop in assembly: compilers keep an array of vectors on the stack
  float out[8];
  const float m = 0.999999f, c = 1e-7f;
  asm volatile(
      "vbroadcastss %[m], %%ymm12\n"
      "vbroadcastss %[c], %%ymm13\n"
      "vmovaps %%ymm13, %%ymm0\n vmovaps %%ymm13, %%ymm1\n vmovaps %%ymm13, %%ymm2\n vmovaps %%ymm13, %%ymm3\n"
      "vmovaps %%ymm13, %%ymm4\n vmovaps %%ymm13, %%ymm5\n vmovaps %%ymm13, %%ymm6\n vmovaps %%ymm13, %%ymm7\n"
      "vmovaps %%ymm13, %%ymm8\n vmovaps %%ymm13, %%ymm9\n vmovaps %%ymm13, %%ymm10\n vmovaps %%ymm13, %%ymm11\n"
      "1:\n"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm0\n vfmadd231ps %%ymm12, %%ymm13, %%ymm1\n"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm2\n vfmadd231ps %%ymm12, %%ymm13, %%ymm3\n"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm4\n vfmadd231ps %%ymm12, %%ymm13, %%ymm5\n"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm6\n vfmadd231ps %%ymm12, %%ymm13, %%ymm7\n"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm8\n vfmadd231ps %%ymm12, %%ymm13, %%ymm9\n"
      "vfmadd231ps %%ymm12, %%ymm13, %%ymm10\n vfmadd231ps %%ymm12, %%ymm13, %%ymm11\n"
      "dec %[n]\n jnz 1b\n"
      "vaddps %%ymm1, %%ymm0, %%ymm0\n vaddps %%ymm11, %%ymm0, %%ymm0\n"
      "vmovups %%ymm0, %[out]\n"
      : [n] "+r"(iters), [out] "=m"(out)
      : [m] "m"(m), [c] "m"(c)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "cc");
  return out[0];
}

static double thread_cpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char** argv) {
  const long it1 = 200000000 / 12;
  {
    std::vector<double> rates;
    for (int rep = 0; rep < 5; rep++) {
      double c0 = thread_cpu();
      volatile double sink = run(it1);
      (void)sink;
      rates.push_back(it1 * 12.0 * 16.0 / (thread_cpu() - c0) / 1e9);
    }
    std::sort(rates.begin(), rates.end());
    printf("1 thread, per CPU-second: FMA peak median %.1f GFLOP/s (best %.1f)\n", rates[2], rates[4]);
  }
  const int maxT = argc > 1 ? atoi(argv[1]) : 2;
  const long iters = 200000000 / 12;
  for (int T = 1; T <= maxT; T++) {
    std::vector<double> rates;
    for (int rep = 0; rep < 5; rep++) {
      auto t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> th;
      volatile double sink = 0;
      for (int t = 0; t < T; t++) th.emplace_back([&] { sink = sink + run(iters); });
      for (auto& x : th) x.join();
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rates.push_back(T * iters * 12.0 * 16.0 / s / 1e9);
    }
    std::sort(rates.begin(), rates.end());
    printf("threads %d: FMA peak median %.1f GFLOP/s (best %.1f)\n", T, rates[2], rates[4]);
  }
}
