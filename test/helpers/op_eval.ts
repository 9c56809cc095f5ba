// Running one op-table row and comparing two runs of it: shared by op_table (CPU backends against "ref") and
// cuda_op_table (cuda against "ref").
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assertClose, hashString, rng } from "./compare.js";
import type { OpCase } from "./op_cases.js";

type Tensor = torch.Tensor;

export interface OpResult {
  out: Tensor;
  grads: (Tensor | null)[];
}

/** Runs a row; for differentiable rows also backward of sum(out * G) with a fixed random G (on out's device). */
export function evaluateCase(c: OpCase, inputs: Tensor[]): OpResult {
  torch.manualSeed(4321);
  const out = c.fn(...inputs);
  if (c.differentiable) {
    assert.ok(out.requiresGrad, `${c.name}: output of a differentiable op does not require grad`);
    const r = rng(hashString(c.name) ^ 0x9e3779b9);
    const g = torch.tensor(Array.from({ length: out.numel() }, () => r() * 2 - 1), { dtype: out.dtype }).reshape(out.shape);
    // Same as backward of sum(out * g), without routing every row through sum's backward.
    out.backward(g.to(out.device));
  }
  return { out, grads: inputs.map((x) => (x.requiresGrad ? x.grad : null)) };
}

/** Output dtype, forward values and every input gradient of `got` against `want` (read on the host). */
export function compareResults(c: OpCase, got: OpResult, want: OpResult, what: string, rtol: number, atol: number): void {
  assert.equal(got.out.dtype, want.out.dtype, `${what}: output dtype`);
  assertClose(got.out.cpu(), want.out, { rtol, atol, msg: `${what}: forward` });
  for (let k = 0; k < want.grads.length; k++) {
    const w = want.grads[k];
    const g = got.grads[k];
    if (!w) {
      assert.equal(g, null, `${what}: grad of input ${k} should be null`);
      continue;
    }
    assert.ok(g, `${what}: missing grad of input ${k}`);
    assertClose(g.cpu(), w, { rtol, atol, msg: `${what}: grad of input ${k}` });
  }
}
