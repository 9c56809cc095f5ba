// Multi-process tests of torch.distributed, DistributedDataParallel and DistributedSampler: each starts
// `mpirun -np 2 node dist_worker.js <scenario>` (test/helpers/dist_worker.ts checks the results on every rank).
// Skipped, with a message saying why, where mpirun or an MPI library is missing.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mpiMissing, mpirunFlavour } from "./helpers/mpi.js";

const worker = fileURLToPath(new URL("./helpers/dist_worker.js", import.meta.url));

const flavour = mpirunFlavour();
const why = mpiMissing();
const skip = why === null ? false : `${why}; multi-process tests skipped`;
if (skip) console.log(`# ${skip}`);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  seconds: number;
}

function mpirun(scenario: string, opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Run> {
  const args = flavour === "openmpi" ? ["--oversubscribe", "-np", "2"] : ["-np", "2"];
  const env = { ...process.env, KINDLING_DIST_WORKER: "1", OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1",
    OMPI_MCA_rmaps_base_oversubscribe: "1", ...opts.env };
  const start = Date.now();
  return new Promise((resolve) => {
    // KINDLING_DIST_* reach the ranks through mpirun's environment (Open MPI forwards it to local ranks).
    const child = spawn("mpirun", [...args, process.execPath, worker, scenario], { env, timeout: opts.timeoutMs ?? 60_000 });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code, signal) => resolve({ code, signal, out, seconds: (Date.now() - start) / 1000 }));
  });
}

function assertOk(r: Run, scenario: string): void {
  assert.equal(r.code, 0, `mpirun ${scenario} exited with ${r.code ?? r.signal}:\n${r.out}`);
  assert.match(r.out, new RegExp(`ok ${scenario} \\(world size 2\\)`));
}

test("every collective x op x dtype matches a single-process computation; async handles; bad input", { skip }, async () => {
  assertOk(await mpirun("collectives"), "collectives");
});

test("DDP on 2 ranks x batch 2 trains the tutorial net to the weights of 1 process x batch 4 (tiny and huge buckets)", { skip }, async () => {
  assertOk(await mpirun("ddp"), "ddp");
});

test("noSync accumulates locally, buffers follow rank 0, findUnusedParameters, DistributedSampler covers every index", { skip }, async () => {
  assertOk(await mpirun("nosync"), "nosync");
});

test("different models across ranks, and (in debug mode) different collective sizes, fail with a clear error", { skip }, async () => {
  assertOk(await mpirun("mismatch", { env: { KINDLING_DISTRIBUTED_DEBUG: "DETAIL" } }), "mismatch");
});

test("a rank that throws aborts the job: the other rank does not hang, and the message names the failed rank", { skip }, async () => {
  const r = await mpirun("throw", { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0, r.out);
  assert.equal(r.signal, null, `mpirun had to be killed by the test's timeout:\n${r.out}`);
  assert.match(r.out, /rank 1 of 2 failed \(exit code 1\): Error: deliberate failure on rank 1/);
  assert.doesNotMatch(r.out, /ok throw/);
});

test("a rank killed by SIGKILL makes mpirun stop the job, naming that rank", { skip }, async () => {
  const r = await mpirun("kill", { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0, r.out);
  assert.equal(r.signal, null, `mpirun had to be killed by the test's timeout:\n${r.out}`);
  assert.match(r.out, /rank 1 .*(exited on signal 9|Killed)/);
});

test("a collective a peer never joins fails after timeoutMs, naming the rank and the op", { skip }, async () => {
  const r = await mpirun("timeout", { timeoutMs: 30_000, env: { KINDLING_DIST_TIMEOUT_MS: "1500" } });
  assert.notEqual(r.code, 0, r.out);
  assert.equal(r.signal, null, `mpirun had to be killed by the test's timeout:\n${r.out}`);
  assert.match(r.out, /rank 0 of 2 failed .*rank 0: allReduce\(sum, float32\[4\]\) did not finish within 1500 ms/);
  assert.ok(r.seconds < 25, `took ${r.seconds} s`);
});

test("without mpirun a script runs as a world of one", { skip }, () => {
  const script = `import * as torch from "kindling";
    const d = torch.distributed; d.initProcessGroup({ worldSize: 1 });
    const t = torch.tensor([1.5, -2]); d.allReduce(t, { op: "avg" }); d.barrier();
    console.log(JSON.stringify([d.getRank(), d.getWorldSize(), t.tolist(), d.getBackendInfo().abi])); d.destroyProcessGroup();`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000, cwd: fileURLToPath(new URL("../..", import.meta.url)) });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").pop()!), [0, 1, [1.5, -2], flavour === "openmpi" ? "openmpi" : "mpich"]);
});
