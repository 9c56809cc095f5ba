// torch.linalg: the functions kindling has so far.
import * as m from "./tensor/math_extra.js";
import type { Dims, KeepDim, Tensor } from "./tensor/tensor.js";

export { eigh, type EighResult } from "./tensor/eigh.js";

export const vectorNorm = (a: Tensor, ord = 2, o: m.VectorNormOptions = {}): Tensor => m.vectorNorm(a, ord, o);
export const norm = (a: Tensor, ord: number | "fro" = "fro", dim?: Dims | null, o?: KeepDim): Tensor =>
  m.norm(a, ord, dim, o?.keepdim ?? false);
