// DataLoader worker threads end with their iterator: return() stops them at once, an iterator left idle stops them
// after idleTimeout (and picks up where it was on its next call), and an iterator dropped after one batch frees them
// when it is garbage-collected. Measured as live worker threads (their 'exit' events), never as memory or timing.
import test from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { DataLoader } from "../src/data/index.js";
import { liveWorkerThreads } from "../src/data/worker_pool.js";
import type { Tensor } from "../src/tensor/tensor.js";
import { CountingDataset } from "./helpers/data_fixtures.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Waits (event loop running) until `ok()` holds; fails after `ms` with what was seen. */
async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`${what}: still ${liveWorkerThreads()} live worker threads after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const values = (batches: unknown[]) => batches.flatMap((b) => Array.from((b as [Tensor, Tensor])[0].dataSync()));

test("eight iterators dropped after one batch free their worker threads once collected", async () => {
  const base = liveWorkerThreads();
  // idleTimeout 0: only unreachability can stop these workers.
  const loader = new DataLoader(new CountingDataset(64), { batchSize: 4, numWorkers: 2, idleTimeout: 0 });
  for (let i = 0; i < 8; i++) {
    const first = loader[Symbol.iterator]().next();
    assert.equal(first.done, false);
  }
  assert.equal(liveWorkerThreads(), base + 16, "each dropped iterator still holds its 2 workers before GC");
  await until("after gc", () => {
    gc();
    return liveWorkerThreads() === base;
  });
});

test("return() stops an iterator's workers at once, sync and async", async () => {
  const base = liveWorkerThreads();
  const loader = new DataLoader(new CountingDataset(64), { batchSize: 4, numWorkers: 2, idleTimeout: 0 });
  const it = loader[Symbol.iterator]();
  it.next();
  it.return!();
  await until("after return()", () => liveWorkerThreads() === base);
  for await (const _ of loader) break;
  await until("after break in for await", () => liveWorkerThreads() === base);
});

test("an idle iterator stops its workers, then resumes with the same batches", async () => {
  const base = liveWorkerThreads();
  const ds = new CountingDataset(40);
  const expected = values([...new DataLoader(ds, { batchSize: 4 })]);
  const loader = new DataLoader(ds, { batchSize: 4, numWorkers: 2, idleTimeout: 50, prefetchFactor: 1 });
  const it = loader[Symbol.iterator]();
  const got: unknown[] = [it.next().value, it.next().value];
  assert.ok(liveWorkerThreads() > base);
  await until("idle workers stop", () => liveWorkerThreads() === base);
  for (let r = it.next(); !r.done; r = it.next()) got.push(r.value);
  assert.deepEqual(values(got), expected);
  // The async form too.
  const agot: unknown[] = [];
  const ait = loader[Symbol.asyncIterator]();
  agot.push((await ait.next()).value);
  await until("idle async workers stop", () => liveWorkerThreads() === base);
  for (let r = await ait.next(); !r.done; r = await ait.next()) agot.push(r.value);
  assert.deepEqual(values(agot), expected);
  loader.close();
  await until("after the epochs", () => liveWorkerThreads() === base);
});
