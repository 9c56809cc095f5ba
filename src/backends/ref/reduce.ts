import type { View } from "../../ops/kernels.js";

// x and out are contiguous: x is [outer, red, inner], out is [outer, inner].
export function sumDim(x: View, out: View, outer: number, red: number, inner: number): void {
  const s = x.storage.data;
  const d = out.storage.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = 0;
      const base = x.offset + o * red * inner + i;
      for (let r = 0; r < red; r++) acc += s[base + r * inner];
      d[out.offset + o * inner + i] = acc;
    }
  }
}

export function prodDim(x: View, out: View, outer: number, red: number, inner: number): void {
  const s = x.storage.data;
  const d = out.storage.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = 1;
      const base = x.offset + o * red * inner + i;
      for (let r = 0; r < red; r++) acc *= s[base + r * inner];
      d[out.offset + o * inner + i] = acc;
    }
  }
}

export function maxDim(
  x: View, values: View, indices: View, outer: number, red: number, inner: number, isMin: boolean,
): void {
  const s = x.storage.data;
  const dv = values.storage.data;
  const di = indices.storage.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = x.offset + o * red * inner + i;
      let best = s[base];
      let bi = 0;
      for (let r = 1; r < red && best === best; r++) {
        const v = s[base + r * inner];
        if (v !== v || (isMin ? v < best : v > best)) {
          best = v;
          bi = r;
        }
      }
      dv[values.offset + o * inner + i] = best;
      di[indices.offset + o * inner + i] = bi;
    }
  }
}
