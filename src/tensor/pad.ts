// F.pad over the last 1-3 dims, PyTorch's rules and messages. Constant padding is a fill and one strided copy
// (its backward is the opposite pad); reflect, replicate and circular build each padded dim as a cat of views
// (see padDim): one strided copy of the tensor per padded dim. (An indexSelect gather per dim was 3x slower on the
// airbench augmentation's [1024, 3, 32, 32] input: indexSelect has no native kernel.)
import { castValue } from "../core/dtype.js";
import { fmtShape, opError } from "../core/errors.js";
import { emptyTensor } from "./create.js";
import { cat } from "./movement.js";
import { kernelsFor, needsGrad, record } from "./dispatch.js";
import { Tensor } from "./tensor.js";

export type PadMode = "constant" | "reflect" | "replicate" | "circular";

export interface PadOptions {
  mode?: PadMode;
  /** The fill of constant padding (default 0); other modes take none. */
  value?: number;
}

/** A view of t along dim from start for len elements, no autograd (for the kernels). */
function part(t: Tensor, dim: number, start: number, len: number): Tensor {
  const shape = t.shape.slice();
  shape[dim] = len;
  return new Tensor(t.storage, shape, t.strides, t.offset + start * t.strides[dim]);
}

function constantPad(x: Tensor, pad: readonly number[], value: number): Tensor {
  const nd = x.dim();
  const shape = x.shape.slice();
  for (let i = 0; i < pad.length / 2; i++) {
    const d = nd - 1 - i;
    const size = x.shape[d] + pad[2 * i] + pad[2 * i + 1];
    if (size < 0) {
      throw opError(
        "pad",
        `The input size ${x.shape[d]}, plus negative padding ${pad[2 * i]} and ${pad[2 * i + 1]} resulted in a negative ` +
          `output size, which is invalid. Check dimension ${d} of your input.`,
      );
    }
    shape[d] = size;
  }
  const out = emptyTensor(shape, x.dtype, x.storage.device);
  const k = kernelsFor(x);
  if (value !== 0) k.fill(out, castValue(x.dtype, value));
  // The part of x that survives negative padding, and where it lands in out.
  let src = x;
  let dst = out;
  let empty = false;
  for (let i = 0; i < pad.length / 2; i++) {
    const d = nd - 1 - i;
    const [lo, hi] = [pad[2 * i], pad[2 * i + 1]];
    const len = x.shape[d] + Math.min(lo, 0) + Math.min(hi, 0);
    if (len <= 0) {
      empty = true;
      break;
    }
    src = part(src, d, Math.max(-lo, 0), len);
    dst = part(dst, d, Math.max(lo, 0), len);
  }
  if (!empty) k.copy(src, dst);
  if (needsGrad(x)) record(out, "constantPad", [x], (g) => [constantPad(g, pad.map((p) => -p), 0)]);
  return out;
}

function gatherPad(x: Tensor, pad: readonly number[], mode: Exclude<PadMode, "constant">): Tensor {
  const nd = x.dim();
  const k = pad.length / 2;
  if (nd !== k + 1 && nd !== k + 2) {
    throw opError(
      "pad",
      `Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now: mode "${mode}" with ${k} ` +
        `padded dim(s) needs a ${k + 1}-D or ${k + 2}-D input, got shape ${fmtShape(x.shape)}`,
    );
  }
  for (let i = 0; i < k; i++) {
    const d = nd - 1 - i;
    const n = x.shape[d];
    const [lo, hi] = [pad[2 * i], pad[2 * i + 1]];
    if (n === 0) throw opError("pad", `mode "${mode}" needs a non-empty input along the padded dimension ${d}, got shape ${fmtShape(x.shape)}`);
    if (mode === "reflect" && (lo >= n || hi >= n)) {
      throw opError(
        "pad",
        `Argument #${4 + 2 * i}: Padding size should be less than the corresponding input dimension, but got: padding ` +
          `(${lo}, ${hi}) at dimension ${d} of input ${fmtShape(x.shape)}`,
      );
    }
    if (mode === "circular" && (lo > n || hi > n)) {
      throw opError("pad", `Padding value causes wrapping around more than once: padding (${lo}, ${hi}) at dimension ${d} of size ${n}`);
    }
    if (n + lo + hi <= 0) {
      throw opError("pad", `input (size ${n} at dimension ${d}) is too small. Calculated output size: ${n + lo + hi}`);
    }
  }
  let out = x;
  for (let i = 0; i < k; i++) {
    const [lo, hi] = [pad[2 * i], pad[2 * i + 1]];
    if (lo !== 0 || hi !== 0) out = padDim(out, nd - 1 - i, lo, hi, mode);
  }
  return out === x ? x.clone() : out;
}

/**
 * One padded dim as a cat of views of x: the part that negative padding leaves, and the edges (reflect: flipped
 * slices next to the border, replicate: the border element expanded, circular: the far end). Every piece is a
 * strided copy and the backward is cat's, flip's and slice's, so the gradient of each copied edge element is
 * summed back into it by autograd.
 */
function padDim(x: Tensor, d: number, lo: number, hi: number, mode: Exclude<PadMode, "constant">): Tensor {
  const n = x.shape[d];
  const parts: Tensor[] = [];
  if (mode === "circular") {
    // PyTorch crops first and wraps around what is left.
    const start = Math.max(-lo, 0);
    const keep = n - start - Math.max(-hi, 0);
    if (keep <= 0 || lo > keep || hi > keep) {
      throw opError("pad", `negative padding (${lo}, ${hi}) leaves ${Math.max(keep, 0)} element(s) of dimension ${d} (size ${n}), too few to wrap around`);
    }
    if (lo > 0) parts.push(x.narrow(d, start + keep - lo, lo));
    parts.push(x.narrow(d, start, keep));
    if (hi > 0) parts.push(x.narrow(d, start, hi));
    return cat(parts, d);
  }
  // Reflect and replicate index the whole input: pad the positive sides, then crop the negative ones.
  const [l, r] = [Math.max(lo, 0), Math.max(hi, 0)];
  const border = (at: number, len: number): Tensor => {
    const shape = x.shape.slice();
    shape[d] = len;
    return x.narrow(d, at, 1).expand(shape);
  };
  if (l > 0) parts.push(mode === "reflect" ? x.narrow(d, 1, l).flip(d) : border(0, l));
  parts.push(x);
  if (r > 0) parts.push(mode === "reflect" ? x.narrow(d, n - 1 - r, r).flip(d) : border(n - 1, r));
  const padded = parts.length > 1 ? cat(parts, d) : x;
  return lo >= 0 && hi >= 0 ? padded : padded.narrow(d, Math.max(-lo, 0), n + lo + hi).contiguous();
}

/** F.pad(x, pad, { mode, value }): pad = [left, right] of the last dim, then of the one before, ... */
export function pad(x: Tensor, padding: readonly number[], o: PadOptions = {}): Tensor {
  const mode = o.mode ?? "constant";
  if (padding.length % 2 !== 0) throw opError("pad", `Padding length must be divisible by 2, got ${padding.length} values`);
  if (padding.length / 2 > x.dim()) {
    throw opError("pad", `Padding length too large: ${padding.length} values pad ${padding.length / 2} dims, the input ${fmtShape(x.shape)} has ${x.dim()}`);
  }
  if (padding.some((p) => !Number.isInteger(p))) throw opError("pad", `padding must be integers, got ${fmtShape(padding)}`);
  if (mode === "constant") return constantPad(x, padding, o.value ?? 0);
  if (mode !== "reflect" && mode !== "replicate" && mode !== "circular") {
    throw opError("pad", `Unrecognised padding mode ${String(mode)} (use "constant", "reflect", "replicate" or "circular")`);
  }
  if (o.value !== undefined && o.value !== 0) throw opError("pad", `Padding mode "${mode}" doesn't take in value argument`);
  return gatherPad(x, padding, mode);
}
