// The NCCL backend on a real GPU (scripts/gpu-check.sh runs it; no GPU machine has run it yet). Prints one JSON line.
//   node scripts/nccl-check.mjs           world size 1 on cuda:0: every collective × dtype, values checked, the
//                                          async-error poll, destroy
//   node scripts/nccl-check.mjs --two     two processes on the one GPU, meeting through a TCPStore on 127.0.0.1:
//                                          records what the installed NCCL does (before 2.30 it refuses with
//                                          "Duplicate GPU detected"); each rank has 60 s before it is killed
//   node scripts/nccl-check.mjs --pg      world size 1 through initProcessGroup({ backend: "nccl" }): every collective
//                                          and work handle against CPU results, then DDP on a CUDA module against
//                                          plain training (test/helpers/nccl_pg_worker.js: scenarios nccl1, ddp1)
//   node scripts/nccl-check.mjs --mpi2    `mpirun -np 2` on the one GPU, MPI backend with host staging: collectives
//                                          and DDP against the CPU (scenario mpicuda); says so when mpirun is missing
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => path.join(root, "dist", "src", p);
const torch = await import(dist("index.js"));
const { NcclCommunicator } = await import(dist("backends/nccl/communicator.js"));
const { openNccl } = await import(dist("backends/nccl/addon.js"));

const mode = process.argv[2] ?? "";

async function rank(r, port) {
  const { rendezvous } = await import(dist("distributed/tcp_store.js"));
  const { ncclCommunicatorFromStore } = await import(dist("distributed/nccl_bootstrap.js"));
  const { store } = await rendezvous(`tcp://127.0.0.1:${port}`, { rank: r, worldSize: 2, timeoutMs: 30_000 });
  const out = { rank: r };
  try {
    const comm = await ncclCommunicatorFromStore(store, r, 2);
    const t = torch.tensor([r + 1, 10 * (r + 1)], { dtype: "float32" }).to("cuda");
    comm.allReduce(t, "sum");
    out.allReduce = Array.from(t.cpu().toTypedArray());
    comm.checkAsyncError();
    comm.destroy();
  } catch (e) {
    out.error = e.message;
  }
  // Rank 0 serves the store until rank 1 is done with it.
  if (r === 1) await store.add("done", 1).catch(() => 0);
  else await store.wait(["done"], 60_000).catch(() => undefined);
  store.close();
  console.log(JSON.stringify(out));
}

/** Runs one scenario of the test worker (prints "ok <scenario>" when every check passed), killed after `ms`. */
function scenario(cmd, args, name, ms) {
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(cmd, args, { env: { ...process.env, KINDLING_NCCL_PG_WORKER: "1", OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => p.kill("SIGKILL"), ms);
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", (e) => (out += String(e)));
    p.on("close", (code, sig) => {
      clearTimeout(timer);
      resolve({ scenario: name, ok: code === 0 && out.includes(`ok ${name}`), code, signal: sig, seconds: (Date.now() - started) / 1000, tail: out.slice(-1500) });
    });
  });
}
const worker = path.join(root, "dist", "test", "helpers", "nccl_pg_worker.js");

if (mode === "--pg") {
  const runs = [await scenario(process.execPath, [worker, "nccl1"], "nccl1", 30_000), await scenario(process.execPath, [worker, "ddp1"], "ddp1", 30_000)];
  console.log(JSON.stringify({ nccl: openNccl().version, ok: runs.every((r) => r.ok), runs }));
  if (!runs.every((r) => r.ok)) process.exitCode = 1;
} else if (mode === "--mpi2") {
  const { spawnSync } = await import("node:child_process");
  if (spawnSync("mpirun", ["--version"]).status !== 0) {
    console.log(JSON.stringify({ ok: null, skipped: "mpirun is not installed on this machine: the MPI backend's host staging was not run" }));
  } else {
    const r = await scenario("mpirun", ["--oversubscribe", "-np", "2", process.execPath, worker, "mpicuda"], "mpicuda", 60_000);
    console.log(JSON.stringify({ ok: r.ok, runs: [r] }));
    if (!r.ok) process.exitCode = 1;
  }
} else if (mode === "--rank") {
  await rank(Number(process.argv[3]), Number(process.argv[4]));
} else if (mode === "--two") {
  const port = 29600 + Math.floor(Math.random() * 300);
  const one = (r) => new Promise((resolve) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), "--rank", String(r), String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code, sig) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").reverse().find((l) => l.startsWith("{"));
      resolve({ code, signal: sig, result: line ? JSON.parse(line) : null, stderr: err.slice(-1500) });
    });
  });
  const ranks = await Promise.all([one(0), one(1)]);
  const expect = [3, 30];
  const worked = ranks.every((x) => x.result?.allReduce?.join() === expect.join());
  console.log(JSON.stringify({ nccl: openNccl().version, twoRanksOneGpu: worked ? "works" : "refused or failed", ranks }));
} else {
  const nccl = openNccl();
  const comm = NcclCommunicator.init(NcclCommunicator.uniqueId(), 1, 0);
  const failures = [];
  const vals = [3, 1, 4, 1, 5, 9, 2, 6];
  const same = (what, t, want) => {
    const got = Array.from(t.cpu().toTypedArray());
    if (got.join() !== want.join()) failures.push(`${what}: got ${got.join()} want ${want.join()}`);
  };
  let calls = 0;
  for (const dtype of ["float32", "float64", "int32", "uint8"]) {
    for (const op of dtype.startsWith("float") ? ["sum", "avg", "max", "min"] : ["sum", "max", "min"]) {
      const t = torch.tensor(vals, { dtype }).to("cuda");
      comm.allReduce(t, op);
      same(`${dtype} allReduce ${op}`, t, vals);
      calls++;
    }
    const b = torch.tensor(vals, { dtype }).to("cuda");
    comm.broadcast(b, 0);
    same(`${dtype} broadcast`, b, vals);
    const big = torch.tensor([7, 7, ...vals], { dtype }).to("cuda");
    const g = torch.zeros([8], { dtype }).to("cuda");
    comm.allGather(g, big.narrow(0, 2, 8));
    same(`${dtype} allGather (offset view)`, g, vals);
    const s = torch.zeros([8], { dtype }).to("cuda");
    comm.reduceScatter(s, big.narrow(0, 2, 8), "max");
    same(`${dtype} reduceScatter`, s, vals);
    calls += 3;
  }
  // Ordering against the compute stream: a kernel writes, NCCL reduces, a kernel reads, with no host sync between.
  const x = torch.ones([1 << 20], { dtype: "float32" }).to("cuda").mul(3);
  comm.allReduce(x, "sum");
  const total = x.add(1).sum().item();
  if (total !== 4 * (1 << 20)) failures.push(`stream order: sum ${total}, want ${4 * (1 << 20)}`);
  comm.checkAsyncError();
  comm.destroy();
  console.log(JSON.stringify({ nccl: nccl.version, path: nccl.path, calls, ok: failures.length === 0, failures }));
  if (failures.length) process.exitCode = 1;
}
