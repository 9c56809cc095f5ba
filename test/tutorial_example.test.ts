// Runs examples/cifar10_tutorial.ts end to end on a small, easy CIFAR-10-format set written here, and checks that
// it trains: the logged running loss falls and the test accuracy beats chance by far.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as torch from "kindling";
import { writeEasyCifar } from "./helpers/easy_cifar.js";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const example = join(here, "..", "examples", "cifar10_tutorial.js");

test("the tutorial example trains: loss falls and accuracy beats chance", { timeout: 300_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "kindling-tutorial-"));
  try {
    writeEasyCifar(root, 100);
    const { stdout } = await run(process.execPath, [example], {
      env: { ...process.env, KINDLING_DATA: root, TUTORIAL_EPOCHS: "3", TUTORIAL_LOG_EVERY: "25", TUTORIAL_OUT: root },
      maxBuffer: 1 << 24,
    });
    const losses = [...stdout.matchAll(/^\[\d, +\d+\] loss: (\d+\.\d{3})$/gm)].map((m) => Number(m[1]));
    assert.ok(losses.length >= 10, `expected the loss log every 25 mini-batches, got:\n${stdout}`);
    const first = losses.slice(0, 2).reduce((a, b) => a + b) / 2;
    const last = losses.slice(-2).reduce((a, b) => a + b) / 2;
    assert.ok(last < first * 0.8, `loss should fall by 20 %+: ${losses.join(" → ")}`);
    const acc = Number(/Accuracy of the network on the 10000 test images: (\d+) %/.exec(stdout)?.[1]);
    assert.ok(acc >= 30, `accuracy ${acc} % should beat chance (10 %) by far\n${stdout}`);
    assert.match(stdout, /^GroundTruth: +(\s*\w+){4}$/m);
    assert.match(stdout, /^Accuracy of truck : +\d+ %$/m);
    assert.match(stdout, /^Finished Training$/m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// Its last section ("Training on GPU") on cuda:0: the example picks cuda:0 when CUDA is available, prints it, moves
// the network and a test batch there and runs them. A small set and one epoch keep it quick; without CUDA it is
// reported as skipped with the reason (test/cuda_emulated runs it on the emulated driver).
const cudaSkip = torch.cuda.isAvailable() ? false : `no CUDA: ${torch.cuda.unavailableReason()}`;

test("the tutorial example's GPU section runs on cuda:0", { skip: cudaSkip, timeout: 300_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "kindling-tutorial-cuda-"));
  try {
    writeEasyCifar(root, 20);
    const { stdout } = await run(process.execPath, [example], {
      env: { ...process.env, KINDLING_DATA: root, TUTORIAL_EPOCHS: "1", TUTORIAL_LOG_EVERY: "5", TUTORIAL_OUT: root },
      maxBuffer: 1 << 24,
    });
    assert.match(stdout, /^Finished Training$/m);
    assert.match(stdout, /^cuda:0$/m, `the example should pick cuda:0:\n${stdout}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
