// Reductions over [outer, red, inner] (native/cuda/kernels/reduce.cu): a block per row when inner == 1, 32 x 8
// blocks over (inner, red) otherwise. Every dtype, accumulated in double like the reference.
import type { Kernels } from "../../ops/kernels.js";
import type { CudaRuntime, Dim3 } from "./runtime.js";
import { args, BLOCK, DT, gridRows, ptrOf, type CV } from "./kernels_common.js";

type Reduce = Pick<Kernels<CV>, "sumDim" | "prodDim" | "maxDim">;

const COLS_BLOCK: Dim3 = [32, 8, 1];

function colsGrid(outer: number, inner: number): Dim3 {
  return [Math.ceil(inner / 32), Math.max(1, Math.min(outer, 65535)), 1];
}

/** sum (or product) of x [outer, red, inner] over red into out [outer, inner]. */
export function reduceSumProd(rt: CudaRuntime, kind: "sum" | "prod", x: CV, out: CV, outer: number, red: number, inner: number): void {
  if (outer * inner === 0) return;
  const a = args().ptr(ptrOf(x)).i32(DT[x.dtype]).ptr(ptrOf(out)).i32(DT[out.dtype]).i64(outer).i64(red);
  if (inner === 1) rt.launch(`k_${kind}_rows`, gridRows(outer), [BLOCK, 1, 1], 0, a);
  else rt.launch(`k_${kind}_cols`, colsGrid(outer, inner), COLS_BLOCK, 0, a.i64(inner));
}

export function reduceKernels(rt: CudaRuntime): Reduce {
  return {
    sumDim(x, out, outer, red, inner) {
      reduceSumProd(rt, "sum", x, out, outer, red, inner);
    },
    prodDim(x, out, outer, red, inner) {
      reduceSumProd(rt, "prod", x, out, outer, red, inner);
    },
    maxDim(x, values, indices, outer, red, inner, isMin) {
      if (outer * inner === 0) return;
      const a = args().ptr(ptrOf(x)).i32(DT[x.dtype]).ptr(ptrOf(values)).i32(DT[values.dtype])
        .ptr(ptrOf(indices)).i32(DT[indices.dtype]).i64(outer).i64(red);
      if (inner === 1) rt.launch("k_max_rows", gridRows(outer), [BLOCK, 1, 1], 0, a.i32(isMin ? 1 : 0));
      else rt.launch("k_max_cols", colsGrid(outer, inner), COLS_BLOCK, 0, a.i64(inner).i32(isMin ? 1 : 0));
    },
  };
}
