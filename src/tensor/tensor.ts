import { countHookedLeaf, runBackward, type BackwardOptions } from "../autograd/engine.js";
import type { Node } from "../autograd/node.js";
import { isFloating, itemSize, type DType, type TypedArray } from "../core/dtype.js";
import { opError } from "../core/errors.js";
import { isContiguous, numelOf } from "../core/shape.js";
import type { Storage } from "../backend/device.js";
import type { BinaryName } from "../ops/binary.js";
import type { UnaryName } from "../ops/unary.js";
import * as ew from "./elementwise.js";
import * as fmt from "./format.js";
import * as inplace from "./inplace.js";
import * as la from "./linalg.js";
import * as mv from "./movement.js";
import * as red from "./reduce.js";
import * as nnops from "./nn_ops.js";
import * as conv from "./convert.js";
import * as masks from "./mask.js";
import * as reorder from "./reorder.js";
import { lerp } from "./lerp.js";
import { cumsum } from "./scan.js";

export type Scalar = number | boolean;
export type TensorOrScalar = Tensor | Scalar;
export type ShapeArg = number[] | readonly number[];
/** PyTorch's `dim` argument: one dimension or several. */
export type Dims = number | readonly number[];
export type IndexSpec = number | null | "..." | readonly [number | null, (number | null)?, number?] | Tensor;

export interface KeepDim {
  keepdim?: boolean;
}

export interface MaxResult {
  values: Tensor;
  indices: Tensor;
  [Symbol.iterator](): Iterator<Tensor>;
}

type NestedArray = number | boolean | NestedArray[];

function scaled(v: TensorOrScalar, alpha: number): TensorOrScalar {
  return typeof v === "object" ? v.mul(alpha) : Number(v) * alpha;
}

/**
 * A strided view over a Storage. Shape, strides and offset are plain fields (read by kernels directly); methods
 * follow PyTorch's names, camelCased, with keyword arguments in a trailing options object. The storage is opaque
 * here: values reach the host only through the sync points (item, tolist, toTypedArray, dataSync, dataAsync,
 * printing).
 */
export class Tensor {
  requiresGrad = false;
  grad: Tensor | null = null;
  gradFn: Node | null = null;
  /** The tensor this one is a view of (null for a tensor that owns its layout). */
  base: Tensor | null = null;
  /** Set by registerPostAccumulateGradHook; null (the common case) costs backward nothing. */
  postAccumulateGradHooks: ((t: Tensor) => void)[] | null = null;

  /**
   * shape and strides are frozen: `x.shape` hands out the tensor's own layout (kernels read it on every op), so a
   * caller that pushes to or assigns into it gets a TypeError instead of corrupting the tensor. Copy it to edit it.
   */
  constructor(
    readonly storage: Storage,
    readonly shape: number[],
    readonly strides: number[],
    readonly offset: number,
  ) {
    Object.freeze(shape);
    Object.freeze(strides);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  /** The device string ("cpu", "meta", "cuda:0"). */
  get device(): string {
    return this.storage.device.name;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /**
   * Gradient-free alias, like PyTorch's `.data` (so the values are read with dataSync() or `await dataAsync()`,
   * not with `.data` as in tfjs).
   */
  get data(): Tensor {
    return this.detach();
  }
  /**
   * `p.data = t`, like PyTorch: this tensor object now views t's storage, shape and strides (same device, dtype and
   * identity elsewhere), which is how Module.to() moves parameters without replacing them.
   */
  set data(t: Tensor) {
    const self = this as { -readonly [K in "storage" | "shape" | "strides" | "offset"]: Tensor[K] };
    self.storage = t.storage;
    self.shape = Object.freeze(t.shape.slice()) as number[];
    self.strides = Object.freeze(t.strides.slice()) as number[];
    self.offset = t.offset;
    this.base = t.base;
  }
  get T(): Tensor {
    return mv.permute(this, this.shape.map((_, i) => this.shape.length - 1 - i));
  }
  get mT(): Tensor {
    return this.transpose(-2, -1);
  }

  numel(): number {
    return numelOf(this.shape);
  }
  dim(): number {
    return this.shape.length;
  }
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return this.shape.slice();
    return this.shape[dim < 0 ? dim + this.shape.length : dim];
  }
  stride(): number[] {
    return this.strides.slice();
  }
  elementSize(): number {
    return itemSize(this.dtype);
  }
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  isFloatingPoint(): boolean {
    return isFloating(this.dtype);
  }

  // ---- data access ----
  /**
   * The value of a one-element tensor. A bool tensor gives true/false, as in PyTorch; the static type is number
   * (so `loss.item()` adds up), and `mask.item<boolean>()` types a bool tensor's value.
   */
  item<T extends number | boolean = number>(): T {
    if (this.numel() !== 1) throw opError("item", `a Tensor with ${this.numel()} elements cannot be converted to Scalar`);
    return conv.item(this) as T;
  }
  tolist(): NestedArray {
    return conv.tolist(this);
  }
  /** The values as a fresh contiguous typed array of the tensor's dtype (int64 → Float64Array, bool → Uint8Array). */
  toTypedArray(): TypedArray {
    return conv.toTypedArray(this);
  }
  /**
   * The values on the host, blocking until they are there: zero-copy for a contiguous CPU tensor (writes to it
   * bypass autograd), a copy otherwise. Throws on "meta", which has no values.
   */
  dataSync(): TypedArray {
    return conv.dataSync(this);
  }
  /** dataSync() without blocking the thread while a device finishes (tfjs's `data()`; `.data` is PyTorch's here). */
  dataAsync(): Promise<TypedArray> {
    return conv.dataAsync(this);
  }
  toString(): string {
    return fmt.formatTensor(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---- autograd ----
  backward(gradient?: Tensor | null, opts?: BackwardOptions): void {
    if (!this.requiresGrad) {
      throw new Error("element 0 of tensors does not require grad and does not have a grad_fn");
    }
    if (!gradient) {
      if (this.numel() !== 1) throw new Error("grad can be implicitly created only for scalar outputs");
      gradient = conv.onesLike(this);
    }
    runBackward(this, gradient, opts);
  }
  detach(): Tensor {
    return mv.aliasOf(this);
  }
  detach_(): this {
    this.gradFn = null;
    this.requiresGrad = false;
    return this;
  }
  requiresGrad_(on = true): this {
    if (!this.isLeaf) {
      throw new Error(
        "you can only change requiresGrad flags of leaf variables. If you want to use a computed variable in a " +
          "subgraph that doesn't require differentiation use x.detach()",
      );
    }
    if (on && !isFloating(this.dtype)) throw new Error(`only Tensors of floating point dtype can require gradients (got ${this.dtype})`);
    this.requiresGrad = on;
    return this;
  }
  /**
   * PyTorch 2.1's hook on a leaf: runs after a backward pass has accumulated this tensor's .grad for the last time
   * in that pass (DistributedDataParallel starts a bucket's all-reduce from it). Returns a handle whose remove()
   * unregisters the hook.
   */
  registerPostAccumulateGradHook(hook: (t: Tensor) => void): { remove(): void } {
    if (!this.isLeaf) throw new Error("post accumulate grad hooks cannot be registered on non-leaf tensors");
    if (!this.requiresGrad) throw new Error("cannot register a hook on a tensor that doesn't require gradient");
    const hooks = (this.postAccumulateGradHooks ??= []);
    hooks.push(hook);
    countHookedLeaf(1);
    let removed = false;
    return {
      remove: () => {
        if (removed) return;
        removed = true;
        const i = hooks.indexOf(hook);
        if (i >= 0) hooks.splice(i, 1);
        if (hooks.length === 0 && this.postAccumulateGradHooks === hooks) this.postAccumulateGradHooks = null;
        countHookedLeaf(-1);
      },
    };
  }
  retainGrad(): this {
    if (this.gradFn) this.gradFn.retained = this;
    return this;
  }

  // ---- conversion / copies ----
  clone(): Tensor {
    return conv.clone(this);
  }
  contiguous(): Tensor {
    return this.isContiguous() ? this : conv.clone(this);
  }
  /**
   * `to(device)`, `to(dtype)`, `to(device, dtype)`, `to(otherTensor)`, each with PyTorch's keywords last:
   * `x.to("cpu", { nonBlocking: true })`, `x.to("cpu", torch.float64, { copy: true })`.
   * nonBlocking is accepted for PyTorch code: a copy to a GPU never waits for the GPU anyway (it is staged through
   * pinned memory and queued), and a copy back to the host always waits, so its values are there when it returns.
   */
  to(target: string | DType | Tensor | { toString(): string }, dtype?: DType | conv.ToOptions, opts?: conv.ToOptions): Tensor {
    const [device, dt, o] = conv.toArgs(target, dtype, opts);
    const out = conv.to(this, device, dt);
    return o.copy && out === this ? this.clone() : out;
  }
  cpu(): Tensor {
    return this.to("cpu");
  }
  cuda(index = 0): Tensor {
    return this.to(`cuda:${index}`);
  }
  float(): Tensor {
    return this.to("float32");
  }
  double(): Tensor {
    return this.to("float64");
  }
  long(): Tensor {
    return this.to("int64");
  }
  int(): Tensor {
    return this.to("int32");
  }
  bool(): Tensor {
    return this.to("bool");
  }
  type(dtype: DType): Tensor {
    return this.to(dtype);
  }

  // ---- elementwise ----
  unary(op: UnaryName): Tensor {
    return ew.unary(op, this);
  }
  binary(op: BinaryName, other: TensorOrScalar): Tensor {
    return ew.binary(op, this, other);
  }
  add(other: TensorOrScalar, opts?: { alpha?: number }): Tensor {
    if (opts?.alpha !== undefined && opts.alpha !== 1) other = scaled(other, opts.alpha);
    return ew.binary("add", this, other);
  }
  sub(other: TensorOrScalar, opts?: { alpha?: number }): Tensor {
    if (opts?.alpha !== undefined && opts.alpha !== 1) other = scaled(other, opts.alpha);
    return ew.binary("sub", this, other);
  }
  mul(other: TensorOrScalar): Tensor {
    return ew.binary("mul", this, other);
  }
  div(other: TensorOrScalar): Tensor {
    return ew.binary("div", this, other);
  }
  pow(exponent: TensorOrScalar): Tensor {
    return ew.binary("pow", this, exponent);
  }
  maximum(other: TensorOrScalar): Tensor {
    return ew.binary("maximum", this, other);
  }
  minimum(other: TensorOrScalar): Tensor {
    return ew.binary("minimum", this, other);
  }
  eq(other: TensorOrScalar): Tensor {
    return ew.binary("eq", this, other);
  }
  ne(other: TensorOrScalar): Tensor {
    return ew.binary("ne", this, other);
  }
  gt(other: TensorOrScalar): Tensor {
    return ew.binary("gt", this, other);
  }
  lt(other: TensorOrScalar): Tensor {
    return ew.binary("lt", this, other);
  }
  ge(other: TensorOrScalar): Tensor {
    return ew.binary("ge", this, other);
  }
  le(other: TensorOrScalar): Tensor {
    return ew.binary("le", this, other);
  }
  reluGrad(x: Tensor): Tensor {
    return ew.binary("reluGrad", this, x);
  }
  geluGrad(x: Tensor): Tensor {
    return ew.binary("geluGrad", this, x);
  }
  neg(): Tensor {
    return ew.unary("neg", this);
  }
  exp(): Tensor {
    return ew.unary("exp", this);
  }
  log(): Tensor {
    return ew.unary("log", this);
  }
  sqrt(): Tensor {
    return ew.unary("sqrt", this);
  }
  rsqrt(): Tensor {
    return ew.unary("rsqrt", this);
  }
  abs(): Tensor {
    return ew.unary("abs", this);
  }
  relu(): Tensor {
    return ew.unary("relu", this);
  }
  gelu(): Tensor {
    return ew.unary("gelu", this);
  }
  sigmoid(): Tensor {
    return ew.unary("sigmoid", this);
  }
  tanh(): Tensor {
    return ew.unary("tanh", this);
  }
  reciprocal(): Tensor {
    return ew.unary("reciprocal", this);
  }
  square(): Tensor {
    return ew.unary("square", this);
  }
  sin(): Tensor {
    return ew.unary("sin", this);
  }
  cos(): Tensor {
    return ew.unary("cos", this);
  }
  sign(): Tensor {
    return ew.unary("sign", this);
  }
  floor(): Tensor {
    return ew.unary("floor", this);
  }
  ceil(): Tensor {
    return ew.unary("ceil", this);
  }
  round(): Tensor {
    return ew.unary("round", this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return ew.clamp(this, min ?? -Infinity, max ?? Infinity);
  }
  clip(min?: number | null, max?: number | null): Tensor {
    return this.clamp(min, max);
  }
  where(condition: Tensor, other: TensorOrScalar): Tensor {
    return ew.where(condition, this, other);
  }
  logicalNot(): Tensor {
    return this.eq(0);
  }
  /** self + weight * (end - self); weight a number or a tensor (broadcast), all of one floating dtype. */
  lerp(end: Tensor, weight: number | Tensor): Tensor {
    return lerp(this, end, weight);
  }
  /** x with value where mask (bool, broadcast with x) is true; value a number or a 0-d tensor. */
  maskedFill(mask: Tensor, value: Scalar | Tensor): Tensor {
    return masks.maskedFill(this, mask, value);
  }
  /** The elements where mask is true, as a 1-D tensor (waits for the device: its size depends on the mask). */
  maskedSelect(mask: Tensor): Tensor {
    return masks.maskedSelect(this, mask);
  }
  /** Coordinates of the nonzero elements, [n, dim()] int64; `{ asTuple: true }` gives one [n] tensor per dim. */
  nonzero(): Tensor;
  nonzero(opts: { asTuple: true }): Tensor[];
  nonzero(opts?: { asTuple?: boolean }): Tensor | Tensor[] {
    return masks.nonzero(this, opts?.asTuple ?? false);
  }
  /** The lower triangle of the last two dims from `diagonal` (0: main, >0 above, <0 below); the rest zeroed. */
  tril(diagonal = 0): Tensor {
    return reorder.triangle("tril", this, diagonal);
  }
  triu(diagonal = 0): Tensor {
    return reorder.triangle("triu", this, diagonal);
  }
  /** Running sums along dim (integer and bool inputs sum in int64, as in PyTorch). */
  cumsum(dim: number, opts?: { dtype?: DType }): Tensor {
    return cumsum(this, dim, opts?.dtype);
  }

  // ---- reductions ----
  sum(dim?: Dims | null, opts?: KeepDim & { dtype?: DType }): Tensor {
    return red.sum(this, dim, opts?.keepdim ?? false, opts?.dtype);
  }
  mean(dim?: Dims | null, opts?: KeepDim): Tensor {
    return red.mean(this, dim, opts?.keepdim ?? false);
  }
  prod(dim?: number | null, opts?: KeepDim): Tensor {
    return red.prod(this, dim, opts?.keepdim ?? false);
  }
  var(dim?: Dims | null, opts?: KeepDim & { correction?: number; unbiased?: boolean }): Tensor {
    return red.variance(this, dim, opts?.keepdim ?? false, opts?.correction ?? (opts?.unbiased === false ? 0 : 1));
  }
  std(dim?: Dims | null, opts?: KeepDim & { correction?: number; unbiased?: boolean }): Tensor {
    return this.var(dim, opts).sqrt();
  }
  /** max() reduces everything; max(dim) returns { values, indices } (also destructurable); max(tensor) is maximum. */
  max(): Tensor;
  max(dim: number, opts?: KeepDim): MaxResult;
  max(other: Tensor): Tensor;
  max(dim?: number | Tensor, opts?: KeepDim): Tensor | MaxResult {
    if (dim instanceof Tensor) return this.maximum(dim);
    return dim === undefined ? red.extremeAll(this, false) : red.extremeDim(this, dim, opts?.keepdim ?? false, false);
  }
  min(): Tensor;
  min(dim: number, opts?: KeepDim): MaxResult;
  min(other: Tensor): Tensor;
  min(dim?: number | Tensor, opts?: KeepDim): Tensor | MaxResult {
    if (dim instanceof Tensor) return this.minimum(dim);
    return dim === undefined ? red.extremeAll(this, true) : red.extremeDim(this, dim, opts?.keepdim ?? false, true);
  }
  argmax(dim?: number | null, opts?: KeepDim): Tensor {
    return red.argExtreme(this, dim, opts?.keepdim ?? false, false);
  }
  argmin(dim?: number | null, opts?: KeepDim): Tensor {
    return red.argExtreme(this, dim, opts?.keepdim ?? false, true);
  }
  all(): Tensor {
    return this.ne(0).to("float32").min().ne(0);
  }
  any(): Tensor {
    return this.ne(0).to("float32").max().ne(0);
  }
  softmax(dim: number): Tensor {
    return nnops.softmax(this, dim, false);
  }
  logSoftmax(dim: number): Tensor {
    return nnops.softmax(this, dim, true);
  }

  // ---- linear algebra ----
  matmul(other: Tensor): Tensor {
    return la.matmul(this, other);
  }
  mm(other: Tensor): Tensor {
    return la.mm(this, other);
  }
  bmm(other: Tensor): Tensor {
    return la.bmm(this, other);
  }
  t(): Tensor {
    if (this.dim() > 2) throw opError("t", `expects a tensor with <= 2 dimensions, but self is ${this.dim()}D`);
    return this.dim() < 2 ? this : this.transpose(0, 1);
  }

  // ---- movement (views) ----
  view(...shape: (number | ShapeArg)[]): Tensor {
    return mv.view(this, mv.shapeArgs(shape));
  }
  reshape(...shape: (number | ShapeArg)[]): Tensor {
    return mv.reshape(this, mv.shapeArgs(shape));
  }
  viewAs(other: Tensor): Tensor {
    return mv.view(this, other.shape);
  }
  reshapeAs(other: Tensor): Tensor {
    return mv.reshape(this, other.shape);
  }
  permute(...dims: (number | ShapeArg)[]): Tensor {
    return mv.permute(this, mv.shapeArgs(dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return mv.transpose(this, dim0, dim1);
  }
  expand(...shape: (number | ShapeArg)[]): Tensor {
    return mv.expand(this, mv.shapeArgs(shape));
  }
  expandAs(other: Tensor): Tensor {
    return mv.expand(this, other.shape);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return mv.flatten(this, startDim, endDim);
  }
  unflatten(dim: number, sizes: ShapeArg): Tensor {
    return mv.unflatten(this, dim, sizes);
  }
  squeeze(dim?: number): Tensor {
    return mv.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return mv.unsqueeze(this, dim);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return mv.narrow(this, dim, start, length);
  }
  select(dim: number, index: number): Tensor {
    return mv.select(this, dim, index);
  }
  /**
   * PyTorch indexing: `x.index(0)` is x[0], `x.index(null, 1)` is x[:, 1], `x.index([1, 3])` is x[1:3],
   * `x.index("...", 0)` is x[..., 0], a tensor of indices selects along that dimension, and a bool tensor is a
   * mask over as many dims as it has (`x.index(x.gt(0))` is x[x > 0]; it waits for the device, like maskedSelect).
   */
  index(...specs: IndexSpec[]): Tensor {
    return mv.index(this, specs);
  }
  /** x[i] for a single integer, like PyTorch's `labels[j]`. */
  at(i: number): Tensor {
    return mv.select(this, 0, i);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return mv.indexSelect(this, dim, index);
  }
  /** A copy with the order of elements reversed along dims (`flip(0, 2)` or `flip([0, 2])`). */
  flip(...dims: (number | ShapeArg)[]): Tensor {
    return reorder.flip(this, mv.shapeArgs(dims));
  }
  /** Rolls by shifts along dims (elements pushed past the end come back at the start); no dims: the flat tensor. */
  roll(shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor {
    return reorder.roll(this, shifts, dims);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return mv.chunk(this, chunks, dim);
  }
  split(splitSize: number | number[], dim = 0): Tensor[] {
    return mv.split(this, splitSize, dim);
  }
  repeat(...sizes: (number | ShapeArg)[]): Tensor {
    return mv.repeat(this, mv.shapeArgs(sizes));
  }

  // ---- in place (bump the storage version so autograd notices) ----
  add_(other: TensorOrScalar, opts?: { alpha?: number }): this {
    return inplace.binaryInPlace(this, "add", opts?.alpha !== undefined && opts.alpha !== 1 ? scaled(other, opts.alpha) : other);
  }
  sub_(other: TensorOrScalar, opts?: { alpha?: number }): this {
    return inplace.binaryInPlace(this, "sub", opts?.alpha !== undefined && opts.alpha !== 1 ? scaled(other, opts.alpha) : other);
  }
  mul_(other: TensorOrScalar): this {
    return inplace.binaryInPlace(this, "mul", other);
  }
  div_(other: TensorOrScalar): this {
    return inplace.binaryInPlace(this, "div", other);
  }
  clamp_(min?: number | null, max?: number | null): this {
    return inplace.apply(this, (s) => s.clamp(min, max));
  }
  relu_(): this {
    return inplace.apply(this, (s) => s.relu());
  }
  neg_(): this {
    return inplace.apply(this, (s) => s.neg());
  }
  exp_(): this {
    return inplace.apply(this, (s) => s.exp());
  }
  sqrt_(): this {
    return inplace.apply(this, (s) => s.sqrt());
  }
  lerp_(end: Tensor, weight: number | Tensor): this {
    return inplace.apply(this, (s) => lerp(s, end, weight), [end, typeof weight === "number" ? undefined : weight]);
  }
  maskedFill_(mask: Tensor, value: Scalar | Tensor): this {
    masks.checkInPlaceMask(this, mask);
    return inplace.apply(this, (s) => masks.maskedFill(s, mask, value), [typeof value === "object" ? value : undefined]);
  }
  zero_(): this {
    return inplace.fill(this, 0);
  }
  fill_(value: number): this {
    return inplace.fill(this, value);
  }
  copy_(src: Tensor): this {
    return inplace.copyFrom(this, src);
  }
  uniform_(from = 0, to = 1): this {
    return inplace.uniform(this, from, to);
  }
  normal_(mean = 0, std = 1): this {
    return inplace.normal(this, mean, std);
  }
}
