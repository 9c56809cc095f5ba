// Conv1d and ConvTranspose2d, with PyTorch's parameter shapes, initialisation and printout.
import { empty } from "../../tensor/factories.js";
import type { Tensor } from "../../tensor/tensor.js";
import { conv1d, convTranspose2d } from "../functional_conv.js";
import { resetLinearLike } from "../init.js";
import { Module } from "../module.js";
import { Parameter } from "../parameter.js";
import { checkGroups } from "./conv.js";
import { pyTuple } from "./py_repr.js";

export interface Conv1dOptions {
  stride?: number;
  padding?: number | "valid" | "same";
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/** new Conv1d(inChannels, outChannels, kernelSize, { stride, padding, dilation, groups, bias }). */
export class Conv1d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly stride: number;
  readonly padding: number | "valid" | "same";
  readonly dilation: number;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    o: Conv1dOptions = {},
  ) {
    super();
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
    this.groups = o.groups ?? 1;
    checkGroups("Conv1d", inChannels, outChannels, this.groups);
    this.weight = new Parameter(empty([outChannels, inChannels / this.groups, kernelSize]));
    this.bias = (o.bias ?? true) ? new Parameter(empty([outChannels])) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  override forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple([this.kernelSize])}, stride=${pyTuple([this.stride])}`];
    if (typeof this.padding === "string") parts.push(`padding=${this.padding}`);
    else if (this.padding !== 0) parts.push(`padding=${pyTuple([this.padding])}`);
    if (this.dilation !== 1) parts.push(`dilation=${pyTuple([this.dilation])}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push("bias=False");
    return parts.join(", ");
  }
}

type Pair = number | [number, number];
const asPair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  bias?: boolean;
  dilation?: Pair;
}

/** new ConvTranspose2d(inChannels, outChannels, kernelSize, { stride, padding, outputPadding, groups, bias, dilation }). */
export class ConvTranspose2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    o: ConvTranspose2dOptions = {},
  ) {
    super();
    this.kernelSize = asPair(kernelSize);
    this.stride = asPair(o.stride ?? 1);
    this.padding = asPair(o.padding ?? 0);
    this.outputPadding = asPair(o.outputPadding ?? 0);
    this.dilation = asPair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    checkGroups("ConvTranspose2d", inChannels, outChannels, this.groups);
    this.weight = new Parameter(empty([inChannels, outChannels / this.groups, ...this.kernelSize]));
    this.bias = (o.bias ?? true) ? new Parameter(empty([outChannels])) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  override forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, outputPadding: this.outputPadding, groups: this.groups, dilation: this.dilation,
    });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`];
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=${pyTuple(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pyTuple(this.dilation)}`);
    if (this.outputPadding.some((p) => p !== 0)) parts.push(`output_padding=${pyTuple(this.outputPadding)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push("bias=False");
    return parts.join(", ");
  }
}
