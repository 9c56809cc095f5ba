// Recycled CPU buffers. A fresh typed array costs several microseconds (zeroing cold memory, page faults, GC
// bookkeeping) while refilling a recently freed one costs a fraction of that. JavaScript can't tell when a tensor
// dies, so only storages whose death the engine proves are recycled: gradients that the backward pass produced and
// consumed itself (see autograd/engine.ts, which calls Storage.release()). Everything else is left to the garbage collector.
import type { DType, TypedArray } from "../../core/dtype.js";
import type { HostStorage } from "./storage.js";

const MAX_PER_SIZE = 8;
const MAX_BYTES = 64 * 2 ** 20;
/** Below this many elements V8 allocates on its own heap quickly; pooling would not pay. */
export const MIN_POOLED = 64;

const free = new Map<string, TypedArray[]>();
let pooledBytes = 0;
let enabled = process.env.KINDLING_RECYCLE !== "0";

const key = (dtype: DType, n: number) => `${dtype}:${n}`;

/** A zero-filled buffer of exactly n elements from the pool, or null. */
export function takeBuffer(dtype: DType, n: number): TypedArray | null {
  const list = free.get(key(dtype, n));
  const arr = list?.pop();
  if (!arr) return null;
  pooledBytes -= arr.byteLength;
  arr.fill(0);
  return arr;
}

/** Returns a storage's memory to the pool. The caller guarantees no tensor will touch this storage again. */
export function recycle(storage: HostStorage): void {
  if (!enabled || !storage.recyclable) return;
  const arr = storage.data;
  if (arr.length < MIN_POOLED || pooledBytes + arr.byteLength > MAX_BYTES) return;
  storage.recyclable = false;
  const k = key(storage.dtype, arr.length);
  let list = free.get(k);
  if (!list) free.set(k, (list = []));
  if (list.length >= MAX_PER_SIZE) return;
  list.push(arr);
  pooledBytes += arr.byteLength;
}

/** Turns recycling on or off (KINDLING_RECYCLE=0 starts with it off); drops what is pooled when turned off. */
export function setRecycling(on: boolean): void {
  enabled = on;
  if (!on) {
    free.clear();
    pooledBytes = 0;
  }
}

export function poolStats(): { bytes: number; buffers: number } {
  let buffers = 0;
  for (const l of free.values()) buffers += l.length;
  return { bytes: pooledBytes, buffers };
}
