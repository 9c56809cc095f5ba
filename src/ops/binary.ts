// Elementwise binary ops with broadcasting, each declared once (see unary.ts): the scalar reference function, the
// result dtype rule and the test ranges. Backward rules live in autograd/rules.ts.
import { geluGradFn } from "./unary.js";

export type BinaryResult = "promote" | "bool" | "float";

export interface BinaryDef {
  readonly fn: (a: number, b: number) => number;
  readonly result: BinaryResult;
  readonly rangeA: readonly [number, number];
  readonly rangeB: readonly [number, number];
}

function def(
  fn: BinaryDef["fn"],
  result: BinaryResult = "promote",
  rangeA: readonly [number, number] = [-3, 3],
  rangeB: readonly [number, number] = rangeA,
): BinaryDef {
  return { fn, result, rangeA, rangeB };
}

const cmp = (fn: BinaryDef["fn"]): BinaryDef => def(fn, "bool");

export const binaryOps = {
  add: def((a, b) => a + b),
  sub: def((a, b) => a - b),
  mul: def((a, b) => a * b),
  div: def((a, b) => a / b, "float", [-3, 3], [0.5, 3]),
  pow: def(Math.pow, "promote", [0.5, 2], [-2, 2]),
  maximum: def(Math.max),
  minimum: def(Math.min),
  eq: cmp((a, b) => (a === b ? 1 : 0)),
  ne: cmp((a, b) => (a !== b ? 1 : 0)),
  gt: cmp((a, b) => (a > b ? 1 : 0)),
  lt: cmp((a, b) => (a < b ? 1 : 0)),
  ge: cmp((a, b) => (a >= b ? 1 : 0)),
  le: cmp((a, b) => (a <= b ? 1 : 0)),
  /** relu's backward as one pass: g where x > 0. */
  reluGrad: def((g, x) => (x > 0 ? g : 0)),
  /** gelu's backward as one pass: g * gelu'(x). */
  geluGrad: def((g, x) => g * geluGradFn(x), "promote", [-3, 3], [-4, 4]),
} satisfies Record<string, BinaryDef>;

export type BinaryName = keyof typeof binaryOps;
