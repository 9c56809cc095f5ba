// The whole-batch fast path. When a pipeline is made only of ToTensor, Normalize and the geometric
// transforms (RandomCrop, flips), a batch is produced straight from the dataset's uint8 HWC array
// into one float32 N x C x H x W buffer: value transforms fold into a 256-entry table per channel,
// geometric ones into row/column index maps. Random draws happen sample by sample, in the same
// order as the per-sample path, so both paths give identical batches for the same seed.

import { Compose } from "./compose.js";
import { composeMaps, identityMap, isGeometric, type AxisMap, type Geometric } from "./geometry.js";
import { Normalize, normalizeValue } from "./normalize.js";
import { ToTensor, u8ToUnit } from "./to_tensor.js";
import type { TransformLike } from "./transform.js";

export interface BatchPlan {
  geometric: Geometric[];
  normalizers: Normalize[];
  /** Fill value in [0,1] tensor space for padded pixels (before Normalize). */
  fill: number;
  /** Tables cached per channel count (building them per batch would cost more than a small batch). */
  tables?: { c: number; lut: Float32Array; fillOut: Float32Array; bits: [Uint32Array, Uint32Array, Uint32Array] };
}

function flatten(t: TransformLike, out: TransformLike[]): void {
  if (t instanceof Compose) for (const s of t.transforms) flatten(s, out);
  else out.push(t);
}

/** A plan for `transform`, or null when it contains anything the fast path does not know. */
export function planBatch(transform: TransformLike | null | undefined): BatchPlan | null {
  if (!transform) return null;
  const steps: TransformLike[] = [];
  flatten(transform, steps);
  let stage: "u8" | "tensor" | "normalized" = "u8";
  const geometric: Geometric[] = [];
  const normalizers: Normalize[] = [];
  const fills = new Set<number>();
  for (const s of steps) {
    if (s instanceof ToTensor) {
      if (stage !== "u8") return null;
      stage = "tensor";
    } else if (s instanceof Normalize) {
      if (stage === "u8") return null;
      normalizers.push(s);
      stage = "normalized";
    } else if (isGeometric(s)) {
      // After Normalize the fill would be in normalized units; keep that case on the per-sample path.
      if (stage === "normalized") return null;
      geometric.push(s);
      fills.add(stage === "u8" ? u8ToUnit(Math.max(0, Math.min(255, Math.round(s.fill)))) : s.fill);
    } else {
      return null;
    }
  }
  if (stage === "u8" || fills.size > 1) return null;
  return { geometric, normalizers, fill: fills.size ? [...fills][0]! : 0 };
}

/** Per-channel tables: lut[c * 256 + v] is the final float32 value of byte v in channel c. */
function buildTables(plan: BatchPlan, c: number): NonNullable<BatchPlan["tables"]> {
  if (plan.tables && plan.tables.c === c) return plan.tables;
  const params = plan.normalizers.map((n) => n.channelParams(c));
  const lut = new Float32Array(c * 256);
  const fillOut = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const chain = (x: number) => {
      let v = x;
      for (const p of params) v = normalizeValue(v, p.mean[k]!, p.std[k]!);
      return v;
    };
    for (let v = 0; v < 256; v++) lut[k * 256 + v] = chain(u8ToUnit(v));
    fillOut[k] = chain(plan.fill);
  }
  // The same tables as float32 bit patterns, per channel, for the word-copy path.
  const all = new Uint32Array(lut.buffer, lut.byteOffset, lut.length);
  const bits: [Uint32Array, Uint32Array, Uint32Array] = [all.subarray(0, 256), all.subarray(256, 512), all.subarray(512, 768)];
  plan.tables = { c, lut, fillOut, bits };
  return plan.tables;
}

export interface BatchSource {
  /** N x H x W x C uint8. */
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

/** Output [C, H, W] of one sample for this plan (geometric steps can change H and W). */
export function planOutputShape(plan: BatchPlan, src: BatchSource): [number, number, number] {
  let h = src.height, w = src.width;
  for (const g of plan.geometric) [h, w] = g.outputSize(h, w);
  return [src.channels, h, w];
}

const EMPTY_MAP = new Int32Array(0);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// 32-bit views of datasets' byte arrays, made once per array rather than once per batch.
const WORD_VIEWS = new WeakMap<Uint8Array, Uint32Array>();

interface RgbWordPath {
  src32: Uint32Array;
  out32: Uint32Array;
  l0: Uint32Array;
  l1: Uint32Array;
  l2: Uint32Array;
}

/**
 * The common case (3 channels, no geometry) reads 4 pixels as three 32-bit words and writes float32
 * bit patterns from per-channel tables: no per-byte loads, no float conversions. About 1.4x the
 * straightforward loop. Needs 4-byte alignment of the data and of every image, and little-endian.
 */
function rgbWordPath(plan: BatchPlan, src: BatchSource, out: Float32Array, outOffset: number, c: number, plane: number): RgbWordPath | null {
  if (c !== 3 || !LITTLE_ENDIAN || plane % 4 !== 0 || src.data.byteOffset % 4 !== 0 || out.byteOffset % 4 !== 0) return null;
  const [l0, l1, l2] = plan.tables!.bits;
  let src32 = WORD_VIEWS.get(src.data);
  if (!src32) {
    src32 = new Uint32Array(src.data.buffer, src.data.byteOffset, Math.floor(src.data.byteLength / 4));
    WORD_VIEWS.set(src.data, src32);
  }
  return { src32, out32: new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, out.length - outOffset), l0, l1, l2 };
}

function copyRgbWords(src: Uint32Array, w0: number, out: Uint32Array, o0: number, plane: number, l0: Uint32Array, l1: Uint32Array, l2: Uint32Array): void {
  let w = w0;
  for (let p = 0; p < plane; p += 4, w += 3) {
    const a = src[w]!, b = src[w + 1]!, d = src[w + 2]!;
    const r = o0 + p, g = r + plane, bl = g + plane;
    out[r] = l0[a & 255]!;
    out[g] = l1[(a >>> 8) & 255]!;
    out[bl] = l2[(a >>> 16) & 255]!;
    out[r + 1] = l0[a >>> 24]!;
    out[g + 1] = l1[b & 255]!;
    out[bl + 1] = l2[(b >>> 8) & 255]!;
    out[r + 2] = l0[(b >>> 16) & 255]!;
    out[g + 2] = l1[b >>> 24]!;
    out[bl + 2] = l2[d & 255]!;
    out[r + 3] = l0[(d >>> 8) & 255]!;
    out[g + 3] = l1[(d >>> 16) & 255]!;
    out[bl + 3] = l2[d >>> 24]!;
  }
}

/**
 * Writes the transformed samples `indices` of `src` into `out` (float32, N x C x H x W) starting at
 * element `outOffset`. Returns the per-sample shape.
 */
export function runBatchPlan(
  plan: BatchPlan,
  src: BatchSource,
  indices: ArrayLike<number>,
  out: Float32Array,
  outOffset = 0,
): [number, number, number] {
  const { height: H, width: W, channels: C, data } = src;
  const { lut, fillOut } = buildTables(plan, C);
  const [, oh, ow] = planOutputShape(plan, src);
  const plane = oh * ow;
  const sampleOut = C * plane;
  const sampleIn = H * W * C;
  const n = indices.length;
  if (out.length - outOffset < n * sampleOut) throw new Error("runBatchPlan: output buffer too small");
  const idRows = plan.geometric.length ? identityMap(H) : EMPTY_MAP;
  const idCols = plan.geometric.length ? identityMap(W) : EMPTY_MAP;
  const fast3 = plan.geometric.length === 0 ? rgbWordPath(plan, src, out, outOffset, C, plane) : null;

  for (let b = 0; b < n; b++) {
    const idx = indices[b]!;
    const s0 = idx * sampleIn;
    const o0 = outOffset + b * sampleOut;
    if (plan.geometric.length === 0) {
      if (fast3) {
        copyRgbWords(fast3.src32, s0 / 4, fast3.out32, b * sampleOut, plane, fast3.l0, fast3.l1, fast3.l2);
      } else {
        for (let p = 0; p < plane; p++) for (let k = 0; k < C; k++) out[o0 + k * plane + p] = lut[k * 256 + data[s0 + p * C + k]!]!;
      }
      continue;
    }
    // Compose this sample's maps in pipeline order (this is where the random draws happen).
    let rows: AxisMap = idRows, cols: AxisMap = idCols;
    let h = H, w = W;
    for (const g of plan.geometric) {
      const step = g.drawStep(h, w);
      rows = composeMaps(rows, step.rows);
      cols = composeMaps(cols, step.cols);
      h = step.rows.length;
      w = step.cols.length;
    }
    for (let y = 0; y < oh; y++) {
      const sy = rows[y]!;
      for (let x = 0; x < ow; x++) {
        const sx = cols[x]!;
        const p = y * ow + x;
        if (sy < 0 || sx < 0) {
          for (let k = 0; k < C; k++) out[o0 + k * plane + p] = fillOut[k]!;
        } else {
          const s = s0 + (sy * W + sx) * C;
          for (let k = 0; k < C; k++) out[o0 + k * plane + p] = lut[k * 256 + data[s + k]!]!;
        }
      }
    }
  }
  return [C, oh, ow];
}
