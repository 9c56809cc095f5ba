import { castValue, isFloating, promoteWithScalar, resultTypeOf, type DType } from "../core/dtype.js";
import { broadcastShapes, sameShape } from "../core/shape.js";
import { binaryOps, type BinaryName } from "../ops/binary.js";
import { unaryOps, type UnaryName } from "../ops/unary.js";
import { binaryRules, binaryScalarRules, unaryRules } from "../autograd/rules.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record, sameDevice, sameDevices } from "./dispatch.js";
import { expandTo } from "./movement.js";
import type { Scalar, Tensor, TensorOrScalar } from "./tensor.js";

/** The dtype PyTorch computes `like op v` in for a JS number v, and v as that dtype stores it. */
export function scalarOperand(v: Scalar, like: DType): [DType, number] {
  const num = typeof v === "boolean" ? (v ? 1 : 0) : v;
  const dt: DType = typeof v === "boolean" && like === "bool" ? "bool" : promoteWithScalar(like, num);
  return [dt, dt === "float32" ? Math.fround(num) : castValue(dt, num)];
}

/** PyTorch refuses an integral tensor to a negative integer (scalar) power rather than truncate 1/x^n to 0. */
export function checkIntegerPow(dt: DType, exponent: number): void {
  if (!isFloating(dt) && exponent < 0) {
    throw new Error("Integers to negative integer powers are not allowed. Convert the base to floating point first (x.float().pow(n)).");
  }
}

/** A JS number as a 0-d tensor on like's device (filled there: no host memory), for the rare ops that need one. */
export function asTensor(v: TensorOrScalar, like: Tensor): Tensor {
  if (typeof v === "object") return v;
  const [dt, s] = scalarOperand(v, like.dtype);
  const t = emptyTensor([], dt, like.storage.device);
  kernelsFor(like).fill(t, s);
  return t;
}

/** Sums a broadcast gradient back down to an input's shape. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const s = dims.length ? g.sum(dims, { keepdim: true }) : g;
  return s.view([...shape]);
}

export function unary(op: UnaryName, x: Tensor): Tensor {
  const def = unaryOps[op];
  const dtype = def.floatResult && !isFloating(x.dtype) ? "float32" : x.dtype;
  const out = emptyTensor(x.shape, dtype, x.storage.device);
  kernelsFor(x).unary(op, x, out);
  const bw = unaryRules[op];
  if (bw && needsGrad(x)) record(out, op, [x], (g) => [bw(g, x, out)], op === "neg" ? [] : [x, out]);
  return out;
}

/** The dtype op produces from operands whose common dtype is common. */
export function resultType(op: BinaryName, common: DType): DType {
  const r = binaryOps[op].result;
  return r === "bool" ? "bool" : r === "float" && !isFloating(common) ? "float32" : common;
}

export function binary(op: BinaryName, a: Tensor, b: TensorOrScalar): Tensor {
  if (typeof b !== "object") return binaryScalar(op, a, b);
  sameDevice(op, a, b);
  const dtype = resultType(op, resultTypeOf(a.dtype, a.shape.length, b.dtype, b.shape.length));
  const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape);
  const out = emptyTensor(shape, dtype, a.storage.device);
  const ea = a.shape === shape || sameShape(a.shape, shape) ? a : expandTo(a, shape);
  const eb = sameShape(b.shape, shape) ? b : expandTo(b, shape);
  kernelsFor(a).binary(op, ea, eb, out);
  const bw = binaryRules[op];
  if (bw && needsGrad(a, b)) {
    const saved = op === "add" || op === "sub" ? [] : op === "pow" ? [a, b, out] : [a, b];
    record(
      out,
      op,
      [a, b],
      (g) => {
        const [ga, gb] = bw(g, a, b, out);
        return [ga && a.requiresGrad ? sumTo(ga, a.shape) : null, gb && b.requiresGrad ? sumTo(gb, b.shape) : null];
      },
      saved,
    );
  }
  return out;
}

/** a op v for a JS number v: v is a kernel parameter, in the dtype PyTorch's scalar promotion gives it. */
function binaryScalar(op: BinaryName, a: Tensor, v: Scalar): Tensor {
  const [dt, s] = scalarOperand(v, a.dtype);
  if (op === "pow") checkIntegerPow(dt, s);
  const out = emptyTensor(a.shape, resultType(op, dt), a.storage.device);
  kernelsFor(a).binaryScalar(op, a, s, out);
  const bw = binaryScalarRules[op];
  if (bw && needsGrad(a)) {
    const saved = op === "add" || op === "sub" || op === "mul" || op === "div" ? [] : op === "pow" ? [a, out] : [a];
    record(out, op, [a], (g) => [bw(g, a, s, out)], saved);
  }
  return out;
}

export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  const out = emptyTensor(x.shape, x.dtype, x.storage.device);
  kernelsFor(x).clamp(x, out, lo, hi);
  if (needsGrad(x)) record(out, "clamp", [x], (g) => [g.mul(x.ge(lo).mul(x.le(hi)))], [x]);
  return out;
}

/** A JS number as a 0-d tensor in the dtype PyTorch gives a lone wrapped scalar (int64, float32 or bool). */
function wrappedScalar(v: Scalar, on: Tensor): Tensor {
  const dt: DType = typeof v === "boolean" ? "bool" : Number.isInteger(v) ? "int64" : "float32";
  const t = emptyTensor([], dt, on.storage.device);
  kernelsFor(on).fill(t, castValue(dt, typeof v === "boolean" ? (v ? 1 : 0) : v));
  return t;
}

/** torch.where(cond, a, b): either value may be a JS number, promoted as PyTorch promotes a wrapped scalar. */
export function where(cond: Tensor, aIn: TensorOrScalar, bIn: TensorOrScalar): Tensor {
  const a = typeof aIn === "object" ? aIn : typeof bIn === "object" ? asTensor(aIn, bIn) : wrappedScalar(aIn, cond);
  const b = asTensor(bIn, a);
  sameDevices("where", a, b, cond);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, a.shape), b.shape);
  const dtype = resultTypeOf(a.dtype, a.shape.length, b.dtype, b.shape.length);
  const out = emptyTensor(shape, dtype, a.storage.device);
  kernelsFor(a).where(expandTo(cond, shape), expandTo(a, shape), expandTo(b, shape), out);
  if (needsGrad(a, b)) {
    record(out, "where", [a, b], (g) => [
      a.requiresGrad ? sumTo(where(cond, g, 0), a.shape) : null,
      b.requiresGrad ? sumTo(where(cond, asTensor(0, g), g), b.shape) : null,
    ]);
  }
  return out;
}
