// Backward rules of the elementwise ops, written with tensor ops (so double backward comes free). The op table
// (src/ops/) declares what an op computes; how its gradient flows lives here, so the table knows nothing of
// tensors. Typed as complete records: an op added to the table without a rule here is a compile error (null marks
// a non-differentiable op).
import { geluGradFn, type UnaryName } from "../ops/unary.js";
import type { BinaryName } from "../ops/binary.js";
import type { Tensor } from "../tensor/tensor.js";

const INV_SQRT_2PI = 0.3989422804014327;

/** Gradient wrt x given upstream g, input x and output y. */
export type UnaryRule = (g: Tensor, x: Tensor, y: Tensor) => Tensor;
/** Gradients at the broadcast shape; the dispatcher sums them back to each input's shape. */
export type BinaryRule = (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null];
/** Gradient wrt a of `a op s` for a JS number s (s is already in the op's dtype). */
export type BinaryScalarRule = (g: Tensor, a: Tensor, s: number, out: Tensor) => Tensor;

// Piecewise-constant ops: zero gradient almost everywhere (PyTorch returns zeros rather than detaching).
const zeroGrad = (g: Tensor): Tensor => g.mul(0);

export const unaryRules: { readonly [K in UnaryName]: UnaryRule | null } = {
  neg: (g) => g.neg(),
  exp: (g, _x, y) => g.mul(y),
  log: (g, x) => g.div(x),
  sqrt: (g, _x, y) => g.div(y.mul(2)),
  rsqrt: (g, _x, y) => g.mul(y.pow(3)).mul(-0.5),
  abs: (g, x) => g.mul(x.sign()),
  relu: (g, x) => g.reluGrad(x),
  gelu: (g, x) => g.geluGrad(x),
  sigmoid: (g, _x, y) => g.mul(y.mul(y.neg().add(1))),
  tanh: (g, _x, y) => g.mul(y.mul(y).neg().add(1)),
  reciprocal: (g, _x, y) => g.mul(y.mul(y)).neg(),
  square: (g, x) => g.mul(x).mul(2),
  sin: (g, x) => g.mul(x.cos()),
  cos: (g, x) => g.mul(x.sin()).neg(),
  sign: zeroGrad,
  floor: zeroGrad,
  ceil: zeroGrad,
  round: zeroGrad,
};

// Where a tie makes the gradient ambiguous, PyTorch splits it evenly between the inputs.
function pick(g: Tensor, winner: Tensor, tie: Tensor): Tensor {
  return g.mul(winner.add(tie.mul(0.5)));
}

export const binaryRules: { readonly [K in BinaryName]: BinaryRule | null } = {
  add: (g) => [g, g],
  sub: (g) => [g, g.neg()],
  mul: (g, a, b) => [g.mul(b), g.mul(a)],
  div: (g, a, b) => [g.div(b), g.mul(a).div(b.mul(b)).neg()],
  // d/db of a^b is a^b log a; at a = 0 (b >= 0) PyTorch defines it as 0 instead of 0 * -inf.
  pow: (g, a, b, out) => [g.mul(b).mul(a.pow(b.sub(1))), g.mul(out.mul(a.log()).where(a.ne(0).maximum(b.lt(0)), 0))],
  maximum: (g, a, b) => [pick(g, a.gt(b), a.eq(b)), pick(g, b.gt(a), a.eq(b))],
  minimum: (g, a, b) => [pick(g, a.lt(b), a.eq(b)), pick(g, b.lt(a), a.eq(b))],
  eq: null,
  ne: null,
  gt: null,
  lt: null,
  ge: null,
  le: null,
  reluGrad: (gg, _g, x) => [gg.reluGrad(x), null],
  // gelu''(x) = phi(x) * (2 - x^2)
  geluGrad: (gg, g, x) => {
    const x2 = x.mul(x);
    return [gg.geluGrad(x), gg.mul(g).mul(x2.neg().add(2)).mul(x2.mul(-0.5).exp().mul(INV_SQRT_2PI))];
  },
};

export const binaryScalarRules: { readonly [K in BinaryName]: BinaryScalarRule | null } = {
  add: (g) => g,
  sub: (g) => g,
  mul: (g, _a, s) => g.mul(s),
  div: (g, _a, s) => g.div(s),
  pow: (g, a, s) => g.mul(s).mul(a.pow(s - 1)),
  maximum: (g, a, s) => pick(g, a.gt(s), a.eq(s)),
  minimum: (g, a, s) => pick(g, a.lt(s), a.eq(s)),
  eq: null,
  ne: null,
  gt: null,
  lt: null,
  ge: null,
  le: null,
  reluGrad: (gg, _g, x) => gg.mul(x > 0 ? 1 : 0),
  geluGrad: (gg, _g, x) => gg.mul(geluGradFn(x)),
};
