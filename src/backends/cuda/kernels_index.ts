// indexSelect / indexAdd (native/cuda/kernels/index.cu); an index out of range is a device-side check that throws
// at the next synchronisation (kernels_errors.ts).
import { itemSize } from "../../core/dtype.js";
import type { Kernels } from "../../ops/kernels.js";
import type { CudaRuntime } from "./runtime.js";
import { args, DT, launch1d, ptrOf, type CV } from "./kernels_common.js";
import { ERR, errorRecord } from "./kernels_errors.js";

type Index = Pick<Kernels<CV>, "indexSelect" | "indexAdd">;

function entries(index: CV): number {
  return index.shape.length === 0 ? 1 : index.shape[0];
}

function checkIndex(op: string, index: CV): void {
  if (index.dtype !== "int64" && index.dtype !== "int32") throw new Error(`${op}: expected an int64 or int32 index, got ${index.dtype}`);
  if (index.shape.length > 0 && index.strides[0] !== 1 && index.shape[0] > 1) throw new Error(`${op}: expected a contiguous index`);
}

export function indexKernels(rt: CudaRuntime): Index {
  return {
    indexSelect(x, index, out, outer, n, inner) {
      checkIndex("indexSelect", index);
      const m = entries(index);
      const total = outer * m * inner;
      if (total === 0) return;
      const err = errorRecord(rt).use("indexSelect");
      launch1d(rt, "k_index_select", total, args().ptr(ptrOf(x)).ptr(ptrOf(index)).i32(DT[index.dtype]).ptr(ptrOf(out))
        .i64(outer).i64(n).i64(m).i64(inner).i32(itemSize(x.dtype)).ptr(err).i64(ERR.indexSelect));
    },
    indexAdd(src, index, out, outer, n, inner) {
      checkIndex("indexAdd", index);
      if (src.dtype !== out.dtype) throw new Error(`indexAdd: source dtype ${src.dtype} differs from the output's ${out.dtype}`);
      const m = entries(index);
      const total = outer * m * inner;
      if (total === 0) return;
      const err = errorRecord(rt).use("indexAdd");
      launch1d(rt, "k_index_add", total, args().ptr(ptrOf(src)).i32(DT[src.dtype]).ptr(ptrOf(index)).i32(DT[index.dtype])
        .ptr(ptrOf(out)).i64(outer).i64(n).i64(m).i64(inner).ptr(err).i64(ERR.indexAdd));
    },
  };
}
