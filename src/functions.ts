// torch.* free functions that mirror Tensor methods (torch.max(x, 1), torch.cat([...]), ...).
import type { DType } from "./core/dtype.js";
import { where as whereOp } from "./tensor/elementwise.js";
import { linear as linearOp } from "./tensor/linalg.js";
import { cat, stack } from "./tensor/movement.js";
import type { Scalar } from "./tensor/tensor.js";
import type { Dims, KeepDim, MaxResult, Tensor, TensorOrScalar } from "./tensor/tensor.js";

export { cat, stack };
export const concat = cat;

export const add = (a: Tensor, b: TensorOrScalar, o?: { alpha?: number }): Tensor => a.add(b, o);
export const sub = (a: Tensor, b: TensorOrScalar, o?: { alpha?: number }): Tensor => a.sub(b, o);
export const mul = (a: Tensor, b: TensorOrScalar): Tensor => a.mul(b);
export const div = (a: Tensor, b: TensorOrScalar): Tensor => a.div(b);
export const pow = (a: Tensor, b: TensorOrScalar): Tensor => a.pow(b);
export const maximum = (a: Tensor, b: Tensor): Tensor => a.maximum(b);
export const minimum = (a: Tensor, b: Tensor): Tensor => a.minimum(b);
export const eq = (a: Tensor, b: TensorOrScalar): Tensor => a.eq(b);
export const ne = (a: Tensor, b: TensorOrScalar): Tensor => a.ne(b);
export const gt = (a: Tensor, b: TensorOrScalar): Tensor => a.gt(b);
export const lt = (a: Tensor, b: TensorOrScalar): Tensor => a.lt(b);
export const ge = (a: Tensor, b: TensorOrScalar): Tensor => a.ge(b);
export const le = (a: Tensor, b: TensorOrScalar): Tensor => a.le(b);
export const neg = (a: Tensor): Tensor => a.neg();
export const exp = (a: Tensor): Tensor => a.exp();
export const log = (a: Tensor): Tensor => a.log();
export const sqrt = (a: Tensor): Tensor => a.sqrt();
export const rsqrt = (a: Tensor): Tensor => a.rsqrt();
export const abs = (a: Tensor): Tensor => a.abs();
export const relu = (a: Tensor): Tensor => a.relu();
export const sigmoid = (a: Tensor): Tensor => a.sigmoid();
export const tanh = (a: Tensor): Tensor => a.tanh();
export const sin = (a: Tensor): Tensor => a.sin();
export const cos = (a: Tensor): Tensor => a.cos();
export const square = (a: Tensor): Tensor => a.square();
export const sign = (a: Tensor): Tensor => a.sign();
export const clamp = (a: Tensor, min?: number | null, max?: number | null): Tensor => a.clamp(min, max);
export const clip = clamp;
export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
export const mm = (a: Tensor, b: Tensor): Tensor => a.mm(b);
export const bmm = (a: Tensor, b: Tensor): Tensor => a.bmm(b);
export const sum = (a: Tensor, dim?: Dims | null, o?: KeepDim & { dtype?: DType }): Tensor => a.sum(dim, o);
export const mean = (a: Tensor, dim?: Dims | null, o?: KeepDim): Tensor => a.mean(dim, o);
export const argmax = (a: Tensor, dim?: number | null, o?: KeepDim): Tensor => a.argmax(dim, o);
export const argmin = (a: Tensor, dim?: number | null, o?: KeepDim): Tensor => a.argmin(dim, o);
export const softmax = (a: Tensor, dim: number): Tensor => a.softmax(dim);
export const logSoftmax = (a: Tensor, dim: number): Tensor => a.logSoftmax(dim);
export const flatten = (a: Tensor, start = 0, end = -1): Tensor => a.flatten(start, end);
export const reshape = (a: Tensor, shape: number[]): Tensor => a.reshape(shape);
export const transpose = (a: Tensor, d0: number, d1: number): Tensor => a.transpose(d0, d1);
export const permute = (a: Tensor, dims: number[]): Tensor => a.permute(dims);
export const squeeze = (a: Tensor, dim?: number): Tensor => a.squeeze(dim);
export const unsqueeze = (a: Tensor, dim: number): Tensor => a.unsqueeze(dim);
export const clone = (a: Tensor): Tensor => a.clone();
export const linear = linearOp;

/** torch.where(cond, a, b); torch.where(cond) alone is cond.nonzero({ asTuple: true }). */
export function where(cond: Tensor): Tensor[];
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor;
export function where(cond: Tensor, a?: TensorOrScalar, b?: TensorOrScalar): Tensor | Tensor[] {
  if (a === undefined && b === undefined) return cond.nonzero({ asTuple: true });
  if (a === undefined || b === undefined) throw new TypeError("torch.where takes a condition alone, or a condition and two values");
  return whereOp(cond, a, b);
}

export const flip = (a: Tensor, dims: readonly number[]): Tensor => a.flip([...dims]);
export const roll = (a: Tensor, shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor => a.roll(shifts, dims);
export const tril = (a: Tensor, diagonal = 0): Tensor => a.tril(diagonal);
export const triu = (a: Tensor, diagonal = 0): Tensor => a.triu(diagonal);
export const cumsum = (a: Tensor, dim: number, o?: { dtype?: DType }): Tensor => a.cumsum(dim, o);
export const lerp = (a: Tensor, end: Tensor, weight: number | Tensor): Tensor => a.lerp(end, weight);
export const maskedFill = (a: Tensor, mask: Tensor, value: Scalar | Tensor): Tensor => a.maskedFill(mask, value);
export const maskedSelect = (a: Tensor, mask: Tensor): Tensor => a.maskedSelect(mask);
export function nonzero(a: Tensor): Tensor;
export function nonzero(a: Tensor, o: { asTuple: true }): Tensor[];
export function nonzero(a: Tensor, o?: { asTuple?: boolean }): Tensor | Tensor[] {
  return o?.asTuple ? a.nonzero({ asTuple: true }) : a.nonzero();
}

/** torch.max(x) / torch.max(x, dim) → { values, indices } / torch.max(a, b) elementwise. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, o?: KeepDim): MaxResult;
export function max(x: Tensor, other: Tensor): Tensor;
export function max(x: Tensor, dim?: number | Tensor, o?: KeepDim): Tensor | MaxResult {
  if (dim === undefined) return x.max();
  if (typeof dim === "number") return x.max(dim, o);
  return x.maximum(dim);
}

export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, o?: KeepDim): MaxResult;
export function min(x: Tensor, other: Tensor): Tensor;
export function min(x: Tensor, dim?: number | Tensor, o?: KeepDim): Tensor | MaxResult {
  if (dim === undefined) return x.min();
  if (typeof dim === "number") return x.min(dim, o);
  return x.minimum(dim);
}

export function allclose(a: Tensor, b: Tensor, o: { rtol?: number; atol?: number; equalNan?: boolean } = {}): boolean {
  const rtol = o.rtol ?? 1e-5;
  const atol = o.atol ?? 1e-8;
  const x = a.toTypedArray();
  const y = b.expand(a.shape).toTypedArray();
  for (let i = 0; i < x.length; i++) {
    const u = x[i];
    const v = y[i];
    if (Number.isNaN(u) || Number.isNaN(v)) {
      if (!(o.equalNan && Number.isNaN(u) && Number.isNaN(v))) return false;
    } else if (Math.abs(u - v) > atol + rtol * Math.abs(v)) return false;
  }
  return true;
}
