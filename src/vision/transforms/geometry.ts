// Crops, pads and flips are separable: every output row comes from one input row and every output
// column from one input column (or from the fill value). Geometric transforms therefore describe
// themselves as a pair of index maps, which both the per-sample path and the whole-batch path
// apply — so the two paths produce identical pixels and draw the same random numbers.

import { fromTypedArray } from "../../tensor/create.js";
import type { Tensor } from "../../tensor/tensor.js";
import { isImageU8, type ImageU8 } from "./image.js";

export type PaddingMode = "constant" | "edge" | "reflect" | "symmetric";

/** Output index → input index along one axis; -1 means "fill". */
export type AxisMap = Int32Array;

export interface GeometricStep {
  rows: AxisMap;
  cols: AxisMap;
}

/** A transform that moves pixels without changing their values. */
export interface Geometric {
  /** Draw this sample's random parameters (in torchvision's order) for an h x w input. */
  drawStep(h: number, w: number): GeometricStep;
  /** Output size for an h x w input (deterministic even when positions are random). */
  outputSize(h: number, w: number): [number, number];
  /** The constant written where the maps say -1, in the value space of its input. */
  readonly fill: number;
}

export function isGeometric(t: unknown): t is Geometric {
  return typeof t === "object" && t !== null && typeof (t as Geometric).drawStep === "function";
}

/** Map a coordinate of the padded axis (already shifted by the leading pad) to the source axis of length n. */
export function padIndex(p: number, n: number, mode: PaddingMode): number {
  if (p >= 0 && p < n) return p;
  switch (mode) {
    case "constant":
      return -1;
    case "edge":
      return p < 0 ? 0 : n - 1;
    case "reflect": {
      if (n === 1) return 0;
      const period = 2 * n - 2;
      let q = Math.abs(p) % period;
      if (q >= n) q = period - q;
      return q;
    }
    case "symmetric": {
      const period = 2 * n;
      let q = ((p % period) + period) % period;
      if (q >= n) q = period - 1 - q;
      return q;
    }
  }
}

export function identityMap(n: number): AxisMap {
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = i;
  return m;
}

/** outer∘inner: `inner` maps the step's input to the source, `step` maps output to the step's input. */
export function composeMaps(inner: AxisMap, step: AxisMap): AxisMap {
  const out = new Int32Array(step.length);
  for (let i = 0; i < step.length; i++) out[i] = step[i]! < 0 ? -1 : inner[step[i]!]!;
  return out;
}

/** Apply row/column maps to an HWC uint8 image. */
export function gatherImage(img: ImageU8, rows: AxisMap, cols: AxisMap, fill: number): ImageU8 {
  const { width, channels: c, data } = img;
  const out = new Uint8Array(rows.length * cols.length * c);
  const f = Math.max(0, Math.min(255, Math.round(fill)));
  let o = 0;
  for (let y = 0; y < rows.length; y++) {
    const sy = rows[y]!;
    for (let x = 0; x < cols.length; x++) {
      const sx = cols[x]!;
      if (sy < 0 || sx < 0) {
        for (let k = 0; k < c; k++) out[o++] = f;
      } else {
        const s = (sy * width + sx) * c;
        for (let k = 0; k < c; k++) out[o++] = data[s + k]!;
      }
    }
  }
  return { width: cols.length, height: rows.length, channels: img.channels, data: out };
}

/** Apply row/column maps to the last two dims of a tensor (any leading dims, e.g. C x H x W). */
export function gatherTensor(t: Tensor, rows: AxisMap, cols: AxisMap, fill: number): Tensor {
  const shape = t.shape;
  if (shape.length < 2) throw new Error(`expected a tensor with at least 2 dims (..., H, W), got shape [${shape.join(", ")}]`);
  const h = shape[shape.length - 2]!, w = shape[shape.length - 1]!;
  const planes = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const src = t.dataSync();
  const out = new (src.constructor as { new (n: number): typeof src })(planes * rows.length * cols.length);
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    for (let y = 0; y < rows.length; y++) {
      const sy = rows[y]!;
      for (let x = 0; x < cols.length; x++) {
        const sx = cols[x]!;
        out[o++] = sy < 0 || sx < 0 ? fill : src[base + sy * w + sx]!;
      }
    }
  }
  return fromTypedArray(out, [...shape.slice(0, -2), rows.length, cols.length], t.dtype);
}

/** What the geometric transforms take and give back: an 8-bit HWC image or a C x H x W tensor. */
export type Image = ImageU8 | Tensor;

/** The spatial size of whatever flows through the transforms. */
export function sizeOf(x: unknown): [number, number] {
  if (isImageU8(x)) return [x.height, x.width];
  const t = x as Tensor;
  if (t && Array.isArray(t.shape) && t.shape.length >= 2) return [t.shape[t.shape.length - 2]!, t.shape[t.shape.length - 1]!];
  throw new TypeError("expected an image ({ width, height, channels, data }) or a tensor (..., H, W)");
}

export function applyStep(x: unknown, step: GeometricStep, fill: number): unknown {
  return isImageU8(x) ? gatherImage(x, step.rows, step.cols, fill) : gatherTensor(x as Tensor, step.rows, step.cols, fill);
}
