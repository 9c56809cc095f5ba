// DataLoader, samplers, collate, TensorDataset and randomSplit; worker threads included.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { DataLoader, TensorDataset, Subset, randomSplit, defaultCollate, BatchSampler, SequentialSampler, RandomSampler } from "../src/data/index.js";
import { fromTypedArray } from "../src/tensor/create.js";
import { Generator, manualSeed } from "../src/tensor/random.js";
import type { Tensor } from "../src/tensor/tensor.js";
import { BrokenSpecDataset, CountingDataset, LocalOnlyDataset, SlowDataset, StrayThrowDataset, ThreadTagDataset } from "./helpers/data_fixtures.js";
import { sameSpec } from "../src/data/same_spec.js";
import { pack, sliceBatch, unpack } from "../src/data/pack.js";

const arange = (n: number) => fromTypedArray(Float32Array.from({ length: n }, (_, i) => i), [n], "float32");
const list = (t: Tensor) => Array.from(t.dataSync());

test("TensorDataset + DataLoader: batches, length, dropLast", () => {
  const x = fromTypedArray(Float32Array.from({ length: 20 }, (_, i) => i), [10, 2], "float32");
  const y = fromTypedArray(Float64Array.from({ length: 10 }, (_, i) => i % 4), [10], "int64");
  const ds = new TensorDataset(x, y);
  assert.equal(ds.length, 10);
  const [x3, y3] = ds.get(3);
  assert.deepEqual(x3!.shape, [2]);
  assert.deepEqual(list(x3!), [6, 7]);
  assert.equal(y3!.item(), 3);
  const loader = new DataLoader(ds, { batchSize: 4 });
  assert.equal(loader.length, 3);
  const batches = [...loader] as Tensor[][];
  assert.deepEqual(batches.map((b) => b[0]!.shape), [[4, 2], [4, 2], [2, 2]]);
  assert.deepEqual(list(batches[2]![1]!), [0, 1]);
  assert.equal(batches[0]![1]!.dtype, "int64");
  const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.equal([...dropped].length, 2);
});

test("shuffle is a permutation, reproducible with manualSeed or a generator", () => {
  const ds = new TensorDataset(arange(50));
  const epoch = (l: DataLoader) => [...l].flatMap((b) => list((b as Tensor[])[0]!));
  const loader = new DataLoader(ds, { batchSize: 8, shuffle: true });
  manualSeed(7);
  const a = epoch(loader);
  const a2 = epoch(loader);
  manualSeed(7);
  assert.deepEqual(epoch(loader), a);
  assert.notDeepEqual(a2, a, "a new epoch reshuffles");
  assert.deepEqual([...a].sort((p, q) => p - q), Array.from({ length: 50 }, (_, i) => i));
  const g1 = new DataLoader(ds, { batchSize: 8, shuffle: true, generator: new Generator(3) });
  const g2 = new DataLoader(ds, { batchSize: 8, shuffle: true, generator: new Generator(3) });
  assert.deepEqual(epoch(g1), epoch(g2));
});

test("samplers", () => {
  assert.deepEqual([...new SequentialSampler({ length: 3 })], [0, 1, 2]);
  const r = new RandomSampler({ length: 5 }, { generator: new Generator(1) });
  assert.deepEqual([...r].sort(), [0, 1, 2, 3, 4]);
  const rep = [...new RandomSampler({ length: 3 }, { replacement: true, numSamples: 10, generator: new Generator(1) })];
  assert.equal(rep.length, 10);
  assert.ok(rep.every((i) => i >= 0 && i < 3));
  assert.deepEqual([...new BatchSampler(new SequentialSampler({ length: 5 }), 2, false)], [[0, 1], [2, 3], [4]]);
  assert.deepEqual([...new BatchSampler(new SequentialSampler({ length: 5 }), 2, true)], [[0, 1], [2, 3]]);
});

test("defaultCollate: tensors, numbers, nested arrays, objects", () => {
  const b = defaultCollate([[arange(2), 1, 0.5, true, "a"], [arange(2), 2, 1.5, false, "b"]]) as unknown[];
  assert.deepEqual((b[0] as Tensor).shape, [2, 2]);
  assert.equal((b[1] as Tensor).dtype, "int64");
  assert.equal((b[2] as Tensor).dtype, "float64");
  assert.equal((b[3] as Tensor).dtype, "bool");
  assert.deepEqual(b[4], ["a", "b"]);
  const o = defaultCollate([{ x: 1 }, { x: 2 }]) as { x: Tensor };
  assert.deepEqual(list(o.x), [1, 2]);
  assert.throws(() => defaultCollate([arange(2), arange(3)]), /equal size/);
  assert.throws(() => defaultCollate([{ width: 1, height: 1, channels: 3, data: new Uint8Array(3) }]), /add transforms\.ToTensor/);
});

test("randomSplit: counts and fractions, disjoint, reproducible", () => {
  const ds = new TensorDataset(arange(10));
  const [a, b] = randomSplit(ds, [7, 3], new Generator(42));
  assert.equal(a!.length, 7);
  assert.equal(b!.length, 3);
  assert.ok(a instanceof Subset);
  const all = [...a!.indices, ...b!.indices].sort((p, q) => p - q);
  assert.deepEqual(all, Array.from({ length: 10 }, (_, i) => i));
  const [c] = randomSplit(ds, [7, 3], new Generator(42));
  assert.deepEqual(c!.indices, a!.indices);
  const parts = randomSplit(ds, [0.5, 0.25, 0.25], new Generator(1));
  assert.deepEqual(parts.map((p) => p.length), [6, 2, 2]);
  assert.throws(() => randomSplit(ds, [5, 4]), /does not equal the length/);
});

test("workers: same batches as the main thread, in order, sync and async", async () => {
  const ds = new CountingDataset(37);
  const main = [...new DataLoader(ds, { batchSize: 4 })] as [Tensor, Tensor][];
  for (const numWorkers of [1, 3]) {
    const loader = new DataLoader(ds, { batchSize: 4, numWorkers, prefetchFactor: 1 });
    const got = [...loader] as [Tensor, Tensor][];
    assert.equal(got.length, 10);
    got.forEach(([x, y], k) => {
      assert.deepEqual(list(x), list(main[k]![0]));
      assert.deepEqual(list(y), list(main[k]![1]));
      assert.equal(y.dtype, "int64");
    });
    const asyncGot: [Tensor, Tensor][] = [];
    for await (const b of loader) asyncGot.push(b as [Tensor, Tensor]);
    assert.deepEqual(asyncGot.map(([x]) => list(x)), main.map(([x]) => list(x)));
  }
});

test("workers: shuffle order matches numWorkers 0; random draws depend only on the seed", () => {
  const ds = new CountingDataset(40, -1, true);
  const run = (numWorkers: number) => {
    manualSeed(11);
    return [...new DataLoader(ds, { batchSize: 3, shuffle: true, numWorkers })].map((b) => list((b as Tensor[])[0]!));
  };
  const main = run(0);
  const w1 = run(1);
  const w3 = run(3);
  assert.deepEqual(w1, w3, "per-batch seeds: the worker count does not change the data");
  assert.deepEqual(run(2), w1, "reproducible");
  // Shuffle order (the even entries hold the index) is the same with and without workers.
  assert.deepEqual(w1.map((b) => b.filter((_, k) => k % 2 === 0)), main.map((b) => b.filter((_, k) => k % 2 === 0)));
});

test("persistentWorkers: the same pool serves several epochs, with identical results", async () => {
  const ds = new CountingDataset(23, -1, true);
  const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, numWorkers: 2, persistentWorkers: true });
  const fresh = new DataLoader(ds, { batchSize: 4, shuffle: true, numWorkers: 2 });
  try {
    for (let epoch = 0; epoch < 3; epoch++) {
      manualSeed(epoch);
      const a = [...loader].map((b) => list((b as Tensor[])[0]!));
      manualSeed(epoch);
      const b = [...fresh].map((b) => list((b as Tensor[])[0]!));
      assert.deepEqual(a, b);
    }
    let k = 0;
    for await (const _ of loader) if (++k === 2) break; // an early break drops the pool ...
    assert.equal([...loader].length, 6); // ... and the next epoch starts a new one
  } finally {
    loader.close();
  }
});

test("startWorkers: persistent workers start early, draw nothing, and serve the same batches", () => {
  const ds = new CountingDataset(23, -1, true);
  const epochOf = (early: boolean) => {
    const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, numWorkers: 2, persistentWorkers: true, generator: new Generator(9) });
    try {
      if (early) {
        loader.startWorkers();
        loader.startWorkers(); // already running: nothing more starts
      }
      return [...loader].map((b) => list((b as Tensor[])[0]!));
    } finally {
      loader.close();
    }
  };
  assert.deepEqual(epochOf(true), epochOf(false));
  const perEpoch = new DataLoader(ds, { batchSize: 4, numWorkers: 2 });
  assert.throws(() => perEpoch.startWorkers(), /startWorkers\(\) needs persistentWorkers: true/);
});

test("non-persistent workers: a finished epoch's threads serve the next epoch of the same dataset, not another", () => {
  const ds = new ThreadTagDataset(12);
  const loader = new DataLoader(ds, { batchSize: 3, numWorkers: 2 });
  const epoch = () => [...loader].flatMap((b) => {
    const [values, threads] = b as [Tensor, Tensor];
    return list(values).map((v, k) => [v, list(threads)[k]!]);
  });
  try {
    const first = epoch();
    const second = epoch();
    assert.deepEqual(second.map(([v]) => v), first.map(([v]) => v));
    assert.deepEqual(new Set(second.map(([, t]) => t)), new Set(first.map(([, t]) => t)), "the same threads");
    let k = 0;
    for (const _ of loader) if (++k === 2) break; // left early: its workers are stopped, not kept
    const afterBreak = epoch();
    assert.ok(afterBreak.every(([, t]) => !first.some(([, u]) => u === t)), "new threads after an early break");
    (ds as { tag: number }).tag = 100; // the dataset changed: its spec differs, so new threads rebuild it
    const changed = epoch();
    assert.deepEqual(changed.map(([v]) => v), first.map(([v]) => v! + 100));
    assert.ok(changed.every(([, t]) => !afterBreak.some(([, u]) => u === t)), "new threads for a changed dataset");
  } finally {
    loader.close();
  }
});

test("sameSpec: values compared deeply, typed arrays by content or shared memory, unknown objects never equal", () => {
  const sab = new SharedArrayBuffer(8);
  assert.ok(sameSpec({ a: [1, "x", null], b: { c: true } }, { a: [1, "x", null], b: { c: true } }));
  assert.ok(!sameSpec({ a: [1, 2] }, { a: [1, 3] }));
  assert.ok(!sameSpec({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(sameSpec(new Uint8Array(sab, 0, 4), new Uint8Array(sab, 0, 4)));
  assert.ok(sameSpec(Float32Array.from([1, 2]), Float32Array.from([1, 2])));
  assert.ok(!sameSpec(Float32Array.from([1, 2]), Float32Array.from([1, 2.5])));
  assert.ok(!sameSpec(Float32Array.from([1, 2]), Int32Array.from([1, 2])));
  assert.ok(!sameSpec(new Map([[1, 2]]), new Map([[1, 2]])));
  assert.ok(!sameSpec([1], { 0: 1 }));
});

test("workers: a custom collateFn runs in the main thread; batchSize null yields samples", () => {
  const ds = new CountingDataset(5);
  const loader = new DataLoader(ds, { batchSize: 2, numWorkers: 2, collateFn: (b) => b.length });
  assert.deepEqual([...loader], [2, 2, 1]);
  const single = [...new DataLoader(ds, { batchSize: null, numWorkers: 1 })] as [Tensor, number][];
  assert.equal(single.length, 5);
  assert.deepEqual(list(single[4]![0]), [4, 4.5]);
  assert.equal(single[4]![1], 1);
});

test("workers: an error names the sample index; datasets without workerSpec are refused", async () => {
  const ds = new CountingDataset(20, 13);
  assert.throws(() => [...new DataLoader(ds, { batchSize: 4, numWorkers: 2 })], /DataLoader worker \d: error while loading sample index 13: boom at 13/);
  await assert.rejects(async () => {
    for await (const _ of new DataLoader(ds, { batchSize: 4, numWorkers: 2 })) void _;
  }, /sample index 13/);
  // Without workerSpec(), an exported dataset is copied into the workers (test/data_loader_copy.test.ts).
  assert.deepEqual([...new DataLoader(new LocalOnlyDataset(), { numWorkers: 1 })].map((b) => list(b as Tensor)), [[0], [1], [2], [3]]);
  assert.throws(() => [...new DataLoader(new BrokenSpecDataset(), { numWorkers: 1 })], /could not rebuild the dataset: .*no_such_module/);
  // An exception outside any task reaches a synchronous loop too (it can't see 'error' events).
  assert.throws(() => [...new DataLoader(new StrayThrowDataset(2000), { batchSize: 2, numWorkers: 1 })], /crashed: stray callback failed/);
});

test("workers shut down: no hanging process after break, error, or an abandoned iterator", () => {
  const helper = new URL("./helpers/data_fixtures.js", import.meta.url).href;
  const loaderUrl = new URL("../src/data/index.js", import.meta.url).href;
  const script = `
    import { CountingDataset } from ${JSON.stringify(helper)};
    import { DataLoader } from ${JSON.stringify(loaderUrl)};
    const ds = new CountingDataset(1000);
    for (const b of new DataLoader(ds, { batchSize: 2, numWorkers: 2 })) break;
    for await (const b of new DataLoader(ds, { batchSize: 2, numWorkers: 2 })) break;
    try { for (const b of new DataLoader(new CountingDataset(50, 7), { batchSize: 2, numWorkers: 2 })); } catch (e) { console.log("caught", e.message.split(":")[0]); }
    const it = new DataLoader(ds, { batchSize: 2, numWorkers: 2 })[Symbol.iterator]();
    it.next();
    console.log("done");
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { timeout: 20000, encoding: "utf8" });
  assert.equal(r.error, undefined, "the child did not exit in time");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /caught DataLoader worker \d/);
  assert.match(r.stdout, /done/);
});

/**
 * Runs an ES-module script in a fresh node with `flags`. A synchronous loop that hangs blocks its whole thread
 * (no test timeout could fire), so such a hang ends in the spawn timeout instead, failing the test.
 */
function runChild(flags: string[], script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script], { timeout: 20000, encoding: "utf8" });
  assert.equal(r.error, undefined, `the child did not exit in time\n${r.stdout}\n${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const helperUrl = JSON.stringify(new URL("./helpers/data_fixtures.js", import.meta.url).href);
const dataUrl = JSON.stringify(new URL("../src/data/index.js", import.meta.url).href);

test("workers start under node flags that a Worker refuses in execArgv (heap size, expose-gc, stack size)", () => {
  const script = `
    import { CountingDataset } from ${helperUrl};
    import { DataLoader } from ${dataUrl};
    let n = 0;
    for (const [x] of new DataLoader(new CountingDataset(40), { batchSize: 4, numWorkers: 2 })) n += x.shape[0];
    for await (const [x] of new DataLoader(new CountingDataset(40), { batchSize: 4, numWorkers: 2 })) n += x.shape[0];
    console.log("samples", n, typeof gc);
  `;
  const r = runChild(["--max-old-space-size=512", "--expose-gc", "--stack-size=900"], script);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /samples 80 function/);
});

test("workers keep the main thread's loader flags (--import runs in every worker)", () => {
  // The preload marks each thread; the dataset reports what its thread saw.
  const preload = "data:text/javascript," + encodeURIComponent("globalThis.kindlingPreloaded = true;");
  const script = `
    import { PreloadProbeDataset } from ${helperUrl};
    import { DataLoader } from ${dataUrl};
    const seen = [...new DataLoader(new PreloadProbeDataset(6), { batchSize: null, numWorkers: 2 })];
    console.log("preloaded", seen.map(([, p]) => p).join(""));
  `;
  const r = runChild(["--import", preload], script);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /preloaded 111111/);
});

test("workers: process.exit() in dataset code fails a synchronous loop (no hang), naming the worker and its batches", () => {
  const script = `
    import { ExitingDataset } from ${helperUrl};
    import { DataLoader } from ${dataUrl};
    try {
      for (const b of new DataLoader(new ExitingDataset(64, 21), { batchSize: 4, numWorkers: 2, prefetchFactor: 1 })) void b;
      console.log("no error");
    } catch (e) {
      console.log("sync:", e.message);
    }
    try {
      for await (const b of new DataLoader(new ExitingDataset(64, 21), { batchSize: 4, numWorkers: 2, prefetchFactor: 1 })) void b;
      console.log("no error");
    } catch (e) {
      console.log("async:", e.message);
    }
  `;
  const r = runChild([], script);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /no error/);
  // 64 samples in tasks of 64 batches of 4: one task, on worker 0, holding batches 0-15 (sample 21 is in batch 5).
  assert.match(r.stdout, /sync: DataLoader worker 0 exited unexpectedly \(exit code 3\b.*while loading batches 0-15/);
  assert.match(r.stdout, /async: DataLoader worker 0 exited unexpectedly \(exit code 3\b/);
});

test("workers: a timeout names the batch it waited for and the worker that held it", async () => {
  // Tasks of 256 / 128 = 2 batches; sample 300 is in batch 2, the second task, sent to worker 1. The timeout leaves
  // worker start-up and batches 0-1 seconds to spare on a loaded machine; sample 300 sleeps far longer than it.
  const ds = new SlowDataset(1024, 300, 60_000);
  assert.throws(() => [...new DataLoader(ds, { batchSize: 128, numWorkers: 2, timeout: 2500 })],
    /DataLoader timed out after 2500 ms waiting for batches 2-3 from worker 1; raise the DataLoader's timeout option/);
  await assert.rejects(async () => {
    for await (const b of new DataLoader(ds, { batchSize: 128, numWorkers: 2, timeout: 2500 })) void b;
  }, /timed out after 2500 ms waiting for batches 2-3 from worker 1/);
});

test('batches of objects keep a "__proto__" key as a key, and null-prototype dictionaries are collated and moved too', () => {
  const sample = (i: number) => JSON.parse(`{"__proto__": ${i}, "x": ${i + 10}}`) as Record<string, number>;
  const collated = defaultCollate([sample(1), sample(2)]) as Record<string, Tensor>;
  assert.equal(Object.getPrototypeOf(collated), Object.prototype);
  assert.deepEqual(Object.keys(collated), ["__proto__", "x"]);
  assert.deepEqual(list(collated["__proto__"]!), [1, 2]);
  // Across threads: pack / unpack / sliceBatch rebuild objects the same way.
  const moved = unpack(pack(collated, new Set())) as Record<string, Tensor>;
  assert.deepEqual(Object.keys(moved), ["__proto__", "x"]);
  assert.deepEqual(list(moved["__proto__"]!), [1, 2]);
  const second = sliceBatch(moved, 1, 1) as Record<string, Tensor>;
  assert.deepEqual(list(second["__proto__"]!), [2]);
  assert.deepEqual(list(second["x"]!), [12]);
  // A null-prototype dictionary (what safetensors.load returns) is a plain object to the loader.
  const dict = Object.assign(Object.create(null) as Record<string, number>, { a: 1 });
  const fromDicts = defaultCollate([dict, dict]) as Record<string, Tensor>;
  assert.deepEqual(list(fromDicts["a"]!), [1, 1]);
  const packed = pack(fromDicts, new Set()) as Record<string, unknown>;
  assert.equal((packed["a"] as { __kindlingTensor?: boolean }).__kindlingTensor, true, "tensors inside are packed");
});
