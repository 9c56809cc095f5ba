// Native addon, reductions, softmax, cross-entropy and batch norm: against float64 JavaScript references, on every ISA path (see helpers/native_harness.ts).
import type { NativeAddon } from "../src/backends/cpu/addon.js";
import { close, eqInt, nativeChecks, randArr, randInt, withOff } from "./helpers/native_harness.js";

function checkReductions(a: NativeAddon): void {
  for (const [outer, red, inner] of [[1, 1, 1], [3, 7, 1], [2, 1000, 1], [4, 5, 6], [2, 300, 37], [1, 3, 100000], [50, 3001, 1]]) {
    const x = withOff(outer * red * inner, 2);
    if (outer * red * inner > 40) x[2 + 37] = NaN;
    const y = new Float32Array(outer * inner + 1), idx = new Int32Array(outer * inner + 1);
    a.sumDim(x, 2, y, 1, outer, red, inner);
    const ws: number[] = [], sc: number[] = [], wm: number[] = [], wi: number[] = [], wn: number[] = [], wni: number[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let s = 0, t = 0, m = -Infinity, mi = -1, mn = Infinity, mni = -1;
      for (let r = 0; r < red; r++) {
        const v = x[2 + (o * red + r) * inner + i];
        s += v; t += Math.abs(v);
        if (mi < 0 || v > m || (Number.isNaN(v) && !Number.isNaN(m))) { m = v; mi = r; }
        if (mni < 0 || v < mn || (Number.isNaN(v) && !Number.isNaN(mn))) { mn = v; mni = r; }
      }
      ws.push(s); sc.push(t); wm.push(m); wi.push(mi); wn.push(mn); wni.push(mni);
    }
    close(`sumDim ${outer},${red},${inner}`, y, 1, ws, 1e-5, 1e-30, sc);
    a.maxDim(x, 2, y, 1, idx, 1, outer, red, inner);
    close(`maxDim ${outer},${red},${inner}`, y, 1, wm, 0);
    eqInt(`maxDim idx ${outer},${red},${inner}`, idx, 1, wi);
    a.maxDim(x, 2, y, 1, idx, 1, outer, red, inner, 1);
    close(`maxDim isMin ${outer},${red},${inner}`, y, 1, wn, 0);
    eqInt(`maxDim isMin idx ${outer},${red},${inner}`, idx, 1, wni);
  }
  for (const [outer, red, inner] of [[1, 1, 1], [3, 7, 1], [4, 5, 6], [2, 30, 37]]) {
    const x = withOff(outer * red * inner, 1, 0.5, 1.5), y = new Float32Array(outer * inner);
    a.prodDim(x, 1, y, 0, outer, red, inner);
    const want: number[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let p = 1;
      for (let r = 0; r < red; r++) p *= x[1 + (o * red + r) * inner + i];
      want.push(p);
    }
    close(`prodDim ${outer},${red},${inner}`, y, 0, want, 1e-6);
  }
  for (const [outer, n, inner, index] of [[1, 5, 1, [4, 0, 0, 2]], [3, 4, 7, [1, 3]], [2, 6, 33, [5, 5, 0]]] as [number, number, number, number[]][]) {
    const m = index.length, x = withOff(outer * n * inner, 2), idx = Float64Array.from([9, ...index]);
    const y = new Float32Array(outer * m * inner);
    a.indexSelect(x, 2, idx, 1, m, y, 0, outer, n, inner);
    const want: number[] = [];
    for (let o = 0; o < outer; o++) for (const k of index) for (let i = 0; i < inner; i++) want.push(x[2 + (o * n + k) * inner + i]);
    close(`indexSelect ${outer},${n},${inner}`, y, 0, want, 0);
    const acc = new Float32Array(outer * n * inner).fill(1), wantAcc = Array.from(acc);
    a.indexAdd(y, 0, idx, 1, m, acc, 0, outer, n, inner);
    for (let o = 0; o < outer; o++) index.forEach((k, j) => { for (let i = 0; i < inner; i++) wantAcc[(o * n + k) * inner + i] += y[(o * m + j) * inner + i]; });
    close(`indexAdd ${outer},${n},${inner}`, acc, 0, wantAcc, 0, 1e-6); // float sums of 1 + y: absolute
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

nativeChecks(import.meta.url, "reduce_loss_norm", [["reductions", checkReductions], ["softmax", checkSoftmax], ["crossEntropy", checkCrossEntropy], ["batchNorm", checkBatchNorm]], ["reductions"]);
