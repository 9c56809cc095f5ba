// The loading path's own kernels (cuda-rt), not ops: scripts/cuda-selfcheck launches them to prove that the fatbin
// (or NVRTC's cubin) loads, that KernelArgs packs parameters as the kernel reads them, and that a faulting kernel
// becomes a JS exception instead of an abort. Like every kernel source here: no #include, extern "C", prefix k_.

// y[i] = a * x[i] + b for i < n; the mixed 4/8-byte parameters exercise KernelArgs' alignment.
extern "C" __global__ void k_selftest_axpb(float* y, const float* x, float a, long long n, double b) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + (float)b;
}

// Writes through a pointer the caller makes invalid: the illegal-address path (run in a separate process).
extern "C" __global__ void k_selftest_fault(float* p, long long offset) {
  if (threadIdx.x == 0 && blockIdx.x == 0) p[offset] = 1.0f;
}
