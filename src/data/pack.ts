// Moving batches between threads: tensors travel as { data, shape, dtype } with their buffers in
// the transfer list (moved, not copied); everything else is structured-cloned. Objects are rebuilt with
// Object.fromEntries, which defines keys: a key "__proto__" stays a key instead of replacing the prototype.

import { fromTypedArray } from "../tensor/create.js";
import { Tensor } from "../tensor/tensor.js";
import type { DType, TypedArray } from "../core/dtype.js";

interface PackedTensor {
  __kindlingTensor: true;
  data: TypedArray;
  shape: number[];
  dtype: DType;
}

function isPackedTensor(x: unknown): x is PackedTensor {
  return typeof x === "object" && x !== null && (x as PackedTensor).__kindlingTensor === true;
}

/** An object literal, or a null-prototype dictionary (like the tensors safetensors.load returns). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

export function pack(x: unknown, transfer: Set<ArrayBuffer>): unknown {
  if (x instanceof Tensor) {
    let data = x.dataSync();
    // Only a buffer the tensor owns alone can be moved; views of shared storage are copied first.
    const owns = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer);
    if (!owns || transfer.has(data.buffer as ArrayBuffer)) data = data.slice();
    transfer.add(data.buffer as ArrayBuffer);
    return { __kindlingTensor: true, data, shape: x.shape.slice(), dtype: x.dtype } satisfies PackedTensor;
  }
  if (Array.isArray(x)) return x.map((v) => pack(v, transfer));
  if (x instanceof Map) return new Map([...x].map(([k, v]) => [k, pack(v, transfer)]));
  if (isPlainObject(x)) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, pack(v, transfer)]));
  }
  return x;
}

export function unpack(x: unknown): unknown {
  if (isPackedTensor(x)) return fromTypedArray(x.data, x.shape, x.dtype);
  if (Array.isArray(x)) return x.map(unpack);
  if (x instanceof Map) return new Map([...x].map(([k, v]) => [k, unpack(v)]));
  if (isPlainObject(x)) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, unpack(v)]));
  }
  return x;
}

/** Rows [start, start + len) of every tensor in a collated batch (views, no copies). */
export function sliceBatch(x: unknown, start: number, len: number): unknown {
  if (x instanceof Tensor) {
    const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = x.dataSync();
    return fromTypedArray(data.subarray(start * rowSize, (start + len) * rowSize), [len, ...x.shape.slice(1)], x.dtype);
  }
  if (Array.isArray(x)) return x.map((v) => sliceBatch(v, start, len));
  if (x instanceof Map) return new Map([...x].map(([k, v]) => [k, sliceBatch(v, start, len)]));
  if (isPlainObject(x)) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, sliceBatch(v, start, len)]));
  }
  return x;
}
