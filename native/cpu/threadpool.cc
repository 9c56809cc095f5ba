// Persistent thread pool: workers spin briefly for new work, then sleep on a condition variable.
// The calling thread always takes chunk 0, so a pool of n threads has n-1 workers.
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace kd {

namespace {

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stop{false};
  // current job
  RangeFn fn = nullptr;
  void* ctx = nullptr;
  i64 n = 0;
  int chunks = 0;
  int size = 1;  // total threads including the caller
  std::mutex run_mu;  // one parallel_for at a time (nested calls run inline)

  void run_chunk(int c) {
    i64 b = n * c / chunks, e = n * (c + 1) / chunks;
    if (b < e) fn(ctx, b, e);
  }

  void worker(int id, uint64_t seen) {
    t_index = id;
    for (;;) {
      uint64_t g;
      int spins = 0;
      while ((g = generation.load(std::memory_order_acquire)) == seen && !stop.load(std::memory_order_relaxed)) {
        if (++spins < 20000) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
          continue;
        }
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return generation.load(std::memory_order_acquire) != seen || stop.load(); });
        break;
      }
      if (stop.load()) return;
      g = generation.load(std::memory_order_acquire);
      seen = g;
      if (id < chunks) run_chunk(id);
      pending.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  void resize(int total) {
    shutdown();
    stop = false;
    size = total < 1 ? 1 : total;
    uint64_t g = generation.load(std::memory_order_acquire);  // read here: a late-starting worker must not miss a job
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

  static thread_local int t_index;
};

thread_local int Pool::t_index = 0;

Pool* g_pool = nullptr;
std::mutex g_pool_mu;

int default_threads() {
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : (int)hc;
}

Pool& pool() {
  if (!g_pool) {
    std::lock_guard<std::mutex> lk(g_pool_mu);
    if (!g_pool) {
      Pool* p = new Pool();  // intentionally leaked: workers are detached from static destruction order
      p->resize(default_threads());
      g_pool = p;
    }
  }
  return *g_pool;
}

thread_local bool t_in_parallel = false;

}  // namespace

int num_threads() { return pool().size; }

void set_num_threads(int n) {
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.run_mu);
  if (n < 1) n = default_threads();
  if (n > 256) n = 256;
  if (n != p.size) p.resize(n);
}

int thread_index() { return Pool::t_index; }

void parallel_for(i64 n, i64 grain, RangeFn fn, void* ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  Pool& p = pool();
  i64 chunks = n / grain;
  if (chunks > p.size) chunks = p.size;
  if (chunks <= 1 || t_in_parallel || Pool::t_index != 0) {
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
  p.chunks = (int)chunks;
  p.pending.store(p.size - 1, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lk(p.mu);
    p.generation.fetch_add(1, std::memory_order_acq_rel);
  }
  p.cv.notify_all();
  t_in_parallel = true;
  p.run_chunk(0);
  t_in_parallel = false;
  while (p.pending.load(std::memory_order_acquire) != 0) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
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
