import { isFloating, promoteTypes, promoteWithScalar, type DType } from "../core/dtype.js";
import { broadcastShapes, sameShape } from "../core/shape.js";
import { binaryOps, type BinaryName } from "../ops/binary.js";
import { unaryOps, type UnaryName } from "../ops/unary.js";
import { emptyTensor, wrap } from "./create.js";
import { kernelsFor, needsGrad, record, sameDevice } from "./dispatch.js";
import { expandTo } from "./movement.js";
import type { Tensor, TensorOrScalar } from "./tensor.js";

const scalarArray = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: Float64Array, uint8: Uint8Array, bool: Uint8Array };

/** A JS number as a 0-d tensor whose dtype follows PyTorch's scalar promotion against `like`. */
export function asTensor(v: TensorOrScalar, like: Tensor): Tensor {
  if (typeof v === "object") return v;
  const num = typeof v === "boolean" ? (v ? 1 : 0) : v;
  const dt: DType = typeof v === "boolean" && like.dtype === "bool" ? "bool" : promoteWithScalar(like.dtype, num);
  const arr = new scalarArray[dt](1);
  arr[0] = num;
  return wrap(arr, [], dt, like.device);
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
  const out = emptyTensor(x.shape, dtype, x.device);
  kernelsFor(x).unary(op, x, out);
  const bw = def.backward;
  if (bw && needsGrad(x)) record(out, op, [x], (g) => [bw(g, x, out)], op === "neg" ? [] : [x, out]);
  return out;
}

export function binary(op: BinaryName, a: Tensor, bIn: TensorOrScalar): Tensor {
  const def = binaryOps[op];
  const b = asTensor(bIn, a);
  sameDevice(op, a, b);
  const common = b.shape.length === 0 && typeof bIn !== "object" ? b.dtype : promoteTypes(a.dtype, b.dtype);
  const dtype = def.result === "bool" ? "bool" : def.result === "float" && !isFloating(common) ? "float32" : common;
  const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape);
  const out = emptyTensor(shape, dtype, a.device);
  const ea = a.shape === shape || sameShape(a.shape, shape) ? a : expandTo(a, shape);
  const eb = sameShape(b.shape, shape) ? b : expandTo(b, shape);
  kernelsFor(a).binary(op, ea, eb, out);
  const bw = def.backward;
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

export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  const out = emptyTensor(x.shape, x.dtype, x.device);
  kernelsFor(x).clamp(x, out, lo, hi);
  if (needsGrad(x)) record(out, "clamp", [x], (g) => [g.mul(x.ge(lo).mul(x.le(hi)))], [x]);
  return out;
}

export function where(cond: Tensor, a: Tensor, bIn: TensorOrScalar): Tensor {
  const b = asTensor(bIn, a);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, a.shape), b.shape);
  const dtype = promoteTypes(a.dtype, b.dtype);
  const out = emptyTensor(shape, dtype, a.device);
  kernelsFor(a).where(expandTo(cond, shape), expandTo(a, shape), expandTo(b, shape), out);
  if (needsGrad(a, b)) {
    record(out, "where", [a, b], (g) => [
      a.requiresGrad ? sumTo(where(cond, g, 0), a.shape) : null,
      b.requiresGrad ? sumTo(where(cond, asTensor(0, g), g), b.shape) : null,
    ]);
  }
  return out;
}
