// The one door from the native backend to the reference kernels. Every case the addon does not handle goes through
// fallback(kernel, reason), which records it; test/native_coverage.test.ts runs the whole op table on the native
// backend and fails on any fallback not listed in KNOWN_FALLBACKS below (print it with
// `node dist/bench/kernel_coverage.js`).
import type { KernelName, Kernels } from "../../ops/kernels.js";
import { refKernels } from "../ref/index.js";

export interface FallbackRecord {
  readonly kernel: KernelName;
  readonly reason: string;
  count: number;
}

export interface KnownFallback {
  readonly kernel: KernelName;
  readonly reason: string;
  /** Why it is acceptable (rare op or dtype). */
  readonly why: string;
}

/** Reasons, spelled once so the shim and the list cannot drift apart. */
export const Reason = {
  dtype: "not float32",
  dims: "more than 16 dims",
  noKernel: "no native kernel",
  stridedFill: "strided destination",
  badTarget: "target out of range (the reference kernel reports it)",
  amsgrad: "amsgrad",
  mixedSteps: "parameters at different step counts",
  evalBackward: "eval-mode backward",
  empty: "zero-size operands",
  badIndex: "index out of range (the reference kernel reports it)",
  strided: "strided operands",
} as const;

/**
 * The documented exceptions: rare ops and dtypes that run the reference kernel on the native backend. Everything
 * else in the op table has a native float32 kernel for contiguous and strided inputs.
 */
export const KNOWN_FALLBACKS: readonly KnownFallback[] = [
  ...(["copy", "fill", "unary", "binary", "binaryScalar", "where", "clamp", "sumDim", "prodDim", "indexSelect", "indexAdd", "maxDim", "bmm", "linear", "linearBackward", "conv2d", "conv2dBackward",
    "maxPool2d", "maxPool2dBackward", "avgPool2d", "avgPool2dBackward", "softmax", "softmaxBackward", "crossEntropy",
    "batchNorm", "batchNormBackward", "sgdStep", "adamStep", "scan", "sort", "searchsorted", "gather", "scatter"] as const).map((kernel) => ({
    kernel, reason: Reason.dtype,
    why: "the addon's kernels are float32; float64 and integer tensors are rare in training and use the reference kernels",
  })),
  ...(["copy", "unary", "binary", "where", "clamp", "gather", "scatter"] as const).map((kernel) => ({
    kernel, reason: Reason.dims, why: "the strided kernels take at most 16 dims",
  })),
  { kernel: "fill", reason: Reason.stridedFill, why: "filling a non-contiguous view (x[:, 0].fill_) is rare" },
  ...(["nllLoss", "nllLossBackward"] as const).map((kernel) => ({
    kernel, reason: Reason.noKernel, why: "rare in the models kindling targets; no native kernel yet",
  })),
  ...(["bmm", "linear", "linearBackward"] as const).map((kernel) => ({
    kernel, reason: Reason.empty, why: "a product with a zero-size dimension has no work to speed up",
  })),
  ...(["indexSelect", "indexAdd"] as const).map((kernel) => ({
    kernel, reason: Reason.badIndex, why: "an error path: the reference kernel names the bad index",
  })),
  { kernel: "crossEntropy", reason: Reason.badTarget, why: "an error path: the reference kernel names the bad target" },
  { kernel: "adamStep", reason: Reason.amsgrad, why: "the native Adam has no amsgrad variant" },
  { kernel: "adamStep", reason: Reason.mixedSteps, why: "parameters added to an optimizer mid-training" },
  { kernel: "batchNormBackward", reason: Reason.evalBackward, why: "backward through batch norm in eval mode is rare" },
];

const seen = new Map<string, FallbackRecord>();

/** Records that `kernel` ran on the reference backend for `reason` and returns the reference kernel to call. */
export function fallback<K extends KernelName>(kernel: K, reason: string): Kernels[K] {
  const key = `${kernel}\u0000${reason}`;
  const r = seen.get(key);
  if (r) r.count++;
  else seen.set(key, { kernel, reason, count: 1 });
  return refKernels[kernel];
}

/** Every (kernel, reason) that fell back since the last clearFallbacks(), with counts. */
export function fallbacksSeen(): FallbackRecord[] {
  return [...seen.values()].map((r) => ({ ...r }));
}

export function clearFallbacks(): void {
  seen.clear();
}

export function isKnownFallback(kernel: KernelName, reason: string): boolean {
  return KNOWN_FALLBACKS.some((k) => k.kernel === kernel && k.reason === reason);
}
