// cumsum as a composite: the scanned dim is moved to the front (one strided copy), then log2(n) passes of the
// Hillis-Steele scan, each one copy and one contiguous add over slices along dim 0, then one copy back. O(N log n)
// work instead of a sequential kernel's O(N), but every pass runs on the device's fastest kernels; a dedicated scan
// kernel would need a native and a meta entry, which no caller has needed yet.
import { isFloating, type DType } from "../core/dtype.js";
import { normDim } from "../core/shape.js";
import { emptyTensor } from "./create.js";
import { kernelsFor, needsGrad, record } from "./dispatch.js";
import { flip } from "./reorder.js";
import { Tensor } from "./tensor.js";

function rows(t: Tensor, start: number, len: number): Tensor {
  const shape = t.shape.slice();
  shape[0] = len;
  return new Tensor(t.storage, shape, t.strides, t.offset + start * t.strides[0]);
}

export function cumsum(t: Tensor, dim: number, dtype?: DType): Tensor {
  const d = normDim("cumsum", dim, t.dim());
  const outType: DType = dtype ?? (isFloating(t.dtype) ? t.dtype : "int64");
  const k = kernelsFor(t);
  const perm = [d, ...t.shape.map((_, i) => i).filter((i) => i !== d)];
  const shape = t.dim() === 0 ? [1] : perm.map((i) => t.shape[i]);
  const strides = t.dim() === 0 ? [1] : perm.map((i) => t.strides[i]);
  let cur = emptyTensor(shape, outType, t.storage.device);
  k.copy(new Tensor(t.storage, shape, strides, t.offset), cur);
  const n = shape[0];
  for (let s = 1; s < n; s *= 2) {
    const next = emptyTensor(shape, outType, t.storage.device);
    k.copy(rows(cur, 0, s), rows(next, 0, s));
    k.binary("add", rows(cur, s, n - s), rows(cur, 0, n - s), rows(next, s, n - s));
    cur = next;
  }
  const out = emptyTensor(t.shape, outType, t.storage.device);
  const back = new Array<number>(t.dim());
  perm.forEach((p, i) => (back[p] = cur.strides[i]));
  k.copy(new Tensor(cur.storage, t.shape, back, 0), out);
  if (needsGrad(t) && isFloating(outType)) {
    const from = t.dtype;
    record(out, "cumsum", [t], (g) => {
      const r = flip(cumsum(flip(g, [d]), d), [d]);
      return [r.dtype === from ? r : r.to(from)];
    });
  }
  return out;
}
