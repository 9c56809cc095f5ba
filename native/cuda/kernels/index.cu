// indexSelect (a gather of rows along one dim) and indexAdd (a scatter-add with atomics), x viewed as
// [outer, n, inner] and an int64 (or int32) index of m entries. An index outside [0, n) is reported through the
// runtime's KErr record and skipped.
#include "common.cuh"

extern "C" __global__ void k_index_select(
    const void* x, const void* idx, int idt, void* out, i64 outer, i64 n, i64 m, i64 inner, int esize, KErr* err, u64 code) {
  const i64 total = outer * m * inner;
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    const i64 i = e % inner, rest = e / inner;
    const i64 j = rest % m, o = rest / m;
    const double kd = k_load(idx, idt, j);
    if (!(kd >= 0.0 && kd < (double)n)) {
      k_report(err, code, (i64)kd, n);
      continue;
    }
    const i64 from = (o * n + (i64)kd) * inner + i;
    switch (esize) {
      case 8: ((u64*)out)[e] = ((const u64*)x)[from]; break;
      case 4: ((u32*)out)[e] = ((const u32*)x)[from]; break;
      default: ((u8*)out)[e] = ((const u8*)x)[from]; break;
    }
  }
}

// A byte added atomically through the aligned 32-bit word that holds it (wraps modulo 256 like a Uint8Array).
__device__ __forceinline__ void ix_add_u8(u8* p, u32 v, int isBool) {
  u32* word = (u32*)((u64)p & ~(u64)3);
  const u32 shift = (u32)((u64)p & 3) * 8;
  u32 old = *word, assumed;
  do {
    assumed = old;
    const u32 cur = (assumed >> shift) & 255u;
    u32 next = (cur + v) & 255u;
    if (isBool) next = next != 0u ? 1u : 0u;
    old = atomicCAS(word, assumed, (assumed & ~(255u << shift)) | (next << shift));
  } while (old != assumed);
}

extern "C" __global__ void k_index_add(
    const void* src, int dt, const void* idx, int idt, void* out, i64 outer, i64 n, i64 m, i64 inner, KErr* err, u64 code) {
  const i64 total = outer * m * inner;
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    const i64 i = e % inner, rest = e / inner;
    const i64 j = rest % m, o = rest / m;
    const double kd = k_load(idx, idt, j);
    if (!(kd >= 0.0 && kd < (double)n)) {
      k_report(err, code, (i64)kd, n);
      continue;
    }
    const i64 to = (o * n + (i64)kd) * inner + i;
    switch (dt) {
      case DT_F32: atomicAdd((float*)out + to, ((const float*)src)[e]); break;
      case DT_F64: atomicAdd((double*)out + to, ((const double*)src)[e]); break;
      case DT_I32: atomicAdd((int*)out + to, ((const int*)src)[e]); break;
      case DT_I64: atomicAdd((u64*)out + to, ((const u64*)src)[e]); break;
      default: ix_add_u8((u8*)out + to, ((const u8*)src)[e], dt == DT_BOOL); break;
    }
  }
}
