// The path every op takes: pick the kernels for the device, run them, and (when autograd is on and an input needs
// it) record one tape node. Kept tiny because the tutorial's cost is dominated by this per-op overhead.
import { assertDeviceUsable } from "../backend/device.js";
import { cpuKernels } from "../backend/registry.js";
import { isGradEnabled } from "../autograd/grad_mode.js";
import { Node, type BackwardFn, type Edge } from "../autograd/node.js";
import { opError } from "../core/errors.js";
import type { Kernels } from "../ops/kernels.js";
import type { Tensor } from "./tensor.js";

export function kernelsFor(t: Tensor): Kernels {
  if (t.device !== "cpu") assertDeviceUsable(t.device);
  return cpuKernels();
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

export function sameDevice(op: string, a: Tensor, b: Tensor): void {
  if (a.device !== b.device) {
    throw opError(op, `expected all tensors to be on the same device, but found at least two devices, ${a.device} and ${b.device}`);
  }
}
