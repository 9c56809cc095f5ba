// Everyday Tensor API corners: a tensor's shape can't be edited through `x.shape`, `to()` takes PyTorch's keywords,
// indices must be integers, and torch.where takes JS numbers for either value.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";

test("x.shape and x.strides are frozen; size() and stride() are fresh copies", () => {
  const x = torch.zeros([2, 3]);
  assert.throws(() => (x.shape as number[]).push(4), TypeError);
  assert.throws(() => {
    (x.shape as number[])[0] = 6;
  }, TypeError);
  assert.throws(() => {
    (x.strides as number[])[0] = 1;
  }, TypeError);
  assert.deepEqual(x.shape, [2, 3]);
  const s = x.size();
  s[0] = 6;
  const st = x.stride();
  st[0] = 1;
  assert.deepEqual([x.shape, x.stride(), x.numel()], [[2, 3], [3, 1], 6]);
  // Views and `.data =` freeze their own layouts, and never freeze or keep the caller's array.
  const dims = [3, 2];
  const v = x.view(dims);
  dims[0] = 1;
  assert.deepEqual(v.shape, [3, 2]);
  assert.ok(Object.isFrozen(v.shape) && Object.isFrozen(x.T.shape) && Object.isFrozen(x.index(0).shape));
  assert.ok(!Object.isFrozen(dims));
  const p = torch.zeros([4]);
  p.data = torch.ones([2, 2]);
  assert.ok(Object.isFrozen(p.shape) && Object.isFrozen(p.strides));
});

test('to("cpu", { nonBlocking: true }) and PyTorch\'s other to() forms', () => {
  const x = torch.tensor([1.5, 2.5]);
  assert.equal(x.to("cpu", { nonBlocking: true }), x, "same device and dtype: the tensor itself, as PyTorch");
  const c = x.to("cpu", { copy: true });
  assert.notEqual(c, x);
  c.add_(1);
  assert.deepEqual(x.tolist(), [1.5, 2.5]);
  assert.equal(x.to("cpu", torch.float64, { nonBlocking: true }).dtype, "float64");
  assert.equal(x.to("cpu", { dtype: torch.int32 }).dtype, "int32");
  assert.equal(x.to(torch.tensor([1], { dtype: torch.int64 })).dtype, "int64");
  assert.equal(x.to(torch.float64, { nonBlocking: true }).dtype, "float64");
  assert.throws(() => x.to("cpu", { non_blocking: true } as unknown as torch.ToOptions), /unknown option "non_blocking"/);
});

test("at(1.5) and other fractional indices are refused with a clear error", () => {
  const x = torch.arange(6).view(3, 2);
  assert.throws(() => x.at(1.5), /select: index must be an integer, got 1.5; round it first/);
  assert.throws(() => x.index(0.5), /index must be an integer, got 0.5/);
  assert.throws(() => x.index([0.5, 2]), /slice: start must be an integer, got 0.5/);
  assert.throws(() => x.narrow(0, 0, 1.5), /narrow: length must be an integer/);
  assert.deepEqual(x.at(-1).tolist(), [4, 5]);
  assert.throws(() => x.at(3), /index 3 is out of bounds for dimension 0 with size 3/);
});

test("torch.where(c, 1.0, x) and other scalar values promote as PyTorch", () => {
  const c = torch.tensor([true, false]);
  const x = torch.tensor([7, 8]);
  assert.deepEqual(torch.where(c, 1.0, x).tolist(), [1, 8]);
  assert.equal(torch.where(c, 1.0, x).dtype, "float32");
  assert.deepEqual(torch.where(c, x, 2).tolist(), [7, 2]);
  const i = torch.tensor([1, 2], { dtype: torch.int32 });
  assert.equal(torch.where(c, i, 2.5).dtype, "float32");
  assert.equal(torch.where(c, 3, i).dtype, "int32");
  assert.equal(torch.where(c, 1, 2.5).dtype, "float32");
  assert.deepEqual(torch.where(c, 1, 2).tolist(), [1, 2]);
  assert.equal(torch.where(c, 1, 2).dtype, "int64");
  assert.equal(torch.where(c, true, false).dtype, "bool");
  // Gradients flow to the tensor operand only.
  const w = torch.tensor([1, 2], { requiresGrad: true });
  torch.where(c, 0.0, w).sum().backward();
  assert.deepEqual(w.grad!.tolist(), [0, 1]);
});
