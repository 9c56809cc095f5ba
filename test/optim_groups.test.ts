// Parameter groups, LambdaLR and frozen parameters against PyTorch 1.13 (test/golden/airbench.json).
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assertClose, values } from "./helpers/compare.js";
import { golden, type OptRun } from "./helpers/airbench_golden.js";

type Tensor = torch.Tensor;
const optim = torch.optim;

/** Replays the generator's run: loss sum(((p*c)^2) + p*c) over three parameters. */
function replay(g: OptRun, make: (ps: Tensor[]) => torch.optim.Optimizer, sched?: (o: torch.optim.Optimizer) => { step(): void }): { ps: Tensor[]; lrs: number[][] } {
  const ps = g.init.map((v) => torch.tensor(v, { dtype: torch.float64 }).requiresGrad_());
  const cs = g.coef.map((v) => torch.tensor(v, { dtype: torch.float64 }));
  const opt = make(ps);
  const s = sched?.(opt);
  const lrs: number[][] = [];
  for (let i = 0; i < g.lrs.length; i++) {
    opt.zeroGrad();
    let loss = torch.zeros([], { dtype: torch.float64 });
    ps.forEach((p, k) => {
      const pc = p.mul(cs[k]!);
      loss = loss.add(pc.mul(pc).sum()).add(pc.sum());
    });
    loss.backward();
    opt.step();
    s?.step();
    lrs.push(opt.paramGroups.map((gr) => gr.options.lr as number));
  }
  return { ps, lrs };
}

function check(name: keyof typeof golden.optim, make: (ps: Tensor[]) => torch.optim.Optimizer, sched?: (o: torch.optim.Optimizer) => { step(): void }): void {
  const g = golden.optim[name];
  const { ps, lrs } = replay(g, make, sched);
  ps.forEach((p, k) => assertClose(values(p), g.final[k]!, { rtol: 1e-10, atol: 1e-12, msg: `${name} param ${k}` }));
  assertClose(lrs.flat(), g.lrs.flat(), { rtol: 1e-12, msg: `${name} lrs` });
}

test("SGD with two groups (own lr, weight decay) and shared Nesterov momentum matches PyTorch", () => {
  check("sgd_groups_nesterov", (ps) => new optim.SGD([{ params: ps.slice(0, 1), lr: 0.3, weightDecay: 0.5 }, { params: ps.slice(1), lr: 0.05 }], { momentum: 0.85, nesterov: true }));
});

test("Adam and AdamW groups override the defaults per group as PyTorch does", () => {
  check("adamw_groups", (ps) => new optim.AdamW([{ params: ps.slice(0, 2), lr: 0.01 }, { params: ps.slice(2), weightDecay: 0.3 }], { lr: 0.1 }));
  check("adam_groups", (ps) => new optim.Adam([{ params: ps.slice(0, 1) }, { params: ps.slice(1), lr: 0.02, betas: [0.8, 0.9] }], { lr: 0.1 }));
});

test("LambdaLR with one lambda per group matches PyTorch's lrs and weights", () => {
  check(
    "lambda_lr_per_group",
    (ps) => new optim.SGD([{ params: ps.slice(0, 1), lr: 0.2 }, { params: ps.slice(1), lr: 0.1 }], { lr: 1.0, momentum: 0.5 }),
    (o) => new optim.lrScheduler.LambdaLR(o, [(e) => 0.5 ** e, (e) => 1 / (e + 1)]),
  );
  const p = torch.zeros([1]).requiresGrad_();
  const o = new optim.SGD([{ params: [p] }], { lr: 1 });
  assert.throws(() => new optim.lrScheduler.LambdaLR(o, [(e) => e, (e) => e]), /expected 1 lr_lambdas, but got 2/);
});

test("paramGroups[i].lr (and the other hyper-parameters) read and write what the next step uses", () => {
  const p = torch.tensor([1, 2], { dtype: torch.float64 }).requiresGrad_();
  const opt = new optim.SGD([p], { lr: 0.1 });
  assert.equal(opt.paramGroups[0]!.lr, 0.1);
  opt.paramGroups[0]!.lr = 0.5;
  assert.equal(opt.paramGroups[0]!.options.lr, 0.5, "options is the same group");
  p.sum().backward();
  opt.step();
  assert.deepEqual(values(p), [0.5, 1.5]);
  opt.paramGroups[0]!.weightDecay = 1;
  opt.zeroGrad();
  p.sum().backward();
  opt.step();
  assertClose(values(p), [0.5 - 0.5 * 1.5, 1.5 - 0.5 * 2.5], { rtol: 1e-12 });
  // Schedulers see a user's write as the base of nothing new, but their own writes land in the same place.
  const s = new optim.lrScheduler.StepLR(opt, 1, 0.1);
  s.step();
  assertClose([opt.paramGroups[0]!.lr], [0.05], { rtol: 1e-12 });
  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.paramGroups[0]!).sort(), ["dampening", "initialLr", "lr", "maximize", "momentum", "nesterov", "params", "weightDecay"]);
  assert.deepEqual(sd.paramGroups[0]!.params, [0]);
});

test("SGD without lr throws PyTorch's error, unless every group has its own", () => {
  const p = torch.zeros([2]).requiresGrad_();
  const q = torch.zeros([2]).requiresGrad_();
  const loose = optim.SGD as unknown as new (a: unknown, b?: unknown) => torch.optim.SGD;
  assert.throws(() => new loose([p], {}), /parameter group didn't specify a value of required optimization parameter lr/);
  assert.throws(() => new loose([p]), /required optimization parameter lr/);
  assert.throws(() => new loose([{ params: [p], lr: 0.1 }, { params: [q] }]), /required optimization parameter lr/);
  const ok = new optim.SGD([{ params: [p], lr: 0.1 }, { params: [q], lr: 0.2 }]);
  assert.deepEqual(ok.paramGroups.map((g) => g.lr), [0.1, 0.2]);
  assert.throws(() => ok.addParamGroup({ params: [torch.zeros([1]).requiresGrad_()] }), /required optimization parameter lr/);
  ok.addParamGroup({ params: [torch.zeros([1]).requiresGrad_()], lr: 0.3, momentum: 0.9 });
  assert.equal(ok.paramGroups[2]!.momentum, 0.9);
  assert.throws(() => new optim.SGD([p], { lr: -1 }), /invalid learning rate -1/);
  assert.throws(() => ok.addParamGroup({ lr: 1 } as never), /needs "params"/);
});

test("optimizers skip frozen parameters (requiresGrad_(false)) and those without a gradient", () => {
  for (const make of [(ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }), (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1 })]) {
    const live = torch.tensor([1, 2]).requiresGrad_();
    const frozen = torch.tensor([3, 4]).requiresGrad_();
    const noGradYet = torch.tensor([5, 6]).requiresGrad_();
    const opt = make([live, frozen, noGradYet]);
    live.mul(frozen).sum().backward();
    frozen.requiresGrad_(false); // frozen after its gradient was computed: the stale gradient must not be applied
    opt.step();
    assert.notDeepEqual(values(live), [1, 2]);
    assert.deepEqual(values(frozen), [3, 4]);
    assert.deepEqual(values(noGradYet), [5, 6]);
    assert.equal(opt.state.has(frozen), false);
  }
});

test("StepLR, CosineAnnealingLR and OneCycleLR schedule each group from its own initial lr", () => {
  const make = () => new optim.SGD([{ params: [torch.zeros([1]).requiresGrad_()], lr: 0.4 }, { params: [torch.zeros([1]).requiresGrad_()], lr: 0.1 }], { lr: 1, momentum: 0.9 });
  const a = make();
  const step = new optim.lrScheduler.StepLR(a, 2, 0.5);
  for (let i = 0; i < 4; i++) step.step();
  assertClose(a.paramGroups.map((g) => g.lr), [0.1, 0.025], { rtol: 1e-12 });
  const b = make();
  const cos = new optim.lrScheduler.CosineAnnealingLR(b, 10, 0.01);
  for (let i = 0; i < 3; i++) cos.step();
  const c3 = (base: number) => 0.01 + ((base - 0.01) * (1 + Math.cos((Math.PI * 3) / 10))) / 2;
  assertClose(b.paramGroups.map((g) => g.lr), [c3(0.4), c3(0.1)], { rtol: 1e-12 });
  const c = make();
  const one = new optim.lrScheduler.OneCycleLR(c, [1, 0.5], { totalSteps: 10, cycleMomentum: false });
  assertClose(c.paramGroups.map((g) => g.lr), [1 / 25, 0.5 / 25], { rtol: 1e-12 });
  for (let i = 0; i < 2; i++) one.step();
  assertClose([c.paramGroups[0]!.lr / c.paramGroups[1]!.lr], [2], { rtol: 1e-12, msg: "the groups keep their max-lr ratio" });
});
