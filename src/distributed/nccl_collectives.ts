// torch.distributed's collectives on the NCCL process group: CUDA tensors, reduced by NCCL on the device's compute
// stream (the addon has no CUDA events, so NCCL does not get a stream of its own: a collective runs in order with
// the kernels around it rather than beside them). A Work's Promise resolves when the device has run the collective;
// wait() blocks the host until then, and rethrows an asynchronous NCCL failure.
import type { NcclCommunicator } from "../backends/nccl/communicator.js";
import { noGrad } from "../autograd/grad_mode.js";
import type { Tensor } from "../tensor/tensor.js";
import { zeros } from "../tensor/factories.js";
import { Work } from "./work.js";
import type { NcclPart } from "./process_group.js";

export type NcclOp = "sum" | "avg" | "max" | "min";

/** Which tensor the collective wrote last: its completion is the collective's. */
function work(comm: NcclCommunicator, label: string, last: Tensor, timeoutMs: number): Work {
  const w = new Work(-1, `rank ${comm.rank}: ${label}`, () => {
    comm.synchronize(last);
    return { done: true, error: null };
  }, timeoutMs, null, (message) => {
    // A collective that never finishes holds the stream: end the communicator so later work fails instead of hanging.
    comm.abort();
    return new Error(`${message}; the NCCL communicator was aborted`);
  });
  comm.completion(last).then(() => w.complete(null), (e: unknown) => w.complete(e instanceof Error ? e : new Error(String(e))));
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
  n.comm.allReduce(t, op);
  return work(n.comm, `allReduce(${op}, ${t.dtype}[${t.numel()}])`, t, timeoutMs);
}

export function ncclBroadcast(n: NcclPart, t: Tensor, src: number, timeoutMs: number): Work {
  onDevice(n, "broadcast", t);
  n.comm.broadcast(t, src);
  return work(n.comm, `broadcast(src ${src}, ${t.dtype}[${t.numel()}])`, t, timeoutMs);
}

export function ncclAllGatherIntoTensor(n: NcclPart, output: Tensor, input: Tensor, timeoutMs: number): Work {
  onDevice(n, "allGather", input);
  onDevice(n, "allGather", output);
  n.comm.allGather(output, input);
  return work(n.comm, `allGather(${input.dtype}[${input.numel()}])`, output, timeoutMs);
}

/** Gathers into one flat device tensor, then copies the blocks out (stream-ordered, so no wait in between). */
export function ncclAllGather(n: NcclPart, list: Tensor[], input: Tensor, timeoutMs: number): Work {
  onDevice(n, "allGather", input);
  for (const t of list) onDevice(n, "allGather", t);
  const k = input.numel();
  const flat = zeros([list.length * k], { dtype: input.dtype, device: n.device });
  n.comm.allGather(flat, input);
  noGrad(() => list.forEach((t, r) => t.copy_(flat.narrow(0, r * k, k).view(t.shape))));
  return work(n.comm, `allGather(${input.dtype}[${k}])`, list[list.length - 1] ?? flat, timeoutMs);
}

export function ncclReduceScatterTensor(n: NcclPart, output: Tensor, input: Tensor, op: NcclOp, timeoutMs: number): Work {
  onDevice(n, "reduceScatter", input);
  onDevice(n, "reduceScatter", output);
  // NCCL's reduce-scatter takes no average here: a sum, then the division, queued right behind it.
  n.comm.reduceScatter(output, input, op === "avg" ? "sum" : op);
  if (op === "avg" && n.comm.size > 1) noGrad(() => void output.div_(n.comm.size));
  return work(n.comm, `reduceScatter(${op}, ${input.dtype}[${input.numel()}])`, output, timeoutMs);
}

/** PyTorch's NCCL barrier: a one-element all-reduce on the device, finished when the device has run it. */
export function ncclBarrier(n: NcclPart, timeoutMs: number): Work {
  const t = zeros([1], { dtype: "float32", device: n.device });
  n.comm.allReduce(t, "sum");
  return work(n.comm, "barrier", t, timeoutMs);
}
