// Ctrl-C under `kindling train --nproc-per-node 2`: every rank stops after the same step, rank 0 saves the checkpoint
// and reports the run interrupted as one process does, the job exits 130, and --resume finishes it with the weights
// of a run that was never stopped. Skipped, with a message saying why, where mpirun or an MPI library is missing.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { mpiMissing } from "./helpers/mpi.js";
import { readCheckpoint } from "../src/io/checkpoint.js";
import { loadFile } from "../src/io/safetensors.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(root, "bin", "kindling.js");

const why = mpiMissing();
const skip = why === null ? false : `${why}; the two-process Ctrl-C test is skipped`;
if (skip) console.log(`# ${skip}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-ddp-stop-"));
// 64 images over 2 ranks at batch 4: 8 steps per epoch and rank, 16 in all.
const COMMON = ["--dataset", "synthetic", "--nproc-per-node", "2", "--train-size", "64", "--test-size", "16", "--batch-size", "4",
  "--log-every", "4", "--workers", "0", "--no-progress", "--no-report", "--no-tensorboard", "--seed", "7", "--epochs", "2"];

interface Ended { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** The pid of MPI rank `rank` among the processes under `pid` (read from /proc), or null. */
function rankPid(pid: number, rank: number): number | null {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (!env.includes(`OMPI_COMM_WORLD_RANK=${rank}`)) continue;
      // One of this launcher's ranks: its parent is the launcher's mpirun.
      const ppid = Number(fs.readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      const grand = Number(fs.readFileSync(`/proc/${ppid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      if (grand === pid) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return null;
}

/**
 * Starts the launcher with a pause after every step and, once rank 0 reports global step `at`, sends `signal` to the
 * launcher, or with `toRank` to that rank alone.
 */
function signalLauncher(args: string[], signal: NodeJS.Signals, at: number, toRank?: number): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, KINDLING_STEP_DELAY_MS: "400" };
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    let sent = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!sent && [...stderr.matchAll(/global step (\d+)\)/g)].some((m) => Number(m[1]) >= at)) {
        sent = true;
        if (toRank === undefined) child.kill(signal);
        else {
          const pid = rankPid(child.pid!, toRank);
          if (pid === null) child.kill("SIGKILL");
          else process.kill(pid, signal);
        }
      }
    });
    child.on("error", reject);
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

test("Ctrl-C to kindling train --nproc-per-node 2: every rank stops at one step, rank 0 saves, exit 130, --resume completes it", { skip }, async () => {
  const straight = path.join(tmp, "straight");
  const a = spawnSync(process.execPath, [BIN, "train", ...COMMON, "--out", straight], { encoding: "utf8", timeout: 120_000 });
  assert.equal(a.status, 0, a.stdout + a.stderr);

  const out = path.join(tmp, "stopped");
  const k = await signalLauncher(["train", ...COMMON, "--checkpoint-every", "1", "--json", "--out", out], "SIGINT", 3);
  assert.equal(k.signal, null, `the launcher was killed:\n${k.stderr}`);
  assert.equal(k.code, 130, k.stdout + k.stderr);
  assert.equal(k.stderr.match(/SIGINT: finishing this step, saving a checkpoint/g)?.length, 1, k.stderr);
  assert.match(k.stdout + k.stderr, /Interrupted: checkpoint saved to .*checkpoint\.safetensors/);
  // Rank 0's report of the run, as one process writes it: interrupted, no accuracy, no final weights.
  const summary = JSON.parse(k.stdout.slice(k.stdout.indexOf("{"), k.stdout.lastIndexOf("}") + 1)) as { interrupted: boolean; accuracy: number | null; steps: number };
  assert.equal(summary.interrupted, true);
  assert.equal(summary.accuracy, null);
  assert.ok(!fs.existsSync(path.join(out, "model.safetensors")), "an interrupted run writes no final weights");
  const ck = readCheckpoint(path.join(out, "checkpoint.safetensors"));
  assert.equal(ck.globalStep, summary.steps, "the checkpoint is the step the run stopped at");
  assert.ok(ck.globalStep >= 3 && ck.globalStep < 16, `stopped at global step ${ck.globalStep}`);
  // The stop was a clean one: mpirun saw no rank die of a signal.
  assert.doesNotMatch(k.stderr, /killed|signal 9|Segmentation/i, k.stderr);

  const r = spawnSync(process.execPath, [BIN, "train", "--nproc-per-node", "2", "--resume", out, "--no-progress", "--json"], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const resumed = JSON.parse(r.stdout) as { resumedFrom: { globalStep: number }; steps: number; interrupted: boolean };
  assert.equal(resumed.resumedFrom.globalStep, ck.globalStep);
  assert.equal(resumed.steps, 16);
  assert.equal(resumed.interrupted, false);
  const want = loadFile(path.join(straight, "model.safetensors")).tensors;
  const got = loadFile(path.join(out, "model.safetensors")).tensors;
  for (const [name, t] of Object.entries(want)) {
    assert.deepEqual(Array.from(got[name]!.toTypedArray()), Array.from(t.toTypedArray()), `${name}: the resumed run trained on as the straight one did`);
  }
});

test("SIGTERM to rank 1 alone: the ranks agree to stop after one step, rank 0 saves, every rank exits 143", { skip: skip || (!fs.existsSync("/proc/self/environ") && "no /proc here") }, async () => {
  const out = path.join(tmp, "rank1");
  const k = await signalLauncher(["train", ...COMMON, "--checkpoint-every", "1", "--json", "--out", out], "SIGTERM", 3, 1);
  assert.equal(k.signal, null, `rank 1 was not found, or the job hung:\n${k.stderr}`);
  assert.equal(k.code, 143, k.stdout + k.stderr);
  const summary = JSON.parse(k.stdout.slice(k.stdout.indexOf("{"), k.stdout.lastIndexOf("}") + 1)) as { interrupted: boolean; steps: number };
  assert.equal(summary.interrupted, true);
  const ck = readCheckpoint(path.join(out, "checkpoint.safetensors"));
  assert.equal(ck.globalStep, summary.steps);
  assert.ok(ck.globalStep < 16, `stopped at global step ${ck.globalStep}`);
  assert.match(k.stderr, /Exit code: +143/, "mpirun saw the ranks exit 143");
});
