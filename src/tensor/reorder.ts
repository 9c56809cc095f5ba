// flip, roll, tril/triu: ops that move values to other positions without computing new ones. Each is a composite
// over the device's strided copy (and where, for the triangles), so every device that has those kernels has these
// ops too: a flip is one copy from a view with negative strides, a roll two copies per rolled dim.
import { fmtShape, opError } from "../core/errors.js";
import { normDim } from "../core/shape.js";
import { emptyTensor, fromHost } from "./create.js";
import { kernelsFor, needsGrad, record } from "./dispatch.js";
import { Tensor } from "./tensor.js";

function distinctDims(op: string, t: Tensor, dims: readonly number[]): number[] {
  const nd = dims.map((d) => normDim(op, d, t.dim()));
  const seen = new Set<number>();
  for (const d of nd) {
    if (seen.has(d)) throw opError(op, `dim ${d} appears multiple times in the list of dims`);
    seen.add(d);
  }
  return nd;
}

/** A contiguous copy of t with the order of elements reversed along dims (PyTorch's flip copies too). */
export function flip(t: Tensor, dims: readonly number[]): Tensor {
  const nd = distinctDims("flip", t, dims);
  const out = emptyTensor(t.shape, t.dtype, t.storage.device);
  const strides = t.strides.slice();
  let offset = t.offset;
  for (const d of nd) {
    if (t.dim() === 0 || t.shape[d] === 0) continue;
    offset += (t.shape[d] - 1) * strides[d];
    strides[d] = -strides[d];
  }
  // The negative-stride view never leaves this function: only the copy kernel reads it.
  kernelsFor(t).copy(new Tensor(t.storage, t.shape, strides, offset), out);
  if (needsGrad(t)) record(out, "flip", [t], (g) => [flip(g, nd)]);
  return out;
}

/** A strided view of t (no autograd), for the copies below. */
function part(t: Tensor, dim: number, start: number, len: number): Tensor {
  const shape = t.shape.slice();
  shape[dim] = len;
  return new Tensor(t.storage, shape, t.strides, t.offset + start * t.strides[dim]);
}

function rollInto(src: Tensor, dst: Tensor, dim: number, shift: number): void {
  const n = src.shape[dim];
  const s = n === 0 ? 0 : ((shift % n) + n) % n;
  const k = kernelsFor(src);
  k.copy(part(src, dim, 0, n - s), part(dst, dim, s, n - s));
  if (s > 0) k.copy(part(src, dim, n - s, s), part(dst, dim, 0, s));
}

/** roll(shifts) over the flattened tensor, or roll(shifts, dims) with one shift per dim. */
export function roll(t: Tensor, shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor {
  const sh = typeof shifts === "number" ? [shifts] : [...shifts];
  const ds = dims === undefined || dims === null ? [] : typeof dims === "number" ? [dims] : [...dims];
  if (sh.some((s) => !Number.isInteger(s))) throw opError("roll", `shifts must be integers, got ${fmtShape(sh)}`);
  if (ds.length === 0) {
    if (sh.length !== 1) throw opError("roll", `shifts and dimensions must align. shifts: ${sh.length}, dims:0`);
    return roll(t.flatten(), sh[0], 0).view(t.shape);
  }
  if (sh.length !== ds.length) throw opError("roll", `shifts and dimensions must align. shifts: ${sh.length}, dims:${ds.length}`);
  const nd = ds.map((d) => normDim("roll", d, t.dim()));
  let cur = t;
  nd.forEach((d, i) => {
    const next = emptyTensor(t.shape, t.dtype, t.storage.device);
    rollInto(cur, next, d, sh[i]);
    cur = next;
  });
  if (needsGrad(t)) record(cur, "roll", [t], (g) => [roll(g, sh.map((s) => -s), nd)]);
  return cur;
}

/**
 * Keeps the lower (tril) or upper (triu) triangle of the last two dims, from the given diagonal, and zeroes the
 * rest. The mask depends only on the shape, so it is built on the host and uploaded once.
 */
export function triangle(op: "tril" | "triu", t: Tensor, diagonal: number): Tensor {
  if (t.dim() < 2) throw opError(op, `${op}: input tensor must have at least 2 dimensions, got shape ${fmtShape(t.shape)}`);
  if (!Number.isInteger(diagonal)) throw opError(op, `diagonal must be an integer, got ${diagonal}`);
  const rows = t.shape[t.dim() - 2];
  const cols = t.shape[t.dim() - 1];
  const drop = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) drop[i * cols + j] = (op === "tril" ? j - i > diagonal : j - i < diagonal) ? 1 : 0;
  }
  return t.maskedFill(fromHost(drop, [rows, cols], "bool", t.storage.device, false), 0);
}
