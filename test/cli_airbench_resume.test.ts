// `kindling train --recipe airbench94`: a stop signal saves a checkpoint after the current step (exit 128+signal),
// and --resume continues exactly: a run stopped three times ends as the same run uninterrupted.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readCheckpoint } from "../src/io/checkpoint.js";
import { loadFile } from "../src/io/safetensors.js";
import { assertClose } from "./helpers/compare.js";
import { runAndSignalWhen } from "./helpers/signal_run.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(root, "bin", "kindling.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-airbench-resume-"));

function kindling(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// 2 steps per epoch, 3 steps (2 epochs) per run, 2 runs.
const TINY = ["train", "--recipe", "airbench94", "--dataset", "synthetic", "--train-size", "64", "--test-size", "20", "--batch-size", "32", "--seed", "7", "--epochs", "1.5", "--runs", "2", "--no-progress"];

type Rec = Record<string, unknown> & { type: string };
const records = (dir: string): Rec[] => {
  const f = path.join(dir, "metrics.jsonl");
  if (!fs.existsSync(f)) return [];
  // A line being appended may be torn: only whole lines count.
  return fs.readFileSync(f, "utf8").split("\n").slice(0, -1).map((l) => JSON.parse(l) as Rec);
};
/** The run logged its training loss after step `step` of run `run`. */
const trained = (dir: string, run: number, step: number) => () => records(dir).some((r) => r.type === "train" && r.run === run && r.globalStep === step);
const checkpoint = (dir: string) => readCheckpoint(path.join(dir, "checkpoint.safetensors"));
const stopped = (dir: string) => checkpoint(dir).extra.stopped as { signal: string; run: number; progress: { epoch: number; batch: number; step: number; last: unknown } | null };
/** The run's numbers, without the timings. */
const numbers = (summary: { runs: { epochs: { seconds?: number }[]; trainSeconds?: number }[] }) =>
  summary.runs.map(({ trainSeconds: _t, epochs, ...run }) => ({ ...run, epochs: epochs.map(({ seconds: _s, ...e }) => e) }));
const lossRecords = (dir: string) => records(dir).filter((r) => r.type === "train" || r.type === "epoch").map(({ time: _t, seconds: _s, ...r }) => r);

/**
 * Same structure, every number within 1e-6. (Not bitwise: the logged loss of a step can differ in its last bit
 * between two uninterrupted runs of the same seed, a reduction order the native backend does not fix.)
 */
function assertSameNumbers(actual: unknown, expected: unknown, msg: string): void {
  const skeleton = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "number" ? 0 : x));
  const leaves = (v: unknown): number[] => JSON.stringify(v).match(/-?\d+(\.\d+)?(e[-+]?\d+)?/g)!.map(Number);
  assert.equal(skeleton(actual), skeleton(expected), msg);
  assertClose(leaves(actual), leaves(expected), { rtol: 0, atol: 1e-6, msg });
}

function assertSameWeights(actualFile: string, expectedFile: string): void {
  const a = loadFile(actualFile).tensors;
  const e = loadFile(expectedFile).tensors;
  assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort());
  for (const k of Object.keys(e)) assertClose(a[k]!, e[k]!, { rtol: 0, atol: 1e-6, msg: k });
}

let reference: { summary: Parameters<typeof numbers>[0]; losses: Rec[] };
const ref = path.join(tmp, "ref");

test("airbench94 reference run, uninterrupted", () => {
  const r = kindling([...TINY, "--out", ref, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  reference = { summary: JSON.parse(r.stdout), losses: lossRecords(ref) };
  assert.equal(reference.summary.runs.length, 2);
});

const out = path.join(tmp, "stopped");

test("Ctrl-C in the middle of an epoch: exit 130, a checkpoint with the whole training state, one line on how to resume", async () => {
  const k = await runAndSignalWhen(BIN, [...TINY, "--out", out, "--json"], { signal: "SIGINT", when: trained(out, 1, 1), stepDelayMs: 1500 });
  assert.equal(k.code, 130, k.stderr);
  assert.match(k.stderr, /SIGINT: finishing this step, saving a checkpoint/);
  assert.match(k.stderr, new RegExp(`^Interrupted: checkpoint saved to .*checkpoint\\.safetensors \\(resume with: kindling train --recipe airbench94 --resume ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)$`, "m"));
  const s = JSON.parse(k.stdout);
  assert.equal(s.interrupted, true);
  assert.deepEqual(s.runs, []);
  const ck = checkpoint(out);
  assert.deepEqual([ck.epoch, ck.step, ck.globalStep], [0, 1, 1]);
  const st = stopped(out);
  assert.deepEqual([st.signal, st.run, st.progress?.epoch, st.progress?.batch, st.progress?.step], ["SIGINT", 0, 0, 1, 1]);
  // Weights (the whitening conv's included), both parameter groups' momentum, the Lookahead average, the loader's RNG.
  assert.ok("0.weight" in ck.tensors && "2.norm1.running_mean" in ck.tensors);
  assert.equal(ck.optimizerState!.paramGroups.length, 2);
  assert.ok(ck.optimizerState!.paramGroups.every((g) => g.params.some((i) => ck.optimizerState!.state[i]?.momentum_buffer)));
  assert.ok("2.conv1.weight" in ck.extraTensors && "2.norm1.running_var" in ck.extraTensors);
  assert.equal(ck.rng.loader?.length, 6);
  assert.ok(!fs.existsSync(path.join(out, "model.safetensors")));
  const last = records(out).at(-1)!;
  assert.deepEqual([last.type, last.signal, last.run, last.globalStep], ["stopped", "SIGINT", 1, 1]);
});

test("--resume refuses options that contradict the checkpoint, and a checkpoint of the other recipe", () => {
  const a = kindling(["train", "--recipe", "airbench94", "--resume", out, "--seed", "8"]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--resume: the checkpoint was trained with --seed 7; got 8/);
  const b = kindling(["train", "--resume", out, "--epochs", "2"]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /trained with --epochs 1\.5; got 2/);
  const c = kindling(["train", "--recipe", "airbench94", "--resume", out, "--lr", "0.1"]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /--lr does not apply to --recipe airbench94/);
  const d = kindling(["train", "--recipe", "tutorial", "--resume", out]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /is an airbench94 run: resume it with --recipe airbench94/);
  const tutorial = path.join(tmp, "tutorial");
  assert.equal(kindling(["train", "--dataset", "synthetic", "--train-size", "8", "--test-size", "4", "--epochs", "1", "--workers", "0", "--no-report", "--no-tensorboard", "--quiet", "--out", tutorial]).code, 0);
  const e = kindling(["train", "--recipe", "airbench94", "--resume", tutorial]);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /is a tutorial-recipe run: resume it without --recipe airbench94/);
  // Nothing was touched: the stopped run is still where it was.
  assert.equal(stopped(out).progress?.step, 1);
});

test("stopped again between runs (SIGHUP) and before an epoch's evaluation (SIGTERM), then resumed to the end: the uninterrupted run's weights, accuracy and losses", async () => {
  // After run 1's last table row: the next run has not started.
  const b = await runAndSignalWhen(BIN, ["train", "--resume", out, "--no-progress"], { signal: "SIGHUP", when: ({ stdout }) => /^\|\s+1 \|\s+2 \|/m.test(stdout), stepDelayMs: 1500 });
  assert.equal(b.code, 129, b.stderr);
  assert.match(b.stdout, /^Resuming from .*: run 1, epoch 1, step 1 \(step 1 of the run\)/m);
  let st = stopped(out);
  assert.deepEqual([st.signal, st.run, st.progress], ["SIGHUP", 1, null]);
  assert.equal((checkpoint(out).extra.runs as unknown[]).length, 1);

  // After run 2's second step, the last of its first epoch: trained, not yet evaluated.
  const c = await runAndSignalWhen(BIN, ["train", "--resume", out, "--no-progress"], { signal: "SIGTERM", when: trained(out, 2, 2), stepDelayMs: 1500 });
  assert.equal(c.code, 143, c.stderr);
  st = stopped(out);
  assert.deepEqual([st.signal, st.run, st.progress?.epoch, st.progress?.batch, st.progress?.step], ["SIGTERM", 1, 0, 2, 2]);
  assert.notEqual(st.progress?.last, null);

  const r = kindling(["train", "--resume", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.interrupted, false);
  assert.deepEqual(s.resumedFrom, { run: 2, epoch: 1, step: 2, globalStep: 2 });
  assert.deepEqual(s.seeds, [7, 8]);
  // The whole table, the rows printed before the stops included.
  assert.equal(r.stderr.match(/^\|\s+\d \|\s+\d \|/gm)?.length, 4);
  assertSameNumbers(numbers(s), numbers(reference.summary), "TTA accuracy, per-epoch losses and accuracies");
  assertSameWeights(path.join(out, "model.safetensors"), path.join(ref, "model.safetensors"));
  assertSameNumbers(lossRecords(out), reference.losses, "metrics.jsonl");
  assert.ok(!records(out).some((x) => x.type === "stopped"));
  assert.equal(records(out).at(-1)!.type, "summary");
  const fin = kindling(["train", "--resume", out]);
  assert.equal(fin.code, 2);
  assert.match(fin.stderr, /holds a finished airbench94 run, with nothing left to train/);
});
