// JPEG input (kindling predict): decoded to RGB close to what was encoded, damaged or oversized files refused with
// an error that names the input.
import test from "node:test";
import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { decodeJpeg, JpegError, jpegSize } from "../src/vision/jpeg.js";

function gradient(w: number, h: number): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 4;
      rgba[p] = Math.round((255 * x) / (w - 1));
      rgba[p + 1] = Math.round((255 * y) / (h - 1));
      rgba[p + 2] = 128;
      rgba[p + 3] = 255;
    }
  return rgba;
}

const encoded = (w: number, h: number) => new Uint8Array(jpeg.encode({ width: w, height: h, data: gradient(w, h) }, 95).data);

test("decodeJpeg: RGB pixels within JPEG's loss of the source", () => {
  const img = decodeJpeg(encoded(40, 30), "grad.jpg");
  assert.deepEqual([img.width, img.height, img.channels, img.data.length], [40, 30, 3, 40 * 30 * 3]);
  const src = gradient(40, 30);
  let worst = 0;
  for (let p = 0; p < 40 * 30; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(img.data[p * 3 + c]! - src[p * 4 + c]!));
  assert.ok(worst <= 12, `largest channel error ${worst}`);
});

test("decodeJpeg: truncated and garbage files are refused, naming the input", () => {
  const good = encoded(16, 16);
  assert.throws(() => decodeJpeg(good.subarray(0, 40), "cut.jpg"), (e: unknown) => e instanceof JpegError && /cut\.jpg: not a readable JPEG/.test(e.message));
  const junk = Uint8Array.from([0xff, 0xd8, 1, 2, 3, 4, 5, 6]);
  assert.throws(() => decodeJpeg(junk, "junk.jpg"), /junk\.jpg/);
});

test("decodeJpeg: a header claiming a huge image is refused before its pixels are allocated", () => {
  const bytes = encoded(16, 16).slice();
  // SOF0 (ff c0): length(2) precision(1) height(2) width(2)
  let sof = -1;
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0xff && bytes[i + 1] === 0xc0) { sof = i; break; }
  assert.ok(sof > 0, "the encoder writes a baseline frame header");
  bytes[sof + 5] = 0xea; bytes[sof + 6] = 0x60; // height 60000
  bytes[sof + 7] = 0xea; bytes[sof + 8] = 0x60; // width 60000
  assert.throws(() => decodeJpeg(bytes, "huge.jpg"), (e: unknown) => e instanceof JpegError && /huge\.jpg/.test(e.message) && /resolution|memory|limit/i.test(e.message));
});

test("decodeJpeg: the caller's pixel limit (maxPixels, default 100 MP) is checked from the frame header", () => {
  const bytes = encoded(16, 16).slice();
  let sof = -1;
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0xff && bytes[i + 1] === 0xc0) { sof = i; break; }
  bytes[sof + 5] = 0; bytes[sof + 6] = 200; // height 200
  bytes[sof + 7] = 1; bytes[sof + 8] = 44; // width 300
  assert.throws(() => decodeJpeg(bytes, "wide.jpg", { maxPixels: 50_000 }),
    (e: unknown) => e instanceof JpegError && /^wide\.jpg: the image is 300x200 \(0\.060 megapixels\), over this reader's limit of 0\.050 megapixels/.test(e.message));
  bytes[sof + 5] = 0x27; bytes[sof + 6] = 0x10; // height 10000
  bytes[sof + 7] = 0x2e; bytes[sof + 8] = 0xe0; // width 12000
  assert.throws(() => decodeJpeg(bytes, "huge.jpg"), /huge\.jpg: the image is 12000x10000 \(120\.0 megapixels\), over this reader's limit of 100\.0 megapixels/);
  assert.deepEqual(jpegSize(encoded(40, 30)), { width: 40, height: 30 });
});
