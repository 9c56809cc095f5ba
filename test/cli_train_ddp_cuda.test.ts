// `kindling train --nproc-per-node N --device cuda` without a GPU: the ranks' cuda:0 is the emulated driver (the
// real kernels compiled for the host, test/helpers/cuda_emulator.ts) and NCCL is the one-rank stand-in
// (test/fixtures/fake_libnccl.c). The MPI runs (host staging) need mpirun and are skipped, saying why, without it;
// the choice of backend and the refusals run everywhere. It checks kindling's routing, not NCCL or a GPU.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { emulatedCudaEnv } from "./helpers/cuda_emulator.js";
import { emulatedNccl } from "./helpers/fake_nccl.js";
import { mpiMissing, mpirunFlavour } from "./helpers/mpi.js";
import { chooseDistBackend, ddpDeviceKind } from "../src/cli/ddp_backend.js";
import { launched, launchedRank } from "../src/cli/train_ddp.js";
import { ExitError } from "../src/cli/failures.js";
import { readCheckpoint } from "../src/io/checkpoint.js";
import { loadFile } from "../src/io/safetensors.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const BIN = path.join(root, "bin", "kindling.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-ddp-cuda-"));
const { fakeNccl: FAKE_NCCL, skip } = emulatedNccl(tmp);
const mpiWhy = mpiMissing();
const skipMpi = skip || (mpiWhy ? `${mpiWhy}; the MPI runs are skipped` : false);
if (skip) console.log(`# ${skip}`);
else if (skipMpi) console.log(`# ${skipMpi}`);

const emulated: NodeJS.ProcessEnv = skip ? {} : { ...emulatedCudaEnv(tmp), KINDLING_NCCL_PATH: FAKE_NCCL! };
const NO_NCCL = path.join(tmp, "none", "libnccl.so.2");
// A PATH without mpirun: the NCCL path must not need it.
const NO_MPIRUN = path.join(tmp, "empty-path");

interface Ran { code: number | null; stdout: string; stderr: string }

function kindling(args: string[], env: NodeJS.ProcessEnv = process.env): Ran {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// 16 images over 2 ranks at batch 4: 2 steps per rank (4 with one rank).
const TINY = ["--dataset", "synthetic", "--epochs", "1", "--train-size", "16", "--test-size", "8", "--batch-size", "4", "--log-every", "1",
  "--workers", "0", "--no-progress", "--no-tensorboard", "--seed", "3"];

function weights(dir: string): Record<string, number[]> {
  const t = loadFile(path.join(dir, "model.safetensors")).tensors;
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Array.from(v.toTypedArray() as ArrayLike<number>, Number)]));
}

function assertClose(got: Record<string, number[]>, want: Record<string, number[]>, tol: number): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [k, w] of Object.entries(want)) {
    const g = got[k]!;
    assert.equal(g.length, w.length, k);
    const worst = Math.max(...w.map((x, i) => Math.abs(x - g[i]!)));
    assert.ok(worst <= tol, `${k}: differs by ${worst} (tolerance ${tol})`);
  }
}

const lossLines = (s: string): string[] => s.split("\n").filter((l) => /^\[\d+, +\d+\] loss: /.test(l));
const ncclLog = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l) : []);

test("--dist-backend: nccl for CUDA when NCCL loads, else mpi (with the line that says so); mpi for the CPU; nccl on the CPU refused", () => {
  const loads = () => null;
  const missing = () => "NCCL (libnccl.so.2) could not be loaded";
  assert.deepEqual(chooseDistBackend("cuda", undefined, loads).backend, "nccl");
  assert.match(chooseDistBackend("cuda", undefined, loads).note!, /^Data-parallel backend: nccl \(one GPU per process; --dist-backend mpi/);
  const fallback = chooseDistBackend("cuda", undefined, missing);
  assert.equal(fallback.backend, "mpi");
  assert.equal(fallback.note, "Data-parallel backend: mpi, each collective through a host copy (NCCL is not available: NCCL (libnccl.so.2) could not be loaded)");
  // Asked for: no line; mpi on CUDA even where NCCL loads.
  assert.deepEqual(chooseDistBackend("cuda", "mpi", loads), { backend: "mpi", note: null });
  assert.deepEqual(chooseDistBackend("cuda", "nccl", loads), { backend: "nccl", note: null });
  assert.deepEqual(chooseDistBackend("cpu", undefined, loads), { backend: "mpi", note: null });
  assert.deepEqual(chooseDistBackend("cpu", "mpi", loads), { backend: "mpi", note: null });
  const refused = (f: () => unknown, code: number, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof ExitError && e.code === code && re.test(e.message));
  refused(() => chooseDistBackend("cpu", "nccl", loads), 2, /^--dist-backend nccl: NCCL reduces CUDA tensors only.*use --device cuda.*or --dist-backend mpi/);
  refused(() => chooseDistBackend("cuda", "nccl", missing), 7, /^--dist-backend nccl: NCCL \(libnccl\.so\.2\) could not be loaded; or use --dist-backend mpi/);
  refused(() => chooseDistBackend("cuda", "gloo", loads), 2, /^--dist-backend must be mpi or nccl, got 'gloo'/);
  refused(() => ddpDeviceKind("cuda:1"), 2, /^--device cuda:1: with --nproc-per-node each process trains on its own GPU, cuda:LOCAL_RANK.*use --device cuda$/);
  assert.equal(ddpDeviceKind("cpu"), "cpu");
});

test("a rank knows it was launched from mpirun's variables or torchrun's (RANK, WORLD_SIZE)", () => {
  assert.deepEqual(launched({ OMPI_COMM_WORLD_RANK: "1", OMPI_COMM_WORLD_SIZE: "2" }), { rank: 1, size: 2, from: "OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE" });
  assert.deepEqual(launched({ RANK: "1", WORLD_SIZE: "2", LOCAL_RANK: "1" }), { rank: 1, size: 2 });
  assert.deepEqual(launched({ RANK: "0", WORLD_SIZE: "1" }), { rank: 0, size: 1 });
  assert.equal(launched({}), null);
  assert.equal(launched({ WORLD_SIZE: "2" }), null);
  // A world of one is not "several ranks": it joins a group only when --dist-backend is given.
  assert.equal(launchedRank({ RANK: "0", WORLD_SIZE: "1" }), null);
  assert.equal(launchedRank({ RANK: "1", WORLD_SIZE: "2" }), 1);
});

test("train --nproc-per-node 2: nccl with --device cpu, --device cuda:N, and CUDA missing are refused in one line, before anything runs", () => {
  const never = path.join(tmp, "never");
  const a = kindling(["train", "--nproc-per-node", "2", "--device", "cpu", "--dist-backend", "nccl", "--out", never]);
  assert.equal(a.code, 2, a.stderr);
  assert.equal(a.stderr.split("\n")[0], "kindling train: --dist-backend nccl: NCCL reduces CUDA tensors only, and this run trains on the CPU; " +
    "use --device cuda to train on the GPUs, or --dist-backend mpi (the default with --device cpu)");
  const b = kindling(["train", "--nproc-per-node", "2", "--device", "cuda:0", "--out", never]);
  assert.equal(b.code, 2, b.stderr);
  assert.match(b.stderr, /--device cuda:0: with --nproc-per-node each process trains on its own GPU/);
  const c = kindling(["train", "--nproc-per-node", "2", "--device", "cuda", "--out", never],
    { ...process.env, KINDLING_LIBCUDA_PATH: path.join(tmp, "none", "libcuda.so.1") });
  assert.equal(c.code, 7, c.stderr);
  assert.match(c.stderr, /^kindling train: --device cuda: CUDA is not available/);
  for (const r of [a, b, c]) assert.doesNotMatch(r.stderr, /rank/, "no rank was started");
  assert.ok(!fs.existsSync(never));
});

test("train --nproc-per-node 2 --dist-backend nccl where NCCL does not load: exit 7, saying so and naming --dist-backend mpi", { skip }, () => {
  const r = kindling(["train", ...TINY, "--nproc-per-node", "2", "--device", "cuda", "--dist-backend", "nccl", "--out", path.join(tmp, "never2")],
    { ...emulated, KINDLING_NCCL_PATH: NO_NCCL });
  assert.equal(r.code, 7, r.stdout + r.stderr);
  assert.match(r.stderr, /^kindling train: --dist-backend nccl: NCCL \(libnccl\.so\.2\) is needed .*; or use --dist-backend mpi/);
  assert.ok(!fs.existsSync(path.join(tmp, "never2")));
});

let cpuRun: { out: string; stdout: string } | null = null;
/** The same tiny run on the CPU (MPI, 2 ranks): the weights and losses the CUDA runs must reach. */
function cpuReference(): { out: string; stdout: string } {
  if (cpuRun) return cpuRun;
  const out = path.join(tmp, "cpu");
  const r = kindling(["train", ...TINY, "--nproc-per-node", "2", "--device", "cpu", "--no-report", "--out", out]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  cpuRun = { out, stdout: r.stdout };
  return cpuRun;
}

test("train --nproc-per-node 2 --device cuda --dist-backend mpi: the ranks' CUDA tensors go through the host; same weights and losses as --device cpu", { skip: skipMpi }, () => {
  const cpu = cpuReference();
  const out = path.join(tmp, "mpi-cuda");
  const r = kindling(["train", ...TINY, "--nproc-per-node", "2", "--device", "cuda", "--dist-backend", "mpi", "--out", out], emulated);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /Data-parallel backend/, "asked for: no line about the choice");
  // One run directory, written by rank 0, which trained on cuda:0.
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.endsWith(".safetensors")).sort(), ["checkpoint.safetensors", "model.safetensors"]);
  assert.match(fs.readFileSync(path.join(out, "report.html"), "utf8"), /cuda:0/);
  assert.equal(r.stdout.match(/^Finished Training$/gm)?.length, 1);
  assert.equal(readCheckpoint(path.join(out, "checkpoint.safetensors")).globalStep, 2);
  assertClose(weights(out), weights(cpu.out), 1e-5);
  assert.equal(lossLines(r.stdout).length, 2);
  assert.deepEqual(lossLines(r.stdout), lossLines(cpu.stdout));
});

test("plain mpirun -np 2 kindling train --device cuda where NCCL does not load: rank 0 says it chose mpi, once; the weights of the CPU run", { skip: skipMpi }, () => {
  const cpu = cpuReference();
  const out = path.join(tmp, "plain-mpirun");
  const flags = mpirunFlavour() === "openmpi" ? ["--oversubscribe", "-np", "2"] : ["-np", "2"];
  const r = spawnSync("mpirun", [...flags, process.execPath, BIN, "train", ...TINY, "--device", "cuda", "--no-report", "--out", out], {
    env: { ...emulated, KINDLING_NCCL_PATH: NO_NCCL, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" },
    encoding: "utf8", timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const said = (r.stdout + r.stderr).split("\n").filter((l) => l.includes("Data-parallel backend"));
  assert.equal(said.length, 1, r.stdout + r.stderr);
  assert.match(said[0]!, /^Data-parallel backend: mpi, each collective through a host copy \(NCCL is not available: NCCL \(libnccl\.so\.2\) is needed/);
  assertClose(weights(out), weights(cpu.out), 1e-5);
  // --resume without --device: every rank takes the checkpoint's (cuda) before the group is up, not rank 0 alone.
  const again = spawnSync("mpirun", [...flags, process.execPath, BIN, "train", "--resume", out, "--epochs", "2", "--no-progress", "--json"], {
    env: { ...emulated, KINDLING_NCCL_PATH: NO_NCCL, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" },
    encoding: "utf8", timeout: 120_000,
  });
  assert.equal(again.status, 0, again.stdout + again.stderr);
  const summary = JSON.parse(again.stdout.slice(again.stdout.indexOf("{"), again.stdout.lastIndexOf("}") + 1)) as { resumedFrom: { globalStep: number }; steps: number };
  assert.equal(summary.resumedFrom.globalStep, 2);
  assert.equal(summary.steps, 4);
});

test("train --nproc-per-node 1 --device cuda --dist-backend nccl: no mpirun needed, options, gradients and the stop flag go through NCCL", { skip }, () => {
  const log = path.join(tmp, "nccl1.log");
  const out = path.join(tmp, "nccl1");
  fs.mkdirSync(NO_MPIRUN, { recursive: true });
  const r = kindling(["train", ...TINY, "--nproc-per-node", "1", "--device", "cuda", "--dist-backend", "nccl", "--no-report", "--out", out],
    { ...emulated, PATH: NO_MPIRUN, FAKE_NCCL_LOG: log });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = ncclLog(log);
  assert.ok(lines.includes("ncclCommInitRank nranks=1 rank=0 id0=0"), lines.join("\n"));
  // Rank 0's options: their length (float64, 8) and bytes (int32, 2), broadcast on the GPU.
  assert.ok(lines.includes("ncclBroadcast count=1 dtype=8 op=-1 stream=set"), lines.join("\n"));
  assert.ok(lines.some((l) => /^ncclBroadcast count=\d+ dtype=2 op=-1 stream=set$/.test(l)), lines.join("\n"));
  // Each of the 4 steps: the gradients averaged (float32, avg = 4), then the stop flag (int32 max = 2); and the epoch's end.
  assert.equal(lines.filter((l) => /^ncclAllReduce count=\d+ dtype=7 op=4 stream=set$/.test(l)).length, 4, lines.join("\n"));
  assert.equal(lines.filter((l) => l === "ncclAllReduce count=1 dtype=2 op=2 stream=set").length, 5, lines.join("\n"));
  assert.equal(lines[lines.length - 1], "ncclCommDestroy ");
  assert.equal(readCheckpoint(path.join(out, "checkpoint.safetensors")).globalStep, 4);
});

test("train --nproc-per-node 1 --dist-backend nccl on cuda trains to the weights of --dist-backend mpi on the CPU", { skip: skipMpi }, () => {
  const a = path.join(tmp, "w1-nccl");
  const b = path.join(tmp, "w1-cpu");
  const r = kindling(["train", ...TINY, "--nproc-per-node", "1", "--device", "cuda", "--dist-backend", "nccl", "--no-report", "--out", a], emulated);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const c = kindling(["train", ...TINY, "--nproc-per-node", "1", "--device", "cpu", "--dist-backend", "mpi", "--no-report", "--out", b]);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assertClose(weights(a), weights(b), 1e-5);
  assert.deepEqual(lossLines(r.stdout).length, 4);
});

test("train --nproc-per-node 1 --dist-backend nccl --resume: the checkpoint's bytes reach the rank through NCCL; the weights of a straight run", { skip }, () => {
  const common = [...TINY, "--nproc-per-node", "1", "--device", "cuda", "--dist-backend", "nccl", "--no-report"];
  const straight = path.join(tmp, "resume-straight");
  const a = kindling(["train", ...common, "--epochs", "2", "--out", straight], emulated);
  assert.equal(a.code, 0, a.stdout + a.stderr);
  const part = path.join(tmp, "resume-part");
  const b = kindling(["train", ...common, "--epochs", "1", "--out", part], emulated);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const words = Math.ceil(fs.statSync(path.join(part, "checkpoint.safetensors")).size / 4);
  const log = path.join(tmp, "resume.log");
  const c = kindling(["train", "--nproc-per-node", "1", "--dist-backend", "nccl", "--resume", part, "--epochs", "2", "--no-progress", "--json"],
    { ...emulated, FAKE_NCCL_LOG: log });
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.deepEqual((JSON.parse(c.stdout) as { resumedFrom: unknown }).resumedFrom, { epoch: 2, step: 0, globalStep: 4 });
  // The options, then the checkpoint: two byte broadcasts, the second the file rank 0 read (in 32-bit words).
  const sizes = ncclLog(log).filter((l) => /^ncclBroadcast count=\d+ dtype=2 /.test(l)).map((l) => Number(/count=(\d+)/.exec(l)![1]));
  assert.equal(sizes.length, 2, ncclLog(log).join("\n"));
  assert.equal(sizes[1], words);
  assert.deepEqual(weights(part), weights(straight));
});

test("train --nproc-per-node 2 --device cuda with NCCL: the launcher says nccl, starts the ranks without mpirun; rank 1's failure stops the job", { skip }, () => {
  // The stand-in NCCL gives each rank a world of its own (FAKE_NCCL_ANY_WORLD), so rank 1 never receives rank 0's
  // options: it fails, and the launcher must stop rank 0 and exit non-zero, naming rank 1.
  const log = path.join(tmp, "nccl2.log");
  fs.mkdirSync(NO_MPIRUN, { recursive: true });
  const r = kindling(["train", ...TINY, "--nproc-per-node", "2", "--device", "cuda", "--no-report", "--out", path.join(tmp, "nccl2")],
    { ...emulated, PATH: NO_MPIRUN, FAKE_NCCL_LOG: log, FAKE_NCCL_ANY_WORLD: "1" });
  assert.equal(r.stdout.split("\n")[0], "Data-parallel backend: nccl (one GPU per process; --dist-backend mpi to use MPI instead)");
  const lines = ncclLog(log);
  // Both ranks met through the TCPStore and joined one world of 2 with rank 0's id.
  assert.ok(lines.includes("ncclCommInitRank nranks=2 rank=0 id0=0") && lines.includes("ncclCommInitRank nranks=2 rank=1 id0=0"), lines.join("\n"));
  assert.equal(new Set(lines.filter((l) => l.startsWith("ncclCommInitRankId")).map((l) => l.split("hash=")[1])).size, 1);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /kindling launch: rank 1 \(local rank 1 on node 0\) exited with code 1; stopping the other 1 process\(es\)/);
  assert.match(r.stderr, /rank 1 is aborting its NCCL communicator/);
});

/** Starts kindling train in a process group of its own and, once global step `at` is saved, sends SIGINT to that group, as a terminal's Ctrl-C does. */
function ctrlC(args: string[], env: NodeJS.ProcessEnv, at: number): Promise<Ran & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...env, KINDLING_STEP_DELAY_MS: "400" }, detached: true });
    let stdout = "";
    let stderr = "";
    let sent = false;
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 120_000);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!sent && [...stderr.matchAll(/global step (\d+)\)/g)].some((m) => Number(m[1]) >= at)) {
        sent = true;
        process.kill(-child.pid!, "SIGINT");
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test("Ctrl-C (SIGINT to the terminal's process group) under the NCCL launcher: the rank hears it once, agrees on NCCL, saves, exit 130", { skip }, async () => {
  const out = path.join(tmp, "nccl-stop");
  const log = path.join(tmp, "nccl-stop.log");
  const k = await ctrlC(["train", ...TINY, "--epochs", "2", "--nproc-per-node", "1", "--device", "cuda", "--dist-backend", "nccl",
    "--no-report", "--checkpoint-every", "1", "--json", "--out", out], { ...emulated, FAKE_NCCL_LOG: log }, 2);
  assert.equal(k.signal, null, k.stderr);
  assert.equal(k.code, 130, k.stdout + k.stderr);
  assert.equal(k.stderr.match(/SIGINT: finishing this step, saving a checkpoint/g)?.length, 1, k.stderr);
  assert.doesNotMatch(k.stderr, /again: exiting without saving/);
  const summary = JSON.parse(k.stdout.slice(k.stdout.indexOf("{"), k.stdout.lastIndexOf("}") + 1)) as { interrupted: boolean; steps: number };
  assert.equal(summary.interrupted, true);
  assert.equal(readCheckpoint(path.join(out, "checkpoint.safetensors")).globalStep, summary.steps);
  assert.ok(summary.steps >= 2 && summary.steps < 8, `stopped at global step ${summary.steps}`);
  // The stop flag that carried the request was reduced by NCCL.
  assert.ok(ncclLog(log).includes("ncclAllReduce count=1 dtype=2 op=2 stream=set"));
});
