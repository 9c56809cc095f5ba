// Small calls of every CUDA kernel entry (src/backends/cuda/kernels.ts) on fake device memory: each case names the
// contract kernel it exercises. The signature test runs them against a recording FakeRuntime.
import { itemSize, type DType } from "../../src/core/dtype.js";
import { contiguousStrides, numelOf } from "../../src/core/shape.js";
import type { Conv2dParams, Kernels, KernelName, Pool2dParams, View } from "../../src/ops/kernels.js";
import type { CudaMemory } from "../../src/backends/cuda/runtime.js";
import type { FakeRuntime } from "./cuda_fake_runtime.js";

type CV = View<CudaMemory>;
type K = Kernels<CV>;

export interface CudaCase {
  kernel: KernelName;
  label: string;
  run(k: K, rt: FakeRuntime): void;
}

interface ViewOpts {
  /** Swap the last two dims' strides (a transposed, non-contiguous view). */
  transposed?: boolean;
  /** Element offset into the storage. */
  offset?: number;
  /** Explicit strides (e.g. 0 for a broadcast dim). */
  strides?: number[];
}

let swap = false;

/** Runs fn with float32 and float64 swapped in every view the cases make (their float64 twins, and back). */
export function withFloatsSwapped<R>(fn: () => R): R {
  swap = true;
  try {
    return fn();
  } finally {
    swap = false;
  }
}

/** A view on its own fake allocation (recorded in rt.owned), exactly as large as the view needs. */
export function view(rt: FakeRuntime, shape: number[], dtypeAsWritten: DType, o: ViewOpts = {}): CV {
  const dtype: DType = !swap ? dtypeAsWritten : dtypeAsWritten === "float32" ? "float64" : dtypeAsWritten === "float64" ? "float32" : dtypeAsWritten;
  let strides = o.strides ?? contiguousStrides(shape);
  if (o.transposed && shape.length >= 2) {
    const r = shape.length;
    const t = [...shape];
    [t[r - 1], t[r - 2]] = [t[r - 2], t[r - 1]];
    const s = contiguousStrides(t);
    strides = [...s];
    [strides[r - 1], strides[r - 2]] = [s[r - 2], s[r - 1]];
  }
  const offset = o.offset ?? 0;
  let span = 1;
  for (let d = 0; d < shape.length; d++) span += (shape[d] - 1) * Math.abs(strides[d]);
  if (numelOf(shape) === 0) span = 0;
  const ptr = rt.alloc((offset + span) * itemSize(dtype));
  rt.owned.add(ptr);
  return { storage: { ptr }, shape, strides, offset, dtype };
}

function conv(N: number, C: number, H: number, W: number, OC: number, KH: number, KW: number, s: number, pad: number, dil: number, groups: number): Conv2dParams {
  const OH = Math.floor((H + 2 * pad - dil * (KH - 1) - 1) / s) + 1;
  const OW = Math.floor((W + 2 * pad - dil * (KW - 1) - 1) / s) + 1;
  return { N, C, H, W, OC, KH, KW, strideH: s, strideW: s, padH: pad, padW: pad, dilH: dil, dilW: dil, groups, OH, OW };
}

function pool(N: number, C: number, H: number, W: number, k: number, s: number, pad: number, countIncludePad = true, divisorOverride = 0): Pool2dParams {
  const OH = Math.floor((H + 2 * pad - (k - 1) - 1) / s) + 1;
  const OW = Math.floor((W + 2 * pad - (k - 1) - 1) / s) + 1;
  return { N, C, H, W, KH: k, KW: k, strideH: s, strideW: s, padH: pad, padW: pad, dilH: 1, dilW: 1, OH, OW, countIncludePad, divisorOverride };
}

const ce = { ignoreIndex: -100, labelSmoothing: 0.1, reduction: "mean" as const };

export const cudaCases: CudaCase[] = [
  // copy / cast
  { kernel: "copy", label: "same dtype contiguous (device copy)", run: (k, rt) => k.copy(view(rt, [3, 4], "float32"), view(rt, [3, 4], "float32", { offset: 2 })) },
  { kernel: "copy", label: "float32 transposed", run: (k, rt) => k.copy(view(rt, [3, 4], "float32", { transposed: true }), view(rt, [3, 4], "float32")) },
  { kernel: "copy", label: "int64 transposed into a strided view", run: (k, rt) => k.copy(view(rt, [2, 5], "int64", { transposed: true }), view(rt, [2, 5], "int64", { strides: [10, 2] })) },
  { kernel: "copy", label: "bool strided", run: (k, rt) => k.copy(view(rt, [4, 3], "bool", { transposed: true }), view(rt, [4, 3], "bool")) },
  { kernel: "copy", label: "cast float32 -> int64", run: (k, rt) => k.copy(view(rt, [6], "float32"), view(rt, [6], "int64")) },
  { kernel: "copy", label: "cast uint8 transposed -> float64", run: (k, rt) => k.copy(view(rt, [2, 3, 4], "uint8", { transposed: true }), view(rt, [2, 3, 4], "float64")) },
  { kernel: "copy", label: "reshaping copy of equal numel", run: (k, rt) => k.copy(view(rt, [3, 4], "int32", { transposed: true }), view(rt, [12], "float32")) },
  // fill
  { kernel: "fill", label: "float32 contiguous (memset)", run: (k, rt) => k.fill(view(rt, [5, 7], "float32"), 1.5) },
  { kernel: "fill", label: "int64", run: (k, rt) => k.fill(view(rt, [5], "int64", { offset: 1 }), -3) },
  { kernel: "fill", label: "float32 strided", run: (k, rt) => k.fill(view(rt, [4, 4], "float32", { strides: [8, 1] }), 2) },
  { kernel: "fill", label: "bool", run: (k, rt) => k.fill(view(rt, [3], "bool"), 1) },
  // unary
  { kernel: "unary", label: "float32 contiguous", run: (k, rt) => k.unary("gelu", view(rt, [10], "float32"), view(rt, [10], "float32")) },
  { kernel: "unary", label: "float64 transposed", run: (k, rt) => k.unary("exp", view(rt, [3, 5], "float64", { transposed: true }), view(rt, [3, 5], "float64")) },
  { kernel: "unary", label: "int32 -> float32", run: (k, rt) => k.unary("sqrt", view(rt, [2, 3], "int32"), view(rt, [2, 3], "float32")) },
  { kernel: "unary", label: "int64 neg", run: (k, rt) => k.unary("neg", view(rt, [4], "int64"), view(rt, [4], "int64")) },
  // binary
  { kernel: "binary", label: "float32 with a broadcast operand", run: (k, rt) => k.binary("add", view(rt, [4, 3], "float32"), view(rt, [4, 3], "float32", { strides: [0, 1] }), view(rt, [4, 3], "float32")) },
  { kernel: "binary", label: "float64 transposed", run: (k, rt) => k.binary("geluGrad", view(rt, [3, 3], "float64", { transposed: true }), view(rt, [3, 3], "float64"), view(rt, [3, 3], "float64")) },
  { kernel: "binary", label: "int32 * float32 -> float32", run: (k, rt) => k.binary("mul", view(rt, [6], "int32"), view(rt, [6], "float32"), view(rt, [6], "float32")) },
  { kernel: "binary", label: "compare -> bool", run: (k, rt) => k.binary("ge", view(rt, [2, 2], "float32"), view(rt, [2, 2], "int64"), view(rt, [2, 2], "bool")) },
  // binaryScalar
  { kernel: "binaryScalar", label: "float32", run: (k, rt) => k.binaryScalar("pow", view(rt, [8], "float32"), 2, view(rt, [8], "float32")) },
  { kernel: "binaryScalar", label: "int64", run: (k, rt) => k.binaryScalar("sub", view(rt, [3, 2], "int64", { transposed: true }), 7, view(rt, [3, 2], "int64")) },
  { kernel: "binaryScalar", label: "float64 -> bool", run: (k, rt) => k.binaryScalar("lt", view(rt, [5], "float64"), 0.5, view(rt, [5], "bool")) },
  // where
  { kernel: "where", label: "bool cond, float32", run: (k, rt) => k.where(view(rt, [2, 3], "bool"), view(rt, [2, 3], "float32"), view(rt, [2, 3], "float32", { strides: [0, 0] }), view(rt, [2, 3], "float32")) },
  { kernel: "where", label: "uint8 cond, int32", run: (k, rt) => k.where(view(rt, [4], "uint8"), view(rt, [4], "int32"), view(rt, [4], "int32"), view(rt, [4], "int32")) },
  // clamp
  { kernel: "clamp", label: "float32", run: (k, rt) => k.clamp(view(rt, [9], "float32"), view(rt, [9], "float32"), -1, 1) },
  { kernel: "clamp", label: "float64 strided", run: (k, rt) => k.clamp(view(rt, [3, 3], "float64", { transposed: true }), view(rt, [3, 3], "float64"), 0, Infinity) },
  { kernel: "clamp", label: "int32", run: (k, rt) => k.clamp(view(rt, [4], "int32"), view(rt, [4], "int32"), 0, 2) },
  // reductions
  { kernel: "sumDim", label: "rows float32", run: (k, rt) => k.sumDim(view(rt, [4, 100], "float32"), view(rt, [4], "float32"), 4, 100, 1) },
  { kernel: "sumDim", label: "cols float64", run: (k, rt) => k.sumDim(view(rt, [2, 50, 40], "float64"), view(rt, [2, 40], "float64"), 2, 50, 40) },
  { kernel: "sumDim", label: "int64 to int64", run: (k, rt) => k.sumDim(view(rt, [3, 7], "int64"), view(rt, [7], "int64"), 1, 3, 7) },
  { kernel: "prodDim", label: "rows", run: (k, rt) => k.prodDim(view(rt, [2, 5], "float32"), view(rt, [2], "float32"), 2, 5, 1) },
  { kernel: "prodDim", label: "cols int32", run: (k, rt) => k.prodDim(view(rt, [5, 3], "int32"), view(rt, [3], "int64"), 1, 5, 3) },
  { kernel: "maxDim", label: "rows float32", run: (k, rt) => k.maxDim(view(rt, [6, 33], "float32"), view(rt, [6], "float32"), view(rt, [6], "int64"), 6, 33, 1, false) },
  { kernel: "maxDim", label: "cols uint8 min", run: (k, rt) => k.maxDim(view(rt, [2, 4, 70], "uint8"), view(rt, [2, 70], "uint8"), view(rt, [2, 70], "int64"), 2, 4, 70, true) },
  // matmul family
  { kernel: "bmm", label: "float32", run: (k, rt) => k.bmm(view(rt, [2, 3, 4], "float32"), view(rt, [2, 4, 5], "float32"), view(rt, [2, 3, 5], "float32"), 2, 3, 5, 4, false, false) },
  { kernel: "bmm", label: "float64 transA transB", run: (k, rt) => k.bmm(view(rt, [3, 4, 2], "float64"), view(rt, [3, 6, 4], "float64"), view(rt, [3, 2, 6], "float64"), 3, 2, 6, 4, true, true) },
  { kernel: "bmm", label: "K = 0", run: (k, rt) => k.bmm(view(rt, [1, 2, 0], "float32"), view(rt, [1, 0, 3], "float32"), view(rt, [1, 2, 3], "float32"), 1, 2, 3, 0, false, false) },
  { kernel: "linear", label: "with bias", run: (k, rt) => k.linear(view(rt, [4, 7], "float32"), view(rt, [3, 7], "float32"), view(rt, [3], "float32"), view(rt, [4, 3], "float32")) },
  { kernel: "linear", label: "no bias float64", run: (k, rt) => k.linear(view(rt, [70, 65], "float64"), view(rt, [66, 65], "float64"), null, view(rt, [70, 66], "float64")) },
  { kernel: "linear", label: "K = 0", run: (k, rt) => k.linear(view(rt, [2, 0], "float32"), view(rt, [3, 0], "float32"), view(rt, [3], "float32"), view(rt, [2, 3], "float32")) },
  {
    kernel: "linearBackward", label: "every gradient",
    run: (k, rt) => k.linearBackward(view(rt, [4, 3], "float32"), view(rt, [4, 7], "float32"), view(rt, [3, 7], "float32"), view(rt, [4, 7], "float32"), view(rt, [3, 7], "float32"), view(rt, [3], "float32")),
  },
  {
    kernel: "linearBackward", label: "weight only, float64",
    run: (k, rt) => k.linearBackward(view(rt, [5, 2], "float64"), view(rt, [5, 9], "float64"), view(rt, [2, 9], "float64"), null, view(rt, [2, 9], "float64"), null),
  },
  // conv
  {
    kernel: "conv2d", label: "3x3 pad 1 with bias",
    run: (k, rt) => {
      const p = conv(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1);
      k.conv2d(view(rt, [2, 3, 8, 8], "float32"), view(rt, [4, 3, 3, 3], "float32"), view(rt, [4], "float32"), view(rt, [2, 4, p.OH, p.OW], "float32"), p);
    },
  },
  {
    kernel: "conv2d", label: "groups 2, stride 2, dilation 2, float64, no bias",
    run: (k, rt) => {
      const p = conv(3, 4, 9, 9, 6, 3, 3, 2, 1, 2, 2);
      k.conv2d(view(rt, [3, 4, 9, 9], "float64"), view(rt, [6, 2, 3, 3], "float64"), null, view(rt, [3, 6, p.OH, p.OW], "float64"), p);
    },
  },
  {
    kernel: "conv2dBackward", label: "every gradient, groups 2",
    run: (k, rt) => {
      const p = conv(2, 4, 7, 7, 6, 3, 3, 1, 1, 1, 2);
      k.conv2dBackward(view(rt, [2, 6, p.OH, p.OW], "float32"), view(rt, [2, 4, 7, 7], "float32"), view(rt, [6, 2, 3, 3], "float32"),
        view(rt, [2, 4, 7, 7], "float32"), view(rt, [6, 2, 3, 3], "float32"), view(rt, [6], "float32"), p);
    },
  },
  {
    kernel: "conv2dBackward", label: "input gradient only, stride 2, float64",
    run: (k, rt) => {
      const p = conv(1, 3, 10, 10, 5, 5, 5, 2, 2, 1, 1);
      k.conv2dBackward(view(rt, [1, 5, p.OH, p.OW], "float64"), view(rt, [1, 3, 10, 10], "float64"), view(rt, [5, 3, 5, 5], "float64"),
        view(rt, [1, 3, 10, 10], "float64"), null, null, p);
    },
  },
  // pooling
  {
    kernel: "maxPool2d", label: "2x2 stride 2",
    run: (k, rt) => {
      const p = pool(2, 3, 8, 8, 2, 2, 0);
      k.maxPool2d(view(rt, [2, 3, 8, 8], "float32"), view(rt, [2, 3, 4, 4], "float32"), view(rt, [2, 3, 4, 4], "int32"), p);
    },
  },
  {
    kernel: "maxPool2dBackward", label: "3x3 stride 2 pad 1, float64",
    run: (k, rt) => {
      const p = pool(1, 2, 9, 9, 3, 2, 1);
      k.maxPool2dBackward(view(rt, [1, 2, p.OH, p.OW], "float64"), view(rt, [1, 2, p.OH, p.OW], "int32"), view(rt, [1, 2, 9, 9], "float64"), p);
    },
  },
  {
    kernel: "avgPool2d", label: "3x3 pad 1, excluding padding",
    run: (k, rt) => {
      const p = pool(2, 2, 6, 6, 3, 1, 1, false);
      k.avgPool2d(view(rt, [2, 2, 6, 6], "float32"), view(rt, [2, 2, p.OH, p.OW], "float32"), p);
    },
  },
  {
    kernel: "avgPool2dBackward", label: "divisor override, float64",
    run: (k, rt) => {
      const p = pool(1, 3, 7, 7, 2, 2, 1, true, 3);
      k.avgPool2dBackward(view(rt, [1, 3, p.OH, p.OW], "float64"), view(rt, [1, 3, 7, 7], "float64"), p);
    },
  },
  // softmax and losses
  { kernel: "softmax", label: "rows", run: (k, rt) => k.softmax(view(rt, [4, 10], "float32"), view(rt, [4, 10], "float32"), 4, 10, 1, false) },
  { kernel: "softmax", label: "cols log float64", run: (k, rt) => k.softmax(view(rt, [2, 5, 3], "float64"), view(rt, [2, 5, 3], "float64"), 2, 5, 3, true) },
  { kernel: "softmaxBackward", label: "rows log", run: (k, rt) => k.softmaxBackward(view(rt, [3, 8], "float32"), view(rt, [3, 8], "float32"), view(rt, [3, 8], "float32"), 3, 8, 1, true) },
  { kernel: "softmaxBackward", label: "cols float64", run: (k, rt) => k.softmaxBackward(view(rt, [2, 4, 6], "float64"), view(rt, [2, 4, 6], "float64"), view(rt, [2, 4, 6], "float64"), 2, 4, 6, false) },
  {
    kernel: "crossEntropy", label: "mean with gradient and label smoothing",
    run: (k, rt) => k.crossEntropy(view(rt, [4, 10], "float32"), view(rt, [4], "int64"), view(rt, [], "float32"), view(rt, [4, 10], "float32"), ce),
  },
  {
    kernel: "crossEntropy", label: "none, float64, no gradient",
    run: (k, rt) => k.crossEntropy(view(rt, [3, 5], "float64"), view(rt, [3], "int64"), view(rt, [3], "float64"), null, { ...ce, reduction: "none" }),
  },
  { kernel: "nllLoss", label: "sum", run: (k, rt) => k.nllLoss(view(rt, [6, 3], "float32"), view(rt, [6], "int64"), view(rt, [], "float32"), { ...ce, reduction: "sum" }) },
  { kernel: "nllLoss", label: "none float64", run: (k, rt) => k.nllLoss(view(rt, [2, 3], "float64"), view(rt, [2], "int64"), view(rt, [2], "float64"), { ...ce, reduction: "none" }) },
  { kernel: "nllLossBackward", label: "mean", run: (k, rt) => k.nllLossBackward(view(rt, [5], "int64"), view(rt, [5, 4], "float32"), view(rt, [], "float32"), ce) },
  { kernel: "nllLossBackward", label: "none float64", run: (k, rt) => k.nllLossBackward(view(rt, [3], "int64"), view(rt, [3, 7], "float64"), view(rt, [3], "float64"), { ...ce, reduction: "none" }) },
  // batch norm
  {
    kernel: "batchNorm", label: "training with running stats",
    run: (k, rt) => k.batchNorm(view(rt, [4, 3, 5, 5], "float32"), view(rt, [3], "float32"), view(rt, [3], "float32"), view(rt, [3], "float32"), view(rt, [3], "float32"),
      view(rt, [4, 3, 5, 5], "float32"), view(rt, [3], "float32"), view(rt, [3], "float32"), { N: 4, C: 3, HW: 25, training: true, momentum: 0.1, eps: 1e-5 }),
  },
  {
    kernel: "batchNorm", label: "eval without affine, float64",
    run: (k, rt) => k.batchNorm(view(rt, [2, 4, 3], "float64"), null, null, view(rt, [4], "float64"), view(rt, [4], "float64"),
      view(rt, [2, 4, 3], "float64"), view(rt, [4], "float64"), view(rt, [4], "float64"), { N: 2, C: 4, HW: 3, training: false, momentum: 0.1, eps: 1e-5 }),
  },
  {
    kernel: "batchNormBackward", label: "training, every gradient",
    run: (k, rt) => k.batchNormBackward(view(rt, [4, 3, 5, 5], "float32"), view(rt, [4, 3, 5, 5], "float32"), view(rt, [3], "float32"), view(rt, [3], "float32"), view(rt, [3], "float32"),
      view(rt, [4, 3, 5, 5], "float32"), view(rt, [3], "float32"), view(rt, [3], "float32"), { N: 4, C: 3, HW: 25, training: true, momentum: 0.1, eps: 1e-5 }),
  },
  {
    kernel: "batchNormBackward", label: "eval, input gradient only, float64",
    run: (k, rt) => k.batchNormBackward(view(rt, [2, 2, 4], "float64"), view(rt, [2, 2, 4], "float64"), null, view(rt, [2], "float64"), view(rt, [2], "float64"),
      view(rt, [2, 2, 4], "float64"), null, null, { N: 2, C: 2, HW: 4, training: false, momentum: 0.1, eps: 1e-5 }),
  },
  // index
  { kernel: "indexSelect", label: "float32 rows by int64", run: (k, rt) => k.indexSelect(view(rt, [2, 5, 3], "float32"), view(rt, [4], "int64"), view(rt, [2, 4, 3], "float32"), 2, 5, 3) },
  { kernel: "indexSelect", label: "uint8 by int32", run: (k, rt) => k.indexSelect(view(rt, [6], "uint8"), view(rt, [2], "int32"), view(rt, [2], "uint8"), 1, 6, 1) },
  { kernel: "indexSelect", label: "int64 by a 0-d index", run: (k, rt) => k.indexSelect(view(rt, [3, 4], "int64"), view(rt, [], "int64"), view(rt, [1, 4], "int64"), 1, 3, 4) },
  { kernel: "indexAdd", label: "float32", run: (k, rt) => k.indexAdd(view(rt, [3, 2], "float32"), view(rt, [3], "int64"), view(rt, [5, 2], "float32"), 1, 5, 2) },
  { kernel: "indexAdd", label: "bool", run: (k, rt) => k.indexAdd(view(rt, [2], "bool"), view(rt, [2], "int64"), view(rt, [4], "bool"), 1, 4, 1) },
  // optimizers
  {
    kernel: "sgdStep", label: "float32 and float64 parameters, momentum buffers",
    run: (k, rt) => {
      const shapes: [number[], DType][] = [[[3, 4], "float32"], [[300], "float32"], [[2], "float64"]];
      const params = shapes.map(([s, t]) => view(rt, s, t, { offset: 1 }));
      k.sgdStep(params, shapes.map(([s, t]) => view(rt, s, t)), shapes.map(([s, t], i) => (i === 1 ? null : view(rt, s, t))),
        { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: true, maximize: false }, [true, false, false]);
    },
  },
  {
    kernel: "adamStep", label: "AdamW with amsgrad",
    run: (k, rt) => {
      const shapes = [[4], [2, 3]];
      const mk = () => shapes.map((s) => view(rt, s, "float32"));
      k.adamStep(mk(), mk(), mk(), mk(), [view(rt, [4], "float32"), null], [1, 3],
        { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, amsgrad: true, maximize: false });
    },
  },
  // random (drawn on the host, uploaded)
  { kernel: "randUniform", label: "float32", run: (k, rt) => k.randUniform(Uint32Array.of(1, 2, 3, 4), view(rt, [10], "float32"), 0, 1) },
  { kernel: "randNormal", label: "float64", run: (k, rt) => void k.randNormal(Uint32Array.of(1, 2, 3, 4), view(rt, [7], "float64"), 0, 1) },
  { kernel: "randPerm", label: "into int64", run: (k, rt) => k.randPerm(Uint32Array.of(1, 2, 3, 4), view(rt, [9], "int64")) },
  // scan / sort / gather / scatter / searchsorted / bitwise
  { kernel: "scan", label: "sum along the last dim, float32 (block per row)", run: (k, rt) => k.scan("sum", view(rt, [3, 300], "float32"), view(rt, [3, 300], "float32"), 3, 300, 1) },
  { kernel: "scan", label: "prod along a middle dim, int64 (thread per column)", run: (k, rt) => k.scan("prod", view(rt, [2, 5, 3], "int64"), view(rt, [2, 5, 3], "int64"), 2, 5, 3) },
  { kernel: "sort", label: "rows in shared memory, float32, descending", run: (k, rt) => k.sort(view(rt, [4, 37, 2], "float32"), view(rt, [4, 37, 2], "float32"), view(rt, [4, 37, 2], "int64"), 4, 37, 2, true) },
  { kernel: "sort", label: "long rows: tiles then merge passes, float64", run: (k, rt) => k.sort(view(rt, [2, 5000], "float64"), view(rt, [2, 5000], "float64"), view(rt, [2, 5000], "int64"), 2, 5000, 1, false) },
  { kernel: "gather", label: "float32 transposed x, int64 index", run: (k, rt) => k.gather(view(rt, [4, 3], "float32", { transposed: true }), view(rt, [2, 3], "int64"), view(rt, [2, 3], "float32"), 0) },
  { kernel: "gather", label: "int32 by a strided int32 index along dim 1", run: (k, rt) => k.gather(view(rt, [2, 5], "int32"), view(rt, [2, 2], "int32", { strides: [4, 2] }), view(rt, [2, 2], "int32"), 1) },
  { kernel: "scatter", label: "float64 accumulate", run: (k, rt) => k.scatter(view(rt, [2, 3], "float64"), view(rt, [2, 3], "int64"), view(rt, [4, 3], "float64"), 0, true) },
  { kernel: "scatter", label: "uint8 overwrite from a larger strided source", run: (k, rt) => k.scatter(view(rt, [3, 4], "uint8", { transposed: true }), view(rt, [2, 2], "int64"), view(rt, [2, 6], "uint8"), 1, false) },
  { kernel: "searchsorted", label: "float32 right", run: (k, rt) => k.searchsorted(view(rt, [2, 8], "float32"), view(rt, [2, 5], "float32"), view(rt, [2, 5], "int64"), 2, 8, 5, true) },
  { kernel: "bitwise", label: "int64 xor with a broadcast operand", run: (k, rt) => k.bitwise("xor", view(rt, [3, 4], "int64"), view(rt, [3, 4], "int64", { strides: [0, 1] }), view(rt, [3, 4], "int64")) },
  { kernel: "bitwise", label: "bool and", run: (k, rt) => k.bitwise("and", view(rt, [5], "bool"), view(rt, [5], "bool"), view(rt, [5], "bool")) },
];
