import type { Tensor } from "../../tensor/tensor.js";
import { avgPool2d, maxPool2d, maxPool2dWithIndices } from "../functional.js";
import { Module } from "../module.js";

type Pair = number | [number, number];

export interface MaxPool2dOptions {
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  returnIndices?: boolean;
  ceilMode?: boolean;
}

const fmt = (v: Pair) => (typeof v === "number" ? String(v) : `(${v.join(", ")})`);

/** new MaxPool2d(2, 2), new MaxPool2d(3, { stride: 2, padding: 1 }). */
export class MaxPool2d extends Module {
  readonly o: MaxPool2dOptions;
  constructor(
    readonly kernelSize: Pair,
    stride?: Pair | null | MaxPool2dOptions,
    padding: Pair = 0,
    dilation: Pair = 1,
  ) {
    super();
    this.o = typeof stride === "object" && stride !== null && !Array.isArray(stride) ? stride : { stride, padding, dilation };
  }

  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { ...this.o, stride: this.o.stride ?? undefined });
  }

  /** The (values, indices) pair, for returnIndices users. */
  forwardWithIndices(x: Tensor): [Tensor, Tensor] {
    return maxPool2dWithIndices(x, this.kernelSize, { ...this.o, stride: this.o.stride ?? undefined });
  }

  override extraRepr(): string {
    const s = this.o.stride ?? this.kernelSize;
    return `kernel_size=${fmt(this.kernelSize)}, stride=${fmt(s)}, padding=${fmt(this.o.padding ?? 0)}, dilation=${fmt(this.o.dilation ?? 1)}, ceil_mode=${this.o.ceilMode ? "True" : "False"}`;
  }
}

export interface AvgPool2dOptions {
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

export class AvgPool2d extends Module {
  readonly o: AvgPool2dOptions;
  constructor(
    readonly kernelSize: Pair,
    stride?: Pair | null | AvgPool2dOptions,
    padding: Pair = 0,
  ) {
    super();
    this.o = typeof stride === "object" && stride !== null && !Array.isArray(stride) ? stride : { stride, padding };
  }

  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, { ...this.o, stride: this.o.stride ?? undefined });
  }

  override extraRepr(): string {
    return `kernel_size=${fmt(this.kernelSize)}, stride=${fmt(this.o.stride ?? this.kernelSize)}, padding=${fmt(this.o.padding ?? 0)}`;
  }
}
