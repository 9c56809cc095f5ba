// PNG: round trips, every filter type and palette images decoded, clear errors for what is unsupported.
import test from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deflateSync } from "node:zlib";
import { ExitError } from "../src/cli/common.js";
import { PREDICT_MAX_PIXELS, readImage } from "../src/cli/image.js";
import { crc32 } from "../src/core/crc32.js";
import { PngError, decodePng, encodePng } from "../src/vision/png.js";

function pixels(n: number, seed: number): Uint8Array {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = (i * 37 + seed * 11 + ((i * i) >> 3)) & 0xff;
  return d;
}

for (const channels of [1, 2, 3, 4] as const) {
  test(`round trip, ${channels} channel(s)`, () => {
    const img = { width: 7, height: 5, channels, data: pixels(7 * 5 * channels, channels) };
    const png = encodePng(img);
    assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71]);
    assert.deepEqual(decodePng(png), img);
  });
}

// A test-side PNG writer that uses one chosen filter type (0-4) on every row, per the PNG spec.
function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}
function pngWithFilter(w: number, h: number, colorType: number, bpp: number, px: Uint8Array, filter: number, extra: Buffer[] = [], ihdrPatch?: (b: Buffer) => void): Uint8Array {
  const stride = w * bpp;
  const raw = Buffer.alloc((stride + 1) * h);
  const pa = (a: number, b: number, c: number) => {
    const p = a + b - c, x = Math.abs(p - a), y = Math.abs(p - b), z = Math.abs(p - c);
    return x <= y && x <= z ? a : y <= z ? b : c;
  };
  for (let y = 0; y < h; y++) {
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const cur = px[y * stride + x]!;
      const a = x >= bpp ? px[y * stride + x - bpp]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = y > 0 && x >= bpp ? px[(y - 1) * stride + x - bpp]! : 0;
      const pred = [0, a, b, (a + b) >> 1, pa(a, b, c)][filter]!;
      raw[y * (stride + 1) + 1 + x] = (cur - pred) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  ihdrPatch?.(ihdr);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr), ...extra, chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]);
}

for (const filter of [0, 1, 2, 3, 4]) {
  test(`decodes filter type ${filter} (RGB and RGBA)`, () => {
    const rgb = pixels(6 * 4 * 3, filter);
    assert.deepEqual(decodePng(pngWithFilter(6, 4, 2, 3, rgb, filter)).data, rgb);
    const rgba = pixels(6 * 4 * 4, filter + 9);
    const img = decodePng(pngWithFilter(6, 4, 6, 4, rgba, filter));
    assert.equal(img.channels, 4);
    assert.deepEqual(img.data, rgba);
  });
}

test("palette images decode to RGB, or RGBA with tRNS", () => {
  const plte = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255]);
  const idx = Uint8Array.from([0, 1, 2, 1, 0, 2]);
  const img = decodePng(pngWithFilter(3, 2, 3, 1, idx, 4, [chunk("PLTE", plte)]));
  assert.equal(img.channels, 3);
  assert.deepEqual([...img.data.subarray(0, 9)], [255, 0, 0, 0, 255, 0, 0, 0, 255]);
  const withAlpha = decodePng(pngWithFilter(3, 2, 3, 1, idx, 0, [chunk("PLTE", plte), chunk("tRNS", Buffer.from([0, 128]))]));
  assert.equal(withAlpha.channels, 4);
  assert.deepEqual([...withAlpha.data.subarray(0, 12)], [255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255]);
  assert.throws(() => decodePng(pngWithFilter(3, 2, 3, 1, Uint8Array.from([0, 5, 0, 0, 0, 0]), 0, [chunk("PLTE", plte)])), /palette index 5 is out of range/);
});

test("clear errors: not a PNG, truncated, bad CRC, 16-bit, interlaced, bad sizes", () => {
  const good = encodePng({ width: 4, height: 4, channels: 3, data: pixels(48, 1) });
  const err = (b: Uint8Array, re: RegExp) => assert.throws(() => decodePng(b, "x.png"), (e: unknown) => e instanceof PngError && re.test((e as Error).message) && /^x\.png: /.test((e as Error).message));
  err(Buffer.from("GIF89a........"), /not a PNG file/);
  err(good.subarray(0, good.length - 20), /truncated|missing IEND/);
  const badCrc = Uint8Array.from(good);
  badCrc[20] ^= 1;
  err(badCrc, /IHDR has a bad CRC/);
  err(pngWithFilter(2, 2, 2, 6, pixels(24, 0), 0, [], (b) => { b[8] = 16; }), /bit depth 16 is not supported/);
  err(pngWithFilter(2, 2, 2, 3, pixels(12, 0), 0, [], (b) => { b[12] = 1; }), /interlaced/);
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }), /expected 2x2x3 = 12/);
});

test("larger images (inflated into their own buffer) are unfiltered in place correctly, every filter type", () => {
  for (const filter of [0, 1, 2, 3, 4]) {
    const rgba = pixels(64 * 48 * 4, filter + 3);
    const img = decodePng(pngWithFilter(64, 48, 6, 4, rgba, filter));
    assert.deepEqual([img.width, img.height, img.channels], [64, 48, 4]);
    assert.deepEqual(Array.from(img.data), Array.from(rgba), `filter ${filter}`);
  }
});

/** A PNG whose header claims w x h but whose data is a few garbage bytes: only a size check can refuse it first. */
function claimsSize(w: number, h: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr), chunk("IDAT", Buffer.from([1, 2, 3, 4])), chunk("IEND", Buffer.alloc(0)),
  ]);
}

test("the decoded size is capped by the caller (maxPixels, default 100 MP), from the header, before inflating", () => {
  const tooBig = /the image is 12000x10000 \(120\.0 megapixels\), over this reader's limit of 100\.0 megapixels; scale it down first/;
  assert.throws(() => decodePng(claimsSize(12000, 10000), "big.png"), (e: unknown) => e instanceof PngError && /^big\.png: /.test(e.message) && tooBig.test(e.message));
  assert.throws(() => decodePng(claimsSize(300, 200), "small.png", { maxPixels: 50_000 }), /small\.png: the image is 300x200 \(0\.060 megapixels\), over this reader's limit of 0\.050 megapixels/);
  // Within the limit the same file gets as far as its (garbage) data.
  assert.throws(() => decodePng(claimsSize(300, 200), "small.png", { maxPixels: 60_000 }), /image data is corrupt/);
  assert.throws(() => decodePng(claimsSize(3, 2), "x.png", { maxPixels: 0 }), /maxPixels must be a positive integer/);
});

test("predict's image reader allows 64 megapixels and says so", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kindling-png-"));
  const file = path.join(dir, "bomb.png");
  fs.writeFileSync(file, claimsSize(9000, 8000));
  assert.throws(() => readImage(file), (e: unknown) => e instanceof ExitError && e.message.startsWith(`${file}: the image is 9000x8000 (72.0 megapixels), over this reader's limit of 64.0 megapixels`));
  assert.equal(PREDICT_MAX_PIXELS, 64_000_000);
});
