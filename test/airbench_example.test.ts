// Runs examples/airbench94.ts end to end (narrow widths, small batches) on a small, easy CIFAR-10-format set and checks
// that it prints airbench's table and learns: the final TTA accuracy beats chance by far.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { writeEasyCifar } from "./helpers/easy_cifar.js";

const run = promisify(execFile);
const example = join(dirname(fileURLToPath(import.meta.url)), "..", "examples", "airbench94.js");

test("the airbench94 example trains and prints the per-epoch table with a final TTA accuracy", { timeout: 300_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "kindling-airbench-ex-"));
  try {
    writeEasyCifar(root, 60);
    const { stdout } = await run(process.execPath, [example], {
      env: { ...process.env, KINDLING_DATA: root, AIRBENCH_EPOCHS: "3", AIRBENCH_BATCH: "50", AIRBENCH_WIDTHS: "8,16,16", AIRBENCH_SEED: "1" },
      maxBuffer: 1 << 24,
    });
    assert.match(stdout, /^epoch {2}train_loss {2}train_acc {2}val_acc {2}tta_val_acc {2}seconds$/m);
    const rows = [...stdout.matchAll(/^ +(\d) +(\d\.\d{4}) +(\d\.\d{4}) +(\d\.\d{4}) +(\d\.\d{4})? +\d+\.\d$/gm)];
    assert.equal(rows.length, 3, stdout);
    const tta = Number(rows[2]![5]);
    assert.ok(tta >= 0.3, `final TTA accuracy ${tta} should beat chance (0.1) by far\n${stdout}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
