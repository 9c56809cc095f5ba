import { noGrad } from "./grad_mode.js";
import { tensor } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seeded projection vector source: defaults to a fixed pseudo-random sequence. */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxError: number;
  message: string;
}

/**
 * Compares autograd with central finite differences (inputs should be float64). To keep it cheap it checks the
 * vector-Jacobian product J^T v for a random v, which catches a wrong gradient with probability one.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], o: GradcheckOptions = {}): GradcheckResult {
  const eps = o.eps ?? 1e-6;
  const atol = o.atol ?? 1e-5;
  const rtol = o.rtol ?? 1e-3;
  let state = (o.seed ?? 12345) >>> 0;
  const rnd = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const out = fn(...inputs);
  const vdata = new Float64Array(out.numel()).map(() => rnd());
  const v = tensor(vdata, { dtype: "float64", device: out.device }).reshape(out.shape);
  for (const x of inputs) x.grad = null;
  if (!out.requiresGrad) return { ok: false, maxError: Infinity, message: "output does not require grad" };
  out.backward(v.to(out.dtype));
  const project = (t: Tensor): number => {
    const d = t.toTypedArray();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i] * vdata[i];
    return s;
  };
  let maxError = 0;
  for (let k = 0; k < inputs.length; k++) {
    const x = inputs[k];
    if (!x.requiresGrad) continue;
    const analytic = x.grad ? x.grad.toTypedArray() : new Float64Array(x.numel());
    if (!x.isContiguous()) return { ok: false, maxError: Infinity, message: "gradcheck needs contiguous inputs" };
    const values = x.toTypedArray();
    const flat = noGrad(() => x.view(-1));
    for (let i = 0; i < x.numel(); i++) {
      // Each probe writes one element through the device's fill kernel, and the last one restores it exactly.
      const cell = flat.narrow(0, i, 1);
      const orig = values[i];
      const fp = noGrad(() => (cell.fill_(orig + eps), project(fn(...inputs))));
      const fm = noGrad(() => (cell.fill_(orig - eps), project(fn(...inputs))));
      noGrad(() => cell.fill_(orig));
      const numeric = (fp - fm) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]);
      maxError = Math.max(maxError, err);
      if (err > atol + rtol * Math.abs(numeric)) {
        return {
          ok: false,
          maxError: err,
          message: `input ${k} element ${i}: numerical ${numeric} vs analytical ${analytic[i]}`,
        };
      }
    }
  }
  return { ok: true, maxError, message: "ok" };
}
