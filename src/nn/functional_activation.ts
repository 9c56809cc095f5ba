// Activations and channel dropout built from differentiable tensor ops (so they also have second derivatives).
import { opError } from "../core/errors.js";
import { rand } from "../tensor/factories.js";
import type { Tensor } from "../tensor/tensor.js";

/** x for x > 0, negativeSlope * x otherwise (the gradient at 0 is negativeSlope, as in PyTorch). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return x.where(x.gt(0), x.mul(negativeSlope));
}

/** x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return x.mul(x.sigmoid());
}

/** log(1 + exp(beta x)) / beta, and x itself where beta x > threshold. */
export function softplus(x: Tensor, o: { beta?: number; threshold?: number } = {}): Tensor {
  const beta = o.beta ?? 1;
  const threshold = o.threshold ?? 20;
  const z = beta === 1 ? x : x.mul(beta);
  // relu(z) + log(1 + exp(-|z|)) never overflows, whichever branch where() keeps.
  const sp = z.relu().add(z.abs().neg().exp().add(1).log());
  return x.where(z.gt(threshold), beta === 1 ? sp : sp.div(beta));
}

/** x * relu6(x + 3) / 6. */
export function hardswish(x: Tensor): Tensor {
  return x.mul(x.add(3).clamp(0, 6)).div(6);
}

/**
 * Zeroes whole channels with probability p (scaling the rest by 1 / (1 - p)) of an (N, C, H, W) input. A 3-D input
 * is read as (N, C, L), one mask value per (n, c), as PyTorch 1.13 does (it warns that this will change).
 */
export function dropout2d(x: Tensor, o: { p?: number; training?: boolean } = {}): Tensor {
  const p = o.p ?? 0.5;
  if (p < 0 || p > 1) throw opError("dropout2d", `dropout probability has to be between 0 and 1, but got ${p}`);
  if (x.dim() !== 3 && x.dim() !== 4) {
    throw opError("dropout2d", `expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got ${x.dim()}-D`);
  }
  if (!(o.training ?? true) || p === 0) return x;
  if (p === 1) return x.mul(0);
  const maskShape = x.shape.map((s, i) => (i < 2 ? s : 1));
  const keep = rand(maskShape, { dtype: x.isFloatingPoint() ? x.dtype : "float32", device: x.device }).lt(1 - p);
  return x.mul(keep.to(x.dtype).mul(1 / (1 - p)));
}
