// The whole op table on cuda:0 against the reference backend: forward and backward of every row, on contiguous and
// non-contiguous inputs moved to the GPU. One test collects every mismatch or error, so a single GPU run (the
// scarce resource: scripts/gpu-check.sh) lists all that is wrong at once. Without CUDA it is reported as skipped.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { cases, makeInputs } from "./helpers/op_cases.js";
import { compareResults, evaluateCase } from "./helpers/op_eval.js";

type Tensor = torch.Tensor;
// KINDLING_OP_TABLE_DEVICE=cpu runs this harness itself on the CPU (a check of the harness, not of a backend).
const DEVICE = process.env.KINDLING_OP_TABLE_DEVICE ?? "cuda:0";
const skip = !DEVICE.startsWith("cuda") || torch.cuda.isAvailable() ? false : `no CUDA: ${torch.cuda.unavailableReason()}`;

/** The same inputs as leaves on the GPU (same values, layout and requiresGrad). */
function onDevice(xs: Tensor[], nonContiguous: boolean): Tensor[] {
  return xs.map((x) => {
    let y = x.detach().to(DEVICE);
    // A transposed copy transposed back keeps the values and makes the GPU input strided too.
    if (nonContiguous && x.dim() >= 2 && !x.isContiguous()) y = x.detach().transpose(0, 1).contiguous().to(DEVICE).transpose(0, 1);
    return x.requiresGrad ? y.requiresGrad_(true) : y;
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
          const want = evaluateCase(c, inputs);
          const got = evaluateCase(c, onDevice(makeInputs(c, { nonContiguous }), nonContiguous));
          if (DEVICE.startsWith("cuda")) torch.cuda.synchronize();
          assert.equal(got.out.device, DEVICE, `${what}: output device`);
          compareResults(c, got, want, what, c.rtol ?? 1e-5, c.atol ?? 1e-6);
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
