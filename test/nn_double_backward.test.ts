// Second derivatives of the nn composites: gradcheck (float64 finite differences) of the function
// x -> autograd.grad(sum(f(x) * v), x, { createGraph: true }), so the gradient's own backward is checked. The
// kernel-backed ops (conv2d and what is built on it, pools, batchNorm, the fused losses) are first-order only.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";

const F = torch.nn.functional;
type Tensor = torch.Tensor;
const f64 = torch.float64;

function rand(shape: number[], lo = -2, hi = 2, seed = 1): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
  return torch.tensor(data, { dtype: f64 }).reshape(shape);
}

function gradgradcheck(name: string, f: (x: Tensor) => Tensor, shape: number[], range: [number, number] = [-2, 2]): void {
  test(`double backward: ${name}`, () => {
    const x = rand(shape, range[0], range[1], 7).requiresGrad_(true);
    const v = rand(f(x.detach()).shape, -1, 1, 11);
    // gradcheck probes under noGrad; the gradient being checked needs its graph, hence enableGrad.
    const df = (t: Tensor) => torch.enableGrad(() => torch.autograd.grad(f(t).mul(v).sum(), t, { createGraph: true })[0]!);
    const r = torch.autograd.gradcheck(df, [x], { atol: 1e-5, rtol: 1e-3 });
    assert.ok(r.ok, `${name}: ${r.message}`);
  });
}

const w = rand([4], 0.5, 1.5, 3);
const b = rand([4], -0.5, 0.5, 5);
gradgradcheck("silu", (x) => F.silu(x), [3, 4]);
gradgradcheck("softplus(beta 2)", (x) => F.softplus(x, { beta: 2 }), [3, 4]);
gradgradcheck("leakyRelu (second derivative 0 off the kink)", (x) => F.leakyRelu(x, 0.1).mul(x), [3, 4], [0.1, 2]);
gradgradcheck("layerNorm", (x) => F.layerNorm(x, [4], { weight: w, bias: b }), [3, 4]);
gradgradcheck("groupNorm", (x) => F.groupNorm(x, 2, { weight: w, bias: b }), [2, 4, 3]);
gradgradcheck("normalize", (x) => F.normalize(x), [3, 4], [0.3, 2]);
gradgradcheck("binaryCrossEntropyWithLogits", (x) => F.binaryCrossEntropyWithLogits(x, rand([3, 4], 0, 1, 9)), [3, 4]);
gradgradcheck("crossEntropy with class probabilities", (x) => F.crossEntropy(x, rand([3, 4], 0, 1, 9)), [3, 4]);
gradgradcheck("crossEntropy with weights", (x) => F.crossEntropy(x, torch.tensor([0, 3, 1], { dtype: torch.int64 }), { weight: w }), [3, 4]);
gradgradcheck("klDiv of logSoftmax", (x) => F.klDiv(x.logSoftmax(1), rand([3, 4], 0.1, 1, 9), { reduction: "batchmean" }), [3, 4]);
gradgradcheck("huberLoss (squared region)", (x) => F.huberLoss(x, rand([3, 4], -0.2, 0.2, 9), { delta: 5 }), [3, 4], [-1, 1]);
gradgradcheck("scaledDotProductAttention", (x) => F.scaledDotProductAttention(x, x.mul(0.5), x, { isCausal: true }), [2, 3, 4]);
gradgradcheck("interpolate bilinear", (x) => F.interpolate(x, { size: [3, 5], mode: "bilinear" }).pow(2), [1, 1, 2, 3]);
gradgradcheck("adaptiveAvgPool2d uneven", (x) => F.adaptiveAvgPool2d(x, [2, 2]).pow(2), [1, 1, 3, 5]);
gradgradcheck("embedding weights (indexSelect's backward is differentiable)", (x) => F.embedding(torch.tensor([2, 0, 2], { dtype: torch.int64 }), x).pow(3), [3, 2]);

test("MultiheadAttention double backward (gradient penalty on its input)", () => {
  torch.manualSeed(4);
  const mha = new torch.nn.MultiheadAttention(4, 2, { batchFirst: true }).double();
  const x = rand([1, 3, 4], -1, 1, 13).requiresGrad_(true);
  const df = (t: Tensor) => torch.enableGrad(() => torch.autograd.grad(mha.forward(t, t, t)[0].pow(2).sum(), t, { createGraph: true })[0]!);
  const r = torch.autograd.gradcheck(df, [x]);
  assert.ok(r.ok, r.message);
});
