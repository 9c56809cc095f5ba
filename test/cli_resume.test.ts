import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readCheckpoint } from "../src/io/checkpoint.js";

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
function runAndSignal(args: string[], signal: NodeJS.Signals, minGlobal: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // A pause after each step (KINDLING_STEP_DELAY_MS) leaves the signal time to land before the run ends.
    const env = { ...process.env, KINDLING_STEP_DELAY_MS: "60" };
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    let sent = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      const m = [...stderr.matchAll(/global step (\d+)\)/g)].map((x) => Number(x[1]));
      if (!sent && m.some((g) => g >= minGlobal)) {
        sent = true;
        setTimeout(() => child.kill(signal), Math.random() * 200);
      }
    });
    child.on("error", reject);
    child.on("exit", (code, sig) => resolve({ code, signal: sig, stdout, stderr }));
  });
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
  assert.deepEqual(s.resumedFrom, { epoch: ck.epoch, step: ck.step, globalStep: ck.globalStep });
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
