// Ops on cuda:0 at sizes the op table's small inputs never reach: many warps per block, many blocks, grid-stride
// loops and multi-pass reductions, forward and backward, against the CPU. A block reduction that reads shared memory
// without its barrier, for one, only shows once more than one warp holds data. Skipped without CUDA; test/cuda_emulated
// runs it on the emulated driver.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";

const F = torch.nn.functional;
const skip = torch.cuda.isAvailable() ? false : `no CUDA: ${torch.cuda.unavailableReason()}`;
type T = torch.Tensor;

/** |gpu - cpu| <= 1e-4 * (1 + |cpu|) everywhere: float32 sums in another order, not different results. */
function check(what: string, got: T, want: T, failures: string[]): void {
  const w = Array.from(want.toTypedArray(), Number), g = Array.from(got.cpu().toTypedArray(), Number);
  if (w.length !== g.length) return void failures.push(`${what}: ${g.length} values, want ${w.length}`);
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i] - w[i]) <= 1e-4 * (1 + Math.abs(w[i])))) return void failures.push(`${what}: [${i}] ${g[i]}, want ${w[i]}`);
  }
}

const forward: [string, (...xs: T[]) => T, () => T[]][] = [
  ["sum of 200k", (a) => a.sum(), () => [torch.randn([200000])]],
  ["amax, argmax of 200k", (a) => a.amax().add(a.argmax().to(a.dtype)), () => [torch.randn([200000])]],
  ["sum over dim 0 of [300, 700]", (a) => a.sum(0), () => [torch.randn([300, 700])]],
  ["sum over dim 1 of [300, 700]", (a) => a.sum(1), () => [torch.randn([300, 700])]],
  ["var over dim 1 of [64, 3000]", (a) => a.var(1), () => [torch.randn([64, 3000])]],
  ["softmax over rows of 2000", (a) => a.softmax(1), () => [torch.randn([64, 2000])]],
  ["logSoftmax over dim 0 of [900, 40]", (a) => a.logSoftmax(0), () => [torch.randn([900, 40])]],
  ["cumsum of 50k", (a) => a.cumsum(0), () => [torch.randn([50000])]],
  ["sort of 20k", (a) => a.sort().values, () => [torch.randn([20000])]],
  ["topk 40 of rows of 3000", (a) => a.topk(40, 1).values, () => [torch.randn([16, 3000])]],
  ["matmul [130, 300] x [300, 70]", (a, b) => a.matmul(b), () => [torch.randn([130, 300]), torch.randn([300, 70])]],
  ["conv2d 3x3 stride 2", (x, w) => F.conv2d(x, w, null, { padding: 1, stride: 2 }), () => [torch.randn([4, 8, 33, 33]), torch.randn([16, 8, 3, 3])]],
  ["maxPool2d 3 stride 2", (x) => F.maxPool2d(x, 3, { stride: 2 }), () => [torch.randn([4, 8, 33, 33])]],
  ["layerNorm over 1300", (x) => F.layerNorm(x, [1300]), () => [torch.randn([50, 1300])]],
  ["batchNorm over [32, 16, 20, 20]", (x) => F.batchNorm(x, null, null, { training: true }), () => [torch.randn([32, 16, 20, 20])]],
  ["crossEntropy of [3000, 100]", (x, y) => F.crossEntropy(x, y), () => [torch.randn([3000, 100]), torch.randint(0, 100, [3000])]],
  ["gather along rows of 1300", (x, i) => x.gather(1, i), () => [torch.randn([300, 1300]), torch.randint(0, 1300, [300, 500])]],
];

const backward: [string, (a: T) => T, number[]][] = [
  ["softmax", (a) => a.softmax(1).mul(a).sum(), [100, 1200]],
  ["logSoftmax", (a) => a.logSoftmax(1).sum(), [100, 1200]],
  ["maxPool2d", (a) => F.maxPool2d(a, 3, { stride: 2 }).sum(), [4, 8, 33, 33]],
  ["layerNorm", (a) => F.layerNorm(a, [1300]).mul(a).sum(), [50, 1300]],
  ["batchNorm", (a) => F.batchNorm(a, null, null, { training: true }).mul(a).sum(), [32, 16, 20, 20]],
  ["cumsum", (a) => a.cumsum(1).mul(a).sum(), [30, 5000]],
  ["var", (a) => a.var(1).sum(), [100, 3000]],
];

test("ops at large sizes on cuda:0 equal the CPU's, forward and backward", { skip }, () => {
  torch.manualSeed(3);
  const failures: string[] = [];
  for (const [what, fn, make] of forward) {
    try {
      const xs = make();
      check(what, fn(...xs.map((x) => x.to("cuda:0"))), fn(...xs), failures);
    } catch (e) {
      failures.push(`${what}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
    }
  }
  for (const [what, fn, shape] of backward) {
    try {
      const x0 = torch.randn(shape);
      const a = x0.clone().requiresGrad_(true), b = x0.to("cuda:0").requiresGrad_(true);
      fn(a).backward();
      fn(b).backward();
      check(`${what} backward`, b.grad!, a.grad!, failures);
    } catch (e) {
      failures.push(`${what} backward: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
    }
  }
  assert.deepEqual(failures, [], failures.join("\n"));
});
