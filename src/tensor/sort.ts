// sort, argsort, topk, kthvalue, unique and searchsorted. One stable sort kernel serves the first four (topk and
// kthvalue take a slice of the sorted order); values are differentiable through a scatter of the gradient back to
// the positions the indices name, as in PyTorch. unique's output size depends on the values, so it reads the
// "is a new value" flags through nonzero (one wait for the device, like masks.ts).
import { isFloating, promoteTypes, type DType } from "../core/dtype.js";
import { fmtShape, opError } from "../core/errors.js";
import { normDim, numelOf } from "../core/shape.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record, sameDevices } from "./dispatch.js";
import { asTensor } from "./elementwise.js";
import { cat } from "./movement.js";
import { maxResult } from "./reduce.js";
import { gather, scatterAdd } from "./scatter.js";
import type { MaxResult, Scalar, Tensor } from "./tensor.js";

/** Sorted values and int64 indices along d (no autograd). */
function sortRaw(t: Tensor, d: number, descending: boolean): [Tensor, Tensor] {
  const values = emptyTensor(t.shape, t.dtype, t.storage.device);
  const indices = emptyTensor(t.shape, "int64", t.storage.device);
  const n = t.dim() === 0 ? 1 : t.shape[d];
  const outer = numelOf(t.shape.slice(0, d));
  const inner = numelOf(t.shape.slice(d + 1));
  if (t.numel() > 0) kernelsFor(t).sort(t.contiguous(), values, indices, outer, n, inner, descending);
  return [values, indices];
}

/** values = t gathered at indices along d; its gradient goes back to those positions (ties get theirs each). */
function withGrad(name: string, t: Tensor, d: number, values: Tensor, indices: Tensor): Tensor {
  if (needsGrad(t)) {
    const shape = t.shape;
    record(values, name, [t], (g) => {
      const zeros = emptyTensor(shape, g.dtype, g.storage.device).fill_(0);
      return [t.dim() === 0 ? g.reshape(shape) : scatterAdd(zeros, d, indices, g)];
    }, [indices]);
  }
  return values;
}

/** A 1-element tensor of value, on like's device. */
function one(value: number, dtype: DType, like: Tensor): Tensor {
  return emptyTensor([1], dtype, like.storage.device).fill_(value);
}

export function sort(t: Tensor, dim: number, descending: boolean): MaxResult {
  const d = normDim("sort", dim, t.dim());
  const [values, indices] = sortRaw(t, d, descending);
  return maxResult(withGrad("sort", t, d, values, indices), indices);
}

export function argsort(t: Tensor, dim: number, descending: boolean): Tensor {
  return sortRaw(t, normDim("argsort", dim, t.dim()), descending)[1];
}

/** The k largest (or smallest) along dim, sorted; ties keep the lower index first (a stable sort). */
export function topk(t: Tensor, k: number, dim: number, largest: boolean): MaxResult {
  const d = normDim("topk", dim, t.dim());
  const n = t.dim() === 0 ? 1 : t.shape[d];
  if (!Number.isInteger(k) || k < 0 || k > n) throw opError("topk", `selected index k out of range: k = ${k} for dimension ${d} of size ${n}`);
  const [, order] = sortRaw(t, d, largest);
  const indices = t.dim() === 0 ? order : order.narrow(d, 0, k).contiguous();
  const values = gather(t.detach(), d, indices);
  return maxResult(withGrad("topk", t, d, values, indices), indices);
}

/** The k-th smallest (1-based) along dim and its index. */
export function kthvalue(t: Tensor, k: number, dim: number, keepdim: boolean): MaxResult {
  const d = normDim("kthvalue", dim, t.dim());
  const n = t.dim() === 0 ? 1 : t.shape[d];
  if (!Number.isInteger(k) || k < 1 || k > n) throw opError("kthvalue", `selected number k out of range: k = ${k} for dimension ${d} of size ${n}`);
  const [, order] = sortRaw(t, d, false);
  const idx = t.dim() === 0 ? order : order.narrow(d, k - 1, 1).contiguous();
  const values = withGrad("kthvalue", t, d, gather(t.detach(), d, idx), idx);
  if (keepdim || t.dim() === 0) return maxResult(values, idx);
  return maxResult(values.squeeze(d), idx.squeeze(d));
}

export interface UniqueOptions {
  sorted?: boolean;
  returnInverse?: boolean;
  returnCounts?: boolean;
  dim?: number | null;
}

/**
 * The distinct values of the flattened tensor in ascending order, with (optionally) the position of each input
 * element among them and how often each occurs. Always sorted (PyTorch's CPU unique sorts even when asked not to).
 */
export function unique(t: Tensor, o: UniqueOptions): Tensor | Tensor[] {
  if (o.dim !== undefined && o.dim !== null) throw opError("unique", "unique over a dim (dim=...) is not supported yet; use dim=null (the flattened tensor)");
  const flat = t.reshape([-1]);
  const n = flat.numel();
  const [sorted, perm] = sortRaw(flat, 0, false);
  // first[i]: sorted[i] starts a new value
  const first = n === 0 ? emptyTensor([0], "bool", t.storage.device)
    : cat([one(1, "bool", t), sorted.narrow(0, 1, n - 1).ne(sorted.narrow(0, 0, n - 1))]);
  const starts = first.nonzero().reshape([-1]);
  const values = sorted.indexSelect(0, starts);
  const out: Tensor[] = [values];
  if (o.returnInverse) {
    const group = first.cumsum(0).sub(1);
    const inverse = emptyTensor([n], "int64", t.storage.device).fill_(0).scatter(0, perm, group);
    out.push(inverse.reshape(t.shape));
  }
  if (o.returnCounts) {
    const ends = cat([starts.narrow(0, 1, Math.max(starts.numel() - 1, 0)), one(n, "int64", t)]);
    out.push(starts.numel() === 0 ? starts : ends.sub(starts));
  }
  return out.length === 1 ? values : out;
}

export interface SearchSortedOptions {
  right?: boolean;
  side?: "left" | "right";
  outInt32?: boolean;
}

/** Where each value would be inserted into the sorted innermost dim of seq to keep it sorted. */
export function searchsorted(seq: Tensor, v: Tensor | Scalar, o: SearchSortedOptions): Tensor {
  if (o.side !== undefined && o.right !== undefined && (o.side === "right") !== o.right) {
    throw opError("searchsorted", `side and right can't be set to opposites, got side of ${o.side} while right was ${o.right}`);
  }
  const right = o.right ?? o.side === "right";
  const values = typeof v === "object" ? v : asTensor(v, seq);
  sameDevices("searchsorted", seq, values);
  if (seq.dim() === 0) throw opError("searchsorted", "boundaries tensor should have 1 dimension or more, got a 0-d tensor");
  if (seq.dim() > 1 && (values.dim() !== seq.dim() || values.shape.slice(0, -1).some((s, i) => s !== seq.shape[i]))) {
    throw opError("searchsorted", `boundaries tensor ${fmtShape(seq.shape)} and input value tensor ${fmtShape(values.shape)} should have the same leading dims (all but the last)`);
  }
  if (!isFloating(seq.dtype) && seq.dtype === "bool") throw opError("searchsorted", "boundaries of dtype bool are not supported");
  const common: DType = promoteTypes(seq.dtype, values.dtype);
  const s = (seq.dtype === common ? seq : seq.to(common)).contiguous();
  const q = (values.dtype === common ? values : values.to(common)).contiguous();
  const m = seq.shape[seq.dim() - 1];
  const outer = seq.dim() === 1 ? 1 : numelOf(seq.shape.slice(0, -1));
  const k = seq.dim() === 1 ? values.numel() : values.shape[values.dim() - 1];
  const out = emptyTensor(values.shape, "int64", seq.storage.device);
  if (out.numel() > 0) kernelsFor(seq).searchsorted(s, q, out, outer, m, k, right);
  return o.outInt32 ? out.to("int32") : out;
}
