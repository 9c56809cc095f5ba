import { Tensor } from "../tensor/tensor.js";
import { noteConstruction } from "./construction.js";

/** A tensor that a Module owns as a learnable weight: a leaf that requires grad by default. */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    const t = data.detach();
    super(t.storage, t.shape, t.strides, t.offset);
    this.requiresGrad = requiresGrad;
    noteConstruction(this, false, Parameter);
  }
}
