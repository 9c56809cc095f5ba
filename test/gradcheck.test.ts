// Finite differences in float64 against autograd for every differentiable row of the op table, plus second
// derivatives (createGraph) of every differentiable unary op and a check that gradcheck itself can fail.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { binaryRules, unaryRules } from "../src/autograd/rules.js";
import { unaryOps } from "../src/ops/unary.js";
import { binaryNames, cases, makeInputs, unaryNames } from "./helpers/op_cases.js";

type Tensor = torch.Tensor;
const f64 = torch.float64;

const diff = cases.filter((c) => c.differentiable);

test("every unary/binary op with a backward rule has gradcheck rows (and none without one)", () => {
  const checked = new Set(diff.map((c) => c.op).filter(Boolean));
  for (const n of unaryNames) {
    const has = unaryRules[n] !== null;
    assert.equal(checked.has(n), has, `unary ${n}: backward ${has ? "declared but not gradchecked" : "is null but row marked differentiable"}`);
  }
  for (const n of binaryNames) {
    const has = binaryRules[n] !== null;
    assert.equal(checked.has(n), has, `binary ${n}: backward ${has ? "declared but not gradchecked" : "is null but row marked differentiable"}`);
  }
  // Every structured family of the table is represented.
  const families = new Set(diff.map((c) => c.family));
  for (const f of ["unary", "binary", "reduction", "softmax", "matmul", "linear", "conv", "pool", "loss", "norm", "dropout", "movement", "clamp", "where", "reorder", "pad", "mask", "lerp", "triangle", "scan"]) {
    assert.ok(families.has(f), `no differentiable rows for family ${f}`);
  }
});

for (const c of diff) {
  test(`gradcheck ${c.family}: ${c.name}`, { todo: c.todo }, () => {
    const inputs = makeInputs(c, { dtype: f64 });
    assert.ok(inputs.some((x) => x.requiresGrad), "row has an input that requires grad");
    for (const x of inputs) if (x.requiresGrad) assert.equal(x.dtype, "float64");
    const r = torch.autograd.gradcheck((...xs: Tensor[]) => c.fn(...xs), inputs, c.gradcheck ?? {});
    assert.ok(r.ok, `${c.name}: ${r.message} (max error ${r.maxError})`);
  });
}

test("gradcheck detects a wrong gradient", () => {
  const x = torch.tensor([0.5, -1.25, 2], { dtype: f64, requiresGrad: true });
  // d/dx (x * stopgrad(x)) is x by autograd but 2x numerically.
  const bad = torch.autograd.gradcheck((a: Tensor) => a.mul(a.detach()), [x]);
  assert.equal(bad.ok, false);
  assert.match(bad.message, /numerical/);
  const good = torch.autograd.gradcheck((a: Tensor) => a.mul(a), [x]);
  assert.equal(good.ok, true, good.message);
});

/** A fixed non-uniform upstream gradient (ones would hide softmax's second derivative: sum(softmax) is constant). */
function weights(y: Tensor): Tensor {
  return torch.linspace(0.5, 1.7, y.numel(), { dtype: y.dtype }).reshape(y.shape).to(y.device);
}

/** x ↦ d/dx sum(op(x)) computed with createGraph, so gradcheck of it checks the second derivative. */
function firstDerivative(op: (a: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x: Tensor) =>
    torch.enableGrad(() => {
      const saved = x.grad;
      x.grad = null;
      const y = op(x);
      y.backward(weights(y), { createGraph: true });
      const g = x.grad!;
      x.grad = saved;
      return g;
    });
}

for (const n of unaryNames) {
  // Piecewise-constant ops have a zero first derivative that does not depend on x: nothing to differentiate again.
  if (!unaryRules[n] || ["neg", "sign", "floor", "ceil", "round"].includes(n)) continue;
  test(`double backward (createGraph) of ${n}`, () => {
    const [lo, hi] = unaryOps[n].range;
    const x = torch.linspace(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), 7, { dtype: f64 }).add(0.0123).requiresGrad_();
    const d1 = firstDerivative((a) => a.unary(n))(x);
    assert.ok(d1.requiresGrad, `${n}: first derivative with createGraph must be differentiable`);
    const r = torch.autograd.gradcheck(firstDerivative((a) => a.unary(n)), [x]);
    // relu and abs have zero second derivative away from their kink; gradcheck still compares it.
    assert.ok(r.ok, `${n}'': ${r.message}`);
  });
}

for (const [name, fn] of [
  ["x*y (both inputs)", (a: Tensor, b: Tensor) => a.mul(b).mul(a)],
  ["pow", (a: Tensor, b: Tensor) => a.pow(b)],
  ["div", (a: Tensor, b: Tensor) => a.div(b)],
  ["matmul", (a: Tensor, b: Tensor) => a.reshape(2, 2).matmul(b.reshape(2, 2)).tanh()],
  ["softmax", (a: Tensor, b: Tensor) => a.mul(b).reshape(2, 2).softmax(1)],
  ["logSoftmax", (a: Tensor, b: Tensor) => a.add(b).reshape(2, 2).logSoftmax(1)],
] as const) {
  test(`double backward (createGraph) of ${name}`, () => {
    const a = torch.tensor([0.7, 1.3, 0.9, 1.6], { dtype: f64, requiresGrad: true });
    const b = torch.tensor([1.1, -0.4, 0.8, 0.6], { dtype: f64, requiresGrad: true });
    const grads = (x: Tensor, y: Tensor) =>
      torch.enableGrad(() => {
        const sx = x.grad;
        const sy = y.grad;
        x.grad = null;
        y.grad = null;
        const out = fn(x, y);
        out.backward(weights(out), { createGraph: true });
        const g = torch.cat([x.grad!.reshape(-1), y.grad!.reshape(-1)]);
        x.grad = sx;
        y.grad = sy;
        return g;
      });
    const r = torch.autograd.gradcheck(grads, [a, b]);
    assert.ok(r.ok, `${name}: ${r.message}`);
  });
}

// The same float64 gradcheck of every differentiable row with the inputs on cuda:0 (the finite differences probe
// the device's own kernels). One test collects every failing row, so one GPU run lists all that is wrong; without
// CUDA it is reported as skipped with the reason. test/cuda_emulated runs it on the emulated driver.
const cudaSkip = torch.cuda.isAvailable() ? false : `no CUDA: ${torch.cuda.unavailableReason()}`;

test("gradcheck in float64 of every differentiable op-table row on cuda:0", { skip: cudaSkip }, () => {
  const failures: string[] = [];
  let checked = 0;
  for (const c of diff) {
    if (c.todo) continue;
    try {
      const inputs = makeInputs(c, { dtype: f64 }).map((x) => {
        const y = x.detach().to("cuda:0");
        return x.requiresGrad ? y.requiresGrad_(true) : y;
      });
      const out = c.fn(...inputs);
      assert.equal(out.device, "cuda:0", "output device");
      const r = torch.autograd.gradcheck((...xs: Tensor[]) => c.fn(...xs), inputs, c.gradcheck ?? {});
      if (!r.ok) failures.push(`${c.family}: ${c.name}: ${r.message} (max error ${r.maxError})`);
      checked++;
    } catch (e) {
      failures.push(`${c.family}: ${c.name}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
    }
  }
  assert.ok(checked >= 100, `only ${checked} rows were checked`);
  assert.deepEqual(failures, [], `${failures.length} rows fail gradcheck on cuda:0:\n${failures.join("\n")}`);
});

test("double backward (createGraph) of every differentiable unary op in float64 on cuda:0", { skip: cudaSkip }, () => {
  const failures: string[] = [];
  for (const n of unaryNames) {
    if (!unaryRules[n] || ["neg", "sign", "floor", "ceil", "round"].includes(n)) continue;
    try {
      const [lo, hi] = unaryOps[n].range;
      const x = torch.linspace(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), 7, { dtype: f64 }).add(0.0123).to("cuda:0").requiresGrad_();
      const d1 = firstDerivative((a) => a.unary(n))(x);
      assert.equal(d1.device, "cuda:0", "first derivative's device");
      assert.ok(d1.requiresGrad, "first derivative with createGraph must be differentiable");
      const r = torch.autograd.gradcheck(firstDerivative((a) => a.unary(n)), [x]);
      if (!r.ok) failures.push(`${n}'': ${r.message}`);
    } catch (e) {
      failures.push(`${n}'': ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} second derivatives fail on cuda:0:\n${failures.join("\n")}`);
});
