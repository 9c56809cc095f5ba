// nn.utils.clipGradNorm_ / clipGradValue_: rescale or clamp the gradients that backward() left in .grad.
import { noGrad } from "../../autograd/grad_mode.js";
import { opError } from "../../core/errors.js";
import { stack } from "../../tensor/movement.js";
import { tensor } from "../../tensor/create.js";
import { Tensor } from "../../tensor/tensor.js";

export type Parameters = Tensor | Iterable<Tensor>;

function gradsOf(parameters: Parameters): Tensor[] {
  const ps = parameters instanceof Tensor ? [parameters] : [...parameters];
  return ps.map((p) => p.grad).filter((g): g is Tensor => g !== null);
}

export interface ClipGradNormOptions {
  /** 2 by default; any p > 0, or Infinity for the largest absolute value. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling the gradients by it. */
  errorIfNonfinite?: boolean;
}

/**
 * Scales every gradient by maxNorm / (totalNorm + 1e-6) when that is below 1, where totalNorm is the normType-norm
 * of all gradients together (the norm of the per-parameter norms). Returns totalNorm as a 0-d tensor.
 */
export function clipGradNorm_(parameters: Parameters, maxNorm: number, normTypeOrOptions: number | ClipGradNormOptions = 2, o: ClipGradNormOptions = {}): Tensor {
  const opts = typeof normTypeOrOptions === "number" ? { ...o, normType: normTypeOrOptions } : normTypeOrOptions;
  const normType = opts.normType ?? 2;
  if (!(normType > 0)) throw opError("clipGradNorm_", `normType must be positive or Infinity, got ${normType}`);
  const grads = gradsOf(parameters);
  if (grads.length === 0) return tensor(0);
  return noGrad(() => {
    const norms = grads.map((g) => vectorNorm(g, normType).to(grads[0].dtype));
    const total = normType === Infinity ? stack(norms).max() : vectorNorm(stack(norms), normType);
    const t = total.item();
    if (opts.errorIfNonfinite && !Number.isFinite(t)) {
      throw opError(
        "clipGradNorm_",
        `The total norm of order ${normType} for gradients from \`parameters\` is non-finite, so it cannot be clipped. ` +
          "To disable this error and scale the gradients by the non-finite norm anyway, set errorIfNonfinite: false",
      );
    }
    // PyTorch multiplies by the clamped coefficient unconditionally (so NaN norms spread NaN); same here.
    const coef = Math.min(maxNorm / (t + 1e-6), 1);
    for (const g of grads) g.mul_(coef);
    return total;
  });
}

/** Clamps every gradient element into [-clipValue, clipValue] in place. */
export function clipGradValue_(parameters: Parameters, clipValue: number): void {
  noGrad(() => {
    for (const g of gradsOf(parameters)) g.clamp_(-clipValue, clipValue);
  });
}

function vectorNorm(g: Tensor, p: number): Tensor {
  const a = g.abs();
  if (p === Infinity) return a.max();
  if (p === 1) return a.sum();
  if (p === 2) return a.mul(a).sum().sqrt();
  return a.pow(p).sum().pow(1 / p);
}
