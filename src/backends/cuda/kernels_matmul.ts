// Matmul family: every product goes through gemm(), which is cuBLAS(Lt) when the runtime found it and the tiled
// kernel of native/cuda/kernels/matmul.cu otherwise. Row-major throughout (runtime.ts GemmArgs).
import type { Kernels } from "../../ops/kernels.js";
import type { CudaRuntime, GemmArgs } from "./runtime.js";
import { args, BLOCK, fsuffix, launch1d, numel, ptrOf, zeroFill, type CV } from "./kernels_common.js";
import { reduceSumProd } from "./kernels_reduce.js";

type Matmul = Pick<Kernels<CV>, "bmm" | "linear" | "linearBackward">;

const GEMM_TILE = 64;

/** C = alpha * op(A) @ op(B) + beta * C; a library call when available (it is not asked for K = 0). */
export function gemm(rt: CudaRuntime, g: GemmArgs): void {
  if (g.M === 0 || g.N === 0 || g.batch === 0) return;
  if (rt.hasBlas && g.K > 0) {
    rt.gemm(g);
    return;
  }
  const tiles = Math.ceil(g.M / GEMM_TILE) * Math.ceil(g.N / GEMM_TILE);
  const a = args().i32(g.transA ? 1 : 0).i32(g.transB ? 1 : 0).i64(g.M).i64(g.N).i64(g.K)
    .ptr(g.a).i64(g.lda).i64(g.strideA).ptr(g.b).i64(g.ldb).i64(g.strideB).ptr(g.c).i64(g.ldc).i64(g.strideC)
    .i64(g.batch).f64(g.alpha).f64(g.beta);
  rt.launch(`k_gemm_${g.dtype === "float32" ? "f32" : "f64"}`, [Math.min(tiles, 1 << 20), 1, Math.min(g.batch, 65535)], [BLOCK, 1, 1], 0, a);
}

function floatDType(op: string, ...views: CV[]): "float32" | "float64" {
  const t = views[0].dtype;
  fsuffix(op, t);
  for (const v of views) if (v.dtype !== t) throw new Error(`${op}: expected every tensor to be ${t}, got ${v.dtype}`);
  return t as "float32" | "float64";
}

/** out [outer, n, inner] = bias[n] broadcast (zeros without a bias). */
export function biasFill(rt: CudaRuntime, out: CV, bias: CV | null, outer: number, n: number, inner: number): void {
  const total = outer * n * inner;
  if (total === 0) return;
  launch1d(rt, `k_bias_fill_${fsuffix("bias", out.dtype)}`, total,
    args().ptr(ptrOf(out)).ptr(bias ? ptrOf(bias) : 0n).i64(outer).i64(n).i64(inner));
}

export function matmulKernels(rt: CudaRuntime): Matmul {
  return {
    bmm(a, b, out, batch, M, N, K, transA, transB) {
      const dtype = floatDType("bmm", a, b, out);
      if (K === 0) {
        zeroFill(rt, out, batch * M * N);
        return;
      }
      gemm(rt, {
        dtype, transA, transB, M, N, K,
        a: ptrOf(a), lda: transA ? M : K, strideA: M * K,
        b: ptrOf(b), ldb: transB ? K : N, strideB: K * N,
        c: ptrOf(out), ldc: N, strideC: M * N,
        batch, alpha: 1, beta: 0,
      });
    },

    linear(x, w, bias, out) {
      const dtype = floatDType("linear", x, w, out);
      const K = x.shape[x.shape.length - 1];
      const N = w.shape[0];
      const M = N === 0 ? 0 : numel(out) / N;
      if (bias || K === 0) biasFill(rt, out, bias, M, N, 1);
      if (K === 0) return;
      gemm(rt, {
        dtype, transA: false, transB: true, M, N, K,
        a: ptrOf(x), lda: K, strideA: 0, b: ptrOf(w), ldb: K, strideB: 0, c: ptrOf(out), ldc: N, strideC: 0,
        batch: 1, alpha: 1, beta: bias ? 1 : 0,
      });
    },

    linearBackward(gy, x, w, gx, gw, gb) {
      const dtype = floatDType("linearBackward", gy, x, w);
      const [M, N] = gy.shape;
      const K = w.shape[1];
      if (gx) {
        gemm(rt, {
          dtype, transA: false, transB: false, M, N: K, K: N,
          a: ptrOf(gy), lda: N, strideA: 0, b: ptrOf(w), ldb: K, strideB: 0, c: ptrOf(gx), ldc: K, strideC: 0,
          batch: 1, alpha: 1, beta: 0,
        });
      }
      if (gw) {
        gemm(rt, {
          dtype, transA: true, transB: false, M: N, N: K, K: M,
          a: ptrOf(gy), lda: N, strideA: 0, b: ptrOf(x), ldb: K, strideB: 0, c: ptrOf(gw), ldc: K, strideC: 0,
          batch: 1, alpha: 1, beta: 0,
        });
      }
      if (gb) reduceSumProd(rt, "sum", gy, gb, 1, M, N);
    },
  };
}
