// The device model (issue 9): devices are created on first use, a tensor's storage belongs to a device object,
// values leave a device only at the sync points, `to()` moves data, Module.to() moves parameters in place, every
// op family names both devices when its inputs disagree, and the meta device runs whole training steps.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as torch from "kindling";
import { TutorialNet } from "../src/models/tutorial_net.js";
import { airbenchNet } from "../bench/models.js";

const { nn, optim } = torch;
const F = nn.functional;
const i64 = { dtype: torch.int64 };
const distSrc = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

function child(code: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", env: { ...process.env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test("importing only kindling/vision in a fresh process and doing tensor math works", () => {
  const r = child(`
    const v = await import(${JSON.stringify(join(distSrc, "vision", "index.js"))});
    const img = { width: 2, height: 2, channels: 3, data: new Uint8Array(12).fill(51) };
    const t = new v.transforms.ToTensor().forward(img);
    console.log("sum", t.mul(2).sum().item().toFixed(4));
  `);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /sum 4\.8000/);
});

test("no device is created when kindling is imported; the first tensor creates the cpu device", () => {
  const r = child(`
    const torch = await import(${JSON.stringify(join(distSrc, "index.js"))});
    const reg = await import(${JSON.stringify(join(distSrc, "backends", "registry.js"))});
    console.log("at import", JSON.stringify(reg.createdDevices()));
    torch.zeros([2]);
    console.log("after zeros", JSON.stringify(reg.createdDevices()));
    torch.zeros([2], { device: "meta" });
    console.log("after meta", JSON.stringify(reg.createdDevices()));
  `);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /at import \[\]/);
  assert.match(r.out, /after zeros \["cpu"\]/);
  assert.match(r.out, /after meta \["cpu","meta"\]/);
});

test("a storage belongs to one device object, shared by every tensor on that device", () => {
  const a = torch.zeros([2]);
  const b = torch.ones([3]).add(1);
  const m = torch.zeros([2], { device: "meta" });
  assert.equal(a.storage.device, b.storage.device);
  assert.notEqual(a.storage.device, m.storage.device);
  assert.equal(a.device, "cpu");
  assert.equal(m.device, "meta");
  assert.equal(m.storage.byteSize, 8);
  assert.equal(torch.zeros([3], { dtype: torch.float64 }).storage.byteSize, 24);
});

test("meta: shapes and dtypes without data; every sync point says so, printing shows the shape", async () => {
  const m = torch.randn([2, 3], { device: "meta" });
  const y = m.matmul(torch.ones([3, 4], { device: "meta" })).relu().sum(1);
  assert.deepEqual(y.shape, [2]);
  assert.equal(y.dtype, "float32");
  assert.equal(y.device, "meta");
  assert.equal(m.argmax(1).dtype, "int64");
  for (const f of [() => y.sum().item(), () => y.tolist(), () => y.dataSync(), () => y.toTypedArray(), () => m.T.dataSync()]) {
    assert.throws(f, /Cannot copy out of meta tensor; no data!/);
  }
  await assert.rejects(y.dataAsync(), /no data/);
  assert.equal(m.toString(), "tensor(..., device='meta', size=(2, 3))");
  assert.equal(torch.zeros([4], { device: "meta", dtype: torch.int32 }).toString(), "tensor(..., device='meta', size=(4,), dtype=torch.int32)");
});

test("dataAsync resolves to the values dataSync returns (contiguous or not)", async () => {
  const x = torch.arange(6, { dtype: torch.float32 }).reshape(2, 3);
  assert.deepEqual(Array.from(await x.dataAsync()), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(await x.T.dataAsync()), [0, 3, 1, 4, 2, 5]);
});

test("to(device) moves data: cpu -> meta keeps shape and dtype, meta -> cpu refuses, same device is a no-op", () => {
  const x = torch.arange(6).reshape(2, 3);
  assert.equal(x.to("cpu"), x);
  assert.equal(x.cpu(), x);
  const m = x.to("meta");
  assert.equal(m.device, "meta");
  assert.deepEqual(m.shape, [2, 3]);
  assert.equal(m.dtype, "int64");
  assert.equal(m.to("meta"), m);
  const md = x.T.to("meta", torch.float64);
  assert.deepEqual([md.device, md.dtype, md.shape], ["meta", "float64", [3, 2]]);
  assert.throws(() => m.to("cpu"), /Cannot copy out of meta tensor.*'meta' tensor to 'cpu'/);
  assert.throws(() => x.to("cuda:0"), /not available/);
  assert.throws(() => x.to("tpu"), /invalid device/);
  // Autograd follows a move: the gradient comes back in the source's device and dtype.
  const w = torch.ones([3], { requiresGrad: true, device: "meta" });
  w.to("meta", torch.float64).mul(2).sum().backward(torch.ones([], { device: "meta", dtype: torch.float64 }));
  assert.deepEqual([w.grad!.device, w.grad!.dtype], ["meta", "float32"]);
});

test("copy_ crosses devices (through the host), and copying out of meta names both devices", () => {
  const m = torch.zeros([3], { device: "meta" });
  m.copy_(torch.ones([3]));
  assert.equal(m.device, "meta");
  assert.throws(() => torch.zeros([3]).copy_(m), /copy_: Cannot copy out of meta tensor.*'meta' tensor to 'cpu'/);
});

const mismatch = (a: string, b: string) => new RegExp(`Expected all tensors to be on the same device, but found at least two devices, ${a} and ${b}!`);

test("every op family names both devices when its inputs disagree", () => {
  const c = torch.ones([2, 3]);
  const m = torch.ones([2, 3], { device: "meta" });
  const checks: [string, () => unknown, string, string][] = [
    ["add", () => c.add(m), "cpu", "meta"],
    ["mul (meta first)", () => m.mul(c), "meta", "cpu"],
    ["eq", () => c.eq(m), "cpu", "meta"],
    ["add_", () => c.clone().add_(m), "cpu", "meta"],
    ["where", () => torch.where(c.gt(0), c, m), "cpu", "meta"],
    ["where cond", () => torch.where(m.gt(0), c, c), "cpu", "meta"],
    ["matmul", () => c.matmul(m.T), "cpu", "meta"],
    ["mm", () => c.mm(m.T), "cpu", "meta"],
    ["bmm", () => c.unsqueeze(0).bmm(m.T.unsqueeze(0)), "cpu", "meta"],
    ["linear weight", () => F.linear(c, m), "cpu", "meta"],
    ["linear bias", () => F.linear(c, c, torch.ones([2], { device: "meta" })), "cpu", "meta"],
    ["conv2d weight", () => F.conv2d(torch.ones([1, 1, 3, 3]), torch.ones([1, 1, 2, 2], { device: "meta" })), "cpu", "meta"],
    ["conv2d bias", () => F.conv2d(torch.ones([1, 1, 3, 3]), torch.ones([1, 1, 2, 2]), torch.ones([1], { device: "meta" })), "cpu", "meta"],
    ["cat", () => torch.cat([c, m]), "cpu", "meta"],
    ["stack", () => torch.stack([c, m]), "cpu", "meta"],
    ["indexSelect", () => c.indexSelect(0, torch.tensor([0], { ...i64, device: "meta" })), "cpu", "meta"],
    ["crossEntropy", () => F.crossEntropy(c, torch.tensor([0, 1], { ...i64, device: "meta" })), "cpu", "meta"],
    ["nllLoss", () => F.nllLoss(c, torch.tensor([0, 1], { ...i64, device: "meta" })), "cpu", "meta"],
    ["CrossEntropyLoss", () => new nn.CrossEntropyLoss().forward(m, torch.tensor([0, 1], i64)), "meta", "cpu"],
    ["mseLoss", () => F.mseLoss(c, m), "cpu", "meta"],
    ["l1Loss", () => F.l1Loss(m, c), "meta", "cpu"],
    ["batchNorm running stats", () => F.batchNorm(torch.ones([2, 3]), torch.zeros([3], { device: "meta" }), torch.ones([3]), { training: true }), "cpu", "meta"],
  ];
  for (const [what, f, a, b] of checks) assert.throws(f, mismatch(a, b), what);
});

test("optimizer steps name both devices when a gradient or a state buffer is elsewhere", () => {
  const p = new nn.Parameter(torch.ones([3]));
  const sgd = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
  p.grad = torch.ones([3], { device: "meta" });
  assert.throws(() => sgd.step(), /SGD\.step: Expected all tensors to be on the same device, but found at least two devices, cpu and meta!/);
  // A momentum buffer made on the cpu, then the parameter moved to meta behind the optimizer's back.
  p.grad = torch.ones([3]);
  sgd.step();
  p.data = p.data.to("meta");
  p.grad = torch.ones([3], { device: "meta" });
  assert.throws(() => sgd.step(), /SGD\.step: .*meta and cpu!/);
  const q = new nn.Parameter(torch.ones([3]));
  const adam = new optim.Adam([q]);
  q.grad = torch.ones([3]);
  adam.step();
  q.data = q.data.to("meta");
  q.grad = torch.ones([3], { device: "meta" });
  assert.throws(() => adam.step(), /Adam\.step: .*meta and cpu!/);
});

test("loadStateDict: values follow the module's device (like PyTorch); loading meta values into cpu names both", () => {
  const cpuNet = new nn.Linear(3, 2);
  const metaNet = new nn.Linear(3, 2).to("meta");
  metaNet.loadStateDict(cpuNet.stateDict());
  assert.equal(metaNet.weight.device, "meta");
  assert.throws(() => cpuNet.loadStateDict(metaNet.stateDict()), /copy_: Cannot copy out of meta tensor.*'meta' tensor to 'cpu'/);
  // Optimizer state follows its parameter's device.
  const p = new nn.Parameter(torch.ones([3]));
  const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
  p.grad = torch.ones([3]);
  opt.step();
  const onMeta = new nn.Parameter(torch.ones([3], { device: "meta" }));
  const opt2 = new optim.SGD([onMeta], { lr: 0.1, momentum: 0.9 });
  opt2.loadStateDict(opt.stateDict());
  assert.equal((opt2.state.get(onMeta)!.momentum_buffer as torch.Tensor).device, "meta");
});

test("Module.to() changes parameters in place: an optimizer built before .to() keeps training them", () => {
  torch.manualSeed(0);
  const net = new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.Linear(3, 2));
  const before = net.parameters();
  const opt = new optim.SGD(net.parameters(), { lr: 0.5 });
  net.to(torch.float64);
  assert.deepEqual(net.parameters(), before, "the same Parameter objects");
  for (const p of net.parameters()) assert.equal(p.dtype, "float64");
  const running = net.stateDict()["1.num_batches_tracked"]!;
  assert.equal(running.dtype, "int64", "integer buffers keep their dtype");
  const w0 = before[0]!.toTypedArray().slice();
  const x = torch.randn([5, 4], { dtype: torch.float64 });
  (net.forward(x) as torch.Tensor).square().sum().backward();
  opt.step();
  const w1 = before[0]!.toTypedArray();
  assert.ok(w1 instanceof Float64Array);
  assert.ok(w1.some((v, i) => v !== w0[i]), "the optimizer updated the moved parameters");
  // And to another device: still the same objects, with their gradients moved along.
  net.to("meta");
  assert.deepEqual(net.parameters(), before);
  for (const p of net.parameters()) {
    assert.equal(p.device, "meta");
    assert.equal(p.grad!.device, "meta");
  }
  opt.zeroGrad();
  (net.forward(torch.randn([5, 4], { dtype: torch.float64, device: "meta" })) as torch.Tensor).sum().backward();
  opt.step();
  assert.equal(before[0]!.grad!.device, "meta");
});

function trainOnMeta(net: torch.nn.Module, input: number[], classes: number, makeOpt: (ps: torch.nn.Parameter[]) => torch.optim.Optimizer): void {
  net.to("meta");
  const opt = makeOpt(net.parameters());
  for (let step = 0; step < 2; step++) {
    const x = torch.randn(input, { device: "meta" });
    const y = torch.randint(0, classes, [input[0]!], { device: "meta" });
    opt.zeroGrad();
    const out = net.forward(x) as torch.Tensor;
    assert.deepEqual(out.shape, [input[0], classes]);
    assert.equal(out.device, "meta");
    const loss = new nn.CrossEntropyLoss().forward(out, y);
    assert.deepEqual(loss.shape, []);
    loss.backward();
    opt.step();
  }
  for (const [k, p] of net.namedParameters()) {
    assert.ok(p.grad, `${k} has a gradient`);
    assert.deepEqual(p.grad.shape, p.shape, `${k} gradient shape`);
    assert.equal(p.grad.device, "meta", `${k} gradient device`);
  }
}

test("meta: the tutorial net trains (forward, backward, SGD with momentum)", () => {
  trainOnMeta(new TutorialNet(), [4, 3, 32, 32], 10, (ps) => new optim.SGD(ps, { lr: 0.001, momentum: 0.9 }));
});

test("meta: the airbench-shaped net trains at batch 128 (BatchNorm, GELU, Adam)", () => {
  trainOnMeta(airbenchNet(), [128, 3, 32, 32], 10, (ps) => new optim.AdamW(ps, { lr: 1e-3 }));
});

test("release(): a released cpu storage goes back to the pool and refuses later reads instead of showing reused memory", () => {
  const t = torch.ones([256]).add(1);
  assert.equal(t.storage.recyclable, true);
  t.storage.release();
  assert.equal(t.storage.size, 0);
  for (const f of [() => t.dataSync(), () => t.toTypedArray(), () => t.tolist(), () => t.at(0).item()]) assert.throws(f, /released/);
  // The next allocation of that size may reuse the memory: the released tensor must not see it.
  const u = torch.full([256], 7);
  assert.equal(u.dataSync()[0], 7);
  assert.throws(() => t.at(0).item(), /released/);
});

test("memoryStats: meta counts what its tensors would take and holds nothing; cpu counts what it hands out", () => {
  const m0 = torch.backends.memoryStats("meta").allocatedBytes;
  torch.zeros([1000], { device: "meta" });
  const m1 = torch.backends.memoryStats("meta");
  assert.equal(m1.allocatedBytes - m0, 4000);
  assert.equal(m1.inUseBytes, 0);
  const c0 = torch.backends.memoryStats().allocatedBytes;
  const keep = torch.zeros([1 << 16]);
  const c1 = torch.backends.memoryStats();
  assert.ok(c1.allocatedBytes - c0 >= keep.numel() * 4);
  assert.ok(c1.inUseBytes > 0 && c1.peakBytes >= c1.inUseBytes);
  torch.backends.synchronize("meta");
  torch.backends.synchronize();
});
