// Softmax and the losses (native/cuda/kernels/softmax.cu). Cross-entropy and NLL take three launches: count the
// scored targets (the mean's divisor; bad indices reported to the error record), per-row losses (and the
// gradient, already scaled), then the reduction into `loss`.
import type { CrossEntropyParams, Kernels, Reduction } from "../../ops/kernels.js";
import type { CudaRuntime } from "./runtime.js";
import { args, BLOCK, DT, fsuffix, grid1d, gridRows, ptrOf, ptrOrNull, withScratch, zeroFill, type CV } from "./kernels_common.js";
import { ERR, errorRecord } from "./kernels_errors.js";

type Softmax = Pick<Kernels<CV>, "softmax" | "softmaxBackward" | "crossEntropy" | "nllLoss" | "nllLossBackward">;

const RED: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

function rowsCols(N: number, C: number, logits: CV, op: string): void {
  if (logits.shape.length !== 2 || logits.shape[0] !== N || logits.shape[1] !== C) {
    throw new Error(`${op}: expected logits of shape [N, C], got [${logits.shape.join(", ")}]`);
  }
}

export function softmaxKernels(rt: CudaRuntime): Softmax {
  const block: [number, number, number] = [BLOCK, 1, 1];

  /** Scratch [N + 1] doubles: per-row losses, then the count. Runs count + rows (+ reduce) inside it. */
  function lossLaunches(
    op: "crossEntropy" | "nllLoss", x: CV, target: CV, loss: CV, grad: CV | null, p: CrossEntropyParams,
  ): void {
    const [N, C] = x.shape;
    rowsCols(N, C, x, op);
    const f = fsuffix(op, x.dtype);
    if (loss.dtype !== x.dtype || (grad && grad.dtype !== x.dtype)) throw new Error(`${op}: loss and gradient must have the logits' dtype ${x.dtype}`);
    withScratch(rt, (N + 1) * 8, (scratch) => {
      const count = scratch + BigInt(N * 8);
      const err = errorRecord(rt).use(op, p.ignoreIndex);
      rt.launch("k_loss_count", [1, 1, 1], block, 0, args().ptr(ptrOf(target)).i32(DT[target.dtype]).i64(N).i64(C)
        .f64(p.ignoreIndex).ptr(count).ptr(err).i64(ERR[op]));
      if (N > 0) {
        if (op === "crossEntropy") {
          rt.launch(`k_ce_rows_${f}`, gridRows(N), block, 0, args().ptr(ptrOf(x)).ptr(ptrOf(target)).i32(DT[target.dtype])
            .i64(N).i64(C).f64(p.ignoreIndex).f64(p.labelSmoothing).i32(RED[p.reduction]).ptr(count).ptr(scratch).ptr(ptrOrNull(grad)));
        } else {
          rt.launch(`k_nll_rows_${f}`, grid1d(rt, N), block, 0, args().ptr(ptrOf(x)).ptr(ptrOf(target)).i32(DT[target.dtype])
            .i64(N).i64(C).f64(p.ignoreIndex).ptr(scratch));
        }
      }
      rt.launch(`k_loss_reduce_${f}`, [1, 1, 1], block, 0, args().ptr(scratch).i64(N).i32(RED[p.reduction]).ptr(count).ptr(ptrOf(loss)));
    });
  }

  return {
    softmax(x, out, outer, n, inner, log) {
      if (outer * n * inner === 0) return;
      const f = fsuffix("softmax", x.dtype);
      const a = args().ptr(ptrOf(x)).ptr(ptrOf(out)).i64(outer).i64(n);
      if (inner === 1) rt.launch(`k_softmax_rows_${f}`, gridRows(outer), block, 0, a.i32(log ? 1 : 0));
      else rt.launch(`k_softmax_cols_${f}`, grid1d(rt, outer * inner), block, 0, a.i64(inner).i32(log ? 1 : 0));
    },

    softmaxBackward(gy, y, gx, outer, n, inner, log) {
      if (outer * n * inner === 0) return;
      const f = fsuffix("softmaxBackward", y.dtype);
      const a = args().ptr(ptrOf(gy)).ptr(ptrOf(y)).ptr(ptrOf(gx)).i64(outer).i64(n);
      if (inner === 1) rt.launch(`k_softmax_bwd_rows_${f}`, gridRows(outer), block, 0, a.i32(log ? 1 : 0));
      else rt.launch(`k_softmax_bwd_cols_${f}`, grid1d(rt, outer * inner), block, 0, a.i64(inner).i32(log ? 1 : 0));
    },

    crossEntropy(logits, target, loss, grad, p) {
      lossLaunches("crossEntropy", logits, target, loss, grad, p);
    },

    nllLoss(logp, target, loss, p) {
      lossLaunches("nllLoss", logp, target, loss, null, p);
    },

    nllLossBackward(target, gx, gLoss, p) {
      const [N, C] = gx.shape;
      const f = fsuffix("nllLossBackward", gx.dtype);
      zeroFill(rt, gx, N * C);
      if (N === 0) return;
      const err = errorRecord(rt).use("nllLossBackward", p.ignoreIndex);
      rt.launch(`k_nll_bwd_${f}`, [1, 1, 1], block, 0, args().ptr(ptrOf(target)).i32(DT[target.dtype]).i64(N).i64(C)
        .f64(p.ignoreIndex).ptr(ptrOf(gLoss)).i32(RED[p.reduction]).ptr(ptrOf(gx)).ptr(err).i64(ERR.nllLossBackward));
    },
  };
}
