import { fmtShape, opError } from "../core/errors.js";
import { contiguousStrides, inferShape, normDim, numelOf, sameShape, viewStrides } from "../core/shape.js";
import { emptyTensor } from "./create.js";
import { indexByMask } from "./mask.js";
import { kernelsFor, needsGrad, record, sameDevice, sameDevices } from "./dispatch.js";
import { sumTo } from "./elementwise.js";
import { Tensor, type IndexSpec, type ShapeArg } from "./tensor.js";

/** Accepts both `view(2, 3)` and `view([2, 3])`. */
export function shapeArgs(args: readonly (number | ShapeArg)[]): number[] {
  if (args.length === 1 && typeof args[0] !== "number") return [...args[0]];
  for (const a of args) if (typeof a !== "number") throw new TypeError("pass sizes either as numbers or as one array");
  return args as number[];
}

function rawView(t: Tensor, shape: number[], strides: number[], offset: number): Tensor {
  const v = new Tensor(t.storage, shape, strides, offset);
  v.base = t.base ?? t;
  return v;
}

/** Same data, no autograd history (detach) — the object is new so flags can differ. */
export function aliasOf(t: Tensor): Tensor {
  return rawView(t, t.shape.slice(), t.strides.slice(), t.offset);
}

/** A broadcast view for kernels: no autograd, stride 0 along expanded dims. */
export function expandTo(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = shape.length - t.shape.length;
  if (lead < 0) throw opError("expand", `cannot expand ${fmtShape(t.shape)} to fewer dimensions ${fmtShape(shape)}`);
  const strides = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    if (i < lead) strides[i] = 0;
    else {
      const d = t.shape[i - lead];
      if (d === shape[i]) strides[i] = t.strides[i - lead];
      else if (d === 1) strides[i] = 0;
      else throw opError("expand", `the expanded size of the tensor (${shape[i]}) must match the existing size (${d}) at non-singleton dimension ${i}. Target sizes: ${fmtShape(shape)}. Tensor sizes: ${fmtShape(t.shape)}`);
    }
  }
  return new Tensor(t.storage, shape.slice(), strides, t.offset);
}

function viewOp(name: string, t: Tensor, shape: number[], strides: number[], offset: number, back: (g: Tensor) => Tensor): Tensor {
  const v = rawView(t, shape, strides, offset);
  if (needsGrad(t)) record(v, name, [t], (g) => [back(g)]);
  return v;
}

export function view(t: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape("view", shape, t.numel(), t.shape);
  const strides = viewStrides(t.shape, t.strides, target);
  if (!strides) {
    throw opError(
      "view",
      `view size ${fmtShape(target)} is not compatible with input tensor's size ${fmtShape(t.shape)} and stride ` +
        `${fmtShape(t.strides)} (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.`,
    );
  }
  const from = t.shape;
  return viewOp("view", t, target, strides, t.offset, (g) => g.reshape(from));
}

export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape("reshape", shape, t.numel(), t.shape);
  return viewStrides(t.shape, t.strides, target) ? view(t, target) : view(t.contiguous(), target);
}

export function permute(t: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== t.dim()) {
    throw opError("permute", `number of dims don't match: input has ${t.dim()} dims, got ${dims.length} (${fmtShape(dims)})`);
  }
  const nd = dims.map((d) => normDim("permute", d, t.dim()));
  if (new Set(nd).size !== nd.length) throw opError("permute", `repeated dim in ${fmtShape(dims)}`);
  const inv = new Array<number>(nd.length);
  nd.forEach((d, i) => (inv[d] = i));
  return viewOp("permute", t, nd.map((d) => t.shape[d]), nd.map((d) => t.strides[d]), t.offset, (g) => g.permute(inv));
}

export function transpose(t: Tensor, d0: number, d1: number): Tensor {
  if (t.dim() === 0) return t;
  const a = normDim("transpose", d0, t.dim());
  const b = normDim("transpose", d1, t.dim());
  const dims = t.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(t, dims);
}

export function expand(t: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - t.dim();
  const target = shape.map((d, i) => (d === -1 ? t.shape[i - lead] : d));
  const e = expandTo(t, target);
  const from = t.shape;
  return viewOp("expand", t, e.shape, e.strides, t.offset, (g) => sumTo(g, from));
}

export function flatten(t: Tensor, startDim: number, endDim: number): Tensor {
  if (t.dim() === 0) return reshape(t, [1]);
  const s = normDim("flatten", startDim, t.dim());
  const e = normDim("flatten", endDim, t.dim());
  if (s > e) throw opError("flatten", "startDim cannot come after endDim");
  const shape = [...t.shape.slice(0, s), numelOf(t.shape.slice(s, e + 1)), ...t.shape.slice(e + 1)];
  return reshape(t, shape);
}

export function unflatten(t: Tensor, dim: number, sizes: ShapeArg): Tensor {
  const d = normDim("unflatten", dim, t.dim());
  const inner = inferShape("unflatten", sizes, t.shape[d], t.shape);
  return view(t, [...t.shape.slice(0, d), ...inner, ...t.shape.slice(d + 1)]);
}

export function squeeze(t: Tensor, dim?: number): Tensor {
  let keep: number[];
  if (dim === undefined) keep = t.shape.map((_, i) => i).filter((i) => t.shape[i] !== 1);
  else {
    const d = normDim("squeeze", dim, t.dim());
    keep = t.shape.map((_, i) => i).filter((i) => i !== d || t.shape[i] !== 1);
  }
  if (keep.length === t.dim()) return viewOp("squeeze", t, t.shape.slice(), t.strides.slice(), t.offset, (g) => g);
  const from = t.shape;
  return viewOp("squeeze", t, keep.map((i) => t.shape[i]), keep.map((i) => t.strides[i]), t.offset, (g) => g.reshape(from));
}

export function unsqueeze(t: Tensor, dim: number): Tensor {
  const d = normDim("unsqueeze", dim, t.dim() + 1);
  const shape = [...t.shape.slice(0, d), 1, ...t.shape.slice(d)];
  const inner = d < t.dim() ? t.strides[d] * t.shape[d] : 1;
  const strides = [...t.strides.slice(0, d), inner, ...t.strides.slice(d)];
  return viewOp("unsqueeze", t, shape, strides, t.offset, (g) => g.squeeze(d));
}

/** Places g into zeros of `shape` at positions start, start+step, ... along dim (the backward of slicing). */
function embed(g: Tensor, shape: readonly number[], dim: number, start: number, step: number): Tensor {
  const out = emptyTensor(shape, g.dtype, g.storage.device);
  const len = g.shape[dim];
  const dst = slice(out, dim, start, start + (len - 1) * step + 1, step, false);
  kernelsFor(g).copy(g, dst);
  if (needsGrad(g)) record(out, "sliceBackward", [g], (gg) => [slice(gg, dim, start, start + (len - 1) * step + 1, step)]);
  return out;
}

/** x[start:end:step] along dim, a view. */
/**
 * Indices and slice bounds must be integers: PyTorch refuses x[1.5] rather than round it, and a fractional offset
 * would make a view whose strides point between elements.
 */
function integerIndex(op: string, what: string, v: number): void {
  if (!Number.isInteger(v)) {
    throw opError(op, `${what} must be an integer, got ${v}; round it first (Math.floor, Math.round or Math.trunc)`);
  }
}

export function slice(t: Tensor, dim: number, start: number, end: number, step = 1, grad = true): Tensor {
  const d = normDim("slice", dim, t.dim());
  integerIndex("slice", "start", start);
  if (end !== Infinity) integerIndex("slice", "end", end);
  integerIndex("slice", "step", step);
  const size = t.shape[d];
  if (step <= 0) throw opError("slice", "slice step must be positive");
  const s = start < 0 ? Math.max(start + size, 0) : Math.min(start, size);
  let e = end < 0 ? Math.max(end + size, 0) : Math.min(end, size);
  if (e < s) e = s;
  const len = Math.ceil((e - s) / step);
  const shape = t.shape.slice();
  shape[d] = len;
  const strides = t.strides.slice();
  strides[d] *= step;
  const from = t.shape;
  const v = rawView(t, shape, strides, t.offset + s * t.strides[d]);
  if (grad && needsGrad(t)) record(v, "slice", [t], (g) => [embed(g, from, d, s, step)]);
  return v;
}

export function narrow(t: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim("narrow", dim, t.dim());
  integerIndex("narrow", "start", start);
  integerIndex("narrow", "length", length);
  const st = start < 0 ? start + t.shape[d] : start;
  if (st < 0 || length < 0 || st + length > t.shape[d]) {
    throw opError("narrow", `start (${start}) + length (${length}) exceeds dimension size (${t.shape[d]})`);
  }
  return slice(t, d, st, st + length);
}

export function select(t: Tensor, dim: number, index: number): Tensor {
  const d = normDim("select", dim, t.dim());
  const size = t.shape[d];
  integerIndex("select", "index", index);
  if (index < -size || index >= size) {
    throw opError("select", `index ${index} is out of bounds for dimension ${d} with size ${size}`);
  }
  const i = index < 0 ? index + size : index;
  const shape = t.shape.filter((_, k) => k !== d);
  const strides = t.strides.filter((_, k) => k !== d);
  const from = t.shape;
  return viewOp("select", t, shape, strides, t.offset + i * t.strides[d], (g) => embed(g.unsqueeze(d), from, d, i, 1));
}

export function index(t: Tensor, specs: readonly IndexSpec[]): Tensor {
  const ell = specs.indexOf("...");
  // A bool mask covers as many dims as it has (a 0-d one none); every other spec one.
  const width = (s: IndexSpec): number => (s instanceof Tensor && s.dtype === "bool" ? s.dim() : s === "..." ? 0 : 1);
  const consumed = specs.reduce<number>((n, s) => n + width(s), 0);
  if (consumed > t.dim()) throw opError("index", `too many indices for tensor of dimension ${t.dim()}`);
  const expanded: IndexSpec[] = [];
  for (const s of specs) {
    if (s === "...") for (let k = 0; k < t.dim() - consumed; k++) expanded.push(null);
    else expanded.push(s);
  }
  if (ell < 0) while (expanded.reduce<number>((n, s) => n + width(s), 0) < t.dim()) expanded.push(null);
  let out = t;
  let dim = 0;
  for (const s of expanded) {
    if (s === null) dim++;
    else if (typeof s === "number") out = select(out, dim, s);
    else if (s instanceof Tensor && s.dtype === "bool") {
      out = indexByMask(out, dim, s);
      dim += 1;
    } else if (s instanceof Tensor) {
      out = indexSelect(out, dim, s.dim() === 0 ? s.reshape([1]) : s);
      if (s.dim() === 0) out = out.squeeze(dim);
      else dim++;
    } else if (Array.isArray(s)) {
      const [a, b, step] = s as readonly [number | null, (number | null)?, number?];
      out = slice(out, dim, a ?? 0, b ?? out.shape[dim], step ?? 1);
      dim++;
    } else throw opError("index", `unsupported index ${String(s)}`);
  }
  return out;
}

export function indexSelect(t: Tensor, dim: number, idx: Tensor): Tensor {
  const d = normDim("indexSelect", dim, t.dim());
  if (idx.dim() > 1 || idx.isFloatingPoint() || idx.dtype === "bool") {
    throw opError("indexSelect", `index must be a 1-D integer tensor, got ${idx.dtype} of shape ${fmtShape(idx.shape)}`);
  }
  sameDevice("indexSelect", t, idx);
  const x = t.contiguous();
  const ix = idx.contiguous();
  const n = t.shape[d];
  const outer = numelOf(t.shape.slice(0, d));
  const inner = numelOf(t.shape.slice(d + 1));
  const shape = t.shape.slice();
  shape[d] = idx.numel();
  const out = emptyTensor(shape, t.dtype, t.storage.device);
  kernelsFor(t).indexSelect(x, ix, out, outer, n, inner);
  const from = t.shape;
  if (needsGrad(t)) {
    record(out, "indexSelect", [t], (g) => {
      const gx = emptyTensor(from, g.dtype, g.storage.device);
      kernelsFor(g).indexAdd(g.contiguous(), ix, gx, outer, n, inner);
      // Under createGraph the scatter-add is itself differentiable: its backward gathers with the same index.
      if (needsGrad(g)) record(gx, "indexSelectBackward", [g], (gg) => [indexSelect(gg, d, idx)]);
      return [gx];
    });
  }
  return out;
}

export function split(t: Tensor, size: number | number[], dim: number): Tensor[] {
  const d = normDim("split", dim, t.dim());
  const sizes: number[] = [];
  if (typeof size === "number") {
    for (let s = 0; s < t.shape[d]; s += size) sizes.push(Math.min(size, t.shape[d] - s));
  } else {
    if (size.reduce((a, b) => a + b, 0) !== t.shape[d]) {
      throw opError("split", `split sizes ${fmtShape(size)} don't sum to dimension size ${t.shape[d]}`);
    }
    sizes.push(...size);
  }
  let start = 0;
  return sizes.map((len) => {
    const v = narrow(t, d, start, len);
    start += len;
    return v;
  });
}

export function chunk(t: Tensor, chunks: number, dim: number): Tensor[] {
  const d = normDim("chunk", dim, t.dim());
  return split(t, Math.ceil(t.shape[d] / chunks) || 1, d);
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw opError("cat", "expected a non-empty list of tensors");
  const first = tensors[0];
  sameDevices("cat", first, ...tensors);
  const d = normDim("cat", dim, first.dim());
  let total = 0;
  let dtype = first.dtype;
  for (const t of tensors) {
    if (t.dim() !== first.dim() || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw opError("cat", `sizes of tensors must match except in dimension ${d}: got ${fmtShape(first.shape)} and ${fmtShape(t.shape)}`);
    }
    total += t.shape[d];
    if (t.dtype !== dtype && (t.isFloatingPoint() || !first.isFloatingPoint())) dtype = t.dtype;
  }
  const shape = first.shape.slice();
  shape[d] = total;
  const out = emptyTensor(shape, dtype, first.storage.device);
  const k = kernelsFor(first);
  let start = 0;
  const starts: number[] = [];
  for (const t of tensors) {
    starts.push(start);
    k.copy(t, slice(out, d, start, start + t.shape[d], 1, false));
    start += t.shape[d];
  }
  if (tensors.some((t) => needsGrad(t))) {
    record(out, "cat", [...tensors], (g) => tensors.map((t, i) => (t.requiresGrad ? narrow(g, d, starts[i], t.shape[d]) : null)));
  }
  return out;
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw opError("stack", "expected a non-empty list of tensors");
  const d = normDim("stack", dim, tensors[0].dim() + 1);
  for (const t of tensors) {
    if (!sameShape(t.shape, tensors[0].shape)) {
      throw opError("stack", `stack expects each tensor to be equal size, but got ${fmtShape(tensors[0].shape)} and ${fmtShape(t.shape)}`);
    }
  }
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

export function repeat(t: Tensor, sizes: readonly number[]): Tensor {
  if (sizes.length < t.dim()) throw opError("repeat", "number of repeat dims can not be smaller than number of tensor dims");
  const lead = sizes.length - t.dim();
  const src = t.reshape([...new Array<number>(lead).fill(1), ...t.shape]);
  // [.., s_i, d_i, ..] expanded then merged gives tiles of the whole tensor along each dim.
  const exShape: number[] = [];
  const viewShape: number[] = [];
  src.shape.forEach((d, i) => {
    exShape.push(sizes[i], d);
    viewShape.push(1, d);
  });
  const ex = src.reshape(viewShape).expand(exShape).contiguous();
  return ex.reshape(src.shape.map((d, i) => d * sizes[i]));
}

export { contiguousStrides };
