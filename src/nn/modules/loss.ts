import type { Reduction } from "../../ops/kernels.js";
import type { Tensor } from "../../tensor/tensor.js";
import { crossEntropy, l1Loss, mseLoss, nllLoss } from "../functional.js";
import { Module } from "../module.js";

export interface CrossEntropyOptions {
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}

export class CrossEntropyLoss extends Module {
  constructor(readonly options: CrossEntropyOptions = {}) {
    super();
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, this.options);
  }
}

export class NLLLoss extends Module {
  constructor(readonly options: { reduction?: Reduction; ignoreIndex?: number } = {}) {
    super();
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, this.options);
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
