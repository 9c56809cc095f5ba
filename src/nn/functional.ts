// torch.nn.functional: PyTorch's positional arguments first, keyword arguments in a trailing options object.
import { opError } from "../core/errors.js";
import { rand } from "../tensor/factories.js";
import { linear as linearOp } from "../tensor/linalg.js";
import * as ops from "../tensor/nn_ops.js";
import { pad as padOp, type PadOptions } from "../tensor/pad.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Reduction } from "../ops/kernels.js";
import { compositeCrossEntropy, reduce, weightedNllLoss } from "./functional_loss.js";

export type { Conv2dOptions, Pool2dOptions, LossOptions, BatchNormOptions } from "../tensor/nn_ops.js";

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o?: ops.Conv2dOptions): Tensor {
  return ops.conv2d(x, weight, bias ?? null, o);
}

export interface MaxPoolOptions extends ops.Pool2dOptions {
  returnIndices?: boolean;
}

/** maxPool2d(x, 2) / maxPool2d(x, 2, 2) / maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }). */
export function maxPool2d(x: Tensor, kernelSize: number | [number, number], stride?: number | [number, number] | MaxPoolOptions, o: MaxPoolOptions = {}): Tensor {
  const opts = typeof stride === "object" && !Array.isArray(stride) ? stride : { ...o, stride: stride ?? o.stride };
  return ops.maxPool2d(x, kernelSize, opts)[0];
}

/** maxPool2d that also returns the argmax indices (PyTorch's return_indices=True). */
export function maxPool2dWithIndices(x: Tensor, kernelSize: number | [number, number], o: ops.Pool2dOptions = {}): [Tensor, Tensor] {
  return ops.maxPool2dWithIndices(x, kernelSize, o);
}

export function avgPool2d(x: Tensor, kernelSize: number | [number, number], stride?: number | [number, number] | ops.Pool2dOptions, o: ops.Pool2dOptions = {}): Tensor {
  const opts = typeof stride === "object" && !Array.isArray(stride) ? stride : { ...o, stride: stride ?? o.stride };
  return ops.avgPool2d(x, kernelSize, opts);
}

export type { PadMode, PadOptions } from "../tensor/pad.js";

/** F.pad(x, [left, right, top, bottom, ...], { mode: "constant" | "reflect" | "replicate" | "circular", value }). */
export function pad(x: Tensor, padding: readonly number[], o?: PadOptions): Tensor {
  return padOp(x, padding, o);
}

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return linearOp(x, weight, bias ?? null);
}

export const relu = (x: Tensor): Tensor => x.relu();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const tanh = (x: Tensor): Tensor => x.tanh();

export function gelu(x: Tensor, o: { approximate?: "none" | "tanh" } = {}): Tensor {
  if ((o.approximate ?? "none") === "none") return x.gelu();
  if (o.approximate !== "tanh") throw opError("gelu", `approximate must be "none" or "tanh", got ${String(o.approximate)}`);
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(inner.tanh().add(1));
}

export function softmax(x: Tensor, dim: number): Tensor {
  return x.softmax(dim);
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  return x.logSoftmax(dim);
}

export function dropout(x: Tensor, o: { p?: number; training?: boolean } = {}): Tensor {
  const p = o.p ?? 0.5;
  if (p < 0 || p > 1) throw opError("dropout", `probability has to be between 0 and 1, but got ${p}`);
  if (!(o.training ?? true) || p === 0) return x;
  if (p === 1) return x.mul(0);
  const keep = rand(x.shape, { dtype: x.isFloatingPoint() ? x.dtype : "float32", device: x.device }).lt(1 - p);
  return x.mul(keep.to(x.dtype).mul(1 / (1 - p)));
}

export function batchNorm(
  x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null,
  o: ops.BatchNormOptions & { weight?: Tensor | null; bias?: Tensor | null } = {},
): Tensor {
  return ops.batchNorm(x, runningMean, runningVar, o.weight ?? null, o.bias ?? null, o);
}

export function crossEntropy(input: Tensor, target: Tensor, o?: ClassLossOptions): Tensor {
  // Class weights and class-probability targets take the composite path; plain class indices the fused kernel.
  if (o?.weight || target.isFloatingPoint()) return compositeCrossEntropy(input, target, o ?? {});
  return ops.crossEntropy(input, target, o);
}

export function nllLoss(input: Tensor, target: Tensor, o?: ClassLossOptions): Tensor {
  if (o?.weight) return weightedNllLoss(input, target, o);
  return ops.nllLoss(input, target, o);
}

/** The fused losses' options plus class weights (one per class). */
export interface ClassLossOptions extends ops.LossOptions {
  weight?: Tensor | null;
}


export function mseLoss(input: Tensor, target: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  if (input.shape.join() !== target.shape.join()) {
    process.emitWarning(
      `mseLoss: using a target size ([${target.shape}]) that is different to the input size ([${input.shape}]); ` +
        "this will likely lead to incorrect results due to broadcasting",
    );
  }
  const d = input.sub(target);
  return reduce("mseLoss", d.mul(d), o.reduction);
}

export function l1Loss(input: Tensor, target: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  return reduce("l1Loss", input.sub(target).abs(), o.reduction);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  return x.flatten(startDim, endDim);
}

export { leakyRelu, silu, softplus, hardswish, dropout2d } from "./functional_activation.js";
export { layerNorm, groupNorm, normalize } from "./functional_norm.js";
export {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, smoothL1Loss, huberLoss, klDiv, type BCEOptions, type KLDivReduction,
} from "./functional_loss.js";
export {
  conv1d, convTranspose2d, adaptiveAvgPool2d, interpolate,
  type Conv1dOptions, type ConvTranspose2dOptions, type InterpolateMode, type InterpolateOptions,
} from "./functional_conv.js";
export { oneHot, embedding, scaledDotProductAttention, type AttentionOptions, type EmbeddingOptions } from "./functional_attention.js";
