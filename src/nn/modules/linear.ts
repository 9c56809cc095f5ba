import { empty } from "../../tensor/factories.js";
import type { Tensor } from "../../tensor/tensor.js";
import { linear } from "../functional.js";
import { resetLinearLike } from "../init.js";
import { Module } from "../module.js";
import { Parameter } from "../parameter.js";

export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    o: boolean | { bias?: boolean } = true,
  ) {
    super();
    const hasBias = typeof o === "boolean" ? o : (o.bias ?? true);
    this.weight = new Parameter(empty([outFeatures, inFeatures]));
    this.bias = hasBias ? new Parameter(empty([outFeatures])) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? "True" : "False"}`;
  }
}

export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}
