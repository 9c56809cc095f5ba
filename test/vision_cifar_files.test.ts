// Reading CIFAR-10 from both official layouts, and the errors for damaged copies.
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CifarDataError, checkCifar10Files, findCifar10, readCifar10 } from "../src/vision/datasets/cifar_files.js";
import { CLASSES, binBatch, labelOf, makeCifarFixtures, py2BatchPickle, py2MetaPickle } from "./helpers/cifar_fixtures.js";

for (const layout of ["py", "bin"] as const) {
  test(`reads the ${layout} layout: HWC data, targets, classes`, () => {
    const fx = makeCifarFixtures({ formats: [layout], perBatch: 3 });
    try {
      const train = readCifar10(fx.root, true);
      assert.equal(train.layout, layout);
      assert.equal(train.data.length, 15 * 3072);
      assert.deepEqual(train.targets, Array.from({ length: 15 }, (_, i) => labelOf("train", i)));
      assert.deepEqual(train.classes, CLASSES);
      for (const i of [0, 4, 14]) assert.deepEqual(train.data.subarray(i * 3072, (i + 1) * 3072), fx.imageHWC("train", i));
      const testSplit = readCifar10(fx.root, false);
      assert.equal(testSplit.targets.length, 3);
      assert.deepEqual(testSplit.data.subarray(2 * 3072, 3 * 3072), fx.imageHWC("test", 2));
    } finally {
      rmSync(fx.root, { recursive: true, force: true });
    }
  });
}

test("both layouts give identical arrays; python is preferred when both exist", () => {
  const fx = makeCifarFixtures();
  try {
    assert.equal(findCifar10(fx.root)?.layout, "py");
    const py = readCifar10(fx.root, true);
    const bin = readCifar10(fx.root, true, { layout: "bin", dir: join(fx.root, "cifar-10-batches-bin") });
    assert.deepEqual(py.data, bin.data);
    assert.deepEqual(py.targets, bin.targets);
    // root may also name the batches directory itself
    assert.equal(findCifar10(join(fx.root, "cifar-10-batches-bin"))?.layout, "bin");
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});

function expectError(fn: () => unknown, file: RegExp, problem: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CifarDataError, String(e));
    assert.match((e as Error).message, file);
    assert.match((e as Error).message, problem);
    return true;
  });
}

test("bin layout: truncated batch, label out of range, missing and empty files", () => {
  const fx = makeCifarFixtures({ formats: ["bin"] });
  const dir = join(fx.root, "cifar-10-batches-bin");
  try {
    truncateSync(join(dir, "data_batch_3.bin"), 3073 * 2 + 100);
    expectError(() => readCifar10(fx.root, true), /data_batch_3\.bin/, /not a whole number of 3073-byte records/);
    const bad = readFileSync(join(dir, "test_batch.bin"));
    bad[3073] = 10;
    writeFileSync(join(dir, "test_batch.bin"), bad);
    expectError(() => readCifar10(fx.root, false), /test_batch\.bin/, /label of record 1 is 10/);
    writeFileSync(join(dir, "data_batch_3.bin"), new Uint8Array(0));
    expectError(() => readCifar10(fx.root, true), /data_batch_3\.bin/, /is empty/);
    rmSync(join(dir, "data_batch_5.bin"));
    writeFileSync(join(dir, "data_batch_3.bin"), new Uint8Array(3073 * 3));
    expectError(() => readCifar10(fx.root, true), /data_batch_5\.bin/, /is missing/);
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});

test("py layout: truncated pickle, wrong record size, label mismatch, malicious content", () => {
  const fx = makeCifarFixtures({ formats: ["py"] });
  const dir = join(fx.root, "cifar-10-batches-py");
  try {
    const file = join(dir, "data_batch_2");
    const good = readFileSync(file);
    writeFileSync(file, good.subarray(0, good.length - 50));
    expectError(() => readCifar10(fx.root, true), /data_batch_2/, /cannot be unpickled/);
    // rows of 3073 bytes instead of 3072
    const rows = new Uint8Array(2 * 3000);
    writeFileSync(file, py2BatchPickle({ rows, labels: [1, 2], batchLabel: "x", filenames: ["a", "b"] }));
    expectError(() => readCifar10(fx.root, true), /data_batch_2/, /'data'|shape/);
    writeFileSync(file, py2BatchPickle({ rows: new Uint8Array(3 * 3072), labels: [1], batchLabel: "x", filenames: ["a"] }));
    expectError(() => readCifar10(fx.root, true), /data_batch_2/, /has 1 labels for 3 images|shape/);
    writeFileSync(file, py2BatchPickle({ rows: new Uint8Array(3 * 3072), labels: [12, 0, 0], batchLabel: "x", filenames: ["a", "b", "c"] }));
    expectError(() => readCifar10(fx.root, true), /data_batch_2/, /label of record 0 is 12/);
    writeFileSync(file, Buffer.from("800263706f7369780a73797374656d0a55026c7385522e", "hex"));
    expectError(() => readCifar10(fx.root, true), /data_batch_2/, /global 'posix\.system' is not allowed/);
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});

test("a batch file cut on a record boundary is refused, naming the file, the expected and the found counts", () => {
  for (const layout of ["bin", "py"] as const) {
    const fx = makeCifarFixtures({ formats: [layout], perBatch: 3 });
    const dir = join(fx.root, `cifar-10-batches-${layout}`);
    try {
      if (layout === "bin") {
        truncateSync(join(dir, "data_batch_4.bin"), 3073 * 2);
        const why = /holds 2 records, expected 3 \(as 5 of the 6 batch files in .* hold; the official files hold 10000 each\)/;
        expectError(() => readCifar10(fx.root, true), /data_batch_4\.bin/, why);
        expectError(() => checkCifar10Files({ layout, dir }), /data_batch_4\.bin/, why);
        // The test split alone is checked against the same rule: a cut test_batch is found too.
        truncateSync(join(dir, "test_batch.bin"), 3073);
        expectError(() => readCifar10(fx.root, false), /test_batch\.bin/, /holds 1 records, expected 3 \(as 4 of the 6/);
      } else {
        writeFileSync(join(dir, "test_batch"), py2BatchPickle({ rows: new Uint8Array(2 * 3072), labels: [1, 2], batchLabel: "x", filenames: ["a", "b"] }));
        expectError(() => readCifar10(fx.root, false), /test_batch/, /holds 2 records, expected 3 \(num_cases_per_batch in .*batches\.meta; the official files hold 10000 each\)/);
        writeFileSync(join(dir, "batches.meta"), py2MetaPickle(CLASSES, 0));
        expectError(() => readCifar10(fx.root, true), /batches\.meta/, /'num_cases_per_batch' is 0, expected a positive integer/);
      }
    } finally {
      rmSync(fx.root, { recursive: true, force: true });
    }
  }
});

test("not found: the message names the root and both layouts", () => {
  assert.throws(() => readCifar10("/nonexistent-kindling", true), /CIFAR-10 not found under \/nonexistent-kindling/);
});

// Opt-in: the real binary batches, when present (KINDLING_DATA or ../shared/data).
const realRoot = [process.env["KINDLING_DATA"], resolve("../shared/data")].find(
  (r) => r !== undefined && existsSync(join(r, "cifar-10-batches-bin", "data_batch_1.bin")),
);
test("real CIFAR-10 binary batches", { skip: realRoot ? false : "no real data found" }, () => {
  const layout = { layout: "bin" as const, dir: join(realRoot!, "cifar-10-batches-bin") };
  const train = readCifar10(realRoot!, true, layout);
  assert.equal(train.targets.length, 50000);
  assert.equal(train.data.length, 50000 * 3072);
  const counts = new Array(10).fill(0);
  for (const t of train.targets) counts[t]++;
  assert.deepEqual(counts, new Array(10).fill(5000));
  const testSplit = readCifar10(realRoot!, false, layout);
  assert.equal(testSplit.targets.length, 10000);
  assert.deepEqual(testSplit.classes, CLASSES);
});

