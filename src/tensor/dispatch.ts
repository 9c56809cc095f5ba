// The path every op takes: find the kernels of the inputs' device, run them, and (when autograd is on and an input
// needs it) record one tape node. Kept tiny because the tutorial's cost is dominated by this per-op overhead: the
// device is a field of the storage, so finding its kernels is two field reads.
import type { DeviceKernels } from "../backend/device.js";
import { isGradEnabled } from "../autograd/grad_mode.js";
import { Node, type BackwardFn, type Edge } from "../autograd/node.js";
import { opError } from "../core/errors.js";
import type { Tensor } from "./tensor.js";

export function kernelsFor(t: Tensor): DeviceKernels {
  return t.storage.device.kernels;
}

export function needsGrad(a: Tensor | null | undefined, b?: Tensor | null, c?: Tensor | null): boolean {
  if (!isGradEnabled()) return false;
  return !!(a?.requiresGrad || b?.requiresGrad || c?.requiresGrad);
}

function edgeOf(t: Tensor | null): Edge {
  if (!t || !t.requiresGrad) return null;
  return t.gradFn ?? t;
}

/** Marks out as produced by a differentiable op over inputs. Call only when needsGrad(...) said so. */
export function record(out: Tensor, name: string, inputs: (Tensor | null)[], backward: BackwardFn, saved: Tensor[] = []): Tensor {
  out.gradFn = new Node(name, inputs.map(edgeOf), backward, saved);
  out.requiresGrad = true;
  return out;
}

/** PyTorch's message, naming both devices. */
export function deviceMismatch(op: string, a: string, b: string): Error {
  return opError(op, `Expected all tensors to be on the same device, but found at least two devices, ${a} and ${b}!`);
}

export function sameDevice(op: string, a: Tensor, b: Tensor): void {
  if (a.storage.device !== b.storage.device) throw deviceMismatch(op, a.device, b.device);
}

/** Every non-null tensor on a's device. */
export function sameDevices(op: string, a: Tensor, ...others: (Tensor | null | undefined)[]): void {
  const d = a.storage.device;
  for (const o of others) if (o && o.storage.device !== d) throw deviceMismatch(op, a.device, o.device);
}
