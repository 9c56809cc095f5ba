// Native CPU addon vs float64 JavaScript references, on every ISA path (avx512 / avx2 / scalar).
// The checks run in child processes (this same file with KINDLING_NATIVE_CHILD=1) so that KINDLING_ISA, read once
// when the addon loads, can differ per path; the three paths run concurrently.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadAddon, addonLoadError, type NativeAddon } from "../src/backends/cpu/addon.js";

// ------------------------------------------------------------------ helpers
let seed = 12345;
function rnd(): number {
  // xorshift32 -> [0,1)
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
function randArr(n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rnd();
  return a;
}
function randInt(lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}
/** Buffer of `n` random values placed at offset `off` inside a larger array. */
function withOff(n: number, off: number, lo = -1, hi = 1): Float32Array {
  const a = randArr(n + off + 3, lo, hi);
  return a;
}

const failures: string[] = [];
let checks = 0;
function close(name: string, got: ArrayLike<number>, gOff: number, want: ArrayLike<number>, rtol: number,
  atol = 0, scale?: ArrayLike<number>): void {
  checks++;
  for (let i = 0; i < want.length; i++) {
    const g = got[gOff + i], w = want[i];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) { failures.push(`${name}[${i}]: got ${g}, want NaN`); return; }
      continue;
    }
    if (!Number.isFinite(w)) {
      if (g !== w) { failures.push(`${name}[${i}]: got ${g}, want ${w}`); return; }
      continue;
    }
    const s = scale ? scale[i] : Math.abs(w);
    if (!(Math.abs(g - w) <= rtol * s + atol)) {
      failures.push(`${name}[${i}]: got ${g}, want ${w} (tol ${rtol * s + atol})`);
      return;
    }
  }
}
function eqInt(name: string, got: ArrayLike<number>, gOff: number, want: ArrayLike<number>): void {
  checks++;
  for (let i = 0; i < want.length; i++)
    if (got[gOff + i] !== want[i]) { failures.push(`${name}[${i}]: got ${got[gOff + i]}, want ${want[i]}`); return; }
}

// erfc to ~1e-14 relative: positive-term series for |x| < 3, continued fraction beyond.
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    let term = x, sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * sum; n++) { term *= (2 * x * x) / (2 * n + 1); sum += term; }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  let t = 0;
  for (let k = 120; k >= 1; k--) t = k / 2 / (x + t);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + t);
}

// ------------------------------------------------------------------ references
function refGemm(ta: boolean, tb: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, ao: number,
  lda: number, B: Float32Array, bo: number, ldb: number, beta: number, C: Float32Array, co: number, ldc: number) {
  const out = new Float64Array(M * N), scale = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0, sa = 0;
      for (let k = 0; k < K; k++) {
        const a = ta ? A[ao + k * lda + i] : A[ao + i * lda + k];
        const b = tb ? B[bo + j * ldb + k] : B[bo + k * ldb + j];
        s += a * b;
        sa += Math.abs(a * b);
      }
      const c = beta === 0 ? 0 : beta * C[co + i * ldc + j];
      out[i * N + j] = alpha * s + c;
      scale[i * N + j] = Math.abs(alpha) * sa + Math.abs(c) + 1e-30;
    }
  return { out, scale };
}

function checkGemm(a: NativeAddon): void {
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [4, 120, 400], [37, 29, 41], [17, 130, 9],
    [130, 97, 300], [64, 64, 64], [200, 160, 150], [29, 300, 65]];
  for (const [M, N, K] of shapes)
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const lda = (ta ? M : K) + randInt(0, 3), ldb = (tb ? K : N) + randInt(0, 3), ldc = N + randInt(0, 2);
        const ao = randInt(0, 5), bo = randInt(0, 5), co = randInt(0, 5);
        const A = randArr(ao + lda * (ta ? K : M) + 2), B = randArr(bo + ldb * (tb ? N : K) + 2);
        for (const [alpha, beta] of [[1, 0], [0.5, 2]] as const) {
          const C = randArr(co + ldc * M + 2);
          if (beta === 0) for (let i = 0; i < C.length; i += 7) C[i] = NaN;
          const r = refGemm(ta, tb, M, N, K, alpha, A, ao, lda, B, bo, ldb, beta, C, co, ldc);
          const before = C.slice();
          a.gemm(ta ? 1 : 0, tb, M, N, K, alpha, A, ao, lda, B, bo, ldb, beta, C, co, ldc);
          const got = new Float32Array(M * N);
          for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) got[i * N + j] = C[co + i * ldc + j];
          close(`gemm ta=${ta} tb=${tb} ${M}x${N}x${K} a=${alpha} b=${beta}`, got, 0, r.out, 1e-4, 0, r.scale);
          // padding between rows untouched
          let touched = false;
          for (let i = 0; i < M; i++) for (let j = N; j < ldc && co + i * ldc + j < C.length; j++)
            if (!Object.is(C[co + i * ldc + j], before[co + i * ldc + j])) touched = true;
          if (touched) failures.push(`gemm ${M}x${N}x${K}: wrote outside the ldc window`);
        }
      }
  // K == 0 and alpha == 0
  const C0 = randArr(6);
  a.gemm(0, 0, 2, 3, 0, 1, new Float32Array(0), 0, 1, new Float32Array(0), 0, 3, 0, C0, 0, 3);
  close("gemm K=0", C0, 0, [0, 0, 0, 0, 0, 0], 0);
}

function checkBgemm(a: NativeAddon): void {
  for (const [batch, M, N, K] of [[3, 4, 5, 6], [5, 33, 17, 40], [2, 70, 80, 90]]) {
    for (const ta of [false, true]) for (const tb of [false, true]) {
      const sa = M * K + 1, sb = K * N + 2, sc = M * N + 3;
      const A = randArr(2 + batch * sa), B = randArr(1 + batch * sb), C = new Float32Array(3 + batch * sc);
      a.bgemm(batch, ta, tb, M, N, K, A, 2, sa, B, 1, sb, C, 3, sc);
      for (let b = 0; b < batch; b++) {
        const r = refGemm(ta, tb, M, N, K, 1, A, 2 + b * sa, ta ? M : K, B, 1 + b * sb, tb ? K : N, 0, C, 0, N);
        close(`bgemm b${b} ${M}x${N}x${K} ${ta}${tb}`, C, 3 + b * sc, r.out, 1e-4, 0, r.scale);
      }
    }
  }
}

function checkLinear(a: NativeAddon): void {
  for (const [M, N, K] of [[4, 120, 400], [1, 1, 1], [7, 13, 5], [33, 70, 129]]) {
    const x = withOff(M * K, 1), w = withOff(N * K, 2), b = withOff(N, 3), y = new Float32Array(M * N + 4);
    a.linear(x, 1, w, 2, b, 3, y, 4, M, N, K);
    const want = new Float64Array(M * N), sc = new Float64Array(M * N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let s = b[3 + n], t = Math.abs(s);
      for (let k = 0; k < K; k++) { s += x[1 + m * K + k] * w[2 + n * K + k]; t += Math.abs(x[1 + m * K + k] * w[2 + n * K + k]); }
      want[m * N + n] = s; sc[m * N + n] = t;
    }
    close(`linear ${M}x${N}x${K}`, y, 4, want, 1e-4, 0, sc);
    a.linear(x, 1, w, 2, null, 0, y, 4, M, N, K);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) want[m * N + n] -= b[3 + n];
    close(`linear nobias ${M}x${N}x${K}`, y, 4, want, 1e-4, 1e-6, sc);
    const gy = withOff(M * N, 1);
    const gx = new Float32Array(M * K + 2), gw = new Float32Array(N * K + 1).fill(9), gb = new Float32Array(N).fill(9);
    a.linearBackward(gy, 1, x, 1, w, 2, gx, 2, gw, 1, gb, 0, M, N, K);
    const wx = new Float64Array(M * K), ww = new Float64Array(N * K), wb = new Float64Array(N);
    const sx = new Float64Array(M * K), sw = new Float64Array(N * K), sb = new Float64Array(N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      const g = gy[1 + m * N + n];
      wb[n] += g; sb[n] += Math.abs(g);
      for (let k = 0; k < K; k++) {
        wx[m * K + k] += g * w[2 + n * K + k]; sx[m * K + k] += Math.abs(g * w[2 + n * K + k]);
        ww[n * K + k] += g * x[1 + m * K + k]; sw[n * K + k] += Math.abs(g * x[1 + m * K + k]);
      }
    }
    close("linearBackward gx", gx, 2, wx, 1e-4, 1e-30, sx);
    close("linearBackward gw", gw, 1, ww, 1e-4, 1e-30, sw);
    close("linearBackward gb", gb, 0, wb, 1e-4, 1e-30, sb);
    a.linearBackward(gy, 1, null, 0, w, 2, gx, 2, null, 0, null, 0, M, N, K);
    close("linearBackward gx only", gx, 2, wx, 1e-4, 1e-30, sx);
  }
}

interface ConvCfg { N: number; C: number; H: number; W: number; OC: number; KH: number; KW: number; sh: number;
  sw: number; ph: number; pw: number; dh: number; dw: number; g: number }
function convOut(c: ConvCfg): [number, number] {
  return [Math.floor((c.H + 2 * c.ph - c.dh * (c.KH - 1) - 1) / c.sh) + 1,
    Math.floor((c.W + 2 * c.pw - c.dw * (c.KW - 1) - 1) / c.sw) + 1];
}
function checkConv(a: NativeAddon, cfg: ConvCfg): void {
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

const UNARY: [number, string, (x: number) => number, number, number][] = [
  [0, "neg", (x) => -x, -5, 5], [1, "exp", Math.exp, -80, 80], [2, "log", Math.log, 1e-6, 100],
  [3, "sqrt", Math.sqrt, 0, 100], [4, "abs", Math.abs, -5, 5], [5, "relu", (x) => Math.max(x, 0), -5, 5],
  [6, "gelu", (x) => 0.5 * x * erfc(-x / Math.SQRT2), -8, 8], [7, "sigmoid", (x) => 1 / (1 + Math.exp(-x)), -30, 30],
  [8, "tanh", Math.tanh, -6, 6], [9, "rsqrt", (x) => 1 / Math.sqrt(x), 1e-3, 100], [10, "reciprocal", (x) => 1 / x, 0.01, 10],
  [11, "square", (x) => x * x, -10, 10], [12, "sign", Math.sign, -2, 2],
];
function checkElementwise(a: NativeAddon): void {
  for (const n of [1, 5, 17, 100, 1000, 140001]) {
    for (const [op, name, f, lo, hi] of UNARY) {
      const x = withOff(n, 3, lo, hi), y = new Float32Array(n + 1);
      a.unary(op, x, 3, y, 1, n);
      const want = Array.from(x.subarray(3, 3 + n), f);
      close(`unary ${name} n=${n}`, y, 1, want, 2e-6, 1e-37);
    }
    const gy = withOff(n, 1);
    for (const [op, name, d, lo, hi] of [
      [5, "relu", (x: number) => (x > 0 ? 1 : 0), -5, 5],
      [6, "gelu", (x: number) => 0.5 * erfc(-x / Math.SQRT2) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI), -8, 8],
      [7, "sigmoid", (x: number) => { const s = 1 / (1 + Math.exp(-x)); return s * (1 - s); }, -20, 20],
      [8, "tanh", (x: number) => 1 - Math.tanh(x) ** 2, -4, 4],
    ] as [number, string, (x: number) => number, number, number][]) {
      const x = withOff(n, 2, lo, hi), gx = new Float32Array(n);
      a.unaryBackward(op, gy, 1, x, 2, gx, 0, n);
      const want = Array.from({ length: n }, (_, i) => gy[1 + i] * d(x[2 + i]));
      close(`unaryBackward ${name} n=${n}`, gx, 0, want, 1e-5, 1e-30);
    }
    const bops: [string, (p: number, q: number) => number][] = [["add", (p, q) => p + q], ["sub", (p, q) => p - q],
      ["mul", (p, q) => p * q], ["div", (p, q) => p / q], ["maximum", (p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.max(p, q))],
      ["minimum", (p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.min(p, q))], ["pow", (p, q) => Math.pow(p, q)]];
    bops.forEach(([name, f], op) => {
      const pa = op === 6 ? withOff(n, 1, 0.1, 3) : withOff(n, 1), pb = op === 6 ? withOff(n, 2, -2, 2) : withOff(n, 2, 0.2, 2);
      if (op !== 6 && n > 3) { pa[1 + 2] = NaN; pb[2 + 3] = NaN; }
      const y = new Float32Array(n + 2);
      a.binary(op, pa, 1, pb, 2, y, 2, n);
      // add/sub results round twice in float; scale by operand magnitudes
      const sc = Array.from({ length: n }, (_, i) => Math.abs(f(pa[1 + i], pb[2 + i])) + (op < 2 ? Math.abs(pa[1 + i]) + Math.abs(pb[2 + i]) : 0));
      close(`binary ${name} n=${n}`, y, 2, Array.from({ length: n }, (_, i) => f(pa[1 + i], pb[2 + i])), 2e-6, 1e-37, sc);
      const s = op === 6 ? 1.7 : -0.37;
      a.binaryScalar(op, pa, 1, s, y, 0, n);
      close(`binaryScalar ${name} n=${n}`, y, 0, Array.from({ length: n }, (_, i) => f(pa[1 + i], Math.fround(s))), 2e-6, 1e-30);
    });
    const y = withOff(n, 1), x = withOff(n, 0), y0 = y.slice();
    a.axpby(y, 1, x, 0, 0.5, -2, n);
    close(`axpby n=${n}`, y, 1, Array.from({ length: n }, (_, i) => 0.5 * x[i] - 2 * y0[1 + i]), 1e-6, 1e-6);
  }
}

function checkStrided(a: NativeAddon): void {
  // broadcasting [A,1,C] op [1,B,C] and [A,B,1], transposed views, scalars
  const cases: { shape: number[]; as: number[]; bs: number[] }[] = [
    { shape: [3, 4, 5], as: [5, 0, 1], bs: [0, 5, 1] },
    { shape: [3, 4, 5], as: [20, 5, 1], bs: [4, 1, 0] },
    { shape: [6, 7], as: [1, 6], bs: [7, 1] },
    { shape: [2, 3, 4, 33], as: [0, 0, 0, 1], bs: [396, 132, 33, 1] },
    { shape: [5], as: [0], bs: [1] },
    { shape: [300, 500], as: [1, 0], bs: [500, 1] },
    { shape: [4, 3], as: [-3, 1], bs: [1, 4] },
    { shape: [], as: [], bs: [] },
    { shape: [2, 0, 3], as: [3, 3, 1], bs: [0, 0, 1] },
  ];
  for (const { shape, as, bs } of cases) {
    const nd = shape.length;
    const total = shape.reduce((p, q) => p * q, 1);
    const span = (st: number[]) => { let lo = 0, hi = 0; shape.forEach((s, k) => { const v = (s - 1) * st[k]; if (v > 0) hi += v; else lo += v; }); return [lo, hi]; };
    const [alo, ahi] = span(as), [blo, bhi] = span(bs);
    const aOff = 2 - alo, bOff = 1 - blo;
    const A = randArr(aOff + ahi + 2), B = randArr(bOff + bhi + 2, 0.5, 2);
    for (let op = 0; op < 7; op++) {
      const y = new Float32Array(total + 3);
      a.binaryStrided(op, nd, Int32Array.from(shape), A, aOff, Int32Array.from(as), B, bOff, Int32Array.from(bs), y, 3);
      const want: number[] = [];
      const idx = new Array(nd).fill(0);
      for (let t = 0; t < total; t++) {
        let ia = aOff, ib = bOff;
        for (let k = 0; k < nd; k++) { ia += idx[k] * as[k]; ib += idx[k] * bs[k]; }
        const p = A[ia], q = B[ib];
        want.push([p + q, p - q, p * q, p / q, Math.max(p, q), Math.min(p, q), Math.pow(Math.abs(p), q)][op]);
        for (let k = nd - 1; k >= 0; k--) { if (++idx[k] < shape[k]) break; idx[k] = 0; }
      }
      if (op === 6) continue; // pow of negative bases: NaN both sides, checked elsewhere
      close(`binaryStrided op=${op} ${JSON.stringify(shape)}`, y, 3, want, 2e-6, 1e-6);
    }
    // copyStrided: materialise A's view
    const dst = new Float32Array(total + 1).fill(NaN);
    const dstStr: number[] = []; let acc = 1;
    for (let k = nd - 1; k >= 0; k--) { dstStr[k] = acc; acc *= shape[k]; }
    a.copyStrided(nd, Int32Array.from(shape), A, aOff, Int32Array.from(as), dst, 1, Int32Array.from(dstStr));
    const want: number[] = [];
    const idx = new Array(nd).fill(0);
    for (let t = 0; t < total; t++) {
      let ia = aOff;
      for (let k = 0; k < nd; k++) ia += idx[k] * as[k];
      want.push(A[ia]);
      for (let k = nd - 1; k >= 0; k--) { if (++idx[k] < shape[k]) break; idx[k] = 0; }
    }
    close(`copyStrided ${JSON.stringify(shape)}`, dst, 1, want, 0);
  }
  // transposing copy into a strided destination
  const src = randArr(12), dst = new Float32Array(12);
  a.copyStrided(2, Int32Array.from([3, 4]), src, 0, Int32Array.from([4, 1]), dst, 0, Int32Array.from([1, 3]));
  const want: number[] = new Array(12);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) want[j * 3 + i] = src[i * 4 + j];
  close("copyStrided transpose-dst", dst, 0, want, 0);
}

function checkReductions(a: NativeAddon): void {
  for (const [outer, red, inner] of [[1, 1, 1], [3, 7, 1], [2, 1000, 1], [4, 5, 6], [2, 300, 37], [1, 3, 100000], [50, 3001, 1]]) {
    const x = withOff(outer * red * inner, 2);
    if (outer * red * inner > 40) x[2 + 37] = NaN;
    const y = new Float32Array(outer * inner + 1), idx = new Int32Array(outer * inner + 1);
    a.sumDim(x, 2, y, 1, outer, red, inner);
    const ws: number[] = [], sc: number[] = [], wm: number[] = [], wi: number[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let s = 0, t = 0, m = -Infinity, mi = -1;
      for (let r = 0; r < red; r++) {
        const v = x[2 + (o * red + r) * inner + i];
        s += v; t += Math.abs(v);
        if (mi < 0 || v > m || (Number.isNaN(v) && !Number.isNaN(m))) { m = v; mi = r; }
      }
      ws.push(s); sc.push(t); wm.push(m); wi.push(mi);
    }
    close(`sumDim ${outer},${red},${inner}`, y, 1, ws, 1e-5, 1e-30, sc);
    a.maxDim(x, 2, y, 1, idx, 1, outer, red, inner);
    close(`maxDim ${outer},${red},${inner}`, y, 1, wm, 0);
    eqInt(`maxDim idx ${outer},${red},${inner}`, idx, 1, wi);
  }
  for (const n of [0, 1, 13, 1000, 1 << 20]) {
    const x = withOff(n, 1, 0, 1);
    let s = 0;
    for (let i = 0; i < n; i++) s += x[1 + i];
    close(`sumAll n=${n}`, [a.sumAll(x, 1, n)], 0, [s], 1e-6, 1e-30);
  }
}

function checkSoftmax(a: NativeAddon): void {
  for (const [outer, n, inner] of [[4, 10, 1], [3, 1, 1], [2, 100, 1], [3, 7, 5], [1, 37, 4], [700, 200, 1]]) {
    for (const lg of [0, 1] as const) {
      const x = withOff(outer * n * inner, 1, -30, 30), y = new Float32Array(outer * n * inner + 2);
      a.softmax(x, 1, y, 2, outer, n, inner, lg);
      const want = new Float64Array(outer * n * inner);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
        let m = -Infinity, s = 0;
        for (let r = 0; r < n; r++) m = Math.max(m, x[1 + (o * n + r) * inner + i]);
        for (let r = 0; r < n; r++) s += Math.exp(x[1 + (o * n + r) * inner + i] - m);
        for (let r = 0; r < n; r++) {
          const q = (o * n + r) * inner + i, v = x[1 + q] - m;
          want[q] = lg ? v - Math.log(s) : Math.exp(v) / s;
        }
      }
      const sc = lg ? Array.from(x.subarray(1, 1 + want.length), (v, q) => Math.abs(want[q]) + Math.abs(v)) : undefined;
      close(`softmax log=${lg} ${outer},${n},${inner}`, y, 2, want, 3e-6, 1e-37, sc);
      const gy = withOff(outer * n * inner, 0), gx = new Float32Array(outer * n * inner);
      const yy = Float32Array.from(want);
      a.softmaxBackward(gy, 0, yy, 0, gx, 0, outer, n, inner, lg);
      const wg = new Float64Array(want.length), sg = new Float64Array(want.length);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
        let s = 0, t = 0;
        for (let r = 0; r < n; r++) {
          const q = (o * n + r) * inner + i;
          s += lg ? gy[q] : gy[q] * yy[q]; t += Math.abs(lg ? gy[q] : gy[q] * yy[q]);
        }
        for (let r = 0; r < n; r++) {
          const q = (o * n + r) * inner + i;
          wg[q] = lg ? gy[q] - Math.exp(yy[q]) * s : yy[q] * (gy[q] - s);
          sg[q] = lg ? Math.abs(gy[q]) + Math.exp(yy[q]) * t : Math.abs(yy[q]) * (Math.abs(gy[q]) + t);
        }
      }
      close(`softmaxBackward log=${lg} ${outer},${n},${inner}`, gx, 0, wg, 1e-5, 1e-30, sg);
    }
  }
}

function checkCrossEntropy(a: NativeAddon): void {
  for (const [N, C] of [[4, 10], [1, 1], [7, 3], [33, 100]]) {
    for (const eps of [0, 0.1]) for (const red of [0, 1, 2] as const) {
      const x = withOff(N * C, 2, -5, 5);
      const t = new Int32Array(N + 1);
      for (let i = 0; i < N; i++) t[1 + i] = randInt(0, C - 1);
      if (N > 2) t[1 + 1] = -100;
      const loss = new Float32Array(N + 1), grad = new Float32Array(N * C + 1);
      a.crossEntropy(x, 2, t, 1, N, C, -100, eps, red, loss, 1, grad, 1);
      const l: number[] = [], g = new Float64Array(N * C);
      let cnt = 0;
      for (let i = 0; i < N; i++) if (t[1 + i] !== -100) cnt++;
      const scale = red === 1 ? 1 / cnt : 1;
      for (let i = 0; i < N; i++) {
        const ti = t[1 + i];
        if (ti === -100) { l.push(0); continue; }
        let m = -Infinity, s = 0, sx = 0;
        for (let c = 0; c < C; c++) m = Math.max(m, x[2 + i * C + c]);
        for (let c = 0; c < C; c++) { s += Math.exp(x[2 + i * C + c] - m); sx += x[2 + i * C + c]; }
        const lse = m + Math.log(s);
        l.push((1 - eps) * (lse - x[2 + i * C + ti]) + eps * (lse - sx / C));
        for (let c = 0; c < C; c++) g[i * C + c] = scale * (Math.exp(x[2 + i * C + c] - lse) - eps / C - (c === ti ? 1 - eps : 0));
      }
      const tag = `crossEntropy N=${N} C=${C} eps=${eps} red=${red}`;
      if (red === 2) close(tag, loss, 1, l, 1e-5, 1e-6);
      else {
        const tot = l.reduce((p, q) => p + q, 0);
        close(tag, loss, 1, [red === 1 ? tot / cnt : tot], 1e-5, 1e-6);
      }
      close(`${tag} grad`, grad, 1, g, 1e-5, 1e-7);
    }
  }
}

function checkBatchNorm(a: NativeAddon): void {
  for (const [N, C, HW] of [[4, 3, 25], [2, 5, 1], [8, 16, 64], [3, 2, 17]]) {
    const x = withOff(N * C * HW, 1, -2, 3), w = withOff(C, 0, 0.5, 1.5), b = withOff(C, 2);
    const rm = randArr(C), rv = randArr(C, 0.5, 2), rm0 = rm.slice(), rv0 = rv.slice();
    const y = new Float32Array(N * C * HW + 1), sm = new Float32Array(C), si = new Float32Array(C);
    a.batchNorm2d(x, 1, y, 1, N, C, HW, w, 0, b, 2, rm, 0, rv, 0, 1, 0.1, 1e-5, sm, 0, si, 0);
    const M = N * HW, wy = new Float64Array(N * C * HW), mean: number[] = [], inv: number[] = [];
    const wrm: number[] = [], wrv: number[] = [];
    for (let c = 0; c < C; c++) {
      let s = 0, q = 0;
      for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) s += x[1 + (n * C + c) * HW + k];
      const mu = s / M;
      for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) q += (x[1 + (n * C + c) * HW + k] - mu) ** 2;
      const iv = 1 / Math.sqrt(q / M + 1e-5);
      mean.push(mu); inv.push(iv);
      wrm.push(0.9 * rm0[c] + 0.1 * mu); wrv.push(0.9 * rv0[c] + 0.1 * (M > 1 ? q / (M - 1) : NaN));
      for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) {
        const i = (n * C + c) * HW + k;
        wy[i] = (x[1 + i] - mu) * iv * w[c] + b[2 + c];
      }
    }
    const tag = `batchNorm2d ${N},${C},${HW}`;
    close(tag, y, 1, wy, 1e-4, 1e-5);
    close(`${tag} mean`, sm, 0, mean, 1e-5, 1e-6);
    close(`${tag} invstd`, si, 0, inv, 1e-4);
    close(`${tag} runMean`, rm, 0, wrm, 1e-5, 1e-6);
    close(`${tag} runVar`, rv, 0, wrv, 1e-4, 1e-6);
    // eval mode uses running stats
    a.batchNorm2d(x, 1, y, 1, N, C, HW, w, 0, b, 2, rm, 0, rv, 0, 0, 0.1, 1e-5, null, 0, null, 0);
    const we = Array.from({ length: N * C * HW }, (_, i) => {
      const c = Math.floor(i / HW) % C;
      return (x[1 + i] - rm[c]) / Math.sqrt(rv[c] + 1e-5) * w[c] + b[2 + c];
    });
    close(`${tag} eval`, y, 1, we, 1e-4, 1e-5);
    // backward (training formula)
    const gy = withOff(N * C * HW, 0), gx = new Float32Array(N * C * HW + 1), gw = new Float32Array(C), gb = new Float32Array(C + 1);
    a.batchNorm2dBackward(gy, 0, x, 1, w, 0, sm, 0, si, 0, gx, 1, gw, 0, gb, 1, N, C, HW);
    const wgx = new Float64Array(N * C * HW), wgw: number[] = [], wgb: number[] = [], sgx = new Float64Array(N * C * HW);
    for (let c = 0; c < C; c++) {
      let sg = 0, sgh = 0, ag = 0;
      for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) {
        const i = (n * C + c) * HW + k;
        sg += gy[i]; ag += Math.abs(gy[i]); sgh += gy[i] * (x[1 + i] - sm[c]) * si[c];
      }
      wgw.push(sgh); wgb.push(sg);
      for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) {
        const i = (n * C + c) * HW + k, xh = (x[1 + i] - sm[c]) * si[c];
        wgx[i] = (w[c] * si[c] / M) * (M * gy[i] - sg - xh * sgh);
        sgx[i] = Math.abs(w[c] * si[c] / M) * (M * Math.abs(gy[i]) + ag + Math.abs(xh) * ag * 4);
      }
    }
    close(`${tag} gx`, gx, 1, wgx, 1e-4, 1e-30, sgx);
    close(`${tag} gw`, gw, 0, wgw, 1e-4, 1e-5);
    close(`${tag} gb`, gb, 1, wgb, 1e-4, 1e-5);
  }
}

function checkOptim(a: NativeAddon): void {
  const sizes = [7, 1, 130];
  for (const [momentum, damp, wd, nest, maxim] of [[0.9, 0, 0, 0, 0], [0.9, 0.1, 0.01, 0, 0], [0.8, 0, 1e-3, 1, 0], [0, 0, 0.1, 0, 1]]) {
    // params, grads and momentum buffers each start at their own offset (2, 1, 3)
    const params = sizes.map((n) => randArr(n + 2)), bufs = sizes.map((n) => (momentum ? new Float32Array(n + 3) : null));
    const ref = params.map((p) => Array.from(p.subarray(2))), rbuf = sizes.map((n) => new Array(n).fill(0));
    const offs = (o: number) => Int32Array.from(sizes, () => o);
    for (let step = 0; step < 3; step++) {
      const grads = sizes.map((n) => randArr(n + 1));
      a.sgdStep(params, grads, bufs, offs(2), offs(1), offs(3), Int32Array.from(sizes), 0.1, momentum, damp, wd, nest, maxim, step === 0 ? 1 : 0);
      sizes.forEach((n, k) => {
        for (let i = 0; i < n; i++) {
          let d = maxim ? -grads[k][i + 1] : grads[k][i + 1];
          d += wd * ref[k][i];
          if (momentum) {
            rbuf[k][i] = step === 0 ? d : momentum * rbuf[k][i] + (1 - damp) * d;
            d = nest ? d + momentum * rbuf[k][i] : rbuf[k][i];
          }
          ref[k][i] -= 0.1 * d;
        }
        close(`sgdStep m=${momentum} d=${damp} wd=${wd} n=${nest} step=${step}`, params[k], 2, ref[k], 1e-5, 1e-6);
      });
    }
  }
  for (const [wd, dec] of [[0, 0], [0.01, 0], [0.01, 1]]) {
    const params = sizes.map((n) => randArr(n + 1)), m = sizes.map((n) => new Float32Array(n)), v = sizes.map((n) => new Float32Array(n));
    const ref = params.map((p) => Array.from(p.subarray(1))), rm = sizes.map((n) => new Array(n).fill(0)), rv = sizes.map((n) => new Array(n).fill(0));
    const lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (let step = 1; step <= 3; step++) {
      const grads = sizes.map((n) => randArr(n));
      a.adamStep(params, grads, m, v, Int32Array.from([1, 1, 1]), Int32Array.from(sizes), lr, b1, b2, eps, wd, step, dec);
      sizes.forEach((n, k) => {
        for (let i = 0; i < n; i++) {
          let g = grads[k][i];
          if (dec) ref[k][i] *= 1 - lr * wd; else g += wd * ref[k][i];
          rm[k][i] = b1 * rm[k][i] + (1 - b1) * g;
          rv[k][i] = b2 * rv[k][i] + (1 - b2) * g * g;
          const denom = Math.sqrt(rv[k][i]) / Math.sqrt(1 - b2 ** step) + eps;
          ref[k][i] -= (lr / (1 - b1 ** step)) * (rm[k][i] / denom);
        }
        close(`adamStep wd=${wd} dec=${dec} step=${step}`, params[k], 1, ref[k], 1e-5, 1e-6);
      });
    }
  }
}

function checkErrors(a: NativeAddon): void {
  const expectThrow = (name: string, f: () => void, re: RegExp) => {
    checks++;
    try { f(); failures.push(`${name}: did not throw`); } catch (e) {
      if (!re.test(String(e))) failures.push(`${name}: wrong error ${String(e)}`);
    }
  };
  const x = new Float32Array(10);
  expectThrow("binary too short", () => a.binary(0, x, 5, x, 0, x, 0, 6), /RangeError.*binary/);
  expectThrow("binary wrong type", () => a.binary(0, new Float64Array(10) as unknown as Float32Array, 0, x, 0, x, 0, 6), /TypeError.*binary/);
  expectThrow("unary arg count", () => (a.unary as unknown as (...q: unknown[]) => void)(0, x), /TypeError.*unary/);
  expectThrow("gemm short C", () => a.gemm(0, 0, 4, 4, 2, 1, x, 0, 2, x, 0, 4, 0, x, 0, 4), /RangeError.*gemm/);
  expectThrow("crossEntropy bad target", () => a.crossEntropy(x, 0, Int32Array.from([12]), 0, 1, 10, -100, 0, 1, x, 0, null, 0), /RangeError/);
  expectThrow("conv2d bad OH", () => a.conv2d(x, 0, x, 0, null, 0, x, 0, 1, 1, 3, 3, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 4, 3), /RangeError/);
}

function runChecks(): void {
  const a = loadAddon();
  if (!a) throw new Error(`addon missing: ${addonLoadError()}`);
  const sections: [string, (a: NativeAddon) => void][] = [
    ["gemm", checkGemm], ["bgemm", checkBgemm], ["linear", checkLinear], ["conv", checkConvs], ["pool", checkPools],
    ["elementwise", checkElementwise], ["strided", checkStrided], ["reductions", checkReductions],
    ["softmax", checkSoftmax], ["crossEntropy", checkCrossEntropy], ["batchNorm", checkBatchNorm],
    ["optim", checkOptim], ["errors", checkErrors],
  ];
  const times: string[] = [];
  for (const threads of [0, 1]) {
    if (threads) a.setNumThreads(1);
    for (const [name, f] of sections) {
      if (threads && !["gemm", "conv", "reductions"].includes(name)) continue;
      const t0 = Date.now();
      try { f(a); } catch (e) { failures.push(`${name} threw ${e instanceof Error ? e.stack : String(e)}`); }
      times.push(`${name}${threads ? "(1t)" : ""}:${Date.now() - t0}ms`);
    }
  }
  process.stdout.write(`@@RESULT ${JSON.stringify({ isa: a.isa(), checks, failures: failures.slice(0, 20), nfail: failures.length, times })}\n`);
}

// ------------------------------------------------------------------ entry
if (process.env.KINDLING_NATIVE_CHILD === "1") {
  runChecks();
} else {
  const addon = loadAddon();
  for (const isa of ["avx512", "avx2", "scalar"]) {
    test(`native addon matches float64 references (KINDLING_ISA=${isa})`, async (t) => {
      if (!addon) { t.skip(`native addon not available: ${addonLoadError()}`); return; }
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
          env: { ...process.env, KINDLING_NATIVE_CHILD: "1", KINDLING_ISA: isa },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let so = "", se = "";
        child.stdout.on("data", (d: Buffer) => (so += d.toString()));
        child.stderr.on("data", (d: Buffer) => (se += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(so) : reject(new Error(`child exited ${code}: ${se}\n${so}`))));
      });
      const line = out.split("\n").find((l) => l.startsWith("@@RESULT "));
      assert.ok(line, `no result from child: ${out}`);
      const r = JSON.parse(line.slice(9)) as { isa: string; checks: number; failures: string[]; nfail: number; times: string[] };
      t.diagnostic(`isa=${r.isa} checks=${r.checks} ${r.times.join(" ")}`);
      assert.ok(r.checks > 100, "too few checks ran");
      assert.deepEqual(r.failures, [], `${r.nfail} failing checks on ${r.isa}`);
    });
  }
  test("addon loader: KINDLING_BACKEND=ref disables it", async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const code = `import(${JSON.stringify(new URL("../src/backends/cpu/addon.js", import.meta.url).href)}).then(m => { console.log(JSON.stringify([m.loadAddon(), m.addonLoadError()])); })`;
      const child = spawn(process.execPath, ["--input-type=module", "-e", code], { env: { ...process.env, KINDLING_BACKEND: "ref" } });
      let so = "";
      child.stdout.on("data", (d: Buffer) => (so += d.toString()));
      child.on("error", reject);
      child.on("close", () => resolve(so));
    });
    const [mod, err] = JSON.parse(out) as [unknown, string];
    assert.equal(mod, null);
    assert.match(err, /KINDLING_BACKEND=ref/);
  });
}
