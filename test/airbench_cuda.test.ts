// airbench94 on a CUDA device (issue 15's `--device cuda`): a tiny run of the whole recipe — whitening from the
// training images, the two-group Nesterov SGD, Lookahead EMA, flips and reflect-padded translations on device
// batches, TTA — on cuda:0 against the same run on the CPU. Without a GPU it runs on the emulated driver
// (test/cuda_emulated.test.ts lists this file); elsewhere it reports the cuda:0 case as skipped.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";
import { imageSetFromHWC, trainAirbench94 } from "../src/recipes/airbench94.js";
import { syntheticArrays } from "../src/cli/synthetic.js";

const skip = torch.cuda.isAvailable() ? false : `no CUDA: ${torch.cuda.unavailableReason()}`;

test("a tiny airbench94 run on cuda:0 follows the same run on the CPU [cuda:0]", { skip, timeout: 600_000 }, async () => {
  const tr = syntheticArrays(64, 0, true);
  const te = syntheticArrays(24, 0, false);
  const run = (device: string) => trainAirbench94(imageSetFromHWC(tr.data, tr.targets), imageSetFromHWC(te.data, te.targets), {
    hyper: { widths: [8, 16, 16], batchSize: 32, epochs: 2, whitenImages: 40 },
    seed: 5,
    device,
  });
  const cpu = await run("cpu");
  const gpu = await run("cuda:0");
  assert.equal(gpu.steps, cpu.steps);
  for (const [k, p] of gpu.net.namedParameters()) assert.equal(p.device, "cuda:0", k);
  // Different kernels sum in different orders, so a few large-lr steps drift apart a little: close, not equal.
  for (let e = 0; e < cpu.epochs.length; e++) {
    const [a, b] = [cpu.epochs[e]!, gpu.epochs[e]!];
    assert.ok(Math.abs(a.trainLoss - b.trainLoss) <= 1e-3 * Math.max(1, Math.abs(a.trainLoss)), `epoch ${e + 1} train loss: cpu ${a.trainLoss}, cuda ${b.trainLoss}`);
  }
  const cpuSd = cpu.net.stateDict();
  for (const [k, v] of Object.entries(gpu.net.stateDict())) {
    if (!v.dtype.startsWith("float")) continue;
    const diff = v.cpu().sub(cpuSd[k]!).abs().max().item();
    const scale = Math.max(1, cpuSd[k]!.abs().max().item());
    assert.ok(diff <= 1e-3 * scale, `${k}: max |cuda - cpu| = ${diff}`);
  }
  const agree = gpu.predictions.filter((p, i) => p === cpu.predictions[i]).length;
  assert.ok(agree >= gpu.predictions.length - 1, `TTA predictions agree on ${agree} of ${gpu.predictions.length}`);
});
