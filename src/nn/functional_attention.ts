// oneHot, embedding and scaled dot-product attention, composed from differentiable tensor ops.
import { isFloating } from "../core/dtype.js";
import { fmtShape, opError } from "../core/errors.js";
import { arange, ones } from "../tensor/factories.js";
import type { Tensor } from "../tensor/tensor.js";
import { dropout } from "./functional.js";

/** int64 one-hot rows over a new last dim of numClasses (-1: the largest class in the tensor plus one). */
export function oneHot(t: Tensor, numClasses = -1): Tensor {
  if (isFloating(t.dtype) || t.dtype === "bool") throw opError("oneHot", `one_hot is only applicable to index tensor (int64 or int32), got ${t.dtype}`);
  const check = t.numel() > 0 && (t.device !== "meta" || numClasses === -1);
  if (check && t.min().item() < 0) throw opError("oneHot", "Class values must be non-negative.");
  const C = numClasses === -1 ? (t.numel() === 0 ? 0 : t.max().item() + 1) : numClasses;
  if (check && numClasses !== -1 && t.max().item() >= C) throw opError("oneHot", "Class values must be smaller than num_classes.");
  return t.unsqueeze(-1).eq(arange(C, { device: t.device })).to("int64");
}

export interface EmbeddingOptions {
  /** This row's gradient stays zero (its value is returned as stored). Negative counts from the end. */
  paddingIdx?: number | null;
}

/** Rows of weight (numEmbeddings, dim) picked by the integer tensor input: output input.shape + [dim]. */
export function embedding(input: Tensor, weight: Tensor, o: EmbeddingOptions = {}): Tensor {
  if (isFloating(input.dtype) || input.dtype === "bool") {
    throw opError("embedding", `Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got ${input.dtype} instead`);
  }
  if (weight.dim() !== 2) throw opError("embedding", `weight must be 2-D (numEmbeddings, embeddingDim), got ${fmtShape(weight.shape)}`);
  const [V, D] = weight.shape;
  let w = weight;
  if (o.paddingIdx !== undefined && o.paddingIdx !== null) {
    const p = o.paddingIdx < 0 ? o.paddingIdx + V : o.paddingIdx;
    if (p < 0 || p >= V) throw opError("embedding", `paddingIdx must be within numEmbeddings (${V}), got ${o.paddingIdx}`);
    // Same values, but the padding row reads the detached weight, so no gradient reaches it.
    if (weight.requiresGrad) w = weight.where(arange(V, { device: weight.device }).ne(p).unsqueeze(1), weight.detach());
  }
  // The range check reads the indices, which a meta tensor doesn't have (PyTorch skips it there too).
  if (input.numel() > 0 && input.device !== "meta") {
    const lo = input.min().item();
    const hi = input.max().item();
    if (lo < 0 || hi >= V) throw opError("embedding", `index out of range in self: indices must be in [0, ${V}), got values in [${lo}, ${hi}]`);
  }
  return w.indexSelect(0, input.reshape([-1])).reshape([...input.shape, D]);
}

export interface AttentionOptions {
  /** bool: true where a query may attend to a key; float: added to the scores. Broadcast to (..., L, S). */
  attnMask?: Tensor | null;
  dropoutP?: number;
  /** Each query attends only to keys at or before its position (cannot be combined with attnMask). */
  isCausal?: boolean;
  /** Multiplies the scores; 1 / sqrt(E) by default. */
  scale?: number | null;
}

/** softmax(q k^T * scale + mask) v over (..., L, E) queries, (..., S, E) keys and (..., S, Ev) values. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor {
  return attention(q, k, v, o).output;
}

/** The attention output and its (..., L, S) weights (after dropout), for modules that report them. */
export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): { output: Tensor; weights: Tensor } {
  const op = "scaledDotProductAttention";
  if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2) throw opError(op, `expected (..., L, E) tensors, got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  const E = q.shape[q.dim() - 1];
  const L = q.shape[q.dim() - 2];
  const S = k.shape[k.dim() - 2];
  if (k.shape[k.dim() - 1] !== E) throw opError(op, `query and key must have the same embedding size, got ${fmtShape(q.shape)} and ${fmtShape(k.shape)}`);
  if (v.shape[v.dim() - 2] !== S) throw opError(op, `key and value must have the same sequence length, got ${fmtShape(k.shape)} and ${fmtShape(v.shape)}`);
  if (o.isCausal && o.attnMask) throw opError(op, "pass either attnMask or isCausal, not both");
  const scale = o.scale ?? 1 / Math.sqrt(E);
  let scores = q.matmul(k.transpose(-2, -1)).mul(scale);
  let mask = o.attnMask ?? null;
  if (o.isCausal) mask = ones([L, S], { dtype: "bool", device: q.device }).tril();
  if (mask) {
    if (mask.dtype === "bool") scores = scores.maskedFill(mask.logicalNot(), -Infinity);
    else if (isFloating(mask.dtype)) scores = scores.add(mask);
    else throw opError(op, `attnMask must be bool or floating point, got ${mask.dtype}`);
  }
  let weights = scores.softmax(-1);
  const p = o.dropoutP ?? 0;
  if (p > 0) weights = dropout(weights, { p, training: true });
  return { output: weights.matmul(v), weights };
}
