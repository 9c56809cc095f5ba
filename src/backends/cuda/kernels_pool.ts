// 2-D pooling (native/cuda/kernels/pool.cu): a thread per output (forward, max backward with atomics) or per input
// (average backward, a gather). Pool2dParams travel as the 64-byte KPool struct.
import type { Kernels, Pool2dParams } from "../../ops/kernels.js";
import type { CudaRuntime } from "./runtime.js";
import { args, fsuffix, launch1d, ptrOf, zeroFill, type CV } from "./kernels_common.js";

type Pool = Pick<Kernels<CV>, "maxPool2d" | "maxPool2dBackward" | "avgPool2d" | "avgPool2dBackward">;

export const POOL_BYTES = 64;

/** struct KPool: 16 int32 in Pool2dParams order. */
export function poolBytes(p: Pool2dParams): Uint8Array {
  const v = [p.N, p.C, p.H, p.W, p.KH, p.KW, p.strideH, p.strideW, p.padH, p.padW, p.dilH, p.dilW, p.OH, p.OW,
    p.countIncludePad ? 1 : 0, p.divisorOverride > 0 ? p.divisorOverride : 0];
  return new Uint8Array(Int32Array.from(v).buffer);
}

function int32Indices(op: string, indices: CV): void {
  if (indices.dtype !== "int32") throw new Error(`${op}: expected int32 indices, got ${indices.dtype}`);
}

export function poolKernels(rt: CudaRuntime): Pool {
  return {
    maxPool2d(x, out, indices, p) {
      int32Indices("maxPool2d", indices);
      const n = p.N * p.C * p.OH * p.OW;
      if (n === 0) return;
      launch1d(rt, `k_maxpool_fwd_${fsuffix("maxPool2d", x.dtype)}`, n,
        args().ptr(ptrOf(x)).ptr(ptrOf(out)).ptr(ptrOf(indices)).raw(poolBytes(p), 4));
    },
    maxPool2dBackward(gy, indices, gx, p) {
      int32Indices("maxPool2dBackward", indices);
      zeroFill(rt, gx, p.N * p.C * p.H * p.W);
      const n = p.N * p.C * p.OH * p.OW;
      if (n === 0) return;
      launch1d(rt, `k_maxpool_bwd_${fsuffix("maxPool2dBackward", gx.dtype)}`, n,
        args().ptr(ptrOf(gy)).ptr(ptrOf(indices)).ptr(ptrOf(gx)).raw(poolBytes(p), 4));
    },
    avgPool2d(x, out, p) {
      const n = p.N * p.C * p.OH * p.OW;
      if (n === 0) return;
      launch1d(rt, `k_avgpool_fwd_${fsuffix("avgPool2d", x.dtype)}`, n, args().ptr(ptrOf(x)).ptr(ptrOf(out)).raw(poolBytes(p), 4));
    },
    avgPool2dBackward(gy, gx, p) {
      const n = p.N * p.C * p.H * p.W;
      if (n === 0) return;
      launch1d(rt, `k_avgpool_bwd_${fsuffix("avgPool2dBackward", gx.dtype)}`, n, args().ptr(ptrOf(gy)).ptr(ptrOf(gx)).raw(poolBytes(p), 4));
    },
  };
}
