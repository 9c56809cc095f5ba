// The contract between the tensor layer and a backend: every kernel by name and signature. The reference backend
// implements all of them (typed as Kernels, so a missing one is a compile error); faster backends implement a
// Partial<Kernels> and the CPU dispatcher falls back to the reference kernel for the rest (same storage).
import type { DType, TypedArray } from "../core/dtype.js";
import type { BinaryName } from "./binary.js";
import type { UnaryName } from "./unary.js";

/** What a kernel sees of a tensor: storage plus a strided view. Outputs are always contiguous. */
export interface View {
  readonly storage: { readonly data: TypedArray };
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

export interface Conv2dParams {
  N: number; C: number; H: number; W: number;
  OC: number; KH: number; KW: number;
  strideH: number; strideW: number; padH: number; padW: number; dilH: number; dilW: number;
  groups: number; OH: number; OW: number;
}

export interface Pool2dParams {
  N: number; C: number; H: number; W: number;
  KH: number; KW: number; strideH: number; strideW: number; padH: number; padW: number;
  dilH: number; dilW: number; OH: number; OW: number;
  countIncludePad: boolean; divisorOverride: number;
}

export type Reduction = "mean" | "sum" | "none";

export interface CrossEntropyParams { ignoreIndex: number; labelSmoothing: number; reduction: Reduction }

export interface BatchNormParams { N: number; C: number; HW: number; training: boolean; momentum: number; eps: number }

export interface SgdParams {
  lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; maximize: boolean;
}

export interface AdamParams {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; amsgrad: boolean;
  maximize: boolean;
}

export interface Kernels {
  /** dst[i] = cast(src[i]) over any strides (used for contiguous(), casts, in-place copy_). */
  copy(src: View, dst: View): void;
  fill(dst: View, value: number): void;
  unary(op: UnaryName, x: View, out: View): void;
  /** a and b are already expanded to out.shape (broadcast dims have stride 0). */
  binary(op: BinaryName, a: View, b: View, out: View): void;
  where(cond: View, a: View, b: View, out: View): void;
  clamp(x: View, out: View, lo: number, hi: number): void;
  /** Contiguous x viewed as [outer, red, inner] reduced over red. */
  sumDim(x: View, out: View, outer: number, red: number, inner: number): void;
  prodDim(x: View, out: View, outer: number, red: number, inner: number): void;
  /** Values and int64 indices of the max (or min) over red; NaN wins, first index on ties. */
  maxDim(x: View, values: View, indices: View, outer: number, red: number, inner: number, isMin: boolean): void;
  /** out[b] = op(a[b]) @ op(b[b]); a is [batch, M, K] ([batch, K, M] when transA), b likewise. All contiguous. */
  bmm(a: View, b: View, out: View, batch: number, M: number, N: number, K: number, transA: boolean, transB: boolean): void;
  /** y = x @ w^T + bias; x [M, K], w [N, K], contiguous. */
  linear(x: View, w: View, bias: View | null, out: View): void;
  conv2d(x: View, w: View, bias: View | null, out: View, p: Conv2dParams): void;
  /** Gradients of conv2d wrt input, weight and bias in one call; each output may be null (not wanted). */
  conv2dBackward(gy: View, x: View, w: View, gx: View | null, gw: View | null, gb: View | null, p: Conv2dParams): void;
  /** Gradients of linear: gx = gy @ w, gw = gy^T @ x, gb = column sums of gy (each optional). */
  linearBackward(gy: View, x: View, w: View, gx: View | null, gw: View | null, gb: View | null): void;
  /** indices (int32) receive h * W + w of each window's max within its (n, c) plane. */
  maxPool2d(x: View, out: View, indices: View, p: Pool2dParams): void;
  maxPool2dBackward(gy: View, indices: View, gx: View, p: Pool2dParams): void;
  avgPool2d(x: View, out: View, p: Pool2dParams): void;
  avgPool2dBackward(gy: View, gx: View, p: Pool2dParams): void;
  /** Softmax (or log-softmax) of contiguous x viewed as [outer, n, inner] along n. */
  softmax(x: View, out: View, outer: number, n: number, inner: number, log: boolean): void;
  softmaxBackward(gy: View, y: View, gx: View, outer: number, n: number, inner: number, log: boolean): void;
  /** Fused log-softmax + NLL over logits [N, C] and class indices; grad (if given) is d loss / d logits. */
  crossEntropy(logits: View, target: View, loss: View, grad: View | null, p: CrossEntropyParams): void;
  nllLoss(logp: View, target: View, loss: View, p: CrossEntropyParams): void;
  nllLossBackward(target: View, gx: View, gLoss: View, p: CrossEntropyParams): void;
  batchNorm(
    x: View, weight: View | null, bias: View | null, runningMean: View | null, runningVar: View | null,
    out: View, saveMean: View, saveInvstd: View, p: BatchNormParams,
  ): void;
  batchNormBackward(
    gy: View, x: View, weight: View | null, saveMean: View, saveInvstd: View,
    gx: View, gw: View | null, gb: View | null, p: BatchNormParams,
  ): void;
  /** out = x gathered along dim by int64 index (all contiguous; x viewed as [outer, n, inner]). */
  indexSelect(x: View, index: View, out: View, outer: number, n: number, inner: number): void;
  indexAdd(src: View, index: View, out: View, outer: number, n: number, inner: number): void;
  /** One optimizer step over every parameter (float32/float64 contiguous views). */
  sgdStep(params: View[], grads: View[], bufs: (View | null)[], p: SgdParams, firstStep: boolean[]): void;
  adamStep(params: View[], grads: View[], expAvg: View[], expAvgSq: View[], maxExpAvgSq: (View | null)[], step: number[], p: AdamParams): void;
  /** Contiguous float out = from + (to - from) * uniform draws of the xoshiro128** state (advanced in place; core/rng.ts). */
  randUniform(state: Uint32Array, out: View, from: number, to: number): void;
  /** Contiguous float out = mean + std * normal draws (core/rng.ts pairs); returns the last pair's unused half, or NaN. */
  randNormal(state: Uint32Array, out: View, mean: number, std: number): number;
  /** A random permutation of 0..n-1 into contiguous float64 out (Fisher–Yates, core/rng.ts). */
  randPerm(state: Uint32Array, out: View): void;
}

export type KernelName = keyof Kernels;
