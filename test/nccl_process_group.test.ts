// initProcessGroup({ backend: "nccl" }) and DDP on it, and the MPI backend with CUDA tensors, without a GPU: the
// CUDA tensors live on the emulated driver (the real kernels compiled for the host, test/helpers/cuda_emulator.ts)
// and NCCL is the one-rank stand-in (test/fixtures/fake_libnccl.c). The per-process half is
// test/helpers/nccl_pg_worker.ts. It checks kindling's routing, staging and bucket logic, not NCCL or a GPU.
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
import { ncclDeviceIndex } from "../src/distributed/nccl_bootstrap.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const worker = path.join(here, "helpers", "nccl_pg_worker.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-nccl-pg-"));
const { fakeNccl: FAKE_NCCL, skip } = emulatedNccl(tmp);
const env = skip ? {} : { ...emulatedCudaEnv(tmp), KINDLING_NCCL_PATH: FAKE_NCCL!, KINDLING_NCCL_PG_WORKER: "1", NODE_TEST_CONTEXT: undefined };
const log = (name: string) => path.join(tmp, `${name}.log`);
const logLines = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l) : []);

function node(scenario: string, extra: Record<string, string | undefined> = {}): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [worker, scenario], { env: { ...env, ...extra }, encoding: "utf8", timeout: 300_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

test("initProcessGroup({ backend: \"nccl\" }) with world size 1: every collective on CUDA tensors goes through NCCL", { skip, timeout: 600_000 }, () => {
  const r = node("nccl1", { FAKE_NCCL_LOG: log("nccl1") });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /ok nccl1/);
  const lines = logLines(log("nccl1"));
  assert.ok(lines.includes("ncclCommInitRank nranks=1 rank=0 id0=0"), lines.join("\n"));
  // float32 sum/avg/max/min; int64 travels as ncclInt64 (4); barrier is a one-element float32 sum.
  for (const op of [0, 4, 2, 3]) assert.ok(lines.includes(`ncclAllReduce count=6 dtype=7 op=${op} stream=set`), `op ${op}:\n${lines.join("\n")}`);
  assert.ok(lines.includes("ncclAllReduce count=6 dtype=4 op=0 stream=set"));
  assert.ok(lines.includes("ncclAllReduce count=1 dtype=7 op=0 stream=set"), "barrier");
  for (const c of ["ncclBroadcast count=6", "ncclAllGather count=6", "ncclReduceScatter count=6"]) assert.ok(lines.some((l) => l.startsWith(c)), c);
  assert.equal(lines[lines.length - 1], "ncclCommDestroy ");
});

test("DDP with a CUDA module on the NCCL group trains to the weights of plain CPU training (1e-5)", { skip, timeout: 600_000 }, () => {
  const r = node("ddp1", { FAKE_NCCL_LOG: log("ddp1") });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /ok ddp1/);
  // The gradients went through NCCL as averaging all-reduces of float32 buckets.
  const avg = logLines(log("ddp1")).filter((l) => /^ncclAllReduce count=\d+ dtype=7 op=4 stream=set$/.test(l));
  assert.ok(avg.length >= 2 * 6, `only ${avg.length} bucket all-reduces reached NCCL`);
});

test("initProcessGroup({ backend: \"nccl\" }) without libnccl, or without CUDA: errors that say what is missing", { skip, timeout: 600_000 }, () => {
  const missing = path.join(tmp, "none", "libnccl.so.2");
  const a = node("errors", { KINDLING_NCCL_PATH: missing });
  assert.equal(a.code, 0, a.out);
  assert.match(a.out, /^NCCL \(libnccl\.so\.2\) is needed for torch\.distributed's "nccl" backend but could not be loaded/m);
  assert.ok(a.out.includes(`KINDLING_NCCL_PATH (set to ${missing})`), a.out);
  const b = node("errors", { KINDLING_LIBCUDA_PATH: path.join(tmp, "none", "libcuda.so.1") });
  assert.equal(b.code, 0, b.out);
  assert.match(b.out, /^initProcessGroup: the NCCL backend needs CUDA, which is not available: /m);
  const c = node("errors", { LOCAL_RANK: "-1" });
  assert.match(c.out, /LOCAL_RANK must be a non-negative integer, got "-1"/);
});

const mpiWhy = mpiMissing();
test("the MPI backend on CUDA tensors (host staging), 2 ranks under mpirun: collectives and DDP match the CPU", {
  skip: skip || (mpiWhy ? `${mpiWhy}; multi-process test skipped` : false), timeout: 600_000,
}, () => {
  const args = mpirunFlavour() === "openmpi" ? ["--oversubscribe", "-np", "2"] : ["-np", "2"];
  const r = spawnSync("mpirun", [...args, process.execPath, worker, "mpicuda"], {
    env: { ...env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1", OMPI_MCA_rmaps_base_oversubscribe: "1" },
    encoding: "utf8", timeout: 300_000,
  });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assert.match(out, /ok mpicuda/);
});

test("a rank's device is cuda:(LOCAL_RANK mod device count), LOCAL_RANK read as torchrun and mpirun set it", () => {
  assert.equal(ncclDeviceIndex(4, { LOCAL_RANK: "2" }), 2);
  assert.equal(ncclDeviceIndex(2, { LOCAL_RANK: "3" }), 1);
  assert.equal(ncclDeviceIndex(8, { OMPI_COMM_WORLD_LOCAL_RANK: "5" }), 5);
  assert.equal(ncclDeviceIndex(8, { LOCAL_RANK: "1", OMPI_COMM_WORLD_LOCAL_RANK: "5" }), 1);
  assert.equal(ncclDeviceIndex(3, {}), 0);
  assert.throws(() => ncclDeviceIndex(2, { LOCAL_RANK: "x" }), /LOCAL_RANK must be a non-negative integer, got "x"/);
  assert.throws(() => ncclDeviceIndex(0, {}), /needs a CUDA device, and this process sees none/);
});

/** The ids the ranks joined with, by rank, from the stand-in's log; and how many ids were made. */
function joins(file: string): { ids: Map<number, string>; made: number } {
  const ids = new Map<number, string>();
  let made = 0;
  for (const l of logLines(file)) {
    const m = /^ncclCommInitRankId rank=(\d) hash=([0-9a-f]{8})$/.exec(l);
    if (m) ids.set(Number(m[1]), m[2]!);
    if (l.startsWith("ncclGetUniqueId")) made++;
  }
  return { ids, made };
}

test("2 ranks under mpirun: rank 0's NCCL unique id reaches rank 1 by MPI broadcast", {
  skip: skip || (mpiWhy ? `${mpiWhy}; multi-process test skipped` : false), timeout: 600_000,
}, () => {
  const file = log("mpi-bootstrap");
  const args = mpirunFlavour() === "openmpi" ? ["--oversubscribe", "-np", "2"] : ["-np", "2"];
  const r = spawnSync("mpirun", [...args, process.execPath, worker, "bootstrap"], {
    env: { ...env, FAKE_NCCL_ANY_WORLD: "1", FAKE_NCCL_LOG: file, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1",
      OMPI_MCA_rmaps_base_oversubscribe: "1" },
    encoding: "utf8", timeout: 300_000,
  });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assert.match(out, /rank 0 of 2 on cuda:0/);
  assert.match(out, /rank 1 of 2 on cuda:0/);
  const { ids, made } = joins(file);
  assert.equal(made, 1, "only rank 0 makes the id");
  assert.equal(ids.size, 2, logLines(file).join("\n"));
  assert.equal(ids.get(1), ids.get(0));
});

test("2 torchrun-style ranks (RANK, WORLD_SIZE, MASTER_ADDR/PORT): the unique id travels through the TCPStore", { skip, timeout: 600_000 }, async () => {
  const file = log("store-bootstrap");
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const rank = (r: number) => new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, [worker, "bootstrap"], {
      env: { ...env, FAKE_NCCL_ANY_WORLD: "1", FAKE_NCCL_LOG: file, RANK: String(r), LOCAL_RANK: String(r), WORLD_SIZE: "2",
        MASTER_ADDR: "127.0.0.1", MASTER_PORT: port },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("exit", (c) => (c === 0 ? resolve(out) : reject(new Error(`rank ${r} exited ${c}: ${out}`))));
  });
  const [a, b] = await Promise.all([rank(0), rank(1)]);
  assert.match(a, /rank 0 of 2 on cuda:0/);
  // The emulated driver has one device: LOCAL_RANK 1 wraps around to it.
  assert.match(b, /rank 1 of 2 on cuda:0/);
  const { ids, made } = joins(file);
  assert.equal(made, 1);
  assert.equal(ids.size, 2, logLines(file).join("\n"));
  assert.equal(ids.get(1), ids.get(0));
});
