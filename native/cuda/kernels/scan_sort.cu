// Scans, sorts, gathers, scatters, searchsorted and bitwise ops: the CUDA side of src/backends/ref/scan_sort.ts.
// A "row" of a contiguous x viewed as [outer, n, inner] is the n elements base + r * inner, base = o * n * inner + i.
// Sort order everywhere (sort, searchsorted): ascending with NaN above +inf; sort breaks ties by the original
// position, which makes the order total, so the parallel sorts below give exactly the reference's stable sort.
#include "common.cuh"

#define SS_TILE 2048

// -1, 0, 1 as the reference's compareAsc (NaN equal to NaN and above every number).
__device__ __forceinline__ int ss_cmp(double a, double b) {
  if (a != a) return b != b ? 0 : 1;
  if (b != b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

// Does element (ka, ia) come before (kb, ib) in the sorted row? A negative position is padding, last of all.
__device__ __forceinline__ bool ss_before(double ka, i64 ia, double kb, i64 ib, int desc) {
  if (ia < 0) return false;
  if (ib < 0) return true;
  const int c = desc ? ss_cmp(kb, ka) : ss_cmp(ka, kb);
  return c < 0 || (c == 0 && ia < ib);
}

__device__ __forceinline__ void ss_copy(void* dst, i64 di, const void* src, i64 si, int esize) {
  switch (esize) {
    case 8: ((u64*)dst)[di] = ((const u64*)src)[si]; break;
    case 4: ((u32*)dst)[di] = ((const u32*)src)[si]; break;
    default: ((u8*)dst)[di] = ((const u8*)src)[si]; break;
  }
}

// v as the dtype stores it, read back (castValue), so a running value wraps and truncates as the reference's does.
__device__ __forceinline__ double ss_cast(int dt, double v) {
  u64 cell = 0;
  k_store(&cell, dt, 0, v);
  return k_load(&cell, dt, 0);
}

// ---- scan ----

// One thread per (o, i) column walking its n elements in order: the reference's arithmetic step for step, every
// dtype (adjacent threads read adjacent inner positions).
extern "C" __global__ void k_scan_cols(const void* x, int xdt, void* out, int odt, i64 outer, i64 n, i64 inner, int isProd) {
  const i64 cols = outer * inner;
  for (i64 c = k_tid(); c < cols; c += k_nthreads()) {
    const i64 base = (c / inner) * n * inner + c % inner;
    double acc = isProd ? 1.0 : 0.0;
    for (i64 r = 0; r < n; r++) {
      const double v = k_load(x, xdt, base + r * inner);
      acc = ss_cast(odt, isProd ? acc * v : acc + v);
      k_store(out, odt, base + r * inner, acc);
    }
  }
}

// inner == 1, float output: a block per row scans it in chunks of blockDim elements (Hillis-Steele in shared
// memory, in double), carrying the running total from chunk to chunk.
extern "C" __global__ void k_scan_rows(const void* x, int xdt, void* out, int odt, i64 rows, i64 n, int isProd) {
  __shared__ double sh[K_BLOCK];
  const int t = threadIdx.x, B = blockDim.x;
  const double id = isProd ? 1.0 : 0.0;
  for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
    double carry = id;
    for (i64 start = 0; start < n; start += B) {
      const i64 r = start + t;
      sh[t] = r < n ? k_load(x, xdt, row * n + r) : id;
      __syncthreads();
      for (int off = 1; off < B; off <<= 1) {
        const double other = t >= off ? sh[t - off] : id;
        __syncthreads();
        if (t >= off) sh[t] = isProd ? sh[t] * other : sh[t] + other;
        __syncthreads();
      }
      if (r < n) k_store(out, odt, row * n + r, isProd ? carry * sh[t] : carry + sh[t]);
      carry = isProd ? carry * sh[B - 1] : carry + sh[B - 1];
      __syncthreads();
    }
  }
}

// ---- sort ----

// Bitonic sort in shared memory of tiles of up to SS_TILE elements of a row: a block per (row, tile). With
// scratch == 0 the tile is the whole row and the block writes values and indices; otherwise it writes the sorted
// positions to scratch [rows, n] for k_sort_merge.
extern "C" __global__ void k_sort_tile(
    const void* x, int xdt, void* values, void* indices, int idt, i64* scratch, i64 rows, i64 n, i64 inner, i64 tile, int desc, int esize) {
  __shared__ double sk[SS_TILE];
  __shared__ i64 si[SS_TILE];
  const i64 tiles = (n + tile - 1) / tile;
  for (i64 u = blockIdx.x; u < rows * tiles; u += gridDim.x) {
    const i64 row = u / tiles, start = (u % tiles) * tile;
    const i64 base = (row / inner) * n * inner + row % inner;
    const i64 len = n - start < tile ? n - start : tile;
    i64 P = 1;
    while (P < len) P <<= 1;
    for (i64 t = threadIdx.x; t < P; t += blockDim.x) {
      if (t < len) {
        sk[t] = k_load(x, xdt, base + (start + t) * inner);
        si[t] = start + t;
      } else {
        sk[t] = 0.0;
        si[t] = -1;
      }
    }
    __syncthreads();
    for (i64 k = 2; k <= P; k <<= 1) {
      for (i64 j = k >> 1; j > 0; j >>= 1) {
        for (i64 t = threadIdx.x; t < P; t += blockDim.x) {
          const i64 l = t ^ j;
          if (l <= t) continue;
          const bool up = (t & k) == 0;
          const bool swap = up ? ss_before(sk[l], si[l], sk[t], si[t], desc) : ss_before(sk[t], si[t], sk[l], si[l], desc);
          if (swap) {
            const double kv = sk[t];
            sk[t] = sk[l];
            sk[l] = kv;
            const i64 iv = si[t];
            si[t] = si[l];
            si[l] = iv;
          }
        }
        __syncthreads();
      }
    }
    for (i64 t = threadIdx.x; t < len; t += blockDim.x) {
      const i64 r = si[t];
      if (scratch) {
        scratch[row * n + start + t] = r;
      } else {
        ss_copy(values, base + (start + t) * inner, x, base + r * inner, esize);
        k_store(indices, idt, base + (start + t) * inner, (double)r);
      }
    }
    __syncthreads();
  }
}

__device__ __forceinline__ double ss_key(const void* x, int xdt, i64 base, i64 inner, i64 r) { return k_load(x, xdt, base + r * inner); }

// One merge pass over every row: sorted runs of `width` positions in src pair up into runs of 2 * width in dst.
// Each element finds its place on its own: its rank in its run plus how many of the other run come before it.
extern "C" __global__ void k_sort_merge(
    const void* x, int xdt, const i64* src, i64* dst, i64 rows, i64 n, i64 inner, i64 width, int desc) {
  const i64 total = rows * n;
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    const i64 row = e / n, p = e % n;
    const i64 base = (row / inner) * n * inner + row % inner;
    const i64* s = src + row * n;
    const i64 lo = p / (2 * width) * (2 * width);
    const i64 mid = lo + width < n ? lo + width : n;
    const i64 hi = lo + 2 * width < n ? lo + 2 * width : n;
    const i64 me = s[p];
    const double km = ss_key(x, xdt, base, inner, me);
    const bool inA = p < mid;
    i64 a = inA ? mid : lo, b = inA ? hi : mid;
    while (a < b) {
      const i64 q = a + (b - a) / 2;
      if (ss_before(ss_key(x, xdt, base, inner, s[q]), s[q], km, me, desc)) a = q + 1;
      else b = q;
    }
    const i64 before = a - (inA ? mid : lo);
    const i64 own = inA ? p - lo : p - mid;
    dst[row * n + lo + own + before] = me;
  }
}

// values and indices from the sorted positions of k_sort_merge.
extern "C" __global__ void k_sort_write(
    const void* x, const i64* order, void* values, void* indices, int idt, i64 rows, i64 n, i64 inner, int esize) {
  const i64 total = rows * n;
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    const i64 row = e / n, p = e % n;
    const i64 base = (row / inner) * n * inner + row % inner;
    const i64 r = order[e];
    ss_copy(values, base + p * inner, x, base + r * inner, esize);
    k_store(indices, idt, base + p * inner, (double)r);
  }
}

// ---- gather / scatter ----
// Geometries here always carry their full shape (rank >= 1, never the rank-0 "contiguous" shortcut): the kernels
// need each coordinate, to replace the one along `dim` by the index.

// out[e] = x[coordinates of e in index's shape, with index[e] along dim] (a byte copy of esize bytes).
extern "C" __global__ void k_gather(
    const void* x, KGeom xgeo, const void* idx, int idt, KGeom igeo, void* out, int esize, i64 total, int dim, KErr* err, u64 code) {
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    i64 c[K_MAX_RANK];
    i64 rest = e, ipos = 0;
    for (int d = igeo.rank - 1; d >= 0; d--) {
      c[d] = rest % igeo.size[d];
      rest /= igeo.size[d];
      ipos += c[d] * igeo.stride[d];
    }
    const double kd = k_load(idx, idt, ipos);
    if (!(kd >= 0.0 && kd < (double)xgeo.size[dim])) {
      k_report(err, code, (i64)kd, xgeo.size[dim]);
      continue;
    }
    c[dim] = (i64)kd;
    i64 xpos = 0;
    for (int d = 0; d < igeo.rank; d++) xpos += c[d] * xgeo.stride[d];
    ss_copy(out, e, x, xpos, esize);
  }
}

// A byte added atomically through the aligned 32-bit word that holds it (wraps like a Uint8Array; bool saturates).
__device__ __forceinline__ void ss_add_u8(u8* p, u32 v, int isBool) {
  u32* word = (u32*)((u64)p & ~(u64)3);
  const u32 shift = (u32)((u64)p & 3) * 8;
  u32 old = *word, assumed;
  do {
    assumed = old;
    u32 next = (((assumed >> shift) & 255u) + v) & 255u;
    if (isBool) next = next != 0u ? 1u : 0u;
    old = atomicCAS(word, assumed, (assumed & ~(255u << shift)) | (next << shift));
  } while (old != assumed);
}

// out[coordinates of e, with index[e] along dim] = src[e's coordinates] (+= with atomics when accumulating). Without
// accumulate, two elements aimed at one position leave either value (PyTorch leaves that undefined too).
extern "C" __global__ void k_scatter(
    const void* src, KGeom sgeo, const void* idx, int idt, KGeom igeo, void* out, int dt, KGeom ogeo, i64 total, int dim,
    int accumulate, KErr* err, u64 code) {
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    i64 c[K_MAX_RANK];
    i64 rest = e, ipos = 0, spos = 0;
    for (int d = igeo.rank - 1; d >= 0; d--) {
      c[d] = rest % igeo.size[d];
      rest /= igeo.size[d];
      ipos += c[d] * igeo.stride[d];
      spos += c[d] * sgeo.stride[d];
    }
    const double kd = k_load(idx, idt, ipos);
    if (!(kd >= 0.0 && kd < (double)ogeo.size[dim])) {
      k_report(err, code, (i64)kd, ogeo.size[dim]);
      continue;
    }
    c[dim] = (i64)kd;
    i64 to = 0;
    for (int d = 0; d < igeo.rank; d++) to += c[d] * ogeo.stride[d];
    if (!accumulate) {
      ss_copy(out, to, src, spos, dt == DT_F64 || dt == DT_I64 ? 8 : dt == DT_F32 || dt == DT_I32 ? 4 : 1);
      continue;
    }
    switch (dt) {
      case DT_F32: atomicAdd((float*)out + to, ((const float*)src)[spos]); break;
      case DT_F64: atomicAdd((double*)out + to, ((const double*)src)[spos]); break;
      case DT_I32: atomicAdd((int*)out + to, ((const int*)src)[spos]); break;
      case DT_I64: atomicAdd((u64*)out + to, ((const u64*)src)[spos]); break;
      default: ss_add_u8((u8*)out + to, ((const u8*)src)[spos], dt == DT_BOOL); break;
    }
  }
}

// ---- searchsorted ----

// out[o, j] = the count of seq[o, :m] before values[o, j]: strictly less (left) or less or equal (right).
extern "C" __global__ void k_searchsorted(
    const void* seq, int sdt, const void* vals, int vdt, void* out, int odt, i64 outer, i64 m, i64 k, int right) {
  const i64 total = outer * k;
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    const i64 o = e / k;
    const double v = k_load(vals, vdt, e);
    i64 lo = 0, hi = m;
    while (lo < hi) {
      const i64 mid = lo + (hi - lo) / 2;
      const int c = ss_cmp(k_load(seq, sdt, o * m + mid), v);
      if (c < 0 || (right && c == 0)) lo = mid + 1;
      else hi = mid;
    }
    k_store(out, odt, e, (double)lo);
  }
}

// ---- bitwise ----

#define BW_AND 0
#define BW_OR 1
#define BW_XOR 2

// An integer or bool element as its 64-bit two's-complement value.
__device__ __forceinline__ i64 bw_load(const void* p, int dt, i64 i) {
  switch (dt) {
    case DT_I32: return (i64)((const int*)p)[i];
    case DT_I64: return ((const i64*)p)[i];
    default: return (i64)((const u8*)p)[i];
  }
}

extern "C" __global__ void k_bitwise(
    const void* a, int adt, KGeom ag, const void* b, int bdt, KGeom bg, void* out, int odt, i64 n, int op) {
  for (i64 i = k_tid(); i < n; i += k_nthreads()) {
    const i64 u = bw_load(a, adt, k_pos(ag, i)), v = bw_load(b, bdt, k_pos(bg, i));
    const i64 r = op == BW_AND ? (u & v) : op == BW_OR ? (u | v) : (u ^ v);
    switch (odt) {
      case DT_I32: ((int*)out)[i] = (int)(u32)(u64)r; break;
      case DT_I64: ((i64*)out)[i] = r; break;
      case DT_U8: ((u8*)out)[i] = (u8)(r & 255); break;
      default: ((u8*)out)[i] = r != 0 ? 1 : 0; break;
    }
  }
}
