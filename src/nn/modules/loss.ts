import type { Reduction } from "../../ops/kernels.js";
import type { Tensor } from "../../tensor/tensor.js";
import { crossEntropy, l1Loss, mseLoss, nllLoss } from "../functional.js";
import { Module } from "../module.js";

export interface CrossEntropyOptions {
  /** One weight per class (registered as the buffer "weight", as in PyTorch's state dict). */
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}

export class CrossEntropyLoss extends Module {
  constructor(readonly options: CrossEntropyOptions = {}) {
    super();
    if (options.weight) this.registerBuffer("weight", options.weight);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, { ...this.options, weight: this.getBuffer("weight") });
  }
}

export class NLLLoss extends Module {
  constructor(readonly options: { weight?: Tensor | null; reduction?: Reduction; ignoreIndex?: number } = {}) {
    super();
    if (options.weight) this.registerBuffer("weight", options.weight);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { ...this.options, weight: this.getBuffer("weight") });
  }
}

export class MSELoss extends Module {
  constructor(readonly options: { reduction?: Reduction } = {}) {
    super();
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.options);
  }
}

export class L1Loss extends Module {
  constructor(readonly options: { reduction?: Reduction } = {}) {
    super();
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, this.options);
  }
}
