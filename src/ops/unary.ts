// Elementwise unary ops, each declared once: its scalar reference function and the range its tests draw inputs
// from. The reference backend maps `fn` over any strides; native backends register the same names. Backward rules
// live in autograd/rules.ts.
import { erf } from "../core/erf.js";

export interface UnaryDef {
  readonly fn: (x: number) => number;
  /** Test input range; inputs whose derivative is undefined at a point stay away from it. */
  readonly range: readonly [number, number];
  /** Integer inputs are computed in float32 (exp(int) is float, like PyTorch). */
  readonly floatResult: boolean;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;

export const geluFn = (x: number): number => 0.5 * x * (1 + erf(x * SQRT1_2));
export const geluGradFn = (x: number): number => 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);

function def(fn: (x: number) => number, range: readonly [number, number], floatResult = true): UnaryDef {
  return { fn, range, floatResult };
}

export const unaryOps = {
  neg: def((x) => -x, [-3, 3], false),
  exp: def(Math.exp, [-3, 3]),
  log: def(Math.log, [0.1, 5]),
  sqrt: def(Math.sqrt, [0.1, 5]),
  rsqrt: def((x) => 1 / Math.sqrt(x), [0.1, 5]),
  abs: def(Math.abs, [-3, 3], false),
  relu: def((x) => (x > 0 ? x : x === x ? 0 : x), [-3, 3], false),
  gelu: def(geluFn, [-4, 4]),
  sigmoid: def((x) => 1 / (1 + Math.exp(-x)), [-5, 5]),
  tanh: def(Math.tanh, [-3, 3]),
  reciprocal: def((x) => 1 / x, [0.2, 4]),
  square: def((x) => x * x, [-3, 3], false),
  sin: def(Math.sin, [-3, 3]),
  cos: def(Math.cos, [-3, 3]),
  sign: def((x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN), [-3, 3], false),
  floor: def(Math.floor, [-3, 3], false),
  ceil: def(Math.ceil, [-3, 3], false),
  round: def(roundHalfEven, [-3, 3], false),
} satisfies Record<string, UnaryDef>;

export type UnaryName = keyof typeof unaryOps;

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
