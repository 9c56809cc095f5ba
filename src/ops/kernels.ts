// The contract between the tensor layer and a backend: every kernel by name and signature. The reference backend
// implements all of them (typed as Kernels, so a missing one is a compile error); faster backends implement a
// Partial<Kernels> and the CPU dispatcher falls back to the reference kernel for the rest (same storage).
// The contract is per device: `Kernels<V>` is generic in what a kernel sees of a tensor. The default, `View`, is the
// CPU's (typed arrays in `storage.data`); the tensor layer calls every device's kernels through `Kernels<View<S>>`
// with its opaque Storage (src/backend/device.ts), and each device narrows S to its own storage class.
import type { DType, TypedArray } from "../core/dtype.js";
import type { BinaryName } from "./binary.js";
import type { UnaryName } from "./unary.js";

/** What a CPU kernel sees of a storage: the typed array that holds it. */
export interface HostData {
  readonly data: TypedArray;
}

/** What a kernel sees of a tensor: storage plus a strided view. Outputs are always contiguous. */
export interface View<S = HostData> {
  readonly storage: S;
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

export interface Kernels<V = View> {
  /** dst[i] = cast(src[i]) over any strides (used for contiguous(), casts, in-place copy_). */
  copy(src: V, dst: V): void;
  fill(dst: V, value: number): void;
  unary(op: UnaryName, x: V, out: V): void;
  /** a and b are already expanded to out.shape (broadcast dims have stride 0). */
  binary(op: BinaryName, a: V, b: V, out: V): void;
  /** out = op(a, s): a scalar operand is a kernel parameter (already cast to the op's dtype), never a tensor. */
  binaryScalar(op: BinaryName, a: V, s: number, out: V): void;
  where(cond: V, a: V, b: V, out: V): void;
  clamp(x: V, out: V, lo: number, hi: number): void;
  /** Contiguous x viewed as [outer, red, inner] reduced over red. */
  sumDim(x: V, out: V, outer: number, red: number, inner: number): void;
  prodDim(x: V, out: V, outer: number, red: number, inner: number): void;
  /** Values and int64 indices of the max (or min) over red; NaN wins, first index on ties. */
  maxDim(x: V, values: V, indices: V, outer: number, red: number, inner: number, isMin: boolean): void;
  /** out[b] = op(a[b]) @ op(b[b]); a is [batch, M, K] ([batch, K, M] when transA), b likewise. All contiguous. */
  bmm(a: V, b: V, out: V, batch: number, M: number, N: number, K: number, transA: boolean, transB: boolean): void;
  /** y = x @ w^T + bias; x [M, K], w [N, K], contiguous. */
  linear(x: V, w: V, bias: V | null, out: V): void;
  conv2d(x: V, w: V, bias: V | null, out: V, p: Conv2dParams): void;
  /** Gradients of conv2d wrt input, weight and bias in one call; each output may be null (not wanted). */
  conv2dBackward(gy: V, x: V, w: V, gx: V | null, gw: V | null, gb: V | null, p: Conv2dParams): void;
  /** Gradients of linear: gx = gy @ w, gw = gy^T @ x, gb = column sums of gy (each optional). */
  linearBackward(gy: V, x: V, w: V, gx: V | null, gw: V | null, gb: V | null): void;
  /** indices (int32) receive h * W + w of each window's max within its (n, c) plane. */
  maxPool2d(x: V, out: V, indices: V, p: Pool2dParams): void;
  maxPool2dBackward(gy: V, indices: V, gx: V, p: Pool2dParams): void;
  avgPool2d(x: V, out: V, p: Pool2dParams): void;
  avgPool2dBackward(gy: V, gx: V, p: Pool2dParams): void;
  /** Softmax (or log-softmax) of contiguous x viewed as [outer, n, inner] along n. */
  softmax(x: V, out: V, outer: number, n: number, inner: number, log: boolean): void;
  softmaxBackward(gy: V, y: V, gx: V, outer: number, n: number, inner: number, log: boolean): void;
  /** Fused log-softmax + NLL over logits [N, C] and class indices; grad (if given) is d loss / d logits. */
  crossEntropy(logits: V, target: V, loss: V, grad: V | null, p: CrossEntropyParams): void;
  nllLoss(logp: V, target: V, loss: V, p: CrossEntropyParams): void;
  nllLossBackward(target: V, gx: V, gLoss: V, p: CrossEntropyParams): void;
  batchNorm(
    x: V, weight: V | null, bias: V | null, runningMean: V | null, runningVar: V | null,
    out: V, saveMean: V, saveInvstd: V, p: BatchNormParams,
  ): void;
  batchNormBackward(
    gy: V, x: V, weight: V | null, saveMean: V, saveInvstd: V,
    gx: V, gw: V | null, gb: V | null, p: BatchNormParams,
  ): void;
  /** out = x gathered along dim by int64 index (all contiguous; x viewed as [outer, n, inner]). */
  indexSelect(x: V, index: V, out: V, outer: number, n: number, inner: number): void;
  indexAdd(src: V, index: V, out: V, outer: number, n: number, inner: number): void;
  /** One optimizer step over every parameter (float32/float64 contiguous views). */
  sgdStep(params: V[], grads: V[], bufs: (V | null)[], p: SgdParams, firstStep: boolean[]): void;
  adamStep(params: V[], grads: V[], expAvg: V[], expAvgSq: V[], maxExpAvgSq: (V | null)[], step: number[], p: AdamParams): void;
  /** Contiguous float out = from + (to - from) * uniform draws of the xoshiro128** state (advanced in place; core/rng.ts). */
  randUniform(state: Uint32Array, out: V, from: number, to: number): void;
  /** Contiguous float out = mean + std * normal draws (core/rng.ts pairs); returns the last pair's unused half, or NaN. */
  randNormal(state: Uint32Array, out: V, mean: number, std: number): number;
  /** A random permutation of 0..n-1 into contiguous float64 out (Fisher–Yates, core/rng.ts). */
  randPerm(state: Uint32Array, out: V): void;
  /** Inclusive running sum or product of contiguous x viewed as [outer, n, inner] along n (out contiguous). */
  scan(op: ScanOp, x: V, out: V, outer: number, n: number, inner: number): void;
  /** Stable sort of contiguous x [outer, n, inner] along n into values and int64 indices; NaN ranks above +inf. */
  sort(x: V, values: V, indices: V, outer: number, n: number, inner: number, descending: boolean): void;
  /** out[p] = x[p with its `dim` coordinate replaced by index[p]] for p over index's shape; x and index strided. */
  gather(x: V, index: V, out: V, dim: number): void;
  /** out[p with its `dim` coordinate replaced by index[p]] = src[p] (+= when accumulate); out contiguous, pre-filled. */
  scatter(src: V, index: V, out: V, dim: number, accumulate: boolean): void;
  /** int64 out[o, j] = how many of sorted seq[o, :m] are < values[o, j] (<= when right); all contiguous. */
  searchsorted(seq: V, values: V, out: V, outer: number, m: number, k: number, right: boolean): void;
  /** Integer or bool a op b, both already expanded to out's shape (any strides). */
  bitwise(op: BitwiseOp, a: V, b: V, out: V): void;
}

export type ScanOp = "sum" | "prod";
export type BitwiseOp = "and" | "or" | "xor";

export type KernelName = keyof Kernels;
