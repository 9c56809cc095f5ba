// Elementwise unary ops, each declared once: its scalar reference function, its backward rule in tensor ops, and
// the range its tests draw inputs from. The reference backend maps `fn` over any strides; native backends register
// the same names.
import { erf } from "../core/erf.js";
import type { Tensor } from "../tensor/tensor.js";

export interface UnaryDef {
  readonly fn: (x: number) => number;
  /** Gradient wrt x given upstream g, input x and output y; null marks a non-differentiable op. */
  readonly backward: ((g: Tensor, x: Tensor, y: Tensor) => Tensor) | null;
  /** Test input range; inputs whose derivative is undefined at a point stay away from it. */
  readonly range: readonly [number, number];
  /** Integer inputs are computed in float32 (exp(int) is float, like PyTorch). */
  readonly floatResult: boolean;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;

export const geluFn = (x: number): number => 0.5 * x * (1 + erf(x * SQRT1_2));
export const geluGradFn = (x: number): number => 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);

// Piecewise-constant ops: zero gradient almost everywhere (PyTorch returns zeros rather than detaching).
const zeroGrad = (g: Tensor): Tensor => g.mul(0);

function def(
  fn: (x: number) => number,
  backward: UnaryDef["backward"],
  range: readonly [number, number],
  floatResult = true,
): UnaryDef {
  return { fn, backward, range, floatResult };
}

export const unaryOps = {
  neg: def((x) => -x, (g) => g.neg(), [-3, 3], false),
  exp: def(Math.exp, (g, _x, y) => g.mul(y), [-3, 3]),
  log: def(Math.log, (g, x) => g.div(x), [0.1, 5]),
  sqrt: def(Math.sqrt, (g, _x, y) => g.div(y.mul(2)), [0.1, 5]),
  rsqrt: def((x) => 1 / Math.sqrt(x), (g, _x, y) => g.mul(y.pow(3)).mul(-0.5), [0.1, 5]),
  abs: def(Math.abs, (g, x) => g.mul(x.sign()), [-3, 3], false),
  relu: def((x) => (x > 0 ? x : x === x ? 0 : x), (g, x) => g.reluGrad(x), [-3, 3], false),
  gelu: def(geluFn, (g, x) => g.geluGrad(x), [-4, 4]),
  sigmoid: def((x) => 1 / (1 + Math.exp(-x)), (g, _x, y) => g.mul(y.mul(y.neg().add(1))), [-5, 5]),
  tanh: def(Math.tanh, (g, _x, y) => g.mul(y.mul(y).neg().add(1)), [-3, 3]),
  reciprocal: def((x) => 1 / x, (g, _x, y) => g.mul(y.mul(y)).neg(), [0.2, 4]),
  square: def((x) => x * x, (g, x) => g.mul(x).mul(2), [-3, 3], false),
  sin: def(Math.sin, (g, x) => g.mul(x.cos()), [-3, 3]),
  cos: def(Math.cos, (g, x) => g.mul(x.sin()).neg(), [-3, 3]),
  sign: def((x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN), zeroGrad, [-3, 3], false),
  floor: def(Math.floor, zeroGrad, [-3, 3], false),
  ceil: def(Math.ceil, zeroGrad, [-3, 3], false),
  round: def(roundHalfEven, zeroGrad, [-3, 3], false),
} satisfies Record<string, UnaryDef>;

export type UnaryName = keyof typeof unaryOps;

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
