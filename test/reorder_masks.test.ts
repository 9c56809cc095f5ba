// flip, roll, F.pad, masks, lerp, tril/triu, cumsum beyond the op table's rows: PyTorch's errors, the meta device
// (shapes without values; data-dependent shapes refused), device mismatches, in-place rules and autograd details.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assertValues, forEachDevice } from "./helpers/devices.js";

const F = torch.nn.functional;
const f32 = (d: string, v: number[], shape: number[]) => torch.tensor(v, { device: d }).reshape(shape);
const bool = (d: string, v: number[], shape: number[]) => torch.tensor(v.map((b) => b !== 0), { device: d, dtype: torch.bool }).reshape(shape);

forEachDevice("flip, roll, pad, maskedFill, lerp, tril, cumsum on every device", (d) => {
  const x = f32(d.device, [0, 1, 2, 3, 4, 5], [2, 3]);
  assertValues(d, x.flip(1), [2, 1, 0, 5, 4, 3], "flip");
  assertValues(d, x.roll(1, 1), [2, 0, 1, 5, 3, 4], "roll");
  const p = F.pad(x.unsqueeze(0), [1, 1], { mode: "reflect" });
  assert.deepEqual(p.shape, [1, 2, 5]);
  assertValues(d, p, [1, 0, 1, 2, 1, 4, 3, 4, 5, 4], "pad reflect");
  assertValues(d, x.maskedFill(bool(d.device, [1, 0, 1], [3]), -1), [-1, 1, -1, -1, 4, -1], "maskedFill");
  assertValues(d, x.lerp(x.mul(3), 0.5), [0, 2, 4, 6, 8, 10], "lerp");
  assertValues(d, x.triu(), [0, 1, 2, 0, 4, 5], "triu");
  assertValues(d, x.cumsum(1), [0, 1, 3, 3, 7, 12], "cumsum");
  assert.equal(x.cumsum(0).dtype, "float32");
  assert.equal(torch.ones([2], { device: d.device, dtype: torch.int32 }).cumsum(0).dtype, "int64");
});

forEachDevice("ops whose output size depends on values wait for them, and fail clearly on meta", (d) => {
  const x = f32(d.device, [0, 1, 0, 3, 4, 0], [2, 3]);
  const m = x.gt(0);
  const run = {
    nonzero: () => x.nonzero(),
    where: () => torch.where(m),
    maskedSelect: () => x.maskedSelect(m),
    index: () => x.index(m),
  };
  for (const [name, f] of Object.entries(run)) {
    if (d.hasData) continue;
    assert.throws(f, (e: Error) => e.message.startsWith(`${name}:`) && /depends on the mask's values/.test(e.message) && /meta/.test(e.message), name);
  }
  if (!d.hasData) return;
  assert.deepEqual(x.nonzero().tolist(), [[0, 1], [1, 0], [1, 1]]);
  assert.deepEqual(torch.where(m).map((t) => t.tolist()), [[0, 1, 1], [1, 0, 1]]);
  assert.deepEqual(x.maskedSelect(m).tolist(), [1, 3, 4]);
  assert.deepEqual(x.index(m).tolist(), [1, 3, 4]);
  assert.deepEqual(x.index("...", bool(d.device, [0, 1, 1], [3])).tolist(), [[1, 0], [4, 0]]);
  assert.deepEqual(x.index(torch.tensor(true, { device: d.device })).shape, [1, 2, 3]);
  assert.deepEqual(x.index(torch.tensor(false, { device: d.device })).shape, [0, 2, 3]);
  assert.deepEqual(torch.zeros([2, 2], { device: d.device }).nonzero().shape, [0, 2]);
  assert.deepEqual(torch.tensor(5, { device: d.device }).nonzero().shape, [1, 0]);
});

test("mixing devices names both", () => {
  const x = torch.ones([2, 3]);
  const meta = torch.ones([2, 3], { device: "meta" });
  const both = /cpu and meta/;
  assert.throws(() => x.maskedFill(meta.gt(0), 1), both);
  assert.throws(() => x.maskedSelect(meta.gt(0)), both);
  assert.throws(() => x.index(meta.gt(0)), both);
  assert.throws(() => x.lerp(meta, 0.5), both);
  assert.throws(() => x.lerp(x, meta), both);
});

test("F.pad refuses what PyTorch refuses, with its messages", () => {
  const x = torch.zeros([2, 3, 4]);
  assert.throws(() => F.pad(x, [1, 1, 1]), /Padding length must be divisible by 2/);
  assert.throws(() => F.pad(x, [1, 1, 1, 1, 1, 1, 1, 1]), /Padding length too large/);
  assert.throws(() => F.pad(x, [4, 0], { mode: "reflect" }), /Padding size should be less than the corresponding input dimension, but got: padding \(4, 0\) at dimension 2 of input \[2, 3, 4\]/);
  assert.deepEqual(F.pad(x, [3, 0], { mode: "reflect" }).shape, [2, 3, 7]);
  assert.throws(() => F.pad(x, [5, 0], { mode: "circular" }), /wrapping around more than once/);
  assert.deepEqual(F.pad(x, [4, 0], { mode: "circular" }).shape, [2, 3, 8]);
  assert.throws(() => F.pad(torch.zeros([4]), [1, 1], { mode: "reflect" }), /Only 2D, 3D, 4D, 5D padding with non-constant padding/);
  assert.throws(() => F.pad(torch.zeros([5, 6]), [1, 1, 1, 1], { mode: "replicate" }), /needs a 3-D or 4-D input/);
  assert.throws(() => F.pad(x, [1, 1], { mode: "reflect", value: 2 }), /Padding mode "reflect" doesn't take in value argument/);
  assert.throws(() => F.pad(x, [1, 1], { mode: "wrap" as "reflect" }), /Unrecognised padding mode wrap/);
  assert.throws(() => F.pad(x, [-3, -2]), /resulted in a negative output size/);
  assert.throws(() => F.pad(torch.zeros([2, 3, 0]), [1, 1], { mode: "replicate" }), /non-empty input/);
  assert.throws(() => F.pad(torch.zeros([3, 4]), [-2, -2], { mode: "replicate" }), /too small/);
  assert.deepEqual(F.pad(x, [-2, -2]).shape, [2, 3, 0]);
  // negative padding that crops past the kept part (values from PyTorch 1.13)
  const r = torch.arange(4, { dtype: torch.float32 }).view(1, 1, 4);
  assert.deepEqual(F.pad(r, [-5, 3], { mode: "reflect" }).tolist(), [[[1, 0]]]);
  assert.deepEqual(F.pad(r, [3, -5], { mode: "reflect" }).tolist(), [[[3, 2]]]);
  assert.deepEqual(F.pad(r, [-5, 2], { mode: "replicate" }).tolist(), [[[3]]]);
  assert.deepEqual(F.pad(torch.zeros([2, 3], { dtype: torch.int64 }), [1, 0], { value: 7 }).tolist(), [[7, 0, 0, 0], [7, 0, 0, 0]]);
});

test("flip, roll, tril and cumsum refuse bad dims as PyTorch does", () => {
  const x = torch.zeros([2, 3, 4]);
  assert.throws(() => x.flip(0, 0), /dim 0 appears multiple times/);
  assert.throws(() => x.flip(3), /dimension out of range/);
  assert.throws(() => x.roll([1, 2], [0]), /shifts and dimensions must align. shifts: 2, dims:1/);
  assert.throws(() => x.roll([1, 2]), /shifts and dimensions must align. shifts: 2, dims:0/);
  assert.throws(() => torch.zeros([3]).tril(), /at least 2 dimensions/);
  assert.throws(() => x.cumsum(3), /dimension out of range/);
});

test("maskedFill and lerp check masks, values and dtypes", () => {
  const x = torch.zeros([2, 3]);
  assert.throws(() => x.maskedFill(torch.ones([2, 3], { dtype: torch.float32 }), 1), /expected BoolTensor for mask, got a float32 tensor/);
  assert.throws(() => x.maskedFill(x.gt(0), torch.ones([2])), /0-dimensional value tensor, but got tensor with 1 dimension/);
  assert.throws(() => x.maskedSelect(torch.ones([2, 3])), /expected BoolTensor or ByteTensor for mask/);
  assert.throws(() => x.index(torch.ones([3], { dtype: torch.bool })), /The shape of the mask \[3\] at index 0 does not match the shape of the indexed tensor \[2, 3\] at index 0/);
  assert.throws(() => x.index(torch.ones([2, 3], { dtype: torch.bool }), 0), /too many indices/);
  // uint8 masks are accepted (deprecated in PyTorch)
  assert.deepEqual(x.maskedFill(torch.tensor([1, 0, 1], { dtype: torch.uint8 }), 2).tolist(), [[2, 0, 2], [2, 0, 2]]);
  // the value takes the tensor's dtype
  assert.deepEqual(torch.tensor([1, 2, 3], { dtype: torch.int64 }).maskedFill(torch.tensor([true, false, true]), 2.7).tolist(), [2, 2, 2]);
  assert.throws(() => x.lerp(x.double(), 0.5), /expected dtype float32 for `end` but got dtype float64/);
  assert.throws(() => x.lerp(x, x.double()), /expected dtype float32 for `weight` but got dtype float64/);
});

test("maskedFill_ and lerp_ write in place under PyTorch's rules", () => {
  const x = torch.zeros([2, 3]);
  const v = x.storage.version;
  x.maskedFill_(torch.tensor([true, false, true]), 5);
  assert.deepEqual(x.tolist(), [[5, 0, 5], [5, 0, 5]]);
  assert.ok(x.storage.version > v, "version bumped");
  assert.throws(() => torch.zeros([3]).maskedFill_(torch.ones([2, 3], { dtype: torch.bool }), 1), /doesn't match the broadcast shape/);
  x.lerp_(torch.full([2, 3], 10), 0.5);
  assert.deepEqual(x.tolist(), [[7.5, 5, 7.5], [7.5, 5, 7.5]]);
  const leaf = torch.zeros([3], { requiresGrad: true });
  assert.throws(() => leaf.maskedFill_(torch.tensor([true, false, true]), 1), /leaf Variable that requires grad/);
  assert.throws(() => leaf.lerp_(torch.ones([3]), 0.5), /leaf Variable that requires grad/);
  torch.noGrad(() => leaf.lerp_(torch.ones([3]), 0.25));
  assert.deepEqual(leaf.tolist(), [0.25, 0.25, 0.25]);
});

test("gradients: a filled or unselected position gets none; an edge copied by padding collects every copy's", () => {
  const x = torch.tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
  const m = torch.tensor([[true, false, true], [false, false, true]]);
  x.maskedSelect(m).sum().backward();
  assert.deepEqual(x.grad!.tolist(), [[1, 0, 1], [0, 0, 1]]);
  const v = torch.tensor(0.5, { requiresGrad: true });
  x.maskedFill(m, v).sum().backward();
  assert.equal(v.grad!.item(), 3);
  const y = torch.tensor([[[1, 2, 3]]], { requiresGrad: true });
  F.pad(y, [2, 2], { mode: "replicate" }).sum().backward();
  assert.deepEqual(y.grad!.tolist(), [[[3, 1, 3]]]);
  const z = torch.tensor([[[1, 2, 3]]], { requiresGrad: true });
  F.pad(z, [2, 2], { mode: "reflect" }).sum().backward();
  assert.deepEqual(z.grad!.tolist(), [[[2, 3, 2]]]);
});
