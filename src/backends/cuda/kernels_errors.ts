// Device-side checks that the reference does on the host (a class index >= C in cross-entropy, an index out of
// range in indexSelect): the kernel writes the first failure into the runtime's KErr record (code, value, bound;
// native/cuda/kernels/common.cuh) and the host reads it at the next synchronisation (runtime.ts runAfterSyncChecks)
// and throws the reference's message, naming the op. A record is read only after a checking kernel was queued.
import { opError } from "../../core/errors.js";
import { onAfterSync, type CudaRuntime, type DevicePtr } from "./runtime.js";

/** Codes the kernels report (KErr.code). */
export const ERR = { crossEntropy: 1, nllLoss: 2, indexSelect: 3, indexAdd: 4, nllLossBackward: 5, gather: 6, scatter: 7 } as const;
export type ErrOp = keyof typeof ERR;

const ERR_BYTES = 24;

class ErrorRecord {
  readonly ptr: DevicePtr;
  pending = false;
  private ignore = new Map<number, number>();
  constructor(private readonly rt: CudaRuntime) {
    this.ptr = rt.alloc(ERR_BYTES);
    rt.memsetD32(this.ptr, 0, ERR_BYTES / 4);
    onAfterSync(rt, () => this.check());
  }
  /** The record's address for a checking kernel's launch; `ignoreIndex` completes the loss messages (gather and scatter pass their dim). */
  use(op: ErrOp, ignoreIndex = -100): DevicePtr {
    this.pending = true;
    this.ignore.set(ERR[op], ignoreIndex);
    return this.ptr;
  }
  check(): void {
    if (!this.pending) return;
    this.pending = false;
    const rec = new BigInt64Array(3);
    this.rt.copyDtoH(rec, this.ptr);
    const code = Number(rec[0]);
    if (code === 0) return;
    this.rt.memsetD32(this.ptr, 0, ERR_BYTES / 4);
    throw errorFor(code, Number(rec[1]), Number(rec[2]), this.ignore.get(code) ?? -100);
  }
}

export function errorFor(code: number, value: number, bound: number, ignoreIndex: number): Error {
  switch (code) {
    case ERR.crossEntropy:
    case ERR.nllLoss:
    case ERR.nllLossBackward: {
      const op = code === ERR.crossEntropy ? "crossEntropy" : code === ERR.nllLoss ? "nllLoss" : "nllLossBackward";
      return opError(op, `target ${value} is out of bounds: expected a class index in [0, ${bound - 1}] (or ignoreIndex ${ignoreIndex}) (device-side check on cuda)`);
    }
    case ERR.indexSelect:
    case ERR.indexAdd:
      return opError(code === ERR.indexSelect ? "indexSelect" : "indexAdd", `index ${value} is out of bounds for dimension of size ${bound} (device-side check on cuda)`);
    case ERR.gather:
    case ERR.scatter:
      return opError(code === ERR.gather ? "gather" : "scatter", `index ${value} is out of bounds for dimension ${ignoreIndex} with size ${bound} (device-side check on cuda)`);
    default:
      return new Error(`a CUDA kernel reported an unknown error code ${code} (value ${value}, bound ${bound})`);
  }
}

const records = new WeakMap<CudaRuntime, ErrorRecord>();

/** The runtime's error record (allocated on first use). */
export function errorRecord(rt: CudaRuntime): ErrorRecord {
  let r = records.get(rt);
  if (!r) records.set(rt, (r = new ErrorRecord(rt)));
  return r;
}
