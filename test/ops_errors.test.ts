// The issue-14 ops' errors and edge behaviour: PyTorch's dtype and shape rules, the meta device (shapes without
// data), amax/amin splitting the gradient among ties, and a cumprod / scan that handles zeros and long rows.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";

const long = (v: number[]) => torch.tensor(v, { dtype: torch.int64 });
const f32 = (v: number[]) => torch.tensor(v);

test("gather / scatter reject wrong index dtypes, ranks and sizes", () => {
  const x = torch.zeros([3, 4]);
  assert.throws(() => x.gather(1, torch.tensor([[0, 1]], { dtype: torch.int32 })), /gather: Expected dtype int64 for index, got int32/);
  assert.throws(() => x.gather(1, long([0, 1])), /same number of dimensions/);
  assert.throws(() => x.gather(0, long([0, 1, 1, 1, 1]).reshape([1, 5])), /Size does not match at dimension 1/);
  assert.throws(() => x.gather(2, long([0]).reshape([1, 1])), /dim|Dimension out of range/i);
  assert.throws(() => x.gather(1, long([4]).reshape([1, 1])), /index 4 is out of bounds for dimension 1 with size 4/);
  assert.throws(() => x.scatter(0, long([0]).reshape([1, 1]), torch.zeros([1, 1], { dtype: torch.float64 })), /Expected self.dtype to be equal to src.dtype/);
  assert.throws(() => x.scatterAdd(0, long([0, 0]).reshape([1, 2]), torch.zeros([1, 1])), /smaller than src/);
  assert.throws(() => x.indexPut_([f32([0])], 1), /tensors used as indices must be long, int, byte or bool tensors/);
  assert.throws(() => x.take(long([12])), /out of bounds/);
});

test("sorting ops check k and dims", () => {
  const x = torch.rand([2, 3]);
  assert.throws(() => x.topk(4), /topk: selected index k out of range: k = 4/);
  assert.throws(() => x.kthvalue(0), /kthvalue: selected number k out of range/);
  assert.throws(() => x.sort(2), /Dimension out of range|dim/i);
  assert.throws(() => torch.searchsorted(torch.tensor(1), f32([1])), /boundaries tensor should have 1 dimension or more/);
  assert.throws(() => torch.searchsorted(torch.rand([2, 3]), torch.rand([3, 1])), /same leading dims/);
  assert.throws(() => torch.searchsorted(f32([1, 2]), f32([1]), { side: "left", right: true }), /side and right can't be set to opposites/);
  assert.throws(() => x.unique({ dim: 0 }), /not supported yet/);
});

test("sort is stable, puts NaN last (first when descending), and ties in topk keep the lower index first", () => {
  const x = f32([2, NaN, 1, 2, 1]);
  assert.deepEqual(x.sort().indices.tolist(), [2, 4, 0, 3, 1]);
  assert.deepEqual(x.sort(0, { descending: true }).indices.tolist(), [1, 0, 3, 2, 4]);
  assert.deepEqual(f32([5, 7, 7, 1]).topk(2).indices.tolist(), [1, 2]);
  assert.deepEqual(torch.searchsorted(f32([1, 2, 2, 3]), f32([2]), { side: "right" }).tolist(), [3]);
  assert.deepEqual(torch.searchsorted(f32([1, 2, 2, 3]), 2, { outInt32: true }).dtype, "int32");
});

test("bitwise ops refuse floats and keep integer dtypes; logical ops return bool", () => {
  assert.throws(() => f32([1]).bitwiseAnd(f32([1])), /"bitwise_and_cpu" not implemented for 'Float'/);
  assert.throws(() => torch.tensor([1], { dtype: torch.float64 }).bitwiseNot(), /"bitwise_not_cpu" not implemented for 'Double'/);
  assert.throws(() => long([1]).bitwiseOr(0.5), /not implemented for 'Float'/);
  const u = torch.tensor([250], { dtype: torch.uint8 });
  assert.equal(u.bitwiseNot().dtype, "uint8");
  assert.deepEqual(u.bitwiseNot().tolist(), [5]);
  assert.deepEqual(torch.tensor([true, false]).bitwiseNot().tolist(), [false, true]);
  assert.equal(long([6]).bitwiseXor(torch.tensor([3], { dtype: torch.int32 })).dtype, "int64");
  assert.equal(f32([1, 0]).logicalAnd(1).dtype, "bool");
});

test("vectorNorm and norm check their dtype and options", () => {
  assert.throws(() => torch.linalg.vectorNorm(long([3, 4])), /Expected a floating point or complex tensor as input. Got Long/);
  assert.throws(() => torch.norm(f32([1]), "nuc" as "fro"), /nuclear norm/);
  assert.throws(() => f32([1, 2]).amax([0, 0]), /appears multiple times/);
  assert.throws(() => torch.zeros([0, 3]).amax(0), /Expected reduction dim 0 to have non-zero size/);
  assert.equal(torch.linalg.vectorNorm(f32([3, 4])).item(), 5);
  // the gradient of the 2-norm at 0 is 0 (PyTorch's), not NaN
  const z = torch.zeros([3], { requiresGrad: true });
  z.norm().backward();
  assert.deepEqual(z.grad!.tolist(), [0, 0, 0]);
});

test("amax / amin split the gradient evenly among ties", () => {
  const x = f32([1, 3, 3, 2]).requiresGrad_();
  x.amax().backward();
  assert.deepEqual(x.grad!.tolist(), [0, 0.5, 0.5, 0]);
  const y = torch.tensor([[1, 1], [0, 2]]).requiresGrad_();
  y.amin(1).sum().backward();
  assert.deepEqual(y.grad!.tolist(), [[0.5, 0.5], [1, 0]]);
});

test("remainder follows the divisor's sign, floorDivide rounds down; bool inputs are refused", () => {
  assert.deepEqual(f32([-3, 3, -3, 3]).remainder(f32([2, 2, -2, -2])).tolist(), [1, 1, -1, -1]);
  assert.deepEqual(long([-7, 7]).floorDivide(2).tolist(), [-4, 3]);
  assert.equal(long([-7]).floorDivide(2).dtype, "int64");
  assert.throws(() => torch.tensor([true]).remainder(torch.tensor([true])), /not implemented for 'Bool'/);
});

test("einsum reports malformed and unsupported equations clearly", () => {
  const a = torch.rand([2, 3]);
  assert.throws(() => torch.einsum("ij,jk->ik", a), /2 operand subscripts but 1 tensors/);
  assert.throws(() => torch.einsum("ijk->i", a), /has 3 letters but the operand has 2 dims/);
  assert.throws(() => torch.einsum("ij->k", a), /output subscript k does not appear/);
  assert.throws(() => torch.einsum("i1->i", a), /invalid subscript '1'/);
  assert.throws(() => torch.einsum("ii->i", a), /repeated for an operand but the sizes don't match, 2 != 3/);
  assert.throws(() => torch.einsum("ij,ij->ij", a, torch.rand([3, 3])), /do not broadcast: subscript i has sizes 2 and 3/);
  assert.throws(() => torch.einsum("ij->ii", a), /more than once/);
});

test("diag, outer, addmm check their ranks", () => {
  assert.throws(() => torch.diag(torch.rand([2, 2, 2])), /matrix or a vector expected/);
  assert.throws(() => torch.outer(torch.rand([2, 2]), torch.rand([2])), /expected 1-D tensors/);
  assert.throws(() => torch.addmm(torch.rand([5]), torch.rand([3, 4]), torch.rand([4, 2])), /addmm: input \[5\] does not broadcast/);
  // beta = 0 ignores the input's NaN
  assert.deepEqual(torch.addmm(f32([NaN, NaN]), torch.ones([1, 1]), torch.ones([1, 2]), { beta: 0 }).tolist(), [[1, 1]]);
});

test("the new ops run on the meta device (shapes and dtypes, no data); value-dependent ones say why not", () => {
  const x = torch.zeros([3, 4], { device: "meta" });
  const i = torch.zeros([3, 2], { dtype: torch.int64, device: "meta" });
  assert.deepEqual(x.gather(1, i).shape, [3, 2]);
  assert.deepEqual(x.scatterAdd(1, i, torch.zeros([3, 2], { device: "meta" })).shape, [3, 4]);
  const s = x.sort(1, { descending: true });
  assert.equal(s.indices.dtype, "int64");
  assert.deepEqual(x.topk(2).values.shape, [3, 2]);
  assert.deepEqual(x.cumprod(0).shape, [3, 4]);
  assert.equal(x.cumsum(0).device, "meta");
  assert.deepEqual(torch.einsum("ij,kj->ik", x, x).shape, [3, 3]);
  assert.deepEqual(x.logsumexp(1).shape, [3]);
  assert.deepEqual(torch.searchsorted(torch.zeros([5], { device: "meta" }), x).dtype, "int64");
  assert.deepEqual(x.long().bitwiseAnd(3).shape, [3, 4]);
  assert.throws(() => x.unique(), /meta/);
});

test("cumsum and cumprod: one scan kernel, int64 for integers, exact on long rows", () => {
  const n = 1000;
  const ones = torch.ones([n]);
  assert.equal((ones.cumsum(0).tolist() as number[])[n - 1], n);
  assert.equal(torch.ones([4], { dtype: torch.int32 }).cumprod(0).dtype, "int64");
  assert.deepEqual(torch.tensor([true, true, false]).cumsum(0).tolist(), [1, 2, 2]);
  assert.deepEqual(f32([2, 3]).cumsum(0, { dtype: torch.float64 }).dtype, "float64");
  // the gradient of cumprod through a zero (PyTorch's formula; division would give NaN)
  const x = f32([2, 0, 3]).requiresGrad_();
  x.cumprod(0).sum().backward();
  assert.deepEqual(x.grad!.tolist(), [1, 2 + 6, 0]);
});
