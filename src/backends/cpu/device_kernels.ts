// Kernel entries the device redesign added to the contract (issue 9), for the native CPU backend: thin wrappers over
// the addon functions that already exist. Merged into nativeKernels() by src/backends/cpu/index.ts.
import { numelOf, isContiguous } from "../../core/shape.js";
import type { Kernels, View } from "../../ops/kernels.js";
import { refKernels as ref } from "../ref/index.js";
import { BinaryOp, type NativeAddon } from "./addon.js";

const MAX_DIMS = 8;
const shapeBuf = new Int32Array(MAX_DIMS);
const aStrideBuf = new Int32Array(MAX_DIMS);
const zeroStrides = new Int32Array(MAX_DIMS);
const scalarBuf = new Float32Array(1);

export function deviceKernels(n: NativeAddon): Pick<Kernels, "binaryScalar"> {
  return {
    binaryScalar(op: Parameters<Kernels["binaryScalar"]>[0], a: View, s: number, out: View) {
      const code = (BinaryOp as Record<string, number>)[op];
      if (code === undefined || a.dtype !== "float32" || out.dtype !== "float32" || a.shape.length > MAX_DIMS) {
        return ref.binaryScalar(op, a, s, out);
      }
      const x = a.storage.data as Float32Array;
      const y = out.storage.data as Float32Array;
      if (isContiguous(a.shape, a.strides)) return n.binaryScalar(code, x, a.offset, s, y, out.offset, numelOf(out.shape));
      // A strided operand: the addon's broadcasting kernel with the scalar as a stride-0 operand.
      for (let i = 0; i < a.shape.length; i++) {
        shapeBuf[i] = a.shape[i];
        aStrideBuf[i] = a.strides[i];
      }
      scalarBuf[0] = s;
      n.binaryStrided(code, a.shape.length, shapeBuf, x, a.offset, aStrideBuf, scalarBuf, 0, zeroStrides, y, out.offset);
    },
  };
}
