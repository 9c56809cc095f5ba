// Op-table rows for the nn composites of issue 14 (activations, norms, conv1d/convTranspose2d, adaptive pooling,
// interpolate, embedding, losses, attention). op_cases.ts appends them to THE table, so each runs forward on every
// CPU backend, against its non-contiguous twin, and through gradcheck in float64. PyTorch's values for the same
// ops are checked by golden_nn.test.ts; small float64 oracles are given where they are short to write.
import * as torch from "kindling";
import type { Arr } from "./compare.js";
import type { InputSpec, OpCase } from "./op_cases.js";

type Tensor = torch.Tensor;
const F = torch.nn.functional;
const i64 = "int64" as torch.DType;

const x = (shape: number[], range: readonly [number, number] = [-2, 2], extra: Partial<InputSpec> = {}): InputSpec => ({ shape, range, ...extra });
const ints = (values: number[], shape = [values.length]): InputSpec => ({ shape, values, dtype: i64, grad: false });
const map = (f: (v: number) => number) => (a: Arr): Arr => ({ shape: a.shape, data: a.data.map(f) });

export function nnCases(): OpCase[] {
  const out: OpCase[] = [];
  const row = (name: string, inputs: InputSpec[], fn: (...xs: Tensor[]) => Tensor, extra: Partial<OpCase> = {}) =>
    out.push({ name, family: "nn", inputs, fn, differentiable: true, rtol: 1e-4, atol: 1e-5, ...extra });

  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  row("leakyRelu(0.2)", [x([3, 4], [-3, 3])], (a) => F.leakyRelu(a, 0.2), { oracle: map((v) => (v > 0 ? v : 0.2 * v)) });
  row("silu", [x([3, 4], [-4, 4])], (a) => F.silu(a), { oracle: map((v) => v * sig(v)) });
  row("softplus(beta 2, threshold 3)", [x([3, 4], [-4, 4])], (a) => F.softplus(a, { beta: 2, threshold: 3 }), {
    oracle: map((v) => (2 * v > 3 ? v : Math.log1p(Math.exp(2 * v)) / 2)),
  });
  row("softplus large inputs", [x([8], [-60, 60])], (a) => F.softplus(a), { oracle: map((v) => (v > 20 ? v : Math.log1p(Math.exp(v)))) });
  row("hardswish", [x([4, 5], [-5, 5])], (a) => F.hardswish(a), { oracle: map((v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6) });
  row("layerNorm([4]) affine", [x([2, 3, 4]), x([4]), x([4])], (a, w, b) => F.layerNorm(a, [4], { weight: w, bias: b }));
  row("layerNorm([3, 4])", [x([2, 3, 4])], (a) => F.layerNorm(a, [3, 4], { eps: 1e-3 }));
  row("groupNorm(2) affine", [x([2, 4, 3]), x([4]), x([4])], (a, w, b) => F.groupNorm(a, 2, { weight: w, bias: b }));
  row("normalize(p=2, dim=1)", [x([3, 4], [0.2, 2])], (a) => F.normalize(a));
  row("normalize(p=3, dim=0)", [x([3, 4], [0.2, 2])], (a) => F.normalize(a, { p: 3, dim: 0 }));
  row("conv1d(stride 2, pad 1, groups 2)", [x([2, 4, 7]), x([6, 2, 3]), x([6])], (a, w, b) => F.conv1d(a, w, b, { stride: 2, padding: 1, groups: 2 }));
  row("convTranspose2d(stride 2, pad 1, outPad 1, groups 2, dil 2)", [x([1, 2, 3, 3]), x([2, 2, 3, 3]), x([4])], (a, w, b) =>
    F.convTranspose2d(a, w, b, { stride: 2, padding: 1, outputPadding: 1, groups: 2, dilation: 2 }));
  row("convTranspose2d outputPadding >= stride (spread path)", [x([1, 2, 3, 3]), x([2, 1, 3, 3]), x([1])], (a, w, b) =>
    F.convTranspose2d(a, w, b, { dilation: 2, outputPadding: 1 }));
  row("convTranspose2d rect kernel", [x([2, 3, 2, 3]), x([3, 2, 2, 3])], (a, w) => F.convTranspose2d(a, w, null, { stride: [2, 1], padding: [0, 1] }));
  row("adaptiveAvgPool2d([2, 3]) uneven bins", [x([2, 2, 5, 7])], (a) => F.adaptiveAvgPool2d(a, [2, 3]));
  row("adaptiveAvgPool2d(1)", [x([2, 3, 4, 5])], (a) => F.adaptiveAvgPool2d(a, 1));
  row("interpolate nearest size", [x([1, 2, 3, 4])], (a) => F.interpolate(a, { size: [5, 7] }));
  row("interpolate bilinear", [x([1, 2, 3, 4])], (a) => F.interpolate(a, { scaleFactor: 1.5, mode: "bilinear" }));
  row("interpolate bilinear alignCorners", [x([1, 1, 3, 4])], (a) => F.interpolate(a, { size: [4, 6], mode: "bilinear", alignCorners: true }));
  // (paddingIdx zeroes a gradient on purpose, which finite differences cannot see: golden_nn and nn_modules test it.)
  row("embedding", [ints([0, 2, 1, 2], [2, 2]), x([3, 4])], (i, w) => F.embedding(i, w));
  row("oneHot", [ints([0, 2, 1])], (i) => F.oneHot(i, 4), { differentiable: false, oracle: (a) => ({ shape: [3, 4], data: [1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0] }) });
  const bceO = (a: Arr, t: Arr): Arr => ({ shape: [], data: [a.data.reduce((s, p, i) => s - (t.data[i] * Math.log(p) + (1 - t.data[i]) * Math.log(1 - p)), 0) / a.data.length] });
  row("binaryCrossEntropy", [x([3, 4], [0.05, 0.95]), x([3, 4], [0, 1])], (p, t) => F.binaryCrossEntropy(p, t), { oracle: bceO });
  row("binaryCrossEntropyWithLogits posWeight", [x([3, 4], [-4, 4]), x([3, 4], [0, 1]), x([4], [0.5, 2])], (a, t, pw) =>
    F.binaryCrossEntropyWithLogits(a, t, { posWeight: pw, reduction: "sum" }));
  row("smoothL1Loss(beta 0.5)", [x([3, 4], [-2, 2]), x([3, 4], [-2, 2])], (a, b) => F.smoothL1Loss(a, b, { beta: 0.5 }));
  row("huberLoss(delta 1.5, none)", [x([3, 4], [-3, 3]), x([3, 4], [-3, 3])], (a, b) => F.huberLoss(a, b, { delta: 1.5, reduction: "none" }));
  row("klDiv batchmean", [x([3, 4], [-3, -0.5]), x([3, 4], [0.05, 1])], (a, t) => F.klDiv(a, t, { reduction: "batchmean" }));
  row("klDiv logTarget", [x([3, 4], [-3, -0.5]), x([3, 4], [-3, -0.5])], (a, t) => F.klDiv(a, t, { reduction: "sum", logTarget: true }));
  row("crossEntropy weight ignoreIndex", [x([5, 4]), ints([0, 3, 1, -100, 2]), x([4], [0.5, 2], { grad: false })], (a, t, w) =>
    F.crossEntropy(a, t, { weight: w }));
  row("crossEntropy weight labelSmoothing", [x([5, 4]), ints([0, 3, 1, 1, 2]), x([4], [0.5, 2], { grad: false })], (a, t, w) =>
    F.crossEntropy(a, t, { weight: w, labelSmoothing: 0.2 }));
  row("crossEntropy class probabilities", [x([5, 4]), x([5, 4], [0, 1])], (a, p) => F.crossEntropy(a, p));
  row("nllLoss weight none", [x([5, 4]), ints([0, 3, 1, 0, 2]), x([4], [0.5, 2])], (a, t, w) => F.nllLoss(a, t, { weight: w, reduction: "none" }));
  row("scaledDotProductAttention causal", [x([2, 3, 4]), x([2, 3, 4]), x([2, 3, 5])], (q, k, v) => F.scaledDotProductAttention(q, k, v, { isCausal: true }));
  row("scaledDotProductAttention float mask", [x([2, 3, 4]), x([2, 5, 4]), x([2, 5, 4]), x([3, 5])], (q, k, v, m) =>
    F.scaledDotProductAttention(q, k, v, { attnMask: m }));
  return out;
}
