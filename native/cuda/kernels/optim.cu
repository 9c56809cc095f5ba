// Fused optimizer steps: one launch updates every parameter of one dtype. The host uploads a table with one row
// per parameter (pointers, element count, per-parameter scalars); blockIdx.y picks the row, blockIdx.x strides
// over its elements. The arithmetic is the reference's (src/backends/ref/optim.ts) in double, including which
// values are rounded to the parameter dtype when stored and which are used unrounded.
#include "common.cuh"

// Row layouts: src/backends/cuda/kernels_optim.ts packs them (SGD_ROW_BYTES = 40, ADAM_ROW_BYTES = 64).
struct KSgdRow {
  u64 p, g, buf;  // buf 0: no momentum buffer
  i64 n;
  i64 first;      // the buffer starts as the gradient itself
};

struct KAdamRow {
  u64 p, g, expAvg, expAvgSq, maxExpAvgSq;  // maxExpAvgSq 0 without amsgrad
  i64 n;
  double stepSize;  // lr / (1 - beta1^t)
  double bc2Sqrt;   // sqrt(1 - beta2^t)
};

template <typename T>
__device__ __forceinline__ void sgd_run(
    const KSgdRow* rows, int nrows, double lr, double momentum, double dampening, double wd, int nesterov, int maximize) {
  for (int r = blockIdx.y; r < nrows; r += gridDim.y) {
    const KSgdRow row = rows[r];
    T* P = (T*)row.p;
    const T* G = (const T*)row.g;
    T* B = (T*)row.buf;
    for (i64 i = k_tid(); i < row.n; i += k_nthreads()) {
      double g = (double)G[i];
      if (maximize) g = -g;
      if (wd != 0.0) g += wd * (double)P[i];
      if (momentum != 0.0 && B) {
        const double b = row.first ? g : momentum * (double)B[i] + (1.0 - dampening) * g;
        B[i] = (T)b;
        g = nesterov ? g + momentum * b : b;
      }
      P[i] = (T)((double)P[i] - lr * g);
    }
  }
}

extern "C" __global__ void k_sgd_f32(const KSgdRow* rows, int nrows, double lr, double momentum, double dampening, double wd, int nesterov, int maximize) {
  sgd_run<float>(rows, nrows, lr, momentum, dampening, wd, nesterov, maximize);
}
extern "C" __global__ void k_sgd_f64(const KSgdRow* rows, int nrows, double lr, double momentum, double dampening, double wd, int nesterov, int maximize) {
  sgd_run<double>(rows, nrows, lr, momentum, dampening, wd, nesterov, maximize);
}

template <typename T>
__device__ __forceinline__ void adam_run(
    const KAdamRow* rows, int nrows, double lr, double beta1, double beta2, double eps, double wd, int decoupled,
    int amsgrad, int maximize) {
  for (int r = blockIdx.y; r < nrows; r += gridDim.y) {
    const KAdamRow row = rows[r];
    T* P = (T*)row.p;
    const T* G = (const T*)row.g;
    T* A = (T*)row.expAvg;
    T* S = (T*)row.expAvgSq;
    T* MX = (T*)row.maxExpAvgSq;
    for (i64 i = k_tid(); i < row.n; i += k_nthreads()) {
      double g = (double)G[i];
      if (maximize) g = -g;
      if (wd != 0.0) {
        if (decoupled) P[i] = (T)((double)P[i] * (1.0 - lr * wd));
        else g += wd * (double)P[i];
      }
      const double a = beta1 * (double)A[i] + (1.0 - beta1) * g;
      A[i] = (T)a;
      double s = beta2 * (double)S[i] + (1.0 - beta2) * g * g;
      S[i] = (T)s;
      if (amsgrad && MX) {
        const double mx = (double)MX[i];
        s = (mx != mx || s != s) ? k_nan() : (mx > s ? mx : s);  // Math.max: NaN wins
        MX[i] = (T)s;
      }
      const double denom = sqrt(s) / row.bc2Sqrt + eps;
      P[i] = (T)((double)P[i] - (row.stepSize * a) / denom);
    }
  }
}

extern "C" __global__ void k_adam_f32(
    const KAdamRow* rows, int nrows, double lr, double beta1, double beta2, double eps, double wd, int decoupled, int amsgrad, int maximize) {
  adam_run<float>(rows, nrows, lr, beta1, beta2, eps, wd, decoupled, amsgrad, maximize);
}
extern "C" __global__ void k_adam_f64(
    const KAdamRow* rows, int nrows, double lr, double beta1, double beta2, double eps, double wd, int decoupled, int amsgrad, int maximize) {
  adam_run<double>(rows, nrows, lr, beta1, beta2, eps, wd, decoupled, amsgrad, maximize);
}
