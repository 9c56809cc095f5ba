// scan, sort, gather, scatter, searchsorted, bitwise (native/cuda/kernels/scan_sort.cu). Sort: rows of up to
// SORT_TILE elements are bitonic-sorted in shared memory, a block per row; longer rows are sorted in tiles and then
// merged pass by pass in device scratch. Index errors of gather/scatter are device-side checks (kernels_errors.ts).
import { itemSize, type DType } from "../../core/dtype.js";
import { contiguousStrides } from "../../core/shape.js";
import type { BitwiseOp, Kernels } from "../../ops/kernels.js";
import type { CudaRuntime } from "./runtime.js";
import { args, BLOCK, DT, GEOM_BYTES, geometries, gridRows, isFloat, launch1d, MAX_RANK, numel, ptrOf, withScratch, type CV } from "./kernels_common.js";
import { ERR, errorRecord } from "./kernels_errors.js";

type ScanSort = Pick<Kernels<CV>, "scan" | "sort" | "gather" | "scatter" | "searchsorted" | "bitwise">;

/** SS_TILE of scan_sort.cu: the longest row one block sorts in shared memory. */
export const SORT_TILE = 2048;

const BITWISE_CODES: Record<BitwiseOp, number> = { and: 0, or: 1, xor: 2 };
const BITWISE_DTYPES: readonly DType[] = ["int32", "int64", "uint8", "bool"];

/** KGeom bytes with every dim kept (rank >= 1; a 0-d view is one element of shape [1]). */
function fullGeom(op: string, shape: readonly number[], strides: readonly number[]): Uint8Array {
  if (shape.length > MAX_RANK) throw new Error(`${op}: tensors of rank ${shape.length}; the CUDA kernel takes at most ${MAX_RANK} dims`);
  const b = new Uint8Array(GEOM_BYTES);
  const dv = new DataView(b.buffer);
  const rank = Math.max(1, shape.length);
  for (let d = 0; d < rank; d++) {
    dv.setBigInt64(d * 8, BigInt(shape[d] ?? 1), true);
    dv.setBigInt64(64 + d * 8, BigInt(strides[d] ?? 0), true);
  }
  dv.setInt32(128, rank, true);
  return b;
}

function checkIndex(op: string, index: CV): void {
  if (index.dtype !== "int64" && index.dtype !== "int32") throw new Error(`${op}: expected an int64 or int32 index, got ${index.dtype}`);
}

function sameDtype(op: string, what: string, a: CV, b: CV): void {
  if (a.dtype !== b.dtype) throw new Error(`${op}: ${what} dtype ${a.dtype} differs from the output's ${b.dtype} (cast first)`);
}

export function scanSortKernels(rt: CudaRuntime): ScanSort {
  return {
    scan(op, x, out, outer, n, inner) {
      if (outer * n * inner === 0) return;
      const isProd = op === "prod" ? 1 : 0;
      if (inner === 1 && isFloat(out.dtype)) {
        rt.launch("k_scan_rows", gridRows(outer), [BLOCK, 1, 1], 0,
          args().ptr(ptrOf(x)).i32(DT[x.dtype]).ptr(ptrOf(out)).i32(DT[out.dtype]).i64(outer).i64(n).i32(isProd));
        return;
      }
      launch1d(rt, "k_scan_cols", outer * inner,
        args().ptr(ptrOf(x)).i32(DT[x.dtype]).ptr(ptrOf(out)).i32(DT[out.dtype]).i64(outer).i64(n).i64(inner).i32(isProd));
    },
    sort(x, values, indices, outer, n, inner, descending) {
      sameDtype("sort", "values", x, values);
      const rows = outer * inner;
      if (rows * n === 0) return;
      const desc = descending ? 1 : 0;
      const esize = itemSize(x.dtype);
      const tile = (scratch: bigint, t: number) =>
        args().ptr(ptrOf(x)).i32(DT[x.dtype]).ptr(ptrOf(values)).ptr(ptrOf(indices)).i32(DT[indices.dtype]).ptr(scratch)
          .i64(rows).i64(n).i64(inner).i64(t).i32(desc).i32(esize);
      if (n <= SORT_TILE) {
        rt.launch("k_sort_tile", gridRows(rows), [BLOCK, 1, 1], 0, tile(0n, n));
        return;
      }
      const cells = rows * n;
      withScratch(rt, 2 * cells * 8, (p) => {
        let src = p;
        let dst = p + BigInt(cells * 8);
        rt.launch("k_sort_tile", gridRows(rows * Math.ceil(n / SORT_TILE)), [BLOCK, 1, 1], 0, tile(src, SORT_TILE));
        for (let width = SORT_TILE; width < n; width *= 2) {
          launch1d(rt, "k_sort_merge", cells, args().ptr(ptrOf(x)).i32(DT[x.dtype]).ptr(src).ptr(dst).i64(rows).i64(n).i64(inner).i64(width).i32(desc));
          [src, dst] = [dst, src];
        }
        launch1d(rt, "k_sort_write", cells, args().ptr(ptrOf(x)).ptr(src).ptr(ptrOf(values)).ptr(ptrOf(indices)).i32(DT[indices.dtype])
          .i64(rows).i64(n).i64(inner).i32(esize));
      });
    },
    gather(x, index, out, dim) {
      checkIndex("gather", index);
      sameDtype("gather", "input", x, out);
      const total = numel(index);
      if (total === 0) return;
      const err = errorRecord(rt).use("gather", dim);
      launch1d(rt, "k_gather", total, args().ptr(ptrOf(x)).geom(fullGeom("gather", x.shape, x.strides)).ptr(ptrOf(index)).i32(DT[index.dtype])
        .geom(fullGeom("gather", index.shape, index.strides)).ptr(ptrOf(out)).i32(itemSize(out.dtype)).i64(total).i32(dim).ptr(err).i64(ERR.gather));
    },
    scatter(src, index, out, dim, accumulate) {
      checkIndex("scatter", index);
      sameDtype("scatter", "source", src, out);
      const total = numel(index);
      if (total === 0) return;
      const err = errorRecord(rt).use("scatter", dim);
      launch1d(rt, "k_scatter", total, args().ptr(ptrOf(src)).geom(fullGeom("scatter", src.shape, src.strides)).ptr(ptrOf(index)).i32(DT[index.dtype])
        .geom(fullGeom("scatter", index.shape, index.strides)).ptr(ptrOf(out)).i32(DT[out.dtype]).geom(fullGeom("scatter", out.shape, contiguousStrides(out.shape)))
        .i64(total).i32(dim).i32(accumulate ? 1 : 0).ptr(err).i64(ERR.scatter));
    },
    searchsorted(seq, values, out, outer, m, k, right) {
      if (outer * k === 0) return;
      launch1d(rt, "k_searchsorted", outer * k, args().ptr(ptrOf(seq)).i32(DT[seq.dtype]).ptr(ptrOf(values)).i32(DT[values.dtype])
        .ptr(ptrOf(out)).i32(DT[out.dtype]).i64(outer).i64(m).i64(k).i32(right ? 1 : 0));
    },
    bitwise(op, a, b, out) {
      for (const v of [a, b, out]) {
        if (!BITWISE_DTYPES.includes(v.dtype)) throw new Error(`bitwise ${op}: expected int32, int64, uint8 or bool tensors, got ${v.dtype}`);
      }
      const n = numel(out);
      if (n === 0) return;
      const [ag, bg] = geometries(`bitwise ${op}`, out.shape, [a, b]);
      launch1d(rt, "k_bitwise", n, args().ptr(ptrOf(a)).i32(DT[a.dtype]).geom(ag).ptr(ptrOf(b)).i32(DT[b.dtype]).geom(bg)
        .ptr(ptrOf(out)).i32(DT[out.dtype]).i64(n).i32(BITWISE_CODES[op]));
    },
  };
}
