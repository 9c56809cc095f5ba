// CPU memory: a typed array, read directly by the reference and native kernels alike (both see the same bytes, so
// falling back between them costs nothing). Only src/backends/ knows this class; above it a Storage is opaque.
import type { DType, TypedArray } from "../../core/dtype.js";
import type { DeviceBackend, Storage } from "../../backend/device.js";
import { recycle } from "./buffer_pool.js";

const RELEASED = {
  float32: new Float32Array(0),
  float64: new Float64Array(0),
  int32: new Int32Array(0),
  int64: new Float64Array(0),
  uint8: new Uint8Array(0),
  bool: new Uint8Array(0),
} satisfies Record<DType, TypedArray>;

export class HostStorage implements Storage {
  version = 0;
  recyclable = false;
  constructor(
    /** Replaced by an empty array on release(), so a read after release fails instead of seeing reused memory. */
    public data: TypedArray,
    readonly dtype: DType,
    readonly device: DeviceBackend,
  ) {}
  get size(): number {
    return this.data.length;
  }
  get byteSize(): number {
    return this.data.byteLength;
  }
  get handle(): TypedArray {
    return this.data;
  }
  release(): void {
    if (this.recyclable) recycle(this);
    this.recyclable = false;
    this.data = RELEASED[this.dtype];
  }
}
