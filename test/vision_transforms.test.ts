// Transforms: values and layouts like torchvision, padding modes, seeding, and the whole-batch fast
// path giving exactly the per-sample results.
import test from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { fromTypedArray } from "../src/tensor/create.js";
import { manualSeed } from "../src/tensor/random.js";
import type { Tensor } from "../src/tensor/tensor.js";
import { defaultCollate } from "../src/data/collate.js";
import * as T from "../src/vision/transforms/index.js";
import { padIndex } from "../src/vision/transforms/geometry.js";
import { planBatch } from "../src/vision/transforms/batch_plan.js";
import { CIFAR10 } from "../src/vision/datasets/cifar.js";
import { makeCifarFixtures } from "./helpers/cifar_fixtures.js";

const img = (w: number, h: number, c: number, f: (i: number) => number) =>
  ({ width: w, height: h, channels: c as 1 | 3, data: Uint8Array.from({ length: w * h * c }, (_, i) => f(i)) });
const list = (t: Tensor) => Array.from(t.dataSync());

test("ToTensor: HWC uint8 → CHW float32 / 255", () => {
  const t = new T.ToTensor().forward(img(2, 1, 3, (i) => i * 50));
  assert.deepEqual(t.shape, [3, 1, 2]);
  assert.equal(t.dtype, "float32");
  // pixel 0 = (0, 50, 100), pixel 1 = (150, 200, 250)
  assert.deepEqual(list(t), [0, 150, 50, 200, 100, 250].map((v) => Math.fround(v / 255)));
  const fromTensor = new T.ToTensor().forward(fromTypedArray(Uint8Array.from([0, 50, 100, 150, 200, 250]), [1, 2, 3], "uint8"));
  assert.deepEqual(list(fromTensor), list(t));
});

test("Normalize: per channel, float32 rounding like sub_().div_()", () => {
  const x = fromTypedArray(Float32Array.from([0, 1, 0.5, 0.25]), [2, 1, 2], "float32");
  const y = new T.Normalize([0.5, 0.1], [0.5, 0.3]).forward(x);
  const f = Math.fround;
  assert.deepEqual(list(y), [f(f(0 - 0.5) / 0.5), f(f(1 - 0.5) / 0.5), f(f(f(0.5) - f(0.1)) / f(0.3)), f(f(f(0.25) - f(0.1)) / f(0.3))]);
  assert.throws(() => new T.Normalize([0.5], [0]), /division by zero/);
  assert.throws(() => new T.Normalize([0.5, 0.5], [1, 1]).forward(fromTypedArray(new Float32Array(3 * 4), [3, 2, 2], "float32")), /2 mean\/std values for an input with 3 channels/);
});

test("padding modes follow numpy.pad / torchvision", () => {
  // source [a b c] = [0 1 2], pad 2 on the left: positions -2, -1
  const row = (mode: T.PaddingMode) => [-2, -1, 0, 1, 2, 3, 4].map((p) => padIndex(p, 3, mode));
  assert.deepEqual(row("constant"), [-1, -1, 0, 1, 2, -1, -1]);
  assert.deepEqual(row("edge"), [0, 0, 0, 1, 2, 2, 2]);
  assert.deepEqual(row("reflect"), [2, 1, 0, 1, 2, 1, 0]);
  assert.deepEqual(row("symmetric"), [1, 0, 0, 1, 2, 2, 1]);
});

test("RandomCrop with padding and RandomHorizontalFlip move pixels as expected", () => {
  const src = img(4, 4, 1, (i) => i + 1);
  // A crop of the full padded size has no random draw: it is exactly the padded image.
  const padded = new T.RandomCrop(6, { padding: 1 }).forward(src) as { data: Uint8Array; width: number };
  assert.equal(padded.width, 6);
  assert.deepEqual([...padded.data.subarray(0, 6)], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...padded.data.subarray(6, 12)], [0, 1, 2, 3, 4, 0]);
  const edge = new T.RandomCrop(6, { padding: 1, paddingMode: "edge" }).forward(src) as { data: Uint8Array };
  assert.deepEqual([...edge.data.subarray(0, 6)], [1, 1, 2, 3, 4, 4]);
  const flipped = new T.RandomHorizontalFlip(1).forward(src) as { data: Uint8Array };
  assert.deepEqual([...flipped.data.subarray(0, 4)], [4, 3, 2, 1]);
  assert.deepEqual([...(new T.RandomHorizontalFlip(0).forward(src) as { data: Uint8Array }).data], [...src.data]);
  // Seeded: same seed, same crops; all crops are windows of the padded image.
  const crop = new T.RandomCrop(2, { padding: 1 });
  manualSeed(5);
  const a = Array.from({ length: 10 }, () => [...(crop.forward(src) as { data: Uint8Array }).data]);
  manualSeed(5);
  const b = Array.from({ length: 10 }, () => [...(crop.forward(src) as { data: Uint8Array }).data]);
  assert.deepEqual(a, b);
  assert.ok(new Set(a.map(String)).size > 1, "crops vary");
  // On tensors too (after ToTensor)
  const t = new T.RandomHorizontalFlip(1).forward(new T.ToTensor().forward(src)) as Tensor;
  assert.deepEqual(list(t).slice(0, 4).map((v) => Math.round(v * 255)), [4, 3, 2, 1]);
  assert.throws(() => new T.RandomCrop(10).forward(src), /larger than input image size/);
});

test("Compose and Lambda; Lambda keeps a pipeline off the fast path", () => {
  const c = new T.Compose([new T.Lambda((x: number) => x + 1), (x: number) => x * 2]);
  assert.equal(c.forward(3), 8);
  assert.equal(planBatch(new T.Compose([new T.ToTensor(), new T.Lambda((x) => x)])), null);
  assert.equal(planBatch(new T.Compose([new T.Normalize([0], [1]), new T.ToTensor()])), null);
  assert.ok(planBatch(new T.Compose([new T.RandomCrop(32, { padding: 4 }), new T.RandomHorizontalFlip(), new T.ToTensor(), new T.Normalize([0.5], [0.5])])));
  assert.equal(planBatch(new T.Compose([new T.ToTensor(), new T.Normalize([0.5], [0.5]), new T.RandomHorizontalFlip()])), null);
});

test("fast path: whole-batch results equal per-sample results for the same seed", () => {
  const fx = makeCifarFixtures({ formats: ["bin"], perBatch: 4 });
  try {
    const pipelines = [
      () => new T.Compose([new T.ToTensor(), new T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])]),
      () => new T.Compose([new T.RandomCrop(32, { padding: 4 }), new T.RandomHorizontalFlip(), new T.ToTensor(), new T.Normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])]),
      () => new T.Compose([new T.ToTensor(), new T.RandomCrop(28, { padding: 2, paddingMode: "reflect" }), new T.RandomHorizontalFlip(0.5)]),
      () => new T.Compose([new T.RandomCrop([30, 26], { padding: [1, 2], paddingMode: "symmetric", fill: 0 }), new T.ToTensor()]),
    ];
    for (const make of pipelines) {
      const ds = new CIFAR10({ root: fx.root, transform: make() });
      const idx = [3, 0, 19, 7, 7, 12];
      manualSeed(123);
      const fast = ds.getBatch(idx)!;
      assert.ok(fast, "fast path taken");
      manualSeed(123);
      const slow = defaultCollate(idx.map((i) => ds.get(i))) as Tensor[];
      assert.deepEqual(fast[0].shape, slow[0]!.shape);
      assert.deepEqual(list(fast[0]), list(slow[0]!));
      assert.deepEqual(list(fast[1]), list(slow[1]!));
      assert.equal(fast[1].dtype, "int64");
    }
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});
