// BCELoss, BCEWithLogitsLoss, SmoothL1Loss, HuberLoss, KLDivLoss. Weight tensors are buffers named as in PyTorch
// ("weight", "pos_weight"), so they move with .to() and appear in the state dict.
import type { Reduction } from "../../ops/kernels.js";
import type { Tensor } from "../../tensor/tensor.js";
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, huberLoss, klDiv, smoothL1Loss, type KLDivReduction } from "../functional_loss.js";
import { Module } from "../module.js";

export class BCELoss extends Module {
  readonly reduction: Reduction;
  constructor(o: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    super();
    this.reduction = o.reduction ?? "mean";
    if (o.weight) this.registerBuffer("weight", o.weight);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { weight: this.getBuffer("weight"), reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Module {
  readonly reduction: Reduction;
  constructor(o: { weight?: Tensor | null; reduction?: Reduction; posWeight?: Tensor | null } = {}) {
    super();
    this.reduction = o.reduction ?? "mean";
    if (o.weight) this.registerBuffer("weight", o.weight);
    if (o.posWeight) this.registerBuffer("pos_weight", o.posWeight);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, {
      weight: this.getBuffer("weight"), posWeight: this.getBuffer("pos_weight"), reduction: this.reduction,
    });
  }
}

export class SmoothL1Loss extends Module {
  constructor(readonly options: { reduction?: Reduction; beta?: number } = {}) {
    super();
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, this.options);
  }
}

export class HuberLoss extends Module {
  constructor(readonly options: { reduction?: Reduction; delta?: number } = {}) {
    super();
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, this.options);
  }
}

export class KLDivLoss extends Module {
  constructor(readonly options: { reduction?: KLDivReduction; logTarget?: boolean } = {}) {
    super();
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, this.options);
  }
}
