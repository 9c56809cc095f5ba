// Fused optimizer steps (native/cuda/kernels/optim.cu): one launch per parameter dtype for all parameters. Each
// launch reads a table (one row per parameter) uploaded into scratch memory; the per-step scalars that depend on
// the step count (Adam's bias corrections) are computed here exactly as the reference computes them.
import type { DType } from "../../core/dtype.js";
import type { Kernels } from "../../ops/kernels.js";
import type { CudaRuntime } from "./runtime.js";
import { args, BLOCK, fsuffix, numel, ptrOf, withScratch, type CV } from "./kernels_common.js";

type Optim = Pick<Kernels<CV>, "sgdStep" | "adamStep">;

/** sizeof(KSgdRow) and sizeof(KAdamRow) in optim.cu. */
export const SGD_ROW_BYTES = 40;
export const ADAM_ROW_BYTES = 64;

/** Parameter indices grouped by dtype, empty parameters left out. */
function byDType(op: string, params: CV[]): Map<DType, number[]> {
  const groups = new Map<DType, number[]>();
  params.forEach((p, k) => {
    fsuffix(op, p.dtype);
    if (numel(p) === 0) return;
    const g = groups.get(p.dtype);
    if (g) g.push(k);
    else groups.set(p.dtype, [k]);
  });
  return groups;
}

function stepGrid(rt: CudaRuntime, maxN: number, rows: number): [number, number, number] {
  const x = Math.max(1, Math.min(Math.ceil(maxN / BLOCK), Math.max(1, rt.multiProcessorCount) * 8));
  return [x, Math.min(rows, 65535), 1];
}

export function optimKernels(rt: CudaRuntime): Optim {
  return {
    sgdStep(params, grads, bufs, p, firstStep) {
      for (const [dtype, ks] of byDType("sgdStep", params)) {
        const table = new DataView(new ArrayBuffer(ks.length * SGD_ROW_BYTES));
        let maxN = 0;
        ks.forEach((k, r) => {
          const o = r * SGD_ROW_BYTES, n = numel(params[k]), buf = bufs[k];
          maxN = Math.max(maxN, n);
          table.setBigUint64(o, ptrOf(params[k]), true);
          table.setBigUint64(o + 8, ptrOf(grads[k]), true);
          table.setBigUint64(o + 16, buf ? ptrOf(buf) : 0n, true);
          table.setBigInt64(o + 24, BigInt(n), true);
          table.setBigInt64(o + 32, firstStep[k] ? 1n : 0n, true);
        });
        withScratch(rt, table.byteLength, (tab) => {
          rt.copyHtoD(tab, table);
          rt.launch(`k_sgd_${fsuffix("sgdStep", dtype)}`, stepGrid(rt, maxN, ks.length), [BLOCK, 1, 1], 0, args().ptr(tab).i32(ks.length)
            .f64(p.lr).f64(p.momentum).f64(p.dampening).f64(p.weightDecay).i32(p.nesterov ? 1 : 0).i32(p.maximize ? 1 : 0));
        });
      }
    },

    adamStep(params, grads, expAvg, expAvgSq, maxExpAvgSq, step, p) {
      for (const [dtype, ks] of byDType("adamStep", params)) {
        const table = new DataView(new ArrayBuffer(ks.length * ADAM_ROW_BYTES));
        let maxN = 0;
        ks.forEach((k, r) => {
          const o = r * ADAM_ROW_BYTES, n = numel(params[k]), mx = maxExpAvgSq[k];
          maxN = Math.max(maxN, n);
          const t = step[k];
          const bc1 = 1 - Math.pow(p.beta1, t);
          const bc2 = 1 - Math.pow(p.beta2, t);
          table.setBigUint64(o, ptrOf(params[k]), true);
          table.setBigUint64(o + 8, ptrOf(grads[k]), true);
          table.setBigUint64(o + 16, ptrOf(expAvg[k]), true);
          table.setBigUint64(o + 24, ptrOf(expAvgSq[k]), true);
          table.setBigUint64(o + 32, mx ? ptrOf(mx) : 0n, true);
          table.setBigInt64(o + 40, BigInt(n), true);
          table.setFloat64(o + 48, p.lr / bc1, true);
          table.setFloat64(o + 56, Math.sqrt(bc2), true);
        });
        withScratch(rt, table.byteLength, (tab) => {
          rt.copyHtoD(tab, table);
          rt.launch(`k_adam_${fsuffix("adamStep", dtype)}`, stepGrid(rt, maxN, ks.length), [BLOCK, 1, 1], 0, args().ptr(tab).i32(ks.length)
            .f64(p.lr).f64(p.beta1).f64(p.beta2).f64(p.eps).f64(p.weightDecay).i32(p.decoupled ? 1 : 0)
            .i32(p.amsgrad ? 1 : 0).i32(p.maximize ? 1 : 0));
        });
      }
    },
  };
}
