// Typed loader for the native CPU kernel addon (found by ./locate.ts: a source build or the prebuilt package).
// Never throws: a missing or broken addon yields null, and the reason is kept in addonLoadError().
// Imports nothing from other kindling folders but the op table (its names are checked against the addon's).
import { createRequire } from "node:module";
import { locateAddon, whyNotNative, type AddonLoadReport } from "./locate.js";
import { binaryOps, type BinaryName } from "../../ops/binary.js";
import { unaryOps, type UnaryName } from "../../ops/unary.js";

type F32 = Float32Array;
type I32 = Int32Array;
type U8 = Uint8Array;
type Flag = number | boolean;

/** crossEntropy reduction codes. */
export const Reduction = { sum: 0, mean: 1, none: 2 } as const;

/**
 * The native kernel table. Every buffer argument is followed by its element offset; shapes are plain numbers;
 * everything is contiguous row-major unless a stride/leading-dimension argument says otherwise.
 * Arguments are bounds-checked natively: a wrong extent throws RangeError, a wrong type TypeError.
 */
export interface NativeAddon {
  isa(): "avx512" | "avx2" | "scalar";
  /** Unary op names; an op's code is its index (native/cpu/ops.h). Read through opCodes(), never by number. */
  readonly unaryOps: readonly string[];
  /** Binary op names (arithmetic, then comparisons, then reluGrad/geluGrad); code = index. */
  readonly binaryOps: readonly string[];
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** Bytes glibc's malloc holds in mmap()ed blocks and in its heap; null without glibc >= 2.33. */
  mallocStats(): { mmappedBytes: number; heapBytes: number } | null;

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

  /** op: a unary code (opCodes().unary). Unknown codes throw RangeError. */
  unary(op: number, x: F32, xOff: number, y: F32, yOff: number, n: number): void;
  /** Any unary op over a strided x (element strides, up to 16 dims); y contiguous. */
  unaryStrided(op: number, ndim: number, shape: I32, x: F32, xOff: number, xStrides: I32, y: F32, yOff: number): void;
  /** op: the unary code of relu, gelu, sigmoid or tanh; x is the forward input. */
  unaryBackward(op: number, gy: F32, gyOff: number, x: F32, xOff: number, gx: F32, gxOff: number, n: number): void;
  /** op: an arithmetic binary code (add..pow). */
  binary(op: number, a: F32, aOff: number, b: F32, bOff: number, y: F32, yOff: number, n: number): void;
  binaryScalar(op: number, a: F32, aOff: number, s: number, y: F32, yOff: number, n: number): void;
  /** Arithmetic or reluGrad/geluGrad over broadcast operands: element strides (may be 0 or negative); y contiguous. */
  binaryStrided(op: number, ndim: number, shape: I32, a: F32, aOff: number, aStrides: I32,
    b: F32, bOff: number, bStrides: I32, y: F32, yOff: number): void;
  /** Comparison (eq..le) over broadcast operands into bool (0/1 bytes); y contiguous. */
  compareStrided(op: number, ndim: number, shape: I32, a: F32, aOff: number, aStrides: I32,
    b: F32, bOff: number, bStrides: I32, y: U8, yOff: number): void;
  /** y = min(max(x, lo), hi) over a strided x (NaN passes through); y contiguous. */
  clampStrided(lo: number, hi: number, ndim: number, shape: I32, x: F32, xOff: number, xStrides: I32, y: F32, yOff: number): void;
  /** y = cond ? a : b, all three strided (cond: bool bytes); y contiguous. */
  whereStrided(ndim: number, shape: I32, cond: U8, cOff: number, cStrides: I32, a: F32, aOff: number, aStrides: I32,
    b: F32, bOff: number, bStrides: I32, y: F32, yOff: number): void;
  /** y = alpha*x + beta*y (beta == 0: y overwritten). */
  axpby(y: F32, yOff: number, x: F32, xOff: number, alpha: number, beta: number, n: number): void;

  sumDim(x: F32, xOff: number, y: F32, yOff: number, outer: number, red: number, inner: number): void;
  /** Values and indices of the first maximum along red (NaN wins). idx may be null. */
  maxDim(x: F32, xOff: number, y: F32, yOff: number, idx: I32 | null, idxOff: number,
    outer: number, red: number, inner: number, isMin?: Flag): void;
  sumAll(x: F32, xOff: number, n: number): number;
  /** Product along red (accumulated in double). */
  prodDim(x: F32, xOff: number, y: F32, yOff: number, outer: number, red: number, inner: number): void;
  /** y[o, j, :] = x[o, index[j], :] (x: [outer, n, inner]); index holds integers in a Float64Array (int64 storage). */
  indexSelect(x: F32, xOff: number, index: Float64Array, iOff: number, m: number, y: F32, yOff: number,
    outer: number, n: number, inner: number): void;
  /** y[o, index[j], :] += src[o, j, :] (y: [outer, n, inner]). */
  indexAdd(src: F32, sOff: number, index: Float64Array, iOff: number, m: number, y: F32, yOff: number,
    outer: number, n: number, inner: number): void;

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

  /** Bulk draws of core/rng.ts's streams; state is the generator's 4-word xoshiro128** state, advanced in place. */
  rngUniform(state: Uint32Array, out: F32 | Float64Array, off: number, n: number, from: number, to: number): void;
  /** Returns the unused sine half of the last pair when n is odd, else NaN. */
  rngNormal(state: Uint32Array, out: F32 | Float64Array, off: number, n: number, mean: number, std: number): number;
  rngPermutation(state: Uint32Array, out: Float64Array, off: number, n: number): void;

  /** Inclusive running sum (prod 0) or product (prod 1) along n of contiguous x [outer, n, inner]. */
  scan(prod: Flag, x: F32, xOff: number, y: F32, yOff: number, outer: number, n: number, inner: number): void;
  /** Stable sort along n (NaN last ascending, first descending); indices as integers in a Float64Array. */
  sort(x: F32, xOff: number, values: F32, vOff: number, indices: Float64Array, iOff: number,
    outer: number, n: number, inner: number, descending: Flag): void;
  searchsorted(seq: F32, sOff: number, values: F32, vOff: number, out: Float64Array, oOff: number,
    outer: number, m: number, k: number, right: Flag): void;
  /** y (contiguous, the index's shape) = x gathered along dim; x and index strided. */
  gather(ndim: number, indexShape: I32, x: F32, xOff: number, xShape: I32, xStrides: I32,
    index: Float64Array, iOff: number, iStrides: I32, y: F32, yOff: number, dim: number): void;
  /** y (contiguous, yShape) receives src along dim at the indexed positions (added when accumulate). */
  scatter(ndim: number, indexShape: I32, src: F32, sOff: number, sStrides: I32,
    index: Float64Array, iOff: number, iStrides: I32, y: F32, yOff: number, yShape: I32, dim: number, accumulate: Flag): void;
  /** op 0 and, 1 or, 2 xor over contiguous arrays of one integer type (int64 as exact integers in a Float64Array). */
  bitwise(op: 0 | 1 | 2, a: Int32Array | Uint8Array | Float64Array, aOff: number, b: Int32Array | Uint8Array | Float64Array,
    bOff: number, y: Int32Array | Uint8Array | Float64Array, yOff: number, n: number): void;
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
    const mismatch = opTableMismatch(mod.unaryOps, mod.binaryOps);
    if (mismatch) throw new Error(`${file} was not built from this kindling's op table (${mismatch}); rebuild it with \`npm run build\``);
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

// ---- op codes: declared once, in native/cpu/ops.h ----------------------------------------------------------------

/** Native op codes by op-table name, derived from the lists the addon exports. */
export interface OpCodes {
  readonly unary: Readonly<Record<UnaryName, number>>;
  readonly binary: Readonly<Record<BinaryName, number>>;
}

function sameNames(kind: string, native: unknown, table: readonly string[]): string | null {
  if (!Array.isArray(native) || !native.every((n) => typeof n === "string")) return `it exports no ${kind} op names`;
  const missing = table.filter((n) => !native.includes(n));
  const extra = (native as string[]).filter((n) => !table.includes(n));
  if (!missing.length && !extra.length && native.length === table.length) return null;
  const parts = [];
  if (missing.length) parts.push(`it lacks ${kind} op(s) ${missing.join(", ")}`);
  if (extra.length) parts.push(`the op table has no ${kind} op(s) ${extra.join(", ")}`);
  if (!parts.length) parts.push(`its ${kind} op list repeats a name`);
  return parts.join("; ");
}

/**
 * Why an addon's op-name lists cannot serve the TypeScript op table (src/ops/unary.ts, binary.ts), or null when
 * every op-table name has exactly one native code.
 */
export function opTableMismatch(unary: unknown, binary: unknown): string | null {
  const u = sameNames("unary", unary, Object.keys(unaryOps));
  const b = sameNames("binary", binary, Object.keys(binaryOps));
  return u && b ? `${u}; ${b}` : u ?? b;
}

/** The codes of a loaded addon (loadAddon() refused any addon whose lists disagree with the op table). */
export function opCodes(addon: Pick<NativeAddon, "unaryOps" | "binaryOps">): OpCodes {
  const index = (names: readonly string[]) => Object.fromEntries(names.map((n, i) => [n, i]));
  return {
    unary: index(addon.unaryOps) as Record<UnaryName, number>,
    binary: index(addon.binaryOps) as Record<BinaryName, number>,
  };
}
