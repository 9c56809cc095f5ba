// Optimizers against hand-written transcriptions of PyTorch's update rules (torch/optim/sgd.py, adam.py, adamw.py),
// state dict round trips, and lr schedulers against values computed from PyTorch's formulas.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assertClose, values } from "./helpers/compare.js";
import { forEachDevice, type TestDevice } from "./helpers/devices.js";

type Tensor = torch.Tensor;
const optim = torch.optim;

// Loss with gradients that depend on the parameters: sum(c * p^2 + d * p + e * p^3) -> grad 2cp + d + 3ep^2.
const C = [0.5, 1.5, -0.25, 2, 0.75, 1];
const D = [0.3, -0.7, 1.1, 0.05, -0.4, 0.9];
const E = [0.1, -0.2, 0.05, 0.0, 0.15, -0.1];
const INIT = [[1.0, -2.0, 0.5], [0.25, -1.5, 3.0]];
const SHAPES = [[3], [1, 3]];

function makeParams(dtype: torch.DType = torch.float64, device = "cpu"): Tensor[] {
  return INIT.map((v, i) => torch.tensor(v, { dtype, device }).reshape(SHAPES[i]).detach().requiresGrad_());
}

function gradOf(v: number, k: number): number {
  return 2 * C[k] * v + D[k] + 3 * E[k] * v * v;
}

/** Computes gradients with autograd (not with gradOf) so the optimizer sees what training would give it. */
function backward(params: Tensor[]): void {
  let k = 0;
  for (const p of params) {
    const n = p.numel();
    const o = { dtype: p.dtype, device: p.device };
    const c = torch.tensor(C.slice(k, k + n), o).reshape(p.shape);
    const d = torch.tensor(D.slice(k, k + n), o).reshape(p.shape);
    const e = torch.tensor(E.slice(k, k + n), o).reshape(p.shape);
    const y = p.mul(p).mul(c).add(p.mul(d)).add(p.mul(p).mul(p).mul(e));
    y.backward(torch.onesLike(y));
    k += n;
  }
}

interface SgdO { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean; maximize?: boolean }

/** torch.optim.SGD, single-tensor path, transcribed. */
function sgdOracle(o: SgdO, steps: number): number[] {
  const p = INIT.flat();
  const buf: (number | null)[] = p.map(() => null);
  const mom = o.momentum ?? 0;
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < p.length; k++) {
      let g = gradOf(p[k], k);
      if (o.maximize) g = -g;
      if (o.weightDecay) g = g + o.weightDecay * p[k];
      if (mom !== 0) {
        if (buf[k] === null) buf[k] = g;
        else buf[k] = mom * buf[k]! + (1 - (o.dampening ?? 0)) * g;
        g = o.nesterov ? g + mom * buf[k]! : buf[k]!;
      }
      p[k] = p[k] - o.lr * g;
    }
  }
  return p;
}

interface AdamO { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; maximize?: boolean }

/** torch.optim.Adam / AdamW, single-tensor path, transcribed. */
function adamOracle(o: AdamO, steps: number, decoupled: boolean): number[] {
  const p = INIT.flat();
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? (decoupled ? 1e-2 : 0);
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const vmax = p.map(() => 0);
  for (let t = 1; t <= steps; t++) {
    for (let k = 0; k < p.length; k++) {
      let g = gradOf(p[k], k);
      if (o.maximize) g = -g;
      if (decoupled) p[k] = p[k] * (1 - o.lr * wd);
      else if (wd !== 0) g = g + wd * p[k];
      m[k] = b1 * m[k] + (1 - b1) * g;
      v[k] = b2 * v[k] + (1 - b2) * g * g;
      const bc1 = 1 - b1 ** t;
      const bc2 = 1 - b2 ** t;
      const stepSize = o.lr / bc1;
      let denom: number;
      if (o.amsgrad) {
        vmax[k] = Math.max(vmax[k], v[k]);
        denom = Math.sqrt(vmax[k]) / Math.sqrt(bc2) + eps;
      } else denom = Math.sqrt(v[k]) / Math.sqrt(bc2) + eps;
      p[k] = p[k] - stepSize * (m[k] / denom);
    }
  }
  return p;
}

function run(opt: torch.optim.Optimizer, params: Tensor[], steps: number): number[] {
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    backward(params);
    opt.step();
  }
  // A device without data (meta) runs the same steps; there is nothing to compare.
  return params[0]!.device === "meta" ? [] : params.flatMap((p) => values(p));
}

/** The oracle's values where the device has data; on meta, that the parameters stayed there with their shapes. */
function expectParams(d: TestDevice, params: Tensor[], got: number[], want: number[], tol: { rtol: number; atol?: number }): void {
  for (const p of params) assert.equal(p.device, d.device);
  if (d.hasData) assertClose(got, want, tol);
  else assert.deepEqual(params.map((p) => p.shape), SHAPES);
}

const sgdConfigs: [string, SgdO][] = [
  ["plain", { lr: 0.1 }],
  ["momentum", { lr: 0.05, momentum: 0.9 }],
  ["momentum + dampening", { lr: 0.05, momentum: 0.9, dampening: 0.3 }],
  ["nesterov", { lr: 0.05, momentum: 0.8, nesterov: true }],
  ["weightDecay", { lr: 0.1, weightDecay: 0.05 }],
  ["momentum + weightDecay + nesterov", { lr: 0.02, momentum: 0.7, weightDecay: 0.1, nesterov: true }],
  ["maximize + momentum", { lr: 0.01, momentum: 0.5, maximize: true }],
  ["everything but nesterov", { lr: 0.03, momentum: 0.6, dampening: 0.1, weightDecay: 0.02, maximize: true }],
];

for (const [label, o] of sgdConfigs) {
  forEachDevice(`SGD ${label} matches PyTorch's rule over 6 steps`, (d) => {
    const params = makeParams(torch.float64, d.device);
    const got = run(new optim.SGD(params, o), params, 6);
    const want = sgdOracle(o, 6);
    expectParams(d, params, got, want, { rtol: 1e-12, atol: 1e-12 });
    // The oracle must have moved: a no-op optimizer cannot pass.
    assert.ok(want.some((v, i) => Math.abs(v - INIT.flat()[i]) > 1e-3));
  });
}

forEachDevice("SGD in float32 tracks the float64 rule within float32 precision", (d) => {
  const o = { lr: 0.05, momentum: 0.9, weightDecay: 0.01 };
  const params = makeParams(torch.float32, d.device);
  expectParams(d, params, run(new optim.SGD(params, o), params, 5), sgdOracle(o, 5), { rtol: 1e-5, atol: 1e-6 });
});

const adamConfigs: [string, AdamO][] = [
  ["defaults lr=0.1", { lr: 0.1 }],
  ["betas + eps", { lr: 0.05, betas: [0.8, 0.99], eps: 1e-6 }],
  ["weightDecay", { lr: 0.05, weightDecay: 0.1 }],
  ["amsgrad", { lr: 0.2, amsgrad: true }],
  ["maximize", { lr: 0.01, maximize: true }],
];

for (const [label, o] of adamConfigs) {
  forEachDevice(`Adam ${label} matches PyTorch's rule over 7 steps`, (d) => {
    const params = makeParams(torch.float64, d.device);
    const got = run(new optim.Adam(params, o), params, 7);
    expectParams(d, params, got, adamOracle(o, 7, false), { rtol: 1e-10, atol: 1e-12 });
  });
  forEachDevice(`AdamW ${label} matches PyTorch's rule over 7 steps`, (d) => {
    const params = makeParams(torch.float64, d.device);
    const got = run(new optim.AdamW(params, o), params, 7);
    expectParams(d, params, got, adamOracle(o, 7, true), { rtol: 1e-10, atol: 1e-12 });
  });
}

test("Adam and AdamW differ when weightDecay is set (decoupled vs L2)", () => {
  const a = adamOracle({ lr: 0.1, weightDecay: 0.1 }, 3, false);
  const w = adamOracle({ lr: 0.1, weightDecay: 0.1 }, 3, true);
  assert.ok(a.some((v, i) => Math.abs(v - w[i]) > 1e-4), "oracles distinguish the two");
  const pa = makeParams();
  const pw = makeParams();
  const ga = run(new optim.Adam(pa, { lr: 0.1, weightDecay: 0.1 }), pa, 3);
  const gw = run(new optim.AdamW(pw, { lr: 0.1, weightDecay: 0.1 }), pw, 3);
  assertClose(ga, a, { rtol: 1e-10 });
  assertClose(gw, w, { rtol: 1e-10 });
});

test("parameter groups use their own hyper-parameters; params without grad are skipped", () => {
  const [p0, p1] = makeParams();
  const frozen = torch.tensor([5, 6], { dtype: torch.float64, requiresGrad: true });
  const opt = new optim.SGD([{ params: [p0], lr: 0.1 }, { params: [p1, frozen], lr: 0.01, momentum: 0.9 }], { lr: 1 });
  assert.equal(opt.paramGroups[0].options.lr, 0.1);
  assert.equal(opt.paramGroups[1].options.momentum, 0.9);
  assert.equal(opt.paramGroups[0].options.momentum, 0, "defaults fill the rest");
  for (let s = 0; s < 3; s++) {
    opt.zeroGrad();
    backward([p0, p1]);
    opt.step();
  }
  const want0 = sgdOracle({ lr: 0.1 }, 3).slice(0, 3);
  const want1 = sgdOracle({ lr: 0.01, momentum: 0.9 }, 3).slice(3);
  assertClose(values(p0), want0, { rtol: 1e-12 });
  assertClose(values(p1), want1, { rtol: 1e-12 });
  assert.deepEqual(values(frozen), [5, 6]);
  assert.throws(() => new optim.SGD([p0, p0.mul(2)], { lr: 0.1 }), /non-leaf/);
  assert.throws(() => new optim.SGD([{ params: [p0] }, { params: [p0] }], { lr: 0.1 }), /more than one parameter group/);
  assert.throws(() => new optim.SGD([p0], { lr: 0.1, nesterov: true }), /nesterov/);
  assert.throws(() => new optim.SGD([], { lr: 0.1 }), /empty parameter list/);
});

test("zeroGrad: null by default, zeros with setToNone=false", () => {
  const params = makeParams();
  const opt = new optim.SGD(params, { lr: 0.1 });
  backward(params);
  opt.zeroGrad(false);
  assert.ok(params.every((p) => p.grad && values(p.grad).every((v) => v === 0)));
  opt.zeroGrad();
  assert.ok(params.every((p) => p.grad === null));
});

for (const [name, make] of [
  ["SGD momentum", (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true })],
  ["Adam amsgrad", (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.05, amsgrad: true })],
  ["AdamW", (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.05 })],
] as const) {
  test(`${name}: stateDict/loadStateDict round trip continues identically`, () => {
    const pa = makeParams();
    const a = make(pa);
    run(a, pa, 3);
    const sd = a.stateDict();
    assert.deepEqual(Object.keys(sd.state).map(Number), [0, 1]);
    assert.deepEqual(sd.paramGroups.map((g) => g.params), [[0, 1]]);
    // A fresh optimizer over copies of the parameters, restored from the state dict.
    const pb = pa.map((p) => p.detach().clone().requiresGrad_());
    const b = make(pb);
    b.loadStateDict(sd);
    // Mutating the state dict afterwards must not reach either optimizer.
    for (const s of Object.values(sd.state)) {
      for (const v of Object.values(s)) if (typeof v !== "number") torch.noGrad(() => v.fill_(1e6));
    }
    const ga = run(a, pa, 4);
    const gb = run(b, pb, 4);
    assert.deepEqual(gb, ga, "restored optimizer continues bit for bit");
    // Without restoring, the continuation differs (so the test can fail).
    const pc = pa.map((p) => p.detach().clone().requiresGrad_());
    const gc = run(make(pc), pc, 1);
    const gaNext = run(a, pa, 1);
    assert.notDeepEqual(gc, gaNext);
  });
}

test("loadStateDict rejects a mismatched layout", () => {
  const pa = makeParams();
  const a = new optim.SGD(pa, { lr: 0.1, momentum: 0.9 });
  run(a, pa, 1);
  const other = new optim.SGD([pa[0]], { lr: 0.1, momentum: 0.9 });
  assert.throws(() => other.loadStateDict(a.stateDict()), /doesn't match the size/);
  const twoGroups = new optim.SGD([{ params: [pa[0]] }, { params: [pa[1]] }], { lr: 0.1 });
  assert.throws(() => twoGroups.loadStateDict(a.stateDict()), /parameter groups/);
});

// ---- lr schedulers ---------------------------------------------------------------------------------------------
function lrs(sched: { step(): void; getLastLr(): number[] }, n: number): number[] {
  const out = [sched.getLastLr()[0]];
  for (let i = 0; i < n; i++) {
    sched.step();
    out.push(sched.getLastLr()[0]);
  }
  return out;
}

test("StepLR(stepSize=3, gamma=0.5)", () => {
  const opt = new optim.SGD(makeParams(), { lr: 0.1 });
  const s = new optim.lrScheduler.StepLR(opt, 3, 0.5);
  assertClose(lrs(s, 7), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], { rtol: 1e-12 });
  assert.equal(opt.paramGroups[0].options.lr, s.getLastLr()[0], "the optimizer sees the scheduled lr");
});

test("CosineAnnealingLR(tMax=10, etaMin=0.001) from lr 0.1", () => {
  const opt = new optim.SGD(makeParams(), { lr: 0.1 });
  const s = new optim.lrScheduler.CosineAnnealingLR(opt, 10, 0.001);
  // eta_min + (base - eta_min)(1 + cos(pi t / T)) / 2, as PyTorch produces it (t = 0..11; past T it rises again).
  const want = [
    0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505,
    0.03520365877844011, 0.021404630011522586, 0.010453658778440109, 0.0034227024433899004, 0.001,
    0.003422702443389889,
  ];
  assertClose(lrs(s, 11), want, { rtol: 1e-9, atol: 1e-15 });
});

test("OneCycleLR(maxLr=0.1, totalSteps=10): warm-up to max, cosine down to max/25/1e4", () => {
  const opt = new optim.SGD(makeParams(), { lr: 0.1, momentum: 0.9 });
  const s = new optim.lrScheduler.OneCycleLR(opt, 0.1, { totalSteps: 10 });
  const want = [
    0.0040000000000000036, 0.052000000000000005, 0.1, 0.09504846320134738, 0.0811745653949763,
    0.06112620219362893, 0.03887419780637107, 0.0188258346050237, 0.004951936798652629, 4e-07,
    0.004951936798652624,
  ];
  assertClose(lrs(s, 10), want, { rtol: 1e-9, atol: 1e-15 });
  assert.throws(() => s.step(), /totalSteps|Tried to step/i, "stepping past totalSteps throws like PyTorch");
  const s2 = new optim.lrScheduler.OneCycleLR(new optim.SGD(makeParams(), { lr: 1 }), 0.1, { epochs: 2, stepsPerEpoch: 5 });
  assertClose(lrs(s2, 3), want.slice(0, 4), { rtol: 1e-9 });
});

test("OneCycleLR cycles SGD momentum between 0.95 and 0.85 like PyTorch (cycle_momentum=True)", {
}, () => {
  const opt = new optim.SGD(makeParams(), { lr: 0.1, momentum: 0.9 });
  const s = new optim.lrScheduler.OneCycleLR(opt, 0.1, { totalSteps: 10 });
  assertClose([opt.paramGroups[0].options.momentum as number], [0.95]);
  s.step();
  s.step();
  assertClose([opt.paramGroups[0].options.momentum as number], [0.85], { msg: "momentum is lowest at the lr peak" });
});

test("scheduler stateDict round trip", () => {
  const opt = new optim.SGD(makeParams(), { lr: 0.1 });
  const s = new optim.lrScheduler.StepLR(opt, 2, 0.1);
  s.step();
  s.step();
  s.step();
  const sd = s.stateDict();
  const opt2 = new optim.SGD(makeParams(), { lr: 0.1 });
  const s2 = new optim.lrScheduler.StepLR(opt2, 2, 0.1);
  s2.loadStateDict(sd);
  assertClose(s2.getLastLr(), s.getLastLr(), { rtol: 1e-12 });
  s.step();
  s2.step();
  assertClose(s2.getLastLr(), s.getLastLr(), { rtol: 1e-12 });
  assertClose(s.getLastLr(), [0.001], { rtol: 1e-12 });
});
