// No silent fallback: every row of the op table runs on the native backend (contiguous and non-contiguous inputs,
// forward and backward), and every kernel that fell back to the reference backend must be on the documented
// exception list (src/backends/cpu/fallbacks.ts). Also: the addon's op codes come from its own op-name lists, and
// an addon whose lists disagree with the op table is refused.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { loadAddon, opCodes, opTableMismatch } from "../src/backends/cpu/addon.js";
import { clearFallbacks, fallbacksSeen, isKnownFallback, KNOWN_FALLBACKS } from "../src/backends/cpu/fallbacks.js";
import { binaryOps } from "../src/ops/binary.js";
import { unaryOps } from "../src/ops/unary.js";
import { cases, makeInputs, type OpCase } from "./helpers/op_cases.js";

const addon = loadAddon();
const skip = addon ? false : "native addon not built";

function run(c: OpCase, nonContiguous: boolean): void {
  const inputs = makeInputs(c, { nonContiguous });
  const out = c.fn(...inputs);
  if (c.differentiable && out.requiresGrad) out.backward(torch.onesLike(out));
}

test("every op-table row runs natively, except the documented fallbacks", { skip }, () => {
  const prev = torch.backends.cpu.current();
  const unexpected: string[] = [];
  try {
    torch.backends.cpu.use("native");
    for (const c of cases) {
      if (c.todo) continue;
      for (const nc of c.contiguousOnly ? [false] : [false, true]) {
        clearFallbacks();
        run(c, nc);
        for (const f of fallbacksSeen()) {
          if (!isKnownFallback(f.kernel, f.reason)) unexpected.push(`${c.name}${nc ? " [non-contiguous]" : ""}: ${f.kernel} (${f.reason})`);
        }
      }
    }
  } finally {
    torch.backends.cpu.use(prev);
    clearFallbacks();
  }
  assert.deepEqual(unexpected, [], "kernels that fell back to the reference backend without being on KNOWN_FALLBACKS");
});

test("float32 unary, binary and comparison ops never fall back, on strided and broadcast inputs too", { skip }, () => {
  const prev = torch.backends.cpu.current();
  try {
    torch.backends.cpu.use("native");
    clearFallbacks();
    const base = torch.rand([6, 10]).add(0.5);
    const strided = base.t(); // [10, 6], non-contiguous
    const row = torch.rand([6]).add(0.5);
    for (const name of Object.keys(unaryOps) as (keyof typeof unaryOps)[]) {
      base.unary(name);
      strided.unary(name);
    }
    for (const name of Object.keys(binaryOps) as (keyof typeof binaryOps)[]) {
      base.binary(name, base);
      strided.binary(name, strided);
      strided.binary(name, row); // broadcast: stride-0 rows
    }
    // float32 with a bool mask (max/min backward): the mask is converted, not sent to the reference kernel
    const mask = strided.gt(1);
    const masked = strided.mul(mask).add(mask.t().t());
    const want = (strided.tolist() as number[][]).map((r) => r.map((v) => (v > 1 ? v + 1 : 0)));
    assert.deepEqual(masked.tolist(), want.map((r) => r.map(Math.fround)));
    assert.deepEqual(row.gt(1).mul(row).tolist(), (row.tolist() as number[]).map((v) => (v > 1 ? v : 0)));
    // casts into float tensors (dropout's bool mask, int64 targets) are one native TypedArray.set
    assert.deepEqual(torch.tensor([true, false, true]).float().tolist(), [1, 0, 1]);
    assert.deepEqual(torch.tensor([2 ** 40 + 1, -3], { dtype: torch.int64 }).to(torch.float32).tolist(), [Math.fround(2 ** 40 + 1), -3]);
    assert.deepEqual(torch.tensor([0.1]).double().tolist(), [Math.fround(0.1)]);
    assert.deepEqual(fallbacksSeen(), []);
  } finally {
    torch.backends.cpu.use(prev);
  }
});

test("fallback() records what fell back and why", { skip }, () => {
  const prev = torch.backends.cpu.current();
  try {
    torch.backends.cpu.use("native");
    clearFallbacks();
    torch.tensor([1, 2], { dtype: torch.float64 }).exp();
    torch.tensor([1, 2], { dtype: torch.int32 }).prod();
    const seen = fallbacksSeen().map((f) => `${f.kernel}: ${f.reason}`).sort();
    assert.deepEqual(seen, ["prodDim: not float32", "unary: not float32"]);
    assert.ok(KNOWN_FALLBACKS.length > 0 && KNOWN_FALLBACKS.every((k) => k.why.length > 10), "every exception says why");
  } finally {
    torch.backends.cpu.use(prev);
    clearFallbacks();
  }
});

test("a bad index still gets the reference kernel's message on the native backend", { skip }, () => {
  const prev = torch.backends.cpu.current();
  try {
    torch.backends.cpu.use("native");
    const x = torch.tensor([1, 2, 3]);
    assert.throws(() => x.indexSelect(0, torch.tensor([1, 5], { dtype: torch.int64 })), /index 5 is out of bounds for dimension of size 3/);
    assert.deepEqual(x.indexSelect(0, torch.tensor([2, 0], { dtype: torch.int64 })).tolist(), [3, 1]);
  } finally {
    torch.backends.cpu.use(prev);
  }
});

test("op codes come from the addon's own op-name lists, which match the op table", { skip }, () => {
  const n = addon!;
  assert.deepEqual([...n.unaryOps].sort(), Object.keys(unaryOps).sort());
  assert.deepEqual([...n.binaryOps].sort(), Object.keys(binaryOps).sort());
  const codes = opCodes(n);
  for (const [name, code] of Object.entries(codes.unary)) assert.equal(n.unaryOps[code], name);
  for (const [name, code] of Object.entries(codes.binary)) assert.equal(n.binaryOps[code], name);
  assert.equal(opTableMismatch(n.unaryOps, n.binaryOps), null);
});

test("an addon whose op names disagree with the op table is refused with a message naming the ops", () => {
  const u = Object.keys(unaryOps);
  const b = Object.keys(binaryOps);
  assert.equal(opTableMismatch(u, b), null);
  assert.match(opTableMismatch(u.filter((n) => n !== "sin"), b) ?? "", /lacks unary op\(s\) sin/);
  assert.match(opTableMismatch(u, [...b, "atan2"]) ?? "", /op table has no binary op\(s\) atan2/);
  assert.match(opTableMismatch(undefined, b) ?? "", /exports no unary op names/);
  assert.match(opTableMismatch([...u, "neg"], b) ?? "", /repeats a name/);
});

test("unknown op codes are an error in the addon, not some other op", { skip }, () => {
  const n = addon!;
  const x = new Float32Array(4), y = new Float32Array(4);
  assert.throws(() => n.unary(n.unaryOps.length, x, 0, y, 0, 4), /unknown unary op code/);
  assert.throws(() => n.unary(-1, x, 0, y, 0, 4), /unknown unary op code/);
  assert.throws(() => n.binary(n.binaryOps.indexOf("eq"), x, 0, x, 0, y, 0, 4), /unknown arithmetic op code/);
  const shape = Int32Array.of(4), st = Int32Array.of(1);
  assert.throws(() => n.binaryStrided(n.binaryOps.length, 1, shape, x, 0, st, x, 0, st, y, 0), /unknown/);
  assert.throws(() => n.compareStrided(n.binaryOps.indexOf("add"), 1, shape, x, 0, st, x, 0, st, new Uint8Array(4), 0), /unknown comparison op code/);
  assert.throws(() => n.unaryBackward(n.unaryOps.indexOf("exp"), x, 0, x, 0, y, 0, 4), /relu, gelu, sigmoid or tanh/);
});
