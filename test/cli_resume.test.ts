import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readCheckpoint } from "../src/io/checkpoint.js";
import { runAndSignalWhen, type SignalledRun } from "./helpers/signal_run.js";
import { scalars } from "./helpers/tfevents.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(root, "bin", "kindling.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-resume-"));

// 12 steps per epoch, 2 epochs, a checkpoint every 5 steps.
const RUN = ["train", "--dataset", "synthetic", "--train-size", "48", "--test-size", "8", "--seed", "11", "--epochs", "2", "--log-every", "4", "--checkpoint-every", "5", "--no-report", "--no-tensorboard"];

function runSync(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a run and sends `signal` once a checkpoint line at or after `minGlobal` appears, plus a random delay. */
function runAndSignal(args: string[], signal: NodeJS.Signals, minGlobal: number): Promise<SignalledRun> {
  // A pause after each step leaves the signal time to land before the run ends.
  const when = ({ stderr }: { stderr: string }): boolean => [...stderr.matchAll(/global step (\d+)\)/g)].some((x) => Number(x[1]) >= minGlobal);
  return runAndSignalWhen(BIN, args, { signal, when, stepDelayMs: 60, sendAfterMs: () => Math.random() * 200 });
}

/**
 * Starts a run with a long pause after every step and sends `signal` as soon as `when` matches its output: the
 * signal then lands inside that pause, i.e. right after the step that printed the line.
 */
function signalAfterLine(args: string[], signal: NodeJS.Signals, when: RegExp): Promise<SignalledRun> {
  return runAndSignalWhen(BIN, args, { signal, when: ({ stdout, stderr }) => when.test(stdout + stderr), stepDelayMs: 2500 });
}

const trainLosses = (dir: string): number[] =>
  fs
    .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === "train")
    .map((r) => r.loss);

let reference: { weights: Buffer; losses: number[]; stdout: string };

test("uninterrupted reference run", () => {
  const out = path.join(tmp, "ref");
  const r = runSync([...RUN, "--out", out, "--workers", "0"]);
  assert.equal(r.code, 0, r.stderr);
  reference = { weights: fs.readFileSync(path.join(out, "model.safetensors")), losses: trainLosses(out), stdout: r.stdout };
  assert.equal(reference.losses.length, 24);
});

test("SIGKILL in the middle of an epoch, then --resume: bitwise-identical final weights", async () => {
  const out = path.join(tmp, "killed");
  // Killed after the checkpoint at global step 15 (epoch 2, step 3) at the earliest: mid-epoch.
  const k = await runAndSignal([...RUN, "--out", out, "--workers", "0"], "SIGKILL", 15);
  assert.equal(k.signal, "SIGKILL", `the run finished before it could be killed:\n${k.stderr}`);
  const ck = readCheckpoint(path.join(out, "checkpoint.safetensors"));
  assert.ok(ck.globalStep >= 15 && ck.globalStep < 24, `checkpoint at global step ${ck.globalStep}`);
  assert.ok(ck.step > 0 && ck.step < 12, `the checkpoint is mid-epoch (epoch ${ck.epoch}, step ${ck.step})`);
  assert.ok(!fs.existsSync(path.join(out, "model.safetensors")));

  // Resume with two loader workers this time: the batch order must not depend on them.
  const r = runSync(["train", "--resume", path.join(out, "checkpoint.safetensors"), "--workers", "2", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  // 1-based epoch in the JSON, as in the "Resuming from" line.
  assert.deepEqual(s.resumedFrom, { epoch: ck.epoch + 1, step: ck.step, globalStep: ck.globalStep });
  assert.equal(s.steps, 24);
  assert.match(r.stderr, new RegExp(`Resuming from .*: epoch ${ck.epoch + 1}, step ${ck.step}`));
  const weights = fs.readFileSync(path.join(out, "model.safetensors"));
  assert.ok(weights.equals(reference.weights), "final weights differ from the uninterrupted run");
  assert.deepEqual(trainLosses(out), reference.losses);
  // The loss lines of the resumed part match the reference run's.
  const tail = r.stderr.split("\n").filter((l) => /^\[2, /.test(l));
  for (const l of tail) assert.ok(reference.stdout.includes(l), l);
});

test("Ctrl-C (SIGINT) saves a checkpoint at the current step and exits 130; resuming completes identically", async () => {
  const out = path.join(tmp, "interrupted");
  const k = await runAndSignal([...RUN, "--out", out, "--workers", "0"], "SIGINT", 5);
  assert.equal(k.code, 130, k.stderr);
  assert.match(k.stderr, /SIGINT: finishing this step, saving a checkpoint/);
  assert.match(k.stdout, /Interrupted: checkpoint saved to .*checkpoint\.safetensors/);
  const ck = readCheckpoint(path.join(out, "checkpoint.safetensors"));
  assert.ok(ck.globalStep >= 5 && ck.globalStep < 24);
  const r = runSync(["train", "--resume", out, "--workers", "0", "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.ok(fs.readFileSync(path.join(out, "model.safetensors")).equals(reference.weights));
});

test("--resume refuses options that would change the computation", () => {
  const r = runSync(["train", "--resume", path.join(tmp, "ref"), "--lr", "0.1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /trained with --lr 0\.001; got 0\.1/);
});

// 2 steps per epoch, 3 epochs; the loss line of each epoch's last step marks the epoch boundary.
const BOUNDARY_RUN = ["train", "--dataset", "synthetic", "--train-size", "8", "--test-size", "8", "--seed", "5", "--epochs", "3", "--log-every", "2", "--workers", "0", "--no-report"];

test("a stop signal at an epoch boundary is an interruption: true checkpoint, exit 128+signal, resume trains the rest", async () => {
  const ref = path.join(tmp, "boundary-ref");
  assert.equal(runSync([...BOUNDARY_RUN, "--out", ref]).code, 0);
  const cases = [
    { signal: "SIGINT", code: 130 },
    { signal: "SIGTERM", code: 143 },
    { signal: "SIGHUP", code: 129 },
  ] as const;
  const runs = await Promise.all(
    cases.map((c) => signalAfterLine([...BOUNDARY_RUN, "--out", path.join(tmp, `boundary-${c.signal}`)], c.signal, /^\[1, +2\] loss/m)),
  );
  runs.forEach((k, n) => {
    const { signal, code } = cases[n]!;
    const out = path.join(tmp, `boundary-${signal}`);
    assert.equal(k.code, code, `${signal}: ${k.stderr}`);
    assert.doesNotMatch(k.stdout, /Finished Training/);
    assert.match(k.stdout, /Interrupted: checkpoint saved/);
    const ck = readCheckpoint(path.join(out, "checkpoint.safetensors"));
    assert.deepEqual([ck.epoch, ck.step, ck.globalStep], [1, 0, 2], `${signal}: the checkpoint is at the end of epoch 1`);
    assert.ok(!fs.existsSync(path.join(out, "model.safetensors")));
  });
  const out = path.join(tmp, "boundary-SIGINT");
  const r = runSync(["train", "--resume", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.steps, 6);
  assert.equal(s.resumedFrom.globalStep, 2);
  assert.ok(fs.readFileSync(path.join(out, "model.safetensors")).equals(fs.readFileSync(path.join(ref, "model.safetensors"))), "the resumed run ends with the uninterrupted run's weights");
});

test("after SIGKILL and --resume, TensorBoard and metrics.jsonl hold every point and every epoch record", async () => {
  // The run writes TensorBoard events this time; the reference run's metrics give the expected losses.
  const RUN_TB = RUN.filter((a) => a !== "--no-tensorboard");
  const out = path.join(tmp, "killed-tb");
  const k = await runAndSignal([...RUN_TB, "--out", out, "--workers", "0"], "SIGKILL", 15);
  assert.equal(k.signal, "SIGKILL", `the run finished before it could be killed:\n${k.stderr}`);
  const ck = readCheckpoint(path.join(out, "checkpoint.safetensors"));
  assert.ok(ck.globalStep >= 15 && ck.globalStep < 24, `checkpoint at global step ${ck.globalStep}`);
  // Every point up to the checkpoint is on disk (a resumed run drops the later ones).
  const before = scalars(out).get("train/loss") ?? new Map();
  for (let s = 1; s <= ck.globalStep; s++) assert.ok(before.has(s), `train/loss at step ${s} was lost with the killed process`);

  const r = runSync(["train", "--resume", out, "--workers", "0", "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  const loss = scalars(out).get("train/loss")!;
  assert.deepEqual([...loss.keys()].sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i + 1));
  reference.losses.forEach((l, i) => assert.equal(loss.get(i + 1), Math.fround(l), `step ${i + 1}`));
  const records = fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(records.filter((x) => x.type === "epoch").map((x) => [x.epoch, x.globalStep]), [[1, 12], [2, 24]]);
  assert.deepEqual(records.filter((x) => x.type === "train").map((x) => x.globalStep), Array.from({ length: 24 }, (_, i) => i + 1));
  assert.equal(records.filter((x) => x.type === "eval").length, 1);
});
