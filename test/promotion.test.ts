// Type promotion as PyTorch 1.13 does it (test/golden/promotion.json, from scripts/gen_golden_promotion.py): 0-dim
// tensors only widen a dimensioned operand across categories, JS numbers promote like Python scalars. Also the
// dtype rules of torch.tensor (bigint → int64), item() on bool tensors, in-place casts and integer pow.
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";

type DT = "float32" | "float64" | "int32" | "int64" | "uint8" | "bool";
interface TensorCase { a: DT; adim: number; b: DT; bdim: number; add: DT; mul: DT; div: DT; where: DT }
interface ScalarCase { a: DT; adim: number; scalar: "int" | "float" | "bool"; add: DT; mul: DT }

function golden(): { tensor: TensorCase[]; scalar: ScalarCase[] } {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "test", "golden", "promotion.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("promotion.test: test/golden/promotion.json not found above " + import.meta.url);
    dir = up;
  }
  return JSON.parse(readFileSync(join(dir, "test", "golden", "promotion.json"), "utf8"));
}

const cases = golden();
const make = (dtype: DT, ndim: number): torch.Tensor => torch.ones(ndim ? [2] : [], { dtype });
const SCALARS = { int: 2, float: 2.5, bool: true } as const;

for (const backend of ["native", "ref"] as const) {
  test(`tensor-tensor promotion matches PyTorch 1.13 (${cases.tensor.length} cases, ${backend})`, (t) => {
    if (backend === "native" && torch.backends.cpu.current() !== "native") return t.skip("no native addon");
    const before = torch.backends.cpu.current();
    torch.backends.cpu.use(backend);
    try {
      const bad: string[] = [];
      const cond = torch.tensor(true);
      for (const c of cases.tensor) {
        const x = make(c.a, c.adim), y = make(c.b, c.bdim);
        const got = { add: x.add(y), mul: x.mul(y), div: x.div(y), where: torch.where(cond, x, y) };
        for (const op of ["add", "mul", "div", "where"] as const) {
          if (got[op].dtype !== c[op]) bad.push(`${c.a}[${c.adim}d] ${op} ${c.b}[${c.bdim}d]: ${got[op].dtype}, PyTorch ${c[op]}`);
        }
        // The value survives the promotion: 1 + 1 is 2 in every result dtype but bool (true).
        const sum = got.add.reshape(-1).tolist() as (number | boolean)[];
        if (!sum.every((v) => v === (c.add === "bool" ? true : 2))) bad.push(`${c.a}+${c.b} values ${JSON.stringify(sum)}`);
      }
      assert.deepEqual(bad, []);
    } finally {
      torch.backends.cpu.use(before);
    }
  });
}

test(`tensor-scalar promotion matches PyTorch 1.13 (${cases.scalar.length} cases)`, () => {
  const bad: string[] = [];
  for (const c of cases.scalar) {
    const x = make(c.a, c.adim), v = SCALARS[c.scalar];
    if (x.add(v).dtype !== c.add) bad.push(`${c.a}[${c.adim}d] + ${c.scalar}: ${x.add(v).dtype}, PyTorch ${c.add}`);
    if (x.mul(v).dtype !== c.mul) bad.push(`${c.a}[${c.adim}d] * ${c.scalar}: ${x.mul(v).dtype}, PyTorch ${c.mul}`);
  }
  assert.deepEqual(bad, []);
});

test("the issue's cases: a 0-dim operand of the same category keeps the dimensioned dtype", () => {
  assert.equal(torch.ones([3]).add(torch.tensor(1.5, { dtype: torch.float64 })).dtype, "float32");
  assert.equal(torch.ones([3], { dtype: torch.uint8 }).add(torch.tensor(1, { dtype: torch.int64 })).dtype, "uint8");
  assert.equal(torch.ones([3], { dtype: torch.int32 }).mul(torch.tensor(7, { dtype: torch.int64 })).dtype, "int32");
  assert.equal(torch.ones([3], { dtype: torch.int32 }).add(torch.tensor(0.5)).dtype, "float32");
  // In place, the same rule keeps the fast path and the dtype.
  const x = torch.ones([2]);
  x.add_(torch.tensor(0.25, { dtype: torch.float64 }));
  assert.equal(x.dtype, "float32");
  assert.deepEqual(x.tolist(), [1.25, 1.25]);
});

test("in-place ops refuse a result dtype self can't hold, as PyTorch does", () => {
  const i = torch.tensor([1, 2], { dtype: torch.int64 });
  assert.throws(() => i.add_(1.5), /add_: result type float32 can't be cast to the desired output type int64/);
  assert.throws(() => i.mul_(torch.tensor(0.5)), /mul_: result type float32 can't be cast/);
  assert.throws(() => i.div_(2), /div_: result type float32 can't be cast/);
  assert.throws(() => torch.tensor([true]).add_(2), /result type int64 can't be cast to the desired output type bool/);
  assert.deepEqual(i.tolist(), [1, 2], "a refused op leaves self as it was");
  i.add_(3);
  assert.deepEqual(i.tolist(), [4, 5]);
});

test("torch.tensor of bigints is int64; of numbers float32; too-large bigints are refused", () => {
  assert.equal(torch.tensor([3n]).dtype, "int64");
  assert.equal(torch.tensor([[1n, 2n], [3n, 4n]]).dtype, "int64");
  assert.deepEqual(torch.tensor([3n, -4n]).tolist(), [3, -4]);
  assert.equal(torch.tensor(5n).dtype, "int64");
  assert.equal(torch.tensor([true, 2n]).dtype, "int64");
  assert.equal(torch.tensor([3n, 0.5]).dtype, "float32");
  assert.throws(() => torch.tensor([2n ** 60n]), /beyond 2\^53/);
});

test("item() and tolist() of bool tensors give booleans", () => {
  assert.equal(torch.tensor(true).item(), true);
  assert.equal(torch.tensor([false]).item(), false);
  assert.equal(torch.ones([2]).gt(0).all().item<boolean>(), true);
  assert.deepEqual(torch.tensor([true, false]).tolist(), [true, false]);
  assert.equal(torch.tensor(3, { dtype: torch.int64 }).item(), 3);
});

test("integer pow with a negative scalar exponent raises as PyTorch does", () => {
  const i = torch.tensor([1, 2], { dtype: torch.int64 });
  for (const f of [() => i.pow(-1), () => torch.tensor([true]).pow(-1), () => torch.tensor([1], { dtype: torch.int32 }).pow(-3)]) {
    assert.throws(f, /Integers to negative integer powers are not allowed/);
  }
  assert.deepEqual(i.pow(2).tolist(), [1, 4]);
  assert.equal(i.pow(-0.5).dtype, "float32");
  assert.deepEqual(torch.tensor([2, 4]).pow(-1).tolist(), [0.5, 0.25]);
});
