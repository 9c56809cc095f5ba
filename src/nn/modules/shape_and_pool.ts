// AdaptiveAvgPool2d, Dropout2d and Unflatten.
import { opError } from "../../core/errors.js";
import type { Tensor } from "../../tensor/tensor.js";
import { dropout2d } from "../functional_activation.js";
import { adaptiveAvgPool2d } from "../functional_conv.js";
import { Module } from "../module.js";
import { pyFloat, pyTuple } from "./py_repr.js";

/** new AdaptiveAvgPool2d(1), new AdaptiveAvgPool2d([7, 7]), new AdaptiveAvgPool2d([null, 3]) (null keeps the input size). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number | null, number | null]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${typeof this.outputSize === "number" ? this.outputSize : pyTuple(this.outputSize)}`;
  }
}

/** Zeroes whole channels of (N, C, H, W) input with probability p while training. */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p > 1) throw opError("Dropout2d", `dropout probability has to be between 0 and 1, but got ${p}`);
  }
  override forward(x: Tensor): Tensor {
    return dropout2d(x, { p: this.p, training: this.training });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

/** Splits dim into unflattenedSize: new Unflatten(1, [2, 5]) turns (N, 10) into (N, 2, 5). */
export class Unflatten extends Module {
  readonly unflattenedSize: number[];
  constructor(
    readonly dim: number,
    unflattenedSize: readonly number[],
  ) {
    super();
    this.unflattenedSize = [...unflattenedSize];
  }
  override forward(x: Tensor): Tensor {
    return x.unflatten(this.dim, this.unflattenedSize);
  }
  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyTuple(this.unflattenedSize)}`;
  }
}
