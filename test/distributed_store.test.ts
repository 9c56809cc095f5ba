// torch.distributed.TCPStore and rendezvous: the store torchrun-style starts meet through (no MPI needed).
import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "kindling";

const { TCPStore, parseInitMethod, rendezvous } = torch.distributed;
const here = path.dirname(fileURLToPath(import.meta.url));

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("TCPStore: set/get/wait/add/compareSet/check/deleteKey between a master and a client", async () => {
  const master = await TCPStore.create("127.0.0.1", 0, { isMaster: true, timeoutMs: 5000 });
  const client = await TCPStore.create("127.0.0.1", master.port, { timeoutMs: 5000 });
  try {
    const pending = client.get("k"); // blocks until the master sets it
    await master.set("k", "v1");
    assert.equal(new TextDecoder().decode(await pending), "v1");
    await client.set("bin", new Uint8Array([0, 255, 7]));
    assert.deepEqual(Array.from(await master.get("bin")), [0, 255, 7]);
    assert.equal(await client.add("n", 5), 5);
    assert.equal(await master.add("n", -2), 3);
    // compareSet: swaps only when the current value matches, and returns what is stored now.
    assert.equal(new TextDecoder().decode(await client.compareSet("k", "wrong", "v2")), "v1");
    assert.equal(new TextDecoder().decode(await client.compareSet("k", "v1", "v2")), "v2");
    assert.equal(new TextDecoder().decode(await client.compareSet("fresh", "", "first")), "first");
    const w = client.wait(["a", "b"]);
    await master.set("a", "1");
    await master.set("b", "2");
    await w;
    assert.equal(await client.check(["a", "b"]), true);
    assert.equal(await client.deleteKey("a"), true);
    assert.equal(await client.check(["a", "b"]), false);
    await assert.rejects(client.add("k", 1), /key 'k' does not hold an integer/);
  } finally {
    client.close();
    master.close();
  }
});

test("TCPStore: get and wait time out naming the missing keys", async () => {
  const master = await TCPStore.create("127.0.0.1", 0, { isMaster: true, timeoutMs: 200 });
  try {
    await assert.rejects(master.get("never"), /get 'never': timed out after 200 ms waiting for key\(s\) 'never'/);
    await master.set("x", "1");
    await assert.rejects(master.wait(["x", "y"], 50), /timed out after 50 ms waiting for key\(s\) 'y'/);
  } finally {
    master.close();
  }
});

test("TCPStore: an unreachable master is a clear error after the timeout, and a busy port says so", async () => {
  const port = await freePort();
  const t0 = Date.now();
  await assert.rejects(TCPStore.create("127.0.0.1", port, { timeoutMs: 300 }),
    new RegExp(`could not reach the master at 127\\.0\\.0\\.1:${port} within 300 ms \\(ECONNREFUSED\\); check that rank 0 is running`));
  assert.ok(Date.now() - t0 >= 250, "it retried until the timeout");
  const master = await TCPStore.create("127.0.0.1", 0, { isMaster: true });
  try {
    await assert.rejects(TCPStore.create("127.0.0.1", master.port, { isMaster: true }), /cannot listen on .*EADDRINUSE.*pick another MASTER_PORT/);
  } finally {
    master.close();
  }
});

test("init methods: env:// needs MASTER_ADDR/MASTER_PORT, tcp://host:port is parsed, others are refused", () => {
  assert.deepEqual(parseInitMethod("env://", { MASTER_ADDR: "10.0.0.1", MASTER_PORT: "29500" }), { host: "10.0.0.1", port: 29500 });
  assert.throws(() => parseInitMethod("env://", { MASTER_ADDR: "x" }), /needs MASTER_PORT in the environment/);
  assert.throws(() => parseInitMethod("env://", { MASTER_ADDR: "x", MASTER_PORT: "99999" }), /MASTER_PORT must be a port number/);
  assert.deepEqual(parseInitMethod("tcp://node1:1234"), { host: "node1", port: 1234 });
  assert.deepEqual(parseInitMethod("tcp://[::1]:1234"), { host: "::1", port: 1234 });
  assert.throws(() => parseInitMethod("file:///tmp/x"), /not supported: use "env:\/\/" .* or "tcp:\/\/host:port"/);
  assert.throws(() => torch.distributed.initProcessGroup({ initMethod: "tcp://nohost" }), /initMethod "tcp:\/\/nohost" is not supported/);
});

test("rendezvous: three processes meet through rank 0's store (RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT)", async () => {
  const port = await freePort();
  const worker = path.join(here, "helpers", "store_worker.js");
  const n = 3;
  const runs = Array.from({ length: n }, (_, rank) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const env = { ...process.env, RANK: String(rank), WORLD_SIZE: String(n), MASTER_ADDR: "127.0.0.1", MASTER_PORT: String(port) };
    // All start together: a client that comes up before the master retries until it listens.
    const child = spawn(process.execPath, [worker], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  }));
  const results = (await Promise.all(runs)).map((r) => {
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as { rank: number; seen: string[]; ticket: number; won: boolean; leader: string };
  });
  for (const r of results) assert.deepEqual(r.seen, ["hello from 0", "hello from 1", "hello from 2"]);
  assert.deepEqual(results.map((r) => r.ticket).sort(), [1, 2, 3], "add is atomic: every ticket once");
  assert.equal(results.filter((r) => r.won).length, 1, "exactly one compareSet wins");
  assert.equal(new Set(results.map((r) => r.leader)).size, 1);
  await assert.rejects(rendezvous("env://", { env: { MASTER_ADDR: "127.0.0.1", MASTER_PORT: String(port), WORLD_SIZE: "2" } }), /rank is unknown: pass it or set RANK/);
});
