// Behaviour of issue 14's nn additions beyond the PyTorch fixtures (golden_nn.test.ts): autograd.grad's options and
// errors, nn.utils, embedding padding, channel dropout, containers, attention masks and weights, transformer
// copies and dropout, the meta device, and the messages for bad input.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assertClose, values } from "./helpers/compare.js";
import { forEachDevice } from "./helpers/devices.js";

const nn = torch.nn;
const F = torch.nn.functional;
type Tensor = torch.Tensor;

// ---- autograd.grad

test("autograd.grad returns gradients without touching .grad, for leaves and intermediates", () => {
  const x = torch.tensor([1, 2, 3], { requiresGrad: true });
  const h = x.mul(x);
  const y = h.sum().mul(2);
  const [gx, gh] = torch.autograd.grad(y, [x, h]);
  assert.deepEqual(values(gx!), [4, 8, 12]);
  assert.deepEqual(values(gh!), [2, 2, 2]);
  assert.equal(x.grad, null);
  assert.equal(gx!.requiresGrad, false);
});

test("autograd.grad: gradOutputs for non-scalar outputs, several outputs summed", () => {
  const x = torch.tensor([1, 2], { requiresGrad: true });
  const a = x.mul(3);
  const b = x.pow(2);
  const [g] = torch.autograd.grad([a, b], x, { gradOutputs: [torch.tensor([1, 10]), torch.tensor([1, 1])] });
  assert.deepEqual(values(g!), [3 + 2, 30 + 4]);
  assert.throws(() => torch.autograd.grad(a, x), /grad can be implicitly created only for scalar outputs/);
  assert.throws(() => torch.autograd.grad(a, x, { gradOutputs: torch.ones(3) }), /Mismatch in shape/);
});

test("autograd.grad: allowUnused, retainGraph and inputs that don't require grad", () => {
  const x = torch.tensor([1, 2], { requiresGrad: true });
  const z = torch.tensor([5], { requiresGrad: true });
  const y = x.exp().sum();
  assert.throws(() => torch.autograd.grad(y, [x, z], { retainGraph: true }), /appears to not have been used in the graph.*allowUnused/);
  const [gx, gz] = torch.autograd.grad(y, [x, z], { allowUnused: true, retainGraph: true });
  assertClose(gx!, [Math.E, Math.exp(2)], { rtol: 1e-6 });
  assert.equal(gz, null);
  torch.autograd.grad(y, x); // the graph was retained for this one, which frees it
  assert.throws(() => torch.autograd.grad(y, x), /backward through the graph a second time/);
  assert.throws(() => torch.autograd.grad(y, torch.ones(2)), /does not require grad/);
  assert.throws(() => torch.autograd.grad(torch.ones(1), x), /does not require grad and does not have a grad_fn/);
});

test("autograd.grad with createGraph gives second and third derivatives", () => {
  const x = torch.tensor([0.5, -1.5, 2], { dtype: torch.float64, requiresGrad: true });
  const y = x.pow(3).sum();
  const [g1] = torch.autograd.grad(y, x, { createGraph: true });
  assert.ok(g1!.requiresGrad);
  const [g2] = torch.autograd.grad(g1!.sum(), x, { createGraph: true });
  const [g3] = torch.autograd.grad(g2!.sum(), x);
  assertClose(g1!, [0.75, 6.75, 12]);
  assertClose(g2!, [3, -9, 12]);
  assertClose(g3!, [6, 6, 6]);
  // Through a graph that also holds a kernel-backward op (crossEntropy) off the path to x: only needed nodes run.
  const w = torch.tensor([[0.2, -0.1], [0.4, 0.3]], { dtype: torch.float64, requiresGrad: true });
  const loss = F.crossEntropy(w, torch.tensor([0, 1], { dtype: torch.int64 })).add(x.pow(2).sum());
  const [gx] = torch.autograd.grad(loss, x, { createGraph: true });
  const [gxx] = torch.autograd.grad(gx!.sum(), x);
  assertClose(gxx!, [2, 2, 2]);
});

// ---- nn.utils

test("clipGradNorm_: errorIfNonfinite, options form, no gradients; clipGradValue_", () => {
  const p = torch.zeros(3).requiresGrad_(true);
  p.grad = torch.tensor([3, 4, 0]);
  const total = nn.utils.clipGradNorm_([p], 1, { normType: 2 });
  assertClose(total, [5]);
  assertClose(p.grad!, [3 / 5.000001, 4 / 5.000001, 0], { rtol: 1e-6 });
  p.grad = torch.tensor([NaN, 1, 0]);
  assert.throws(() => nn.utils.clipGradNorm_(p, 1, 2, { errorIfNonfinite: true }), /non-finite.*errorIfNonfinite: false/);
  const q = torch.zeros(2).requiresGrad_(true);
  assert.equal(nn.utils.clipGradNorm_([q], 1).item(), 0);
  assert.throws(() => nn.utils.clipGradNorm_([p], 1, 0), /normType must be positive/);
  q.grad = torch.tensor([-3, 0.5]);
  nn.utils.clipGradValue_([q], 1);
  assert.deepEqual(values(q.grad), [-1, 0.5]);
});

test("parametersToVector / vectorToParameters round-trip in order, and refuse a wrong size", () => {
  const net = new nn.Sequential(new nn.Linear(2, 3), new nn.Linear(3, 1));
  const v = nn.utils.parametersToVector(net.parameters());
  assert.deepEqual(v.shape, [2 * 3 + 3 + 3 + 1]);
  assert.deepEqual(values(v.narrow(0, 0, 6)), values(net.parameters()[0].reshape(-1)));
  nn.utils.vectorToParameters(torch.arange(13).float(), net.parameters());
  assert.deepEqual(values(net.parameters()[1]), [6, 7, 8]);
  assert.deepEqual(values(net.parameters()[3]), [12]);
  assert.throws(() => nn.utils.vectorToParameters(torch.zeros(12), net.parameters()), /12 elements but the parameters hold 13/);
});

// ---- embedding, dropout2d

test("Embedding: paddingIdx row starts at zero and gets no gradient; fromPretrained freezes by default", () => {
  const e = new nn.Embedding(5, 3, { paddingIdx: -2 });
  assert.equal(e.paddingIdx, 3);
  assert.deepEqual(values(e.weight.at(3)), [0, 0, 0]);
  e.forward(torch.tensor([[3, 1], [3, 3]], { dtype: torch.int64 })).sum().backward();
  assert.deepEqual(values(e.weight.grad!.at(3)), [0, 0, 0]);
  assert.deepEqual(values(e.weight.grad!.at(1)), [1, 1, 1]);
  const w = torch.tensor([[1, 2], [3, 4]]);
  assert.equal(nn.Embedding.fromPretrained(w).weight.requiresGrad, false);
  assert.equal(nn.Embedding.fromPretrained(w, { freeze: false }).weight.requiresGrad, true);
  assert.throws(() => e.forward(torch.tensor([5], { dtype: torch.int64 })), /index out of range.*\[0, 5\)/);
  assert.throws(() => e.forward(torch.tensor([1.0])), /indices.*Long, Int/);
});

test("Dropout2d zeroes whole channels and scales the rest; identity in eval", () => {
  torch.manualSeed(3);
  const d = new nn.Dropout2d(0.5);
  const y = d.forward(torch.ones(4, 8, 3, 3));
  const perChannel = y.reshape([32, 9]);
  let zeroed = 0;
  for (let c = 0; c < 32; c++) {
    const v = values(perChannel.at(c));
    assert.ok(v.every((a) => a === v[0]) && (v[0] === 0 || v[0] === 2), `channel ${c} is all 0 or all 2: ${v}`);
    if (v[0] === 0) zeroed++;
  }
  assert.ok(zeroed > 4 && zeroed < 28, `about half the channels dropped, got ${zeroed}`);
  // 3-D input is (N, C, L) in PyTorch 1.13: one draw per (n, c) row.
  const rows = d.forward(torch.ones(6, 5, 4)).reshape([30, 4]);
  for (let r = 0; r < 30; r++) assert.equal(new Set(values(rows.at(r))).size, 1, `row ${r} shares one mask value`);
  const firstOfRow = values(rows.index(null, 0)).map((v, r) => [Math.floor(r / 5), v]);
  const mixed = [0, 1, 2, 3, 4, 5].filter((n) => new Set(firstOfRow.filter(([m]) => m === n).map(([, v]) => v)).size > 1);
  assert.ok(mixed.length > 0, "channels of one sample are dropped independently");
  d.eval();
  assert.deepEqual(values(d.forward(torch.ones(1, 2, 2, 2))), Array(8).fill(1));
});

// ---- containers

test("ModuleDict registers by key in insertion order and refuses keys that shadow its members", () => {
  const md = new nn.ModuleDict({ enc: new nn.Linear(2, 2), act: new nn.ReLU() });
  md.set("dec", new nn.Linear(2, 1));
  assert.deepEqual(md.keys(), ["enc", "act", "dec"]);
  assert.deepEqual(Object.keys(md.stateDict()), ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]);
  assert.ok(md.get("act") instanceof nn.ReLU);
  assert.equal(md.parameters().length, 4);
  assert.ok(md.delete("enc"));
  assert.deepEqual(md.keys(), ["act", "dec"]);
  assert.throws(() => md.set("training", new nn.ReLU()), /attribute 'training' already exists/);
  assert.throws(() => md.set("forward", new nn.ReLU()), /attribute 'forward' already exists/);
  assert.throws(() => md.set("a.b", new nn.ReLU()), /contain "."/);
});

test("ParameterList wraps tensors as Parameters that the owning module trains", () => {
  class M extends nn.Module {
    ps = new nn.ParameterList([torch.zeros(2), torch.ones(3)]);
    override forward(): Tensor {
      return this.ps.at(0).sum().add(this.ps.at(1).sum());
    }
  }
  const m = new M();
  assert.deepEqual(Object.keys(m.stateDict()), ["ps.0", "ps.1"]);
  assert.ok(m.ps.at(-1) instanceof nn.Parameter);
  m.forward().backward();
  assert.deepEqual(values(m.ps.at(1).grad!), [1, 1, 1]);
  assert.equal([...m.ps].length, 2);
});

// ---- attention

test("MultiheadAttention: weights are a distribution that ignores padded keys; needWeights false returns null", () => {
  torch.manualSeed(1);
  const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
  const x = torch.randn(2, 4, 8);
  const kpm = torch.tensor([[false, false, true, true], [false, false, false, false]]);
  const [out, w] = mha.forward(x, x, x, { keyPaddingMask: kpm });
  assert.deepEqual(out.shape, [2, 4, 8]);
  assert.deepEqual(w!.shape, [2, 4, 4]);
  assertClose(w!.sum(-1), Array(8).fill(1), { rtol: 1e-5 });
  assert.deepEqual(values(w!.at(0).index(null, [2, 4])), Array(8).fill(0));
  const [out2, none] = mha.forward(x, x, x, { keyPaddingMask: kpm, needWeights: false });
  assert.equal(none, null);
  assertClose(out2, out);
  const [, perHead] = mha.forward(x, x, x, { averageAttnWeights: false });
  assert.deepEqual(perHead!.shape, [2, 2, 4, 4]);
  assert.throws(() => mha.forward(x, x, x, { attnMask: torch.zeros(3, 4) }), /2D attn_mask is \[3, 4\], but should be \[4, 4\]/);
  assert.throws(() => new nn.MultiheadAttention(8, 3), /divisible by numHeads/);
  assert.throws(() => new nn.MultiheadAttention(8, 2, { kdim: 4 }), /kdim different from embedDim is not supported/);
});

test("MultiheadAttention passes gradcheck in float64 (query, key and value; golden_nn checks the weights)", () => {
  torch.manualSeed(2);
  const mha = new nn.MultiheadAttention(4, 2, { batchFirst: true }).double();
  const q = torch.randn([1, 3, 4], { dtype: torch.float64, requiresGrad: true });
  const k = torch.randn([1, 2, 4], { dtype: torch.float64, requiresGrad: true });
  const v = torch.randn([1, 2, 4], { dtype: torch.float64, requiresGrad: true });
  const mask = torch.tensor([[false, true], [false, false], [true, false]]);
  const r = torch.autograd.gradcheck((a, b, c) => mha.forward(a, b, c, { attnMask: mask })[0], [q, k, v]);
  assert.ok(r.ok, r.message);
});

test("scaledDotProductAttention: a bool mask keeps the true pairs; isCausal equals a lower-triangular mask", () => {
  const q = torch.randn(2, 3, 4);
  const k = torch.randn(2, 3, 4);
  const v = torch.randn(2, 3, 5);
  const causal = torch.ones([3, 3], { dtype: torch.bool }).tril();
  assertClose(F.scaledDotProductAttention(q, k, v, { isCausal: true }), F.scaledDotProductAttention(q, k, v, { attnMask: causal }));
  // The first query sees only the first key: its output is the first value.
  assertClose(F.scaledDotProductAttention(q, k, v, { isCausal: true }).index(null, 0), v.index(null, 0), { rtol: 1e-6 });
  assert.throws(() => F.scaledDotProductAttention(q, k, v, { isCausal: true, attnMask: causal }), /either attnMask or isCausal/);
});

// ---- transformer

test("TransformerEncoder copies the layer: same initial weights, separate parameters", () => {
  const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
  const enc = new nn.TransformerEncoder(layer, 3);
  assert.equal(enc.parameters().length, 3 * layer.parameters().length);
  const [a, b] = [enc.layers.at(0) as torch.nn.TransformerEncoderLayer, enc.layers.at(1) as torch.nn.TransformerEncoderLayer];
  assert.notEqual(a.linear1.weight, b.linear1.weight);
  assert.deepEqual(values(a.linear1.weight), values(b.linear1.weight));
  assert.deepEqual(values(a.selfAttn.inProjWeight), values(layer.self_attn.in_proj_weight));
});

test("TransformerEncoderLayer: dropout acts in training only; an activation Module is registered", () => {
  torch.manualSeed(5);
  const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.5 });
  const x = torch.randn(4, 2, 8);
  const a = layer.forward(x);
  const b = layer.forward(x);
  assert.ok(values(a.sub(b).abs()).some((d) => d > 1e-3), "training outputs differ between calls");
  layer.eval();
  assert.deepEqual(values(layer.forward(x)), values(layer.forward(x)));
  const withModule = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, activation: new nn.GELU() });
  assert.ok(String(withModule).includes("(activation): GELU(approximate='none')"));
  assert.throws(() => new nn.TransformerEncoder(withModule, 2), /cannot copy an activation Module/);
});

forEachDevice("nn composites keep shapes on every device (meta included)", (d) => {
  const enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true }), 2).to(d.device);
  const x = torch.randn([3, 5, 8], { device: d.device });
  assert.deepEqual(enc.forward(x).shape, [3, 5, 8]);
  const img = x.reshape([3, 1, 5, 8]);
  assert.deepEqual(F.interpolate(img, { size: [7, 9], mode: "bilinear" }).shape, [3, 1, 7, 9]);
  assert.deepEqual(F.adaptiveAvgPool2d(img, [2, 3]).shape, [3, 1, 2, 3]);
  assert.deepEqual(new nn.ConvTranspose2d(1, 2, 3, { stride: 2 }).to(d.device).forward(img).shape, [3, 2, 11, 17]);
  assert.deepEqual(new nn.Conv1d(5, 4, 3).to(d.device).forward(x.reshape([3, 5, 8])).shape, [3, 4, 6]);
  const idx = torch.zeros([2, 3], { dtype: torch.int64, device: d.device });
  assert.deepEqual(new nn.Embedding(4, 2).to(d.device).forward(idx).shape, [2, 3, 2]);
  assert.deepEqual(new nn.GroupNorm(1, 1).to(d.device).forward(img).shape, [3, 1, 5, 8]);
});

// ---- bad input

test("clear errors for bad shapes and options", () => {
  assert.throws(() => F.layerNorm(torch.zeros(2, 3), [4]), /normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of size \[2, 3\]/);
  assert.throws(() => F.groupNorm(torch.zeros(2, 6, 3), 4), /divisible by num_groups/);
  assert.throws(() => F.interpolate(torch.zeros(1, 1, 2, 2), { size: 3, scaleFactor: 2 }), /either size or scaleFactor/);
  assert.throws(() => F.interpolate(torch.zeros(1, 1, 2, 2), { size: 3, mode: "nearest", alignCorners: true }), /align_corners option/);
  assert.throws(() => F.interpolate(torch.zeros(1, 1, 2, 2), { size: 3, mode: "linear" }), /'linear' expects 3-D input/);
  assert.throws(() => F.convTranspose2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3), null, { stride: 2, outputPadding: 2 }), /outputPadding must be smaller/);
  assert.throws(() => F.oneHot(torch.tensor([1, -1], { dtype: torch.int64 })), /non-negative/);
  assert.throws(() => F.oneHot(torch.tensor([3], { dtype: torch.int64 }), 3), /smaller than num_classes/);
  assert.throws(() => F.crossEntropy(torch.zeros(2, 3), torch.zeros(2, 4)), /class probabilities and must have the input's shape \[2, 3\].*int64/);
  const i64 = { dtype: torch.int64 };
  assert.throws(() => F.crossEntropy(torch.zeros(2, 3), torch.tensor([0, 3], i64), { weight: torch.ones(3) }), /target 3 is out of bounds.*\[0, 2\]/);
  assert.throws(() => F.nllLoss(torch.zeros(2, 3), torch.tensor([-1, 0], i64), { weight: torch.ones(3) }), /target -1 is out of bounds/);
  assert.equal(F.nllLoss(torch.zeros(2, 3), torch.tensor([-100, 0], i64), { weight: torch.ones(3) }).dim(), 0);
  assert.throws(() => F.crossEntropy(torch.zeros(2, 3), torch.tensor([0, 1], { dtype: torch.int64 }), { weight: torch.ones(2) }), /3 class weights/);
  assert.throws(() => F.binaryCrossEntropy(torch.zeros(2, 3), torch.zeros(3)), /target size \(\[3\]\) that is different to the input size \(\[2, 3\]\)/);
  assert.throws(() => new nn.Conv1d(3, 4, 3, { groups: 2 }), /divisible by groups/);
});
