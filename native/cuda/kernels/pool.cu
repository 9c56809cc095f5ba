// 2-D max and average pooling over contiguous NCHW, forward and backward, with the reference's exact window rules:
// max keeps the first maximum and lets NaN win (indices are int32 h * W + w within the plane); average clips its
// window at the padded border for the divisor (count_include_pad, divisor_override) as PyTorch does.
#include "common.cuh"

// Pool2dParams as 16 int32 (KernelArgs.raw, 4-byte aligned, 64 bytes).
struct KPool {
  int N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, OH, OW, countIncludePad, divisorOverride;
};

template <typename T>
__device__ __forceinline__ void mp_fwd(const T* x, T* y, int* ind, KPool p) {
  const i64 total = (i64)p.N * p.C * p.OH * p.OW;
  for (i64 o = k_tid(); o < total; o += k_nthreads()) {
    const int ow = (int)(o % p.OW), oh = (int)((o / p.OW) % p.OH);
    const i64 nc = o / ((i64)p.OH * p.OW);
    const T* xp = x + nc * p.H * p.W;
    double best = -k_inf();
    int bi = -1;
    bool nan = false;
    for (int kh = 0; kh < p.KH && !nan; kh++) {
      const int ih = oh * p.sH - p.pH + kh * p.dH;
      if (ih < 0 || ih >= p.H) continue;
      for (int kw = 0; kw < p.KW; kw++) {
        const int iw = ow * p.sW - p.pW + kw * p.dW;
        if (iw < 0 || iw >= p.W) continue;
        const double v = (double)xp[ih * p.W + iw];
        if (bi < 0 || v > best || v != v) {
          best = v;
          bi = ih * p.W + iw;
          if (v != v) { nan = true; break; }
        }
      }
    }
    y[o] = (T)best;
    ind[o] = bi;
  }
}

extern "C" __global__ void k_maxpool_fwd_f32(const float* x, float* y, int* ind, KPool p) { mp_fwd(x, y, ind, p); }
extern "C" __global__ void k_maxpool_fwd_f64(const double* x, double* y, int* ind, KPool p) { mp_fwd(x, y, ind, p); }

// gx is zero; each output adds its gradient at its argmax (atomics: windows may overlap).
template <typename T>
__device__ __forceinline__ void mp_bwd(const T* gy, const int* ind, T* gx, KPool p) {
  const i64 plane = (i64)p.OH * p.OW, total = (i64)p.N * p.C * plane;
  for (i64 o = k_tid(); o < total; o += k_nthreads()) {
    const int idx = ind[o];
    if (idx >= 0) atomicAdd(gx + (o / plane) * p.H * p.W + idx, gy[o]);
  }
}

extern "C" __global__ void k_maxpool_bwd_f32(const float* gy, const int* ind, float* gx, KPool p) { mp_bwd(gy, ind, gx, p); }
extern "C" __global__ void k_maxpool_bwd_f64(const double* gy, const int* ind, double* gx, KPool p) { mp_bwd(gy, ind, gx, p); }

struct AvgWin {
  int h0, h1, w0, w1;
  double div;
};

__device__ __forceinline__ AvgWin ap_window(const KPool& p, int oh, int ow) {
  int h0 = oh * p.sH - p.pH, w0 = ow * p.sW - p.pW;
  int h1 = min(h0 + p.KH, p.H + p.pH), w1 = min(w0 + p.KW, p.W + p.pW);
  const int poolSize = (h1 - h0) * (w1 - w0);
  h0 = max(h0, 0);
  w0 = max(w0, 0);
  h1 = min(h1, p.H);
  w1 = min(w1, p.W);
  AvgWin r;
  r.h0 = h0; r.h1 = h1; r.w0 = w0; r.w1 = w1;
  r.div = p.divisorOverride > 0 ? (double)p.divisorOverride : p.countIncludePad ? (double)poolSize : (double)((h1 - h0) * (w1 - w0));
  return r;
}

template <typename T>
__device__ __forceinline__ void ap_fwd(const T* x, T* y, KPool p) {
  const i64 total = (i64)p.N * p.C * p.OH * p.OW;
  for (i64 o = k_tid(); o < total; o += k_nthreads()) {
    const int ow = (int)(o % p.OW), oh = (int)((o / p.OW) % p.OH);
    const T* xp = x + (o / ((i64)p.OH * p.OW)) * p.H * p.W;
    const AvgWin w = ap_window(p, oh, ow);
    double acc = 0.0;
    for (int ih = w.h0; ih < w.h1; ih++)
      for (int iw = w.w0; iw < w.w1; iw++) acc += (double)xp[ih * p.W + iw];
    y[o] = (T)(acc / w.div);
  }
}

extern "C" __global__ void k_avgpool_fwd_f32(const float* x, float* y, KPool p) { ap_fwd(x, y, p); }
extern "C" __global__ void k_avgpool_fwd_f64(const double* x, double* y, KPool p) { ap_fwd(x, y, p); }

// A thread per input element gathers g / div from every window that covers it (no atomics).
__device__ __forceinline__ int ap_ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

template <typename T>
__device__ __forceinline__ void ap_bwd(const T* gy, T* gx, KPool p) {
  const i64 total = (i64)p.N * p.C * p.H * p.W;
  for (i64 i = k_tid(); i < total; i += k_nthreads()) {
    const int iw = (int)(i % p.W), ih = (int)((i / p.W) % p.H);
    const i64 nc = i / ((i64)p.H * p.W);
    const T* g = gy + nc * p.OH * p.OW;
    // windows oh with oh*sH - pH <= ih < oh*sH - pH + KH
    const int oh0 = max(0, ap_ceil_div(ih + p.pH - p.KH + 1, p.sH)), oh1 = min(p.OH - 1, (ih + p.pH) / p.sH);
    const int ow0 = max(0, ap_ceil_div(iw + p.pW - p.KW + 1, p.sW)), ow1 = min(p.OW - 1, (iw + p.pW) / p.sW);
    double acc = 0.0;
    for (int oh = oh0; oh <= oh1; oh++)
      for (int ow = ow0; ow <= ow1; ow++) {
        const AvgWin w = ap_window(p, oh, ow);
        if (ih >= w.h0 && ih < w.h1 && iw >= w.w0 && iw < w.w1) acc += (double)g[oh * p.OW + ow] / w.div;
      }
    gx[i] = (T)acc;
  }
}

extern "C" __global__ void k_avgpool_bwd_f32(const float* gy, float* gx, KPool p) { ap_bwd(gy, gx, p); }
extern "C" __global__ void k_avgpool_bwd_f64(const double* gy, double* gx, KPool p) { ap_bwd(gy, gx, p); }
