// kindling native CPU addon: shared declarations (ISA-independent).
// Kernel implementations live in kernels/*.inc (one file per kind of kernel, gathered by kernels.inc), compiled once
// per ISA into its own namespace (kernels_scalar.cc, kernels_avx2.cc, kernels_avx512.cc) and exposed through a
// KernelTable. The Node-API side is binding.cc (module entry) plus one binding_*.cc per family.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>  // getenv, for the kernels' path switches

#include "ops.h"

namespace kd {

typedef int64_t i64;

enum Isa { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

// ---- thread pool (threadpool.cc) ----
typedef void (*RangeFn)(void* ctx, i64 begin, i64 end);
// Runs fn over [0, n) split into at most num_threads() contiguous chunks of >= grain items.
// Runs inline (no synchronisation, no allocation) when only one chunk results.
void parallel_for(i64 n, i64 grain, RangeFn fn, void* ctx);
int num_threads();
void set_num_threads(int n);
// Index of the calling thread inside the pool (0 = caller / not a pool thread).
int thread_index();

// ---- kernel table: one instance per ISA ----
struct KernelTable {
  const char* name;
  void (*gemm)(bool ta, bool tb, i64 M, i64 N, i64 K, float alpha, const float* A, i64 lda, const float* B, i64 ldb,
               float beta, float* C, i64 ldc);
  void (*bgemm)(i64 batch, bool ta, bool tb, i64 M, i64 N, i64 K, const float* A, i64 sa, const float* B, i64 sb,
                float* C, i64 sc);
  void (*linear)(const float* x, const float* w, const float* b, float* y, i64 M, i64 N, i64 K);
  void (*linearBackward)(const float* gy, const float* x, const float* w, float* gx, float* gw, float* gb, i64 M, i64 N,
                         i64 K);
  void (*conv2d)(const float* x, const float* w, const float* b, float* y, const i64* d);
  void (*conv2dBackward)(const float* gy, const float* x, const float* w, float* gx, float* gw, float* gb,
                         const i64* d);
  void (*maxPool2d)(const float* x, float* y, int32_t* idx, const i64* d);
  void (*maxPool2dBackward)(const float* gy, const int32_t* idx, float* gx, i64 NC, i64 H, i64 W, i64 OH, i64 OW);
  void (*avgPool2d)(const float* x, float* y, const i64* d);
  void (*avgPool2dBackward)(const float* gy, float* gx, const i64* d);
  // Elementwise ops take the codes of ops.h and return false for a code they have no kernel for.
  bool (*unary)(int op, const float* x, float* y, i64 n);
  bool (*unaryStrided)(int op, int ndim, const i64* shape, const float* x, const i64* xs, float* y);
  bool (*unaryBackward)(int op, const float* gy, const float* x, float* gx, i64 n);
  bool (*binary)(int op, const float* a, const float* b, float* y, i64 n);
  bool (*binaryScalar)(int op, const float* a, float s, float* y, i64 n);
  bool (*binaryStrided)(int op, int ndim, const i64* shape, const float* a, const i64* as, const float* b,
                        const i64* bs, float* y);
  bool (*compareStrided)(int op, int ndim, const i64* shape, const float* a, const i64* as, const float* b,
                         const i64* bs, uint8_t* y);
  void (*clampStrided)(int ndim, const i64* shape, const float* x, const i64* xs, float lo, float hi, float* y);
  void (*whereStrided)(int ndim, const i64* shape, const uint8_t* c, const i64* cs, const float* a, const i64* as,
                       const float* b, const i64* bs, float* y);
  void (*axpby)(float* y, const float* x, float alpha, float beta, i64 n);
  void (*sumDim)(const float* x, float* y, i64 outer, i64 red, i64 inner);
  void (*maxDim)(const float* x, float* y, int32_t* idx, i64 outer, i64 red, i64 inner, bool isMin);
  double (*sumAll)(const float* x, i64 n);
  void (*prodDim)(const float* x, float* y, i64 outer, i64 red, i64 inner);
  void (*indexSelect)(const float* x, const double* idx, i64 m, float* y, i64 outer, i64 n, i64 inner);
  void (*indexAdd)(const float* src, const double* idx, i64 m, float* y, i64 outer, i64 n, i64 inner);
  void (*softmax)(const float* x, float* y, i64 outer, i64 n, i64 inner, bool log);
  void (*softmaxBackward)(const float* gy, const float* y, float* gx, i64 outer, i64 n, i64 inner, bool log);
  void (*crossEntropy)(const float* logits, const int32_t* target, i64 N, i64 C, i64 ignoreIndex, float smoothing,
                       int reduction, float* loss, float* grad);
  void (*batchNorm2d)(const float* x, float* y, i64 N, i64 C, i64 HW, const float* w, const float* b, float* rm,
                      float* rv, bool training, float momentum, float eps, float* saveMean, float* saveInvstd);
  void (*batchNorm2dBackward)(const float* gy, const float* x, const float* w, const float* saveMean,
                              const float* saveInvstd, float* gx, float* gw, float* gb, i64 N, i64 C, i64 HW);
  void (*sgdStep)(float* p, const float* g, float* buf, i64 n, float lr, float momentum, float dampening, float wd,
                  bool nesterov, bool maximize, bool firstStep);
  void (*adamStep)(float* p, const float* g, float* m, float* v, i64 n, float lr, float beta1, float beta2, float eps,
                   float wd, double step, bool decoupled, bool maximize);
  void (*copyStrided)(int ndim, const i64* shape, const float* src, const i64* ss, float* dst, const i64* ds);
};

// Conv descriptor layout (d[] indices) shared by conv2d / conv2dBackward.
enum ConvDims { CD_N, CD_C, CD_H, CD_W, CD_OC, CD_KH, CD_KW, CD_SH, CD_SW, CD_PH, CD_PW, CD_DH, CD_DW, CD_G, CD_OH,
                CD_OW, CD_COUNT };
// Pool descriptor layout.
enum PoolDims { PD_N, PD_C, PD_H, PD_W, PD_KH, PD_KW, PD_SH, PD_SW, PD_PH, PD_PW, PD_DH, PD_DW, PD_OH, PD_OW,
                PD_INCLUDE_PAD, PD_DIVISOR, PD_COUNT };

const KernelTable* table_scalar();
const KernelTable* table_avx2();
const KernelTable* table_avx512();

// Scratch memory: per-thread, grows on demand and is reused (no allocation once warm).
// slot selects one of a few independent buffers per thread.
float* scratch(int slot, size_t floats);

}  // namespace kd
