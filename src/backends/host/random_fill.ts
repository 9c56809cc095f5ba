// Bulk random draws into host arrays for tensor/random.ts's Generator, whose state lives on the host: the CPU
// device's active kernel set runs them (the addon's vectorised fills, or the reference loops of core/rng.ts), and
// the factories then upload the values once to whichever device the tensor is on.
import type { Kernels, View } from "../../ops/kernels.js";
import { cpuDevice } from "./cpu_device.js";

type HostFloats = Float32Array | Float64Array;

function hostKernels(): Kernels {
  return cpuDevice().kernels as unknown as Kernels;
}

function view(data: HostFloats, offset: number, n: number): View {
  return { storage: { data }, shape: [n], strides: [1], offset, dtype: data instanceof Float64Array ? "float64" : "float32" };
}

/** out[off..off+n) = from + (to - from) * uniform draws, advancing the xoshiro128** state in place. */
export function hostRandUniform(state: Uint32Array, out: HostFloats, off: number, n: number, from: number, to: number): void {
  hostKernels().randUniform(state, view(out, off, n), from, to);
}

/** out[off..off+n) = mean + std * normal draws; returns the last pair's unused half, or NaN. */
export function hostRandNormal(state: Uint32Array, out: HostFloats, off: number, n: number, mean: number, std: number): number {
  return hostKernels().randNormal(state, view(out, off, n), mean, std);
}

/** A random permutation of 0..n-1 into out[off..off+n). */
export function hostRandPerm(state: Uint32Array, out: Float64Array, off: number, n: number): void {
  hostKernels().randPerm(state, view(out, off, n));
}
