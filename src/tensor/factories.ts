// Factories build on the device: zeros is the allocator's zero fill, ones/full a fill kernel, and the rest compute
// their values on the host (rand/randn straight into an array of the tensor's dtype) and upload them once.
import { allocArray, castValue, isFloating, type DType } from "../core/dtype.js";
import { opError } from "../core/errors.js";
import { kernelsFor } from "./dispatch.js";
import { emptyTensor, finish, fromHost, resolveDevice, type TensorOptions } from "./create.js";
import { permutation, type Generator, defaultGenerator } from "./random.js";
import type { Tensor } from "./tensor.js";

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

type SizeArgs = (number | readonly number[] | RandomOptions)[];

/** Factories accept `zeros(2, 3)`, `zeros([2, 3])` and a trailing options object. */
function parse(args: SizeArgs): [number[], RandomOptions] {
  let opts: RandomOptions = {};
  const list = [...args];
  if (list.length && typeof list[list.length - 1] === "object" && !Array.isArray(list[list.length - 1])) {
    opts = list.pop() as RandomOptions;
  }
  const shape = list.length === 1 && Array.isArray(list[0]) ? [...(list[0] as number[])] : (list as number[]);
  return [shape, opts];
}

function make(shape: number[], opts: TensorOptions, dflt: DType = "float32"): Tensor {
  return emptyTensor(shape, opts.dtype ?? dflt, resolveDevice(opts.device));
}

export function zeros(...args: SizeArgs): Tensor {
  const [shape, opts] = parse(args);
  return finish(make(shape, opts), opts);
}

export function empty(...args: SizeArgs): Tensor {
  return zeros(...args);
}

export function ones(...args: SizeArgs): Tensor {
  const [shape, opts] = parse(args);
  const t = make(shape, opts);
  kernelsFor(t).fill(t, 1);
  return finish(t, opts);
}

/** Host values of dtype's array type, uploaded once to the option's device. */
function upload(values: Float64Array | number[], shape: number[], dtype: DType, opts: TensorOptions): Tensor {
  const arr = allocArray(dtype, values.length);
  if (dtype === "float32" || dtype === "float64" || dtype === "int64") arr.set(values);
  else for (let i = 0; i < values.length; i++) arr[i] = castValue(dtype, values[i]!);
  return fromHost(arr, shape, dtype, resolveDevice(opts.device));
}

export function full(shape: readonly number[], value: number | boolean, opts: TensorOptions = {}): Tensor {
  const dflt: DType = typeof value === "boolean" ? "bool" : "float32";
  const t = make([...shape], opts, dflt);
  t.fill_(Number(value));
  return finish(t, opts);
}

function floatDType(op: string, opts: TensorOptions): DType {
  const dt = opts.dtype ?? "float32";
  if (!isFloating(dt)) throw opError(op, `expected a floating point dtype, got ${dt}`);
  return dt;
}

export function rand(...args: SizeArgs): Tensor {
  const [shape, opts] = parse(args);
  const dtype = floatDType("rand", opts);
  const values = allocArray(dtype, count(shape)) as Float32Array | Float64Array;
  (opts.generator ?? defaultGenerator).fillUniform(values, 0, values.length, 0, 1);
  return finish(fromHost(values, shape, dtype, resolveDevice(opts.device)), opts);
}

export function randn(...args: SizeArgs): Tensor {
  const [shape, opts] = parse(args);
  const dtype = floatDType("randn", opts);
  const values = allocArray(dtype, count(shape)) as Float32Array | Float64Array;
  (opts.generator ?? defaultGenerator).fillNormal(values, 0, values.length, 0, 1);
  return finish(fromHost(values, shape, dtype, resolveDevice(opts.device)), opts);
}

/** randint(high, size) or randint(low, high, size), int64 by default. */
export function randint(a: number, b: number | readonly number[], c?: readonly number[] | RandomOptions, d?: RandomOptions): Tensor {
  let low = 0;
  let high: number;
  let size: readonly number[];
  let opts: RandomOptions;
  if (typeof b === "number") {
    low = a;
    high = b;
    size = c as readonly number[];
    opts = d ?? {};
  } else {
    high = a;
    size = b;
    opts = (c as RandomOptions) ?? {};
  }
  if (!(high > low)) throw opError("randint", `random_ expects 'from' to be less than 'to', but got from=${low} >= to=${high}`);
  const gen = opts.generator ?? defaultGenerator;
  const values = new Float64Array(count(size));
  for (let i = 0; i < values.length; i++) values[i] = gen.randint(low, high);
  return upload(values, [...size], opts.dtype ?? "int64", opts);
}

export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  return upload(permutation(n, opts.generator), [n], opts.dtype ?? "int64", opts);
}

/** arange(end), arange(start, end), arange(start, end, step); integer arguments give int64 like PyTorch. */
export function arange(a: number, b?: number | TensorOptions, c?: number | TensorOptions, d?: TensorOptions): Tensor {
  const nums = [a, b, c].filter((v): v is number => typeof v === "number");
  const opts = ([b, c, d].find((v) => typeof v === "object") as TensorOptions | undefined) ?? {};
  const [start, end, step] = nums.length === 1 ? [0, nums[0], 1] : nums.length === 2 ? [nums[0], nums[1], 1] : [nums[0], nums[1], nums[2]];
  if (step === 0) throw opError("arange", "step must be nonzero");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const allInt = nums.every(Number.isInteger);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(upload(data, [n], opts.dtype ?? (allInt ? "int64" : "float32"), opts), opts);
}

export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  const data = new Float64Array(steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) data[i] = i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step;
  return finish(upload(data, [steps], opts.dtype ?? "float32", opts), opts);
}

export function eye(n: number, m: number | TensorOptions = n, opts: TensorOptions = {}): Tensor {
  const cols = typeof m === "number" ? m : n;
  const o = typeof m === "object" ? m : opts;
  const data = new Float64Array(n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) data[i * cols + i] = 1;
  return finish(upload(data, [n, cols], o.dtype ?? "float32", o), o);
}

function likeOpts(t: Tensor, opts: TensorOptions = {}): TensorOptions {
  return { dtype: opts.dtype ?? t.dtype, device: opts.device ?? t.device, requiresGrad: opts.requiresGrad };
}

export const zerosLike = (t: Tensor, opts?: TensorOptions): Tensor => zeros(t.shape, likeOpts(t, opts));
export const emptyLike = zerosLike;
export const onesLike = (t: Tensor, opts?: TensorOptions): Tensor => ones(t.shape, likeOpts(t, opts));
export const fullLike = (t: Tensor, v: number, opts?: TensorOptions): Tensor => full(t.shape, v, likeOpts(t, opts));
export const randLike = (t: Tensor, opts?: RandomOptions): Tensor => rand(t.shape, { ...likeOpts(t, opts), generator: opts?.generator });
export const randnLike = (t: Tensor, opts?: RandomOptions): Tensor => randn(t.shape, { ...likeOpts(t, opts), generator: opts?.generator });

function count(shape: readonly number[]): number {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw opError("empty", `invalid shape [${shape.join(", ")}]: sizes must be non-negative integers`);
  }
  return shape.reduce((a, b) => a * b, 1);
}
