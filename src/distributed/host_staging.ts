// The MPI backend with CUDA tensors: MPI reads and writes host memory, so a device tensor travels through a host copy
// (download, the collective on the copy, upload back into the tensor once it finished). Lets `mpirun -np 2` ranks
// share one GPU, which NCCL refuses before 2.30, at the price of two transfers per collective.
import { noGrad } from "../autograd/grad_mode.js";
import type { Tensor } from "../tensor/tensor.js";

export interface Staged {
  /** The tensor MPI works on: `t` itself on the CPU, else a contiguous host copy of it. */
  readonly host: Tensor;
  /** Writes the host copy's result back into `t` (nothing for a CPU tensor). */
  readonly back: (() => void) | null;
}

export function stage(t: Tensor): Staged {
  if (t.device === "cpu") return { host: t, back: null };
  const host = noGrad(() => t.detach().to("cpu").contiguous());
  return { host, back: () => noGrad(() => void t.copy_(host)) };
}

/** Runs the steps that follow a collective in order, skipping the absent ones; null when there are none. */
export function chain(...steps: ((() => void) | null)[]): (() => void) | null {
  const live = steps.filter((s): s is () => void => s !== null);
  return live.length === 0 ? null : () => live.forEach((s) => s());
}
