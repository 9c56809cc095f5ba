// lerp(end, weight) = self + weight * (end - self), with PyTorch's two formulas: from self for |weight| < 0.5, from
// end otherwise (so weight 1 gives end exactly). A composite of elementwise ops (and a where for a tensor weight),
// whose gradients are PyTorch's: (1 - w) g to self, w g to end, (end - self) g to weight.
import { opError } from "../core/errors.js";
import { sameDevices } from "./dispatch.js";
import { where } from "./elementwise.js";
import type { Tensor } from "./tensor.js";

export function lerp(t: Tensor, end: Tensor, weight: number | Tensor): Tensor {
  sameDevices("lerp", t, end, typeof weight === "number" ? null : weight);
  if (end.dtype !== t.dtype) throw opError("lerp", `expected dtype ${t.dtype} for \`end\` but got dtype ${end.dtype}`);
  if (!t.isFloatingPoint()) throw opError("lerp", `expected a floating point input, got ${t.dtype}`);
  const d = end.sub(t);
  if (typeof weight === "number") return Math.abs(weight) < 0.5 ? t.add(d.mul(weight)) : end.sub(d.mul(1 - weight));
  if (weight.dtype !== t.dtype) throw opError("lerp", `expected dtype ${t.dtype} for \`weight\` but got dtype ${weight.dtype}`);
  return where(weight.abs().lt(0.5), t.add(d.mul(weight)), end.sub(d.mul(weight.neg().add(1))));
}
