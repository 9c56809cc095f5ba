// What MPI reads and writes: the live host memory of a CPU storage range, and the MPI datatype its elements are.
// The one place the distributed package touches tensor memory, so storage stays opaque above src/backends/.
import type { DType } from "../../core/dtype.js";
import type { Storage } from "../../backend/device.js";
import { MpiDtype } from "./addon.js";

/** The MPI datatype slot for a dtype; int64 is held as float64 on the host, so it travels as MPI_DOUBLE. */
export function mpiDtype(dtype: DType): number {
  switch (dtype) {
    case "float32":
      return MpiDtype.float;
    case "float64":
    case "int64":
      return MpiDtype.double;
    case "int32":
      return MpiDtype.int;
    case "uint8":
    case "bool":
      return MpiDtype.uchar;
  }
}

/** Elements [offset, offset + n) of a CPU storage as the live typed array (no copy). */
export function hostBuffer(storage: Storage, offset: number, n: number, op: string): ArrayBufferView {
  const view = storage.device.hostView;
  if (!view) {
    throw new Error(`${op}: the MPI backend works on CPU tensors only, got a tensor on ${storage.device.name}; ` +
      `move it with .cpu()`);
  }
  return view.call(storage.device, storage, offset, n);
}
