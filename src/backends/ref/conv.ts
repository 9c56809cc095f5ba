import type { Conv2dParams, View } from "../../ops/kernels.js";

// Direct convolution loops: slow, but each line maps onto the definition of conv2d with groups and dilation.
export function conv2d(x: View, w: View, bias: View | null, out: View, p: Conv2dParams): void {
  const X = x.storage.data;
  const Wd = w.storage.data;
  const Y = out.storage.data;
  const cg = p.C / p.groups;
  const og = p.OC / p.groups;
  for (let n = 0; n < p.N; n++) {
    for (let oc = 0; oc < p.OC; oc++) {
      const g = Math.floor(oc / og);
      const b0 = bias ? bias.storage.data[bias.offset + oc] : 0;
      for (let oh = 0; oh < p.OH; oh++) {
        for (let ow = 0; ow < p.OW; ow++) {
          let acc = b0;
          for (let c = 0; c < cg; c++) {
            const ic = g * cg + c;
            for (let kh = 0; kh < p.KH; kh++) {
              const ih = oh * p.strideH - p.padH + kh * p.dilH;
              if (ih < 0 || ih >= p.H) continue;
              for (let kw = 0; kw < p.KW; kw++) {
                const iw = ow * p.strideW - p.padW + kw * p.dilW;
                if (iw < 0 || iw >= p.W) continue;
                acc +=
                  X[x.offset + ((n * p.C + ic) * p.H + ih) * p.W + iw] *
                  Wd[w.offset + ((oc * cg + c) * p.KH + kh) * p.KW + kw];
              }
            }
          }
          Y[out.offset + ((n * p.OC + oc) * p.OH + oh) * p.OW + ow] = acc;
        }
      }
    }
  }
}

/** Visits every (input, weight, output) triple that conv2d multiplies together. */
function eachTap(p: Conv2dParams, fn: (xi: number, wi: number, yi: number) => void): void {
  const cg = p.C / p.groups;
  const og = p.OC / p.groups;
  for (let n = 0; n < p.N; n++)
    for (let oc = 0; oc < p.OC; oc++) {
      const g = Math.floor(oc / og);
      for (let oh = 0; oh < p.OH; oh++)
        for (let ow = 0; ow < p.OW; ow++) {
          const yi = ((n * p.OC + oc) * p.OH + oh) * p.OW + ow;
          for (let c = 0; c < cg; c++) {
            const ic = g * cg + c;
            for (let kh = 0; kh < p.KH; kh++) {
              const ih = oh * p.strideH - p.padH + kh * p.dilH;
              if (ih < 0 || ih >= p.H) continue;
              for (let kw = 0; kw < p.KW; kw++) {
                const iw = ow * p.strideW - p.padW + kw * p.dilW;
                if (iw < 0 || iw >= p.W) continue;
                fn(((n * p.C + ic) * p.H + ih) * p.W + iw, ((oc * cg + c) * p.KH + kh) * p.KW + kw, yi);
              }
            }
          }
        }
    }
}

function backwardInput(gy: View, w: View, gx: View, p: Conv2dParams): void {
  const G = gy.storage.data;
  const Wd = w.storage.data;
  const acc = new Float64Array(p.N * p.C * p.H * p.W);
  eachTap(p, (xi, wi, yi) => {
    acc[xi] += G[gy.offset + yi] * Wd[w.offset + wi];
  });
  gx.storage.data.set(acc, gx.offset);
}

function backwardWeight(gy: View, x: View, gw: View, p: Conv2dParams): void {
  const G = gy.storage.data;
  const X = x.storage.data;
  const acc = new Float64Array((p.OC * p.C * p.KH * p.KW) / p.groups);
  eachTap(p, (xi, wi, yi) => {
    acc[wi] += G[gy.offset + yi] * X[x.offset + xi];
  });
  gw.storage.data.set(acc, gw.offset);
}

export function conv2dBackward(
  gy: View, x: View, w: View, gx: View | null, gw: View | null, gb: View | null, p: Conv2dParams,
): void {
  if (gx) backwardInput(gy, w, gx, p);
  if (gw) backwardWeight(gy, x, gw, p);
  if (gb) {
    const G = gy.storage.data;
    const B = gb.storage.data;
    const plane = p.OH * p.OW;
    for (let oc = 0; oc < p.OC; oc++) {
      let acc = 0;
      for (let n = 0; n < p.N; n++) for (let k = 0; k < plane; k++) acc += G[gy.offset + (n * p.OC + oc) * plane + k];
      B[gb.offset + oc] = acc;
    }
  }
}
