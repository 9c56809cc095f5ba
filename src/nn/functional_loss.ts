// Losses composed from tensor ops: the binary cross-entropies, smooth L1 / Huber, KL divergence, and the
// cross-entropy / NLL forms the fused kernels don't cover (class weights, class-probability targets).
import { fmtShape, opError } from "../core/errors.js";
import { arange } from "../tensor/factories.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Reduction } from "../ops/kernels.js";

export type KLDivReduction = Reduction | "batchmean";

/** A per-element loss reduced as `reduction` asks (PyTorch's default is the mean). */
export function reduce(op: string, loss: Tensor, reduction: Reduction | undefined): Tensor {
  switch (reduction ?? "mean") {
    case "mean":
      return loss.mean();
    case "sum":
      return loss.sum();
    case "none":
      return loss;
    default:
      throw opError(op, `reduction must be "mean", "sum" or "none", got ${String(reduction)}`);
  }
}

function sameShapeAs(op: string, input: Tensor, target: Tensor): void {
  if (fmtShape(input.shape) !== fmtShape(target.shape)) {
    throw opError(op, `Using a target size (${fmtShape(target.shape)}) that is different to the input size (${fmtShape(input.shape)}) is deprecated. Please ensure they have the same size.`);
  }
}

/** log(1 + exp(z)) without overflow. */
function softplus(z: Tensor): Tensor {
  return z.relu().add(z.abs().neg().exp().add(1).log());
}

export interface BCEOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
}

/** -(t log x + (1 - t) log(1 - x)) with the logs clamped at -100, as PyTorch does; input holds probabilities. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, o: BCEOptions = {}): Tensor {
  sameShapeAs("binaryCrossEntropy", input, target);
  const logX = input.log().clamp(-100);
  const log1mX = input.neg().add(1).log().clamp(-100);
  let loss = target.mul(logX).add(target.neg().add(1).mul(log1mX)).neg();
  if (o.weight) loss = loss.mul(o.weight);
  return reduce("binaryCrossEntropy", loss, o.reduction);
}

/** Sigmoid + binary cross-entropy in the stable form; posWeight (broadcast over the class dim) weighs positives. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, o: BCEOptions & { posWeight?: Tensor | null } = {}): Tensor {
  sameShapeAs("binaryCrossEntropyWithLogits", input, target);
  const spNeg = softplus(input.neg());
  let loss: Tensor;
  if (o.posWeight) {
    const lw = o.posWeight.sub(1).mul(target).add(1);
    loss = target.neg().add(1).mul(input).add(lw.mul(spNeg));
  } else {
    loss = target.neg().add(1).mul(input).add(spNeg);
  }
  if (o.weight) loss = loss.mul(o.weight);
  return reduce("binaryCrossEntropyWithLogits", loss, o.reduction);
}

/** 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (beta = 0 is L1). */
export function smoothL1Loss(input: Tensor, target: Tensor, o: { reduction?: Reduction; beta?: number } = {}): Tensor {
  const beta = o.beta ?? 1;
  if (beta < 0) throw opError("smoothL1Loss", `beta must be non-negative, got ${beta}`);
  const d = input.sub(target);
  const a = d.abs();
  if (beta === 0) return reduce("smoothL1Loss", a, o.reduction);
  const loss = d.mul(d).mul(0.5 / beta).where(a.lt(beta), a.sub(0.5 * beta));
  return reduce("smoothL1Loss", loss, o.reduction);
}

/** 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere. */
export function huberLoss(input: Tensor, target: Tensor, o: { reduction?: Reduction; delta?: number } = {}): Tensor {
  const delta = o.delta ?? 1;
  if (!(delta > 0)) throw opError("huberLoss", `delta must be positive, got ${delta}`);
  const d = input.sub(target);
  const a = d.abs();
  const loss = d.mul(d).mul(0.5).where(a.lt(delta), a.sub(0.5 * delta).mul(delta));
  return reduce("huberLoss", loss, o.reduction);
}

/**
 * KL(target || exp(input)) pointwise: target (log target - input), 0 where target is 0; with logTarget the target
 * holds log-probabilities. "batchmean" divides the sum by the batch size (the mathematically correct KL).
 */
export function klDiv(input: Tensor, target: Tensor, o: { reduction?: KLDivReduction; logTarget?: boolean } = {}): Tensor {
  let loss: Tensor;
  if (o.logTarget) loss = target.exp().mul(target.sub(input));
  else {
    const pos = target.gt(0);
    // log of a masked-in 1 where target is 0, so neither the value nor its gradient sees log(0).
    const safeLog = target.where(pos, 1).log();
    loss = target.mul(safeLog.sub(input)).where(pos, 0);
  }
  const reduction = o.reduction ?? "mean";
  if (reduction === "batchmean") return input.dim() === 0 ? loss.sum() : loss.sum().div(input.shape[0]);
  return reduce("klDiv", loss, reduction);
}

export interface WeightedClassLossOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}

/** (N, C, d1, ...) → (N*d1*..., C) rows with the class dim last; 1-D input is one sample. */
function classRows(op: string, input: Tensor): Tensor {
  if (input.dim() === 1) return input.unsqueeze(0);
  if (input.dim() < 1) throw opError(op, `expected input of shape (N, C) or (N, C, d1, ...), got ${fmtShape(input.shape)}`);
  if (input.dim() === 2) return input;
  const perm = [0, ...input.shape.slice(2).map((_, i) => i + 2), 1];
  return input.permute(perm).reshape([-1, input.shape[1]]);
}

function checkWeight(op: string, weight: Tensor | null | undefined, C: number): void {
  if (weight && (weight.dim() !== 1 || weight.shape[0] !== C)) {
    throw opError(op, `weight must be a 1-D tensor of ${C} class weights, got ${fmtShape(weight.shape)}`);
  }
}

/**
 * Negative log-likelihood of class indices with optional class weights: loss_i = -w[y_i] logp[i, y_i]; "mean"
 * divides by the summed weights of the non-ignored targets, as PyTorch does. `smooth` adds label smoothing.
 */
function weightedNll(op: string, logp: Tensor, target: Tensor, o: WeightedClassLossOptions): Tensor {
  const C = logp.shape[logp.dim() === 1 ? 0 : 1];
  const rows = classRows(op, logp);
  const t = target.reshape([-1]);
  if (t.shape[0] !== rows.shape[0]) {
    throw opError(op, `expected target of shape ${fmtShape(logp.dim() === 1 ? [] : [logp.shape[0], ...logp.shape.slice(2)])} for input ${fmtShape(logp.shape)}, got ${fmtShape(target.shape)}`);
  }
  checkWeight(op, o.weight, C);
  const ignore = o.ignoreIndex ?? -100;
  if (t.dtype === "bool") throw opError(op, "expected target of class indices with dtype int64 or int32, got bool");
  if (t.numel() > 0 && t.device !== "meta") {
    // Range check over the targets that are not ignored (reads them; a meta tensor has none to read).
    const kept = t.where(t.ne(ignore), 0);
    const [lo, hi] = [kept.min().item(), kept.max().item()];
    if (lo < 0 || hi >= C) {
      throw opError(op, `target ${lo < 0 ? lo : hi} is out of bounds: class indices must be in [0, ${C - 1}] (or ignoreIndex ${ignore})`);
    }
  }
  // One-hot rows of the targets; an ignored target's row is all zeros (so are out-of-range ones).
  const valid = t.ne(ignore).to(rows.dtype);
  const hot = t.unsqueeze(1).eq(arange(C, { device: rows.device }).unsqueeze(0)).to(rows.dtype).mul(valid.unsqueeze(1));
  const w = o.weight ? o.weight.to(rows.dtype) : null;
  const wy = w ? hot.mul(w).sum(1) : valid; // w[y_i], 0 for ignored rows
  let loss = hot.mul(rows).sum(1).mul(wy).neg();
  const eps = o.labelSmoothing ?? 0;
  if (eps > 0) {
    const smooth = (w ? rows.mul(w) : rows).sum(1).neg().mul(valid);
    loss = loss.mul(1 - eps).add(smooth.mul(eps / C));
  }
  const reduction = o.reduction ?? "mean";
  if (reduction === "none") return logp.dim() === 1 ? loss.squeeze(0) : loss.reshape(target.shape);
  if (reduction === "sum") return loss.sum();
  if (reduction === "mean") return loss.sum().div(wy.sum());
  throw opError(op, `reduction must be "mean", "sum" or "none", got ${String(reduction)}`);
}

/** nllLoss with class weights, over (N, C) or (N, C, d1, ...) log-probabilities. */
export function weightedNllLoss(input: Tensor, target: Tensor, o: WeightedClassLossOptions): Tensor {
  return weightedNll("nllLoss", input, target, { ...o, labelSmoothing: 0 });
}

/**
 * crossEntropy for the cases beyond the fused kernel: class weights, or target holding class probabilities (same
 * shape as input, floating point): loss_i = -sum_c w_c t_ic logp_ic, "mean" dividing by the number of samples.
 */
export function compositeCrossEntropy(input: Tensor, target: Tensor, o: WeightedClassLossOptions): Tensor {
  const op = "crossEntropy";
  if (input.dim() < 1) throw opError(op, `expected input of shape (N, C) or (C), got ${fmtShape(input.shape)}`);
  const classDim = input.dim() === 1 ? 0 : 1;
  const logp = input.logSoftmax(classDim);
  if (!target.isFloatingPoint()) return weightedNll(op, logp, target, o);
  if (fmtShape(target.shape) !== fmtShape(input.shape)) {
    throw opError(
      op,
      `a floating point target holds class probabilities and must have the input's shape ${fmtShape(input.shape)}, got ` +
        `${fmtShape(target.shape)}; for class indices pass an int64 target (got ${target.dtype})`,
    );
  }
  if (o.ignoreIndex !== undefined && o.ignoreIndex !== -100) {
    throw opError(op, "ignoreIndex is only applicable when the target contains class indices");
  }
  const C = input.shape[classDim];
  checkWeight(op, o.weight, C);
  const eps = o.labelSmoothing ?? 0;
  let t = target.to(input.dtype);
  if (eps > 0) t = t.mul(1 - eps).add(eps / C);
  let prod = t.mul(logp);
  if (o.weight) prod = prod.mul(o.weight.reshape([C, ...input.shape.slice(classDim + 1).map(() => 1)]));
  const loss = prod.sum(classDim).neg();
  const reduction = o.reduction ?? "mean";
  if (reduction === "mean") return input.dim() === 1 ? loss : loss.sum().div(loss.numel());
  return reduce(op, loss, reduction);
}
