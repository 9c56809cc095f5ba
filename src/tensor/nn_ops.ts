// Structured ops with their own kernels: softmax family, convolution, pooling, fused losses, batch norm.
// Each records a backward written with other ops (or with a backward kernel where one pass beats composition).
import { isGradEnabled } from "../autograd/grad_mode.js";
import { isFloating } from "../core/dtype.js";
import { fmtShape, opError } from "../core/errors.js";
import { normDim, numelOf } from "../core/shape.js";
import type { Conv2dParams, CrossEntropyParams, Pool2dParams, Reduction } from "../ops/kernels.js";
import { emptyTensor } from "./create.js";
import { pad } from "./pad.js";
import { kernelsFor, needsGrad, record, sameDevice, sameDevices } from "./dispatch.js";
import type { Tensor } from "./tensor.js";

/** Backward passes that run kernels record no graph: refuse createGraph rather than give wrong higher derivatives. */
function firstOrderOnly(op: string): void {
  if (isGradEnabled()) throw opError(op, "double backward (createGraph: true) through this op is not supported yet");
}

function requireFloat(op: string, t: Tensor): void {
  if (!isFloating(t.dtype)) throw opError(op, `expected a floating point tensor, got ${t.dtype}`);
}

export function softmax(t: Tensor, dim: number, log: boolean): Tensor {
  const op = log ? "logSoftmax" : "softmax";
  const x = isFloating(t.dtype) ? t.contiguous() : t.to("float32");
  const d = normDim(op, dim, t.dim());
  const n = t.dim() === 0 ? 1 : t.shape[d];
  const outer = numelOf(t.shape.slice(0, d));
  const inner = numelOf(t.shape.slice(d + 1));
  const out = emptyTensor(t.shape, x.dtype, t.storage.device);
  kernelsFor(t).softmax(x, out, outer, n, inner, log);
  if (needsGrad(t)) {
    record(out, op, [t], (g) => {
      // Under createGraph the gradient itself must be differentiable: compose it from tensor ops.
      if (isGradEnabled()) {
        return [log ? g.sub(out.exp().mul(g.sum(d, { keepdim: true }))) : out.mul(g.sub(g.mul(out).sum(d, { keepdim: true })))];
      }
      return [softmaxBackward(g, out, outer, n, inner, log)];
    }, [out]);
  }
  return out;
}

function softmaxBackward(g: Tensor, y: Tensor, outer: number, n: number, inner: number, log: boolean): Tensor {
  const gc = g.contiguous();
  const gx = emptyTensor(y.shape, y.dtype, y.storage.device);
  kernelsFor(y).softmaxBackward(gc, y, gx, outer, n, inner, log);
  return gx;
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number] | "valid" | "same";
  dilation?: number | [number, number];
  groups?: number;
}

export function pair(op: string, name: string, v: number | readonly number[] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === "number") return [v, v];
  if (v.length !== 2) throw opError(op, `${name} must be a number or a pair, got ${fmtShape(v)}`);
  return [v[0], v[1]];
}

export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, o: Conv2dOptions = {}): Tensor {
  if (x.dim() === 3) return conv2d(x.unsqueeze(0), weight, bias, o).squeeze(0);
  if (x.dim() !== 4) throw opError("conv2d", `expected 3-D or 4-D input (N, C, H, W), got input of shape ${fmtShape(x.shape)}`);
  if (weight.dim() !== 4) throw opError("conv2d", `expected 4-D weight (out, in/groups, kH, kW), got ${fmtShape(weight.shape)}`);
  requireFloat("conv2d", x);
  sameDevices("conv2d", x, weight, bias);
  if (x.dtype !== weight.dtype) throw opError("conv2d", `input (${x.dtype}) and weight (${weight.dtype}) must have the same dtype`);
  const groups = o.groups ?? 1;
  const [N, C, H, W] = x.shape;
  const [OC, CG, KH, KW] = weight.shape;
  if (C !== CG * groups || OC % groups !== 0) {
    throw opError(
      "conv2d",
      `expected input ${fmtShape(x.shape)} to have ${CG * groups} channels (weight ${fmtShape(weight.shape)}, groups=${groups}), but got ${C} channels instead`,
    );
  }
  if (bias && (bias.dim() !== 1 || bias.shape[0] !== OC)) {
    throw opError("conv2d", `bias of shape ${fmtShape(bias.shape)} does not match ${OC} output channels`);
  }
  const [strideH, strideW] = pair("conv2d", "stride", o.stride, 1);
  const [dilH, dilW] = pair("conv2d", "dilation", o.dilation, 1);
  let padH: number;
  let padW: number;
  if (o.padding === "valid") [padH, padW] = [0, 0];
  else if (o.padding === "same") {
    if (strideH !== 1 || strideW !== 1) throw opError("conv2d", "padding='same' is not supported for strided convolutions");
    const th = dilH * (KH - 1);
    const tw = dilW * (KW - 1);
    // An odd total (even kernels such as airbench's 2x2): PyTorch puts the extra row/column at the bottom/right.
    if (th % 2 || tw % 2) return conv2d(pad(x, [tw >> 1, tw - (tw >> 1), th >> 1, th - (th >> 1)]), weight, bias, { ...o, padding: 0 });
    [padH, padW] = [th / 2, tw / 2];
  } else [padH, padW] = pair("conv2d", "padding", o.padding, 0);
  const OH = Math.floor((H + 2 * padH - dilH * (KH - 1) - 1) / strideH) + 1;
  const OW = Math.floor((W + 2 * padW - dilW * (KW - 1) - 1) / strideW) + 1;
  if (OH <= 0 || OW <= 0) {
    throw opError("conv2d", `calculated output size ${OH}x${OW} is too small: input ${H}x${W}, kernel ${KH}x${KW} (padding ${padH}, dilation ${dilH})`);
  }
  const p: Conv2dParams = { N, C, H, W, OC, KH, KW, strideH, strideW, padH, padW, dilH, dilW, groups, OH, OW };
  const xc = x.contiguous();
  const wc = weight.contiguous();
  const bc = bias ? bias.contiguous() : null;
  const out = emptyTensor([N, OC, OH, OW], x.dtype, x.storage.device);
  const k = kernelsFor(x);
  k.conv2d(xc, wc, bc, out, p);
  if (needsGrad(x, weight, bias)) {
    record(
      out,
      "conv2d",
      [x, weight, bias ?? null],
      (g) => {
        firstOrderOnly("conv2d");
        const gc = g.contiguous();
        const gx = x.requiresGrad ? emptyTensor(x.shape, x.dtype, x.storage.device) : null;
        const gw = weight.requiresGrad ? emptyTensor(weight.shape, weight.dtype, weight.storage.device) : null;
        const gb = bias?.requiresGrad ? emptyTensor(bias.shape, bias.dtype, bias.storage.device) : null;
        kernelsFor(g).conv2dBackward(gc, xc, wc, gx, gw, gb, p);
        return [gx, gw, gb];
      },
      [xc, wc],
    );
  }
  return out;
}

export interface Pool2dOptions {
  stride?: number | [number, number] | null;
  padding?: number | [number, number];
  dilation?: number | [number, number];
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

function poolSize(op: string, inp: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = inp + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((ceil ? span + s - 1 : span) / s) + 1;
  // A window that would start inside the right padding is dropped (PyTorch's rule for ceil_mode).
  if (ceil && (out - 1) * s >= inp + p) out--;
  if (out <= 0) throw opError(op, `output size is too small (input ${inp}, kernel ${k}, stride ${s}, padding ${p})`);
  return out;
}

function poolParams(op: string, x: Tensor, kernel: number | [number, number], o: Pool2dOptions): Pool2dParams {
  if (x.dim() !== 4) throw opError(op, `expected 4-D input (N, C, H, W), got ${fmtShape(x.shape)}`);
  const [N, C, H, W] = x.shape;
  const [KH, KW] = pair(op, "kernelSize", kernel, 1);
  const [strideH, strideW] = o.stride === undefined || o.stride === null ? [KH, KW] : pair(op, "stride", o.stride, 1);
  const [padH, padW] = pair(op, "padding", o.padding, 0);
  const [dilH, dilW] = pair(op, "dilation", o.dilation, 1);
  if (padH > KH / 2 || padW > KW / 2) {
    throw opError(op, `pad should be at most half of effective kernel size, but got pad=${padH}, kernel_size=${KH}`);
  }
  const ceil = o.ceilMode ?? false;
  return {
    N, C, H, W, KH, KW, strideH, strideW, padH, padW, dilH, dilW,
    OH: poolSize(op, H, KH, strideH, padH, dilH, ceil),
    OW: poolSize(op, W, KW, strideW, padW, dilW, ceil),
    countIncludePad: o.countIncludePad ?? true,
    divisorOverride: o.divisorOverride ?? 0,
  };
}

export function maxPool2d(x: Tensor, kernel: number | [number, number], o: Pool2dOptions = {}): [Tensor, Tensor] {
  if (x.dim() === 3) {
    const [v, i] = maxPool2d(x.unsqueeze(0), kernel, o);
    return [v.squeeze(0), i.squeeze(0)];
  }
  requireFloat("maxPool2d", x);
  const p = poolParams("maxPool2d", x, kernel, o);
  const xc = x.contiguous();
  const out = emptyTensor([p.N, p.C, p.OH, p.OW], x.dtype, x.storage.device);
  const indices = emptyTensor([p.N, p.C, p.OH, p.OW], "int32", x.storage.device);
  kernelsFor(x).maxPool2d(xc, out, indices, p);
  if (needsGrad(x)) {
    record(out, "maxPool2d", [x], (g) => {
      firstOrderOnly("maxPool2d");
      const gx = emptyTensor(x.shape, g.dtype, g.storage.device);
      kernelsFor(g).maxPool2dBackward(g.contiguous(), indices, gx, p);
      return [gx];
    });
  }
  return [out, indices];
}

/** maxPool2d with PyTorch's int64 indices, for callers that see them (returnIndices). */
export function maxPool2dWithIndices(x: Tensor, kernel: number | [number, number], o: Pool2dOptions = {}): [Tensor, Tensor] {
  const [out, indices] = maxPool2d(x, kernel, o);
  return [out, indices.to("int64")];
}

export function avgPool2d(x: Tensor, kernel: number | [number, number], o: Pool2dOptions = {}): Tensor {
  if (x.dim() === 3) return avgPool2d(x.unsqueeze(0), kernel, o).squeeze(0);
  requireFloat("avgPool2d", x);
  const p = poolParams("avgPool2d", x, kernel, { ...o, dilation: 1 });
  const out = emptyTensor([p.N, p.C, p.OH, p.OW], x.dtype, x.storage.device);
  kernelsFor(x).avgPool2d(x.contiguous(), out, p);
  if (needsGrad(x)) {
    record(out, "avgPool2d", [x], (g) => {
      firstOrderOnly("avgPool2d");
      const gx = emptyTensor(x.shape, g.dtype, g.storage.device);
      kernelsFor(g).avgPool2dBackward(g.contiguous(), gx, p);
      return [gx];
    });
  }
  return out;
}

export interface LossOptions {
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}

function lossParams(op: string, input: Tensor, target: Tensor, o: LossOptions): CrossEntropyParams {
  if (input.dim() !== 2) {
    throw opError(op, `expected input of shape (N, C), got ${fmtShape(input.shape)} `);
  }
  if (target.dim() !== 1 || target.shape[0] !== input.shape[0]) {
    throw opError(op, `expected target of shape [${input.shape[0]}] (class indices for input ${fmtShape(input.shape)}), got ${fmtShape(target.shape)}`);
  }
  if (target.isFloatingPoint() || target.dtype === "bool") {
    throw opError(op, `expected target of class indices with dtype int64 or int32, got ${target.dtype} (class probabilities are not supported yet)`);
  }
  const reduction = o.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none") {
    throw opError(op, `reduction must be "mean", "sum" or "none", got ${String(reduction)}`);
  }
  const labelSmoothing = o.labelSmoothing ?? 0;
  if (labelSmoothing < 0 || labelSmoothing > 1) throw opError(op, `labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  return { ignoreIndex: o.ignoreIndex ?? -100, labelSmoothing, reduction };
}

/** Fused log-softmax + NLL: one pass computes the loss and, when needed, its gradient. */
/** (N, C, d1, ...) inputs become (N*d1*..., C) rows; "none" losses are shaped back like the target. */
function flattenSpatial(
  input: Tensor, target: Tensor, o: LossOptions, fn: (x: Tensor, t: Tensor, o: LossOptions) => Tensor,
): Tensor {
  const C = input.shape[1];
  const perm = [0, ...input.shape.slice(2).map((_, i) => i + 2), 1];
  const loss = fn(input.permute(perm).reshape([-1, C]), target.reshape([-1]), o);
  return (o.reduction ?? "mean") === "none" ? loss.reshape(target.shape) : loss;
}

export function crossEntropy(input: Tensor, target: Tensor, o: LossOptions = {}): Tensor {
  if (input.dim() > 2 && target.dim() === input.dim() - 1) return flattenSpatial(input, target, o, crossEntropy);
  requireFloat("crossEntropy", input);
  sameDevice("crossEntropy", input, target);
  const p = lossParams("crossEntropy", input, target, o);
  const x = input.contiguous();
  const t = target.contiguous();
  const loss = emptyTensor(p.reduction === "none" ? [input.shape[0]] : [], input.dtype, input.storage.device);
  const grad = needsGrad(input) ? emptyTensor(input.shape, input.dtype, input.storage.device) : null;
  kernelsFor(input).crossEntropy(x, t, loss, grad, p);
  if (grad) {
    record(loss, "crossEntropy", [input], (g) => {
      firstOrderOnly("crossEntropy");
      return [p.reduction === "none" ? grad.mul(g.unsqueeze(1)) : grad.mul(g)];
    });
  }
  return loss;
}

export function nllLoss(input: Tensor, target: Tensor, o: LossOptions = {}): Tensor {
  if (input.dim() > 2 && target.dim() === input.dim() - 1) return flattenSpatial(input, target, o, nllLoss);
  requireFloat("nllLoss", input);
  sameDevice("nllLoss", input, target);
  const p = lossParams("nllLoss", input, target, { ...o, labelSmoothing: 0 });
  const t = target.contiguous();
  const loss = emptyTensor(p.reduction === "none" ? [input.shape[0]] : [], input.dtype, input.storage.device);
  kernelsFor(input).nllLoss(input.contiguous(), t, loss, p);
  if (needsGrad(input)) {
    record(loss, "nllLoss", [input], (g) => {
      firstOrderOnly("nllLoss");
      const gx = emptyTensor(input.shape, input.dtype, input.storage.device);
      kernelsFor(g).nllLossBackward(t, gx, g.contiguous(), p);
      return [gx];
    });
  }
  return loss;
}

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

export function batchNorm(
  x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null, bias: Tensor | null,
  o: BatchNormOptions = {},
): Tensor {
  requireFloat("batchNorm", x);
  sameDevices("batchNorm", x, weight, bias, runningMean, runningVar);
  if (x.dim() < 2) throw opError("batchNorm", `expected at least 2-D input (N, C, ...), got ${fmtShape(x.shape)}`);
  const [N, C] = x.shape;
  const HW = numelOf(x.shape.slice(2));
  weight = weight && !weight.isContiguous() ? weight.contiguous() : weight;
  bias = bias && !bias.isContiguous() ? bias.contiguous() : bias;
  for (const [name, t] of [["weight", weight], ["bias", bias], ["runningMean", runningMean], ["runningVar", runningVar]] as const) {
    // Running statistics are updated in place, so they must be the caller's own contiguous buffers.
    if (t && (t.numel() !== C || !t.isContiguous())) {
      throw opError("batchNorm", `${name} must be a contiguous tensor of ${C} elements (one per channel), got ${fmtShape(t.shape)}`);
    }
  }
  const training = o.training ?? false;
  if (!training && (!runningMean || !runningVar)) throw opError("batchNorm", "running statistics are required in eval mode");
  if (training && N * HW <= 1) {
    throw opError("batchNorm", `expected more than 1 value per channel when training, got input size ${fmtShape(x.shape)}`);
  }
  const p = { N, C, HW, training, momentum: o.momentum ?? 0.1, eps: o.eps ?? 1e-5 };
  const xc = x.contiguous();
  const out = emptyTensor(x.shape, x.dtype, x.storage.device);
  const saveMean = emptyTensor([C], x.dtype, x.storage.device);
  const saveInvstd = emptyTensor([C], x.dtype, x.storage.device);
  kernelsFor(x).batchNorm(xc, weight, bias, runningMean, runningVar, out, saveMean, saveInvstd, p);
  if (runningMean) runningMean.storage.version++;
  if (runningVar) runningVar.storage.version++;
  if (needsGrad(x, weight, bias)) {
    record(
      out,
      "batchNorm",
      [x, weight, bias],
      (g) => {
        firstOrderOnly("batchNorm");
        const gx = emptyTensor(x.shape, x.dtype, x.storage.device);
        const gw = weight?.requiresGrad ? emptyTensor([C], x.dtype, x.storage.device) : null;
        const gb = bias?.requiresGrad ? emptyTensor([C], x.dtype, x.storage.device) : null;
        kernelsFor(g).batchNormBackward(g.contiguous(), xc, weight, saveMean, saveInvstd, gx, gw, gb, p);
        return [x.requiresGrad ? gx : null, gw, gb];
      },
      weight ? [xc, weight] : [xc],
    );
  }
  return out;
}
