// Random fills: drawn on the host by the CPU device's kernels from the same xoshiro128** state (so a seed gives the
// same numbers on cuda as on cpu), then uploaded once. Uniform and normal draws are float32/float64; a
// permutation may land in any numeric dtype (int64 is converted to the device's true int64).
import type { Kernels } from "../../ops/kernels.js";
import { hostRandNormal, hostRandPerm, hostRandUniform } from "../host/random_fill.js";
import type { CudaRuntime } from "./runtime.js";
import { numel, ptrOf, type CV } from "./kernels_common.js";

type Random = Pick<Kernels<CV>, "randUniform" | "randNormal" | "randPerm">;

function floats(op: string, out: CV): Float32Array | Float64Array {
  if (out.dtype === "float32") return new Float32Array(numel(out));
  if (out.dtype === "float64") return new Float64Array(numel(out));
  throw new Error(`${op}: expected a float32 or float64 output, got ${out.dtype}`);
}

export function randomKernels(rt: CudaRuntime): Random {
  return {
    randUniform(state, out, from, to) {
      const h = floats("randUniform", out);
      hostRandUniform(state, h, 0, h.length, from, to);
      if (h.length) rt.copyHtoD(ptrOf(out), h);
    },
    randNormal(state, out, mean, std) {
      const h = floats("randNormal", out);
      const spare = hostRandNormal(state, h, 0, h.length, mean, std);
      if (h.length) rt.copyHtoD(ptrOf(out), h);
      return spare;
    },
    randPerm(state, out) {
      const n = numel(out);
      const h = new Float64Array(n);
      hostRandPerm(state, h, 0, n);
      if (n === 0) return;
      switch (out.dtype) {
        case "float64": rt.copyHtoD(ptrOf(out), h); break;
        case "float32": rt.copyHtoD(ptrOf(out), Float32Array.from(h)); break;
        case "int64": rt.copyHtoD(ptrOf(out), BigInt64Array.from(h, (v) => BigInt(v))); break;
        case "int32": rt.copyHtoD(ptrOf(out), Int32Array.from(h)); break;
        default: throw new Error(`randPerm: expected a numeric output of at least int32, got ${out.dtype}`);
      }
    },
  };
}
