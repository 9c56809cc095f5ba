// The whole op table on cuda:0 against the reference backend: forward and backward of every row, on contiguous and
// non-contiguous inputs moved to the GPU. One test collects every mismatch or error, so a single GPU run (the
// scarce resource: scripts/gpu-check.sh) lists all that is wrong at once. Without CUDA it is reported as skipped.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { assertClose, hashString, rng } from "./helpers/compare.js";
import { cases, makeInputs, type OpCase } from "./helpers/op_cases.js";

type Tensor = torch.Tensor;
// KINDLING_OP_TABLE_DEVICE=cpu runs this harness itself on the CPU (a check of the harness, not of a backend).
const DEVICE = process.env.KINDLING_OP_TABLE_DEVICE ?? "cuda:0";
const skip = !DEVICE.startsWith("cuda") || torch.cuda.isAvailable() ? false : `no CUDA: ${torch.cuda.unavailableReason()}`;

interface Result {
  out: Tensor;
  grads: (Tensor | null)[];
}

function evaluate(c: OpCase, inputs: Tensor[]): Result {
  torch.manualSeed(4321);
  const out = c.fn(...inputs);
  if (c.differentiable) {
    const r = rng(hashString(c.name) ^ 0x9e3779b9);
    const g = torch.tensor(Array.from({ length: out.numel() }, () => r() * 2 - 1), { dtype: out.dtype }).reshape(out.shape);
    out.backward(g.to(out.device));
  }
  return { out, grads: inputs.map((x) => (x.requiresGrad ? x.grad : null)) };
}

/** The same inputs as leaves on the GPU (same values, layout and requiresGrad). */
function onDevice(xs: Tensor[], nonContiguous: boolean): Tensor[] {
  return xs.map((x) => {
    let y = x.detach().to(DEVICE);
    // A transposed copy transposed back keeps the values and makes the GPU input strided too.
    if (nonContiguous && x.dim() >= 2 && !x.isContiguous()) y = x.detach().transpose(0, 1).contiguous().to(DEVICE).transpose(0, 1);
    return x.requiresGrad ? y.requiresGrad_(true) : y;
  });
}

function compare(c: OpCase, got: Result, want: Result, what: string): void {
  const rtol = c.rtol ?? 1e-5;
  const atol = c.atol ?? 1e-6;
  assert.equal(got.out.device, DEVICE, `${what}: output device`);
  assert.equal(got.out.dtype, want.out.dtype, `${what}: output dtype`);
  assertClose(got.out.cpu(), want.out, { rtol, atol, msg: `${what}: forward` });
  want.grads.forEach((w, k) => {
    const g = got.grads[k];
    if (!w) return assert.equal(g, null, `${what}: grad of input ${k} should be null`);
    assert.ok(g, `${what}: missing grad of input ${k}`);
    assertClose(g.cpu(), w, { rtol, atol, msg: `${what}: grad of input ${k}` });
  });
}

test(`op table on ${DEVICE} against the reference backend (every row, forward and backward)`, { skip }, () => {
  const prev = torch.backends.cpu.current();
  const failures: string[] = [];
  try {
    for (const c of cases) {
      if (c.todo) continue;
      for (const nonContiguous of c.contiguousOnly || c.ncTodo ? [false] : [false, true]) {
        const what = `${c.family}: ${c.name}${nonContiguous ? " [non-contiguous]" : ""}`;
        try {
          torch.backends.cpu.use("ref");
          const inputs = makeInputs(c, { nonContiguous });
          const want = evaluate(c, inputs);
          const got = evaluate(c, onDevice(makeInputs(c, { nonContiguous }), nonContiguous));
          if (DEVICE.startsWith("cuda")) torch.cuda.synchronize();
          compare(c, got, want, what);
        } catch (e) {
          failures.push(`${what}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
        }
      }
    }
  } finally {
    torch.backends.cpu.use(prev);
  }
  assert.deepEqual(failures, [], `${failures.length} op-table rows fail on ${DEVICE}:\n${failures.join("\n")}`);
});
