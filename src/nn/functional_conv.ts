// conv1d and convTranspose2d on top of the conv2d kernel, adaptive average pooling and interpolate as small
// matrix products or gathers: composites of differentiable ops, so forward, backward and the meta device come free.
import { fmtShape, opError } from "../core/errors.js";
import { tensor } from "../tensor/create.js";
import { convTranspose2dKernel } from "../tensor/conv_transpose.js";
import { avgPool2d, conv2d } from "../tensor/nn_ops.js";
import { pad } from "../tensor/pad.js";
import type { Tensor } from "../tensor/tensor.js";

type Pair = number | readonly number[];

function nums(op: string, name: string, v: Pair | undefined, n: number, dflt: number): number[] {
  if (v === undefined) return Array(n).fill(dflt);
  if (typeof v === "number") return Array(n).fill(v);
  if (v.length !== n) throw opError(op, `${name} must be a number or ${n} numbers, got ${fmtShape(v)}`);
  return [...v];
}

export interface Conv1dOptions {
  stride?: number | [number];
  padding?: number | [number] | "valid" | "same";
  dilation?: number | [number];
  groups?: number;
}

/** 1-D convolution of (N, C, L) or (C, L) input with (out, in/groups, k) weight: conv2d over a height of 1. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: Conv1dOptions = {}): Tensor {
  if (x.dim() === 2) return conv1d(x.unsqueeze(0), weight, bias, o).squeeze(0);
  if (x.dim() !== 3) throw opError("conv1d", `expected 2-D or 3-D input (N, C, L), got input of shape ${fmtShape(x.shape)}`);
  if (weight.dim() !== 3) throw opError("conv1d", `expected 3-D weight (out, in/groups, k), got ${fmtShape(weight.shape)}`);
  const [s] = nums("conv1d", "stride", o.stride, 1, 1);
  const [d] = nums("conv1d", "dilation", o.dilation, 1, 1);
  const padding = typeof o.padding === "string" ? o.padding : ([0, nums("conv1d", "padding", o.padding, 1, 0)[0]] as [number, number]);
  return conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias ?? null, { stride: [1, s], dilation: [1, d], padding, groups: o.groups ?? 1 }).squeeze(2);
}

export interface ConvTranspose2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  outputPadding?: number | [number, number];
  groups?: number;
  dilation?: number | [number, number];
}

/** Inserts s - 1 zeros between neighbours along dim (s = 1: unchanged). */
function spread(x: Tensor, dim: number, s: number): Tensor {
  if (s === 1) return x;
  const n = x.shape[dim];
  const y = x.unsqueeze(dim + 1);
  const padSpec = Array(2 * (y.dim() - 1 - (dim + 1))).fill(0).concat([0, s - 1]);
  const shape = x.shape.slice();
  shape[dim] = n * s;
  return pad(y, padSpec).reshape(shape).narrow(dim, 0, (n - 1) * s + 1);
}

/**
 * The transpose (gradient) of conv2d: (N, Cin, H, W) input, (Cin, Cout/groups, kH, kW) weight, output
 * (H - 1) stride - 2 padding + dilation (k - 1) + outputPadding + 1 per side. Runs on conv2d's own kernels (see
 * tensor/conv_transpose.ts); an outputPadding not below its stride takes a stride-1 convolution of the zero-spread,
 * padded input with the flipped, group-transposed weight.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvTranspose2dOptions = {}): Tensor {
  const op = "convTranspose2d";
  if (x.dim() === 3) return convTranspose2d(x.unsqueeze(0), weight, bias, o).squeeze(0);
  if (x.dim() !== 4) throw opError(op, `expected 3-D or 4-D input (N, C, H, W), got input of shape ${fmtShape(x.shape)}`);
  if (weight.dim() !== 4) throw opError(op, `expected 4-D weight (in, out/groups, kH, kW), got ${fmtShape(weight.shape)}`);
  const groups = o.groups ?? 1;
  const [Cin, CoutG, kH, kW] = weight.shape;
  if (x.shape[1] !== Cin || Cin % groups !== 0) {
    throw opError(op, `expected input ${fmtShape(x.shape)} to have ${Cin} channels (weight ${fmtShape(weight.shape)}, groups=${groups}), but got ${x.shape[1]} channels instead`);
  }
  const stride = nums(op, "stride", o.stride, 2, 1);
  const padding = nums(op, "padding", o.padding, 2, 0);
  const outPad = nums(op, "outputPadding", o.outputPadding, 2, 0);
  const dilation = nums(op, "dilation", o.dilation, 2, 1);
  for (let i = 0; i < 2; i++) {
    if (outPad[i] >= stride[i] && outPad[i] >= dilation[i]) {
      throw opError(op, `outputPadding must be smaller than either stride or dilation, but got outputPadding=${outPad[i]}, stride=${stride[i]}, dilation=${dilation[i]}`);
    }
  }
  const k = [kH, kW];
  const size = [0, 1].map((i) => (x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + outPad[i] + 1);
  if (size.some((s) => s <= 0)) throw opError(op, `calculated output size ${size.join("x")} is too small for input ${fmtShape(x.shape)}`);
  if (!x.isFloatingPoint()) throw opError(op, `expected a floating point tensor, got ${x.dtype}`);
  if (bias && (bias.dim() !== 1 || bias.shape[0] !== CoutG * groups)) {
    throw opError(op, `bias of shape ${fmtShape(bias.shape)} does not match ${CoutG * groups} output channels`);
  }
  if (outPad[0] < stride[0] && outPad[1] < stride[1]) {
    const y = convTranspose2dKernel(x, weight, {
      stride: [stride[0], stride[1]], padding: [padding[0], padding[1]], dilation: [dilation[0], dilation[1]], groups, outSize: [size[0], size[1]],
    });
    return bias ? y.add(bias.reshape([1, -1, 1, 1])) : y;
  }
  // outputPadding at or beyond the stride (allowed below the dilation): the convolution of the zero-spread input.
  const spreadX = spread(spread(x, 2, stride[0]), 3, stride[1]);
  const q = [0, 1].map((i) => dilation[i] * (k[i] - 1) - padding[i]);
  // Negative amounts crop (F.pad's constant mode takes them), which is what padding beyond dilation*(k-1) means.
  const padded = pad(spreadX, [q[1], q[1] + outPad[1], q[0], q[0] + outPad[0]]);
  const w = weight
    .reshape([groups, Cin / groups, CoutG, kH, kW])
    .transpose(1, 2)
    .reshape([groups * CoutG, Cin / groups, kH, kW])
    .flip(2, 3);
  return conv2d(padded, w, bias ?? null, { dilation: [dilation[0], dilation[1]], groups });
}

/** Row i averages input positions [floor(i in / out), ceil((i + 1) in / out)): PyTorch's adaptive bins. */
function binMatrix(inp: number, out: number, like: Tensor): Tensor {
  const m = new Float64Array(out * inp);
  for (let i = 0; i < out; i++) {
    const a = Math.floor((i * inp) / out);
    const b = Math.ceil(((i + 1) * inp) / out);
    for (let j = a; j < b; j++) m[i * inp + j] = 1 / (b - a);
  }
  return tensor(m, { dtype: like.dtype, device: like.device }).reshape([out, inp]);
}

/** Average pooling to a fixed output size (null keeps that dim's input size) over (N, C, H, W) or (C, H, W). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  const op = "adaptiveAvgPool2d";
  if (x.dim() !== 3 && x.dim() !== 4) throw opError(op, `expected 3-D or 4-D input (N, C, H, W), got ${fmtShape(x.shape)}`);
  if (!x.isFloatingPoint()) throw opError(op, `expected a floating point tensor, got ${x.dtype}`);
  const [H, W] = x.shape.slice(-2);
  const req = typeof outputSize === "number" ? [outputSize, outputSize] : nums(op, "outputSize", outputSize.map((v, i) => v ?? [H, W][i]), 2, 0);
  const [oh, ow] = req;
  if (!(oh > 0 && ow > 0)) throw opError(op, `outputSize must be positive, got ${fmtShape(req)}`);
  if (oh === 1 && ow === 1) return x.mean([-2, -1], { keepdim: true });
  if (H % oh === 0 && W % ow === 0) return avgPool2d(x, [H / oh, W / ow]);
  return binMatrix(H, oh, x).matmul(x).matmul(binMatrix(W, ow, x).t());
}

export type InterpolateMode = "nearest" | "linear" | "bilinear";

export interface InterpolateOptions {
  size?: number | readonly number[];
  scaleFactor?: number | readonly number[];
  mode?: InterpolateMode;
  alignCorners?: boolean;
  /** Compute the source positions from the output size instead of from scaleFactor. */
  recomputeScaleFactor?: boolean;
}

/** Source index of each output position, PyTorch's nearest rule (in float32 arithmetic, as its kernel does). */
function nearestIndex(inp: number, out: number, scale: number): number[] {
  const f = Math.fround(scale);
  return Array.from({ length: out }, (_, i) => Math.min(Math.floor(Math.fround(i * f)), inp - 1));
}

/** The [out, inp] matrix of linear interpolation weights for one dim. */
function linearMatrix(inp: number, out: number, scale: number, alignCorners: boolean, like: Tensor): Tensor {
  const m = new Float64Array(out * inp);
  for (let i = 0; i < out; i++) {
    const src = alignCorners ? i * scale : Math.max(scale * (i + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inp - 1);
    const i1 = i0 + (i0 < inp - 1 ? 1 : 0);
    const l1 = src - i0;
    m[i * inp + i0] += 1 - l1;
    m[i * inp + i1] += l1;
  }
  return tensor(m, { dtype: like.dtype, device: like.device }).reshape([out, inp]);
}

/** Resizes the spatial dims of (N, C, L) or (N, C, H, W) input: nearest, linear (3-D) or bilinear (4-D). */
export function interpolate(x: Tensor, o: InterpolateOptions = {}): Tensor {
  const op = "interpolate";
  const mode = o.mode ?? "nearest";
  const nd = x.dim() - 2;
  if (nd < 1 || nd > 2) throw opError(op, `expected 3-D (N, C, L) or 4-D (N, C, H, W) input, got ${fmtShape(x.shape)}`);
  if (mode !== "nearest" && mode !== "linear" && mode !== "bilinear") {
    throw opError(op, `mode '${String(mode)}' is not supported; use "nearest", "linear" (3-D input) or "bilinear" (4-D input)`);
  }
  if ((mode === "linear" && nd !== 1) || (mode === "bilinear" && nd !== 2)) {
    throw opError(op, `mode '${mode}' expects ${mode === "linear" ? "3-D" : "4-D"} input, got ${x.dim()}-D`);
  }
  if (mode === "nearest" && o.alignCorners !== undefined) {
    throw opError(op, "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear");
  }
  if ((o.size === undefined) === (o.scaleFactor === undefined)) throw opError(op, "either size or scaleFactor should be defined, and not both");
  if (!x.isFloatingPoint() && mode !== "nearest") throw opError(op, `mode '${mode}' needs a floating point input, got ${x.dtype}`);
  const inSize = x.shape.slice(2);
  let outSize: number[];
  let scales: (number | null)[];
  if (o.size !== undefined) {
    outSize = nums(op, "size", o.size, nd, 0);
    scales = outSize.map(() => null);
  } else {
    const sf = nums(op, "scaleFactor", o.scaleFactor, nd, 1);
    outSize = inSize.map((n, i) => Math.floor(n * sf[i]));
    scales = o.recomputeScaleFactor ? sf.map(() => null) : sf;
  }
  if (outSize.some((s) => !(s > 0))) throw opError(op, `output size ${fmtShape(outSize)} must be positive (input ${fmtShape(x.shape)})`);
  let y = x;
  for (let i = 0; i < nd; i++) {
    const dim = 2 + i;
    const [inp, out] = [inSize[i], outSize[i]];
    const scale = scales[i] !== null ? 1 / scales[i]! : inp / out;
    if (mode === "nearest") {
      if (inp === out) continue;
      const idx = tensor(nearestIndex(inp, out, scale), { dtype: "int64", device: x.device });
      y = y.indexSelect(dim, idx);
    } else {
      const alignCorners = o.alignCorners ?? false;
      const s = alignCorners ? (out > 1 ? (inp - 1) / (out - 1) : 0) : scale;
      const m = linearMatrix(inp, out, s, alignCorners, x);
      y = y.transpose(dim, -1).matmul(m.t()).transpose(dim, -1);
    }
  }
  return y;
}
