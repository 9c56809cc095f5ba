// Elementwise binary ops with broadcasting, each declared once (see unary.ts). Backward rules return gradients at
// the broadcast shape; the dispatcher sums them back to each input's shape.
import type { Tensor } from "../tensor/tensor.js";
import { geluGradFn } from "./unary.js";

const INV_SQRT_2PI = 0.3989422804014327;

export type BinaryResult = "promote" | "bool" | "float";

export interface BinaryDef {
  readonly fn: (a: number, b: number) => number;
  readonly backward: ((g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null]) | null;
  readonly result: BinaryResult;
  readonly rangeA: readonly [number, number];
  readonly rangeB: readonly [number, number];
}

function def(
  fn: BinaryDef["fn"],
  backward: BinaryDef["backward"],
  result: BinaryResult = "promote",
  rangeA: readonly [number, number] = [-3, 3],
  rangeB: readonly [number, number] = rangeA,
): BinaryDef {
  return { fn, backward, result, rangeA, rangeB };
}

const cmp = (fn: BinaryDef["fn"]): BinaryDef => def(fn, null, "bool");

// Where a tie makes the gradient ambiguous, PyTorch splits it evenly between the inputs.
function pick(g: Tensor, winner: Tensor, tie: Tensor): Tensor {
  return g.mul(winner.add(tie.mul(0.5)));
}

export const binaryOps = {
  add: def((a, b) => a + b, (g) => [g, g]),
  sub: def((a, b) => a - b, (g) => [g, g.neg()]),
  mul: def((a, b) => a * b, (g, a, b) => [g.mul(b), g.mul(a)]),
  div: def((a, b) => a / b, (g, a, b) => [g.div(b), g.mul(a).div(b.mul(b)).neg()], "float", [-3, 3], [0.5, 3]),
  pow: def(
    Math.pow,
    // d/db of a^b is a^b log a; at a = 0 (b >= 0) PyTorch defines it as 0 instead of 0 * -inf.
    (g, a, b, out) => [g.mul(b).mul(a.pow(b.sub(1))), g.mul(out.mul(a.log()).where(a.ne(0).maximum(b.lt(0)), 0))],
    "promote",
    [0.5, 2],
    [-2, 2],
  ),
  maximum: def(Math.max, (g, a, b) => [pick(g, a.gt(b), a.eq(b)), pick(g, b.gt(a), a.eq(b))]),
  minimum: def(Math.min, (g, a, b) => [pick(g, a.lt(b), a.eq(b)), pick(g, b.lt(a), a.eq(b))]),
  eq: cmp((a, b) => (a === b ? 1 : 0)),
  ne: cmp((a, b) => (a !== b ? 1 : 0)),
  gt: cmp((a, b) => (a > b ? 1 : 0)),
  lt: cmp((a, b) => (a < b ? 1 : 0)),
  ge: cmp((a, b) => (a >= b ? 1 : 0)),
  le: cmp((a, b) => (a <= b ? 1 : 0)),
  /** relu's backward as one pass: g where x > 0. */
  reluGrad: def((g, x) => (x > 0 ? g : 0), (gg, _g, x) => [gg.reluGrad(x), null]),
  /** gelu's backward as one pass: g * gelu'(x). */
  geluGrad: def(
    (g, x) => g * geluGradFn(x),
    // gelu''(x) = phi(x) * (2 - x^2)
    (gg, g, x) => {
      const x2 = x.mul(x);
      return [gg.geluGrad(x), gg.mul(g).mul(x2.neg().add(2)).mul(x2.mul(-0.5).exp().mul(INV_SQRT_2PI))];
    },
    "promote",
    [-3, 3],
    [-4, 4],
  ),
} satisfies Record<string, BinaryDef>;

export type BinaryName = keyof typeof binaryOps;
