import type { Pool2dParams, View } from "../../ops/kernels.js";

export function maxPool2d(x: View, out: View, indices: View, p: Pool2dParams): void {
  const X = x.storage.data;
  const Y = out.storage.data;
  const I = indices.storage.data;
  for (let nc = 0; nc < p.N * p.C; nc++) {
    const xb = x.offset + nc * p.H * p.W;
    for (let oh = 0; oh < p.OH; oh++) {
      for (let ow = 0; ow < p.OW; ow++) {
        let best = -Infinity;
        let bi = -1;
        for (let kh = 0; kh < p.KH; kh++) {
          const ih = oh * p.strideH - p.padH + kh * p.dilH;
          if (ih < 0 || ih >= p.H) continue;
          for (let kw = 0; kw < p.KW; kw++) {
            const iw = ow * p.strideW - p.padW + kw * p.dilW;
            if (iw < 0 || iw >= p.W) continue;
            const v = X[xb + ih * p.W + iw];
            if (bi < 0 || v > best || v !== v) {
              best = v;
              bi = ih * p.W + iw;
              if (v !== v) break;
            }
          }
          if (best !== best) break;
        }
        const o = nc * p.OH * p.OW + oh * p.OW + ow;
        Y[out.offset + o] = best;
        I[indices.offset + o] = bi;
      }
    }
  }
}

export function maxPool2dBackward(gy: View, indices: View, gx: View, p: Pool2dParams): void {
  const G = gy.storage.data;
  const I = indices.storage.data;
  const D = gx.storage.data;
  D.fill(0, gx.offset, gx.offset + p.N * p.C * p.H * p.W);
  for (let nc = 0; nc < p.N * p.C; nc++) {
    for (let o = 0; o < p.OH * p.OW; o++) {
      const k = nc * p.OH * p.OW + o;
      const idx = I[indices.offset + k];
      if (idx >= 0) D[gx.offset + nc * p.H * p.W + idx] += G[gy.offset + k];
    }
  }
}

/** Window bounds and divisor of one avg-pool output, following PyTorch's clipping at the padded border. */
function avgWindow(p: Pool2dParams, oh: number, ow: number): [number, number, number, number, number] {
  let h0 = oh * p.strideH - p.padH;
  let w0 = ow * p.strideW - p.padW;
  let h1 = Math.min(h0 + p.KH, p.H + p.padH);
  let w1 = Math.min(w0 + p.KW, p.W + p.padW);
  const poolSize = (h1 - h0) * (w1 - w0);
  h0 = Math.max(h0, 0);
  w0 = Math.max(w0, 0);
  h1 = Math.min(h1, p.H);
  w1 = Math.min(w1, p.W);
  const div = p.divisorOverride > 0 ? p.divisorOverride : p.countIncludePad ? poolSize : (h1 - h0) * (w1 - w0);
  return [h0, h1, w0, w1, div];
}

export function avgPool2d(x: View, out: View, p: Pool2dParams): void {
  const X = x.storage.data;
  const Y = out.storage.data;
  for (let nc = 0; nc < p.N * p.C; nc++) {
    const xb = x.offset + nc * p.H * p.W;
    for (let oh = 0; oh < p.OH; oh++) {
      for (let ow = 0; ow < p.OW; ow++) {
        const [h0, h1, w0, w1, div] = avgWindow(p, oh, ow);
        let acc = 0;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) acc += X[xb + ih * p.W + iw];
        Y[out.offset + nc * p.OH * p.OW + oh * p.OW + ow] = acc / div;
      }
    }
  }
}

export function avgPool2dBackward(gy: View, gx: View, p: Pool2dParams): void {
  const G = gy.storage.data;
  const D = gx.storage.data;
  D.fill(0, gx.offset, gx.offset + p.N * p.C * p.H * p.W);
  for (let nc = 0; nc < p.N * p.C; nc++) {
    const xb = gx.offset + nc * p.H * p.W;
    for (let oh = 0; oh < p.OH; oh++) {
      for (let ow = 0; ow < p.OW; ow++) {
        const [h0, h1, w0, w1, div] = avgWindow(p, oh, ow);
        const g = G[gy.offset + nc * p.OH * p.OW + oh * p.OW + ow] / div;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) D[xb + ih * p.W + iw] += g;
      }
    }
  }
}
