import type { View } from "../../ops/kernels.js";

export function bmm(
  a: View, b: View, out: View, batch: number, M: number, N: number, K: number, transA: boolean, transB: boolean,
): void {
  const A = a.storage.data;
  const B = b.storage.data;
  const C = out.storage.data;
  for (let p = 0; p < batch; p++) {
    const ao = a.offset + p * M * K;
    const bo = b.offset + p * K * N;
    const co = out.offset + p * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = transA ? A[ao + k * M + i] : A[ao + i * K + k];
          const bv = transB ? B[bo + j * K + k] : B[bo + k * N + j];
          acc += av * bv;
        }
        C[co + i * N + j] = acc;
      }
    }
  }
}

export function linear(x: View, w: View, bias: View | null, out: View): void {
  const K = x.shape[x.shape.length - 1];
  const N = w.shape[0];
  const M = K === 0 ? out.shape[0] : x.shape[0];
  const X = x.storage.data;
  const Wd = w.storage.data;
  const Y = out.storage.data;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = bias ? bias.storage.data[bias.offset + j] : 0;
      for (let k = 0; k < K; k++) acc += X[x.offset + i * K + k] * Wd[w.offset + j * K + k];
      Y[out.offset + i * N + j] = acc;
    }
  }
}

export function linearBackward(gy: View, x: View, w: View, gx: View | null, gw: View | null, gb: View | null): void {
  const [M, N] = gy.shape;
  const K = w.shape[1];
  const G = gy.storage.data;
  const X = x.storage.data;
  const Wd = w.storage.data;
  if (gx) {
    const D = gx.storage.data;
    for (let i = 0; i < M; i++)
      for (let k = 0; k < K; k++) {
        let acc = 0;
        for (let j = 0; j < N; j++) acc += G[gy.offset + i * N + j] * Wd[w.offset + j * K + k];
        D[gx.offset + i * K + k] = acc;
      }
  }
  if (gw) {
    const D = gw.storage.data;
    for (let j = 0; j < N; j++)
      for (let k = 0; k < K; k++) {
        let acc = 0;
        for (let i = 0; i < M; i++) acc += G[gy.offset + i * N + j] * X[x.offset + i * K + k];
        D[gw.offset + j * K + k] = acc;
      }
  }
  if (gb) {
    const D = gb.storage.data;
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let i = 0; i < M; i++) acc += G[gy.offset + i * N + j];
      D[gb.offset + j] = acc;
    }
  }
}
