// conv2d / conv2dBackward of the native addon against a float64 JavaScript reference (forward, each gradient
// together and alone), shared by the native conv test files.
import type { NativeAddon } from "../../src/backends/cpu/addon.js";
import { close, withOff } from "./native_harness.js";

export interface ConvCfg { N: number; C: number; H: number; W: number; OC: number; KH: number; KW: number; sh: number;
  sw: number; ph: number; pw: number; dh: number; dw: number; g: number }
export function convOut(c: ConvCfg): [number, number] {
  return [Math.floor((c.H + 2 * c.ph - c.dh * (c.KH - 1) - 1) / c.sh) + 1,
    Math.floor((c.W + 2 * c.pw - c.dw * (c.KW - 1) - 1) / c.sw) + 1];
}
export function checkConv(a: NativeAddon, cfg: ConvCfg): void {
  const { N, C, H, W, OC, KH, KW, sh, sw, ph, pw, dh, dw, g } = cfg;
  const [OH, OW] = convOut(cfg);
  const Cg = C / g, OCg = OC / g;
  const x = withOff(N * C * H * W, 3), w = withOff(OC * Cg * KH * KW, 1), b = withOff(OC, 2);
  const y = new Float32Array(N * OC * OH * OW + 5).fill(NaN);
  const dims = [N, C, H, W, OC, KH, KW, sh, sw, ph, pw, dh, dw, g, OH, OW] as const;
  a.conv2d(x, 3, w, 1, b, 2, y, 5, ...dims);
  const want = new Float64Array(N * OC * OH * OW), sc = new Float64Array(N * OC * OH * OW);
  const gy = withOff(N * OC * OH * OW, 1);
  const gx = new Float64Array(N * C * H * W), gw = new Float64Array(OC * Cg * KH * KW), gb = new Float64Array(OC);
  const sgx = new Float64Array(gx.length), sgw = new Float64Array(gw.length), sgb = new Float64Array(OC);
  for (let n = 0; n < N; n++) for (let oc = 0; oc < OC; oc++) {
    const gi = Math.floor(oc / OCg);
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const oi = ((n * OC + oc) * OH + oh) * OW + ow;
      let s = b[2 + oc], t = Math.abs(s);
      const go = gy[1 + oi];
      gb[oc] += go; sgb[oc] += Math.abs(go);
      for (let c = 0; c < Cg; c++) for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - ph + kh * dh;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * sw - pw + kw * dw;
          if (iw < 0 || iw >= W) continue;
          const xi = ((n * C + gi * Cg + c) * H + ih) * W + iw, wi = ((oc * Cg + c) * KH + kh) * KW + kw;
          const xv = x[3 + xi], wv = w[1 + wi];
          s += xv * wv; t += Math.abs(xv * wv);
          gx[xi] += go * wv; sgx[xi] += Math.abs(go * wv);
          gw[wi] += go * xv; sgw[wi] += Math.abs(go * xv);
        }
      }
      want[oi] = s; sc[oi] = t;
    }
  }
  const tag = `conv2d ${JSON.stringify(cfg)}`;
  close(tag, y, 5, want, 1e-4, 1e-30, sc);
  const ggx = new Float32Array(gx.length + 2).fill(7), ggw = new Float32Array(gw.length + 1).fill(7);
  const ggb = new Float32Array(OC + 3).fill(7);
  a.conv2dBackward(gy, 1, x, 3, w, 1, ggx, 2, ggw, 1, ggb, 3, ...dims);
  close(`${tag} gx`, ggx, 2, gx, 1e-4, 1e-30, sgx);
  close(`${tag} gw`, ggw, 1, gw, 1e-4, 1e-30, sgw);
  close(`${tag} gb`, ggb, 3, gb, 1e-4, 1e-30, sgb);
  // Each gradient alone (a frozen weight, an input that needs no gradient): the paths must not touch the others.
  ggx.fill(7);
  a.conv2dBackward(gy, 1, x, 3, w, 1, ggx, 2, null, 0, null, 0, ...dims);
  close(`${tag} gx only`, ggx, 2, gx, 1e-4, 1e-30, sgx);
  ggw.fill(7);
  a.conv2dBackward(gy, 1, x, 3, w, 1, null, 0, ggw, 1, null, 0, ...dims);
  close(`${tag} gw only`, ggw, 1, gw, 1e-4, 1e-30, sgw);
}

