// Native addon, unary, binary, strided and copy kernels, and argument errors: against float64 JavaScript references, on every ISA path (see helpers/native_harness.ts).
import { opCodes, type NativeAddon } from "../src/backends/cpu/addon.js";
import { close, countCheck, erfc, failures, nativeChecks, randArr, withOff } from "./helpers/native_harness.js";

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
// Op codes are looked up by name (opCodes): the addon's own lists decide them.
const UNARY: [string, (x: number) => number, number, number][] = [
  ["neg", (x) => -x, -5, 5], ["exp", Math.exp, -80, 80], ["log", Math.log, 1e-6, 100],
  ["sqrt", Math.sqrt, 0, 100], ["abs", Math.abs, -5, 5], ["relu", (x) => Math.max(x, 0), -5, 5],
  ["gelu", (x) => 0.5 * x * erfc(-x / Math.SQRT2), -8, 8], ["sigmoid", (x) => 1 / (1 + Math.exp(-x)), -30, 30],
  ["tanh", Math.tanh, -6, 6], ["rsqrt", (x) => 1 / Math.sqrt(x), 1e-3, 100], ["reciprocal", (x) => 1 / x, 0.01, 10],
  ["square", (x) => x * x, -10, 10], ["sign", Math.sign, -2, 2], ["sin", Math.sin, -50, 50], ["cos", Math.cos, -50, 50],
  ["floor", Math.floor, -9, 9], ["ceil", Math.ceil, -9, 9], ["round", roundHalfEven, -9, 9],
];
function checkElementwise(a: NativeAddon): void {
  const codes = opCodes(a);
  const u = codes.unary as Record<string, number>;
  for (const n of [1, 5, 17, 100, 1000, 140001]) {
    for (const [name, f, lo, hi] of UNARY) {
      const x = withOff(n, 3, lo, hi), y = new Float32Array(n + 1);
      a.unary(u[name], x, 3, y, 1, n);
      const want = Array.from(x.subarray(3, 3 + n), f);
      // sin/cos: absolute error near their zeros is what a float argument allows (~ulp of the argument)
      close(`unary ${name} n=${n}`, y, 1, want, 2e-6, name === "sin" || name === "cos" ? 2e-6 : 1e-37);
    }
    const gy = withOff(n, 1);
    for (const [name, d, lo, hi] of [
      ["relu", (x: number) => (x > 0 ? 1 : 0), -5, 5],
      ["gelu", (x: number) => 0.5 * erfc(-x / Math.SQRT2) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI), -8, 8],
      ["sigmoid", (x: number) => { const s = 1 / (1 + Math.exp(-x)); return s * (1 - s); }, -20, 20],
      ["tanh", (x: number) => 1 - Math.tanh(x) ** 2, -4, 4],
    ] as [string, (x: number) => number, number, number][]) {
      const x = withOff(n, 2, lo, hi), gx = new Float32Array(n);
      a.unaryBackward(u[name], gy, 1, x, 2, gx, 0, n);
      const want = Array.from({ length: n }, (_, i) => gy[1 + i] * d(x[2 + i]));
      close(`unaryBackward ${name} n=${n}`, gx, 0, want, 1e-5, 1e-30);
    }
    const bops: [string, (p: number, q: number) => number][] = [["add", (p, q) => p + q], ["sub", (p, q) => p - q],
      ["mul", (p, q) => p * q], ["div", (p, q) => p / q], ["maximum", (p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.max(p, q))],
      ["minimum", (p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.min(p, q))], ["pow", (p, q) => Math.pow(p, q)]];
    bops.forEach(([name, f], k) => {
      const op = (codes.binary as Record<string, number>)[name];
      const isPow = k === 6, addSub = k < 2;
      const pa = isPow ? withOff(n, 1, 0.1, 3) : withOff(n, 1), pb = isPow ? withOff(n, 2, -2, 2) : withOff(n, 2, 0.2, 2);
      if (!isPow && n > 3) { pa[1 + 2] = NaN; pb[2 + 3] = NaN; }
      const y = new Float32Array(n + 2);
      a.binary(op, pa, 1, pb, 2, y, 2, n);
      // add/sub results round twice in float; scale by operand magnitudes
      const sc = Array.from({ length: n }, (_, i) => Math.abs(f(pa[1 + i], pb[2 + i])) + (addSub ? Math.abs(pa[1 + i]) + Math.abs(pb[2 + i]) : 0));
      close(`binary ${name} n=${n}`, y, 2, Array.from({ length: n }, (_, i) => f(pa[1 + i], pb[2 + i])), 2e-6, 1e-37, sc);
      const s = isPow ? 1.7 : -0.37;
      a.binaryScalar(op, pa, 1, s, y, 0, n);
      close(`binaryScalar ${name} n=${n}`, y, 0, Array.from({ length: n }, (_, i) => f(pa[1 + i], Math.fround(s))), 2e-6, 1e-30);
    });
    const y = withOff(n, 1), x = withOff(n, 0), y0 = y.slice();
    a.axpby(y, 1, x, 0, 0.5, -2, n);
    close(`axpby n=${n}`, y, 1, Array.from({ length: n }, (_, i) => 0.5 * x[i] - 2 * y0[1 + i]), 1e-6, 1e-6);
  }
}

/** f at every index of shape (row-major), given each operand's element position. */
function walk(shape: number[], strides: number[][], offs: number[], f: (pos: number[]) => number): number[] {
  const total = shape.reduce((p, q) => p * q, 1);
  const idx = new Array(shape.length).fill(0);
  const out: number[] = [];
  for (let t = 0; t < total; t++) {
    out.push(f(strides.map((st, k) => offs[k] + st.reduce((acc, s, d) => acc + idx[d] * s, 0))));
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
  return out;
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
    const names = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"];
    for (let k = 0; k < 7; k++) {
      const op = (opCodes(a).binary as Record<string, number>)[names[k]];
      const y = new Float32Array(total + 3);
      a.binaryStrided(op, nd, Int32Array.from(shape), A, aOff, Int32Array.from(as), B, bOff, Int32Array.from(bs), y, 3);
      const want: number[] = [];
      const idx = new Array(nd).fill(0);
      for (let t = 0; t < total; t++) {
        let ia = aOff, ib = bOff;
        for (let k = 0; k < nd; k++) { ia += idx[k] * as[k]; ib += idx[k] * bs[k]; }
        const p = A[ia], q = B[ib];
        want.push([p + q, p - q, p * q, p / q, Math.max(p, q), Math.min(p, q), Math.pow(Math.abs(p), q)][k]);
        for (let k = nd - 1; k >= 0; k--) { if (++idx[k] < shape[k]) break; idx[k] = 0; }
      }
      if (k === 6) continue; // pow of negative bases: NaN both sides, checked elsewhere
      close(`binaryStrided ${names[k]} ${JSON.stringify(shape)}`, y, 3, want, 2e-6, 1e-6);
    }
    if (nd === 0) continue;
    // the same walk for comparisons (bool bytes), reluGrad (g, x) and a strided unary op
    const cmp: [string, (p: number, q: number) => number][] = [["gt", (p, q) => +(p > q)], ["le", (p, q) => +(p <= q)], ["eq", (p, q) => +(p === q)]];
    for (const [name, f] of cmp) {
      const y = new Uint8Array(total + 1);
      a.compareStrided((opCodes(a).binary as Record<string, number>)[name], nd, Int32Array.from(shape), A, aOff, Int32Array.from(as), B, bOff, Int32Array.from(bs), y, 1);
      close(`compareStrided ${name} ${JSON.stringify(shape)}`, y, 1, walk(shape, [as, bs], [aOff, bOff], ([ia, ib]) => f(A[ia], B[ib])), 0);
    }
    const g = new Float32Array(total + 1);
    a.binaryStrided(opCodes(a).binary.reluGrad, nd, Int32Array.from(shape), A, aOff, Int32Array.from(as), B, bOff, Int32Array.from(bs), g, 0);
    close(`binaryStrided reluGrad ${JSON.stringify(shape)}`, g, 0, walk(shape, [as, bs], [aOff, bOff], ([ia, ib]) => (B[ib] > 0 ? A[ia] : 0)), 0);
    const cl = new Float32Array(total);
    a.clampStrided(-0.5, 0.25, nd, Int32Array.from(shape), A, aOff, Int32Array.from(as), cl, 0);
    close(`clampStrided ${JSON.stringify(shape)}`, cl, 0, walk(shape, [as], [aOff], ([ia]) => Math.min(Math.max(A[ia], -0.5), 0.25)), 0);
    const cond = Uint8Array.from(A, (v) => +(v > 0)), w = new Float32Array(total);
    a.whereStrided(nd, Int32Array.from(shape), cond, aOff, Int32Array.from(as), B, bOff, Int32Array.from(bs), A, aOff, Int32Array.from(as), w, 0);
    close(`whereStrided ${JSON.stringify(shape)}`, w, 0, walk(shape, [as, bs], [aOff, bOff], ([ia, ib]) => (cond[ia] ? B[ib] : A[ia])), 0);
    const e = new Float32Array(total + 2);
    a.unaryStrided(opCodes(a).unary.exp, nd, Int32Array.from(shape), A, aOff, Int32Array.from(as), e, 2);
    close(`unaryStrided exp ${JSON.stringify(shape)}`, e, 2, walk(shape, [as], [aOff], ([ia]) => Math.exp(A[ia])), 2e-6);
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

function checkErrors(a: NativeAddon): void {
  const expectThrow = (name: string, f: () => void, re: RegExp) => {
    countCheck();
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

nativeChecks(import.meta.url, "elementwise", [["elementwise", checkElementwise], ["strided", checkStrided], ["errors", checkErrors]], []);
