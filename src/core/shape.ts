import { fmtShape, opError } from "./errors.js";

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== acc) return false;
    acc *= shape[i];
  }
  return true;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function normDim(op: string, dim: number, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw opError(op, `dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + n : dim;
}

export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  if (sameShape(a, b)) return a.slice();
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i - (n - a.length) >= 0 ? a[i - (n - a.length)] : 1;
    const db = i - (n - b.length) >= 0 ? b[i - (n - b.length)] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw opError(
        op,
        `the size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i} ` +
          `(shapes ${fmtShape(a)} and ${fmtShape(b)})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Resolves a view/reshape target with at most one -1. */
export function inferShape(op: string, shape: readonly number[], numel: number, from: readonly number[]): number[] {
  let neg = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === -1) {
      if (neg >= 0) throw opError(op, "only one dimension can be inferred");
      neg = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw opError(op, `invalid shape dimension ${d} in ${fmtShape(shape)}`);
    } else known *= d;
  }
  const out = shape.slice();
  if (neg >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw opError(op, `shape ${fmtShape(shape)} is invalid for input of size ${numel} (input shape ${fmtShape(from)})`);
    }
    out[neg] = numel / known;
  } else if (known !== numel) {
    throw opError(op, `shape ${fmtShape(shape)} is invalid for input of size ${numel} (input shape ${fmtShape(from)})`);
  }
  return out;
}

/**
 * Strides for viewing (shape, strides) as newShape without a copy, or null when the memory layout does not allow it
 * (PyTorch's computeStride: contiguous chunks of the old shape may be split/merged).
 */
export function viewStrides(
  oldShape: readonly number[],
  oldStrides: readonly number[],
  newShape: readonly number[],
): number[] | null {
  if (oldShape.length === 0) return contiguousStrides(newShape);
  const numel = numelOf(oldShape);
  const newStrides = new Array<number>(newShape.length).fill(0);
  if (numel === 0) return contiguousStrides(newShape);
  let viewD = newShape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}
