// `kindling launch --backend nccl`: torchrun's variables, the failure watch and signal forwarding, all on the CPU
// (the workers are plain Node scripts; nothing here loads NCCL).
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ncclRanks, planNcclLaunch } from "../src/cli/launch_nccl.js";
import { splitBackend } from "../src/cli/launch.js";
import { UsageError } from "../src/cli/args.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "bin", "kindling.js");
const dir = mkdtempSync(join(tmpdir(), "kindling-launch-nccl-"));

const VARS = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"] as const;
const envScript = join(dir, "env.mjs");
writeFileSync(envScript, `const e = process.env;
console.log(JSON.stringify({ ${VARS.map((v) => `${v}: e.${v}`).join(", ")}, args: process.argv.slice(2), ompi: e.OMPI_COMM_WORLD_RANK ?? null }));\n`);

type EnvLine = Record<(typeof VARS)[number], string> & { args: string[]; ompi: string | null };

test("launch --backend nccl: each process gets torchrun's variables, script arguments untouched", () => {
  const r = spawnSync(process.execPath, [bin, "launch", "--backend", "nccl", "--nproc-per-node", "3", envScript, "--epochs", "2"],
    { encoding: "utf8", timeout: 60_000, env: { ...process.env, OMPI_COMM_WORLD_RANK: "7" } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as EnvLine).sort((a, b) => Number(a.RANK) - Number(b.RANK));
  assert.deepEqual(lines.map((l) => [l.RANK, l.LOCAL_RANK, l.WORLD_SIZE, l.LOCAL_WORLD_SIZE, l.MASTER_ADDR]), [
    ["0", "0", "3", "3", "127.0.0.1"], ["1", "1", "3", "3", "127.0.0.1"], ["2", "2", "3", "3", "127.0.0.1"],
  ]);
  // One port for the whole job, picked free when none was given.
  assert.equal(new Set(lines.map((l) => l.MASTER_PORT)).size, 1);
  assert.ok(Number(lines[0]!.MASTER_PORT) > 0);
  for (const l of lines) {
    assert.deepEqual(l.args, ["--epochs", "2"]);
    assert.equal(l.ompi, null, "an outer MPI launcher's rank must not reach the processes");
  }
});

test("launch --backend nccl on node 1 of 2: global ranks, world size and master from the options", () => {
  const plan = planNcclLaunch(["--nnodes", "2", "--node_rank=1", "--nproc-per-node", "2", "--master-addr", "10.0.0.1", "t.js", "x"]);
  assert.deepEqual(plan.script, ["t.js", "x"]);
  assert.equal(plan.masterPort, 29500);
  assert.deepEqual(ncclRanks(plan, 29500).map((r) => r.env), [
    { RANK: "2", LOCAL_RANK: "0", WORLD_SIZE: "4", LOCAL_WORLD_SIZE: "2", GROUP_RANK: "1", MASTER_ADDR: "10.0.0.1", MASTER_PORT: "29500" },
    { RANK: "3", LOCAL_RANK: "1", WORLD_SIZE: "4", LOCAL_WORLD_SIZE: "2", GROUP_RANK: "1", MASTER_ADDR: "10.0.0.1", MASTER_PORT: "29500" },
  ]);
  const r = spawnSync(process.execPath, [bin, "launch", "--nnodes", "2", "--node-rank", "1", "--nproc-per-node", "2", "--master-addr", "10.0.0.1",
    "--master-port", "29555", "--backend=nccl", "--dry-run", envScript], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), [2, 3].map((rank) =>
    `RANK=${rank} LOCAL_RANK=${rank - 2} WORLD_SIZE=4 LOCAL_WORLD_SIZE=2 GROUP_RANK=1 MASTER_ADDR=10.0.0.1 MASTER_PORT=29555 ${process.execPath} ${envScript}`));
});

test("launch --backend: bad options are refused with what to do", () => {
  assert.deepEqual(splitBackend(["--nproc-per-node", "2", "--backend", "nccl", "s.js", "--backend", "x"]),
    { backend: "nccl", rest: ["--nproc-per-node", "2", "s.js", "--backend", "x"] });
  assert.deepEqual(splitBackend(["--nproc-per-node", "2", "s.js"]).backend, "mpi");
  assert.throws(() => splitBackend(["--backend", "gloo", "s.js"]), (e: Error) => e instanceof UsageError && /--backend must be mpi or nccl, got 'gloo'/.test(e.message));
  for (const [argv, msg] of [
    [["--nnodes", "2", "--node-rank", "1", "--nproc-per-node", "2", "s.js"], /--nnodes 2 needs --master-addr/],
    [["--nnodes", "2", "--node-rank", "2", "--master-addr", "a", "--nproc-per-node", "2", "s.js"], /--node-rank 2 is not below --nnodes 2/],
    [["--hosts", "a,b", "--nproc-per-node", "2", "s.js"], /--hosts is for --backend mpi; with --backend nccl run kindling launch on every node/],
    [["--nproc-per-node", "2"], /no script given/],
    [["s.js"], /--nproc-per-node N is required/],
  ] as const) {
    assert.throws(() => planNcclLaunch(argv), (e: Error) => e instanceof UsageError && msg.test(e.message));
  }
});

/** Runs launch on a script and resolves to its status, output and how long it took, signalling it when asked. */
function launch(script: string, opts: { signalWhen?: string; signal?: NodeJS.Signals } = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "launch", "--backend", "nccl", "--nproc-per-node", "2", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      // Processes launch left behind would hold the pipes open and keep the test runner waiting.
      child.stdout.destroy();
      child.stderr.destroy();
      reject(new Error(`launch did not finish: ${stdout} ${stderr}`));
    }, 30_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (opts.signalWhen && stdout.split(opts.signalWhen).length - 1 === 2) child.kill(opts.signal ?? "SIGINT");
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => {
      clearTimeout(guard);
      resolve({ code, stderr, stdout });
    });
  });
}

test("launch --backend nccl: a rank that exits 3 stops the other one, and launch fails naming it", async () => {
  const marker = join(dir, "sleeper-stopped");
  const script = join(dir, "fail.mjs");
  writeFileSync(script, `import { writeFileSync } from "node:fs";
import { existsSync } from "node:fs";
const ready = ${JSON.stringify(marker + ".ready")};
if (process.env.RANK === "1") setInterval(() => { if (existsSync(ready)) process.exit(3); }, 50);
else {
  process.on("SIGTERM", () => { writeFileSync(${JSON.stringify(marker)}, "SIGTERM"); process.exit(143); });
  writeFileSync(ready, "");
  setTimeout(() => {}, 120_000);
}\n`);
  const t0 = Date.now();
  const r = await launch(script);
  assert.equal(r.code, 3, r.stderr);
  assert.ok(Date.now() - t0 < 20_000);
  assert.match(r.stderr, /rank 1 \(local rank 1 on node 0\) exited with code 3; stopping the other 1 process\(es\)/);
  assert.equal(readFileSync(marker, "utf8"), "SIGTERM");
});

test("launch --backend nccl: a rank that ignores SIGTERM is killed after the grace period", async () => {
  const script = join(dir, "stubborn.mjs");
  const ready = join(dir, "stubborn.ready");
  writeFileSync(script, `import { existsSync, writeFileSync } from "node:fs";
if (process.env.RANK === "0") setInterval(() => { if (existsSync(${JSON.stringify(ready)})) process.kill(process.pid, "SIGKILL"); }, 50);
else { process.on("SIGTERM", () => {}); writeFileSync(${JSON.stringify(ready)}, ""); setInterval(() => {}, 1000); }\n`);
  const r = await launch(script);
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /rank 0 \(local rank 0 on node 0\) was killed by SIGKILL/);
});

test("launch --backend nccl: SIGINT to launch reaches every process", async () => {
  const script = join(dir, "sigint.mjs");
  const seen = (rank: number) => join(dir, `sigint-${rank}`);
  writeFileSync(script, `import { writeFileSync } from "node:fs";
process.on("SIGINT", () => { writeFileSync(${JSON.stringify(dir)} + "/sigint-" + process.env.RANK, "yes"); process.exit(130); });
setInterval(() => {}, 1000);
console.log("ready");\n`);
  const r = await launch(script, { signalWhen: "ready", signal: "SIGINT" });
  assert.equal(r.code, 130, r.stderr);
  assert.ok(existsSync(seen(0)) && existsSync(seen(1)), "both ranks saw SIGINT");
  assert.doesNotMatch(r.stderr, /exited with code/, "a stop the user asked for is not reported as a failure");
});

test("launch --backend nccl: the processes meet through rendezvous('env://') at rank 0's TCPStore, no MPI involved", () => {
  const worker = join(root, "dist", "test", "helpers", "store_worker.js");
  const r = spawnSync(process.execPath, [bin, "launch", "--backend", "nccl", "--nproc-per-node", "3", worker], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { rank: number; worldSize: number; seen: string[] }).sort((a, b) => a.rank - b.rank);
  assert.deepEqual(out.map((o) => [o.rank, o.worldSize]), [[0, 3], [1, 3], [2, 3]]);
  for (const o of out) assert.deepEqual(o.seen, ["hello from 0", "hello from 1", "hello from 2"]);
});
