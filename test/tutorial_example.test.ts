// Runs examples/cifar10_tutorial.ts end to end on a small, easy CIFAR-10-format set written here, and checks that
// it trains: the logged running loss falls and the test accuracy beats chance by far.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const example = join(here, "..", "examples", "cifar10_tutorial.js");

/** Records whose class decides a colour and a stripe direction, with per-pixel noise: learnable in a few hundred steps. */
function writeEasyCifar(root: string, perBatch: number, testCount: number): void {
  const dir = join(root, "cifar-10-batches-bin");
  mkdirSync(dir, { recursive: true });
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const palette = [[220, 40, 40], [40, 220, 40], [40, 40, 220], [220, 220, 40], [220, 40, 220], [40, 220, 220], [140, 140, 140], [250, 250, 250], [20, 20, 20], [200, 120, 40]];
  const records = (n: number) => {
    const buf = new Uint8Array(n * 3073);
    for (let r = 0; r < n; r++) {
      const label = Math.floor(rnd() * 10);
      buf[r * 3073] = label;
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++) {
            const stripe = (label % 2 ? x : y) % 8 < 4 ? 30 : -30;
            const v = palette[label][c] + stripe + (rnd() - 0.5) * 60;
            buf[r * 3073 + 1 + c * 1024 + y * 32 + x] = Math.max(0, Math.min(255, Math.round(v)));
          }
    }
    return buf;
  };
  for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), records(perBatch));
  writeFileSync(join(dir, "test_batch.bin"), records(testCount));
  writeFileSync(join(dir, "batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n");
}

test("the tutorial example trains: loss falls and accuracy beats chance", { timeout: 300_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "kindling-tutorial-"));
  try {
    writeEasyCifar(root, 100, 100);
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
