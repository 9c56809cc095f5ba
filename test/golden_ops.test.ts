// PyTorch 1.13's results for the ops of issue 14 (test/golden/ops.json, written by scripts/gen_golden_ops.py):
// each case's output (values, dtype, shape) and the gradients of sum(output * gradOutput), on every CPU backend and
// on inputs laid out non-contiguously.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";
import { assertClose, values } from "./helpers/compare.js";
import { nonContiguous } from "./helpers/op_cases.js";

type Tensor = torch.Tensor;

interface Enc {
  shape: number[];
  dtype: torch.DType;
  data: (number | string)[];
}
interface Case {
  name: string;
  inputs: Enc[];
  output: Enc;
  gradOutput: Enc | null;
  grads: (Enc | null)[];
}

const file = fileURLToPath(new URL("../../test/golden/ops.json", import.meta.url));
const golden = JSON.parse(readFileSync(file, "utf8")) as { cases: Case[] };
const long = (v: number[]) => torch.tensor(v, { dtype: torch.int64 });

const num = (v: number | string): number => (typeof v === "number" ? v : v === "nan" ? NaN : v === "inf" ? Infinity : -Infinity);
function decode(e: Enc): Tensor {
  return torch.tensor(e.data.map(num), { dtype: e.dtype }).reshape(e.shape);
}

const ops: Record<string, (...xs: Tensor[]) => Tensor> = {
  "gather dim1": (x, i) => torch.gather(x, 1, i),
  "gather dim0": (x, i) => x.gather(0, i),
  "scatter src dim0": (x, i, s) => x.scatter(0, i, s),
  "scatter value dim1": (x, i) => x.scatter(1, i, 2.5),
  "scatterAdd duplicates": (x, i, s) => x.scatterAdd(1, i, s),
  "take negative": (x, i) => torch.take(x, i),
  "indexPut accumulate": (x, i, v) => x.indexPut([i], v, true),
  "indexPut two indices": (x, i, j, v) => x.indexPut([i, j], v),
  "sort dim1": (x) => torch.sort(x, 1).values,
  "sort descending dim0 indices": (x) => torch.sort(x, 0, { descending: true }).indices,
  "sort descending values": (x) => x.sort(0, { descending: true }).values,
  "argsort": (x) => torch.argsort(x, 1),
  "topk 2": (x) => torch.topk(x, 2).values,
  "topk 2 indices": (x) => x.topk(2).indices,
  "topk smallest dim0": (x) => x.topk(3, 0, { largest: false }).values,
  "kthvalue keepdim": (x) => torch.kthvalue(x, 2, 1, { keepdim: true }).values,
  "kthvalue indices": (x) => x.kthvalue(4, 1).indices,
  "unique": (x) => torch.unique(x),
  "unique inverse": (x) => (torch.unique(x, { returnInverse: true }) as Tensor[])[1],
  "unique counts": (x) => (x.unique({ returnCounts: true }) as Tensor[])[1],
  "searchsorted": (s, v) => torch.searchsorted(s, v),
  "searchsorted right": (s, v) => torch.searchsorted(s, v, { right: true }),
  "searchsorted 2-D": (s, v) => torch.searchsorted(s, v),
  "cumprod dim1": (x) => torch.cumprod(x, 1),
  "cumprod with zeros": (x) => x.cumprod(1),
  "cumsum dim0": (x) => torch.cumsum(x, 0),
  "cumsum int": (x) => x.cumsum(1),
  "logsumexp dim1": (x) => torch.logsumexp(x, 1),
  "logsumexp dims keepdim": (x) => x.logsumexp([0, 2], { keepdim: true }),
  "norm fro": (x) => torch.norm(x),
  "norm p1 dim": (x) => x.norm(1, 1),
  "vectorNorm inf": (x) => torch.linalg.vectorNorm(x, Infinity),
  "vectorNorm -inf dim0": (x) => torch.linalg.vectorNorm(x, -Infinity, { dim: 0 }),
  "vectorNorm 3 keepdim": (x) => torch.linalg.vectorNorm(x, 3, { dim: [0, 1], keepdim: true }),
  "vectorNorm 0": (x) => torch.linalg.vectorNorm(x, 0, { dim: 1 }),
  "vectorNorm 2 zero row": (x) => torch.linalg.vectorNorm(x, 2, { dim: 1 }),
  "remainder tensor": (a, b) => torch.remainder(a, b),
  "remainder scalar": (a) => a.remainder(-1.25),
  "remainder int": (a, b) => a.remainder(b),
  "floorDivide": (a, b) => torch.floorDivide(a, b).detach(),
  "floorDivide int": (a, b) => a.floorDivide(b),
  "isnan": (x) => torch.isnan(x),
  "isinf": (x) => x.isinf(),
  "isfinite": (x) => x.isfinite(),
  "nanToNum": (x) => torch.nanToNum(x),
  "nanToNum values": (x) => x.nanToNum(0.5, 9, -9),
  "logicalAnd": (a, b) => torch.logicalAnd(a, b),
  "logicalOr": (a, b) => a.logicalOr(b),
  "logicalXor": (a, b) => a.logicalXor(b),
  "logicalNot": (a) => torch.logicalNot(a),
  "bitwiseAnd int32": (a, b) => torch.bitwiseAnd(a, b),
  "bitwiseOr int64": (a, b) => a.bitwiseOr(b),
  "bitwiseXor uint8": (a, b) => a.bitwiseXor(b),
  "bitwiseNot int64": (a) => torch.bitwiseNot(a),
  "bitwiseAnd bool": (a, b) => a.bitwiseAnd(b),
  "diag 1-D k=1": (x) => torch.diag(x, 1),
  "diag 2-D k=-1": (x) => x.diag(-1),
  "diag 2-D k=2": (x) => x.diag(2),
  "outer": (a, b) => torch.outer(a, b),
  "einsum matmul": (a, b) => torch.einsum("ij,jk->ik", a, b),
  "einsum batched": (a, b) => torch.einsum("bij,bjk->bik", a, b),
  "einsum transpose": (a) => torch.einsum("ij->ji", a),
  "einsum trace": (a) => torch.einsum("ii", a),
  "einsum diagonal": (a) => torch.einsum("ii->i", a),
  "einsum outer": (a, b) => torch.einsum("i,j->ij", a, b),
  "einsum sum axes": (a) => torch.einsum("ijk->j", a),
  "einsum implicit": (a, b) => torch.einsum("ij,jk", a, b),
  "einsum ellipsis": (a, b) => torch.einsum("...ij,jk->...ik", a, b),
  "einsum dot rows": (a, b) => torch.einsum("bi,bi->b", [a, b]),
  "einsum chain": (a, b, c) => torch.einsum("ij,jk,kl->il", a, b, c),
  "amax dims keepdim": (x) => torch.amax(x, [0, 2], { keepdim: true }),
  "amin dim1": (x) => x.amin(1),
  "amax ties": (x) => x.amax(1),
  "amin all ties": (x) => x.amin(),
  "addmm": (i, a, b) => torch.addmm(i, a, b, { beta: 0.5, alpha: 2 }),
  "addmm broadcast bias": (i, a, b) => i.addmm(a, b),
  "baddbmm": (i, a, b) => torch.baddbmm(i, a, b, { beta: -1, alpha: 0.5 }),
};

test("every golden case has a kindling counterpart and vice versa", () => {
  assert.deepEqual(golden.cases.map((c) => c.name).sort(), Object.keys(ops).sort());
  assert.ok(golden.cases.length >= 70);
});

function run(c: Case, layout: "contiguous" | "strided", device = "cpu"): void {
  const inputs = c.inputs.map((e) => {
    let x = decode(e).to(device);
    if (layout === "strided") x = nonContiguous(x);
    const float = e.dtype === "float32" || e.dtype === "float64";
    if (float && c.gradOutput && x.dtype === "float32" && values(x).every(Number.isFinite)) x.requiresGrad_(true);
    return x;
  });
  const out = ops[c.name](...inputs);
  const want = decode(c.output);
  assert.equal(out.device, device, `${c.name}: output device`);
  assert.equal(out.dtype, want.dtype, `${c.name}: dtype`);
  assert.deepEqual(out.shape, want.shape, `${c.name}: shape`);
  assertClose(values(out), values(want), { rtol: 1e-5, atol: 1e-5, msg: `${c.name}: output` });
  if (!c.gradOutput) return;
  assert.ok(out.requiresGrad, `${c.name}: output should require grad`);
  out.backward(decode(c.gradOutput).to(device));
  c.grads.forEach((g, k) => {
    if (!g) return;
    assert.ok(inputs[k].grad, `${c.name}: input ${k} got no gradient`);
    assert.equal(inputs[k].grad!.device, device, `${c.name}: grad of input ${k}: device`);
    assertClose(values(inputs[k].grad!), values(decode(g)), { rtol: 1e-5, atol: 1e-5, msg: `${c.name}: grad of input ${k}` });
  });
}

const backends = torch.backends.cpu.available();
for (const c of golden.cases) {
  for (const b of backends) {
    test(`golden ops: ${c.name} [${b}]`, () => {
      const prev = torch.backends.cpu.current();
      try {
        torch.backends.cpu.use(b);
        run(c, "contiguous");
        run(c, "strided");
      } finally {
        torch.backends.cpu.use(prev);
      }
    });
  }
}

// Every case on cuda:0 (inputs and gradOutput moved there, contiguous and strided), in one test that collects every
// failing case; without CUDA it is reported as skipped with the reason. test/cuda_emulated runs it emulated.
const cudaSkip = torch.cuda.isAvailable() ? false : `no CUDA: ${torch.cuda.unavailableReason()}`;
test("golden ops: every case on cuda:0, contiguous and strided", { skip: cudaSkip }, () => {
  const failures: string[] = [];
  for (const c of golden.cases) {
    for (const layout of ["contiguous", "strided"] as const) {
      try {
        run(c, layout, "cuda:0");
      } catch (e) {
        failures.push(`${c.name} [${layout}]: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
      }
    }
  }
  assert.deepEqual(failures, [], `${failures.length} golden ops fail on cuda:0:\n${failures.join("\n")}`);
});

test("torch.equal compares shape and values", () => {
  const a = torch.tensor([[1, 2], [3, 4]]);
  assert.equal(torch.equal(a, a.clone()), true);
  assert.equal(a.equal(a.t()), false);
  assert.equal(a.equal(a.reshape([4])), false);
  assert.equal(torch.equal(long([1, 2]), long([1, 2])), true);
});
