// The airbench94 recipe's pieces against PyTorch 1.13 (test/golden/airbench.json): one training step of the net with
// fixed weights and data (logits, summed label-smoothed loss, every gradient, the weights after the two-group Nesterov
// SGD step), the whitening weights from a fixed image set, the lr schedule and EMA decay; then a tiny run end to end.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { AirbenchNet, initWhitening, patchCovariance } from "../src/models/airbench_net.js";
import { AirbenchLoader, emaDecay, imageSetFromHWC, LookaheadState, lrFactor, makeOptimizer, normalize, trainAirbench94, AIRBENCH94 } from "../src/recipes/airbench94.js";
import { syntheticArrays } from "../src/cli/synthetic.js";
import { assertClose, values } from "./helpers/compare.js";
import { chirp, det, golden } from "./helpers/airbench_golden.js";

const G = golden.airbench_net;

function goldenNet(): AirbenchNet {
  const net = new AirbenchNet(G.widths).double();
  const sd: Record<string, torch.Tensor> = {};
  for (const [k, v] of Object.entries(G.state)) sd[k] = torch.tensor(v, { dtype: torch.float64 }).reshape(G.shapes[k]!);
  const r = net.loadStateDict(sd, { strict: false });
  assert.deepEqual(r.missingKeys.filter((k) => !k.endsWith("num_batches_tracked")), [], "every float tensor has a PyTorch counterpart");
  return net;
}

test("the airbench net's names, frozen weights and parameter groups are PyTorch's", () => {
  const net = new AirbenchNet(G.widths);
  const floatKeys = Object.keys(net.stateDict()).filter((k) => !k.endsWith("num_batches_tracked")).sort();
  assert.deepEqual(floatKeys, Object.keys(G.state).sort());
  const opt = makeOptimizer(net, AIRBENCH94);
  assert.equal(opt.paramGroups.length, 2);
  const names = new Map(net.namedParameters().map(([k, p]) => [p, k]));
  assert.ok(opt.paramGroups[0]!.params.every((p) => /norm\d\.bias$/.test(names.get(p as never)!)), "group 0: BatchNorm biases");
  assert.ok(!opt.paramGroups[1]!.params.some((p) => /norm|^0\.weight/.test(names.get(p as never)!)), "group 1: no norm params, no whitening weight");
  assertClose([opt.paramGroups[0]!.lr / opt.paramGroups[1]!.lr], [64], { rtol: 1e-12 });
  // The whitening weight and every BatchNorm weight are frozen.
  for (const [k, p] of net.namedParameters()) assert.equal(p.requiresGrad, !(k === "0.weight" || /norm\d\.weight$/.test(k)), k);
  // dirac on the first in-channels of each 3x3 conv
  const w = values(new AirbenchNet(G.widths).stateDict()["2.conv1.weight"]!);
  assert.equal(w[(0 * 24 + 0) * 9 + 4], 1);
  assert.equal(w[(3 * 24 + 3) * 9 + 4], 1);
});

test("one airbench training step matches PyTorch: logits, summed smoothed loss, gradients, SGD step", () => {
  const net = goldenNet();
  net.train();
  const x = det(G.xshape, 1.5);
  const y = torch.tensor(G.y, { dtype: torch.int64 });
  const logits = net.forward(x);
  assertClose(values(logits), G.logits, { rtol: 1e-8, atol: 1e-10, msg: "logits" });
  const loss = torch.nn.functional.crossEntropy(logits, y, { labelSmoothing: 0.2, reduction: "none" }).sum();
  assertClose([loss.item()], [G.loss], { rtol: 1e-10 });
  const opt = makeOptimizer(net, AIRBENCH94);
  loss.backward();
  const params = new Map(net.namedParameters());
  assert.deepEqual([...params].filter(([, p]) => p.grad).map(([k]) => k).sort(), Object.keys(G.grads).sort(), "the same parameters get gradients");
  for (const [k, g] of Object.entries(G.grads)) assertClose(values(params.get(k)!.grad!), g, { rtol: 1e-7, atol: 1e-10, msg: `grad ${k}` });
  opt.step();
  const after = net.stateDict();
  for (const [k, v] of Object.entries(G.after_step)) assertClose(values(after[k]!), v, { rtol: 1e-7, atol: 1e-10, msg: `after step ${k}` });
});

test("whitening weights from a fixed image set match PyTorch (each eigenvector up to sign)", () => {
  const imgs = chirp(G.whiten_shape, 0.5);
  assertClose(Array.from(patchCovariance(imgs)), G.patch_cov, { rtol: 1e-12, atol: 1e-14 });
  const conv = new torch.nn.Conv2d(3, 24, 2, { bias: true }).double();
  const w = values(initWhitening(conv, imgs));
  assert.deepEqual(values(conv.weight), w);
  for (let r = 0; r < 12; r++) {
    const mine = w.slice(r * 12, r * 12 + 12);
    const theirs = G.whiten_weight.slice(r * 12, r * 12 + 12);
    const s = Math.sign(mine.reduce((a, x, i) => a + x * theirs[i]!, 0));
    assertClose(mine.map((x) => x * s), theirs, { rtol: 1e-6, atol: 1e-9, msg: `filter ${r}` });
    assertClose(w.slice((r + 12) * 12, (r + 13) * 12), mine.map((x) => -x), { rtol: 0, atol: 0, msg: `filter ${r + 12} = -filter ${r}` });
  }
});

test("lr schedule and EMA decay sequences are airbench's", () => {
  const s = golden.schedule;
  assertClose(Array.from({ length: s.total + 1 }, (_, i) => lrFactor(i, s.total)), s.lr_factor, { rtol: 1e-12 });
  assertClose(Array.from({ length: s.total + 1 }, (_, i) => emaDecay(i, s.total)), s.ema_decay, { rtol: 1e-6, atol: 1e-12 });
  // The scheduler the recipe builds applies the factor to both groups.
  const net = new AirbenchNet([4, 8, 8]);
  const opt = makeOptimizer(net, AIRBENCH94);
  const base = opt.paramGroups.map((g) => g.lr);
  const sched = new torch.optim.lrScheduler.LambdaLR(opt, (i) => lrFactor(i, s.total));
  for (let i = 0; i < 120; i++) sched.step();
  opt.paramGroups.forEach((g, gi) => assertClose([g.lr], [base[gi]! * s.lr_factor[120]!], { rtol: 1e-12 }));
});

test("LookaheadState: lerps params and running stats toward the net, then puts the net on the average", () => {
  const net = new AirbenchNet([4, 8, 8]);
  const la = new LookaheadState(net);
  const before = values(net.stateDict()["7.weight"]!);
  torch.noGrad(() => (net.at(7) as torch.nn.Linear).weight.add_(1));
  la.update(net, 0.25);
  assertClose(values(net.stateDict()["7.weight"]!), before.map((v) => v + 0.75), { rtol: 1e-6, atol: 1e-6 });
  la.update(net, 1);
  assertClose(values(net.stateDict()["7.weight"]!), before.map((v) => v + 0.75), { rtol: 1e-6, atol: 1e-6 });
});

test("AirbenchLoader: full batches, normalised, every image once per epoch, odd epochs mirrored", () => {
  const a = syntheticArrays(40, 0, true);
  const set = imageSetFromHWC(a.data, a.targets);
  assert.deepEqual(set.images.shape, [40, 3, 32, 32]);
  assert.equal(values(set.images)[32 * 32], a.data[1], "HWC -> CHW");
  const loader = new AirbenchLoader(set, 16, { flip: true, translate: 2 }, new torch.Generator(1));
  assert.equal(loader.length, 2);
  const batches = [...loader];
  assert.equal(batches.length, 2);
  assert.deepEqual(batches[0]![0].shape, [16, 3, 32, 32]);
  assert.equal(batches[0]![0].dtype, torch.float32);
  assert.equal(new Set(batches.flatMap(([, y]) => values(y))).size > 1, true);
  const e1 = loader.epochImages();
  assert.equal(loader.epoch, 1);
  assert.deepEqual(e1.shape, [40, 3, 32, 32]);
  assert.throws(() => new AirbenchLoader(set, 64, { flip: true, translate: 2 }, new torch.Generator(1)), /smaller than one batch of 64: lower --batch-size/);
});

test("a tiny airbench94 run on synthetic data: steps, schedule end, per-epoch stats, TTA", async () => {
  const tr = syntheticArrays(96, 0, true);
  const te = syntheticArrays(40, 0, false);
  const seen: number[] = [];
  const r = await trainAirbench94(imageSetFromHWC(tr.data, tr.targets), imageSetFromHWC(te.data, te.targets), {
    hyper: { widths: [8, 16, 16], batchSize: 32, epochs: 1.5, whitenImages: 50 },
    seed: 3,
    onEpoch: (e) => seen.push(e.epoch),
  });
  assert.equal(r.totalSteps, 5); // ceil(3 steps per epoch x 1.5)
  assert.equal(r.steps, 5);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(r.epochs[0]!.ttaValAcc, null);
  assert.ok(r.epochs.every((e) => Number.isFinite(e.trainLoss) && e.valAcc >= 0 && e.valAcc <= 1));
  assert.ok(r.ttaValAcc >= 0 && r.ttaValAcc <= 1);
  assert.equal(r.predictions.length, 40);
  assertClose([r.optimizer.paramGroups[1]!.lr / (r.optimizer.stateDict().paramGroups[1]!.initialLr as number)], [lrFactor(5, 5)], { rtol: 1e-9 });
  assert.equal(r.net.whiten.bias!.requiresGrad, true, "the whitening bias trains in the first 3 epochs");
  // The frozen whitening weights end as whitening made them: the EMA started from them, not from the random init.
  const ref = new AirbenchNet([8, 16, 16]);
  initWhitening(ref.whiten, normalize(imageSetFromHWC(tr.data, tr.targets).images.narrow(0, 0, 50)));
  assert.deepEqual(values(r.net.whiten.weight), values(ref.whiten.weight));
});
