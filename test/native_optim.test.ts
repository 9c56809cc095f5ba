// Native addon, SGD and Adam steps: against float64 JavaScript references, on every ISA path (see helpers/native_harness.ts).
import type { NativeAddon } from "../src/backends/cpu/addon.js";
import { close, nativeChecks, randArr } from "./helpers/native_harness.js";

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

nativeChecks(import.meta.url, "optim", [["optim", checkOptim]], []);
