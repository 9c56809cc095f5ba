// nn.utils.parametersToVector / vectorToParameters: all parameters as one flat vector and back.
import { noGrad } from "../../autograd/grad_mode.js";
import { opError } from "../../core/errors.js";
import { cat } from "../../tensor/movement.js";
import type { Tensor } from "../../tensor/tensor.js";

/** The parameters flattened and concatenated, in order (differentiable, like PyTorch's). */
export function parametersToVector(parameters: Iterable<Tensor>): Tensor {
  const ps = [...parameters];
  if (ps.length === 0) throw opError("parametersToVector", "got no parameters");
  const dev = ps[0].device;
  for (const p of ps) {
    if (p.device !== dev) throw opError("parametersToVector", `found parameters on ${dev} and ${p.device}; move them to one device first`);
  }
  return cat(ps.map((p) => p.reshape([-1])));
}

/** Copies consecutive slices of vec into the parameters, in order; vec must hold exactly their elements. */
export function vectorToParameters(vec: Tensor, parameters: Iterable<Tensor>): void {
  if (vec.dim() !== 1) throw opError("vectorToParameters", `expected a 1-D vector, got ${vec.dim()}-D`);
  const ps = [...parameters];
  const total = ps.reduce((s, p) => s + p.numel(), 0);
  if (total !== vec.numel()) {
    throw opError("vectorToParameters", `the vector has ${vec.numel()} elements but the parameters hold ${total}`);
  }
  noGrad(() => {
    let at = 0;
    for (const p of ps) {
      const n = p.numel();
      p.copy_(vec.narrow(0, at, n).view(p.shape));
      at += n;
    }
  });
}
