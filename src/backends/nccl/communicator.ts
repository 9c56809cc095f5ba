// One NCCL communicator and its collectives on CUDA tensors, in place like torch.distributed's. A collective runs on
// the device's collectives stream, after everything queued on the compute stream before it (an event orders the
// two), so its inputs are written without any host synchronisation; the compute stream waits for its result when the
// returned event is joined (at once, unless { async: true } defers that to the caller). A failure names this rank; a
// communicator that reports an asynchronous error (a peer died, the network failed) is aborted rather than left to
// hang.
import type { DType } from "../../core/dtype.js";
import { itemSize } from "../../core/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { CudaDevice } from "../cuda/device.js";
import type { CudaStorage } from "../cuda/storage.js";
import type { NativeCudaRuntime } from "../cuda/native_runtime.js";
import { CollectiveEvent } from "./collective_event.js";
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

export interface CollectiveOptions {
  /** Leave the compute stream free to run on: the caller joins the returned event when it needs the result. */
  async?: boolean;
}

interface Operand {
  ptr: bigint;
  count: number;
  dtype: number;
  rt: NativeCudaRuntime;
}

export class NcclCommunicator {
  private comm: bigint | null;
  /** Inside group(): the event every collective of the group completes with (made by the first one). */
  private grouped: CollectiveEvent | null = null;
  private inGroup = false;
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
  allReduce(t: Tensor, op: NcclReduceOp = "sum", opts: CollectiveOptions = {}): CollectiveEvent {
    const o = this.operand("allReduce", t);
    if (op === "avg" && !(t.dtype === "float32" || t.dtype === "float64")) {
      throw new Error(`allReduce: ReduceOp.AVG needs a floating-point tensor, got ${t.dtype}`);
    }
    const native = op === "avg" && this.nccl.version < AVG_SINCE;
    if (native && this.inGroup && this.size > 1) {
      throw new Error(`allReduce: ReduceOp.AVG inside a group needs NCCL >= 2.10 (this is ${this.version}); use sum and divide after the group`);
    }
    const ev = this.enqueue("allReduce", o, (stream) => this.nccl.addon.allReduce(o.ptr, o.ptr, o.count, o.dtype, OP[native ? "sum" : op], this.live(), stream), opts);
    t.storage.version++;
    // Over one rank the sum is the mean already. The division is compute-stream work on the result: it joins.
    if (native && this.size > 1) {
      ev.joinCompute();
      t.div_(this.size);
    }
    return ev;
  }

  /** Copies rank `root`'s tensor into every rank's. */
  broadcast(t: Tensor, root: number, opts: CollectiveOptions = {}): CollectiveEvent {
    const o = this.operand("broadcast", t);
    if (!Number.isInteger(root) || root < 0 || root >= this.size) throw new Error(`broadcast: root ${root} is not a rank of 0..${this.size - 1}`);
    const ev = this.enqueue("broadcast", o, (stream) => this.nccl.addon.broadcast(o.ptr, o.ptr, o.count, o.dtype, root, this.live(), stream), opts);
    t.storage.version++;
    return ev;
  }

  /** Every rank's `input`, in rank order, into `output` (size × input's elements). */
  allGather(output: Tensor, input: Tensor, opts: CollectiveOptions = {}): CollectiveEvent {
    const src = this.operand("allGather", input);
    const dst = this.operand("allGather", output);
    this.sameShapes("allGather", dst.count, src.count * this.size, output, input);
    const ev = this.enqueue("allGather", src, (stream) => this.nccl.addon.allGather(src.ptr, dst.ptr, src.count, src.dtype, this.live(), stream), opts);
    output.storage.version++;
    return ev;
  }

  /** Reduces `input` (size × output's elements) across the ranks; rank r keeps block r in `output`. */
  reduceScatter(output: Tensor, input: Tensor, op: Exclude<NcclReduceOp, "avg"> = "sum", opts: CollectiveOptions = {}): CollectiveEvent {
    const src = this.operand("reduceScatter", input);
    const dst = this.operand("reduceScatter", output);
    this.sameShapes("reduceScatter", src.count, dst.count * this.size, input, output);
    const ev = this.enqueue("reduceScatter", src, (stream) => this.nccl.addon.reduceScatter(src.ptr, dst.ptr, dst.count, src.dtype, OP[op], this.live(), stream), opts);
    output.storage.version++;
    return ev;
  }

  /**
   * Several collectives fused into one launch (ncclGroupStart/End). They all complete with the group: each returns
   * the group's event, recorded when the group ends, which is also returned here (null when the body queued none).
   */
  group(body: () => void, opts: CollectiveOptions = {}): CollectiveEvent | null {
    if (this.inGroup) throw new Error("group: NCCL groups do not nest here (call the collectives directly inside the outer group)");
    this.inGroup = true;
    this.grouped = null;
    let ev: CollectiveEvent | null = null;
    this.nccl.addon.groupStart();
    try {
      body();
    } finally {
      ev = this.grouped as CollectiveEvent | null; // set by the body's collectives
      this.inGroup = false;
      this.grouped = null;
      this.call("group", () => this.nccl.addon.groupEnd());
    }
    if (ev) {
      ev.record();
      if (!opts.async) ev.joinCompute();
    }
    return ev;
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

  /**
   * Queues `f` on the collectives' stream after everything queued so far on the compute stream. Outside a group the
   * collective's end is recorded at once, and joined unless opts.async.
   */
  private enqueue(op: string, o: Operand, f: (stream: bigint) => void, opts: CollectiveOptions): CollectiveEvent {
    const rt = o.rt;
    const side = rt.sideStream();
    const ready = rt.recordEvent(rt.computeStream());
    rt.streamWaitEvent(side, ready);
    // The wait above took the event's state as it is now: the event can be reused at once.
    rt.releaseEvent(ready);
    this.call(op, () => f(side));
    if (this.inGroup) return (this.grouped ??= new CollectiveEvent(rt));
    const ev = new CollectiveEvent(rt);
    ev.record();
    if (!opts.async) ev.joinCompute();
    return ev;
  }

  private operand(op: string, t: Tensor): Operand {
    if (!t.device.startsWith("cuda")) {
      throw new Error(`${op}: the NCCL backend takes CUDA tensors, got one on ${t.device} (move it with .to("cuda"), or use the MPI backend for CPU tensors)`);
    }
    const dtype = DTYPE[t.dtype];
    if (dtype === undefined) throw new Error(`${op}: dtype ${t.dtype} is not supported by the NCCL backend (float32, float64, int32, int64, uint8 are)`);
    if (!t.isContiguous()) throw new Error(`${op}: Tensors must be contiguous (call .contiguous() first)`);
    const storage = t.storage as CudaStorage;
    const device = storage.device as CudaDevice;
    return { ptr: storage.ptr + BigInt(t.offset * itemSize(t.dtype)), count: t.numel(), dtype, rt: device.rt };
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
