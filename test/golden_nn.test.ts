// Replays test/golden/nn_modules.json (scripts/gen_golden_nn.py, PyTorch 1.13): each nn module with PyTorch's
// weights loaded through loadStateDict (so its state-dict keys must be PyTorch's), its printout, the forward
// output and the gradients of sum(output * gradOutput) for inputs and parameters; functional ops; clipGradNorm_;
// a gradient penalty and a Hessian-vector product through autograd.grad with createGraph. On every CPU backend.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";
import { assertClose } from "./helpers/compare.js";
import { forEachDevice } from "./helpers/devices.js";

const nn = torch.nn;
const F = torch.nn.functional;
type Tensor = torch.Tensor;

interface Enc {
  shape: number[];
  dtype: "float32" | "float64" | "int64" | "bool";
  data: (number | string)[];
}
interface Case {
  name: string;
  inputs: Record<string, Enc>;
  grad: string[];
  state: Record<string, Enc>;
  stateKeys: string[];
  repr: string | null;
  output: Enc | Enc[];
  gradOutput: Enc | null;
  grads: Record<string, Enc>;
  extra?: Record<string, Enc>;
}
interface Fixture {
  cases: Case[];
  reprs: Record<string, string>;
  moduleDictKeys: string[];
}

const here = dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(join(here, "..", "..", "test", "golden", "nn_modules.json"), "utf8")) as Fixture;

// The device the running forEachDevice test is on: decode() puts the fixture's tensors there and mod() moves the
// module there (node:test runs one file's tests one after another, so a module-level setting is safe).
let device = "cpu";

function decode(e: Enc, requiresGrad = false): Tensor {
  const nums = e.data.map((v) => (typeof v === "number" ? v : v === "nan" ? NaN : v === "inf" ? Infinity : -Infinity));
  const t = torch.tensor(e.dtype === "bool" ? nums.map((v) => v !== 0) : nums, { dtype: e.dtype }).reshape(e.shape).to(device);
  return requiresGrad ? t.requiresGrad_(true) : t;
}

const TOL = { float32: { rtol: 2e-4, atol: 2e-5 }, float64: { rtol: 1e-9, atol: 1e-10 } } as const;

function expectClose(actual: Tensor, e: Enc, what: string): void {
  assert.equal(actual.device, device, `${what}: device`);
  assert.deepEqual(actual.shape, e.shape, `${what}: shape`);
  const want = decode(e);
  if (e.dtype === "int64" || e.dtype === "bool") {
    assert.equal(actual.dtype, e.dtype, `${what}: dtype`);
    assert.deepEqual(Array.from(actual.toTypedArray(), Number), Array.from(want.toTypedArray(), Number), what);
    return;
  }
  const scale = Math.max(1, ...Array.from(want.abs().toTypedArray(), Number).filter(Number.isFinite));
  const tol = TOL[e.dtype === "float64" ? "float64" : "float32"];
  assertClose(actual, want, { rtol: tol.rtol, atol: tol.atol * scale, msg: what });
}

type In = Record<string, Tensor>;
type Run = (x: In) => { module?: torch.nn.Module; out: Tensor | (Tensor | null)[] };

const mod = (module: torch.nn.Module, call: (x: In) => Tensor | (Tensor | null)[]): Run => {
  module.to(device);
  return (x) => ({ module, out: call(x) });
};
const unary = (m: torch.nn.Module): Run => mod(m, (x) => m.forward(x.x) as Tensor);
const loss = (m: torch.nn.Module): Run => mod(m, (x) => m.forward(x.x, x.t) as Tensor);
const w4 = () => torch.ones(4);
const E = 8;

/** One runner per fixture case; each builds the module as the generator did (weights come from the fixture). */
const RUNS: Record<string, () => Run> = {
  LayerNorm_4: () => unary(new nn.LayerNorm(4)),
  LayerNorm_3x4_noaffine: () => unary(new nn.LayerNorm([3, 4], { eps: 1e-3, elementwiseAffine: false })),
  GroupNorm_2_4: () => unary(new nn.GroupNorm(2, 4)),
  GroupNorm_3_6_noaffine: () => unary(new nn.GroupNorm(3, 6, { eps: 1e-4, affine: false })),
  Embedding_pad1: () => { const m = new nn.Embedding(10, 3, { paddingIdx: 1 }); return mod(m, (x) => m.forward(x.idx)); },
  Embedding_plain: () => { const m = new nn.Embedding(6, 2); return mod(m, (x) => m.forward(x.idx)); },
  Conv1d_s2_p1_g2: () => unary(new nn.Conv1d(4, 6, 3, { stride: 2, padding: 1, groups: 2 })),
  Conv1d_same_d2: () => unary(new nn.Conv1d(3, 2, 3, { padding: "same", dilation: 2, bias: false })),
  ConvTranspose2d_default: () => unary(new nn.ConvTranspose2d(2, 3, 3)),
  ConvTranspose2d_full: () => unary(new nn.ConvTranspose2d(2, 4, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2, dilation: 2 })),
  ConvTranspose2d_rect: () => unary(new nn.ConvTranspose2d(3, 2, [2, 3], { stride: [2, 1], padding: [0, 1], bias: false })),
  ConvTranspose2d_outpad_dilation: () => unary(new nn.ConvTranspose2d(2, 2, 3, { dilation: 2, outputPadding: 1 })),
  ConvTranspose2d_bigpad: () => unary(new nn.ConvTranspose2d(1, 1, 3, { stride: 3, padding: 3, outputPadding: 2 })),
  AdaptiveAvgPool2d_2x3: () => unary(new nn.AdaptiveAvgPool2d([2, 3])),
  AdaptiveAvgPool2d_1: () => unary(new nn.AdaptiveAvgPool2d(1)),
  AdaptiveAvgPool2d_none_3: () => unary(new nn.AdaptiveAvgPool2d([null, 3])),
  AdaptiveAvgPool2d_3d_even: () => unary(new nn.AdaptiveAvgPool2d(2)),
  "LeakyReLU_0.2": () => unary(new nn.LeakyReLU(0.2)),
  SiLU: () => unary(new nn.SiLU()),
  Softplus_default: () => unary(new nn.Softplus()),
  Softplus_b2_t3: () => unary(new nn.Softplus(2, 3)),
  Hardswish: () => unary(new nn.Hardswish()),
  Unflatten: () => unary(new nn.Unflatten(1, [3, 4])),
  BCELoss_mean: () => loss(new nn.BCELoss({ reduction: "mean" })),
  BCELoss_sum: () => loss(new nn.BCELoss({ reduction: "sum" })),
  BCELoss_none: () => loss(new nn.BCELoss({ reduction: "none" })),
  BCELoss_weight: () => loss(new nn.BCELoss({ weight: w4() })),
  BCEWithLogitsLoss_mean: () => loss(new nn.BCEWithLogitsLoss()),
  BCEWithLogitsLoss_pos_weight: () => loss(new nn.BCEWithLogitsLoss({ weight: w4(), posWeight: w4(), reduction: "sum" })),
  "SmoothL1Loss_b0.5": () => loss(new nn.SmoothL1Loss({ beta: 0.5 })),
  SmoothL1Loss_b0_none: () => loss(new nn.SmoothL1Loss({ beta: 0, reduction: "none" })),
  HuberLoss_d2_sum: () => loss(new nn.HuberLoss({ delta: 2, reduction: "sum" })),
  KLDivLoss_batchmean: () => loss(new nn.KLDivLoss({ reduction: "batchmean" })),
  KLDivLoss_batchmean_tgrad: () => loss(new nn.KLDivLoss({ reduction: "batchmean" })),
  KLDivLoss_logtarget_sum: () => loss(new nn.KLDivLoss({ reduction: "sum", logTarget: true })),
  KLDivLoss_mean: () => loss(new nn.KLDivLoss()),
  CrossEntropyLoss_weight: () => loss(new nn.CrossEntropyLoss({ weight: w4() })),
  CrossEntropyLoss_weight_ignore_sum: () => loss(new nn.CrossEntropyLoss({ weight: w4(), ignoreIndex: 3, reduction: "sum" })),
  CrossEntropyLoss_weight_none: () => loss(new nn.CrossEntropyLoss({ weight: w4(), reduction: "none" })),
  CrossEntropyLoss_weight_smooth: () => loss(new nn.CrossEntropyLoss({ weight: w4(), labelSmoothing: 0.2 })),
  CrossEntropyLoss_probs: () => loss(new nn.CrossEntropyLoss()),
  CrossEntropyLoss_probs_weight_smooth_sum: () => loss(new nn.CrossEntropyLoss({ weight: w4(), labelSmoothing: 0.1, reduction: "sum" })),
  CrossEntropyLoss_spatial_weight: () => loss(new nn.CrossEntropyLoss({ weight: torch.ones(3) })),
  NLLLoss_weight: () => loss(new nn.NLLLoss({ weight: w4() })),
  NLLLoss_weight_none: () => loss(new nn.NLLLoss({ weight: w4(), reduction: "none" })),
  interpolate_nearest_size: () => (x) => ({ out: F.interpolate(x.x, { size: [5, 7], mode: "nearest" }) }),
  "interpolate_nearest_scale1.5": () => (x) => ({ out: F.interpolate(x.x, { scaleFactor: 1.5, mode: "nearest" }) }),
  interpolate_nearest_down: () => (x) => ({ out: F.interpolate(x.x, { size: [2, 3] }) }),
  interpolate_bilinear_size: () => (x) => ({ out: F.interpolate(x.x, { size: [5, 7], mode: "bilinear", alignCorners: false }) }),
  interpolate_bilinear_ac: () => (x) => ({ out: F.interpolate(x.x, { size: [5, 7], mode: "bilinear", alignCorners: true }) }),
  interpolate_bilinear_scale2: () => (x) => ({ out: F.interpolate(x.x, { scaleFactor: 2, mode: "bilinear" }) }),
  "interpolate_bilinear_scale0.6": () => (x) => ({ out: F.interpolate(x.x, { scaleFactor: 0.6, mode: "bilinear" }) }),
  interpolate_linear_ac: () => (x) => ({ out: F.interpolate(x.x, { size: 7, mode: "linear", alignCorners: true }) }),
  one_hot: () => (x) => ({ out: F.oneHot(x.t, 5) }),
  one_hot_auto: () => (x) => ({ out: F.oneHot(x.t) }),
  normalize_p2_dim1: () => (x) => ({ out: F.normalize(x.x) }),
  normalize_p1_dim0: () => (x) => ({ out: F.normalize(x.x, { p: 1, dim: 0 }) }),
  embedding_fn: () => (x) => ({ out: F.embedding(x.t, x.w, { paddingIdx: 2 }) }),
  layer_norm_fn: () => (x) => ({ out: F.layerNorm(x.x, [4], { weight: x.w, bias: x.b, eps: 1e-5 }) }),
  group_norm_fn: () => (x) => ({ out: F.groupNorm(x.x, 2, { weight: x.w, bias: x.b }) }),
  conv_transpose2d_fn: () => (x) => ({ out: F.convTranspose2d(x.x, x.w, x.b, { stride: 2, padding: 1 }) }),
  conv1d_fn: () => (x) => ({ out: F.conv1d(x.x, x.w, null, { stride: 2 }) }),
  sdpa_plain: () => (x) => ({ out: F.scaledDotProductAttention(x.q, x.k, x.v) }),
  sdpa_bool_mask: () => (x) => ({ out: F.scaledDotProductAttention(x.q, x.k, x.v, { attnMask: x.m }) }),
  sdpa_causal: () => (x) => ({ out: F.scaledDotProductAttention(x.q, x.k, x.v, { isCausal: true }) }),
  sdpa_float_mask: () => (x) => ({ out: F.scaledDotProductAttention(x.q, x.k, x.v, { attnMask: x.m }) }),
  MultiheadAttention_batch_first_masks: () => {
    const m = new nn.MultiheadAttention(E, 2, { batchFirst: true });
    return mod(m, (x) => m.forward(x.q, x.k, x.v, { keyPaddingMask: x.kpm, attnMask: x.am }));
  },
  MultiheadAttention_seq_first_float_mask: () => {
    const m = new nn.MultiheadAttention(E, 4);
    return mod(m, (x) => m.forward(x.x, x.x, x.x, { attnMask: x.am, averageAttnWeights: false }));
  },
  MultiheadAttention_unbatched_no_bias: () => {
    const m = new nn.MultiheadAttention(E, 2, { bias: false });
    return mod(m, (x) => m.forward(x.x, x.x, x.x));
  },
  TransformerEncoderLayer_nf0_relu: () => unary(new nn.TransformerEncoderLayer(E, 2, { dimFeedforward: 16, dropout: 0 })),
  TransformerEncoderLayer_nf1_gelu: () =>
    unary(new nn.TransformerEncoderLayer(E, 2, { dimFeedforward: 16, dropout: 0, activation: "gelu", batchFirst: true, normFirst: true })),
  TransformerEncoder_2_norm_masks: () => {
    const layer = new nn.TransformerEncoderLayer(E, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true });
    const m = new nn.TransformerEncoder(layer, 2, { norm: new nn.LayerNorm(E) });
    return mod(m, (x) => m.forward(x.x, { mask: x.mask, srcKeyPaddingMask: x.kpm }));
  },
};

const special = new Set(["autograd_gradient_penalty", "autograd_hvp"]);

for (const c of fixture.cases) {
  if (special.has(c.name) || c.name.startsWith("clip_grad_norm")) continue;
  forEachDevice(`golden nn: ${c.name}`, (d) => {
    device = d.device;
    const make = RUNS[c.name];
    assert.ok(make, `no runner for fixture case ${c.name}`);
    const run = make();
    const inputs: In = {};
    for (const [k, e] of Object.entries(c.inputs)) inputs[k] = decode(e, c.grad.includes(k));
    const { module, out } = run(inputs);
    // The module was built before the inputs: load PyTorch's weights, then run again on them.
    let result = out;
    if (module) {
      assert.deepEqual(Object.keys(module.stateDict()), c.stateKeys, "state-dict keys");
      const sd: Record<string, Tensor> = {};
      for (const [k, e] of Object.entries(c.state)) sd[k] = decode(e);
      module.loadStateDict(sd);
      if (c.repr !== null) assert.equal(String(module), c.repr, "repr");
      for (const k of Object.keys(inputs)) inputs[k] = decode(c.inputs[k], c.grad.includes(k));
      result = run(inputs).out;
    }
    const outs = Array.isArray(c.output) ? c.output : [c.output];
    const got = Array.isArray(result) ? result : [result];
    outs.forEach((e, i) => {
      const g = got[i];
      assert.ok(g, `output ${i} missing`);
      expectClose(g, e, `output ${i}`);
    });
    if (c.gradOutput) {
      const params = module ? Object.fromEntries(module.namedParameters()) : {};
      const targets = [...c.grad.map((k) => inputs[k]), ...Object.values(params).filter((p) => p.requiresGrad)];
      const names = [...c.grad, ...Object.keys(params).filter((k) => params[k].requiresGrad)];
      const grads = torch.autograd.grad(got[0]!.mul(decode(c.gradOutput)).sum(), targets, { allowUnused: true });
      names.forEach((n, i) => {
        const want = c.grads[n];
        if (!want) return;
        assert.ok(grads[i], `gradient of ${n} missing`);
        expectClose(grads[i]!, want, `grad ${n}`);
      });
    }
  }, { values: true });
}

test("golden nn: clipGradNorm_ returns PyTorch's total norm and scales the gradients as it does", () => {
  device = "cpu";
  for (const c of fixture.cases.filter((x) => x.name.startsWith("clip_grad_norm"))) {
    const ps = [decode(c.inputs.g0), decode(c.inputs.g1)].map((g) => {
      const p = torch.zerosLike(g).requiresGrad_(true);
      p.grad = g;
      return p;
    });
    const maxNorm = decode(c.extra!.maxNorm).item() as number;
    const normType = decode(c.extra!.normType).item() as number;
    const total = nn.utils.clipGradNorm_(ps, maxNorm, normType);
    const outs = c.output as Enc[];
    expectClose(total, outs[0], `${c.name} total norm`);
    expectClose(ps[0].grad!, outs[1], `${c.name} grad 0`);
    expectClose(ps[1].grad!, outs[2], `${c.name} grad 1`);
  }
});

test("golden nn: reprs and ModuleDict state-dict keys match PyTorch's", () => {
  device = "cpu";
  const r = fixture.reprs;
  assert.equal(String(new nn.ModuleDict({ a: new nn.ReLU(), b: new nn.Linear(2, 3) })), r.ModuleDict);
  assert.equal(String(new nn.ParameterList([torch.zeros(3, 4), torch.zeros([2], { dtype: torch.float64 })])), r.ParameterList);
  assert.equal(String(new nn.Dropout2d(0.25)), r.Dropout2d);
  assert.equal(String(new nn.TransformerEncoderLayer(8, 2)), r.TransformerEncoderLayer_default);
  assert.equal(String(new nn.Embedding(10, 3, { paddingIdx: -1 })), r.Embedding_pad);
  assert.equal(String(new nn.AdaptiveAvgPool2d(1)), r.AdaptiveAvgPool2d_1);
  const md = new nn.ModuleDict({ enc: new nn.Linear(2, 3), bn: new nn.BatchNorm1d(3) });
  assert.deepEqual(Object.keys(md.stateDict()), fixture.moduleDictKeys);
});

function caseNamed(name: string): Case {
  const c = fixture.cases.find((x) => x.name === name);
  assert.ok(c, `fixture case ${name}`);
  return c;
}

forEachDevice("golden nn: gradient penalty through autograd.grad(createGraph) matches PyTorch", (d) => {
  device = d.device;
  const c = caseNamed("autograd_gradient_penalty");
  const net = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 4), new nn.GELU(), new nn.Linear(4, 2)).to(device);
  const sd: Record<string, Tensor> = {};
  for (const [k, e] of Object.entries(c.state)) sd[k] = decode(e);
  net.loadStateDict(sd);
  const x = decode(c.inputs.x, true);
  const f = (t: Tensor) => net.forward(t) as Tensor;
  const out = f(x).sigmoid().softmax(1).select(1, 0).sum().add(f(x).pow(2).mean());
  const [gx] = torch.autograd.grad(out, x, { createGraph: true });
  const penalty = gx!.pow(2).sum(1).add(1e-12).sqrt().sub(1).pow(2).mean();
  const outs = c.output as Enc[];
  expectClose(gx!, outs[1], "input gradient");
  expectClose(penalty, outs[0], "penalty");
  const named = net.namedParameters();
  const grads = torch.autograd.grad(penalty, named.map(([, p]) => p));
  named.forEach(([k], i) => expectClose(grads[i]!, c.grads[k], `penalty grad ${k}`));
  // grad() leaves .grad alone.
  assert.ok(named.every(([, p]) => p.grad === null));
}, { values: true });

forEachDevice("golden nn: Hessian-vector product (double backward) matches PyTorch", (d) => {
  device = d.device;
  const c = caseNamed("autograd_hvp");
  const W = decode(c.inputs.W, true);
  const b = decode(c.inputs.b, true);
  const X = decode(c.inputs.X);
  const Y = decode(c.inputs.Y);
  const logits = X.relu().matmul(W.t()).add(b).add(X.matmul(W.t()).tanh());
  const lossH = Y.mul(logits.logSoftmax(1)).sum(1).mean().neg().add(W.mul(W).sum().mul(0.1)).add(b.exp().mean());
  const [gW, gb] = torch.autograd.grad(lossH, [W, b], { createGraph: true });
  const [hW, hb] = torch.autograd.grad(gW!.mul(decode(c.inputs.vW)).sum().add(gb!.mul(decode(c.inputs.vb)).sum()), [W, b]);
  const outs = c.output as Enc[];
  expectClose(lossH, outs[0], "loss");
  expectClose(gW!, outs[1], "dL/dW");
  expectClose(gb!, outs[2], "dL/db");
  expectClose(hW!, outs[3], "Hv (W)");
  expectClose(hb!, outs[4], "Hv (b)");
}, { values: true });
