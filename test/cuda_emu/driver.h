// The emulator's main loop: replays a trace of device operations (written by test/helpers/cuda_emulator.ts) on
// host memory mapped at the fake runtime's own addresses, so device pointers (kernel arguments and the pointers
// inside uploaded tables) need no translation. Launches go through the kernel table generated from the signatures
// (emuFindKernel, exec.h).
#pragma once
#include <sys/mman.h>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

static std::vector<unsigned char> readHex(size_t n) {
  std::string hex;
  std::vector<unsigned char> out(n);
  if (n == 0) return out;
  std::cin >> hex;
  for (size_t i = 0; i < n; i++) out[i] = (unsigned char)std::stoi(hex.substr(2 * i, 2), nullptr, 16);
  return out;
}

template <typename T>
static void hostGemm(int ta, int tb, long long M, long long N, long long K, const T* A, long long lda, long long sA,
                     const T* B, long long ldb, long long sB, T* C, long long ldc, long long sC, long long batch,
                     double alpha, double beta) {
  for (long long b = 0; b < batch; b++)
    for (long long i = 0; i < M; i++)
      for (long long j = 0; j < N; j++) {
        double acc = 0;
        for (long long k = 0; k < K; k++) {
          const double a = ta ? A[b * sA + k * lda + i] : A[b * sA + i * lda + k];
          const double v = tb ? B[b * sB + j * ldb + k] : B[b * sB + k * ldb + j];
          acc += a * v;
        }
        T* c = C + b * sC + i * ldc + j;
        *c = (T)(alpha * acc + (beta == 0 ? 0.0 : beta * (double)*c));
      }
}

int main() {
  unsigned long long base = 0, span = 0;
  std::cin >> std::hex >> base >> std::dec >> span;
  void* m = mmap((void*)base, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
  if (m != (void*)base) {
    std::fprintf(stderr, "cannot map the fake device memory at %llx\n", base);
    return 2;
  }
  std::string op;
  while (std::cin >> op) {
    if (op == "memset") {
      unsigned long long p; unsigned bits; size_t count;
      std::cin >> std::hex >> p >> std::dec >> bits >> count;
      unsigned* w = (unsigned*)p;
      for (size_t i = 0; i < count; i++) w[i] = bits;
    } else if (op == "htod") {
      unsigned long long p; size_t n;
      std::cin >> std::hex >> p >> std::dec >> n;
      auto bytes = readHex(n);
      std::memcpy((void*)p, bytes.data(), n);
    } else if (op == "dtod") {
      unsigned long long d, s; size_t n;
      std::cin >> std::hex >> d >> s >> std::dec >> n;
      std::memmove((void*)d, (const void*)s, n);
    } else if (op == "launch") {
      std::string name; dim3 g, b; size_t n;
      std::cin >> name >> g.x >> g.y >> g.z >> b.x >> b.y >> b.z >> n;
      auto bytes = readHex(n);
      gridDim = g; blockDim = b;
      const EmuKernel* k = emuFindKernel(name.c_str());
      if (!k) {
        std::fprintf(stderr, "unknown kernel %s\n", name.c_str());
        return 3;
      }
      void* params[64];
      for (unsigned i = 0; i < k->nparams; i++) params[i] = bytes.data() + k->offsets[i];
      k->run(params);
    } else if (op == "gemm") {
      std::string dt; int ta, tb; long long M, N, K, lda, sA, ldb, sB, ldc, sC, batch; unsigned long long a, b, c; double alpha, beta;
      std::cin >> dt >> ta >> tb >> M >> N >> K >> std::hex >> a >> std::dec >> lda >> sA >> std::hex >> b >> std::dec >> ldb >> sB
               >> std::hex >> c >> std::dec >> ldc >> sC >> batch >> alpha >> beta;
      if (dt == "float32") hostGemm(ta, tb, M, N, K, (const float*)a, lda, sA, (const float*)b, ldb, sB, (float*)c, ldc, sC, batch, alpha, beta);
      else hostGemm(ta, tb, M, N, K, (const double*)a, lda, sA, (const double*)b, ldb, sB, (double*)c, ldc, sC, batch, alpha, beta);
    } else if (op == "dump") {
      unsigned long long p; size_t n;
      std::cin >> std::hex >> p >> std::dec >> n;
      const unsigned char* q = (const unsigned char*)p;
      std::printf("D");
      for (size_t i = 0; i < n; i++) std::printf("%02x", q[i]);
      std::printf("\n");
    } else {
      std::fprintf(stderr, "unknown op %s\n", op.c_str());
      return 4;
    }
  }
  return 0;
}
