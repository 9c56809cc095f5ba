// cumsum and cumprod: one scan kernel pass over x viewed as [outer, n, inner] (contiguous; a strided input is copied
// once). Integer and bool inputs scan in int64, as in PyTorch; the accumulator is double on the CPU kernels.
import { isFloating, type DType } from "../core/dtype.js";
import { normDim, numelOf } from "../core/shape.js";
import type { ScanOp } from "../ops/kernels.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record } from "./dispatch.js";
import { flip } from "./reorder.js";
import type { Tensor } from "./tensor.js";

function runScan(op: ScanOp, t: Tensor, dim: number, dtype: DType | undefined): [Tensor, number] {
  const d = normDim(op === "sum" ? "cumsum" : "cumprod", dim, t.dim());
  const outType: DType = dtype ?? (isFloating(t.dtype) ? t.dtype : "int64");
  const x = (t.dtype === outType ? t : t.detach().to(outType)).contiguous();
  const out = emptyTensor(t.shape, outType, t.storage.device);
  const n = t.dim() === 0 ? 1 : t.shape[d];
  kernelsFor(t).scan(op, x, out, numelOf(t.shape.slice(0, d)), n, numelOf(t.shape.slice(d + 1)));
  return [out, d];
}

/** Sums from the end of dim back to each position (cumsum's adjoint). */
function reverseCumsum(g: Tensor, d: number): Tensor {
  return flip(cumsum(flip(g, [d]), d), [d]);
}

export function cumsum(t: Tensor, dim: number, dtype?: DType): Tensor {
  const [out, d] = runScan("sum", t, dim, dtype);
  if (needsGrad(t) && isFloating(out.dtype)) {
    const from = t.dtype;
    record(out, "cumsum", [t], (g) => {
      const r = reverseCumsum(g, d);
      return [r.dtype === from ? r : r.to(from)];
    });
  }
  return out;
}

export function cumprod(t: Tensor, dim: number, dtype?: DType): Tensor {
  const [out, d] = runScan("prod", t, dim, dtype);
  if (needsGrad(t) && isFloating(out.dtype)) {
    const from = t.dtype;
    record(out, "cumprod", [t], (g) => {
      const x = t.dtype === out.dtype ? t : t.to(out.dtype);
      // Where x != 0, d out_j / d x_k = out_j / x_k. Only a row's first zero needs more: every later output holds
      // it, so its gradient is the reverse cumsum of g times the products taken with that zero replaced by 1; every
      // position after the first zero gets 0, which the division formula already gives (those out_j are 0).
      const zero = x.eq(0);
      const nonzero = zero.logicalNot();
      const firstZero = zero.logicalAnd(cumsum(zero, d).eq(1));
      const byDivision = reverseCumsum(g.mul(out), d).div(x.where(nonzero, 1)).where(nonzero, 0);
      const withoutZero = cumprod(x.where(firstZero.logicalNot(), 1), d);
      const atZero = reverseCumsum(g.mul(withoutZero), d);
      const r = byDivision.where(firstZero.logicalNot(), atZero);
      return [r.dtype === from ? r : r.to(from)];
    }, [t, out]);
  }
  return out;
}
