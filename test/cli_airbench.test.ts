// `kindling train --recipe airbench94` end to end on a tiny synthetic set: the table, the summary, the run directory,
// and the refusals of tutorial-only options.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readCheckpoint } from "../src/io/checkpoint.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(root, "bin", "kindling.js");

function kindling(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-airbench-"));
const TINY = ["train", "--recipe", "airbench94", "--dataset", "synthetic", "--train-size", "64", "--test-size", "20", "--batch-size", "32", "--seed", "7"];

test("train --recipe airbench94 --runs 2: per-epoch table, mean ± std, checkpoint, model, metrics and report", () => {
  const out = path.join(tmp, "run");
  const r = kindling([...TINY, "--epochs", "1.5", "--runs", "2", "--out", out, "--json", "--no-progress"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.recipe, "airbench94");
  assert.deepEqual(s.seeds, [7, 8]);
  assert.equal(s.runs.length, 2);
  for (const run of s.runs) {
    assert.equal(run.steps, 3); // ceil(2 steps per epoch x 1.5)
    assert.equal(run.epochs.length, 2);
    assert.ok(run.ttaValAcc >= 0 && run.ttaValAcc <= 1);
  }
  const accs = s.runs.map((x: { ttaValAcc: number }) => x.ttaValAcc);
  const mean = (accs[0] + accs[1]) / 2;
  assert.ok(Math.abs(s.ttaValAcc.mean - mean) < 1e-12);
  assert.ok(Math.abs(s.ttaValAcc.std - Math.abs(accs[0] - accs[1]) / Math.SQRT2) < 1e-12, "sample standard deviation");
  assert.match(r.stderr, /\|\s+run \|\s+epoch \|\s+train_loss \|\s+train_acc \|\s+val_acc \|\s+tta_val_acc \|\s+seconds \|/);
  assert.match(r.stderr, /\|\s+2 \|\s+2 \|\s+\d+\.\d{4} \|/);
  assert.match(r.stderr, /TTA val accuracy: \d+\.\d\d % ± \d+\.\d\d over 2 runs/);
  for (const f of ["checkpoint.safetensors", "model.safetensors", "metrics.jsonl", "report.html"]) assert.ok(fs.existsSync(path.join(out, f)), f);
  const ck = readCheckpoint(path.join(out, "checkpoint.safetensors"));
  assert.equal(ck.extra.recipe, "airbench94");
  assert.ok("2.norm1.bias" in ck.tensors && "0.weight" in ck.tensors);
  const recs = fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(recs.filter((x) => x.type === "epoch").length, 4);
  assert.equal(recs[recs.length - 1].type, "summary");
});

test("train --recipe airbench94 refuses what does not apply, and a training set smaller than a batch", () => {
  const a = kindling([...TINY, "--lr", "0.1", "--out", path.join(tmp, "x")]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--lr does not apply to --recipe airbench94/);
  const b = kindling(["train", "--dataset", "synthetic", "--runs", "2", "--out", path.join(tmp, "y")]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--runs is for --recipe airbench94/);
  const d = kindling(["train", "--dataset", "synthetic", "--epochs", "1.5", "--out", path.join(tmp, "w")]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /--epochs expects an integer of at least 1, got 1.5/);
  const c = kindling([...TINY, "--batch-size", "128", "--out", path.join(tmp, "z")]);
  assert.notEqual(c.code, 0);
  assert.match(c.stderr, /smaller than one batch of 128: lower --batch-size/);
});
