import { opError } from "../../core/errors.js";
import type { View } from "../../ops/kernels.js";

// x is [outer, n, inner]; index has m entries; out is [outer, m, inner].
export function indexSelect(x: View, index: View, out: View, outer: number, n: number, inner: number): void {
  const X = x.storage.data;
  const I = index.storage.data;
  const Y = out.storage.data;
  const m = index.shape.length === 0 ? 1 : index.shape[0];
  for (let j = 0; j < m; j++) {
    const k = I[index.offset + j];
    if (!(k >= 0 && k < n)) throw opError("indexSelect", `index ${k} is out of bounds for dimension of size ${n}`);
  }
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++) {
      const k = I[index.offset + j];
      for (let i = 0; i < inner; i++) Y[out.offset + (o * m + j) * inner + i] = X[x.offset + (o * n + k) * inner + i];
    }
}

// src is [outer, m, inner]; out ([outer, n, inner], pre-filled) accumulates src rows at the indexed positions.
export function indexAdd(src: View, index: View, out: View, outer: number, n: number, inner: number): void {
  const S = src.storage.data;
  const I = index.storage.data;
  const Y = out.storage.data;
  const m = index.shape.length === 0 ? 1 : index.shape[0];
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++) {
      const k = I[index.offset + j];
      if (!(k >= 0 && k < n)) throw opError("indexAdd", `index ${k} is out of bounds for dimension of size ${n}`);
      for (let i = 0; i < inner; i++) Y[out.offset + (o * n + k) * inner + i] += S[src.offset + (o * m + j) * inner + i];
    }
}
