// Thread-pool idle cost: each iteration runs a tiny parallel_for, then ~100 us of serial work on the caller (like the
// small single-threaded kernels and JS glue that follow a parallel op). Prints wall time and process CPU time per
// iteration: CPU/wall near 2 on 2 threads means the idle worker spins through the serial phase.
//   g++ -O2 -std=c++17 -pthread -Wall -Wextra -Inative/cpu native/dev/pool_spin.cc native/cpu/threadpool.cc
//       -o /tmp/pool_spin && /tmp/pool_spin            (KINDLING_SPIN_US=80 /tmp/pool_spin ~ the old spin)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "common.h"

static double cpu_s() {
  rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_stime.tv_sec + 1e-6 * (r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

int main() {
  volatile double sink = 0;
  auto serial = [&](int n) {
    double a = 0;
    for (int i = 0; i < n; i++) a += 1.0 / (i + 1.0);
    sink = sink + a;
  };
  kd::set_num_threads(2);
  const int iters = 3000;
  auto tiny = [](void*, kd::i64, kd::i64) {};
  double w0 = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(), c0 = cpu_s();
  for (int it = 0; it < iters; it++) {
    kd::parallel_for(64, 1, tiny, nullptr);
    serial(100000);  // ~100 us
  }
  double w1 = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(), c1 = cpu_s();
  printf("threads=%d: wall %.1f us/iter, cpu %.1f us/iter, cpu/wall %.2f\n", kd::num_threads(),
         (w1 - w0) / iters * 1e6, (c1 - c0) / iters * 1e6, (c1 - c0) / (w1 - w0));
  return 0;
}
