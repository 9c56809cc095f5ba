// Registers the CPU backends once, before any op runs: the reference kernels always, and the native addon when it
// loads, which then becomes what "cpu" runs. KINDLING_BACKEND=ref keeps the reference kernels.
import { registerCpuBackend, registerReference, useCpuBackend } from "../backend/registry.js";
import { nativeBackend } from "../backends/cpu/index.js";
import { addonLoadReport, loadAddon } from "../backends/cpu/addon.js";
import { warnNoNative } from "../backends/cpu/locate.js";
import { refKernels } from "../backends/ref/index.js";

registerReference(refKernels);

const addon = loadAddon();
if (addon) {
  registerCpuBackend(nativeBackend(addon));
  useCpuBackend("native");
} else {
  warnNoNative(addonLoadReport()!);
}

/** torch.setNumThreads / getNumThreads: the native thread pool's size (1 without the addon). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected a positive integer, got ${n}`);
  addon?.setNumThreads(n);
}

export function getNumThreads(): number {
  return addon ? addon.getNumThreads() : 1;
}

export function nativeIsa(): string | null {
  return addon ? addon.isa() : null;
}
