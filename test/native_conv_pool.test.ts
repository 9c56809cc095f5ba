// Native addon, conv2d and pooling: against float64 JavaScript references, on every ISA path (see helpers/native_harness.ts).
import type { NativeAddon } from "../src/backends/cpu/addon.js";
import { close, eqInt, nativeChecks, withOff } from "./helpers/native_harness.js";
import { checkConv, type ConvCfg } from "./helpers/conv_check.js";


function checkConvs(a: NativeAddon): void {
  const base = { sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, g: 1 };
  const cfgs: ConvCfg[] = [
    { ...base, N: 4, C: 3, H: 32, W: 32, OC: 6, KH: 5, KW: 5 },
    { ...base, N: 4, C: 6, H: 14, W: 14, OC: 16, KH: 5, KW: 5 },
    { ...base, N: 2, C: 8, H: 9, W: 7, OC: 5, KH: 1, KW: 1 },
    { ...base, N: 2, C: 16, H: 8, W: 8, OC: 40, KH: 3, KW: 3, ph: 1, pw: 1 },
    { ...base, N: 3, C: 5, H: 11, W: 10, OC: 7, KH: 3, KW: 2, sh: 2, sw: 3, ph: 1, pw: 2 },
    { ...base, N: 1, C: 4, H: 12, W: 13, OC: 6, KH: 3, KW: 3, dh: 2, dw: 2, ph: 2, pw: 1 },
    { ...base, N: 2, C: 6, H: 7, W: 9, OC: 4, KH: 3, KW: 3, g: 2, ph: 1, pw: 1 },
    { ...base, N: 2, C: 3, H: 33, W: 35, OC: 36, KH: 3, KW: 3, ph: 1, pw: 1 },
    { ...base, N: 2, C: 4, H: 6, W: 6, OC: 8, KH: 1, KW: 1, sh: 2, sw: 2 },
    { ...base, N: 1, C: 2, H: 5, W: 40, OC: 3, KH: 2, KW: 2 },
    // small planes, images batched into one GEMM (ragged last group when threaded)
    { ...base, N: 5, C: 6, H: 9, W: 8, OC: 40, KH: 3, KW: 3, ph: 1, pw: 1 },
    { ...base, N: 7, C: 3, H: 8, W: 8, OC: 24, KH: 2, KW: 2 },
    { ...base, N: 6, C: 5, H: 9, W: 9, OC: 10, KH: 3, KW: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
    // direct backward with images split across threads (>= 8 MFLOP)
    { ...base, N: 10, C: 3, H: 30, W: 30, OC: 8, KH: 5, KW: 5 },
    // images batched into one GEMM, groups split across threads (>= 8 MFLOP)
    { ...base, N: 8, C: 16, H: 8, W: 8, OC: 64, KH: 3, KW: 3, ph: 1, pw: 1 },
  ];
  for (const c of cfgs) checkConv(a, c);
}

function checkPools(a: NativeAddon): void {
  const cfgs = [
    [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1], [1, 2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1], [2, 2, 10, 11, 3, 2, 1, 2, 1, 1, 2, 1],
    [1, 3, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1],
  ];
  for (const [N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW] of cfgs) {
    for (const ceil of [false, true]) {
      const eh = H + 2 * pH - dH * (KH - 1) - 1, ew = W + 2 * pW - dW * (KW - 1) - 1;
      let OH = (ceil ? Math.ceil(eh / sH) : Math.floor(eh / sH)) + 1, OW = (ceil ? Math.ceil(ew / sW) : Math.floor(ew / sW)) + 1;
      if (ceil && (OH - 1) * sH >= H + pH) OH--;
      if (ceil && (OW - 1) * sW >= W + pW) OW--;
      const x = withOff(N * C * H * W, 2);
      x[2 + 5] = NaN;
      const y = new Float32Array(N * C * OH * OW + 1), idx = new Int32Array(N * C * OH * OW + 3);
      a.maxPool2d(x, 2, y, 1, idx, 3, N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, OH, OW);
      const wy: number[] = [], wi: number[] = [];
      for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity, bi = -1;
        for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
          const h = oh * sH - pH + kh * dH, w = ow * sW - pW + kw * dW;
          if (h < 0 || h >= H || w < 0 || w >= W) continue;
          const v = x[2 + p * H * W + h * W + w];
          if (bi < 0) bi = h * W + w;
          if (v > best || Number.isNaN(v)) { best = v; bi = h * W + w; }
        }
        wy.push(best); wi.push(bi);
      }
      const tag = `maxPool2d ${[N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, OH, OW]}`;
      close(tag, y, 1, wy, 0);
      eqInt(`${tag} idx`, idx, 3, wi);
      const gy = withOff(N * C * OH * OW, 0), gx = new Float32Array(N * C * H * W + 4).fill(5);
      a.maxPool2dBackward(gy, 0, idx, 3, gx, 4, N, C, H, W, OH, OW);
      const wg = new Float64Array(N * C * H * W);
      for (let p = 0; p < N * C; p++) for (let q = 0; q < OH * OW; q++) wg[p * H * W + wi[p * OH * OW + q]] += gy[p * OH * OW + q];
      close(`${tag} backward`, gx, 4, wg, 1e-6, 1e-7);
      for (const [incl, div] of [[1, 0], [0, 0], [1, 3]]) {
        if (pH * 2 > KH || pW * 2 > KW || dH !== 1 || dW !== 1) continue;
        const ya = new Float32Array(N * C * OH * OW + 2);
        a.avgPool2d(x, 2, ya, 2, N, C, H, W, KH, KW, sH, sW, pH, pW, OH, OW, incl, div);
        const want: number[] = [];
        const gxa = new Float64Array(N * C * H * W);
        for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
          let hs = oh * sH - pH, ws = ow * sW - pW;
          let he = Math.min(hs + KH, H + pH), we = Math.min(ws + KW, W + pW);
          const pool = (he - hs) * (we - ws);
          hs = Math.max(hs, 0); ws = Math.max(ws, 0); he = Math.min(he, H); we = Math.min(we, W);
          const d = div || (incl ? pool : (he - hs) * (we - ws));
          let s = 0;
          for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) s += x[2 + p * H * W + h * W + w];
          want.push(hs >= he || ws >= we ? 0 : s / d);
          const g = gy[p * OH * OW + oh * OW + ow] / d;
          for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) gxa[p * H * W + h * W + w] += g;
        }
        close(`avgPool2d ${tag} incl=${incl} div=${div}`, ya, 2, want, 1e-5, 1e-6);
        const gxg = new Float32Array(N * C * H * W + 1).fill(3);
        a.avgPool2dBackward(gy, 0, gxg, 1, N, C, H, W, KH, KW, sH, sW, pH, pW, OH, OW, incl, div);
        close(`avgPool2dBackward ${tag} incl=${incl} div=${div}`, gxg, 1, gxa, 1e-5, 1e-6);
      }
    }
  }
}

nativeChecks(import.meta.url, "conv_pool", [["conv", checkConvs], ["pool", checkPools]], ["conv"]);
