// Elementwise and reduction ops PyTorch users reach for after the tutorial, as composites over the existing kernels
// (bitwise has its own kernel: no float kernel can do it). Gradients come from the composites' own backward rules,
// except where PyTorch defines a value the composite would not give (norms at 0, amax/amin ties).
import { isFloating, isIntegral, promoteTypes, promoteWithScalar, type DType } from "../core/dtype.js";
import { opError } from "../core/errors.js";
import { broadcastShapes, normDim } from "../core/shape.js";
import type { BitwiseOp } from "../ops/kernels.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record, sameDevices } from "./dispatch.js";
import { asTensor } from "./elementwise.js";
import { expandTo } from "./movement.js";
import type { Dims, Scalar, Tensor, TensorOrScalar } from "./tensor.js";

const torchName: Record<DType, string> = { float32: "Float", float64: "Double", int32: "Int", int64: "Long", uint8: "Byte", bool: "Bool" };

function reducedDims(op: string, t: Tensor, dim: Dims | null | undefined): number[] {
  if (dim === null || dim === undefined) return t.shape.map((_, i) => i);
  const list = typeof dim === "number" ? [dim] : [...dim];
  if (list.length === 0) return t.shape.map((_, i) => i);
  const out = list.map((d) => normDim(op, d, t.dim()));
  if (new Set(out).size !== out.length) throw opError(op, `dim ${out.find((d, i) => out.indexOf(d) !== i)} appears multiple times in the list of dims`);
  return t.dim() === 0 ? [] : out.sort((a, b) => a - b);
}

// ---- remainder, floorDivide --------------------------------------------------------------------------------------

/** a - floor(a / b) * b: the result takes b's sign (Python's %). Integers compute exactly in float64. */
export function remainder(a: Tensor, b: TensorOrScalar): Tensor {
  const dt = typeof b === "object" ? promoteTypes(a.dtype, b.dtype) : promoteWithScalar(a.dtype, Number(b));
  if (dt === "bool") throw opError("remainder", `"remainder_cpu" not implemented for 'Bool'`);
  if (isFloating(dt)) return a.sub(a.div(b).floor().mul(b));
  const x = a.to("float64");
  const y = typeof b === "object" ? b.to("float64") : b;
  return x.sub(x.div(y).floor().mul(y)).to(dt);
}

/** floor(a / b), in the promoted dtype (PyTorch 1.13 rounds toward -inf). */
export function floorDivide(a: Tensor, b: TensorOrScalar): Tensor {
  const dt = typeof b === "object" ? promoteTypes(a.dtype, b.dtype) : promoteWithScalar(a.dtype, Number(b));
  if (dt === "bool") throw opError("floorDivide", `"div_floor_cpu" not implemented for 'Bool'`);
  if (isFloating(dt)) return a.div(b).floor();
  const x = a.to("float64");
  return x.div(typeof b === "object" ? b.to("float64") : b).floor().to(dt);
}

// ---- float classification ----------------------------------------------------------------------------------------

export const isnan = (t: Tensor): Tensor => t.ne(t);
export function isinf(t: Tensor): Tensor {
  return isFloating(t.dtype) ? t.abs().eq(Infinity) : t.ne(t);
}
export function isfinite(t: Tensor): Tensor {
  return isFloating(t.dtype) ? t.sub(t).eq(0) : t.eq(t);
}

const finiteRange: Partial<Record<DType, number>> = { float32: 3.4028234663852886e38, float64: Number.MAX_VALUE };

/** NaN, +inf and -inf replaced (by 0 and the dtype's largest and lowest finite values unless given). */
export function nanToNum(t: Tensor, o: { nan?: number; posinf?: number | null; neginf?: number | null } = {}): Tensor {
  if (!isFloating(t.dtype)) return t.clone();
  const big = finiteRange[t.dtype]!;
  return t.where(t.eq(t), o.nan ?? 0).where(t.ne(Infinity), o.posinf ?? big).where(t.ne(-Infinity), o.neginf ?? -big);
}

// ---- logical and bitwise -----------------------------------------------------------------------------------------

const truth = (v: TensorOrScalar, like: Tensor): Tensor => (typeof v === "object" ? v : asTensor(v, like)).ne(0);

export function logicalAnd(a: Tensor, b: TensorOrScalar): Tensor {
  return a.ne(0).mul(truth(b, a));
}
export function logicalOr(a: Tensor, b: TensorOrScalar): Tensor {
  return a.ne(0).maximum(truth(b, a));
}
export function logicalXor(a: Tensor, b: TensorOrScalar): Tensor {
  return a.ne(0).ne(truth(b, a));
}

const bitwiseNames: Record<BitwiseOp, string> = { and: "bitwise_and", or: "bitwise_or", xor: "bitwise_xor" };

export function bitwise(op: BitwiseOp, a: Tensor, bIn: TensorOrScalar | boolean): Tensor {
  const name = `${bitwiseNames[op]}_cpu`;
  if (typeof bIn !== "object" && typeof bIn === "number" && !Number.isInteger(bIn)) {
    throw opError(bitwiseNames[op], `"${name}" not implemented for 'Float' (the scalar ${bIn} is not an integer)`);
  }
  const b = typeof bIn === "object" ? bIn : asTensor(bIn, a);
  sameDevices(bitwiseNames[op], a, b);
  const dt = typeof bIn === "object" ? promoteTypes(a.dtype, b.dtype) : b.dtype;
  if (isFloating(dt)) throw opError(bitwiseNames[op], `"${name}" not implemented for '${torchName[dt]}': bitwise ops take integer or bool tensors`);
  const shape = broadcastShapes(bitwiseNames[op], a.shape, b.shape);
  const operand = (t: Tensor) => expandTo(t.dtype === dt ? t : t.to(dt), shape).contiguous();
  const out = emptyTensor(shape, dt, a.storage.device);
  kernelsFor(a).bitwise(op, operand(a), operand(b), out);
  return out;
}

export function bitwiseNot(t: Tensor): Tensor {
  if (t.dtype === "bool") return t.logicalNot();
  if (!isIntegral(t.dtype)) throw opError("bitwise_not", `"bitwise_not_cpu" not implemented for '${torchName[t.dtype]}': bitwise ops take integer or bool tensors`);
  return bitwise("xor", t, -1);
}

// ---- amax / amin, logsumexp --------------------------------------------------------------------------------------

/** max (or min) over several dims; the gradient is shared evenly among the elements that tie for it. */
export function amax(t: Tensor, dim: Dims | null | undefined, keepdim: boolean, isMin: boolean): Tensor {
  const op = isMin ? "amin" : "amax";
  const dims = reducedDims(op, t, dim);
  for (const d of dims) if (t.shape[d] === 0) throw opError(op, `Expected reduction dim ${d} to have non-zero size.`);
  if (t.numel() === 0 && dims.length === 0) throw opError(op, "cannot reduce an empty tensor");
  const keep = t.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const x = t.detach().permute([...keep, ...dims]).reshape([...keep.map((i) => t.shape[i]), -1]);
  let out = (isMin ? x.min(-1) : x.max(-1)).values;
  const kept = t.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  if (keepdim) out = out.reshape(kept);
  if (needsGrad(t)) {
    const res = out;
    record(out, op, [t], (g) => {
      const tie = t.eq(res.reshape(kept)).to(g.dtype);
      return [tie.div(tie.sum(dims, { keepdim: true })).mul(g.reshape(kept))];
    }, [t, out]);
  }
  return out;
}

/** log(sum(exp(x))) over dims, shifted by the max so large inputs do not overflow. */
export function logsumexp(t: Tensor, dim: Dims, keepdim: boolean): Tensor {
  const x = isFloating(t.dtype) ? t : t.to("float32");
  const dims = reducedDims("logsumexp", x, dim);
  if (x.numel() === 0) return x.exp().sum(dims, { keepdim }).log();
  const m = amax(x.detach(), dims, true, false);
  const shift = m.where(m.abs().ne(Infinity), 0);
  const out = x.sub(shift).exp().sum(dims, { keepdim: true }).log().add(shift);
  return keepdim ? out : out.reshape(x.shape.filter((_, i) => !dims.includes(i)));
}

// ---- norms ----------------------------------------------------------------------------------------------------------

export interface VectorNormOptions {
  dim?: Dims | null;
  keepdim?: boolean;
  dtype?: DType;
}

/** torch.linalg.vector_norm: ord 2 (default), 1, inf, -inf, 0 or any p, over dims (all by default). */
export function vectorNorm(t: Tensor, ord: number, o: VectorNormOptions = {}): Tensor {
  if (!isFloating(t.dtype)) {
    throw opError("linalg.vectorNorm", `Expected a floating point or complex tensor as input. Got ${torchName[t.dtype]} (convert it with .float())`);
  }
  if (typeof ord !== "number" || Number.isNaN(ord)) throw opError("linalg.vectorNorm", `ord must be a number, got ${String(ord)}`);
  const x = o.dtype && o.dtype !== t.dtype ? t.to(o.dtype) : t;
  const dims = reducedDims("linalg.vectorNorm", x, o.dim);
  const keepdim = o.keepdim ?? false;
  if (ord === Infinity || ord === -Infinity) return amax(x.abs(), dims, keepdim, ord < 0);
  if (ord === 0) {
    // A count of nonzeros: piecewise constant, so PyTorch gives it a zero gradient rather than none.
    const count = x.ne(0).sum(dims, { keepdim, dtype: x.dtype });
    if (needsGrad(x)) record(count, "linalg.vectorNorm", [x], (g) => [x.detach().mul(0).add(g.sum().mul(0))]);
    return count;
  }
  if (ord === 1) return x.abs().sum(dims, { keepdim });
  const p = ord;
  const base = x.detach().abs();
  const out = (p === 2 ? base.mul(base) : base.pow(p)).sum(dims, { keepdim }).pow(1 / p);
  if (needsGrad(x)) {
    const kept = x.shape.map((s, i) => (dims.includes(i) ? 1 : s));
    const norm = out;
    // PyTorch's rule: x |x|^(p-2) / norm^(p-1), and 0 where the norm is 0 (the composite would give NaN there).
    record(out, "linalg.vectorNorm", [x], (g) => {
      const n = norm.reshape(kept);
      const scale = p === 2 ? x : x.mul(x.abs().pow(p - 2));
      const grad = scale.mul(g.reshape(kept)).div(p === 2 ? n : n.pow(p - 1));
      return [grad.where(n.ne(0), 0)];
    }, [x, out]);
  }
  return out;
}

/** torch.norm(x, p = "fro", dim, keepdim): the vector norm; "fro" is 2 (matrix norms other than Frobenius are not supported). */
export function norm(t: Tensor, p: number | "fro" | "nuc" = "fro", dim?: Dims | null, keepdim = false): Tensor {
  if (p === "nuc") throw opError("norm", `p="nuc" (the nuclear norm) is not supported; use p="fro" or a number`);
  if (p === "fro" && typeof dim !== "number" && dim && dim.length > 2) throw opError("norm", `p="fro" takes at most 2 dims, got ${dim.length}`);
  return vectorNorm(t, p === "fro" ? 2 : p, { dim, keepdim });
}

// ---- equal -------------------------------------------------------------------------------------------------------

/** True when both have the same shape and the same values (a sync point: it returns a JS boolean). */
export function equal(a: Tensor, b: Tensor): boolean {
  sameDevices("equal", a, b);
  if (a.dim() !== b.dim() || a.shape.some((s, i) => s !== b.shape[i])) return false;
  if (a.numel() === 0) return true;
  return a.eq(b).logicalNot().sum().item() === 0;
}

export type { Scalar };
