import type { AdamParams, SgdParams, View } from "../../ops/kernels.js";

// PyTorch's update rules, element by element (torch/optim/sgd.py and adam.py, single-tensor path).
export function sgdStep(params: View[], grads: View[], bufs: (View | null)[], p: SgdParams, firstStep: boolean[]): void {
  for (let k = 0; k < params.length; k++) {
    const P = params[k].storage.data;
    const G = grads[k].storage.data;
    const po = params[k].offset;
    const go = grads[k].offset;
    const buf = bufs[k];
    const n = P.length === 0 ? 0 : params[k].shape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) {
      let g = G[go + i];
      if (p.maximize) g = -g;
      if (p.weightDecay !== 0) g += p.weightDecay * P[po + i];
      if (p.momentum !== 0 && buf) {
        const B = buf.storage.data;
        const b = firstStep[k] ? g : p.momentum * B[buf.offset + i] + (1 - p.dampening) * g;
        B[buf.offset + i] = b;
        g = p.nesterov ? g + p.momentum * b : b;
      }
      P[po + i] -= p.lr * g;
    }
  }
}

export function adamStep(
  params: View[], grads: View[], expAvg: View[], expAvgSq: View[], maxExpAvgSq: (View | null)[], step: number[],
  p: AdamParams,
): void {
  for (let k = 0; k < params.length; k++) {
    const P = params[k].storage.data;
    const G = grads[k].storage.data;
    const A = expAvg[k].storage.data;
    const S = expAvgSq[k].storage.data;
    const mx = maxExpAvgSq[k];
    const po = params[k].offset;
    const go = grads[k].offset;
    const t = step[k];
    const bc1 = 1 - Math.pow(p.beta1, t);
    const bc2 = 1 - Math.pow(p.beta2, t);
    const stepSize = p.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    const n = params[k].shape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) {
      let g = G[go + i];
      if (p.maximize) g = -g;
      if (p.weightDecay !== 0) {
        if (p.decoupled) P[po + i] *= 1 - p.lr * p.weightDecay;
        else g += p.weightDecay * P[po + i];
      }
      const a = (A[expAvg[k].offset + i] = p.beta1 * A[expAvg[k].offset + i] + (1 - p.beta1) * g);
      let s = (S[expAvgSq[k].offset + i] = p.beta2 * S[expAvgSq[k].offset + i] + (1 - p.beta2) * g * g);
      if (p.amsgrad && mx) {
        const M = mx.storage.data;
        s = M[mx.offset + i] = Math.max(M[mx.offset + i], s);
      }
      const denom = Math.sqrt(s) / bc2Sqrt + p.eps;
      P[po + i] -= (stepSize * a) / denom;
    }
  }
}
