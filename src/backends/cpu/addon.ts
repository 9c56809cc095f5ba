// Typed loader for the native CPU kernel addon (found by ./locate.ts: a source build or the prebuilt package).
// Never throws: a missing or broken addon yields null, and the reason is kept in addonLoadError().
// Imports nothing from other kindling folders.
import { createRequire } from "node:module";
import { locateAddon, whyNotNative, type AddonLoadReport } from "./locate.js";

type F32 = Float32Array;
type I32 = Int32Array;
type Flag = number | boolean;

/** Unary op codes for `unary` / `unaryBackward`. */
export const UnaryOp = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, relu: 5, gelu: 6, sigmoid: 7, tanh: 8, rsqrt: 9, reciprocal: 10,
  square: 11, sign: 12,
} as const;
/** Binary op codes for `binary` / `binaryScalar` / `binaryStrided`. */
export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, pow: 6 } as const;
/** crossEntropy reduction codes. */
export const Reduction = { sum: 0, mean: 1, none: 2 } as const;

/**
 * The native kernel table. Every buffer argument is followed by its element offset; shapes are plain numbers;
 * everything is contiguous row-major unless a stride/leading-dimension argument says otherwise.
 * Arguments are bounds-checked natively: a wrong extent throws RangeError, a wrong type TypeError.
 */
export interface NativeAddon {
  isa(): "avx512" | "avx2" | "scalar";
  setNumThreads(n: number): void;
  getNumThreads(): number;

  /** C = alpha*op(A)*op(B) + beta*C; beta == 0 overwrites C (NaNs in C ignored). */
  gemm(transA: Flag, transB: Flag, M: number, N: number, K: number, alpha: number,
    A: F32, aOff: number, lda: number, B: F32, bOff: number, ldb: number,
    beta: number, C: F32, cOff: number, ldc: number): void;
  /** Batched C_i = op(A_i)*op(B_i) (alpha 1, beta 0); leading dimensions are the packed row lengths. */
  bgemm(batch: number, transA: Flag, transB: Flag, M: number, N: number, K: number,
    A: F32, aOff: number, aBatchStride: number, B: F32, bOff: number, bBatchStride: number,
    C: F32, cOff: number, cBatchStride: number): void;
  /** y[M,N] = x[M,K] * w[N,K]^T + b[N] */
  linear(x: F32, xOff: number, w: F32, wOff: number, b: F32 | null, bOff: number, y: F32, yOff: number,
    M: number, N: number, K: number): void;
  /** gx = gy*w, gw = gy^T*x, gb = column sums of gy (each optional; overwritten). */
  linearBackward(gy: F32, gyOff: number, x: F32 | null, xOff: number, w: F32 | null, wOff: number,
    gx: F32 | null, gxOff: number, gw: F32 | null, gwOff: number, gb: F32 | null, gbOff: number,
    M: number, N: number, K: number): void;

  conv2d(x: F32, xOff: number, w: F32, wOff: number, b: F32 | null, bOff: number, y: F32, yOff: number,
    N: number, C: number, H: number, W: number, OC: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, dilH: number, dilW: number,
    groups: number, OH: number, OW: number): void;
  conv2dBackward(gy: F32, gyOff: number, x: F32 | null, xOff: number, w: F32 | null, wOff: number,
    gx: F32 | null, gxOff: number, gw: F32 | null, gwOff: number, gb: F32 | null, gbOff: number,
    N: number, C: number, H: number, W: number, OC: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, dilH: number, dilW: number,
    groups: number, OH: number, OW: number): void;

  /** idx receives h*W+w within each (n,c) plane (PyTorch convention). */
  maxPool2d(x: F32, xOff: number, y: F32, yOff: number, idx: I32, idxOff: number,
    N: number, C: number, H: number, W: number, KH: number, KW: number, sH: number, sW: number,
    pH: number, pW: number, dH: number, dW: number, OH: number, OW: number): void;
  maxPool2dBackward(gy: F32, gyOff: number, idx: I32, idxOff: number, gx: F32, gxOff: number,
    N: number, C: number, H: number, W: number, OH: number, OW: number): void;
  avgPool2d(x: F32, xOff: number, y: F32, yOff: number, N: number, C: number, H: number, W: number,
    KH: number, KW: number, sH: number, sW: number, pH: number, pW: number, OH: number, OW: number,
    countIncludePad: Flag, divisorOverride: number): void;
  avgPool2dBackward(gy: F32, gyOff: number, gx: F32, gxOff: number, N: number, C: number, H: number, W: number,
    KH: number, KW: number, sH: number, sW: number, pH: number, pW: number, OH: number, OW: number,
    countIncludePad: Flag, divisorOverride: number): void;

  /** op: see UnaryOp. */
  unary(op: number, x: F32, xOff: number, y: F32, yOff: number, n: number): void;
  /** op: relu (5), gelu (6), sigmoid (7), tanh (8); x is the forward input. */
  unaryBackward(op: number, gy: F32, gyOff: number, x: F32, xOff: number, gx: F32, gxOff: number, n: number): void;
  /** op: see BinaryOp. */
  binary(op: number, a: F32, aOff: number, b: F32, bOff: number, y: F32, yOff: number, n: number): void;
  binaryScalar(op: number, a: F32, aOff: number, s: number, y: F32, yOff: number, n: number): void;
  /** Broadcasting op: element strides (may be 0 or negative) for a and b; y contiguous. */
  binaryStrided(op: number, ndim: number, shape: I32, a: F32, aOff: number, aStrides: I32,
    b: F32, bOff: number, bStrides: I32, y: F32, yOff: number): void;
  /** y = alpha*x + beta*y (beta == 0: y overwritten). */
  axpby(y: F32, yOff: number, x: F32, xOff: number, alpha: number, beta: number, n: number): void;

  sumDim(x: F32, xOff: number, y: F32, yOff: number, outer: number, red: number, inner: number): void;
  /** Values and indices of the first maximum along red (NaN wins). idx may be null. */
  maxDim(x: F32, xOff: number, y: F32, yOff: number, idx: I32 | null, idxOff: number,
    outer: number, red: number, inner: number): void;
  sumAll(x: F32, xOff: number, n: number): number;

  softmax(x: F32, xOff: number, y: F32, yOff: number, outer: number, n: number, inner: number, log: Flag): void;
  softmaxBackward(gy: F32, gyOff: number, y: F32, yOff: number, gx: F32, gxOff: number,
    outer: number, n: number, inner: number, log: Flag): void;
  /** Fused log-softmax + NLL (+ label smoothing); grad (if given) is d(loss)/d(logits) for upstream 1. */
  crossEntropy(logits: F32, lOff: number, target: I32, tOff: number, N: number, C: number, ignoreIndex: number,
    labelSmoothing: number, reduction: 0 | 1 | 2, lossOut: F32, lossOff: number, grad: F32 | null, gOff: number): void;

  batchNorm2d(x: F32, xOff: number, y: F32, yOff: number, N: number, C: number, HW: number,
    weight: F32 | null, wOff: number, bias: F32 | null, bOff: number,
    runMean: F32 | null, rmOff: number, runVar: F32 | null, rvOff: number,
    training: Flag, momentum: number, eps: number,
    saveMean: F32 | null, smOff: number, saveInvstd: F32 | null, siOff: number): void;
  batchNorm2dBackward(gy: F32, gyOff: number, x: F32, xOff: number, weight: F32 | null, wOff: number,
    saveMean: F32, smOff: number, saveInvstd: F32, siOff: number,
    gx: F32 | null, gxOff: number, gw: F32 | null, gwOff: number, gb: F32 | null, gbOff: number,
    N: number, C: number, HW: number): void;

  /** PyTorch SGD over all parameters; params[i], grads[i], bufs[i] start at their offsets. Null grads are skipped. */
  sgdStep(params: F32[], grads: (F32 | null)[], bufs: (F32 | null)[], offsets: I32, gradOffsets: I32, bufOffsets: I32, sizes: I32,
    lr: number, momentum: number, dampening: number, weightDecay: number,
    nesterov: Flag, maximize: Flag, firstStep: Flag): void;
  /** PyTorch Adam / AdamW (decoupled = 1); `step` is the 1-based step count after increment. amsgrad must be 0. */
  adamStep(params: F32[], grads: (F32 | null)[], expAvg: F32[], expAvgSq: F32[], offsets: I32, sizes: I32,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number,
    decoupled: Flag, amsgrad?: Flag, maximize?: Flag): void;

  copyStrided(ndim: number, shape: I32, src: F32, srcOff: number, srcStrides: I32,
    dst: F32, dstOff: number, dstStrides: I32): void;
}

let cached: NativeAddon | null | undefined;
let loadError: string | null = null;

let loadReport: AddonLoadReport | null = null;

/** Loads the addon once; null when it is missing, fails to load, or KINDLING_BACKEND=ref. */
export function loadAddon(): NativeAddon | null {
  if (cached !== undefined) return cached;
  const req = createRequire(import.meta.url);
  const { value, report } = locateAddon((file) => {
    const mod = req(file) as NativeAddon;
    if (typeof mod?.gemm !== "function" || typeof mod.isa !== "function") throw new Error(`${file} does not export the kindling kernel table`);
    return mod;
  });
  cached = value;
  loadReport = report;
  loadError = value ? null : whyNotNative(report);
  return cached;
}

/** Which addon file loaded, from where, and what else was tried (null before the first loadAddon()). */
export function addonLoadReport(): AddonLoadReport | null {
  return loadReport;
}

/** Why the last loadAddon() returned null (null if it loaded or was never tried). */
export function addonLoadError(): string | null {
  return loadError;
}
