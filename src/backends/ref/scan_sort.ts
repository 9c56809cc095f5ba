// Reference scans, sorts, gathers and scatters: plain loops, the executable spec of the kernels the native and
// future CUDA backends implement.
import { castValue } from "../../core/dtype.js";
import { opError } from "../../core/errors.js";
import { numelOf } from "../../core/shape.js";
import type { BitwiseOp, ScanOp, View } from "../../ops/kernels.js";
import { positions } from "./strided.js";

export function scan(op: ScanOp, x: View, out: View, outer: number, n: number, inner: number): void {
  const X = x.storage.data;
  const Y = out.storage.data;
  const prod = op === "prod";
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let acc = prod ? 1 : 0;
      for (let r = 0; r < n; r++) {
        const v = X[x.offset + base + r * inner];
        acc = castValue(out.dtype, prod ? acc * v : acc + v);
        Y[out.offset + base + r * inner] = acc;
      }
    }
  }
}

/** Ascending order with NaN above everything (PyTorch's); ties keep their input order (the sort is stable). */
function compareAsc(a: number, b: number): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sort(x: View, values: View, indices: View, outer: number, n: number, inner: number, descending: boolean): void {
  const X = x.storage.data;
  const V = values.storage.data;
  const I = indices.storage.data;
  const order = Array.from({ length: n }, (_, k) => k);
  const row = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      for (let r = 0; r < n; r++) {
        row[r] = X[x.offset + base + r * inner];
        order[r] = r;
      }
      order.sort(descending ? (a, b) => compareAsc(row[b], row[a]) : (a, b) => compareAsc(row[a], row[b]));
      for (let r = 0; r < n; r++) {
        V[values.offset + base + r * inner] = row[order[r]];
        I[indices.offset + base + r * inner] = order[r];
      }
    }
  }
}

/** Row-major coordinates of element i of shape. */
function coords(shape: readonly number[], i: number, out: number[]): void {
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
}

function checkIndex(op: string, k: number, size: number, dim: number): void {
  if (!(k >= 0 && k < size && k === Math.floor(k))) {
    throw opError(op, `index ${k} is out of bounds for dimension ${dim} with size ${size}`);
  }
}

export function gather(x: View, index: View, out: View, dim: number): void {
  const X = x.storage.data;
  const Y = out.storage.data;
  const idx = index.storage.data;
  const ip = positions(index);
  const n = numelOf(index.shape);
  const c = new Array<number>(index.shape.length).fill(0);
  for (let e = 0; e < n; e++) {
    coords(index.shape, e, c);
    const k = idx[ip ? ip[e] : index.offset + e];
    checkIndex("gather", k, x.shape[dim], dim);
    let p = x.offset;
    for (let d = 0; d < c.length; d++) p += (d === dim ? k : c[d]) * x.strides[d];
    Y[out.offset + e] = X[p];
  }
}

export function scatter(src: View, index: View, out: View, dim: number, accumulate: boolean): void {
  const S = src.storage.data;
  const Y = out.storage.data;
  const idx = index.storage.data;
  const ip = positions(index);
  const n = numelOf(index.shape);
  const c = new Array<number>(index.shape.length).fill(0);
  const outStrides = out.shape.map((_, d) => numelOf(out.shape.slice(d + 1)));
  for (let e = 0; e < n; e++) {
    coords(index.shape, e, c);
    const k = idx[ip ? ip[e] : index.offset + e];
    checkIndex("scatter", k, out.shape[dim], dim);
    let p = out.offset;
    let q = src.offset;
    for (let d = 0; d < c.length; d++) {
      p += (d === dim ? k : c[d]) * outStrides[d];
      q += c[d] * src.strides[d];
    }
    Y[p] = accumulate ? castValue(out.dtype, Y[p] + S[q]) : S[q];
  }
}

export function searchsorted(seq: View, values: View, out: View, outer: number, m: number, k: number, right: boolean): void {
  const Q = seq.storage.data;
  const V = values.storage.data;
  const Y = out.storage.data;
  for (let o = 0; o < outer; o++) {
    const base = seq.offset + o * m;
    for (let j = 0; j < k; j++) {
      const v = V[values.offset + o * k + j];
      let lo = 0;
      let hi = m;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const c = compareAsc(Q[base + mid], v);
        if (c < 0 || (right && c === 0)) lo = mid + 1;
        else hi = mid;
      }
      Y[out.offset + o * k + j] = lo;
    }
  }
}

const bitOps: Record<BitwiseOp, (a: number, b: number) => number> = {
  and: (a, b) => a & b,
  or: (a, b) => a | b,
  xor: (a, b) => a ^ b,
};
const bigOps: Record<BitwiseOp, (a: bigint, b: bigint) => bigint> = {
  and: (a, b) => a & b,
  or: (a, b) => a | b,
  xor: (a, b) => a ^ b,
};

export function bitwise(op: BitwiseOp, a: View, b: View, out: View): void {
  const A = a.storage.data;
  const B = b.storage.data;
  const Y = out.storage.data;
  const pa = positions(a);
  const pb = positions(b);
  const n = numelOf(out.shape);
  // int64 lives in a Float64Array: 32-bit JS operators would truncate it, BigInt keeps every bit.
  const wide = out.dtype === "int64";
  for (let i = 0; i < n; i++) {
    const u = A[pa ? pa[i] : a.offset + i];
    const v = B[pb ? pb[i] : b.offset + i];
    Y[out.offset + i] = wide ? Number(bigOps[op](BigInt(u), BigInt(v))) : castValue(out.dtype, bitOps[op](u, v));
  }
}
