import type { BatchNormParams, View } from "../../ops/kernels.js";

// x is contiguous [N, C, HW]; statistics are per channel over N*HW values.
export function batchNorm(
  x: View, weight: View | null, bias: View | null, runningMean: View | null, runningVar: View | null,
  out: View, saveMean: View, saveInvstd: View, p: BatchNormParams,
): void {
  const { N, C, HW } = p;
  const X = x.storage.data;
  const Y = out.storage.data;
  const M = N * HW;
  for (let c = 0; c < C; c++) {
    let mean: number;
    let invstd: number;
    if (p.training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) s += X[x.offset + (n * C + c) * HW + k];
      mean = s / M;
      let v = 0;
      for (let n = 0; n < N; n++)
        for (let k = 0; k < HW; k++) {
          const d = X[x.offset + (n * C + c) * HW + k] - mean;
          v += d * d;
        }
      const varBiased = v / M;
      invstd = 1 / Math.sqrt(varBiased + p.eps);
      if (runningMean && runningVar) {
        const rm = runningMean.storage.data;
        const rv = runningVar.storage.data;
        rm[runningMean.offset + c] = (1 - p.momentum) * rm[runningMean.offset + c] + p.momentum * mean;
        const unbiased = M > 1 ? v / (M - 1) : varBiased;
        rv[runningVar.offset + c] = (1 - p.momentum) * rv[runningVar.offset + c] + p.momentum * unbiased;
      }
    } else {
      mean = runningMean ? runningMean.storage.data[runningMean.offset + c] : 0;
      invstd = 1 / Math.sqrt((runningVar ? runningVar.storage.data[runningVar.offset + c] : 1) + p.eps);
    }
    saveMean.storage.data[saveMean.offset + c] = mean;
    saveInvstd.storage.data[saveInvstd.offset + c] = invstd;
    const w = weight ? weight.storage.data[weight.offset + c] : 1;
    const b = bias ? bias.storage.data[bias.offset + c] : 0;
    for (let n = 0; n < N; n++)
      for (let k = 0; k < HW; k++) {
        const i = (n * C + c) * HW + k;
        Y[out.offset + i] = (X[x.offset + i] - mean) * invstd * w + b;
      }
  }
}

export function batchNormBackward(
  gy: View, x: View, weight: View | null, saveMean: View, saveInvstd: View,
  gx: View, gw: View | null, gb: View | null, p: BatchNormParams,
): void {
  const { N, C, HW } = p;
  const G = gy.storage.data;
  const X = x.storage.data;
  const D = gx.storage.data;
  const M = N * HW;
  for (let c = 0; c < C; c++) {
    const mean = saveMean.storage.data[saveMean.offset + c];
    const invstd = saveInvstd.storage.data[saveInvstd.offset + c];
    const w = weight ? weight.storage.data[weight.offset + c] : 1;
    let sg = 0;
    let sgx = 0;
    for (let n = 0; n < N; n++)
      for (let k = 0; k < HW; k++) {
        const i = (n * C + c) * HW + k;
        sg += G[gy.offset + i];
        sgx += G[gy.offset + i] * (X[x.offset + i] - mean) * invstd;
      }
    if (gb) gb.storage.data[gb.offset + c] = sg;
    if (gw) gw.storage.data[gw.offset + c] = sgx;
    for (let n = 0; n < N; n++)
      for (let k = 0; k < HW; k++) {
        const i = (n * C + c) * HW + k;
        const g = G[gy.offset + i];
        if (p.training) {
          const xhat = (X[x.offset + i] - mean) * invstd;
          D[gx.offset + i] = ((w * invstd) / M) * (M * g - sg - xhat * sgx);
        } else {
          D[gx.offset + i] = g * w * invstd;
        }
      }
  }
}
