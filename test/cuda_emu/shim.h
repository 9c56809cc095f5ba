// Host emulation of the CUDA built-ins the kernels use, so native/cuda/kernels/*.cu compile as plain C++ and run on
// the CPU (test/cuda_kernels_emulated, and the emulated driver test/cuda_emu/libcuda_emu). Blocks run one at a time
// on the calling OS thread; a block's threads are fibers (exec.h) that switch only at __syncthreads and at warp
// shuffles, so shared memory is function statics and atomics need no lock. What it checks is the kernels'
// arithmetic and indexing, not the GPU's memory model.
#pragma once
#include <cmath>
#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(n)

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
extern dim3 threadIdx, blockIdx, blockDim, gridDim;

// Both suspend the calling fiber until its block (or warp) has reached the same point: exec.h.
void emuBlockBarrier();
void emuWarpBarrier();
extern unsigned long long emuWarpSlots[32][32];

inline void __syncthreads() { emuBlockBarrier(); }

inline unsigned emuLinearTid() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }

template <typename T>
T __shfl_down_sync(unsigned, T v, int offset) {
  static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
  const unsigned t = emuLinearTid(), warp = t / 32, lane = t % 32;
  unsigned long long bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  emuWarpSlots[warp][lane] = bits;
  emuWarpBarrier();
  T r = v;
  if (lane + offset < 32) std::memcpy(&r, &emuWarpSlots[warp][lane + offset], sizeof(T));
  emuWarpBarrier();
  return r;
}

template <typename T>
T atomicAdd(T* p, T v) {
  const T old = *p;
  *p = old + v;
  return old;
}

template <typename T>
T atomicCAS(T* p, T compare, T v) {
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
