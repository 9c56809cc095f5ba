// The tape: accumulation, graph lifetime, misuse errors, views, aliasing and higher-order gradients.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { values } from "./helpers/compare.js";
import { BUG_RESHAPE_0D } from "./helpers/op_cases.js";
import { assertValues, forEachDevice, type TestDevice } from "./helpers/devices.js";

type Tensor = torch.Tensor;
const f64 = torch.float64;
const leaf = (v: number[], shape?: number[]) => {
  const t = torch.tensor(v, { dtype: f64 });
  return (shape ? t.reshape(shape).detach() : t).requiresGrad_();
};
const leafOn = (d: TestDevice, v: number[]) => torch.tensor(v, { dtype: f64, device: d.device }).requiresGrad_();
const ones = (t: Tensor) => torch.onesLike(t);
/** A 0-d sum that does not go through sum()'s full-reduction backward (BUG_RESHAPE_0D is tested on its own). */
const total = (x: Tensor): Tensor => (x.dim() === 0 ? x : x.reshape(1, -1).sum(1).select(0, 0));

forEachDevice("gradients accumulate into .grad across backward calls", (d) => {
  const x = leafOn(d, [1, 2, 3]);
  const w = torch.tensor([2, -1, 0.5], { dtype: f64, device: d.device });
  x.mul(w).backward(torch.ones([3], { dtype: f64, device: d.device }));
  assertValues(d, x.grad!, [2, -1, 0.5]);
  const first = x.grad!;
  x.mul(w).mul(3).backward(torch.ones([3], { dtype: f64, device: d.device }));
  assertValues(d, x.grad!, [8, -4, 2]);
  assertValues(d, first, [8, -4, 2], "accumulates in place into the existing .grad like PyTorch");
  x.grad = null;
  x.mul(w).backward(torch.ones([3], { dtype: f64, device: d.device }));
  assertValues(d, x.grad!, [2, -1, 0.5], "after clearing .grad it starts fresh");
});

forEachDevice("second backward without retainGraph throws PyTorch's message; with retainGraph it works", (d) => {
  const x = leafOn(d, [1, 2]);
  const y = total(x.mul(x));
  y.backward();
  assert.throws(() => y.backward(), /Trying to backward through the graph a second time.*retainGraph/s);

  const a = leafOn(d, [1, 2]);
  const b = total(a.mul(a).mul(a));
  b.backward(undefined, { retainGraph: true });
  assertValues(d, a.grad!, [3, 12]);
  b.backward(undefined, { retainGraph: true });
  assertValues(d, a.grad!, [6, 24]);
  b.backward();
  assertValues(d, a.grad!, [9, 36]);
  assert.throws(() => b.backward(), /second time/);
});

forEachDevice("saved tensors are released after backward and kept with retainGraph", (d) => {
  const x = leafOn(d, [1, 2]);
  const y = x.mul(x);
  assert.ok(y.gradFn, "y has a grad_fn");
  assert.ok(y.gradFn!.saved.length > 0, "mul saves its inputs");
  y.backward(ones(y), { retainGraph: true });
  assert.ok(y.gradFn!.saved.length > 0, "retainGraph keeps them");
  y.backward(ones(y));
  assert.equal(y.gradFn!.saved.length, 0, "released after the last backward");
  assert.equal(y.gradFn!.backwardFn, null);
});

forEachDevice("backward on a non-scalar without a gradient throws; with a wrongly shaped gradient too", (d) => {
  const x = leafOn(d, [1, 2, 3]);
  const y = x.mul(2);
  assert.throws(() => y.backward(), /grad can be implicitly created only for scalar outputs/);
  assert.throws(() => y.backward(torch.ones([2], { dtype: f64, device: d.device })), /shape/);
  y.backward(torch.tensor([1, 0, 2], { dtype: f64, device: d.device }));
  assertValues(d, x.grad!, [2, 0, 4]);
});

forEachDevice("backward on a tensor that does not require grad throws", (d) => {
  const x = torch.tensor([1, 2], { device: d.device });
  assert.throws(() => total(x.mul(2)).backward(), /does not require grad/);
});

test("noGrad: nothing is recorded, mode is restored (also after a throw), enableGrad nests", () => {
  const x = leaf([1, 2]);
  const y = torch.noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  assert.equal(torch.isGradEnabled(), true);
  assert.throws(() => torch.noGrad(() => {
    throw new Error("boom");
  }), /boom/);
  assert.equal(torch.isGradEnabled(), true, "restored after a throw");
  const z = torch.noGrad(() => torch.enableGrad(() => x.mul(3)));
  assert.equal(z.requiresGrad, true, "enableGrad inside noGrad records");
  assert.equal(torch.noGrad(() => 42), 42, "noGrad returns the function's value");
  const inner = torch.noGrad(() => torch.isGradEnabled());
  assert.equal(inner, false);
});

forEachDevice("requiresGrad_ on a non-leaf throws; on an integer tensor throws", (d) => {
  const x = leafOn(d, [1, 2]);
  const y = x.mul(2);
  assert.throws(() => y.requiresGrad_(), /leaf variables/);
  assert.throws(() => torch.tensor([1, 2], { dtype: torch.int64, device: d.device }).requiresGrad_(), /floating point/);
  assert.equal(x.isLeaf, true);
  assert.equal(y.isLeaf, false);
});

forEachDevice("in-place change of a saved tensor makes backward throw (version counter)", (d) => {
  const x = leafOn(d, [1, 2, 3]);
  const a = x.mul(2);
  const b = a.mul(a); // saves a
  a.add_(1);
  assert.throws(() => b.backward(ones(b)), /modified by an inplace operation/);

  const u = leafOn(d, [0.5, 1]);
  const e = u.exp(); // saves its output
  e.mul_(2);
  assert.throws(() => e.backward(ones(e)), /modified by an inplace operation/);

  const p = leafOn(d, [1, 2]);
  const q = p.mul(p);
  torch.noGrad(() => p.add_(1)); // the leaf p was saved by mul
  assert.throws(() => q.backward(ones(q)), /inplace operation/);

  // An in-place op on a value nobody saved is fine and differentiable.
  const r = leafOn(d, [1, 2]);
  const s = r.mul(3);
  s.add_(1);
  s.mul_(2);
  s.backward(ones(s));
  assertValues(d, r.grad!, [6, 6]);
});

forEachDevice("in-place op on a leaf that requires grad throws", (d) => {
  const x = leafOn(d, [1, 2]);
  assert.throws(() => x.add_(1), /leaf Variable that requires grad/);
  assert.throws(() => x.mul_(2), /leaf Variable that requires grad/);
  torch.noGrad(() => x.add_(1)); // allowed for optimizer-style updates
  assertValues(d, x, [2, 3]);
});

test("detach shares storage, drops history", () => {
  const x = leaf([1, 2]);
  const y = x.mul(3);
  const d = y.detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.gradFn, null);
  assert.equal(d.isLeaf, true);
  torch.noGrad(() => d.fill_(7));
  assert.deepEqual(values(y), [7, 7], "detach aliases the data");
  const z = x.mul(d.add(1));
  z.backward(ones(z));
  assert.deepEqual(values(x.grad!), [8, 8], "the detached factor is a constant");
  const dx = x.detach();
  assert.equal(dx.requiresGrad, false);
  assert.equal(x.data.requiresGrad, false);
});

test("diamond graph: a tensor used twice gets both contributions", () => {
  const x = leaf([1, 2, 3]);
  const a = x.mul(2);
  const b = x.exp();
  const c = a.mul(b).add(a); // x feeds c through a (twice) and b
  c.backward(ones(c));
  const want = [1, 2, 3].map((v) => 2 * Math.exp(v) + 2 * v * Math.exp(v) + 2);
  values(x.grad!).forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12, `${g} vs ${want[i]}`));
  const y = leaf([3]);
  const yy = y.mul(y).mul(y).add(y.mul(y));
  yy.backward(ones(yy));
  assert.equal(values(y.grad!)[0], 27 + 6);
});

forEachDevice("grads of different leaves are not aliased", (d) => {
  const a = leafOn(d, [1, 2]);
  const b = leafOn(d, [3, 4]);
  const c = a.add(b);
  c.backward(ones(c));
  torch.noGrad(() => a.grad!.add_(5));
  assertValues(d, b.grad!, [1, 1], "b.grad independent of a.grad");
  assertValues(d, a.grad!, [6, 6]);

  const x = leafOn(d, [1, 2]);
  const g = torch.tensor([10, 20], { dtype: f64, device: d.device });
  x.mul(1).backward(g);
  torch.noGrad(() => x.grad!.mul_(0));
  assertValues(d, g, [10, 20], "the caller's gradient tensor is not .grad's storage");

  const y = leafOn(d, [1, 2]);
  const z = y.add(y); // the same g reaches y twice
  z.backward(ones(z));
  assertValues(d, y.grad!, [2, 2]);

  const p = leafOn(d, [1]);
  const q = leafOn(d, [2]);
  const s = p.add(q);
  s.backward(ones(s));
  s.detach();
  const r = p.add(q);
  r.backward(ones(r)); // second pass accumulates in place: must not leak into the other leaf
  assertValues(d, p.grad!, [2]);
  assertValues(d, q.grad!, [2]);
  torch.noGrad(() => p.grad!.add_(100));
  assertValues(d, q.grad!, [2]);
});

test("gradients through views, slices and indexing", () => {
  const x = leaf([0, 1, 2, 3, 4, 5], [2, 3]);
  const s = x.index(null, [1, 3]); // x[:, 1:3]
  s.backward(torch.tensor([1, 2, 3, 4], { dtype: f64 }).reshape(2, 2));
  assert.deepEqual(values(x.grad!), [0, 1, 2, 0, 3, 4]);

  const y = leaf([0, 1, 2, 3, 4, 5], [2, 3]);
  const row = y.select(0, 1);
  const col = y.index("...", -1);
  const z = torch.cat([row.mul(2), col]);
  z.backward(ones(z));
  assert.deepEqual(values(y.grad!), [0, 0, 1, 2, 2, 3]);
  // row = y[1, :] (x2), col = y[:, 2]: y[1][j] gets 2, y[i][2] gets 1 (y[1][2] gets both)

  const w = leaf([1, 2, 3, 4]);
  const picked = w.index(torch.tensor([0, 0, 3], { dtype: torch.int64 }));
  picked.backward(torch.tensor([1, 10, 100], { dtype: f64 }));
  assert.deepEqual(values(w.grad!), [11, 0, 0, 100], "repeated indices accumulate");

  const v = leaf([1, 2, 3, 4, 5, 6], [2, 3]);
  const tr = v.t().reshape(6).mul(torch.arange(6, { dtype: f64 }));
  tr.backward(ones(tr));
  // v.t() flattened is [1,4,2,5,3,6]: v[i][j] sits at position j*2+i.
  assert.deepEqual(values(v.grad!), [0, 2, 4, 1, 3, 5]);

  const n = leaf([1, 2, 3, 4, 5]);
  const nn = n.narrow(0, 1, 3).mul(n.narrow(0, 2, 3));
  nn.backward(ones(nn));
  assert.deepEqual(values(n.grad!), [0, 3, 2 + 4, 3 + 5, 4]);

  const e = leaf([1, 2]);
  const ex = e.unsqueeze(0).expand(3, 2);
  ex.backward(ones(ex));
  assert.deepEqual(values(e.grad!), [3, 3]);

  const st = leaf([1, 2, 3, 4, 5, 6], [3, 2]);
  const parts = st.chunk(3);
  const prod = parts[0].mul(parts[2]);
  prod.backward(ones(prod));
  assert.deepEqual(values(st.grad!), [5, 6, 0, 0, 1, 2]);
});

test("createGraph: d²/dx² of x³ is 6x", () => {
  const x = leaf([1, 2, -3]);
  const y = x.pow(3);
  y.backward(ones(y), { createGraph: true });
  const g = x.grad!;
  assert.deepEqual(values(g), [3, 12, 27]);
  assert.ok(g.requiresGrad, "first derivative is part of a graph");
  x.grad = null;
  g.backward(ones(g));
  assert.deepEqual(values(x.grad!), [6, 12, -18]);

  const u = leaf([0.5]);
  const v = u.mul(u).mul(u); // x³ through mul
  v.backward(ones(v), { createGraph: true });
  const gu = u.grad!;
  u.grad = null;
  gu.backward(ones(gu));
  assert.ok(Math.abs(values(u.grad!)[0] - 3) < 1e-12);
});

forEachDevice("retainGrad keeps .grad on a non-leaf", (d) => {
  const x = leafOn(d, [1, 2]);
  const y = x.mul(2);
  y.retainGrad();
  const z = y.mul(y);
  z.backward(ones(z));
  assert.ok(y.grad, "y.grad is populated");
  assertValues(d, y.grad!, [4, 8]);
});

forEachDevice("sum().backward() on a 1-D leaf", (d) => {
  const x = leafOn(d, [1, 2]);
  x.mul(x).sum().backward();
  assertValues(d, x.grad!, [2, 4]);
});

forEachDevice("grad dtype and shape follow the leaf; int inputs get no grad", (d) => {
  const x = torch.tensor([1, 2], { requiresGrad: true, device: d.device });
  const i = torch.tensor([3, 4], { dtype: torch.int32, device: d.device });
  const y = x.mul(i);
  assert.equal(y.dtype, "float32");
  y.backward(torch.ones([2], { device: d.device }));
  assert.equal(x.grad!.dtype, "float32");
  assertValues(d, x.grad!, [3, 4]);
  assert.equal(i.grad, null);
  const c = x.to(torch.float64);
  c.backward(torch.ones([2], { dtype: f64, device: d.device }));
  assert.equal(x.grad!.dtype, "float32");
  assertValues(d, x.grad!, [4, 5]);
});

forEachDevice("a branch that does not depend on a leaf leaves its .grad null", (d) => {
  const x = leafOn(d, [1, 2]);
  const w = leafOn(d, [3, 4]);
  const y = x.mul(2);
  y.backward(ones(y));
  assert.equal(w.grad, null);
  const m = torch.tensor([true, false], { device: d.device });
  const z = torch.where(m, x, w);
  z.backward(ones(z));
  assertValues(d, x.grad!, [3, 2]);
  assertValues(d, w.grad!, [0, 1]);
});

test("createGraph through ops whose backward is a kernel is refused, not silently first-order", () => {
  const x = torch.randn(1, 2, 6, 6, { requiresGrad: true });
  const w = torch.randn(3, 2, 3, 3, { requiresGrad: true });
  const y = torch.nn.functional.conv2d(x, w).square().sum();
  assert.throws(() => y.backward(undefined, { createGraph: true }), /conv2d: double backward \(createGraph: true\)/);
  const z = torch.nn.functional.conv2d(x, w).square().sum();
  z.backward();
  assert.ok(x.grad && w.grad, "plain backward still works");
});
