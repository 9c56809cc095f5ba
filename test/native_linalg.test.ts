// Native addon, gemm, batched gemm and linear: against float64 JavaScript references, on every ISA path (see helpers/native_harness.ts).
import type { NativeAddon } from "../src/backends/cpu/addon.js";
import { close, failures, nativeChecks, randArr, randInt, withOff } from "./helpers/native_harness.js";

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

nativeChecks(import.meta.url, "linalg", [["gemm", checkGemm], ["bgemm", checkBgemm], ["linear", checkLinear]], ["gemm"]);
