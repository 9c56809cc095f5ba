// Batch norm (native/cuda/kernels/norm.cu): per-channel statistics, then the elementwise pass; the exact double
// mean and invstd (forward) or sums (backward) travel between the two in a [2C] double scratch buffer.
import type { Kernels } from "../../ops/kernels.js";
import type { CudaRuntime } from "./runtime.js";
import { args, BLOCK, fsuffix, grid1d, gridRows, ptrOf, ptrOrNull, withScratch, type CV } from "./kernels_common.js";

type Norm = Pick<Kernels<CV>, "batchNorm" | "batchNormBackward">;

export function normKernels(rt: CudaRuntime): Norm {
  const block: [number, number, number] = [BLOCK, 1, 1];
  // A channel's statistics are one block's work: the widest block reads the N * HW values fastest.
  const channelBlock: [number, number, number] = [1024, 1, 1];
  return {
    batchNorm(x, weight, bias, runningMean, runningVar, out, saveMean, saveInvstd, p) {
      const f = fsuffix("batchNorm", x.dtype);
      const { N, C, HW } = p;
      if (C === 0) return;
      withScratch(rt, 2 * C * 8, (stats) => {
        rt.launch(`k_bn_stats_${f}`, gridRows(C), channelBlock, 0, args().ptr(ptrOf(x)).i64(N).i64(C).i64(HW).i32(p.training ? 1 : 0)
          .f64(p.momentum).f64(p.eps).ptr(ptrOrNull(runningMean)).ptr(ptrOrNull(runningVar)).ptr(ptrOf(saveMean))
          .ptr(ptrOf(saveInvstd)).ptr(stats));
        const total = N * C * HW;
        if (total > 0) {
          rt.launch(`k_bn_apply_${f}`, grid1d(rt, total), block, 0, args().ptr(ptrOf(x)).ptr(stats).ptr(ptrOrNull(weight))
            .ptr(ptrOrNull(bias)).ptr(ptrOf(out)).i64(C).i64(HW).i64(total));
        }
      });
    },

    batchNormBackward(gy, x, weight, saveMean, saveInvstd, gx, gw, gb, p) {
      const f = fsuffix("batchNormBackward", x.dtype);
      const { N, C, HW } = p;
      if (C === 0) return;
      withScratch(rt, 2 * C * 8, (sums) => {
        rt.launch(`k_bn_bwd_reduce_${f}`, gridRows(C), channelBlock, 0, args().ptr(ptrOf(gy)).ptr(ptrOf(x)).ptr(ptrOf(saveMean))
          .ptr(ptrOf(saveInvstd)).i64(N).i64(C).i64(HW).ptr(ptrOrNull(gw)).ptr(ptrOrNull(gb)).ptr(sums));
        const total = N * C * HW;
        if (total > 0) {
          rt.launch(`k_bn_bwd_apply_${f}`, grid1d(rt, total), block, 0, args().ptr(ptrOf(gy)).ptr(ptrOf(x)).ptr(ptrOrNull(weight))
            .ptr(ptrOf(saveMean)).ptr(ptrOf(saveInvstd)).ptr(sums).ptr(ptrOf(gx)).i64(N).i64(C).i64(HW).i32(p.training ? 1 : 0));
        }
      });
    },
  };
}
