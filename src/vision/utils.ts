// torchvision.utils for kindling: makeGrid, saveImage, and an imshow that writes a PNG.

import { writeFileSync } from "node:fs";
import { fromTypedArray } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import { encodePng } from "./png.js";

export interface MakeGridOptions {
  nrow?: number;
  padding?: number;
  /** Shift and scale into [0, 1] by valueRange, or by the min and max of the input. */
  normalize?: boolean;
  valueRange?: [number, number] | null;
  /** Normalize each image separately (with normalize). */
  scaleEach?: boolean;
  padValue?: number;
}

/** Images (B x C x H x W, C x H x W, H x W, or a list of C x H x W) as one float32 tensor of shape [B, C, H, W]. */
function asBatch(input: Tensor | readonly Tensor[]): { data: Float32Array; b: number; c: number; h: number; w: number } {
  const list = Array.isArray(input) ? (input as readonly Tensor[]) : null;
  const parts = list ?? [input as Tensor];
  let b = 0, c = 0, h = 0, w = 0;
  const arrays: Float32Array[] = [];
  for (const t of parts) {
    let shape = t.shape.slice();
    if (list && shape.length === 3) shape = [1, ...shape];
    if (shape.length === 2) shape = [1, 1, ...shape];
    if (shape.length === 3) shape = shape[0] === 1 || shape[0] === 3 || shape[0] === 4 ? [1, ...shape] : [shape[0]!, 1, shape[1]!, shape[2]!];
    if (shape.length !== 4) throw new Error(`makeGrid: expected images of shape (B, C, H, W), (C, H, W) or (H, W), got [${t.shape.join(", ")}]`);
    const [tb, tc, th, tw] = shape as [number, number, number, number];
    if (arrays.length && (tc !== c || th !== h || tw !== w)) throw new Error("makeGrid: all images must have the same shape");
    [c, h, w] = [tc, th, tw];
    b += tb;
    arrays.push(Float32Array.from(t.dataSync() as ArrayLike<number>));
  }
  const data = new Float32Array(b * c * h * w);
  let o = 0;
  for (const a of arrays) {
    data.set(a, o);
    o += a.length;
  }
  // Gray images become RGB, as in torchvision.
  if (c === 1) {
    const rgb = new Float32Array(b * 3 * h * w);
    for (let i = 0; i < b; i++) for (let k = 0; k < 3; k++) rgb.set(data.subarray(i * h * w, (i + 1) * h * w), (i * 3 + k) * h * w);
    return { data: rgb, b, c: 3, h, w };
  }
  return { data, b, c, h, w };
}

function normalizeRange(d: Float32Array, range: [number, number] | null | undefined): void {
  let lo: number, hi: number;
  if (range) [lo, hi] = range;
  else {
    lo = Infinity;
    hi = -Infinity;
    for (const v of d) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const scale = 1 / Math.max(hi - lo, 1e-5);
  for (let i = 0; i < d.length; i++) d[i] = (Math.min(Math.max(d[i]!, lo), hi) - lo) * scale;
}

/** Tile images into one C x H' x W' grid (torchvision.utils.make_grid). */
export function makeGrid(input: Tensor | readonly Tensor[], opts: MakeGridOptions = {}): Tensor {
  const nrow = opts.nrow ?? 8;
  const padding = opts.padding ?? 2;
  const padValue = opts.padValue ?? 0;
  const { data, b, c, h, w } = asBatch(input);
  if (opts.normalize) {
    if (opts.scaleEach) for (let i = 0; i < b; i++) normalizeRange(data.subarray(i * c * h * w, (i + 1) * c * h * w), opts.valueRange);
    else normalizeRange(data, opts.valueRange);
  }
  // A single image comes back as it is, without padding (torchvision does the same).
  if (b === 1) return fromTypedArray(data, [c, h, w], "float32");
  const xmaps = Math.min(nrow, b);
  const ymaps = Math.ceil(b / xmaps);
  const cellH = h + padding, cellW = w + padding;
  const gh = cellH * ymaps + padding, gw = cellW * xmaps + padding;
  const grid = new Float32Array(c * gh * gw).fill(padValue);
  for (let k = 0; k < b; k++) {
    const y0 = Math.floor(k / xmaps) * cellH + padding;
    const x0 = (k % xmaps) * cellW + padding;
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        const src = ((k * c + ch) * h + y) * w;
        grid.set(data.subarray(src, src + w), (ch * gh + y0 + y) * gw + x0);
      }
    }
  }
  return fromTypedArray(grid, [c, gh, gw], "float32");
}

/** C x H x W floats in [0, 1] → 8-bit HWC pixels, rounding like torchvision's save_image. */
export function toImageBytes(t: Tensor): { width: number; height: number; channels: 1 | 3 | 4; data: Uint8Array } {
  if (t.shape.length !== 3) throw new Error(`expected a C x H x W tensor, got [${t.shape.join(", ")}]`);
  const [c, h, w] = t.shape as [number, number, number];
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`expected 1, 3 or 4 channels, got ${c}`);
  const src = t.dataSync();
  const out = new Uint8Array(h * w * c);
  for (let k = 0; k < c; k++) {
    for (let p = 0; p < h * w; p++) {
      // grid.mul(255).add_(0.5).clamp_(0, 255) in float32, then truncation to uint8.
      const v = Math.fround(Math.fround(src[k * h * w + p]! * 255) + 0.5);
      out[p * c + k] = v >= 255 ? 255 : v > 0 ? Math.trunc(v) : 0;
    }
  }
  return { width: w, height: h, channels: c, data: out };
}

/** Save a tensor (or a batch, tiled with makeGrid) as a PNG (torchvision.utils.save_image). */
export function saveImage(input: Tensor | readonly Tensor[], path: string, opts: MakeGridOptions = {}): string {
  const grid = makeGrid(input, opts);
  writeFileSync(path, encodePng(toImageBytes(grid)));
  return path;
}

/**
 * The tutorial's imshow without a window: writes the image (C x H x W in [0, 1], e.g. a makeGrid
 * result after un-normalizing) to a PNG and returns its path.
 */
export function imshow(img: Tensor, path = "imshow.png"): string {
  writeFileSync(path, encodePng(toImageBytes(img.shape.length === 3 ? img : makeGrid(img))));
  return path;
}
