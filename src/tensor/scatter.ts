// gather, scatter(_), scatterAdd(_), take and indexPut_: indexing by a tensor of int64 positions along a dim. gather
// and scatter are single kernels (src/ops/kernels.ts); take and indexPut_ reduce to indexSelect / scatter over a
// flattened view, so every device that has those kernels has these ops.
import { fmtShape, opError } from "../core/errors.js";
import { broadcastShapes, normDim, numelOf, sameShape } from "../core/shape.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record, sameDevices } from "./dispatch.js";
import { asTensor } from "./elementwise.js";
import { expandTo } from "./movement.js";
import { pad } from "./pad.js";
import type { Scalar, Tensor } from "./tensor.js";

function checkIndex(op: string, index: Tensor): void {
  if (index.dtype !== "int64") {
    throw opError(op, `Expected dtype int64 for index, got ${index.dtype} (convert it with .long())`);
  }
}

/** PyTorch's shape rule: index has self's rank and is no larger than self outside dim (and than src everywhere). */
function checkShapes(op: string, self: Tensor, d: number, index: Tensor, src: Tensor | null): void {
  const nd = Math.max(self.dim(), 1);
  if (Math.max(index.dim(), 1) !== nd || (src && Math.max(src.dim(), 1) !== nd)) {
    throw opError(op, `Index tensor must have the same number of dimensions as ${src ? "self and src" : "input"} tensor (got index ${fmtShape(index.shape)}, self ${fmtShape(self.shape)}${src ? `, src ${fmtShape(src.shape)}` : ""})`);
  }
  for (let i = 0; i < index.dim(); i++) {
    if (i !== d && index.shape[i] > self.shape[i]) {
      throw opError(op, `Size does not match at dimension ${i}: expected index ${fmtShape(index.shape)} to be smaller than self ${fmtShape(self.shape)} apart from dimension ${d}`);
    }
    if (src && index.shape[i] > src.shape[i]) {
      throw opError(op, `Size does not match at dimension ${i}: expected index ${fmtShape(index.shape)} to be smaller than src ${fmtShape(src.shape)}`);
    }
  }
}

/** A 0-d tensor or scalar-free view as a 1-element 1-d one, so kernels always see at least one dim. */
const atLeast1d = (t: Tensor): Tensor => (t.dim() === 0 ? t.reshape([1]) : t);

/** out[i][j] = x[index[i][j]][j] (dim 0) etc.: out has index's shape and x's dtype. */
export function gather(t: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("gather", dim, t.dim());
  checkIndex("gather", index);
  sameDevices("gather", t, index);
  checkShapes("gather", t, d, index, null);
  const out = emptyTensor(index.shape, t.dtype, t.storage.device);
  if (index.numel() > 0) kernelsFor(t).gather(atLeast1d(t), atLeast1d(index), out.dim() === 0 ? out.reshape([1]) : out, d);
  if (needsGrad(t)) {
    const shape = t.shape;
    record(out, "gather", [t], (g) => [scatterInto(zerosOf(shape, g), d, index, g, true)], [index]);
  }
  return out;
}

function zerosOf(shape: readonly number[], like: Tensor): Tensor {
  return emptyTensor(shape, like.dtype, like.storage.device).fill_(0);
}

/** A copy of self with src written (or added) at the indexed positions; no checks, autograd through gather. */
function scatterInto(self: Tensor, d: number, index: Tensor, src: Tensor, accumulate: boolean): Tensor {
  const out = self.detach().clone();
  if (index.numel() > 0) kernelsFor(self).scatter(atLeast1d(src), atLeast1d(index), out.dim() === 0 ? out.reshape([1]) : out, d, accumulate);
  if (needsGrad(self, src)) {
    record(out, accumulate ? "scatterAdd" : "scatter", [self, src], (g) => [
      self.requiresGrad ? (accumulate ? g : scatterInto(g, d, index, zerosOf(index.shape, g), false)) : null,
      src.requiresGrad ? padTo(gather(g, d, index), src.shape) : null,
    ], [index]);
  }
  return out;
}

/** Zero-pads t at the end of each dim up to shape (src may be larger than index). */
function padTo(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const pads: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) pads.push(0, shape[i] - t.shape[i]);
  return pad(t, pads);
}

function scatterSource(op: string, self: Tensor, index: Tensor, src: Tensor | Scalar): Tensor {
  if (typeof src === "object") {
    if (src.dtype !== self.dtype) throw opError(op, `Expected self.dtype to be equal to src.dtype (got ${self.dtype} and ${src.dtype})`);
    return src;
  }
  const v = asTensor(typeof src === "boolean" ? (src ? 1 : 0) : src, self);
  return expandTo(v.dtype === self.dtype ? v : v.to(self.dtype), index.shape);
}

/** self with src (a tensor, or one value) written at index along dim; the out-of-place scatter. */
export function scatter(t: Tensor, dim: number, index: Tensor, src: Tensor | Scalar): Tensor {
  const d = normDim("scatter", dim, t.dim());
  checkIndex("scatter", index);
  const s = scatterSource("scatter", t, index, src);
  sameDevices("scatter", t, index, s);
  checkShapes("scatter", t, d, index, typeof src === "object" ? s : null);
  return scatterInto(t, d, index, s, false);
}

export function scatterAdd(t: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = normDim("scatterAdd", dim, t.dim());
  checkIndex("scatterAdd", index);
  const s = scatterSource("scatterAdd", t, index, src);
  sameDevices("scatterAdd", t, index, s);
  checkShapes("scatterAdd", t, d, index, s);
  return scatterInto(t, d, index, s, true);
}

/** x.flatten()[index], shaped like index; negative positions count from the end as in PyTorch. */
export function take(t: Tensor, index: Tensor): Tensor {
  checkIndex("take", index);
  sameDevices("take", t, index);
  const n = t.numel();
  const flat = index.reshape([-1]);
  const wrapped = flat.where(flat.ge(0), flat.add(n));
  return t.reshape([-1]).indexSelect(0, wrapped).reshape(index.shape);
}

/**
 * self[indices] = values (or += with accumulate), the tuple form of advanced indexing: one int64 (or bool mask)
 * tensor per leading dim, broadcast together. Out of place; Tensor.indexPut_ writes the result back.
 */
export function indexPut(t: Tensor, indices: readonly Tensor[], values: Tensor | Scalar, accumulate: boolean): Tensor {
  let idx: Tensor[] = [];
  for (const i of indices) {
    if (i.dtype === "bool" || i.dtype === "uint8") idx.push(...(i.nonzero({ asTuple: true })));
    else if (i.dtype === "int64" || i.dtype === "int32") idx.push(i.dtype === "int64" ? i : i.long());
    else throw opError("indexPut_", `tensors used as indices must be long, int, byte or bool tensors, got ${i.dtype}`);
  }
  if (idx.length === 0) throw opError("indexPut_", "expected at least one index tensor");
  if (idx.length > t.dim()) throw opError("indexPut_", `too many indices for tensor of dimension ${t.dim()} (got ${idx.length})`);
  sameDevices("indexPut_", t, ...idx, typeof values === "object" ? values : null);
  const k = idx.length;
  let bshape: number[] = idx[0].shape.slice();
  for (const i of idx.slice(1)) bshape = broadcastShapes("indexPut_", bshape, i.shape);
  idx = idx.map((i) => expandTo(i, bshape));
  // One linear position over the first k dims: the indexed tensor becomes [prod(shape[:k]), ...rest].
  let lin: Tensor | null = null;
  for (let j = 0; j < k; j++) {
    const size = t.shape[j];
    const w = idx[j].where(idx[j].ge(0), idx[j].add(size));
    lin = lin === null ? w : lin.mul(size).add(w);
  }
  const rest = t.shape.slice(k);
  const rows = numelOf(t.shape.slice(0, k));
  const m = numelOf(bshape);
  const v = typeof values === "object" ? (values.dtype === t.dtype ? values : values.to(t.dtype)) : asTensor(values, t).to(t.dtype);
  const src = v.expand([...bshape, ...rest]).reshape([m, ...rest]);
  const flatIndex = lin!.reshape([m, ...rest.map(() => 1)]).expand([m, ...rest]);
  const flatSelf = t.reshape([rows, ...rest]);
  const out = accumulate ? scatterAdd(flatSelf, 0, flatIndex, src) : scatter(flatSelf, 0, flatIndex, src);
  return out.reshape(t.shape);
}
