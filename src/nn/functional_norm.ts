// Layer and group normalisation and vector normalisation, composed from reductions (so they differentiate twice).
import { fmtShape, opError } from "../core/errors.js";
import type { Tensor } from "../tensor/tensor.js";

/** Normalises over the trailing dims given by normalizedShape, then applies the optional elementwise affine. */
export function layerNorm(
  x: Tensor, normalizedShape: number | readonly number[], o: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {},
): Tensor {
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const k = shape.length;
  const tail = x.shape.slice(x.dim() - k);
  if (k === 0 || x.dim() < k || tail.some((s, i) => s !== shape[i])) {
    throw opError(
      "layerNorm",
      `Given normalized_shape=${fmtShape(shape)}, expected input with shape [*, ${shape.join(", ")}], but got input of size ${fmtShape(x.shape)}`,
    );
  }
  for (const [name, t] of [["weight", o.weight], ["bias", o.bias]] as const) {
    if (t && fmtShape(t.shape) !== fmtShape(shape)) {
      throw opError("layerNorm", `${name} of shape ${fmtShape(t.shape)} does not match normalized_shape ${fmtShape(shape)}`);
    }
  }
  const dims = shape.map((_, i) => x.dim() - k + i);
  let y = standardize(x, dims, o.eps ?? 1e-5);
  if (o.weight) y = y.mul(o.weight);
  if (o.bias) y = y.add(o.bias);
  return y;
}

/** (x - mean) / sqrt(biased var + eps) over dims. */
function standardize(x: Tensor, dims: number[], eps: number): Tensor {
  const mean = x.mean(dims, { keepdim: true });
  const d = x.sub(mean);
  const v = d.mul(d).mean(dims, { keepdim: true });
  return d.mul(v.add(eps).rsqrt());
}

/** Normalises each of numGroups channel groups of an (N, C, *) input, then a per-channel affine. */
export function groupNorm(
  x: Tensor, numGroups: number, o: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {},
): Tensor {
  if (x.dim() < 2) throw opError("groupNorm", `expected an input of shape (N, C, *), got ${fmtShape(x.shape)}`);
  const [N, C] = x.shape;
  if (C % numGroups !== 0) {
    throw opError("groupNorm", `Expected number of channels in input to be divisible by num_groups, but got input of shape ${fmtShape(x.shape)} and num_groups=${numGroups}`);
  }
  const g = x.reshape([N, numGroups, -1]);
  let y = standardize(g, [2], o.eps ?? 1e-5).reshape(x.shape);
  const affineShape = [C, ...x.shape.slice(2).map(() => 1)];
  if (o.weight) y = y.mul(o.weight.reshape(affineShape));
  if (o.bias) y = y.add(o.bias.reshape(affineShape));
  return y;
}

/** x / max(||x||_p, eps) along dim. */
export function normalize(x: Tensor, o: { p?: number; dim?: number; eps?: number } = {}): Tensor {
  const p = o.p ?? 2;
  const dim = o.dim ?? 1;
  const a = x.abs();
  let n: Tensor;
  if (p === Infinity) n = a.max(dim, { keepdim: true }).values;
  else if (p === 1) n = a.sum(dim, { keepdim: true });
  else if (p === 2) n = x.mul(x).sum(dim, { keepdim: true }).sqrt();
  else n = a.pow(p).sum(dim, { keepdim: true }).pow(1 / p);
  return x.div(n.clamp(o.eps ?? 1e-12));
}
