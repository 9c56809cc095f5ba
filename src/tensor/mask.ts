// Boolean masks: maskedFill, maskedSelect, nonzero / where(cond), and x.index(mask). maskedFill is a `where`. The
// others have an output whose size depends on the mask's values, so they wait for the device once, through the
// dataSync sync point, to read the mask (one byte per element), list its true positions on the host, and upload
// those as int64 indices; the gather itself (and its backward, an indexAdd) runs on the device. A device-side
// prefix sum would avoid the round trip, but no kernel needs one yet and the host scan of a byte mask is cheaper
// than the allocations it would take on the CPU.
import { fmtShape, opError } from "../core/errors.js";
import { broadcastShapes, numelOf, sameShape } from "../core/shape.js";
import { dataSync } from "./convert.js";
import { emptyTensor, fromHost } from "./create.js";
import { kernelsFor, sameDevices } from "./dispatch.js";
import { where } from "./elementwise.js";
import type { Scalar, Tensor } from "./tensor.js";

/** PyTorch's masks are bool (uint8 still accepted, deprecated). */
function checkMask(op: string, mask: Tensor, what = "expected BoolTensor for mask"): Tensor {
  if (mask.dtype === "bool") return mask;
  if (mask.dtype === "uint8") return mask.ne(0);
  throw opError(op, `${what}, got a ${mask.dtype} tensor (make one with a comparison, e.g. x.gt(0), or .bool())`);
}

/**
 * Row-major positions of mask's true elements, on the host. The one place the ops below wait for the device; a
 * 'meta' tensor has no values to wait for, so they fail there as PyTorch's do.
 */
function truePositions(op: string, aten: string, mask: Tensor): Float64Array {
  if (!mask.storage.device.hasData) {
    throw opError(
      op,
      `the output's shape depends on the mask's values, which a '${mask.device}' tensor does not have (PyTorch: ` +
        `"Could not run 'aten::${aten}' with arguments from the 'Meta' backend"); run it on a device with data.`,
    );
  }
  const flags = dataSync(mask, op);
  let n = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i] !== 0) n++;
  const out = new Float64Array(n);
  for (let i = 0, k = 0; i < flags.length; i++) if (flags[i] !== 0) out[k++] = i;
  return out;
}

/** The true positions of a bool tensor as a 1-D int64 tensor on its device. */
function positionsTensor(op: string, aten: string, mask: Tensor): Tensor {
  const pos = truePositions(op, aten, mask);
  return fromHost(pos, [pos.length], "int64", mask.storage.device, false);
}

/** x where mask is false, value where it is true; mask broadcasts with x (value: a number or a 0-d tensor). */
export function maskedFill(t: Tensor, maskIn: Tensor, value: Scalar | Tensor): Tensor {
  const mask = checkMask("maskedFill", maskIn);
  sameDevices("maskedFill", t, maskIn, typeof value === "object" ? value : null);
  let v: Tensor;
  if (typeof value === "object") {
    if (value.dim() !== 0) {
      throw opError("maskedFill", `maskedFill only supports a 0-dimensional value tensor, but got tensor with ${value.dim()} dimension(s).`);
    }
    v = value.dtype === t.dtype ? value : value.to(t.dtype);
  } else {
    v = emptyTensor([], t.dtype, t.storage.device);
    kernelsFor(t).fill(v, typeof value === "boolean" ? (value ? 1 : 0) : value);
  }
  return where(mask, v, t);
}

/** maskedFill_'s shape rule: the mask broadcasts to self, never self to the mask. */
export function checkInPlaceMask(t: Tensor, mask: Tensor): void {
  const shape = broadcastShapes("maskedFill_", mask.shape, t.shape);
  if (!sameShape(shape, t.shape)) {
    throw opError("maskedFill_", `mask of shape ${fmtShape(mask.shape)} doesn't match the broadcast shape ${fmtShape(shape)} of the tensor ${fmtShape(t.shape)} being filled in place`);
  }
}

/** The elements of x (broadcast with mask) where mask is true, as a 1-D tensor in row-major order. */
export function maskedSelect(t: Tensor, maskIn: Tensor): Tensor {
  const mask = checkMask("maskedSelect", maskIn, "expected BoolTensor or ByteTensor for mask");
  sameDevices("maskedSelect", t, maskIn);
  const shape = broadcastShapes("maskedSelect", t.shape, mask.shape);
  const idx = positionsTensor("maskedSelect", "masked_select", sameShape(mask.shape, shape) ? mask : mask.expand(shape));
  const xb = sameShape(t.shape, shape) ? t : t.expand(shape);
  return xb.reshape([-1]).indexSelect(0, idx);
}

/** Coordinates of the nonzero elements: [n, ndim] int64, or one [n] tensor per dim with asTuple (where(cond)). */
export function nonzero(t: Tensor, asTuple: boolean): Tensor | Tensor[] {
  const flags = t.dtype === "bool" ? t : t.ne(0);
  const pos = truePositions(asTuple ? "where" : "nonzero", "nonzero", flags);
  const nd = t.dim();
  const n = pos.length;
  const dev = t.storage.device;
  if (asTuple) {
    const dims = Math.max(nd, 1);
    const cols = Array.from({ length: dims }, () => new Float64Array(n));
    for (let k = 0; k < n; k++) {
      let r = pos[k];
      for (let d = dims - 1; d >= 0; d--) {
        const size = nd === 0 ? 1 : t.shape[d];
        cols[d][k] = r % size;
        r = Math.floor(r / size);
      }
    }
    return cols.map((c) => fromHost(c, [n], "int64", dev, false));
  }
  const coords = new Float64Array(n * nd);
  for (let k = 0; k < n; k++) {
    let r = pos[k];
    for (let d = nd - 1; d >= 0; d--) {
      coords[k * nd + d] = r % t.shape[d];
      r = Math.floor(r / t.shape[d]);
    }
  }
  return fromHost(coords, [n, nd], "int64", dev, false);
}

/**
 * x[mask] at dimension `dim` of x for a k-dim bool mask: the k dims it covers (which must match its shape) become
 * one dim holding the selected entries, in row-major order. A 0-d mask adds a dim of size 1 (true) or 0 (false).
 */
export function indexByMask(t: Tensor, dim: number, mask: Tensor): Tensor {
  sameDevices("index", t, mask);
  const k = mask.dim();
  if (k === 0) {
    const keep = truePositions("index", "nonzero", mask).length;
    return t.unsqueeze(dim).narrow(dim, 0, keep);
  }
  for (let i = 0; i < k; i++) {
    if (mask.shape[i] !== t.shape[dim + i]) {
      throw opError(
        "index",
        `The shape of the mask ${fmtShape(mask.shape)} at index ${i} does not match the shape of the indexed tensor ` +
          `${fmtShape(t.shape)} at index ${dim + i}`,
      );
    }
  }
  const idx = positionsTensor("index", "nonzero", mask);
  const merged = [...t.shape.slice(0, dim), numelOf(mask.shape), ...t.shape.slice(dim + k)];
  return t.reshape(merged).indexSelect(dim, idx);
}
