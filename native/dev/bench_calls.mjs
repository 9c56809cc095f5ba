// JS -> native crossing cost and per-call timings of the tutorial's hot kernels, through the built addon.
//   node scripts/build-native.mjs && node native/dev/bench_calls.mjs
import { createRequire } from "node:module";
const a = createRequire(import.meta.url)("../../build/Release/kindling_cpu.node");

function timeit(name, iters, f, flops = 0) {
  for (let i = 0; i < Math.min(iters, 1000); i++) f();
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) f();
    const ns = Number(process.hrtime.bigint() - t0) / iters;
    if (ns < best) best = ns;
  }
  const g = flops ? `  ${(flops / best).toFixed(1)} GFLOP/s` : "";
  console.log(`${name.padEnd(44)} ${best < 1e4 ? best.toFixed(0) + " ns" : (best / 1e3).toFixed(1) + " us"}${g}`);
}
const r = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
console.log(`isa=${a.isa()} threads=${a.getNumThreads()}`);
const x16 = r(16), y16 = r(16), o16 = new Float32Array(16);
timeit("binary add n=16 (crossing cost)", 1e6, () => a.binary(0, x16, 0, y16, 0, o16, 0, 16));
timeit("binaryScalar mul n=16", 1e6, () => a.binaryScalar(2, x16, 0, 0.5, o16, 0, 16));
timeit("unary relu n=16", 1e6, () => a.unary(5, x16, 0, o16, 0, 16));
const x = r(4 * 400), w = r(120 * 400), b = r(120), y = new Float32Array(4 * 120);
timeit("linear 4x400 -> 120 (+bias)", 2e5, () => a.linear(x, 0, w, 0, b, 0, y, 0, 4, 120, 400), 2 * 4 * 400 * 120);
const gy = r(4 * 120), gx = new Float32Array(4 * 400), gw = new Float32Array(120 * 400), gb = new Float32Array(120);
timeit("linearBackward 4x400 -> 120 (gx,gw,gb)", 1e5, () => a.linearBackward(gy, 0, x, 0, w, 0, gx, 0, gw, 0, gb, 0, 4, 120, 400), 4 * 4 * 400 * 120);
const ci = r(4 * 3 * 32 * 32), cw = r(6 * 3 * 25), cb = r(6), co = new Float32Array(4 * 6 * 28 * 28);
timeit("conv2d 4x3x32x32 -> 6, 5x5", 2e4, () => a.conv2d(ci, 0, cw, 0, cb, 0, co, 0, 4, 3, 32, 32, 6, 5, 5, 1, 1, 0, 0, 1, 1, 1, 28, 28), 2 * 4 * 6 * 784 * 75);
const c2i = r(4 * 6 * 14 * 14), c2w = r(16 * 6 * 25), c2b = r(16), c2o = new Float32Array(4 * 16 * 100);
timeit("conv2d 4x6x14x14 -> 16, 5x5", 2e4, () => a.conv2d(c2i, 0, c2w, 0, c2b, 0, c2o, 0, 4, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1, 10, 10), 2 * 4 * 16 * 100 * 150);
const g2 = r(4 * 16 * 100), g2x = new Float32Array(c2i.length), g2w = new Float32Array(c2w.length), g2b = new Float32Array(16);
timeit("conv2dBackward 4x6x14x14 -> 16 (gx,gw,gb)", 1e4, () => a.conv2dBackward(g2, 0, c2i, 0, c2w, 0, g2x, 0, g2w, 0, g2b, 0, 4, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1, 10, 10), 4 * 4 * 16 * 100 * 150);
const g1 = r(4 * 6 * 784), g1w = new Float32Array(cw.length), g1b = new Float32Array(6);
timeit("conv2dBackward 4x3x32x32 -> 6 (gw,gb only)", 1e4, () => a.conv2dBackward(g1, 0, ci, 0, cw, 0, null, 0, g1w, 0, g1b, 0, 4, 3, 32, 32, 6, 5, 5, 1, 1, 0, 0, 1, 1, 1, 28, 28), 2 * 4 * 6 * 784 * 75);
const pi = r(4 * 6 * 28 * 28), po = new Float32Array(4 * 6 * 196), pidx = new Int32Array(4 * 6 * 196);
timeit("maxPool2d 4x6x28x28 2x2", 1e5, () => a.maxPool2d(pi, 0, po, 0, pidx, 0, 4, 6, 28, 28, 2, 2, 2, 2, 0, 0, 1, 1, 14, 14));
const lg = r(40), tg = Int32Array.from([1, 2, 3, 4]), loss = new Float32Array(1), lgr = new Float32Array(40);
timeit("crossEntropy 4x10 (+grad)", 1e6, () => a.crossEntropy(lg, 0, tg, 0, 4, 10, -100, 0, 1, loss, 0, lgr, 0));
const ps = [r(450), r(6), r(2400), r(16), r(48000), r(120), r(10080), r(84), r(840), r(10)];
const gs = ps.map((p) => r(p.length)), bs = ps.map((p) => new Float32Array(p.length));
const offs = new Int32Array(ps.length), sizes = Int32Array.from(ps.map((p) => p.length));
timeit("sgdStep tutorial net (62006 params, momentum)", 2e4, () => a.sgdStep(ps, gs, bs, offs, sizes, 0.001, 0.9, 0, 0, 0, 0, 0));
for (const n of [512, 2048]) {
  const A = r(n * n), B = r(n * n), C = new Float32Array(n * n);
  timeit(`gemm ${n}^3`, n === 512 ? 50 : 3, () => a.gemm(0, 0, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n), 2 * n * n * n);
}
