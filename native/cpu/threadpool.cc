// Persistent thread pool. Workers spin briefly for new work (~10 us by the clock, KINDLING_SPIN_US overrides), then
// sleep on a condition variable. The spin is timed, not counted: `pause` costs ~20 ns on some CPUs and ~40 ns on
// others, and 4000 of them kept an idle worker burning a core for ~80 us after every parallel_for, which on a
// 2-core machine competes with the caller's serial work that follows.
// Work is split into chunks that threads claim dynamically (the caller included), so a worker that wakes late
// (the machine is busy, or it was asleep) simply finds nothing left instead of stalling the caller.
// Claiming uses one 64-bit atomic holding (job generation, chunk count, next chunk), so a late worker can never
// claim a chunk of a job other than the one it read.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace kd {

namespace {

constexpr int kIdxBits = 20;
constexpr uint64_t kIdxMask = (1ull << kIdxBits) - 1;
constexpr int kMaxChunks = (1 << kIdxBits) - 1;

inline uint64_t pack(uint64_t gen, uint64_t nchunks, uint64_t idx) {
  return (gen << (2 * kIdxBits)) | (nchunks << kIdxBits) | idx;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

thread_local int t_index = 0;
thread_local bool t_in_parallel = false;

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> state{0};  // pack(gen, nchunks, next)
  std::atomic<int> done{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  RangeFn fn = nullptr;
  void* ctx = nullptr;
  i64 n = 0;
  int size = 1;        // total threads including the caller
  std::chrono::nanoseconds spin_time{10000};
  std::mutex run_mu;   // one parallel_for at a time; a second caller runs inline

  // Claims and runs chunks of the job whose generation is `gen`; returns when none are left.
  void work(uint64_t gen) {
    for (;;) {
      uint64_t v = state.load(std::memory_order_acquire);
      if ((v >> (2 * kIdxBits)) != gen) return;
      uint64_t nch = (v >> kIdxBits) & kIdxMask, idx = v & kIdxMask;
      if (idx >= nch) return;
      if (!state.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
      i64 b = n * (i64)idx / (i64)nch, e = n * (i64)(idx + 1) / (i64)nch;
      if (b < e) fn(ctx, b, e);
      done.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void worker(int id, uint64_t seen) {
    t_index = id;
    for (;;) {
      uint64_t gen;
      unsigned spins = 0;
      auto t0 = std::chrono::steady_clock::now();
      while ((gen = state.load(std::memory_order_acquire) >> (2 * kIdxBits)) == seen) {
        if (stop.load(std::memory_order_relaxed)) return;
        // read the clock every 16 pauses only (a clock read costs about as much as a pause)
        if ((++spins & 15) != 0 || std::chrono::steady_clock::now() - t0 < spin_time) {
          cpu_relax();
          continue;
        }
        std::unique_lock<std::mutex> lk(mu);
        sleepers.fetch_add(1);  // seq_cst: pairs with the caller's seq_cst state store / sleepers load
        cv.wait(lk, [&] { return (state.load(std::memory_order_acquire) >> (2 * kIdxBits)) != seen || stop.load(); });
        sleepers.fetch_sub(1);
        spins = 0;
        t0 = std::chrono::steady_clock::now();
      }
      if (stop.load()) return;
      seen = gen;
      work(gen);
    }
  }

  void resize(int total) {
    shutdown();
    stop = false;
    size = total < 1 ? 1 : total;
    uint64_t g = state.load() >> (2 * kIdxBits);  // read here: a late-starting worker must not miss a job
    for (int i = 1; i < size; i++) workers.emplace_back([this, i, g] { worker(i, g); });
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lk(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }
};

Pool* g_pool = nullptr;
std::mutex g_pool_mu;

int default_threads() {
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : (int)hc;
}

Pool& pool() {
  Pool* p = __atomic_load_n(&g_pool, __ATOMIC_ACQUIRE);
  if (p) return *p;
  std::lock_guard<std::mutex> lk(g_pool_mu);
  if (!g_pool) {
    p = new Pool();  // intentionally leaked: no teardown ordering issues at process exit
    if (const char* e = std::getenv("KINDLING_SPIN_US")) {
      long us = std::strtol(e, nullptr, 10);
      if (us >= 0 && us <= 1000000) p->spin_time = std::chrono::microseconds(us);
    }
    p->resize(default_threads());
    __atomic_store_n(&g_pool, p, __ATOMIC_RELEASE);
  }
  return *g_pool;
}

}  // namespace

int num_threads() { return pool().size; }

void set_num_threads(int n) {
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.run_mu);
  if (n < 1) n = default_threads();
  if (n > 256) n = 256;
  if (n != p.size) p.resize(n);
}

int thread_index() { return t_index; }

void parallel_for(i64 n, i64 grain, RangeFn fn, void* ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  Pool& p = pool();
  i64 chunks = n / grain;
  if (chunks > (i64)p.size * 4) chunks = (i64)p.size * 4;
  if (chunks > n) chunks = n;
  if (chunks > kMaxChunks) chunks = kMaxChunks;
  if (chunks <= 1 || p.size <= 1 || t_in_parallel || t_index != 0) {
    fn(ctx, 0, n);
    return;
  }
  std::unique_lock<std::mutex> run(p.run_mu, std::try_to_lock);
  if (!run.owns_lock()) {  // another JS thread (worker_threads) is using the pool: run inline
    fn(ctx, 0, n);
    return;
  }
  p.fn = fn;
  p.ctx = ctx;
  p.n = n;
  p.done.store(0, std::memory_order_relaxed);
  uint64_t gen = ((p.state.load(std::memory_order_relaxed) >> (2 * kIdxBits)) + 1) & ((1ull << 24) - 1);
  // seq_cst store then load: a worker going to sleep either sees the new job or is counted in sleepers
  p.state.store(pack(gen, (uint64_t)chunks, 0), std::memory_order_seq_cst);
  if (p.sleepers.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lk(p.mu);
    p.cv.notify_all();
  }
  t_in_parallel = true;
  p.work(gen);
  t_in_parallel = false;
  while (p.done.load(std::memory_order_acquire) != (int)chunks) cpu_relax();
}

float* scratch(int slot, size_t floats) {
  struct Buf {
    float* p = nullptr;
    size_t cap = 0;
    ~Buf() { std::free(p); }
  };
  static thread_local Buf bufs[8];
  Buf& b = bufs[slot & 7];
  if (floats > b.cap) {
    std::free(b.p);
    size_t cap = floats + floats / 4 + 64;
    size_t bytes = (cap * sizeof(float) + 63) & ~(size_t)63;
    b.p = (float*)std::aligned_alloc(64, bytes);
    b.cap = b.p ? cap : 0;
  }
  return b.p;
}

}  // namespace kd
