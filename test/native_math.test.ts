// The addon's vectorised float transcendentals (native/cpu/kernels/math.inc) against float64 Math over wide input
// ranges, special values, and contiguous vs strided calls (which must agree bitwise: same formula per element).
import test from "node:test";
import assert from "node:assert/strict";
import { loadAddon, opCodes } from "../src/backends/cpu/addon.js";

const addon = loadAddon();
const skip = addon ? false : "native addon not built";

function sweep(lo: number, hi: number, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = lo + ((hi - lo) * i) / (n - 1);
  return x;
}

const cases: [string, (x: number) => number, number, number, number][] = [
  // op, reference, lo, hi, max error in ulps of the result (or of 1 near zero crossings: see the check)
  ["exp", Math.exp, -87, 88, 4],
  ["log", Math.log, 1e-30, 1e30, 4],
  ["log", Math.log, 0.5, 2, 4],
  ["sin", Math.sin, -8000, 8000, 4],
  ["cos", Math.cos, -8000, 8000, 4],
  ["sin", Math.sin, -1e6, 1e6, 4],
  ["tanh", Math.tanh, -12, 12, 4],
  ["sigmoid", (v) => 1 / (1 + Math.exp(-v)), -30, 30, 4],
  ["floor", Math.floor, -100, 100, 0],
  ["ceil", Math.ceil, -100, 100, 0],
];

test("vectorised unary ops stay within a few float ulps of float64 Math", { skip }, () => {
  const n = addon!;
  const codes = opCodes(n).unary;
  for (const [op, ref, lo, hi, ulps] of cases) {
    const x = sweep(lo, hi, 200003);
    const y = new Float32Array(x.length);
    n.unary(codes[op as keyof typeof codes], x, 0, y, 0, x.length);
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const want = ref(x[i]);
      // ulp of the result, floored at 2^-24 (absolute error near the zeros of sin/cos/log is what float input allows)
      const ulp = Math.max(Math.abs(want), 1) * 2 ** -23;
      worst = Math.max(worst, Math.abs(y[i] - want) / ulp);
    }
    assert.ok(worst <= ulps, `${op} over [${lo}, ${hi}]: ${worst.toFixed(2)} ulps`);
  }
});

test("special values follow C: log(0) = -inf, log(<0) = NaN, sin/cos(inf) = NaN, NaN in NaN out", { skip }, () => {
  const n = addon!;
  const codes = opCodes(n).unary;
  const x = Float32Array.of(0, -1, Infinity, -Infinity, NaN, 1e-40, -0);
  const run = (op: keyof typeof codes) => {
    const y = new Float32Array(x.length);
    n.unary(codes[op], x, 0, y, 0, x.length);
    return [...y];
  };
  const log = run("log");
  assert.deepEqual(log.slice(0, 5), [-Infinity, NaN, Infinity, NaN, NaN]);
  assert.ok(Math.abs(log[5] - Math.log(Math.fround(1e-40))) < 1e-4, "log of a subnormal");
  assert.equal(log[6], -Infinity);
  for (const op of ["sin", "cos"] as const) {
    const y = run(op);
    assert.ok(Number.isNaN(y[2]) && Number.isNaN(y[3]) && Number.isNaN(y[4]), `${op}(±inf, NaN)`);
  }
  const tanh = run("tanh");
  assert.deepEqual(tanh.slice(2, 4), [1, -1]);
  assert.ok(Number.isNaN(tanh[4]));
  assert.ok(Object.is(run("sin")[6], -0), "sin(-0) = -0");
});

test("strided calls give bitwise the same values as contiguous ones, for every unary op", { skip }, () => {
  const n = addon!;
  const codes = opCodes(n).unary;
  const rows = 37, cols = 19; // odd sizes: vector bodies and tails
  const x = sweep(-3, 3, rows * cols);
  const xt = new Float32Array(rows * cols); // x^T stored, read back through strides
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) xt[j * rows + i] = x[i * cols + j];
  for (const [op, code] of Object.entries(codes)) {
    const a = new Float32Array(x.length), b = new Float32Array(x.length);
    n.unary(code, x, 0, a, 0, x.length);
    n.unaryStrided(code, 2, Int32Array.of(rows, cols), xt, 0, Int32Array.of(1, rows), b, 0);
    assert.deepEqual(b, a, op);
  }
});
