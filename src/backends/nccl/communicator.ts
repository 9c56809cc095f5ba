// One NCCL communicator and its collectives on CUDA tensors, in place like torch.distributed's. The collectives are
// enqueued on the tensor's device compute stream, so they run in order with the kernels that produced and consume the
// tensors without any host synchronisation. A failure names this rank; a communicator that reports an asynchronous
// error (a peer died, the network failed) is aborted rather than left to hang.
import type { DType } from "../../core/dtype.js";
import { itemSize } from "../../core/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { CudaDevice } from "../cuda/device.js";
import type { CudaStorage } from "../cuda/storage.js";
import { openNccl, versionString, type LoadedNccl } from "./addon.js";

/** ncclDataType_t for the dtypes a CUDA tensor stores natively. */
const DTYPE: Partial<Record<DType, number>> = { float32: 7, float64: 8, int32: 2, int64: 4, uint8: 1 };
/** ncclRedOp_t. */
const OP = { sum: 0, max: 2, min: 3, avg: 4 } as const;
export type NcclReduceOp = keyof typeof OP;
/** ncclAvg arrived in NCCL 2.10. */
const AVG_SINCE = 21000;
const IN_PROGRESS = 7;

export class NcclError extends Error {
  constructor(message: string, readonly rank: number, readonly ncclCode: string | null) {
    super(message);
    this.name = "NcclError";
  }
}

export class NcclCommunicator {
  private comm: bigint | null;
  readonly version: string;

  private constructor(private readonly nccl: LoadedNccl, comm: bigint, readonly rank: number, readonly size: number) {
    this.comm = comm;
    this.version = versionString(nccl.version);
  }

  /** A fresh unique id (rank 0 makes it; the other ranks get its 128 bytes through MPI or the TCPStore). */
  static uniqueId(): Uint8Array {
    return openNccl().addon.uniqueId();
  }

  /** Joins the communicator `id` names as `rank` of `size` (blocks until every rank has joined). */
  static init(id: Uint8Array, size: number, rank: number): NcclCommunicator {
    const nccl = openNccl();
    try {
      return new NcclCommunicator(nccl, nccl.addon.initRank(id, size, rank), rank, size);
    } catch (e) {
      throw wrap(e, rank, `could not join the NCCL communicator of ${size} rank(s)`);
    }
  }

  /** Reduces `t` across the ranks in place. Before NCCL 2.10 (no ncclAvg), avg is a sum divided afterwards. */
  allReduce(t: Tensor, op: NcclReduceOp = "sum"): void {
    const { ptr, count, dtype, stream } = this.operand("allReduce", t);
    if (op === "avg" && !(t.dtype === "float32" || t.dtype === "float64")) {
      throw new Error(`allReduce: ReduceOp.AVG needs a floating-point tensor, got ${t.dtype}`);
    }
    const native = op === "avg" && this.nccl.version < AVG_SINCE;
    this.call("allReduce", () => this.nccl.addon.allReduce(ptr, ptr, count, dtype, OP[native ? "sum" : op], this.live(), stream));
    t.storage.version++;
    // Over one rank the sum is the mean already.
    if (native && this.size > 1) t.div_(this.size);
  }

  /** Copies rank `root`'s tensor into every rank's. */
  broadcast(t: Tensor, root: number): void {
    const { ptr, count, dtype, stream } = this.operand("broadcast", t);
    if (!Number.isInteger(root) || root < 0 || root >= this.size) throw new Error(`broadcast: root ${root} is not a rank of 0..${this.size - 1}`);
    this.call("broadcast", () => this.nccl.addon.broadcast(ptr, ptr, count, dtype, root, this.live(), stream));
    t.storage.version++;
  }

  /** Every rank's `input`, in rank order, into `output` (size × input's elements). */
  allGather(output: Tensor, input: Tensor): void {
    const src = this.operand("allGather", input);
    const dst = this.operand("allGather", output);
    this.sameShapes("allGather", dst.count, src.count * this.size, output, input);
    this.call("allGather", () => this.nccl.addon.allGather(src.ptr, dst.ptr, src.count, src.dtype, this.live(), src.stream));
    output.storage.version++;
  }

  /** Reduces `input` (size × output's elements) across the ranks; rank r keeps block r in `output`. */
  reduceScatter(output: Tensor, input: Tensor, op: Exclude<NcclReduceOp, "avg"> = "sum"): void {
    const src = this.operand("reduceScatter", input);
    const dst = this.operand("reduceScatter", output);
    this.sameShapes("reduceScatter", src.count, dst.count * this.size, input, output);
    this.call("reduceScatter", () => this.nccl.addon.reduceScatter(src.ptr, dst.ptr, dst.count, src.dtype, OP[op], this.live(), src.stream));
    output.storage.version++;
  }

  /** Several collectives fused into one launch (ncclGroupStart/End). */
  group(body: () => void): void {
    this.nccl.addon.groupStart();
    try {
      body();
    } finally {
      this.call("group", () => this.nccl.addon.groupEnd());
    }
  }

  /**
   * Blocks until the device has run everything queued before now on `t`'s compute stream (the collectives included),
   * then checks for an asynchronous NCCL failure.
   */
  synchronize(t: Tensor): void {
    this.device("synchronize", t).synchronize();
    this.checkAsyncError();
  }

  /**
   * Resolves once the device has run everything queued before now on `t`'s compute stream, without blocking the
   * event loop (a one-element stream-ordered copy to the host); rejects on an asynchronous NCCL failure.
   */
  async completion(t: Tensor): Promise<void> {
    await this.device("completion", t).downloadAsync(t.storage, t.offset, Math.min(1, t.numel()));
    this.checkAsyncError();
  }

  /**
   * Throws (after aborting the communicator) when NCCL reports an asynchronous failure: a peer that died or a broken
   * network. Polled while waiting for work, so a lost rank ends in an error instead of a hang.
   */
  checkAsyncError(): void {
    if (this.comm === null) return;
    const code = this.nccl.addon.asyncError(this.comm);
    if (code === 0 || code === IN_PROGRESS) return;
    const text = this.nccl.addon.errorString(code);
    this.abort();
    throw new NcclError(`NCCL failed on rank ${this.rank} of ${this.size}: ${text} (ncclResult_t ${code}); the communicator was aborted`, this.rank, `NCCL_${code}`);
  }

  /** Ends the communicator at once, without waiting for outstanding work (the failure path). */
  abort(): void {
    if (this.comm === null) return;
    const c = this.comm;
    this.comm = null;
    this.nccl.addon.abort(c);
  }

  /** Ends the communicator after its work has finished. */
  destroy(): void {
    if (this.comm === null) return;
    const c = this.comm;
    this.comm = null;
    this.nccl.addon.destroy(c);
  }

  private live(): bigint {
    if (this.comm === null) throw new NcclError(`rank ${this.rank}: the NCCL communicator was destroyed or aborted`, this.rank, null);
    return this.comm;
  }

  private call(op: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof NcclError) throw e;
      const err = wrap(e, this.rank, `${op} failed`);
      this.abort();
      throw err;
    }
  }

  private operand(op: string, t: Tensor): { ptr: bigint; count: number; dtype: number; stream: bigint } {
    if (!t.device.startsWith("cuda")) {
      throw new Error(`${op}: the NCCL backend takes CUDA tensors, got one on ${t.device} (move it with .to("cuda"), or use the MPI backend for CPU tensors)`);
    }
    const dtype = DTYPE[t.dtype];
    if (dtype === undefined) throw new Error(`${op}: dtype ${t.dtype} is not supported by the NCCL backend (float32, float64, int32, int64, uint8 are)`);
    if (!t.isContiguous()) throw new Error(`${op}: Tensors must be contiguous (call .contiguous() first)`);
    const storage = t.storage as CudaStorage;
    const device = storage.device as CudaDevice;
    return { ptr: storage.ptr + BigInt(t.offset * itemSize(t.dtype)), count: t.numel(), dtype, stream: device.rt.computeStream() };
  }

  private device(op: string, t: Tensor): CudaDevice {
    if (!t.device.startsWith("cuda")) throw new Error(`${op}: expected a CUDA tensor, got one on ${t.device}`);
    return (t.storage as CudaStorage).device as CudaDevice;
  }

  private sameShapes(op: string, have: number, want: number, big: Tensor, small: Tensor): void {
    if (have !== want || big.dtype !== small.dtype) {
      throw new Error(`${op}: the larger tensor must hold world size (${this.size}) × the other's ${small.numel()} elements of ${small.dtype}, got ${big.numel()} of ${big.dtype}`);
    }
  }
}

function wrap(e: unknown, rank: number, what: string): NcclError {
  const err = e as Error & { code?: string };
  return new NcclError(`rank ${rank}: ${what}: ${err.message}`, rank, typeof err.code === "string" ? err.code : null);
}
