// The CIFAR10 dataset class: torchvision's surface, loaders with and without workers, default root.
import test from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { c as tarCreate } from "tar";
import { DataLoader } from "../src/data/index.js";
import { manualSeed } from "../src/tensor/random.js";
import type { Tensor } from "../src/tensor/tensor.js";
import { CIFAR10 } from "../src/vision/datasets/cifar.js";
import * as T from "../src/vision/transforms/index.js";
import { CLASSES, labelOf, makeCifarFixtures } from "./helpers/cifar_fixtures.js";

const list = (t: Tensor) => Array.from(t.dataSync());

test("CIFAR10: length, get, classes, data, targets (both layouts)", () => {
  for (const layout of ["py", "bin"] as const) {
    const fx = makeCifarFixtures({ formats: [layout] });
    try {
      const train = new CIFAR10({ root: fx.root, train: true });
      assert.equal(train.length, 15);
      assert.deepEqual(train.classes, CLASSES);
      assert.equal(train.classToIdx["horse"], 7);
      assert.equal(train.data.length, 15 * 32 * 32 * 3);
      assert.deepEqual(train.targets.slice(0, 4), [0, 1, 2, 3].map((i) => labelOf("train", i)));
      const [image, label] = train.get(5) as [{ width: number; data: Uint8Array }, number];
      assert.equal(image.width, 32);
      assert.deepEqual(image.data, fx.imageHWC("train", 5));
      assert.equal(label, labelOf("train", 5));
      const testSet = new CIFAR10({ root: fx.root, train: false, transform: new T.ToTensor(), targetTransform: (y: number) => `c${y}` });
      assert.equal(testSet.length, 3);
      const [t, y] = testSet.get(-1) as [Tensor, string];
      assert.deepEqual(t.shape, [3, 32, 32]);
      assert.equal(y, `c${labelOf("test", 2)}`);
      assert.throws(() => testSet.get(3), /index 3 is out of range for 3 images/);
      assert.match(String(testSet), /Number of datapoints: 3/);
    } finally {
      rmSync(fx.root, { recursive: true, force: true });
    }
  }
});

test("CIFAR10 + DataLoader: the tutorial pipeline, with and without workers", async () => {
  const fx = makeCifarFixtures({ formats: ["py"], perBatch: 5 });
  try {
    const transform = new T.Compose([new T.ToTensor(), new T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])]);
    const trainset = new CIFAR10({ root: fx.root, train: true, download: true, transform, quiet: true });
    const epoch = (numWorkers: number) => {
      manualSeed(3);
      return [...new DataLoader(trainset, { batchSize: 4, shuffle: true, numWorkers })] as [Tensor, Tensor][];
    };
    const main = epoch(0);
    assert.equal(main.length, 7);
    assert.deepEqual(main[0]![0].shape, [4, 3, 32, 32]);
    assert.equal(main[0]![1].dtype, "int64");
    const x = list(main[0]![0]);
    assert.ok(x.every((v) => v >= -1 && v <= 1));
    const withWorkers = epoch(2);
    assert.deepEqual(withWorkers.map(([a, b]) => [list(a), list(b)]), main.map(([a, b]) => [list(a), list(b)]));
    // Random augmentation in workers: reproducible for a seed, independent of the worker count.
    const aug = new T.Compose([new T.RandomCrop(32, { padding: 4 }), new T.RandomHorizontalFlip(), new T.ToTensor()]);
    const augSet = new CIFAR10({ root: fx.root, transform: aug });
    const augEpoch = async (numWorkers: number) => {
      manualSeed(9);
      const out: number[][] = [];
      for await (const [images] of new DataLoader(augSet, { batchSize: 8, shuffle: true, numWorkers })) out.push(list(images as Tensor));
      return out;
    };
    assert.deepEqual(await augEpoch(1), await augEpoch(3));
    // A Lambda can't cross into workers: a clear error.
    const lambdaSet = new CIFAR10({ root: fx.root, transform: new T.Compose([new T.ToTensor(), new T.Lambda((t) => t)]) });
    assert.throws(() => [...new DataLoader(lambdaSet, { batchSize: 2, numWorkers: 1 })], /Lambda.*can't be rebuilt in a DataLoader worker/);
    // ... but works on the main thread, sample by sample.
    assert.equal([...new DataLoader(lambdaSet, { batchSize: 4 })].length, 7);
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});

test("CIFAR10: KINDLING_DATA is the default root", () => {
  const fx = makeCifarFixtures({ formats: ["bin"] });
  const saved = process.env["KINDLING_DATA"];
  try {
    process.env["KINDLING_DATA"] = fx.root;
    assert.equal(new CIFAR10({ train: false }).length, 3);
  } finally {
    if (saved === undefined) delete process.env["KINDLING_DATA"];
    else process.env["KINDLING_DATA"] = saved;
    rmSync(fx.root, { recursive: true, force: true });
  }
});

test("CIFAR10: download: true extracts an archive placed in root (constructor, synchronous)", async () => {
  const fx = makeCifarFixtures({ formats: ["py"], perBatch: 2 });
  const root = mkdtempSync(join(tmpdir(), "kindling-cifar-ctor-"));
  try {
    const archive = join(root, "cifar-10-python.tar.gz");
    await tarCreate({ gzip: true, cwd: fx.root, file: archive, portable: true }, ["cifar-10-batches-py"]);
    const md5 = createHash("md5").update(readFileSync(archive)).digest("hex");
    const ds = new CIFAR10({ root, download: true, quiet: true, md5, url: "http://127.0.0.1:9/never-used" });
    assert.equal(ds.length, 10);
    assert.throws(() => new CIFAR10({ root: join(root, "empty"), quiet: true }), /three ways/);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(fx.root, { recursive: true, force: true });
  }
});
