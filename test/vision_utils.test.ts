// makeGrid / saveImage / imshow like torchvision.utils.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromTypedArray } from "../src/tensor/create.js";
import type { Tensor } from "../src/tensor/tensor.js";
import { decodePng } from "../src/vision/png.js";
import { imshow, makeGrid, saveImage } from "../src/vision/utils.js";

const batch = (b: number, c: number, h: number, w: number, f: (i: number) => number) =>
  fromTypedArray(Float32Array.from({ length: b * c * h * w }, (_, i) => f(i)), [b, c, h, w], "float32");

test("makeGrid: layout, padding, padValue like torchvision", () => {
  const x = batch(5, 3, 2, 3, () => 1);
  const g = makeGrid(x, { nrow: 2, padding: 1, padValue: 0.5 });
  // xmaps = 2, ymaps = 3: height 3 * (2 + 1) + 1, width 2 * (3 + 1) + 1
  assert.deepEqual(g.shape, [3, 10, 9]);
  const d = g.dataSync();
  assert.equal(d[0], 0.5);
  assert.equal(d[1 * 9 + 1], 1); // first image starts at (1, 1)
  assert.equal(d[1 * 9 + 4], 0.5); // padding column between images
  assert.equal(d[7 * 9 + 5], 0.5); // the empty 6th cell
  // The tutorial: 4 images, default nrow 8 and padding 2 → 3 x 36 x 138
  assert.deepEqual(makeGrid(batch(4, 3, 32, 32, () => 0)).shape, [3, 36, 138]);
  // One image is returned as it is; gray becomes RGB.
  assert.deepEqual(makeGrid(batch(1, 3, 2, 2, () => 0)).shape, [3, 2, 2]);
  assert.deepEqual(makeGrid(batch(2, 1, 2, 2, () => 0), { padding: 0 }).shape, [3, 2, 4]);
});

test("makeGrid normalize: by valueRange or min/max, scaleEach", () => {
  const x = batch(2, 1, 1, 2, (i) => i * 2 - 1); // -1, 1, 3, 5
  const g = makeGrid(x, { normalize: true, padding: 0 }) as Tensor;
  assert.deepEqual(Array.from(g.dataSync().subarray(0, 4)), [0, 1 / 3, 2 / 3, 1].map(Math.fround));
  const r = makeGrid(x, { normalize: true, valueRange: [-1, 1], padding: 0 });
  assert.deepEqual(Array.from(r.dataSync().subarray(0, 4)), [0, 1, 1, 1]);
  const each = makeGrid(x, { normalize: true, scaleEach: true, padding: 0 });
  assert.deepEqual(Array.from(each.dataSync().subarray(0, 4)), [0, 1, 0, 1]);
});

test("saveImage and imshow write PNGs with torchvision's rounding", () => {
  const dir = mkdtempSync(join(tmpdir(), "kindling-img-"));
  try {
    const x = batch(2, 3, 2, 2, (i) => (i % 5) / 4);
    const p = saveImage(x, join(dir, "grid.png"), { padding: 1 });
    const img = decodePng(readFileSync(p));
    assert.deepEqual([img.width, img.height, img.channels], [7, 4, 3]);
    // First image pixel (0,0) at (1,1): channels are elements 0, 4, 8 of the tensor
    const px = Array.from(img.data.subarray((1 * 7 + 1) * 3, (1 * 7 + 1) * 3 + 3));
    assert.deepEqual(px, [0, 4, 8].map((i) => Math.trunc(Math.fround(Math.fround(((i % 5) / 4) * 255) + 0.5))));
    const single = fromTypedArray(Float32Array.from([0, 0.5, 1, 2, -1, 0.25]).map((v) => v), [3, 1, 2], "float32");
    const q = imshow(single, join(dir, "one.png"));
    const one = decodePng(readFileSync(q));
    // channels R = [0, 0.5], G = [1, 2], B = [-1, 0.25] → HWC pixels, clamped
    assert.deepEqual(Array.from(one.data), [0, 255, 0, 128, 255, 64]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
