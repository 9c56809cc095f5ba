// `kindling train --nproc-per-node 2`: the tutorial trained by two MPI ranks, rank 0 alone printing and writing.
// The two-rank run is skipped, with a message saying why, where mpirun or an MPI library is missing; the refusals
// run everywhere.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { mpiMissing } from "./helpers/mpi.js";
import { readCheckpoint } from "../src/io/checkpoint.js";
import { loadFile } from "../src/io/safetensors.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(root, "bin", "kindling.js");

function kindling(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const why = mpiMissing();
const skip = why === null ? false : `${why}; the two-process kindling train test is skipped`;
if (skip) console.log(`# ${skip}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-ddp-"));

test("train --nproc-per-node 2: one run directory, unwrapped weights, each loss line once, the data split between ranks", { skip }, () => {
  const out = path.join(tmp, "run");
  const r = kindling(["train", "--dataset", "synthetic", "--nproc-per-node", "2", "--epochs", "1", "--train-size", "64",
    "--test-size", "32", "--batch-size", "4", "--log-every", "4", "--workers", "0", "--no-progress", "--out", out]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(fs.readdirSync(tmp), ["run"]);
  for (const f of ["checkpoint.safetensors", "model.safetensors", "metrics.jsonl", "report.html"]) assert.ok(fs.existsSync(path.join(out, f)), f);
  // 64 images over 2 ranks at batch 4: 8 steps per rank, logged at steps 4 and 8, by rank 0 only.
  assert.equal(r.stdout.match(/^\[1, +4\] loss: /gm)?.length, 1, r.stdout);
  assert.equal(r.stdout.match(/^\[1, +8\] loss: /gm)?.length, 1, r.stdout);
  assert.doesNotMatch(r.stdout, /\[1, +12\]/);
  assert.equal(r.stdout.match(/^Finished Training$/gm)?.length, 1);
  assert.equal(r.stdout.match(/^Accuracy of the network on the 32 test images/gm)?.length, 1);
  const keys = Object.keys(loadFile(path.join(out, "model.safetensors")).tensors).sort();
  assert.ok(keys.includes("conv1.weight"), keys.join(", "));
  assert.ok(keys.every((k) => !k.startsWith("module.")), keys.join(", "));
  const ck = readCheckpoint(path.join(out, "checkpoint.safetensors"));
  assert.equal(ck.globalStep, 8);
  assert.ok(Object.keys(ck.tensors).every((k) => !k.includes("module.")), Object.keys(ck.tensors).join(", "));
  const records = fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string });
  assert.equal(records.filter((x) => x.type === "eval").length, 1);
  assert.equal(records.filter((x) => x.type === "epoch").length, 1);
});

test("train --nproc-per-node without mpirun: one line and exit 7, before any data is loaded", () => {
  const r = kindling(["train", "--data", path.join(tmp, "no-data"), "--nproc-per-node", "2", "--out", path.join(tmp, "never")], { PATH: path.join(tmp, "empty-path") });
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /mpirun was not found.*apt-get install openmpi-bin/);
  assert.ok(!fs.existsSync(path.join(tmp, "never")));
});

test("train --nproc-per-node 2 --resume: rank 0 reads the checkpoint, every rank continues, same weights as one straight run", { skip }, () => {
  const common = ["--dataset", "synthetic", "--nproc-per-node", "2", "--train-size", "64", "--test-size", "16", "--batch-size", "4",
    "--log-every", "4", "--workers", "0", "--no-progress", "--no-report", "--no-tensorboard", "--seed", "5"];
  const straight = path.join(tmp, "straight");
  const a = kindling(["train", ...common, "--epochs", "2", "--out", straight]);
  assert.equal(a.code, 0, a.stdout + a.stderr);
  const part = path.join(tmp, "part");
  const b = kindling(["train", ...common, "--epochs", "1", "--out", part]);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const c = kindling(["train", "--nproc-per-node", "2", "--resume", part, "--epochs", "2", "--no-progress", "--json"]);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.deepEqual(JSON.parse(c.stdout).resumedFrom, { epoch: 2, step: 0, globalStep: 8 });
  const ck = readCheckpoint(path.join(part, "checkpoint.safetensors"));
  assert.equal(ck.globalStep, 16);
  const want = loadFile(path.join(straight, "model.safetensors")).tensors;
  const got = loadFile(path.join(part, "model.safetensors")).tensors;
  for (const [k, t] of Object.entries(want)) {
    assert.deepEqual(Array.from(got[k]!.toTypedArray()), Array.from(t.toTypedArray()), `${k}: the resumed epoch used the same sampler order and state`);
  }
  // The second epoch's loss lines are the straight run's.
  const lines = (s: string) => s.split("\n").filter((l) => l.startsWith("[2,"));
  assert.deepEqual(lines(c.stderr), lines(a.stdout));
  assert.equal(lines(a.stdout).length, 2);
  // Options that contradict the checkpoint are refused once, before any rank starts.
  const d = kindling(["train", "--nproc-per-node", "2", "--resume", part, "--batch-size", "8"]);
  assert.equal(d.code, 2, d.stderr);
  assert.match(d.stderr.split("\n")[0]!, /^kindling train: --resume: the checkpoint was trained with --batch-size 4; got 8$/);
  assert.doesNotMatch(d.stderr, /rank/, "no rank was started");
});
