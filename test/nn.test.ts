// nn.Module machinery on the tutorial's Net, Sequential, BatchNorm2d, Dropout, default initialisation and printing.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assertClose, values } from "./helpers/compare.js";
import { forEachDevice } from "./helpers/devices.js";

const nn = torch.nn;
const F = torch.nn.functional;
type Tensor = torch.Tensor;

class Net extends nn.Module {
  conv1 = new nn.Conv2d(3, 6, 5);
  pool = new nn.MaxPool2d(2, 2);
  conv2 = new nn.Conv2d(6, 16, 5);
  fc1 = new nn.Linear(16 * 5 * 5, 120);
  fc2 = new nn.Linear(120, 84);
  fc3 = new nn.Linear(84, 10);

  override forward(x: Tensor): Tensor {
    x = this.pool.forward(F.relu(this.conv1.forward(x)));
    x = this.pool.forward(F.relu(this.conv2.forward(x)));
    x = torch.flatten(x, 1);
    x = F.relu(this.fc1.forward(x));
    x = F.relu(this.fc2.forward(x));
    return this.fc3.forward(x);
  }
}

const KEYS = [
  "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
  "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias",
];
const SHAPES = [[6, 3, 5, 5], [6], [16, 6, 5, 5], [16], [120, 400], [120], [84, 120], [84], [10, 84], [10]];

test("tutorial Net: stateDict keys in registration order with PyTorch's names and shapes", () => {
  const net = new Net();
  const sd = net.stateDict();
  assert.deepEqual(Object.keys(sd), KEYS);
  assert.deepEqual(Object.values(sd).map((t) => t.shape), SHAPES);
  assert.deepEqual(net.namedParameters().map(([k]) => k), KEYS);
  assert.equal(net.parameters().length, 10);
  assert.ok(net.parameters().every((p) => p.requiresGrad && p.isLeaf && p instanceof nn.Parameter));
  assert.equal(net.parameters().reduce((n, p) => n + p.numel(), 0), 62006, "the tutorial net has 62006 parameters");
  assert.equal(Object.values(sd).some((t) => t.requiresGrad), false, "stateDict values are detached");
});

test("children and modules", () => {
  const net = new Net();
  assert.deepEqual([...net.namedChildren()].map(([k]) => k), ["conv1", "pool", "conv2", "fc1", "fc2", "fc3"]);
  assert.equal(net.children().length, 6);
  const mods = net.modules();
  assert.equal(mods.length, 7);
  assert.equal(mods[0], net, "modules() starts with the module itself");
  assert.deepEqual([...net.namedModules()].map(([k]) => k), ["", "conv1", "pool", "conv2", "fc1", "fc2", "fc3"]);
  assert.ok(net.children()[1] instanceof nn.MaxPool2d);
});

forEachDevice("forward/backward of the Net: output shape and every parameter gets a gradient", (d) => {
  torch.manualSeed(0);
  const net = new Net().to(d.device);
  const x = torch.randn([2, 3, 32, 32], { device: d.device });
  const out = net.forward(x);
  assert.deepEqual(out.shape, [2, 10]);
  assert.equal(out.device, d.device);
  const loss = new nn.CrossEntropyLoss().forward(out, torch.tensor([3, 7], { dtype: torch.int64, device: d.device }));
  assert.deepEqual(loss.shape, []);
  loss.backward();
  for (const [k, p] of net.namedParameters()) {
    assert.ok(p.grad, `${k} has a grad`);
    assert.deepEqual(p.grad!.shape, p.shape, `${k} grad shape`);
    assert.equal(p.grad!.device, d.device, `${k} grad device`);
  }
  if (d.hasData) assert.ok(values(net.fc3.bias!.grad!).some((v) => v !== 0));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null), "zeroGrad sets grads to null by default");
  net.forward(x).backward(torch.ones([2, 10], { device: d.device }));
  net.zeroGrad(false);
  if (d.hasData) assert.ok(net.parameters().every((p) => p.grad && values(p.grad).every((v) => v === 0)), "zeroGrad(false) zeroes in place");
});

test("train()/eval() propagate to every submodule", () => {
  const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.Sequential(new nn.Dropout(0.5), new nn.BatchNorm2d(3)));
  assert.ok(seq.modules().every((m) => m.training));
  seq.eval();
  assert.ok(seq.modules().every((m) => !m.training), "eval reaches nested modules");
  seq.train();
  assert.ok(seq.modules().every((m) => m.training));
  seq.train(false);
  assert.ok(seq.modules().every((m) => !m.training));
  const net = new Net();
  net.eval();
  assert.ok(net.modules().every((m) => !m.training));
});

test("loadStateDict: round trip copies values (no aliasing)", () => {
  torch.manualSeed(1);
  const a = new Net();
  const b = new Net();
  assert.notDeepEqual(values(a.fc1.weight), values(b.fc1.weight));
  const sd = a.stateDict();
  const r = b.loadStateDict(sd);
  assert.deepEqual(r, { missingKeys: [], unexpectedKeys: [] });
  for (const k of KEYS) assert.deepEqual(values(b.stateDict()[k]), values(sd[k]), k);
  torch.noGrad(() => sd["fc1.bias"].fill_(123));
  assert.notEqual(values(b.fc1.bias!)[0], 123, "loaded parameters do not alias the source");
  assert.ok(b.fc1.weight.requiresGrad, "parameters still require grad after loading");
  const x = torch.randn([1, 3, 32, 32]);
  a.loadStateDict(b.stateDict());
  assertClose(a.forward(x), b.forward(x), { rtol: 0, atol: 0 });
});

test("loadStateDict strict errors: missing, unexpected, size mismatch", () => {
  const net = new Net();
  const sd = net.stateDict();
  const missing = { ...sd };
  delete missing["fc3.bias"];
  assert.throws(() => net.loadStateDict(missing), (e: Error) => {
    assert.match(e.message, /Error\(s\) in loading state_dict for Net/);
    assert.match(e.message, /Missing key\(s\) in state_dict: "fc3\.bias"\./);
    return true;
  });
  const extra = { ...sd, "fc4.weight": torch.zeros([2, 2]) };
  assert.throws(() => net.loadStateDict(extra), /Unexpected key\(s\) in state_dict: "fc4\.weight"\./);
  const wrong = { ...sd, "fc1.weight": torch.zeros([120, 300]) };
  assert.throws(
    () => net.loadStateDict(wrong),
    /size mismatch for fc1\.weight: copying a param with shape \[120, 300\] from checkpoint, the shape in current model is \[120, 400\]/,
  );
  const before = values(net.fc1.bias!);
  const both = { ...missing, "fc1.bias": torch.zeros([120]), extra: torch.zeros([1]) };
  assert.throws(() => net.loadStateDict(both), /Unexpected[\s\S]*Missing|Missing[\s\S]*Unexpected/);
  assert.deepEqual(values(net.fc1.bias!), before, "a failed strict load changes nothing");
});

test("loadStateDict strict: false loads what matches and reports the rest", () => {
  const net = new Net();
  const partial = { "fc3.bias": torch.full([10], 0.25), "head.weight": torch.zeros([1]) };
  const r = net.loadStateDict(partial, { strict: false });
  assert.deepEqual(r.unexpectedKeys, ["head.weight"]);
  assert.deepEqual(r.missingKeys, KEYS.filter((k) => k !== "fc3.bias"));
  assert.deepEqual(values(net.fc3.bias!), new Array(10).fill(0.25));
  assert.throws(() => net.loadStateDict({ "fc3.bias": torch.zeros([11]) }, { strict: false }), /size mismatch for fc3\.bias/, "shape mismatches fail even when not strict");
});

forEachDevice("Sequential: order, keys, indexing, forward", (d) => {
  torch.manualSeed(2);
  const seq = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2)).to(d.device);
  assert.deepEqual(Object.keys(seq.stateDict()), ["0.weight", "0.bias", "2.weight", "2.bias"]);
  assert.equal(seq.length, 3);
  assert.ok(seq.at(1) instanceof nn.ReLU);
  assert.ok(seq.at(-1) instanceof nn.Linear);
  const x = torch.randn([5, 4], { device: d.device });
  const l0 = seq.at(0) as InstanceType<typeof nn.Linear>;
  const l2 = seq.at(2) as InstanceType<typeof nn.Linear>;
  const want = l2.forward(l0.forward(x).relu());
  assertClose(seq.forward(x) as Tensor, want, { rtol: 0, atol: 0 });
  seq.append(new nn.Flatten());
  assert.equal(seq.length, 4);
  assert.deepEqual([...seq].map((m) => m.constructor.name), ["Linear", "ReLU", "Linear", "Flatten"]);
}, { values: true });

forEachDevice("BatchNorm2d: running stats, num_batches_tracked, eval uses running stats", (d) => {
  torch.manualSeed(3);
  const bn = new nn.BatchNorm2d(3).to(d.device);
  assert.deepEqual(Object.keys(bn.stateDict()), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
  assert.equal(bn.stateDict().num_batches_tracked.dtype, "int64");
  const x = torch.randn([4, 3, 2, 2], { device: d.device }).mul(2).add(1);
  const xv = values(x);
  const chan = (c: number) => {
    const v: number[] = [];
    for (let n = 0; n < 4; n++) for (let k = 0; k < 4; k++) v.push(xv[(n * 3 + c) * 4 + k]);
    return v;
  };
  const mean = [0, 1, 2].map((c) => chan(c).reduce((a, b) => a + b) / 16);
  const varU = [0, 1, 2].map((c) => chan(c).reduce((a, b) => a + (b - mean[c]) ** 2, 0) / 15);
  const varB = varU.map((v) => (v * 15) / 16);
  const y = bn.forward(x);
  assertClose(bn.runningMean!, mean.map((m) => 0.1 * m), { rtol: 1e-5, msg: "running_mean" });
  assertClose(bn.runningVar!, varU.map((v) => 0.9 + 0.1 * v), { rtol: 1e-5, msg: "running_var uses the unbiased variance" });
  assert.equal(bn.numBatchesTracked!.item(), 1);
  const yv = values(y);
  for (let c = 0; c < 3; c++) {
    const got = [0, 1, 2, 3].map((n) => yv[(n * 3 + c) * 4]);
    const want = [0, 1, 2, 3].map((n) => (xv[(n * 3 + c) * 4] - mean[c]) / Math.sqrt(varB[c] + 1e-5));
    assertClose(got, want, { rtol: 1e-4, atol: 1e-5, msg: "train mode normalises with batch stats" });
  }
  bn.forward(x);
  assert.equal(bn.numBatchesTracked!.item(), 2);
  assertClose(bn.runningMean!, mean.map((m) => 0.9 * 0.1 * m + 0.1 * m), { rtol: 1e-5 });

  bn.eval();
  const rm = values(bn.runningMean!);
  const rv = values(bn.runningVar!);
  const ye = values(bn.forward(x));
  assert.equal(bn.numBatchesTracked!.item(), 2, "eval does not count batches");
  assert.deepEqual(values(bn.runningMean!), rm, "eval does not update running stats");
  const want = xv.map((v, i) => (v - rm[Math.floor(i / 4) % 3]) / Math.sqrt(rv[Math.floor(i / 4) % 3] + 1e-5));
  assertClose(ye, want, { rtol: 1e-5, atol: 1e-6, msg: "eval normalises with running stats" });
  assert.throws(() => bn.forward(torch.zeros([3, 2], { device: d.device })), /BatchNorm2d.*4D/);
}, { values: true });

test("BatchNorm2d momentum=null keeps a cumulative average", () => {
  const bn = new nn.BatchNorm2d(1, { momentum: null });
  bn.forward(torch.tensor([1, 3], { dtype: torch.float32 }).reshape(2, 1, 1, 1));
  bn.forward(torch.tensor([5, 7], { dtype: torch.float32 }).reshape(2, 1, 1, 1));
  assertClose(bn.runningMean!, [(2 + 6) / 2], { msg: "mean of the two batch means" });
});

forEachDevice("Dropout: identity in eval, random in train", (dev) => {
  torch.manualSeed(4);
  const d = new nn.Dropout(0.5);
  const x = torch.randn([200], { device: dev.device });
  const yt = d.forward(x);
  assert.equal(yt.device, dev.device, "the mask is drawn on the input's device");
  if (dev.hasData) assert.ok(values(yt).some((v) => v === 0), "train mode drops");
  d.eval();
  const ye = d.forward(x);
  assert.equal(ye, x, "eval is the identity");
  assert.throws(() => new nn.Dropout(1.5), /between 0 and 1/);
});

function stats(t: Tensor): { maxAbs: number; std: number; mean: number } {
  const v = values(t);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { maxAbs: v.reduce((m, x) => Math.max(m, Math.abs(x)), 0), std, mean };
}

test("default init: kaiming-uniform(a=√5) weights and fan-in uniform bias", () => {
  torch.manualSeed(5);
  for (const [name, layer, fanIn] of [
    ["Linear(400, 120)", new nn.Linear(400, 120), 400],
    ["Linear(120, 84)", new nn.Linear(120, 84), 120],
    ["Conv2d(6, 16, 5)", new nn.Conv2d(6, 16, 5), 150],
    ["Conv2d(3, 6, 5)", new nn.Conv2d(3, 6, 5), 75],
  ] as const) {
    const bound = 1 / Math.sqrt(fanIn);
    const w = stats(layer.weight);
    assert.ok(w.maxAbs <= bound * (1 + 1e-6), `${name}: weights within ±1/sqrt(fan_in) (${w.maxAbs} vs ${bound})`);
    assert.ok(w.maxAbs > bound * 0.95, `${name}: weights fill the range (${w.maxAbs} vs ${bound})`);
    const n = layer.weight.numel();
    // The sample std of U(-b, b) is b/√3 with relative sd ~ 0.9/sqrt(n); allow 5 of them.
    const tol = 5 * 0.9 / Math.sqrt(n);
    assert.ok(Math.abs(w.std / (bound / Math.sqrt(3)) - 1) < tol, `${name}: weight std ${w.std} vs ${bound / Math.sqrt(3)}`);
    assert.ok(Math.abs(w.mean) < 5 * (bound / Math.sqrt(3)) / Math.sqrt(n), `${name}: weight mean ${w.mean}`);
    const b = stats(layer.bias!);
    assert.ok(b.maxAbs <= bound * (1 + 1e-6), `${name}: bias within ±1/sqrt(fan_in)`);
    assert.ok(new Set(values(layer.bias!)).size === layer.bias!.numel(), `${name}: bias values are random`);
  }
  const big = new nn.Linear(1000, 300);
  const b = 1 / Math.sqrt(1000);
  assert.ok(Math.abs(stats(big.weight).std / (b / Math.sqrt(3)) - 1) < 0.01, "std ≈ bound/√3 on 300k samples");
  torch.manualSeed(9);
  const a1 = values(new nn.Linear(4, 3).weight);
  torch.manualSeed(9);
  assert.deepEqual(values(new nn.Linear(4, 3).weight), a1, "manualSeed makes init reproducible");
});

test("String(net) prints like PyTorch", () => {
  const net = new Net();
  assert.equal(
    String(net),
    [
      "Net(",
      "  (conv1): Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))",
      "  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
      "  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))",
      "  (fc1): Linear(in_features=400, out_features=120, bias=True)",
      "  (fc2): Linear(in_features=120, out_features=84, bias=True)",
      "  (fc3): Linear(in_features=84, out_features=10, bias=True)",
      ")",
    ].join("\n"),
  );
  const seq = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1, bias: false }), new nn.ReLU(), new nn.Sequential(new nn.Flatten(), new nn.Dropout(0.25)));
  assert.equal(
    String(seq),
    [
      "Sequential(",
      "  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)",
      "  (1): ReLU()",
      "  (2): Sequential(",
      "    (0): Flatten(start_dim=1, end_dim=-1)",
      "    (1): Dropout(p=0.25, inplace=False)",
      "  )",
      ")",
    ].join("\n"),
  );
  assert.equal(String(new nn.Linear(3, 2, false)), "Linear(in_features=3, out_features=2, bias=False)");
});

test("String(BatchNorm2d) prints eps like Python (1e-05)", () => {
  assert.equal(String(new nn.BatchNorm2d(8)), "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
});

forEachDevice("Module.to(float64) converts parameters and buffers; forward runs in float64", (d) => {
  const seq = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2)).to(d.device);
  seq.to(torch.float64);
  for (const [k, t] of Object.entries(seq.stateDict())) {
    assert.equal(t.device, d.device, k);
    if (k.endsWith("num_batches_tracked")) assert.equal(t.dtype, "int64");
    else assert.equal(t.dtype, "float64", k);
  }
  const y = seq.forward(torch.randn([4, 3], { dtype: torch.float64, device: d.device })) as Tensor;
  assert.equal(y.dtype, "float64");
  assert.equal(y.device, d.device);
  assert.ok(seq.parameters().every((p) => p.requiresGrad));
});

forEachDevice("MaxPool2d / AvgPool2d / Flatten modules match the functional forms", (d) => {
  torch.manualSeed(6);
  const x = torch.randn([1, 2, 5, 5], { device: d.device });
  assertClose(new nn.MaxPool2d(2, 2).forward(x), F.maxPool2d(x, 2, 2), { rtol: 0, atol: 0 });
  assertClose(new nn.MaxPool2d(3, { stride: 2, padding: 1 }).forward(x), F.maxPool2d(x, 3, { stride: 2, padding: 1 }), { rtol: 0, atol: 0 });
  assertClose(new nn.AvgPool2d(2).forward(x), F.avgPool2d(x, 2), { rtol: 0, atol: 0 });
  assert.deepEqual(new nn.Flatten().forward(x).shape, [1, 50]);
  assert.deepEqual(new nn.MaxPool2d(2).forward(x).shape, [1, 2, 2, 2], "stride defaults to the kernel size");
}, { values: true });
