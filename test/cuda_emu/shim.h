// Host emulation of the CUDA built-ins the kernels use, so native/cuda/kernels/*.cu compile as plain C++ and run on
// the CPU (test/cuda_kernels_emulated): a block's threads are OS threads, __syncthreads a barrier over them, warp
// shuffles an exchange through per-warp slots, shared memory function statics (blocks run one at a time), atomics a
// mutex. Slow, but it executes the kernels' own code: what it checks is their arithmetic and indexing.
#pragma once
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(n)

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
extern thread_local dim3 threadIdx;
extern dim3 blockIdx, blockDim, gridDim;

struct EmuBarrier {
  std::mutex m;
  std::condition_variable cv;
  unsigned count = 0, waiting = 0, generation = 0;
  void wait() {
    std::unique_lock<std::mutex> lk(m);
    const unsigned gen = generation;
    if (++waiting == count) {
      waiting = 0;
      generation++;
      cv.notify_all();
    } else {
      cv.wait(lk, [&] { return gen != generation; });
    }
  }
};
extern EmuBarrier emuBlockBarrier;
extern EmuBarrier emuWarpBarrier[32];
extern unsigned long long emuWarpSlots[32][32];
extern std::mutex emuAtomic;

inline void __syncthreads() { emuBlockBarrier.wait(); }

inline unsigned emuLinearTid() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }

template <typename T>
T __shfl_down_sync(unsigned, T v, int offset) {
  static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
  const unsigned t = emuLinearTid(), warp = t / 32, lane = t % 32;
  unsigned long long bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  emuWarpSlots[warp][lane] = bits;
  emuWarpBarrier[warp].wait();
  T r = v;
  if (lane + offset < 32) std::memcpy(&r, &emuWarpSlots[warp][lane + offset], sizeof(T));
  emuWarpBarrier[warp].wait();
  return r;
}

template <typename T>
T atomicAdd(T* p, T v) {
  std::lock_guard<std::mutex> lk(emuAtomic);
  const T old = *p;
  *p = old + v;
  return old;
}

template <typename T>
T atomicCAS(T* p, T compare, T v) {
  std::lock_guard<std::mutex> lk(emuAtomic);
  const T old = *p;
  if (old == compare) *p = v;
  return old;
}

inline double __longlong_as_double(long long x) {
  double d;
  std::memcpy(&d, &x, 8);
  return d;
}

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
