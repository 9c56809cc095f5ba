// THE op table: one row per (op, configuration). op_table.test.ts runs every row forward (against a float64 oracle
// where one exists), against its non-contiguous twin and on every CPU backend; gradcheck.test.ts runs gradcheck on
// every differentiable row. Elementwise rows are derived from the engine's own op declarations, so a new unary or
// binary op gets rows (and must get an oracle) without touching this file.
import * as torch from "kindling";
import { binaryOps } from "../../src/ops/binary.js";
import { binaryRules, binaryScalarRules, unaryRules } from "../../src/autograd/rules.js";
import { unaryOps } from "../../src/ops/unary.js";
import * as O from "./compare.js";
import { opsCases } from "./op_cases_ops.js";
import { nnCases } from "./op_cases_nn.js";

type Tensor = torch.Tensor;
type DType = torch.DType;
type Arr = O.Arr;
const F = torch.nn.functional;

export interface InputSpec {
  shape: number[];
  /** Uniform draw range (floats) or [lo, hi) for integer dtypes. */
  range?: readonly [number, number];
  dtype?: DType;
  /** Fixed values (class targets, indices) instead of random draws. */
  values?: number[];
  /** Whether this input takes part in backward (default: floating dtypes do). */
  grad?: boolean;
}

export interface OpCase {
  name: string;
  family: string;
  /** The unaryOps / binaryOps entry this row exercises, if any. */
  op?: string;
  inputs: InputSpec[];
  fn: (...xs: Tensor[]) => Tensor;
  /** Float64 oracle on the inputs' values. */
  oracle?: (...xs: Arr[]) => Arr;
  /** gradcheck applies (and backward is compared across backends). */
  differentiable: boolean;
  /** Cross-backend / oracle tolerance (1e-5 elementwise, 1e-4 conv/matmul). */
  rtol?: number;
  atol?: number;
  gradcheck?: { eps?: number; atol?: number; rtol?: number };
  /** Only meaningful on contiguous inputs (view). */
  contiguousOnly?: boolean;
  /** Known engine bug: the row is reported as todo instead of failing. */
  todo?: string;
  /** Known engine bug affecting only the non-contiguous twin. */
  ncTodo?: string;
}

/** Engine bugs found by this table (see the report); each marks only the rows it breaks. */
export const BUG_RESHAPE_0D: string | undefined = undefined;
export const BUG_BN_NONCONTIG: string | undefined = undefined;

const f32 = "float32" as DType;
const i64 = "int64" as DType;

function x(shape: number[], range: readonly [number, number] = [-2, 2], extra: Partial<InputSpec> = {}): InputSpec {
  return { shape, range, ...extra };
}
function ints(values: number[], dtype: DType = i64): InputSpec {
  return { shape: [values.length], values, dtype, grad: false };
}

export const cases: OpCase[] = [];
const add = (c: OpCase) => cases.push(c);

// ---- elementwise, derived from the declarations ----------------------------------------------------------------
export const unaryNames = Object.keys(unaryOps) as (keyof typeof unaryOps)[];
export const binaryNames = Object.keys(binaryOps) as (keyof typeof binaryOps)[];

for (const name of unaryNames) {
  const d = unaryOps[name];
  const oracle = O.unaryOracle[name];
  const base = {
    family: "unary",
    op: name,
    fn: (a: Tensor) => a.unary(name),
    oracle: oracle ? (a: Arr) => O.mapUnary(a, oracle) : undefined,
    differentiable: unaryRules[name] !== null,
  };
  add({ ...base, name: `${name}`, inputs: [x([3, 4], d.range)] });
  add({ ...base, name: `${name} 0-d`, inputs: [x([], d.range)] });
  add({ ...base, name: `${name} empty`, inputs: [x([0, 3], d.range)] });
}

for (const name of binaryNames) {
  const d = binaryOps[name];
  const oracle = O.binaryOracle[name];
  const base = {
    family: "binary",
    op: name,
    fn: (a: Tensor, b: Tensor) => a.binary(name, b),
    oracle: oracle ? (a: Arr, b: Arr) => O.mapBinary(a, b, oracle) : undefined,
    differentiable: binaryRules[name] !== null,
  };
  // A JS number operand is a kernel parameter (binaryScalar), with its own backward rule: its own rows.
  const s = Math.fround(d.rangeB[0] + 0.37 * (d.rangeB[1] - d.rangeB[0]));
  add({
    ...base,
    name: `${name} scalar rhs`,
    fn: (a: Tensor) => a.binary(name, s),
    oracle: oracle ? (a: Arr) => O.mapUnary(a, (v) => oracle(v, s)) : undefined,
    differentiable: binaryScalarRules[name] !== null,
    inputs: [x([3, 4], d.rangeA)],
  });
  // reluGrad(g, x) has no gradient with respect to x (it is piecewise constant there).
  const bx = name === "reluGrad" ? { grad: false } : {};
  add({ ...base, name: `${name}`, inputs: [x([3, 4], d.rangeA), x([3, 4], d.rangeB, bx)] });
  add({ ...base, name: `${name} broadcast`, inputs: [x([3, 1], d.rangeA), x([4], d.rangeB, bx)] });
  add({ ...base, name: `${name} 0-d rhs`, inputs: [x([2, 3], d.rangeA), x([], d.rangeB, bx)] });
  add({ ...base, name: `${name} empty`, inputs: [x([0, 3], d.rangeA), x([3], d.rangeB, bx)] });
}

// ---- reductions --------------------------------------------------------------------------------------------------
type RedName = "sum" | "mean" | "prod" | "max" | "min" | "argmax" | "argmin" | "var";
function red(
  name: RedName, dims: number[] | null, keepdim: boolean, fn: (a: Tensor) => Tensor, shape = [2, 3, 4],
  range: readonly [number, number] = [-2, 2],
): void {
  const differentiable = name !== "argmax" && name !== "argmin";
  add({
    name: `${name} dim=${dims === null ? "all" : dims.join(",")}${keepdim ? " keepdim" : ""}${shape.length === 0 ? " 0-d" : ""}`,
    family: "reduction",
    inputs: [x(shape, range)],
    fn,
    oracle: (a) => O.reduce(a, dims, keepdim, O.reducers[name]),
    differentiable,
    todo: differentiable && dims === null && !keepdim && shape.length > 0 && name !== "max" && name !== "min" ? BUG_RESHAPE_0D : undefined,
  });
}
red("sum", null, false, (a) => a.sum());
red("sum", [1], false, (a) => a.sum(1));
red("sum", [-1], true, (a) => a.sum(-1, { keepdim: true }));
red("sum", [0, 2], false, (a) => a.sum([0, 2]));
red("sum", [0, -1], true, (a) => a.sum([0, -1], { keepdim: true }));
red("sum", null, false, (a) => a.sum(), []);
red("sum", [0], false, (a) => a.sum(0), [0, 3]);
red("mean", null, false, (a) => a.mean());
red("mean", [1], true, (a) => a.mean(1, { keepdim: true }));
red("mean", [0, -1], false, (a) => a.mean([0, -1]));
red("prod", null, false, (a) => a.prod(), [2, 3], [0.5, 1.5]);
red("prod", [1], false, (a) => a.prod(1), [2, 3, 4], [0.5, 1.5]);
red("prod", [-1], true, (a) => a.prod(-1, { keepdim: true }), [2, 3, 4], [0.5, 1.5]);
red("max", null, false, (a) => a.max());
red("max", [1], false, (a) => a.max(1).values);
red("max", [-1], true, (a) => a.max(-1, { keepdim: true }).values);
red("max", [0], false, (a) => a.max(0).values, [3, 4]);
red("min", null, false, (a) => a.min());
red("min", [2], false, (a) => a.min(2).values);
red("min", [-2], true, (a) => a.min(-2, { keepdim: true }).values);
red("argmax", [1], false, (a) => a.max(1).indices);
red("argmin", [0], true, (a) => a.min(0, { keepdim: true }).indices);
red("argmax", null, false, (a) => a.argmax());
red("argmax", [-1], false, (a) => a.argmax(-1));
red("argmax", [1], true, (a) => a.argmax(1, { keepdim: true }));
red("argmin", [2], false, (a) => a.argmin(2));
red("argmin", null, false, (a) => a.argmin());
red("var", null, false, (a) => a.var());
red("var", [1], false, (a) => a.var(1));
red("var", [-1], true, (a) => a.var(-1, { keepdim: true }));
red("var", [0, 2], false, (a) => a.var([0, 2]));
add({
  name: "std dim=1 unbiased=false",
  family: "reduction",
  inputs: [x([3, 4])],
  fn: (a) => a.std(1, { unbiased: false }),
  oracle: (a) => O.reduce(a, [1], false, (v) => Math.sqrt((O.reducers.var(v) * (v.length - 1)) / v.length)),
  differentiable: true,
});

// ---- softmax family ---------------------------------------------------------------------------------------------
for (const [log, label] of [[false, "softmax"], [true, "logSoftmax"]] as const) {
  for (const [shape, dim] of [[[3, 5], 1], [[3, 5], 0], [[2, 3, 4], -1], [[2, 3, 4], 1], [[4], 0]] as const) {
    add({
      name: `${label} ${JSON.stringify(shape)} dim=${dim}`,
      family: "softmax",
      inputs: [x([...shape], [-3, 3])],
      fn: (a) => (log ? a.logSoftmax(dim) : a.softmax(dim)),
      oracle: (a) => O.softmax(a, dim, log),
      differentiable: true,
    });
  }
}
add({
  name: "F.softmax/F.logSoftmax agree with exp(logSoftmax)",
  family: "softmax",
  inputs: [x([3, 4], [-3, 3])],
  fn: (a) => F.softmax(a, 1).sub(F.logSoftmax(a, 1).exp()).add(a),
  oracle: (a) => a,
  differentiable: true,
});

// ---- matmul family ----------------------------------------------------------------------------------------------
const mmTol = { rtol: 1e-4, atol: 1e-5 };
for (const [sa, sb] of [
  [[4], [4]], [[3], [3, 4]], [[2, 3], [3]], [[2, 3], [3, 4]], [[2, 2, 3], [2, 3, 4]], [[2, 2, 3], [3, 4]],
  [[2, 3], [2, 3, 4]], [[3], [2, 3, 4]], [[2, 2, 3], [3]], [[2, 1, 2, 3], [3, 3, 2]], [[1, 3], [3, 1]],
] as const) {
  add({
    name: `matmul ${JSON.stringify(sa)}@${JSON.stringify(sb)}`,
    family: "matmul",
    inputs: [x([...sa]), x([...sb])],
    fn: (a, b) => a.matmul(b),
    oracle: O.matmul,
    differentiable: true,
    ...mmTol,
    todo: sa.length === 1 && sb.length === 1 ? BUG_RESHAPE_0D : undefined,
  });
}
add({ name: "matmul empty K", family: "matmul", inputs: [x([2, 0]), x([0, 3])], fn: (a, b) => a.matmul(b), oracle: O.matmul, differentiable: true });
add({ name: "mm", family: "matmul", inputs: [x([3, 4]), x([4, 2])], fn: (a, b) => a.mm(b), oracle: O.matmul, differentiable: true, ...mmTol });
add({ name: "mm a@a.T", family: "matmul", inputs: [x([3, 4])], fn: (a) => a.mm(a.t()), oracle: (a) => O.matmul(a, transpose2(a)), differentiable: true, ...mmTol });
add({ name: "bmm", family: "matmul", inputs: [x([2, 3, 4]), x([2, 4, 2])], fn: (a, b) => a.bmm(b), oracle: O.matmul, differentiable: true, ...mmTol });
add({ name: "torch.matmul/mm/bmm free functions", family: "matmul", inputs: [x([2, 3, 4]), x([2, 4, 2])], fn: (a, b) => torch.bmm(a, b).add(torch.matmul(a, b)).add(torch.mm(a.select(0, 0), b.select(0, 0))), oracle: (a, b) => { const m = O.matmul(a, b); const first = m.data.slice(0, 6); return { shape: m.shape, data: m.data.map((v, i) => 2 * v + first[i % 6]) }; }, differentiable: true, ...mmTol });

function transpose2(a: Arr): Arr {
  const [r, c] = a.shape;
  const data: number[] = [];
  for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) data.push(a.data[i * c + j]);
  return { shape: [c, r], data };
}
function linearOracle(xa: Arr, w: Arr, b?: Arr): Arr {
  const out = O.matmul(xa, transpose2(w));
  if (!b) return out;
  return O.mapBinary(out, b, (u, v) => u + v);
}
add({ name: "linear", family: "linear", inputs: [x([3, 4]), x([5, 4]), x([5])], fn: (a, w, b) => F.linear(a, w, b), oracle: linearOracle, differentiable: true, ...mmTol });
add({ name: "linear no bias", family: "linear", inputs: [x([3, 4]), x([5, 4])], fn: (a, w) => F.linear(a, w), oracle: (a, w) => linearOracle(a, w), differentiable: true, ...mmTol });
add({ name: "linear 3-D input", family: "linear", inputs: [x([2, 3, 4]), x([5, 4]), x([5])], fn: (a, w, b) => F.linear(a, w, b), oracle: linearOracle, differentiable: true, ...mmTol });
add({ name: "linear 1-D input", family: "linear", inputs: [x([4]), x([5, 4]), x([5])], fn: (a, w, b) => F.linear(a, w, b), oracle: linearOracle, differentiable: true, ...mmTol });

// ---- conv2d -------------------------------------------------------------------------------------------------------
for (const [label, xs, ws, o, bias] of [
  ["basic", [2, 3, 6, 6], [4, 3, 3, 3], {}, true],
  ["stride=2 padding=1", [1, 2, 5, 5], [3, 2, 3, 3], { stride: 2, padding: 1 }, true],
  ["dilation=2", [1, 2, 6, 6], [2, 2, 2, 2], { dilation: 2 }, true],
  ["groups=2", [1, 4, 4, 4], [4, 2, 3, 3], { groups: 2 }, true],
  ["depthwise groups=3 padding=1", [1, 3, 4, 4], [6, 1, 3, 3], { groups: 3, padding: 1 }, true],
  ["no bias 1x1", [2, 3, 3, 3], [2, 3, 1, 1], {}, false],
  ["stride=2 padding=2 dilation=2", [1, 2, 7, 7], [2, 2, 3, 3], { stride: 2, padding: 2, dilation: 2 }, true],
] as const) {
  add({
    name: `conv2d ${label}`,
    family: "conv",
    inputs: bias ? [x([...xs]), x([...ws]), x([ws[0]])] : [x([...xs]), x([...ws])],
    fn: (a, w, b) => F.conv2d(a, w, b ?? null, o),
    oracle: (a, w, b) => O.conv2d(a, w, b ?? null, o),
    differentiable: true,
    ...mmTol,
  });
}
add({
  name: "conv2d unbatched 3-D input",
  family: "conv",
  inputs: [x([2, 4, 4]), x([3, 2, 3, 3]), x([3])],
  fn: (a, w, b) => F.conv2d(a, w, b),
  oracle: (a, w, b) => {
    const r = O.conv2d({ shape: [1, ...a.shape], data: a.data }, w, b);
    return { shape: r.shape.slice(1), data: r.data };
  },
  differentiable: true,
  ...mmTol,
});

// ---- pooling ------------------------------------------------------------------------------------------------------
for (const [label, xs, k, o] of [
  ["k=2", [1, 2, 4, 4], 2, {}],
  ["k=3 s=2 p=1", [1, 2, 5, 5], 3, { stride: 2, padding: 1 }],
  ["k=2 s=2 ceilMode", [1, 1, 5, 5], 2, { stride: 2, ceilMode: true }],
  ["k=3 s=2 p=1 ceilMode", [2, 1, 6, 6], 3, { stride: 2, padding: 1, ceilMode: true }],
  ["k=2 s=1", [1, 2, 3, 4], 2, { stride: 1 }],
] as const) {
  add({
    name: `maxPool2d ${label}`,
    family: "pool",
    inputs: [x([...xs])],
    fn: (a) => F.maxPool2d(a, k, { ...o }),
    oracle: (a) => O.pool2d(a, k, "max", o),
    differentiable: true,
  });
}
for (const [label, xs, k, o] of [
  ["k=2", [1, 2, 4, 4], 2, {}],
  ["k=3 s=2 p=1 countIncludePad", [1, 2, 5, 5], 3, { stride: 2, padding: 1 }],
  ["k=3 s=2 p=1 countIncludePad=false", [1, 2, 5, 5], 3, { stride: 2, padding: 1, countIncludePad: false }],
  ["k=2 s=2 ceilMode", [1, 1, 5, 5], 2, { stride: 2, ceilMode: true }],
  ["k=3 s=2 p=1 ceilMode countIncludePad=false", [1, 1, 6, 6], 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }],
  ["k=3 s=2 p=1 ceilMode countIncludePad", [1, 1, 6, 6], 3, { stride: 2, padding: 1, ceilMode: true }],
] as const) {
  add({
    name: `avgPool2d ${label}`,
    family: "pool",
    inputs: [x([...xs])],
    fn: (a) => F.avgPool2d(a, k, { ...o }),
    oracle: (a) => O.pool2d(a, k, "avg", o),
    differentiable: true,
  });
}
add({
  name: "maxPool2d positional stride",
  family: "pool",
  inputs: [x([1, 1, 4, 6])],
  fn: (a) => F.maxPool2d(a, 2, 2),
  oracle: (a) => O.pool2d(a, 2, "max", { stride: 2 }),
  differentiable: true,
});

// ---- losses -------------------------------------------------------------------------------------------------------
type CEOpts = { reduction?: "mean" | "sum" | "none"; ignoreIndex?: number; labelSmoothing?: number };
for (const [label, target, o, dt] of [
  ["mean", [1, 0, 4, 2], {}, i64],
  ["sum", [1, 0, 4, 2], { reduction: "sum" }, i64],
  ["none", [1, 0, 4, 2], { reduction: "none" }, i64],
  ["int32 target", [3, 3, 0, 1], {}, "int32" as DType],
  ["ignoreIndex default -100", [1, -100, 4, 2], {}, i64],
  ["ignoreIndex=2 sum", [1, 2, 4, 2], { ignoreIndex: 2, reduction: "sum" }, i64],
  ["labelSmoothing=0.1", [1, 0, 4, 2], { labelSmoothing: 0.1 }, i64],
  ["labelSmoothing=0.2 none", [1, 0, 4, 2], { labelSmoothing: 0.2, reduction: "none" }, i64],
  ["labelSmoothing=0.1 ignoreIndex", [1, -100, 4, 2], { labelSmoothing: 0.1 }, i64],
] as [string, number[], CEOpts, DType][]) {
  add({
    name: `crossEntropy ${label}`,
    family: "loss",
    inputs: [x([4, 5], [-3, 3]), ints(target, dt)],
    fn: (a, t) => F.crossEntropy(a, t, o),
    oracle: (a, t) => O.crossEntropy(a, t.data, o),
    differentiable: true,
  });
}
add({
  name: "CrossEntropyLoss module",
  family: "loss",
  inputs: [x([3, 4], [-3, 3]), ints([3, 0, 1])],
  fn: (a, t) => new torch.nn.CrossEntropyLoss().forward(a, t),
  oracle: (a, t) => O.crossEntropy(a, t.data),
  differentiable: true,
});
function nllOracle(a: Arr, t: Arr, reduction = "mean", ignore = -100): Arr {
  const [N, C] = a.shape;
  const l: number[] = [];
  let n = 0;
  for (let i = 0; i < N; i++) {
    if (t.data[i] === ignore) l.push(0);
    else {
      l.push(-a.data[i * C + t.data[i]]);
      n++;
    }
  }
  const s = l.reduce((p, q) => p + q, 0);
  return reduction === "none" ? { shape: [N], data: l } : { shape: [], data: [reduction === "sum" ? s : s / n] };
}
add({ name: "nllLoss mean", family: "loss", inputs: [x([4, 3]), ints([2, 0, 1, 1])], fn: (a, t) => F.nllLoss(a, t), oracle: (a, t) => nllOracle(a, t), differentiable: true });
add({ name: "nllLoss sum", family: "loss", inputs: [x([4, 3]), ints([2, 0, 1, 1])], fn: (a, t) => F.nllLoss(a, t, { reduction: "sum" }), oracle: (a, t) => nllOracle(a, t, "sum"), differentiable: true });
add({ name: "nllLoss none", family: "loss", inputs: [x([4, 3]), ints([2, 0, 1, 1])], fn: (a, t) => F.nllLoss(a, t, { reduction: "none" }), oracle: (a, t) => nllOracle(a, t, "none"), differentiable: true });
add({ name: "nllLoss ignoreIndex", family: "loss", inputs: [x([4, 3]), ints([2, -100, 1, 1])], fn: (a, t) => F.nllLoss(a, t), oracle: (a, t) => nllOracle(a, t), differentiable: true });
add({ name: "nllLoss(logSoftmax) == crossEntropy", family: "loss", inputs: [x([4, 3]), ints([2, 0, 1, 1])], fn: (a, t) => F.nllLoss(F.logSoftmax(a, 1), t), oracle: (a, t) => O.crossEntropy(a, t.data), differentiable: true });
for (const reduction of ["mean", "sum", "none"] as const) {
  add({
    name: `mseLoss ${reduction}`,
    family: "loss",
    inputs: [x([3, 4]), x([3, 4])],
    fn: (a, b) => F.mseLoss(a, b, { reduction }),
    oracle: (a, b) => {
      const d = O.mapBinary(a, b, (u, v) => (u - v) * (u - v));
      return reduction === "none" ? d : O.reduce(d, null, false, reduction === "sum" ? O.reducers.sum : O.reducers.mean);
    },
    differentiable: true,
    todo: reduction === "none" ? undefined : BUG_RESHAPE_0D,
  });
}

// ---- batch norm ---------------------------------------------------------------------------------------------------
function bnOracle(a: Arr, w: Arr | null, b: Arr | null, mean: number[] | null, vr: number[] | null, eps = 1e-5): Arr {
  const [N, C] = a.shape;
  const HW = a.data.length / (N * C);
  const out = a.data.slice();
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) vals.push(a.data[(n * C + c) * HW + k]);
    const m = mean ? mean[c] : O.reducers.mean(vals);
    const v = vr ? vr[c] : vals.reduce((s, q) => s + (q - m) * (q - m), 0) / vals.length;
    for (let n = 0; n < N; n++)
      for (let k = 0; k < HW; k++) {
        const i = (n * C + c) * HW + k;
        out[i] = ((a.data[i] - m) / Math.sqrt(v + eps)) * (w ? w.data[c] : 1) + (b ? b.data[c] : 0);
      }
  }
  return { shape: a.shape.slice(), data: out };
}
const RM = [0.1, -0.2];
const RV = [0.5, 1.5];
add({
  name: "batchNorm train 4-D",
  family: "norm",
  inputs: [x([3, 2, 2, 2]), x([2], [0.5, 1.5]), x([2])],
  fn: (a, w, b) => F.batchNorm(a, torch.zeros([2], { dtype: a.dtype, device: a.device }), torch.ones([2], { dtype: a.dtype, device: a.device }), { weight: w, bias: b, training: true }),
  oracle: (a, w, b) => bnOracle(a, w, b, null, null),
  differentiable: true,
  gradcheck: { atol: 1e-4 },
  ncTodo: BUG_BN_NONCONTIG,
});
add({
  name: "batchNorm train 2-D no affine",
  family: "norm",
  inputs: [x([4, 3])],
  fn: (a) => F.batchNorm(a, null, null, { training: true }),
  oracle: (a) => bnOracle(a, null, null, null, null),
  differentiable: true,
  gradcheck: { atol: 1e-4 },
});
add({
  name: "batchNorm eval",
  family: "norm",
  inputs: [x([2, 2, 3]), x([2], [0.5, 1.5]), x([2])],
  fn: (a, w, b) => F.batchNorm(a, torch.tensor(RM, { dtype: a.dtype, device: a.device }), torch.tensor(RV, { dtype: a.dtype, device: a.device }), { weight: w, bias: b, training: false }),
  oracle: (a, w, b) => bnOracle(a, w, b, RM, RV),
  differentiable: true,
  ncTodo: BUG_BN_NONCONTIG,
});

// ---- dropout -------------------------------------------------------------------------------------------------------
add({ name: "dropout p=0 identity", family: "dropout", inputs: [x([3, 4])], fn: (a) => F.dropout(a, { p: 0 }), oracle: (a) => a, differentiable: true });
add({ name: "dropout eval identity", family: "dropout", inputs: [x([3, 4])], fn: (a) => F.dropout(a, { p: 0.5, training: false }), oracle: (a) => a, differentiable: true });
add({
  name: "dropout p=0.5 seeded",
  family: "dropout",
  inputs: [x([4, 5], [0.5, 2])],
  fn: (a) => {
    torch.manualSeed(1234);
    return F.dropout(a, { p: 0.5 });
  },
  // Every output is either 0 or 2x: checked in op_table via this oracle-free row plus the statistics test.
  differentiable: true,
});

// ---- movement ------------------------------------------------------------------------------------------------------
function permuteOracle(a: Arr, dims: number[]): Arr {
  const shape = dims.map((d) => a.shape[d]);
  const st = a.shape.map((_, i) => O.numel(a.shape.slice(i + 1)));
  const n = O.numel(shape);
  const data: number[] = [];
  for (let i = 0; i < n; i++) {
    let r = i;
    let off = 0;
    for (let k = shape.length - 1; k >= 0; k--) {
      off += (r % shape[k]) * st[dims[k]];
      r = Math.floor(r / shape[k]);
    }
    data.push(a.data[off]);
  }
  return { shape, data };
}
const same = (shape: number[]) => (a: Arr): Arr => ({ shape, data: a.data });
const mv = (name: string, inputs: InputSpec[], fn: (...xs: Tensor[]) => Tensor, oracle?: (...xs: Arr[]) => Arr, extra: Partial<OpCase> = {}) =>
  add({ name, family: "movement", inputs, fn, oracle, differentiable: true, ...extra });

mv("view(-1, 4)", [x([2, 3, 4])], (a) => a.view(-1, 4), same([6, 4]), { contiguousOnly: true });
mv("view([4, -1])", [x([2, 3, 4])], (a) => a.view([4, -1]), same([4, 6]), { contiguousOnly: true });
mv("reshape [4, 6]", [x([2, 3, 4])], (a) => a.reshape(4, 6), same([4, 6]));
mv("reshape 0-d", [x([])], (a) => a.reshape([1, 1]), same([1, 1]), { todo: BUG_RESHAPE_0D });
mv("permute [2, 0, 1]", [x([2, 3, 4])], (a) => a.permute(2, 0, 1), (a) => permuteOracle(a, [2, 0, 1]));
mv("transpose(0, 2)", [x([2, 3, 4])], (a) => a.transpose(0, 2), (a) => permuteOracle(a, [2, 1, 0]));
mv("transpose(-1, -2).contiguous()", [x([2, 3, 4])], (a) => a.transpose(-1, -2).contiguous(), (a) => permuteOracle(a, [0, 2, 1]));
mv(".T", [x([3, 4])], (a) => a.T, (a) => permuteOracle(a, [1, 0]));
mv("expand [2, 3, 4]", [x([3, 1])], (a) => a.expand(2, 3, 4), (a) => O.mapBinary(a, { shape: [2, 3, 4], data: new Array(24).fill(0) }, (u) => u));
mv("expand -1", [x([3, 1])], (a) => a.expand(-1, 5), (a) => O.mapBinary(a, { shape: [3, 5], data: new Array(15).fill(0) }, (u) => u));
mv("flatten", [x([2, 3, 4])], (a) => a.flatten(), same([24]));
mv("flatten(1)", [x([2, 3, 4])], (a) => a.flatten(1), same([2, 12]));
mv("flatten 0-d", [x([])], (a) => a.flatten(), same([1]), { todo: BUG_RESHAPE_0D });
mv("squeeze()", [x([3, 1, 4, 1])], (a) => a.squeeze(), same([3, 4]));
mv("squeeze(1)", [x([3, 1, 4])], (a) => a.squeeze(1), same([3, 4]));
mv("squeeze(0) no-op", [x([3, 1, 4])], (a) => a.squeeze(0), same([3, 1, 4]));
mv("unsqueeze(0)", [x([3, 4])], (a) => a.unsqueeze(0), same([1, 3, 4]));
mv("unsqueeze(-1)", [x([3, 4])], (a) => a.unsqueeze(-1), same([3, 4, 1]));
mv("narrow(1, 1, 2)", [x([3, 4])], (a) => a.narrow(1, 1, 2), (a) => ({ shape: [3, 2], data: [0, 1, 2].flatMap((r) => [a.data[r * 4 + 1], a.data[r * 4 + 2]]) }));
mv("select(1, -1)", [x([3, 4])], (a) => a.select(1, -1), (a) => ({ shape: [3], data: [0, 1, 2].map((r) => a.data[r * 4 + 3]) }));
mv("index(0)", [x([3, 4])], (a) => a.index(0), (a) => ({ shape: [4], data: a.data.slice(0, 4) }));
mv("index(null, [1, 3])", [x([3, 4])], (a) => a.index(null, [1, 3]), (a) => ({ shape: [3, 2], data: [0, 1, 2].flatMap((r) => [a.data[r * 4 + 1], a.data[r * 4 + 2]]) }));
mv("index([0, 3, 2]) step", [x([5, 2])], (a) => a.index([0, 5, 2]), (a) => ({ shape: [3, 2], data: [0, 2, 4].flatMap((r) => [a.data[r * 2], a.data[r * 2 + 1]]) }));
mv("index('...', 1)", [x([2, 3, 4])], (a) => a.index("...", 1), (a) => ({ shape: [2, 3], data: a.data.filter((_, i) => i % 4 === 1) }));
mv("index(tensor)", [x([4, 3]), ints([2, 0, 2])], (a, i) => a.index(i), (a, i) => ({ shape: [3, 3], data: i.data.flatMap((r) => a.data.slice(r * 3, r * 3 + 3)) }));
mv("indexSelect(1)", [x([3, 4]), ints([3, 0, 3])], (a, i) => a.indexSelect(1, i), (a, i) => ({ shape: [3, 3], data: [0, 1, 2].flatMap((r) => i.data.map((c) => a.data[r * 4 + c])) }));
mv("cat dim=0", [x([2, 3]), x([1, 3])], (a, b) => torch.cat([a, b], 0), (a, b) => ({ shape: [3, 3], data: [...a.data, ...b.data] }));
mv("cat dim=-1", [x([2, 1]), x([2, 3])], (a, b) => torch.cat([a, b], -1), (a, b) => ({ shape: [2, 4], data: [0, 1].flatMap((r) => [a.data[r], ...b.data.slice(r * 3, r * 3 + 3)]) }));
mv("stack dim=0", [x([2, 3]), x([2, 3])], (a, b) => torch.stack([a, b]), (a, b) => ({ shape: [2, 2, 3], data: [...a.data, ...b.data] }));
mv("stack dim=-1", [x([3]), x([3])], (a, b) => torch.stack([a, b], -1), (a, b) => ({ shape: [3, 2], data: [0, 1, 2].flatMap((i) => [a.data[i], b.data[i]]) }));
mv("split(2, 1) weighted", [x([2, 5])], (a) => torch.cat(a.split(2, 1).map((p, i) => p.mul(i + 1).flatten())), (a) => ({
  shape: [10],
  data: [[0, 2, 1], [2, 4, 2], [4, 5, 3]].flatMap(([s, e, w]) => [0, 1].flatMap((r) => a.data.slice(r * 5 + s, r * 5 + e).map((v) => v * w))),
}));
mv("split([1, 2]) dim 0", [x([3, 2])], (a) => { const [p, q] = a.split([1, 2]); return torch.cat([p.mul(3), q], 0); }, (a) => ({ shape: [3, 2], data: a.data.map((v, i) => (i < 2 ? 3 * v : v)) }));
mv("chunk(2)", [x([5, 2])], (a) => { const c = a.chunk(2); return c[0].sum(0).sub(c[1].sum(0)); }, (a) => ({ shape: [2], data: [0, 1].map((k) => [0, 1, 2].reduce((s, r) => s + a.data[r * 2 + k], 0) - [3, 4].reduce((s, r) => s + a.data[r * 2 + k], 0)) }));
mv("repeat(2, 1, 2)", [x([2, 3])], (a) => a.repeat(2, 1, 2), (a) => ({ shape: [2, 2, 6], data: [0, 1].flatMap(() => [0, 1].flatMap((r) => [...a.data.slice(r * 3, r * 3 + 3), ...a.data.slice(r * 3, r * 3 + 3)])) }));
mv("clone", [x([2, 3])], (a) => a.clone(), (a) => a);

// ---- clamp / where ----------------------------------------------------------------------------------------------
const clampO = (lo: number, hi: number) => (a: Arr) => O.mapUnary(a, (v) => Math.min(Math.max(v, lo), hi));
add({ name: "clamp(-0.5, 0.5)", family: "clamp", inputs: [x([3, 4])], fn: (a) => a.clamp(-0.5, 0.5), oracle: clampO(-0.5, 0.5), differentiable: true });
add({ name: "clamp(min)", family: "clamp", inputs: [x([3, 4])], fn: (a) => a.clamp(0.3), oracle: clampO(0.3, Infinity), differentiable: true });
add({ name: "clamp(null, max)", family: "clamp", inputs: [x([3, 4])], fn: (a) => torch.clamp(a, null, -0.1), oracle: clampO(-Infinity, -0.1), differentiable: true });
add({ name: "clamp 0-d", family: "clamp", inputs: [x([])], fn: (a) => a.clamp(-0.5, 0.5), oracle: clampO(-0.5, 0.5), differentiable: true });
const boolIn = (shape: number[]): InputSpec => ({ shape, dtype: "bool" as DType, grad: false });
add({
  name: "where broadcast",
  family: "where",
  inputs: [boolIn([3, 4]), x([3, 4]), x([4])],
  fn: (c, a, b) => torch.where(c, a, b),
  oracle: (c, a, b) => {
    const ab = O.mapBinary(a, b, (u, v) => u - v);
    const bb = O.mapBinary({ shape: [3, 4], data: new Array(12).fill(0) }, b, (_u, v) => v);
    return { shape: [3, 4], data: c.data.map((k, i) => (k ? ab.data[i] + bb.data[i] : bb.data[i])) };
  },
  differentiable: true,
});
add({
  name: "where scalar other",
  family: "where",
  inputs: [boolIn([2, 3]), x([2, 3])],
  fn: (c, a) => torch.where(c, a, 0.5),
  oracle: (c, a) => ({ shape: [2, 3], data: c.data.map((k, i) => (k ? a.data[i] : 0.5)) }),
  differentiable: true,
});

// ---- reorder, pad, masks, lerp, triangles, cumsum -------------------------------------------------------------
/** The output of shape `shape` whose element at coords comes from a's flat position src(coords) (null: fill). */
function gatherO(a: Arr, shape: number[], src: (c: number[]) => number | null, fill = 0): Arr {
  const n = O.numel(shape);
  const data: number[] = [];
  for (let i = 0; i < n; i++) {
    const c: number[] = [];
    let r = i;
    for (let k = shape.length - 1; k >= 0; k--) {
      c.unshift(r % shape[k]);
      r = Math.floor(r / shape[k]);
    }
    const p = src(c);
    data.push(p === null ? fill : a.data[p]);
  }
  return { shape, data };
}
const flatAt = (shape: number[], c: number[]): number => c.reduce((acc, v, k) => acc * shape[k] + v, 0);
const mod = (i: number, n: number): number => ((i % n) + n) % n;

function flipO(dims: number[]) {
  return (a: Arr): Arr => gatherO(a, a.shape, (c) => flatAt(a.shape, c.map((v, k) => (dims.includes(k) ? a.shape[k] - 1 - v : v))));
}
function rollO(shifts: number[], dims: number[]) {
  return (a: Arr): Arr => gatherO(a, a.shape, (c) => flatAt(a.shape, c.map((v, k) => {
    const j = dims.indexOf(k);
    return j < 0 ? v : mod(v - shifts[j], a.shape[k]);
  })));
}
const rf = (name: string, inputs: InputSpec[], fn: (...xs: Tensor[]) => Tensor, oracle: (...xs: Arr[]) => Arr, family = "reorder", extra: Partial<OpCase> = {}) =>
  add({ name, family, inputs, fn, oracle, differentiable: true, ...extra });

rf("flip(0)", [x([3, 4])], (a) => a.flip(0), flipO([0]));
rf("flip([0, 2])", [x([2, 3, 4])], (a) => a.flip([0, 2]), flipO([0, 2]));
rf("flip(-1) 1-d", [x([5])], (a) => torch.flip(a, [-1]), flipO([0]));
rf("flip(0) 0-d", [x([])], (a) => a.flip(0), (a) => a);
rf("flip int64", [{ shape: [2, 3], range: [-5, 5], dtype: i64, grad: false }], (a) => a.flip(1), flipO([1]), "reorder", { differentiable: false });
rf("roll(1, 0)", [x([3, 4])], (a) => a.roll(1, 0), rollO([1], [0]));
rf("roll([2, -1], [1, 0])", [x([3, 4])], (a) => a.roll([2, -1], [1, 0]), rollO([2, -1], [1, 0]));
rf("roll(7, -1) wraps", [x([2, 3, 4])], (a) => torch.roll(a, 7, -1), rollO([7], [2]));
rf("roll(5) flat", [x([3, 4])], (a) => a.roll(5), (a) => ({ shape: a.shape, data: a.data.map((_, i) => a.data[mod(i - 5, a.data.length)]) }));

function padO(pads: number[], mode: string, value = 0) {
  return (a: Arr): Arr => {
    const nd = a.shape.length;
    const shape = a.shape.map((s, d) => {
      const i = nd - 1 - d;
      return i < pads.length / 2 ? s + pads[2 * i] + pads[2 * i + 1] : s;
    });
    return gatherO(a, shape, (c) => {
      const src: number[] = [];
      for (let d = 0; d < nd; d++) {
        const i = nd - 1 - d;
        if (i >= pads.length / 2) {
          src.push(c[d]);
          continue;
        }
        const n = a.shape[d];
        const lo = pads[2 * i];
        const hi = pads[2 * i + 1];
        const p = c[d] - lo;
        if (mode === "constant") {
          if (p < 0 || p >= n) return null;
          src.push(p);
        } else if (mode === "replicate") src.push(Math.min(Math.max(p, 0), n - 1));
        else if (mode === "reflect") src.push(p < 0 ? -p : p >= n ? 2 * (n - 1) - p : p);
        else {
          const start = Math.max(-lo, 0);
          src.push(start + mod(c[d] - Math.max(lo, 0), n - start - Math.max(-hi, 0)));
        }
      }
      return flatAt(a.shape, src);
    }, value);
  };
}
for (const [shape, pads, mode, value] of [
  [[2, 5], [1, 2], "constant", 0], [[2, 3, 4], [2, 0, 1, 1], "constant", 1.5], [[3, 4], [-1, 2, 0, -1], "constant", -2],
  [[2, 5], [2, 3], "reflect", 0], [[2, 3, 4], [3, 1, 2, 2], "reflect", 0], [[1, 2, 3, 3, 2], [1, 1, 2, 0, 1, 2], "reflect", 0],
  [[2, 5], [-1, 2], "reflect", 0],
  [[2, 5], [2, 3], "replicate", 0], [[2, 3, 4], [0, 2, 3, 1], "replicate", 0], [[2, 4], [-2, 1], "replicate", 0],
  [[2, 5], [2, 4], "circular", 0], [[1, 2, 3, 4], [3, 1, 2, 3], "circular", 0], [[2, 5], [2, -1], "circular", 0],
] as [number[], number[], "constant" | "reflect" | "replicate" | "circular", number][]) {
  rf(`pad ${mode} ${JSON.stringify(pads)} ${JSON.stringify(shape)}${value ? ` value=${value}` : ""}`, [x(shape)],
    (a) => F.pad(a, pads, mode === "constant" ? { value } : { mode }), padO(pads, mode, value), "pad");
}

const maskIn = (shape: number[]): InputSpec => ({ shape, dtype: "bool" as DType, grad: false });
const bcast = (m: Arr, shape: number[]): number[] => O.mapBinary(m, { shape, data: new Array(O.numel(shape)).fill(0) }, (u) => u).data;
rf("maskedFill(mask, -1)", [x([3, 4]), maskIn([3, 4])], (a, m) => a.maskedFill(m, -1), (a, m) => ({ shape: a.shape, data: a.data.map((v, i) => (m.data[i] ? -1 : v)) }), "mask");
rf("maskedFill broadcast mask", [x([2, 3, 4]), maskIn([3, 1])], (a, m) => a.maskedFill(m, 0.5), (a, m) => {
  const mb = bcast(m, a.shape);
  return { shape: a.shape, data: a.data.map((v, i) => (mb[i] ? 0.5 : v)) };
}, "mask");
rf("maskedFill 0-d tensor value", [x([3, 4]), maskIn([3, 4]), x([])], (a, m, v) => torch.maskedFill(a, m, v), (a, m, v) => ({ shape: a.shape, data: a.data.map((u, i) => (m.data[i] ? v.data[0] : u)) }), "mask");
rf("maskedFill_ on a clone", [x([3, 4]), maskIn([4])], (a, m) => a.mul(2).maskedFill_(m, 3), (a, m) => {
  const mb = bcast(m, a.shape);
  return { shape: a.shape, data: a.data.map((v, i) => (mb[i] ? 3 : 2 * v)) };
}, "mask");
const selectO = (a: Arr, m: Arr): Arr => {
  const shape = O.mapBinary(a, m, (u) => u).shape;
  const ab = bcast(a, shape);
  const mb = bcast(m, shape);
  const data = ab.filter((_, i) => mb[i]);
  return { shape: [data.length], data };
};
rf("maskedSelect", [x([3, 4]), maskIn([3, 4])], (a, m) => a.maskedSelect(m), selectO, "mask");
rf("maskedSelect broadcast", [x([4]), maskIn([3, 4])], (a, m) => torch.maskedSelect(a, m), selectO, "mask");
rf("index(mask) full", [x([3, 4]), maskIn([3, 4])], (a, m) => a.index(m), selectO, "mask");
rf("index(null, mask) rows", [x([2, 5, 3]), { shape: [5], values: [1, 0, 1, 1, 0], dtype: "bool" as DType, grad: false }], (a, m) => a.index(null, m), (a, m) => {
  const keep = m.data.flatMap((v, i) => (v ? [i] : []));
  return gatherO(a, [2, keep.length, 3], (c) => flatAt(a.shape, [c[0], keep[c[1]], c[2]]));
}, "mask");
rf("lerp(end, 0.3)", [x([3, 4]), x([3, 4])], (a, b) => a.lerp(b, 0.3), (a, b) => ({ shape: a.shape, data: a.data.map((v, i) => v + 0.3 * (b.data[i] - v)) }), "lerp");
rf("lerp(end, 0.8) broadcast", [x([3, 4]), x([4])], (a, b) => torch.lerp(a, b, 0.8), (a, b) => ({ shape: a.shape, data: a.data.map((v, i) => v + 0.8 * (b.data[i % 4] - v)) }), "lerp");
rf("lerp tensor weight", [x([3, 4]), x([3, 4]), x([3, 4], [-0.5, 1.5])], (a, b, w) => a.lerp(b, w), (a, b, w) => ({ shape: a.shape, data: a.data.map((v, i) => v + w.data[i] * (b.data[i] - v)) }), "lerp");
rf("lerp_ on a clone", [x([2, 3]), x([2, 3])], (a, b) => a.add(0).lerp_(b, 0.6), (a, b) => ({ shape: a.shape, data: a.data.map((v, i) => v + 0.6 * (b.data[i] - v)) }), "lerp");
const triO = (op: "tril" | "triu", k: number) => (a: Arr): Arr => {
  const [r, c] = a.shape.slice(-2);
  return { shape: a.shape, data: a.data.map((v, i) => {
    const j = i % c;
    const row = Math.floor(i / c) % r;
    return (op === "tril" ? j - row <= k : j - row >= k) ? v : 0;
  }) };
};
rf("tril()", [x([4, 4])], (a) => a.tril(), triO("tril", 0), "triangle");
rf("tril(-1) batched", [x([2, 3, 4])], (a) => torch.tril(a, -1), triO("tril", -1), "triangle");
rf("triu(1)", [x([3, 5])], (a) => a.triu(1), triO("triu", 1), "triangle");
rf("triu(-2) batched", [x([2, 4, 3])], (a) => torch.triu(a, -2), triO("triu", -2), "triangle");
const cumO = (dim: number) => (a: Arr): Arr => {
  const inner = O.numel(a.shape.slice(dim + 1));
  const n = a.shape[dim];
  return { shape: a.shape, data: a.data.map((_, i) => {
    const k = Math.floor(i / inner) % n;
    let s = 0;
    for (let j = 0; j <= k; j++) s += a.data[i - (k - j) * inner];
    return s;
  }) };
};
rf("cumsum(1)", [x([3, 4])], (a) => a.cumsum(1), cumO(1), "scan");
rf("cumsum(0)", [x([5, 3])], (a) => torch.cumsum(a, 0), cumO(0), "scan");
rf("cumsum(-1) long", [x([2, 3, 13])], (a) => a.cumsum(-1), cumO(2), "scan", { rtol: 1e-5, atol: 1e-5 });
rf("cumsum 0-d", [x([])], (a) => a.cumsum(0), (a) => a, "scan");
rf("cumsum int64", [{ shape: [3, 4], range: [-5, 5], dtype: i64, grad: false }], (a) => a.cumsum(1), cumO(1), "scan", { differentiable: false });
// Indexing, sorting, scans and everyday math (issue 14): test/helpers/op_cases_ops.ts.
cases.push(...opsCases);

// ---------------------------------------------------------------------------------------------------------------
// Inputs

// ---- nn composites (issue 14): test/helpers/op_cases_nn.ts
for (const c of nnCases()) add(c);

export interface MakeOptions {
  dtype?: DType;
  /** Same values, non-contiguous layout (transposed storage, or a stride-2 slice for 1-D). */
  nonContiguous?: boolean;
  requiresGrad?: boolean;
}

/** Deterministic raw values for a row's inputs (same for every backend and layout). */
export function inputValues(c: OpCase): number[][] {
  const r = O.rng(O.hashString(c.name));
  return c.inputs.map((s) => {
    if (s.values) return s.values.slice();
    const n = O.numel(s.shape);
    const [lo, hi] = s.range ?? [-2, 2];
    const dt = s.dtype ?? f32;
    return Array.from({ length: n }, () => {
      const u = r();
      if (dt === "bool") return u < 0.5 ? 1 : 0;
      if (dt === "float32" || dt === "float64") return lo + (hi - lo) * u;
      return Math.floor(lo + (hi - lo) * u);
    });
  });
}

function isFloatSpec(s: InputSpec): boolean {
  const dt = s.dtype ?? f32;
  return dt === "float32" || dt === "float64";
}

export function makeInputs(c: OpCase, o: MakeOptions = {}): Tensor[] {
  const vals = inputValues(c);
  return c.inputs.map((s, k) => {
    const float = isFloatSpec(s);
    const dtype = float ? (o.dtype ?? s.dtype ?? f32) : s.dtype!;
    let t = torch.tensor(vals[k], { dtype }).reshape(s.shape);
    if (o.nonContiguous) t = nonContiguous(t);
    if (float && (s.grad ?? true) && (o.requiresGrad ?? true)) t.requiresGrad_(true);
    return t;
  });
}

/** A non-contiguous leaf holding the same values as t (t must not require grad). */
export function nonContiguous(t: Tensor): Tensor {
  return torch.noGrad(() => {
    if (t.dim() >= 2 && t.shape[t.dim() - 1] > 1 && t.shape[t.dim() - 2] > 1) {
      return t.transpose(-1, -2).contiguous().transpose(-1, -2).detach();
    }
    if (t.dim() >= 1 && t.numel() > 1) {
      const flat = t.reshape(-1);
      const doubled = torch.stack([flat, flat], 1).reshape(-1);
      return doubled.index([0, null, 2]).reshape(t.shape).detach();
    }
    return t;
  });
}

export function outValues(t: Tensor): number[] {
  return O.values(t);
}

export const differentiableCases = (): OpCase[] => cases.filter((c) => c.differentiable);
