// Bulk random draws: the reference loops of core/rng.ts over a contiguous float view.
import { numelOf } from "../../core/shape.js";
import { fillNormalRef, fillUniformRef, permutationRef } from "../../core/rng.js";
import type { View } from "../../ops/kernels.js";

type FloatData = Float32Array | Float64Array;

function floatData(out: View, kernel: string): FloatData {
  const d = out.storage.data;
  if (!(d instanceof Float32Array || d instanceof Float64Array)) throw new Error(`${kernel}: expected a float32 or float64 output, got ${out.dtype}`);
  return d;
}

export function randUniform(state: Uint32Array, out: View, from: number, to: number): void {
  fillUniformRef(state, floatData(out, "randUniform"), out.offset, numelOf(out.shape), from, to);
}

export function randNormal(state: Uint32Array, out: View, mean: number, std: number): number {
  return fillNormalRef(state, floatData(out, "randNormal"), out.offset, numelOf(out.shape), mean, std);
}

export function randPerm(state: Uint32Array, out: View): void {
  permutationRef(state, floatData(out, "randPerm"), out.offset, numelOf(out.shape));
}
