import { isContiguous, numelOf } from "../../core/shape.js";
import type { View } from "../../ops/kernels.js";

/**
 * Storage positions of a view's elements in row-major order, or null when they are simply offset + i.
 * The reference backend favours obviously-right loops over speed, so it materialises the index list.
 */
export function positions(v: View): Int32Array | null {
  if (isContiguous(v.shape, v.strides)) return null;
  const n = numelOf(v.shape);
  const out = new Int32Array(n);
  const nd = v.shape.length;
  const idx = new Array<number>(nd).fill(0);
  let pos = v.offset;
  for (let i = 0; i < n; i++) {
    out[i] = pos;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      pos += v.strides[d];
      if (idx[d] < v.shape[d]) break;
      pos -= v.strides[d] * v.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Reads a view into a fresh contiguous Float64Array (kernels then work on plain indices). */
export function readF64(v: View): Float64Array {
  const n = numelOf(v.shape);
  const out = new Float64Array(n);
  const src = v.storage.data;
  const p = positions(v);
  if (p) for (let i = 0; i < n; i++) out[i] = src[p[i]];
  else for (let i = 0; i < n; i++) out[i] = src[v.offset + i];
  return out;
}

export function data(v: View): View["storage"]["data"] {
  return v.storage.data;
}
