// torch.distributed's collectives on the NCCL process group: CUDA tensors, reduced by NCCL on the device's collectives
// stream beside the compute stream (src/backends/nccl/collective_event.ts). As in PyTorch, wait() does not block the
// host: it makes the compute stream wait for the collective, so `asyncOp: true` lets the kernels queued meanwhile
// (the rest of a backward pass) run while the collective does. The Work's Promise resolves when the device has run
// the collective; barrier() alone blocks the host. The tensors stay referenced until then, so their memory cannot be
// reused by the compute stream while NCCL still reads or writes it.
import type { CollectiveEvent } from "../backends/nccl/collective_event.js";
import type { NcclCommunicator } from "../backends/nccl/communicator.js";
import { noGrad } from "../autograd/grad_mode.js";
import type { Tensor } from "../tensor/tensor.js";
import { zeros } from "../tensor/factories.js";
import { Work } from "./work.js";
import type { NcclPart } from "./process_group.js";

export type NcclOp = "sum" | "avg" | "max" | "min";

const ASYNC = { async: true } as const;

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** `keep`: the tensors the collective reads or writes, held until the device has finished with them. */
function work(comm: NcclCommunicator, label: string, ev: CollectiveEvent, keep: readonly Tensor[], timeoutMs: number, blocking = false): Work {
  const w = new Work(-1, `rank ${comm.rank}: ${label}`, () => {
    ev.synchronize();
    comm.checkAsyncError();
    return { done: true, error: null };
  }, timeoutMs, null, (message) => {
    // A collective that never finishes holds the stream: end the communicator so later work fails instead of hanging.
    comm.abort();
    return new Error(`${message}; the NCCL communicator was aborted`);
  }, blocking ? null : () => {
    ev.joinCompute();
    comm.checkAsyncError();
  });
  ev.finished().then(() => {
    let failure: Error | null = null;
    try {
      comm.checkAsyncError();
    } catch (e) {
      failure = toError(e);
    }
    w.complete(failure);
    // Referenced here, so the tensors stay alive (their memory unused by others) until the device is done with them.
    void keep;
  }, (e: unknown) => w.complete(toError(e)));
  return w;
}

function onDevice(n: NcclPart, op: string, t: Tensor): void {
  if (t.device !== n.device) {
    throw new Error(`${op}: this rank's NCCL process group runs on ${n.device}, got a tensor on ${t.device}` +
      (t.device.startsWith("cuda") ? "" : ` (move it with .to("${n.device}"); CPU tensors need the MPI backend)`));
  }
}

export function ncclAllReduce(n: NcclPart, t: Tensor, op: NcclOp, timeoutMs: number): Work {
  onDevice(n, "allReduce", t);
  const ev = n.comm.allReduce(t, op, ASYNC);
  return work(n.comm, `allReduce(${op}, ${t.dtype}[${t.numel()}])`, ev, [t], timeoutMs);
}

export function ncclBroadcast(n: NcclPart, t: Tensor, src: number, timeoutMs: number): Work {
  onDevice(n, "broadcast", t);
  const ev = n.comm.broadcast(t, src, ASYNC);
  return work(n.comm, `broadcast(src ${src}, ${t.dtype}[${t.numel()}])`, ev, [t], timeoutMs);
}

export function ncclAllGatherIntoTensor(n: NcclPart, output: Tensor, input: Tensor, timeoutMs: number): Work {
  onDevice(n, "allGather", input);
  onDevice(n, "allGather", output);
  const ev = n.comm.allGather(output, input, ASYNC);
  return work(n.comm, `allGather(${input.dtype}[${input.numel()}])`, ev, [output, input], timeoutMs);
}

/** Gathers into one flat device tensor, then copies the blocks out on the compute stream (which joins first). */
export function ncclAllGather(n: NcclPart, list: Tensor[], input: Tensor, timeoutMs: number): Work {
  onDevice(n, "allGather", input);
  for (const t of list) onDevice(n, "allGather", t);
  const k = input.numel();
  const flat = zeros([list.length * k], { dtype: input.dtype, device: n.device });
  const ev = n.comm.allGather(flat, input);
  noGrad(() => list.forEach((t, r) => t.copy_(flat.narrow(0, r * k, k).view(t.shape))));
  return work(n.comm, `allGather(${input.dtype}[${k}])`, ev, [flat, input, ...list], timeoutMs);
}

export function ncclReduceScatterTensor(n: NcclPart, output: Tensor, input: Tensor, op: NcclOp, timeoutMs: number): Work {
  onDevice(n, "reduceScatter", input);
  onDevice(n, "reduceScatter", output);
  // NCCL's reduce-scatter takes no average here: a sum, then the division on the compute stream, which joins first.
  const divide = op === "avg" && n.comm.size > 1;
  const ev = n.comm.reduceScatter(output, input, op === "avg" ? "sum" : op, divide ? {} : ASYNC);
  if (divide) noGrad(() => void output.div_(n.comm.size));
  return work(n.comm, `reduceScatter(${op}, ${input.dtype}[${input.numel()}])`, ev, [output, input], timeoutMs);
}

/** PyTorch's NCCL barrier: a one-element all-reduce on the device, and the host waits until the device has run it. */
export function ncclBarrier(n: NcclPart, timeoutMs: number): Work {
  const t = zeros([1], { dtype: "float32", device: n.device });
  const ev = n.comm.allReduce(t, "sum", ASYNC);
  return work(n.comm, "barrier", ev, [t], timeoutMs, true);
}
