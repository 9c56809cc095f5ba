import { opError } from "../../core/errors.js";
import type { CrossEntropyParams, View } from "../../ops/kernels.js";

export function softmax(x: View, out: View, outer: number, n: number, inner: number, log: boolean): void {
  const X = x.storage.data;
  const Y = out.storage.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, X[x.offset + base + k * inner]);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(X[x.offset + base + k * inner] - m);
      const ls = Math.log(s);
      for (let k = 0; k < n; k++) {
        const z = X[x.offset + base + k * inner] - m;
        Y[out.offset + base + k * inner] = log ? z - ls : Math.exp(z) / s;
      }
    }
  }
}

export function softmaxBackward(
  gy: View, y: View, gx: View, outer: number, n: number, inner: number, log: boolean,
): void {
  const G = gy.storage.data;
  const Y = y.storage.data;
  const D = gx.storage.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let s = 0;
      for (let k = 0; k < n; k++) {
        const j = base + k * inner;
        s += log ? G[gy.offset + j] : G[gy.offset + j] * Y[y.offset + j];
      }
      for (let k = 0; k < n; k++) {
        const j = base + k * inner;
        const yv = Y[y.offset + j];
        D[gx.offset + j] = log ? G[gy.offset + j] - Math.exp(yv) * s : yv * (G[gy.offset + j] - s);
      }
    }
  }
}

export function checkTarget(op: string, t: number, C: number, ignoreIndex: number): boolean {
  if (t === ignoreIndex) return false;
  if (!(t >= 0 && t < C) || !Number.isInteger(t)) {
    throw opError(op, `target ${t} is out of bounds: expected a class index in [0, ${C - 1}] (or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}

/** Writes the reduced loss; per-sample values (reduction "none") go to loss[i]. */
function reduceLoss(per: Float64Array, count: number, loss: View, p: CrossEntropyParams): number {
  const L = loss.storage.data;
  if (p.reduction === "none") {
    for (let i = 0; i < per.length; i++) L[loss.offset + i] = per[i];
    return 1;
  }
  let s = 0;
  for (let i = 0; i < per.length; i++) s += per[i];
  const scale = p.reduction === "mean" ? 1 / count : 1;
  L[loss.offset] = s * scale;
  return scale;
}

export function crossEntropy(logits: View, target: View, loss: View, grad: View | null, p: CrossEntropyParams): void {
  const [N, C] = logits.shape;
  const X = logits.storage.data;
  const T = target.storage.data;
  const eps = p.labelSmoothing;
  const per = new Float64Array(N);
  const probs = new Float64Array(C);
  const keep = new Uint8Array(N);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = T[target.offset + i];
    if (!checkTarget("crossEntropy", t, C, p.ignoreIndex)) continue;
    keep[i] = 1;
    count++;
    const row = logits.offset + i * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, X[row + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(X[row + c] - m);
    const lse = m + Math.log(s);
    let sumNegLogp = 0;
    for (let c = 0; c < C; c++) sumNegLogp += lse - X[row + c];
    per[i] = (1 - eps) * (lse - X[row + t]) + (eps / C) * sumNegLogp;
  }
  const scale = reduceLoss(per, count, loss, p);
  if (!grad) return;
  const D = grad.storage.data;
  for (let i = 0; i < N; i++) {
    const row = logits.offset + i * C;
    const grow = grad.offset + i * C;
    if (!keep[i]) {
      for (let c = 0; c < C; c++) D[grow + c] = 0;
      continue;
    }
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, X[row + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += probs[c] = Math.exp(X[row + c] - m);
    const t = T[target.offset + i];
    for (let c = 0; c < C; c++) D[grow + c] = (probs[c] / s - (c === t ? 1 - eps : 0) - eps / C) * scale;
  }
}

export function nllLoss(logp: View, target: View, loss: View, p: CrossEntropyParams): void {
  const [N, C] = logp.shape;
  const X = logp.storage.data;
  const T = target.storage.data;
  const per = new Float64Array(N);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = T[target.offset + i];
    if (!checkTarget("nllLoss", t, C, p.ignoreIndex)) continue;
    count++;
    per[i] = -X[logp.offset + i * C + t];
  }
  reduceLoss(per, count, loss, p);
}

/** gx = d loss / d logp, scaled by the upstream gradient gLoss (a scalar, or one value per sample for "none"). */
export function nllLossBackward(target: View, gx: View, gLoss: View, p: CrossEntropyParams): void {
  const [N, C] = gx.shape;
  const T = target.storage.data;
  const G = gLoss.storage.data;
  const D = gx.storage.data;
  D.fill(0, gx.offset, gx.offset + N * C);
  let count = 0;
  for (let i = 0; i < N; i++) if (T[target.offset + i] !== p.ignoreIndex) count++;
  for (let i = 0; i < N; i++) {
    const t = T[target.offset + i];
    if (t === p.ignoreIndex) continue;
    const g = p.reduction === "none" ? G[gLoss.offset + i] : G[gLoss.offset] / (p.reduction === "mean" ? count : 1);
    D[gx.offset + i * C + t] = -g;
  }
}
