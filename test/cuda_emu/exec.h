// Runs one launch of an emulated kernel (shim.h) over its grid, block after block on the calling thread. A kernel
// with no barrier (the generator's static check: no __syncthreads or shuffle reachable from it) is a plain loop over
// its threads. One with barriers runs each thread as a ucontext fiber: the scheduler resumes every ready fiber in
// turn until it finishes or waits, then releases a warp whose live threads all wait at a shuffle, or else the
// block when all its live threads wait at __syncthreads. A barrier reached by a kernel the check called
// barrier-free, or one the block can never pass, stops the process with the kernel's name.
#pragma once
#include <sys/mman.h>
#include <setjmp.h>
#include <ucontext.h>
#include <cstdio>
#include <cstdlib>

dim3 threadIdx, blockIdx, blockDim, gridDim;
unsigned long long emuWarpSlots[32][32];

namespace emu {

enum State : unsigned char { kReady, kAtBlock, kAtWarp, kDone };
constexpr unsigned kMaxThreads = 1024;
constexpr size_t kStack = 64 << 10;

// A fiber starts through makecontext/swapcontext once per process; after that the switches are _setjmp/_longjmp,
// which save no signal mask (swapcontext's system call per switch cost more than the kernels' own work).
struct Fiber {
  ucontext_t ctx;
  jmp_buf jmp;
  bool started;
  State state;
};

static Fiber fibers[kMaxThreads];
static ucontext_t mainCtx;
static jmp_buf mainJmp;
static unsigned current;
static bool fiberMode;
static const char* kernelName = "";
static void (*bodyFn)(void*);
static void* bodyArg;
static char* stacks;

[[noreturn]] static void fail(const char* what) {
  std::fprintf(stderr, "kindling CUDA emulator: kernel %s %s\n", kernelName, what);
  std::abort();
}

static void setTid(unsigned t) {
  threadIdx.x = t % blockDim.x;
  threadIdx.y = (t / blockDim.x) % blockDim.y;
  threadIdx.z = t / (blockDim.x * blockDim.y);
}

static void wait(State s) {
  if (!fiberMode) fail("reached a barrier, but the generator's check had found none (test/helpers/cuda_emulator.ts)");
  fibers[current].state = s;
  if (!_setjmp(fibers[current].jmp)) _longjmp(mainJmp, 1);
}

// A finished thread parks here; resuming it runs the body again, as the same thread of the next block or launch.
static void entry() {
  for (;;) {
    bodyFn(bodyArg);
    fibers[current].state = kDone;
    if (!_setjmp(fibers[current].jmp)) _longjmp(mainJmp, 1);
  }
}

static void resume(unsigned t) {
  current = t;
  setTid(t);
  if (_setjmp(mainJmp)) return;
  if (fibers[t].started) _longjmp(fibers[t].jmp, 1);
  fibers[t].started = true;
  swapcontext(&mainCtx, &fibers[t].ctx);
}

static void runBlockFibers(unsigned n) {
  if (!stacks) {
    void* m = mmap(nullptr, kStack * kMaxThreads, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) fail("cannot map fiber stacks");
    stacks = static_cast<char*>(m);
  }
  for (unsigned t = 0; t < n; t++) {
    Fiber& f = fibers[t];
    if (!f.started) {
      getcontext(&f.ctx);
      f.ctx.uc_stack.ss_sp = stacks + t * kStack;
      f.ctx.uc_stack.ss_size = kStack;
      f.ctx.uc_link = nullptr;
      makecontext(&f.ctx, entry, 0);
    }
    f.state = kReady;
  }
  // Every other round runs the threads in reverse, so that a read of shared memory another thread writes without a
  // barrier between sees the stale value whichever of the two comes first.
  for (bool reverse = false;; reverse = !reverse) {
    for (unsigned i = 0; i < n; i++) {
      const unsigned t = reverse ? n - 1 - i : i;
      if (fibers[t].state == kReady) resume(t);
    }
    bool released = false;
    for (unsigned w = 0; w * 32 < n; w++) {
      unsigned waiting = 0, live = 0;
      for (unsigned t = w * 32; t < n && t < w * 32 + 32; t++) {
        if (fibers[t].state != kDone) live++;
        if (fibers[t].state == kAtWarp) waiting++;
      }
      if (waiting && waiting == live) {
        for (unsigned t = w * 32; t < n && t < w * 32 + 32; t++) if (fibers[t].state == kAtWarp) fibers[t].state = kReady;
        released = true;
      }
    }
    if (released) continue;
    unsigned live = 0, atBlock = 0;
    for (unsigned t = 0; t < n; t++) {
      if (fibers[t].state != kDone) live++;
      if (fibers[t].state == kAtBlock) atBlock++;
    }
    if (!live) return;
    if (atBlock != live) fail("deadlocks: some threads wait at __syncthreads while others wait at a warp shuffle");
    for (unsigned t = 0; t < n; t++) if (fibers[t].state == kAtBlock) fibers[t].state = kReady;
  }
}

template <typename F>
static void trampoline(void* p) {
  (*static_cast<F*>(p))();
}

/** Runs `body` (one thread's work) for every thread of every block of the launch already set in gridDim/blockDim. */
template <typename F>
static void run(const char* name, bool barriers, F body) {
  kernelName = name;
  const unsigned n = blockDim.x * blockDim.y * blockDim.z;
  if (n > kMaxThreads) fail("was launched with more than 1024 threads per block");
  fiberMode = barriers;
  bodyFn = trampoline<F>;
  bodyArg = &body;
  for (unsigned bz = 0; bz < gridDim.z; bz++)
    for (unsigned by = 0; by < gridDim.y; by++)
      for (unsigned bx = 0; bx < gridDim.x; bx++) {
        blockIdx.x = bx; blockIdx.y = by; blockIdx.z = bz;
        if (barriers) {
          runBlockFibers(n);
        } else {
          for (unsigned t = 0; t < n; t++) {
            setTid(t);
            body();
          }
        }
      }
}

}  // namespace emu

void emuBlockBarrier() { emu::wait(emu::kAtBlock); }
void emuWarpBarrier() { emu::wait(emu::kAtWarp); }

/** One kernel of the sources: its name, whether a barrier is reachable, its parameters' C ABI offsets, and a runner
 * that reads each parameter from `params` (cuLaunchKernel's kernelParams) and runs the launch. */
struct EmuKernel {
  const char* name;
  unsigned nparams;
  const unsigned* offsets;
  void (*run)(void** params);
};

static const EmuKernel* emuFindKernel(const char* name);
