import type { DeviceBackend } from "../backend/device.js";
import { getDevice } from "../backends/registry.js";
import { allocArray, arrayCtor, assertDType, castValue, type DType, type TypedArray } from "../core/dtype.js";
import { fmtShape, opError } from "../core/errors.js";
import { contiguousStrides, numelOf } from "../core/shape.js";
import { Tensor } from "./tensor.js";

export interface TensorOptions {
  dtype?: DType;
  device?: string | { toString(): string };
  requiresGrad?: boolean;
}

/** The device object for a device option (default "cpu"). */
export function resolveDevice(device: TensorOptions["device"]): DeviceBackend {
  return getDevice(device === undefined ? "cpu" : device);
}

/**
 * A contiguous tensor holding host values on a device: uploaded once, or, on a host device when `adopt` is true,
 * kept as the very array (fromTypedArray's zero-copy contract, and arrays the caller just built).
 */
export function fromHost(data: TypedArray, shape: readonly number[], dtype: DType, device: DeviceBackend, adopt = true): Tensor {
  const storage = adopt && device.adopt ? device.adopt(data, dtype) : device.upload(data, dtype);
  return new Tensor(storage, shape.slice(), contiguousStrides(shape), 0);
}

/** A contiguous CPU tensor over the caller's host array, no copy (what fromTypedArray checks and builds). */
export function wrap(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return fromHost(data, shape, dtype, getDevice("cpu"));
}

/** A new zero-filled contiguous tensor. */
export function emptyTensor(shape: readonly number[], dtype: DType, device: DeviceBackend): Tensor {
  if (!arrayCtorOk(dtype)) assertDType(dtype);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw opError("empty", `invalid shape ${fmtShape(shape)}: sizes must be non-negative integers`);
  }
  return new Tensor(device.alloc(dtype, numelOf(shape)), shape.slice(), contiguousStrides(shape), 0);
}

export function finish(t: Tensor, opts?: TensorOptions): Tensor {
  if (opts?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  return "uint8";
}

/**
 * Zero-copy tensor over a typed array (like torch.from_numpy): writes to either are seen by both. Int64 data must
 * come as a Float64Array (kindling's int64 storage).
 */
export function fromTypedArray(data: TypedArray, shape?: readonly number[], dtype?: DType): Tensor {
  const dt = dtype ?? dtypeOfArray(data);
  if (!(data instanceof arrayCtor(dt))) {
    throw opError("fromTypedArray", `dtype ${dt} needs a ${arrayCtor(dt).name}, got ${data.constructor.name}`);
  }
  const sh = shape ?? [data.length];
  if (numelOf(sh) !== data.length) {
    throw opError("fromTypedArray", `shape ${fmtShape(sh)} holds ${numelOf(sh)} elements but the array has ${data.length}`);
  }
  return wrap(data, sh, dt);
}

type Nested = number | boolean | bigint | Nested[] | TypedArray;

interface Kinds {
  float: boolean;
  bool: boolean;
  /** A JS number was seen: torch.tensor's default dtype is float32 unless every number is a bigint. */
  number: boolean;
  bigint: boolean;
}

function inferNested(data: Nested, shape: number[], depth: number, flat: number[], kind: Kinds): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) {
      throw opError("tensor", `expected sequence of length ${shape[depth]} at dim ${depth} (got ${data.length})`);
    }
    for (const d of data) inferNested(d, shape, depth + 1, flat, kind);
    return;
  }
  if (ArrayBuffer.isView(data)) {
    inferNested(Array.from(data as TypedArray), shape, depth, flat, kind);
    return;
  }
  if (shape.length !== depth) throw opError("tensor", `ragged nested sequence at dim ${depth}`);
  if (typeof data === "boolean") {
    flat.push(data ? 1 : 0);
    return;
  }
  if (typeof data === "bigint") {
    if (data > BigInt(Number.MAX_SAFE_INTEGER) || data < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw opError("tensor", `${data}n is beyond 2^53: int64 tensors hold exact integers only up to 2^53 (they are stored as doubles)`);
    }
    flat.push(Number(data));
    kind.bool = false;
    kind.bigint = true;
    return;
  }
  if (typeof data !== "number") throw opError("tensor", `cannot make a tensor from ${typeof data}`);
  kind.bool = false;
  kind.number = true;
  flat.push(data);
}

/**
 * torch.tensor: copies nested arrays, numbers or typed arrays. JS numbers default to float32 (PyTorch's default
 * dtype; pass { dtype: torch.int64 } for integer data), booleans to bool, typed arrays keep their dtype.
 */
export function tensor(data: Nested | Tensor, opts?: TensorOptions): Tensor {
  if (data instanceof Tensor) {
    const moved = data.detach().to(opts?.device ?? data.device, opts?.dtype ?? data.dtype);
    return finish(moved === data || moved.storage === data.storage ? moved.clone() : moved, opts);
  }
  const device = resolveDevice(opts?.device);
  let dtype = opts?.dtype;
  if (ArrayBuffer.isView(data)) {
    const src = data as TypedArray;
    const dt = dtype ?? dtypeOfArray(src);
    const out = allocArray(dt, src.length);
    if (dt === dtypeOfArray(src) || (dt !== "bool" && dt !== "uint8" && dt !== "int32")) out.set(src);
    else for (let i = 0; i < src.length; i++) out[i] = castValue(dt, src[i]);
    return finish(fromHost(out, [src.length], dt, device), opts);
  }
  const shape: number[] = [];
  const flat: number[] = [];
  const kind: Kinds = { float: false, bool: true, number: false, bigint: false };
  inferNested(data, shape, 0, flat, kind);
  if (flat.length === 0 && shape.length === 0) kind.bool = false;
  const inferred: DType = kind.bool && flat.length > 0 ? "bool" : kind.bigint && !kind.number ? "int64" : "float32";
  dtype = dtype ? assertDType(dtype) : inferred;
  const out = allocArray(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) out[i] = castValue(dtype, flat[i]);
  return finish(fromHost(out, shape, dtype, device), opts);
}

function arrayCtorOk(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64" || dtype === "int64" || dtype === "int32" || dtype === "uint8" || dtype === "bool";
}
