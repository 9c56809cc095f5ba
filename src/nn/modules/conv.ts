import { opError } from "../../core/errors.js";
import { empty } from "../../tensor/factories.js";
import type { Tensor } from "../../tensor/tensor.js";
import { conv2d } from "../functional.js";
import { resetLinearLike } from "../init.js";
import { Module } from "../module.js";
import { Parameter } from "../parameter.js";

type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair | "valid" | "same";
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

const asPair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : v);

/** PyTorch's check, shared by every conv module: channels split evenly into at least one group. */
export function checkGroups(op: string, inC: number, outC: number, groups: number): void {
  if (!(groups >= 1) || inC % groups || outC % groups) {
    throw opError(op, `inChannels (${inC}) and outChannels (${outC}) must be divisible by groups (${groups})`);
  }
}

/** new Conv2d(3, 6, 5), new Conv2d(3, 6, 5, 1, 2), new Conv2d(64, 64, 3, { padding: 1, bias: false }). */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | "valid" | "same";
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    stride: Pair | Conv2dOptions = 1,
    padding: Pair | "valid" | "same" = 0,
    dilation: Pair = 1,
    groups = 1,
    bias = true,
  ) {
    super();
    const o: Conv2dOptions = typeof stride === "object" && !Array.isArray(stride) ? stride : { stride, padding, dilation, groups, bias };
    this.kernelSize = asPair(kernelSize);
    this.stride = asPair(o.stride ?? 1);
    this.padding = typeof o.padding === "string" ? o.padding : asPair(o.padding ?? 0);
    this.dilation = asPair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    checkGroups("Conv2d", inChannels, outChannels, this.groups);
    this.weight = new Parameter(empty([outChannels, inChannels / this.groups, ...this.kernelSize]));
    this.bias = (o.bias ?? true) ? new Parameter(empty([outChannels])) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  override forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize.join(", ")}), stride=(${this.stride.join(", ")})`];
    if (this.padding !== "valid" && (typeof this.padding === "string" || this.padding.some((p) => p !== 0))) {
      parts.push(`padding=${typeof this.padding === "string" ? this.padding : `(${this.padding.join(", ")})`}`);
    }
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=(${this.dilation.join(", ")})`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push("bias=False");
    return parts.join(", ");
  }
}
