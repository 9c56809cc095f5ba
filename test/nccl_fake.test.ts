// The NCCL backend without a GPU: the real kindling_nccl addon and the real CUDA addon, run against stand-ins for
// the driver (test/fixtures/fake_libcuda.c) and for NCCL (test/fixtures/fake_libnccl.c, one rank, with error
// injection), both compiled here when a C compiler exists. Each case runs in a child process of its own, since a
// dlopened library stays loaded for the life of the process.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const DIST = path.join(root, "dist", "src");
const CUDA_ADDON = path.join(root, "build", "Release", "kindling_cuda.node");
const NCCL_ADDON = path.join(root, "build", "Release", "kindling_nccl.node");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-nccl-"));

function compile(src: string, out: string): string | null {
  const r = spawnSync("cc", ["-shared", "-fPIC", "-O1", "-o", path.join(tmp, out), path.join(root, "test", "fixtures", src)], { encoding: "utf8" });
  return r.status === 0 ? path.join(tmp, out) : null;
}
const noAddon = (!fs.existsSync(CUDA_ADDON) || !fs.existsSync(NCCL_ADDON)) && "kindling_cuda.node or kindling_nccl.node is not built";
const FAKE_CUDA = noAddon ? null : compile("fake_libcuda.c", "libcuda.so.1");
const FAKE_NCCL = noAddon ? null : compile("fake_libnccl.c", "libnccl.so.2");
const skip = noAddon || ((!FAKE_CUDA || !FAKE_NCCL) && "no C compiler to build the stand-in driver and NCCL");
const FATBIN = path.join(tmp, "stand-in.fatbin");
fs.writeFileSync(FATBIN, "not a real fatbin");

const PRELUDE = `
import * as torch from ${JSON.stringify(path.join(DIST, "index.js"))};
import { NcclCommunicator } from ${JSON.stringify(path.join(DIST, "backends", "nccl", "communicator.js"))};
`;

function run(code: string, env: Record<string, string | undefined> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", PRELUDE + code], {
    encoding: "utf8",
    env: { ...process.env, KINDLING_LIBCUDA_PATH: FAKE_CUDA ?? undefined, KINDLING_CUDA_FATBIN: FATBIN, KINDLING_NCCL_PATH: FAKE_NCCL ?? undefined, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const logLines = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").map((l) => l.trimEnd()).filter((l) => l) : []);

test("no libnccl: the error names NCCL, where it looked and how to install it", { skip: noAddon }, () => {
  const missing = path.join(tmp, "no-such-dir", "libnccl.so.2");
  const r = run(`try { NcclCommunicator.uniqueId(); console.log("loaded"); } catch (e) { console.log(e.message); }`, { KINDLING_NCCL_PATH: missing });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^NCCL \(libnccl\.so\.2\) is needed for torch\.distributed's "nccl" backend but could not be loaded/);
  assert.ok(r.stdout.includes(`KINDLING_NCCL_PATH (set to ${missing})`), r.stdout);
  assert.ok(r.stdout.includes(`Tried: ${missing} (`), r.stdout);
  assert.match(r.stdout, /pip install nvidia-nccl-cu12.*libnccl2/);
});

test("a library that is not NCCL: refused with the symbols it lacks", { skip }, () => {
  const r = run(`try { NcclCommunicator.uniqueId(); } catch (e) { console.log(e.message); }`, { KINDLING_NCCL_PATH: FAKE_CUDA! });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /libcuda\.so\.1 lacks ncclGetVersion, ncclGetUniqueId, .*ncclGetErrorString \(not NCCL 2, or too old\)/);
});

test("world size 1: every collective × dtype on CUDA tensors, on the collectives' stream", { skip }, () => {
  const log = path.join(tmp, "world1.log");
  const r = run(`
    const comm = NcclCommunicator.init(NcclCommunicator.uniqueId(), 1, 0);
    const out = { version: comm.version };
    for (const dtype of ["float32", "float64", "int32", "uint8"]) {
      const vals = [3, 1, 4, 1, 5, 9, 2, 6];
      const ops = dtype.startsWith("float") ? ["sum", "avg", "max", "min"] : ["sum", "max", "min"];
      for (const op of ops) {
        const t = torch.tensor(vals, { dtype }).to("cuda");
        comm.allReduce(t, op);
        out[dtype + "/allReduce/" + op] = Array.from(t.cpu().toTypedArray());
      }
      const b = torch.tensor(vals, { dtype }).to("cuda");
      comm.broadcast(b, 0);
      out[dtype + "/broadcast"] = Array.from(b.cpu().toTypedArray());
      // A view that starts 2 elements into its storage: the device address must include that offset.
      const big = torch.tensor([7, 7, ...vals], { dtype }).to("cuda");
      const view = big.narrow(0, 2, 8);
      const gathered = torch.zeros([8], { dtype }).to("cuda");
      comm.allGather(gathered, view);
      out[dtype + "/allGather"] = Array.from(gathered.cpu().toTypedArray());
      const scattered = torch.zeros([8], { dtype }).to("cuda");
      comm.reduceScatter(scattered, view, "max");
      out[dtype + "/reduceScatter"] = Array.from(scattered.cpu().toTypedArray());
    }
    comm.group(() => { const t = torch.tensor([1, 2], { dtype: "float32" }).to("cuda"); comm.allReduce(t); comm.broadcast(t, 0); });
    comm.checkAsyncError();
    comm.destroy();
    try { comm.allReduce(torch.tensor([1]).to("cuda")); } catch (e) { out.afterDestroy = e.message; }
    try { comm.allReduce(torch.tensor([1])); } catch (e) { out.cpuTensor = e.message; }
    try { comm.allReduce(torch.tensor([true, false], { dtype: "bool" }).to("cuda")); } catch (e) { out.bool = e.message; }
    console.log(JSON.stringify(out));
  `, { FAKE_NCCL_LOG: log });
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(o.version, "2.21.5");
  const vals = [3, 1, 4, 1, 5, 9, 2, 6];
  for (const dtype of ["float32", "float64", "int32", "uint8"]) {
    for (const op of dtype.startsWith("float") ? ["sum", "avg", "max", "min"] : ["sum", "max", "min"]) assert.deepEqual(o[`${dtype}/allReduce/${op}`], vals, `${dtype} ${op}`);
    assert.deepEqual(o[`${dtype}/broadcast`], vals, dtype);
    assert.deepEqual(o[`${dtype}/allGather`], vals, `${dtype}: allGather read the view at its offset`);
    assert.deepEqual(o[`${dtype}/reduceScatter`], vals, dtype);
  }
  assert.match(String(o.afterDestroy), /rank 0: the NCCL communicator was destroyed or aborted/);
  assert.match(String(o.cpuTensor), /the NCCL backend takes CUDA tensors, got one on cpu/);
  assert.match(String(o.bool), /dtype bool is not supported by the NCCL backend/);
  // What reached NCCL: the right ncclDataType_t and ncclRedOp_t, every collective on a stream of kindling's.
  const lines = logLines(log);
  assert.ok(lines.includes("ncclCommInitRank nranks=1 rank=0 id0=0"), lines.join("\n"));
  for (const [dtype, code] of [["float32", 7], ["float64", 8], ["int32", 2], ["uint8", 1]] as const) {
    for (const [op, opCode] of [["sum", 0], ["max", 2], ["min", 3], ...(dtype.startsWith("float") ? [["avg", 4]] : [])] as const) {
      assert.ok(lines.includes(`ncclAllReduce count=8 dtype=${code} op=${opCode} stream=set`), `${dtype} ${op}:\n${lines.join("\n")}`);
    }
    assert.ok(lines.includes(`ncclBroadcast count=8 dtype=${code} op=-1 stream=set`));
    assert.ok(lines.includes(`ncclAllGather count=8 dtype=${code} op=-1 stream=set`));
    assert.ok(lines.includes(`ncclReduceScatter count=8 dtype=${code} op=2 stream=set`));
  }
  const g = lines.indexOf("ncclGroupStart");
  assert.ok(g > 0 && lines[g + 3] === "ncclGroupEnd", lines.slice(g).join("\n"));
  assert.equal(lines[lines.length - 1], "ncclCommDestroy");
  assert.ok(lines.every((l) => !l.includes("stream=null")), "a collective ran on the legacy default stream");
});

test("collectives run beside the compute stream: their result is there once it is joined, host-waited or awaited", { skip }, async () => {
  // The stand-in driver runs a collective only when something waits for its stream, and its output reads as NaN
  // until then; it refuses a collective whose stream did not first wait for the compute stream.
  const r = run(`
    const comm = NcclCommunicator.init(NcclCommunicator.uniqueId(), 1, 0);
    const out = {};
    const read = (t) => Array.from(t.cpu().toTypedArray());
    const a = torch.tensor([1, 2, 3], { dtype: "float32" }).to("cuda");
    const ea = comm.allReduce(a, "sum", { async: true });
    out.unjoined = read(a);
    ea.joinCompute();
    out.joined = read(a);
    // Uploaded on the compute stream just before: the collective must wait for that (the stand-in checks).
    const b = torch.tensor([10, 20], { dtype: "float32" }).to("cuda");
    const eb = comm.broadcast(b, 0, { async: true });
    eb.synchronize();
    out.hostWaited = read(b);
    const c = torch.tensor([5, 6], { dtype: "float64" }).to("cuda");
    const ec = comm.allReduce(c, "max", { async: true });
    await ec.finished();
    out.awaited = read(c);
    out.finished = ec.isFinished();
    const d = torch.tensor([7], { dtype: "float32" }).to("cuda");
    comm.allReduce(d);
    out.plain = read(d);
    const g1 = torch.tensor([1, 2], { dtype: "float32" }).to("cuda"), g2 = torch.tensor([3], { dtype: "float32" }).to("cuda");
    const eg = comm.group(() => { out.sameEvent = comm.allReduce(g1) === comm.broadcast(g2, 0); }, { async: true });
    out.groupUnjoined = read(g1).concat(read(g2));
    eg.joinCompute();
    out.group = read(g1).concat(read(g2));
    out.emptyGroup = comm.group(() => {});
    // Many collectives in a row reuse their events.
    const many = torch.tensor([1], { dtype: "float32" }).to("cuda");
    for (let i = 0; i < 50; i++) comm.allReduce(many);
    out.many = read(many);
    comm.destroy();
    console.log(JSON.stringify(out));
  `);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(o.unjoined, [null, null, null], "with { async: true } the compute stream must not wait for the collective");
  assert.deepEqual(o.joined, [1, 2, 3]);
  assert.deepEqual(o.hostWaited, [10, 20]);
  assert.deepEqual(o.awaited, [5, 6]);
  assert.equal(o.finished, true);
  assert.deepEqual(o.plain, [7], "a collective without { async: true } is joined at once");
  assert.equal(o.sameEvent, true, "collectives in a group complete with the group");
  assert.deepEqual(o.groupUnjoined, [null, null, null]);
  assert.deepEqual(o.group, [1, 2, 3]);
  assert.equal(o.emptyGroup, null);
  assert.deepEqual(o.many, [1]);
  assert.doesNotMatch(r.stderr, /fake (NCCL|CUDA)/);
});

test("NCCL before 2.10 has no ncclAvg: avg is a sum, then a division", { skip }, () => {
  const log = path.join(tmp, "old.log");
  const r = run(`
    const comm = NcclCommunicator.init(NcclCommunicator.uniqueId(), 1, 0);
    const t = torch.tensor([2, 4], { dtype: "float32" }).to("cuda");
    comm.allReduce(t, "avg");
    console.log(comm.version);
  `, { FAKE_NCCL_LOG: log, FAKE_NCCL_VERSION: "20907" });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "2.9.7");
  assert.ok(logLines(log).includes("ncclAllReduce count=2 dtype=7 op=0 stream=set"), logLines(log).join("\n"));
});

test("a failing call and an asynchronous error: errors that name the rank, and the communicator is aborted", { skip }, () => {
  const code = `
    const out = {};
    const comm = NcclCommunicator.init(NcclCommunicator.uniqueId(), 1, 0);
    try { comm.allReduce(torch.tensor([1, 2], { dtype: "float32" }).to("cuda")); comm.checkAsyncError(); out.ok = true; }
    catch (e) { out.first = e.message; out.rank = e.rank; out.code = e.ncclCode; }
    try { comm.broadcast(torch.tensor([1], { dtype: "float32" }).to("cuda"), 0); } catch (e) { out.second = e.message; }
    console.log(JSON.stringify(out));
  `;
  const log = path.join(tmp, "fail.log");
  const a = run(code, { FAKE_NCCL_FAIL: "ncclAllReduce", FAKE_NCCL_LOG: log });
  assert.equal(a.code, 0, a.stderr);
  const o = JSON.parse(a.stdout);
  assert.match(o.first, /^rank 0: allReduce failed: ncclAllReduce: unhandled system error .*\(ncclResult_t 2\)$/);
  assert.equal(o.rank, 0);
  assert.equal(o.code, "NCCL_2");
  assert.match(o.second, /rank 0: the NCCL communicator was destroyed or aborted/);
  assert.ok(logLines(log).includes("ncclCommAbort"), logLines(log).join("\n"));

  const log2 = path.join(tmp, "async.log");
  const b = run(code, { FAKE_NCCL_ASYNC_ERROR: "1", FAKE_NCCL_LOG: log2 });
  assert.equal(b.code, 0, b.stderr);
  const p = JSON.parse(b.stdout);
  assert.match(p.first, /^NCCL failed on rank 0 of 1: remote process exited or there was a network error \(ncclResult_t 6\); the communicator was aborted$/);
  assert.equal(p.code, "NCCL_6");
  assert.ok(logLines(log2).includes("ncclCommAbort"));

  const c = run(`try { NcclCommunicator.init(NcclCommunicator.uniqueId(), 1, 0); } catch (e) { console.log(e.message); }`, { FAKE_NCCL_FAIL: "ncclCommInitRank" });
  assert.match(c.stdout, /^rank 0: could not join the NCCL communicator of 1 rank\(s\): ncclCommInitRank: unhandled system error/);
});

test("the unique id travels from rank 0 to rank 1 through the TCPStore, all 128 bytes intact", { skip }, async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = (rank: number) => new Promise<string>((resolve, reject) => {
    const code = `
      import { rendezvous } from ${JSON.stringify(path.join(DIST, "distributed", "tcp_store.js"))};
      import { shareUniqueId } from ${JSON.stringify(path.join(DIST, "distributed", "nccl_bootstrap.js"))};
      const { store } = await rendezvous("tcp://127.0.0.1:${port}", { rank: ${rank}, worldSize: 2, timeoutMs: 20000 });
      const id = await shareUniqueId(store, ${rank});
      console.log(Buffer.from(id).toString("hex"));
      // Rank 0 serves the store: it stays until rank 1 has read the id and let go.
      if (${rank} === 1) await store.add("read", 1);
      else {
        await store.wait(["read"]);
        await new Promise((r) => setTimeout(r, 300));
      }
      store.close();
    `;
    // Rank 1 has no NCCL at all: the id reaches it as bytes only.
    const env = { ...process.env, KINDLING_NCCL_PATH: rank === 0 ? FAKE_NCCL! : path.join(tmp, "none.so") };
    const p = spawn(process.execPath, ["--input-type=module", "-e", code], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("exit", (c) => (c === 0 ? resolve(out.trim()) : reject(new Error(`rank ${rank} exited ${c}: ${err}`))));
  });
  const [id0, id1] = await Promise.all([child(0), child(1)]);
  assert.equal(id0.length, 256);
  assert.equal(id1, id0);
  // The stand-in's id holds a zero byte and bytes above 0x7f: nothing was cut at a NUL or re-encoded as text.
  const bytes = Buffer.from(id0, "hex");
  assert.ok(bytes.includes(0) && bytes.some((b) => b > 0x7f));
});
