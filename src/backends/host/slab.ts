// Mid-size CPU buffers carved from shared slabs. Every fresh ArrayBuffer costs V8 a backing store, external-memory
// bookkeeping and later a sweep (1.5-8 us each here), and a tutorial step at batch 4 creates about twenty; a typed
// array over part of an existing ArrayBuffer costs a few tens of nanoseconds. Each slab holds up to SLOTS arrays of
// one rounded size, handed out once each and never reused: the slab is freed by the garbage collector when all its
// arrays are. The price is bounded: a tensor kept alive keeps at most its slab, that is SLOTS times its own size
// and never more than SLAB_BYTES. Arrays of at most 64 bytes live on V8's heap already, and large ones amortise
// their own allocation, so both are left to plain typed arrays.
import { isMainThread } from "node:worker_threads";
import { arrayCtor, type DType, type TypedArray } from "../../core/dtype.js";

const SLAB_BYTES = 256 * 1024;
const SLOTS = 8;
const ALIGN = 64;
const MIN_BYTES = 65;

interface Slab {
  buffer: ArrayBuffer;
  offset: number;
}

const current = new Map<number, Slab>();
// Off in worker threads: a DataLoader worker transfers its batches' buffers to the main thread, and a shared slab
// can't be moved without copying.
let enabled = isMainThread && process.env.KINDLING_SLAB !== "0";

/** A zero-filled array of n elements carved from a slab, or null when n is outside the slab sizes. */
export function carve(dtype: DType, n: number): TypedArray | null {
  if (!enabled) return null;
  const Ctor = arrayCtor(dtype);
  const bytes = n * Ctor.BYTES_PER_ELEMENT;
  if (bytes < MIN_BYTES || bytes * 2 > SLAB_BYTES) return null;
  const stride = Math.ceil(bytes / ALIGN) * ALIGN;
  let slab = current.get(stride);
  if (!slab || slab.offset + stride > slab.buffer.byteLength) {
    slab = { buffer: new ArrayBuffer(stride * Math.min(SLOTS, Math.floor(SLAB_BYTES / stride))), offset: 0 };
    current.set(stride, slab);
  }
  const arr = new Ctor(slab.buffer, slab.offset, n);
  slab.offset += stride;
  return arr;
}

/** Turns slab carving on or off (KINDLING_SLAB=0 starts with it off); turning it off lets go of the open slabs. */
export function setSlabs(on: boolean): void {
  enabled = on;
  if (!on) current.clear();
}
