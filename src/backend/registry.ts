import type { Kernels } from "../ops/kernels.js";

export interface Backend {
  readonly name: string;
  readonly kernels: Partial<Kernels>;
}

let reference: Kernels | null = null;
const cpuBackends = new Map<string, Backend>();
let active: Kernels | null = null;
let activeName = "ref";

/** The reference backend completes every other CPU backend: its kernels fill whatever the faster one lacks. */
export function registerReference(kernels: Kernels): void {
  reference = kernels;
  cpuBackends.set("ref", { name: "ref", kernels });
  if (!active) active = kernels;
}

export function registerCpuBackend(b: Backend): void {
  cpuBackends.set(b.name, b);
}

export function cpuBackendNames(): string[] {
  return [...cpuBackends.keys()];
}

/** Selects which kernels the "cpu" device runs (e.g. "native" or "ref"). */
export function useCpuBackend(name: string): void {
  const b = cpuBackends.get(name);
  if (!b) throw new Error(`unknown CPU backend '${name}'; available: ${cpuBackendNames().join(", ")}`);
  active = mergeWithReference(b);
  activeName = name;
}

export function cpuBackendName(): string {
  return activeName;
}

export function cpuKernels(): Kernels {
  if (!active) throw new Error("kindling: no CPU backend registered (the reference backend failed to load)");
  return active;
}

export function kernelsOf(name: string): Kernels {
  const b = cpuBackends.get(name);
  if (!b) throw new Error(`unknown CPU backend '${name}'; available: ${cpuBackendNames().join(", ")}`);
  return mergeWithReference(b);
}

function mergeWithReference(b: Backend): Kernels {
  if (!reference) throw new Error("kindling: the reference backend must be registered first");
  return { ...reference, ...b.kernels } as Kernels;
}
