// torch.nn.init.dirac_: a convolution weight that passes its input through unchanged (channel i of each group to
// output i), the identity a residual-free net can start from (airbench's convs start this way on their first
// channels).
import { noGrad } from "../autograd/grad_mode.js";
import { fmtShape, opError } from "../core/errors.js";
import { arrayCtor } from "../core/dtype.js";
import { fromTypedArray } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";

/** Fills a 3-, 4- or 5-D weight (out, in/groups, *kernel) with the Dirac delta, per group; works on views. */
export function dirac_(t: Tensor, groups = 1): Tensor {
  const d = t.dim();
  if (d < 3 || d > 5) throw opError("nn.init.dirac_", `only tensors with 3, 4, or 5 dimensions are supported, got shape ${fmtShape(t.shape)}`);
  if (!Number.isInteger(groups) || groups < 1) throw opError("nn.init.dirac_", `groups must be a positive integer, got ${groups}`);
  const out = t.shape[0]!;
  if (out % groups !== 0) throw opError("nn.init.dirac_", `dim 0 (${out}) must be divisible by groups (${groups})`);
  const perGroup = out / groups;
  const inCh = t.shape[1]!;
  const kernel = t.shape.slice(2);
  const kNumel = kernel.reduce((a, b) => a * b, 1);
  // Offset of the kernel's centre (size // 2 along each axis, as PyTorch) inside one (in-channel) kernel.
  let centre = 0;
  for (const k of kernel) centre = centre * k + Math.floor(k / 2);
  const host = new (arrayCtor(t.dtype))(t.numel()) as Float32Array | Float64Array;
  for (let g = 0; g < groups; g++) {
    for (let i = 0; i < Math.min(perGroup, inCh); i++) host[((g * perGroup + i) * inCh + i) * kNumel + centre] = 1;
  }
  return noGrad(() => t.copy_(fromTypedArray(host, t.shape, t.dtype)));
}
