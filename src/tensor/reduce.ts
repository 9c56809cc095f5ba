import { isFloating, type DType } from "../core/dtype.js";
import { opError } from "../core/errors.js";
import { normDim, numelOf } from "../core/shape.js";
import { emptyTensor, fromHost } from "./create.js";
import { kernelsFor, needsGrad, record } from "./dispatch.js";
import { Tensor, type Dims, type MaxResult } from "./tensor.js";

function reducedDims(op: string, t: Tensor, dim: Dims | null | undefined): number[] {
  if (dim === null || dim === undefined) return t.shape.map((_, i) => i);
  const list = typeof dim === "number" ? [dim] : [...dim];
  const out = [...new Set(list.map((d) => normDim(op, d, t.dim())))].sort((a, b) => a - b);
  return t.dim() === 0 ? [] : out;
}

function outShape(t: Tensor, dims: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  t.shape.forEach((s, i) => {
    if (!dims.includes(i)) out.push(s);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** x contiguous with the reduced dims gathered into one block: [outer, red, inner]. */
function asBlock(t: Tensor, dims: readonly number[]): [Tensor, number, number, number] {
  if (dims.length === 0) return [t.contiguous(), t.numel(), 1, 1];
  const consecutive = dims[dims.length - 1] - dims[0] === dims.length - 1;
  let x = t;
  let ds = dims;
  if (!consecutive) {
    const keep = t.shape.map((_, i) => i).filter((i) => !dims.includes(i));
    x = t.permute([...keep, ...dims]);
    ds = dims.map((_, k) => keep.length + k);
  }
  x = x.isContiguous() ? x : copyRaw(x);
  const outer = numelOf(x.shape.slice(0, ds[0]));
  const red = numelOf(ds.map((d) => x.shape[d]));
  const inner = numelOf(x.shape.slice(ds[ds.length - 1] + 1));
  return [x, outer, red, inner];
}

function copyRaw(t: Tensor): Tensor {
  const out = emptyTensor(t.shape, t.dtype, t.storage.device);
  kernelsFor(t).copy(t, out);
  return out;
}

/** Broadcasts a reduced gradient back over the input's shape. */
function expandBack(g: Tensor, inShape: readonly number[], dims: readonly number[]): Tensor {
  const kept = inShape.map((s, i) => (dims.includes(i) ? 1 : s));
  return g.reshape(kept).expand([...inShape]);
}

export function sum(t: Tensor, dim: Dims | null | undefined, keepdim: boolean, dtype?: DType): Tensor {
  const dims = reducedDims("sum", t, dim);
  const resultType = dtype ?? (isFloating(t.dtype) ? t.dtype : "int64");
  const [x, outer, red, inner] = asBlock(t, dims);
  const out = emptyTensor(outShape(t, dims, keepdim), resultType, t.storage.device);
  kernelsFor(t).sumDim(x, out, outer, dims.length ? red : 1, dims.length ? inner : t.numel());
  if (needsGrad(t)) {
    const inShape = t.shape;
    record(out, "sum", [t], (g) => [expandBack(g, inShape, dims)]);
  }
  return out;
}

export function mean(t: Tensor, dim: Dims | null | undefined, keepdim: boolean): Tensor {
  if (!isFloating(t.dtype)) {
    throw opError("mean", `could not infer output dtype: input dtype must be floating point, got ${t.dtype}. Use .float() first`);
  }
  const dims = reducedDims("mean", t, dim);
  const count = numelOf(dims.map((d) => t.shape[d]));
  return sum(t, dims, keepdim).div(count);
}

export function prod(t: Tensor, dim: number | null | undefined, keepdim: boolean): Tensor {
  const dims = reducedDims("prod", t, dim);
  const [x, outer, red, inner] = asBlock(t, dims);
  const out = emptyTensor(outShape(t, dims, keepdim), isFloating(t.dtype) ? t.dtype : "int64", t.storage.device);
  kernelsFor(t).prodDim(x, out, outer, dims.length ? red : 1, dims.length ? inner : t.numel());
  if (needsGrad(t)) {
    const inShape = t.shape;
    // d prod / d x_i is the product of the other elements; out / x_i only works where x_i != 0.
    record(out, "prod", [t], (g) => {
      const zero = t.eq(0);
      const others = prod(t.where(zero.logicalNot(), 1), dim, true);
      const zeros = sum(zero, dims, true);
      const atZero = others.where(zeros.eq(1), 0);
      const ok = expandBack(out, inShape, dims).div(t.where(zero.logicalNot(), 1));
      return [expandBack(g, inShape, dims).mul(ok.where(zero.logicalNot(), atZero.expand(inShape)))];
    }, [t]);
  }
  return out;
}

export function variance(t: Tensor, dim: Dims | null | undefined, keepdim: boolean, correction: number): Tensor {
  const dims = reducedDims("var", t, dim);
  const n = numelOf(dims.map((d) => t.shape[d]));
  const centered = t.sub(mean(t, dims, true));
  return sum(centered.mul(centered), dims, keepdim).div(Math.max(n - correction, 0));
}

function extreme(t: Tensor, dims: number[], keepdim: boolean, isMin: boolean): [Tensor, Tensor] {
  if (t.numel() === 0) throw opError(isMin ? "min" : "max", "cannot reduce an empty tensor (no identity)");
  const [x, outer, red, inner] = asBlock(t, dims);
  const shape = outShape(t, dims, keepdim);
  const values = emptyTensor(shape, t.dtype, t.storage.device);
  const indices = emptyTensor(shape, "int64", t.storage.device);
  kernelsFor(t).maxDim(x, values, indices, outer, dims.length ? red : t.numel(), dims.length ? inner : 1, isMin);
  return [values, indices];
}

export function extremeAll(t: Tensor, isMin: boolean): Tensor {
  const dims = t.shape.map((_, i) => i);
  const [values] = extreme(t, dims, false, isMin);
  if (needsGrad(t)) {
    // Ties share the gradient evenly, like PyTorch's max() without a dim.
    record(values, isMin ? "min" : "max", [t], (g) => {
      const mask = t.eq(values).to(g.dtype);
      return [mask.mul(g.div(mask.sum()))];
    }, [t]);
  }
  return values;
}

export function extremeDim(t: Tensor, dim: number, keepdim: boolean, isMin: boolean): MaxResult {
  const d = normDim(isMin ? "min" : "max", dim, t.dim());
  const [values, indices] = extreme(t, t.dim() === 0 ? [] : [d], keepdim, isMin);
  if (needsGrad(t)) {
    const inShape = t.shape;
    record(values, isMin ? "min" : "max", [t], (g) => {
      const idx = keepdim || t.dim() === 0 ? indices : indices.unsqueeze(d);
      const gk = keepdim || t.dim() === 0 ? g : g.unsqueeze(d);
      const positions = fromHost(Float64Array.from({ length: inShape[d] ?? 1 }, (_, i) => i), [inShape[d] ?? 1], "int64", g.storage.device);
      const shape = inShape.map((_, i) => (i === d ? inShape[d] : 1));
      const mask = positions.reshape(shape).eq(idx);
      return [mask.mul(gk)];
    });
  }
  return maxResult(values, indices);
}

export function maxResult(values: Tensor, indices: Tensor): MaxResult {
  return {
    values,
    indices,
    *[Symbol.iterator]() {
      yield values;
      yield indices;
    },
  };
}

export function argExtreme(t: Tensor, dim: number | null | undefined, keepdim: boolean, isMin: boolean): Tensor {
  if (dim === null || dim === undefined) {
    const [, idx] = extreme(t.reshape([-1]), [0], false, isMin);
    return keepdim ? idx.reshape(t.shape.map(() => 1)) : idx;
  }
  const d = normDim(isMin ? "argmin" : "argmax", dim, t.dim());
  return extreme(t, t.dim() === 0 ? [] : [d], keepdim, isMin)[1];
}
