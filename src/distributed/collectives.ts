// torch.distributed's collectives, in place like PyTorch's. Each returns nothing, or with { asyncOp: true } a Work
// whose wait() or Promise says when the tensor holds the result. On the MPI group they take CPU tensors, and CUDA
// tensors through a host copy (./host_staging.ts); on the NCCL group, CUDA tensors (./nccl_collectives.ts).
import type { DType } from "../core/dtype.js";
import { Kind, MpiOp } from "../backends/mpi/addon.js";
import { hostBuffer, mpiDtype } from "../backends/mpi/buffers.js";
import type { Tensor } from "../tensor/tensor.js";
import { zeros } from "../tensor/factories.js";
import { cat } from "../tensor/movement.js";
import { noGrad } from "../autograd/grad_mode.js";
import { defaultGroup, submit } from "./process_group.js";
import type { Work } from "./work.js";
import { chain, stage } from "./host_staging.js";
import {
  ncclAllGather, ncclAllGatherIntoTensor, ncclAllReduce, ncclBarrier, ncclBroadcast, ncclReduceScatterTensor,
} from "./nccl_collectives.js";

/** PyTorch's ReduceOp names. */
export const ReduceOp = { SUM: "sum", AVG: "avg", MAX: "max", MIN: "min" } as const;
export type ReduceOpName = (typeof ReduceOp)[keyof typeof ReduceOp];

export interface CollectiveOptions {
  asyncOp?: boolean;
}
export interface ReduceOptions extends CollectiveOptions {
  op?: ReduceOpName;
}
/** Work with asyncOp: true, nothing without it, either when the flag is only known at run time. */
type Result<O extends CollectiveOptions> = O["asyncOp"] extends true ? Work : O["asyncOp"] extends false | undefined ? void : Work | void;

const DTYPES: readonly DType[] = ["float32", "float64", "int32", "int64"];

function checkTensor(op: string, t: Tensor): void {
  // The NCCL communicator checks dtype and layout itself (it takes uint8 too), in its own words.
  if (defaultGroup(op).nccl) return;
  if (!DTYPES.includes(t.dtype)) {
    throw new Error(`${op}: dtype ${t.dtype} is not supported by the MPI backend (float32, float64, int32, int64 are)`);
  }
  if (!t.isContiguous()) throw new Error(`${op}: Tensors must be contiguous (call .contiguous() first)`);
}

function checkSame(op: string, ref: Tensor, t: Tensor, what: string): void {
  if (t.dtype !== ref.dtype || t.numel() !== ref.numel()) {
    throw new Error(`${op}: ${what} must have the input's dtype and size (${ref.dtype}, ${ref.numel()} elements), ` +
      `got ${t.dtype} with ${t.numel()} elements`);
  }
  checkTensor(op, t);
}

function reduction(op: string, name: ReduceOpName, dtype: DType): number {
  if (name === "avg" && !(dtype === "float32" || dtype === "float64")) {
    throw new Error(`${op}: ReduceOp.AVG needs a floating-point tensor, got ${dtype}`);
  }
  const code = name === "avg" ? MpiOp.sum : (MpiOp as Record<string, number>)[name];
  if (code === undefined) throw new Error(`${op}: unknown reduce op "${name}" (use sum, avg, max or min)`);
  return code;
}

function buf(t: Tensor, op: string): ArrayBufferView {
  return hostBuffer(t.storage, t.offset, t.numel(), op);
}

/** In-place writes bump the version, so autograd notices a reduced tensor that a backward pass had saved. */
function written(t: Tensor): void {
  t.storage.version++;
}

function finish<O extends CollectiveOptions>(w: Work, opts: O | undefined): Result<O> {
  if (opts?.asyncOp) return w as Result<O>;
  w.wait();
  return undefined as Result<O>;
}

/** Reduces `tensor` across all ranks in place (sum by default; avg divides by the world size). */
export function allReduce<O extends ReduceOptions>(tensor: Tensor, opts?: O): Result<O> {
  const g = defaultGroup("allReduce");
  checkTensor("allReduce", tensor);
  const name = opts?.op ?? "sum";
  const op = reduction("allReduce", name, tensor.dtype);
  if (g.nccl) return finish(ncclAllReduce(g.nccl, tensor, name, g.timeoutMs), opts);
  written(tensor);
  const s = stage(tensor);
  const after = chain(name === "avg" ? () => noGrad(() => void s.host.div_(g.size)) : null, s.back);
  const w = submit(g, `allReduce(${name}, ${tensor.dtype}[${tensor.numel()}])`, Kind.allReduce, null,
    buf(s.host, "allReduce"), mpiDtype(tensor.dtype), op, 0, after);
  return finish(w, opts);
}

/** Copies rank `src`'s tensor into every other rank's tensor. */
export function broadcast<O extends CollectiveOptions>(tensor: Tensor, src: number, opts?: O): Result<O> {
  const g = defaultGroup("broadcast");
  checkTensor("broadcast", tensor);
  if (!Number.isInteger(src) || src < 0 || src >= g.size) {
    throw new Error(`broadcast: src must be a rank in [0, ${g.size}), got ${src}`);
  }
  if (g.nccl) return finish(ncclBroadcast(g.nccl, tensor, src, g.timeoutMs), opts);
  written(tensor);
  const s = stage(tensor);
  const w = submit(g, `broadcast(src ${src}, ${tensor.dtype}[${tensor.numel()}])`, Kind.broadcast, null,
    buf(s.host, "broadcast"), mpiDtype(tensor.dtype), 0, src, s.back);
  return finish(w, opts);
}

/** output (worldSize × input's elements) receives every rank's input in rank order (all_gather_into_tensor). */
export function allGatherIntoTensor<O extends CollectiveOptions>(output: Tensor, input: Tensor, opts?: O): Result<O> {
  const g = defaultGroup("allGatherIntoTensor");
  checkTensor("allGatherIntoTensor", input);
  checkTensor("allGatherIntoTensor", output);
  if (output.dtype !== input.dtype || output.numel() !== input.numel() * g.size) {
    throw new Error(`allGatherIntoTensor: output must be ${input.dtype} with worldSize × ${input.numel()} = ` +
      `${input.numel() * g.size} elements, got ${output.dtype} with ${output.numel()}`);
  }
  if (g.nccl) return finish(ncclAllGatherIntoTensor(g.nccl, output, input, g.timeoutMs), opts);
  written(output);
  const out = stage(output);
  const w = submit(g, `allGather(${input.dtype}[${input.numel()}])`, Kind.allGather, buf(stage(input).host, "allGather"),
    buf(out.host, "allGather"), mpiDtype(input.dtype), 0, 0, out.back);
  return finish(w, opts);
}

/** tensorList[r] receives rank r's tensor. */
export function allGather<O extends CollectiveOptions>(tensorList: Tensor[], tensor: Tensor, opts?: O): Result<O> {
  const g = defaultGroup("allGather");
  checkTensor("allGather", tensor);
  if (tensorList.length !== g.size) {
    throw new Error(`allGather: tensorList must hold worldSize (${g.size}) tensors, got ${tensorList.length}`);
  }
  for (const t of tensorList) checkSame("allGather", tensor, t, "every tensor of tensorList");
  for (const t of tensorList) written(t);
  if (g.nccl) return finish(ncclAllGather(g.nccl, tensorList, tensor, g.timeoutMs), opts);
  const n = tensor.numel();
  const flat = zeros([g.size * n], { dtype: tensor.dtype });
  // copy_ moves each block to its tensor's device, so CUDA tensors in the list need no staging of their own.
  const after = () => noGrad(() => tensorList.forEach((t, r) => t.copy_(flat.narrow(0, r * n, n).view(t.shape))));
  const w = submit(g, `allGather(${tensor.dtype}[${n}])`, Kind.allGather, buf(stage(tensor).host, "allGather"),
    buf(flat, "allGather"), mpiDtype(tensor.dtype), 0, 0, after);
  return finish(w, opts);
}

/** output receives this rank's block of the reduction of every rank's input (reduce_scatter_tensor). */
export function reduceScatterTensor<O extends ReduceOptions>(output: Tensor, input: Tensor, opts?: O): Result<O> {
  const g = defaultGroup("reduceScatterTensor");
  checkTensor("reduceScatterTensor", input);
  checkTensor("reduceScatterTensor", output);
  if (output.dtype !== input.dtype || input.numel() !== output.numel() * g.size) {
    throw new Error(`reduceScatterTensor: input must be ${output.dtype} with worldSize × ${output.numel()} = ` +
      `${output.numel() * g.size} elements, got ${input.dtype} with ${input.numel()}`);
  }
  const name = opts?.op ?? "sum";
  const op = reduction("reduceScatterTensor", name, output.dtype);
  if (g.nccl) return finish(ncclReduceScatterTensor(g.nccl, output, input, name, g.timeoutMs), opts);
  written(output);
  const out = stage(output);
  const after = chain(name === "avg" ? () => noGrad(() => void out.host.div_(g.size)) : null, out.back);
  const w = submit(g, `reduceScatter(${name}, ${input.dtype}[${input.numel()}])`, Kind.reduceScatter,
    buf(stage(input).host, "reduceScatter"), buf(out.host, "reduceScatter"), mpiDtype(input.dtype), op, 0, after);
  return finish(w, opts);
}

/** output receives the reduction over ranks of inputList[thisRank]. */
export function reduceScatter<O extends ReduceOptions>(output: Tensor, inputList: Tensor[], opts?: O): Result<O> {
  const g = defaultGroup("reduceScatter");
  if (inputList.length !== g.size) {
    throw new Error(`reduceScatter: inputList must hold worldSize (${g.size}) tensors, got ${inputList.length}`);
  }
  for (const t of inputList) checkSame("reduceScatter", output, t, "every tensor of inputList");
  const input = noGrad(() => cat(inputList.map((t) => t.reshape(-1))));
  return reduceScatterTensor(output, input, opts);
}

/** Returns (or with asyncOp resolves) once every rank has reached it. */
export function barrier<O extends CollectiveOptions>(opts?: O): Result<O> {
  const g = defaultGroup("barrier");
  if (g.nccl) return finish(ncclBarrier(g.nccl, g.timeoutMs), opts);
  return finish(submit(g, "barrier", Kind.barrier, null, null, 0, 0, 0, null), opts);
}
