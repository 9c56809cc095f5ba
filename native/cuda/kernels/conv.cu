// The convolution used when cuDNN is not found: im2col + gemm (matmul.cu or cuBLAS) per chunk of images and group.
// The column buffer of a chunk is [cg * KH * KW][nimg][OH * OW], so one gemm covers the whole chunk:
//   forward     tmp[og][nimg * P] = W_g[og][cgKK] @ col          then scattered into NCHW (+ bias)
//   data grad   dcol = W_g^T @ gy_g (gathered to [og][nimg * P]) then col2im (a gather per input pixel)
//   weight grad gw_g += gy_g @ col^T
// Bias gradient: a block per output channel sums gy over N and the plane.
#include "common.cuh"

// Conv2dParams as 16 int32 (KernelArgs.raw, 4-byte aligned, 64 bytes).
struct KConv {
  int N, C, H, W, OC, KH, KW, sH, sW, pH, pW, dH, dW, groups, OH, OW;
};

template <typename T>
__device__ __forceinline__ void im2col(const T* x, T* col, KConv p, int n0, int nimg, int g) {
  const int cg = p.C / p.groups;
  const i64 P = (i64)p.OH * p.OW, total = (i64)cg * p.KH * p.KW * nimg * P;
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    const i64 pix = e % P, rest = e / P;
    const int img = (int)(rest % nimg);
    const i64 row = rest / nimg;
    const int kw = (int)(row % p.KW), kh = (int)((row / p.KW) % p.KH), c = (int)(row / ((i64)p.KW * p.KH));
    const int ow = (int)(pix % p.OW), oh = (int)(pix / p.OW);
    const int ih = oh * p.sH - p.pH + kh * p.dH, iw = ow * p.sW - p.pW + kw * p.dW;
    const i64 ic = (i64)g * cg + c;
    col[e] = (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) ? x[(((i64)(n0 + img) * p.C + ic) * p.H + ih) * p.W + iw] : (T)0;
  }
}

extern "C" __global__ void k_im2col_f32(const float* x, float* col, KConv p, int n0, int nimg, int g) { im2col(x, col, p, n0, nimg, g); }
extern "C" __global__ void k_im2col_f64(const double* x, double* col, KConv p, int n0, int nimg, int g) { im2col(x, col, p, n0, nimg, g); }

// gx for the chunk's images and group g: each input pixel sums the column entries that read it.
template <typename T>
__device__ __forceinline__ void col2im(const T* col, T* gx, KConv p, int n0, int nimg, int g) {
  const int cg = p.C / p.groups;
  const i64 P = (i64)p.OH * p.OW, total = (i64)nimg * cg * p.H * p.W;
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    const int iw = (int)(e % p.W), ih = (int)((e / p.W) % p.H);
    const i64 rest = e / ((i64)p.W * p.H);
    const int c = (int)(rest % cg), img = (int)(rest / cg);
    double acc = 0.0;
    for (int kh = 0; kh < p.KH; kh++) {
      const int th = ih + p.pH - kh * p.dH;
      if (th < 0 || th % p.sH != 0) continue;
      const int oh = th / p.sH;
      if (oh >= p.OH) continue;
      for (int kw = 0; kw < p.KW; kw++) {
        const int tw = iw + p.pW - kw * p.dW;
        if (tw < 0 || tw % p.sW != 0) continue;
        const int ow = tw / p.sW;
        if (ow >= p.OW) continue;
        const i64 row = ((i64)c * p.KH + kh) * p.KW + kw;
        acc += (double)col[(row * nimg + img) * P + (i64)oh * p.OW + ow];
      }
    }
    gx[(((i64)(n0 + img) * p.C + (i64)g * cg + c) * p.H + ih) * p.W + iw] = (T)acc;
  }
}

extern "C" __global__ void k_col2im_f32(const float* col, float* gx, KConv p, int n0, int nimg, int g) { col2im(col, gx, p, n0, nimg, g); }
extern "C" __global__ void k_col2im_f64(const double* col, double* gx, KConv p, int n0, int nimg, int g) { col2im(col, gx, p, n0, nimg, g); }

// tmp[c][img][pix] <-> y[n0 + img][c0 + c][pix] for cnt channels of a tensor with OC channels and P pixels.
// toNchw = 1 writes y (adding bias[c0 + c] when given); 0 gathers y into tmp.
template <typename T>
__device__ __forceinline__ void cnp_nchw(T* tmp, T* y, const T* bias, i64 OC, i64 P, int n0, int nimg, int c0, int cnt, int toNchw) {
  const i64 total = (i64)cnt * nimg * P;
  for (i64 e = k_tid(); e < total; e += k_nthreads()) {
    const i64 pix = e % P, rest = e / P;
    const int img = (int)(rest % nimg), c = (int)(rest / nimg);
    const i64 yi = ((i64)(n0 + img) * OC + c0 + c) * P + pix;
    if (toNchw) y[yi] = bias ? tmp[e] + bias[c0 + c] : tmp[e];
    else tmp[e] = y[yi];
  }
}

extern "C" __global__ void k_cnp_nchw_f32(float* tmp, float* y, const float* bias, i64 OC, i64 P, int n0, int nimg, int c0, int cnt, int toNchw) {
  cnp_nchw(tmp, y, bias, OC, P, n0, nimg, c0, cnt, toNchw);
}
extern "C" __global__ void k_cnp_nchw_f64(double* tmp, double* y, const double* bias, i64 OC, i64 P, int n0, int nimg, int c0, int cnt, int toNchw) {
  cnp_nchw(tmp, y, bias, OC, P, n0, nimg, c0, cnt, toNchw);
}

// gb[oc] = sum over n and the plane of gy[n][oc][:]; a block per channel.
template <typename T>
__device__ __forceinline__ void conv_bias_grad(const T* gy, T* gb, i64 N, i64 OC, i64 P) {
  __shared__ double sh[32];
  for (i64 oc = blockIdx.x; oc < OC; oc += gridDim.x) {
    double s = 0.0;
    for (i64 j = threadIdx.x; j < N * P; j += blockDim.x) {
      const i64 n = j / P;
      s += (double)gy[(n * OC + oc) * P + (j - n * P)];
    }
    s = k_block_sum(s, sh);
    if (threadIdx.x == 0) gb[oc] = (T)s;
  }
}

extern "C" __global__ void __launch_bounds__(1024) k_conv_bias_grad_f32(const float* gy, float* gb, i64 N, i64 OC, i64 P) { conv_bias_grad(gy, gb, N, OC, P); }
extern "C" __global__ void __launch_bounds__(1024) k_conv_bias_grad_f64(const double* gy, double* gb, i64 N, i64 OC, i64 P) { conv_bias_grad(gy, gb, N, OC, P); }
