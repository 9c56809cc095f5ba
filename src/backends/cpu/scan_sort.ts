// The native backend's scans, sorts, gathers, scatters and bitwise ops: float32 (and, for bitwise, every integer
// dtype) run in the addon; other dtypes take the reference kernel through fallback(), like the rest of the addon.
import { isContiguous, numelOf } from "../../core/shape.js";
import type { Kernels, View } from "../../ops/kernels.js";
import type { NativeAddon } from "./addon.js";
import { fallback, Reason } from "./fallbacks.js";

type ScanSortKernels = Pick<Kernels, "scan" | "sort" | "gather" | "scatter" | "searchsorted" | "bitwise">;

const MAX_DIMS = 16;
const f32 = (v: View) => v.storage.data as Float32Array;
const isF32 = (v: View) => v.dtype === "float32";
const isI64 = (v: View) => v.dtype === "int64";
const i32s = (xs: readonly number[]) => Int32Array.from(xs);
const bitCodes = { and: 0, or: 1, xor: 2 } as const;

export function scanSortKernels(n: NativeAddon): ScanSortKernels {
  return {
    scan(op, x, out, outer, len, inner) {
      if (!isF32(x) || !isF32(out)) return fallback("scan", Reason.dtype)(op, x, out, outer, len, inner);
      n.scan(op === "prod" ? 1 : 0, f32(x), x.offset, f32(out), out.offset, outer, len, inner);
    },
    sort(x, values, indices, outer, len, inner, descending) {
      if (!isF32(x) || !isI64(indices)) return fallback("sort", Reason.dtype)(x, values, indices, outer, len, inner, descending);
      n.sort(f32(x), x.offset, f32(values), values.offset, indices.storage.data as Float64Array, indices.offset, outer, len, inner, descending ? 1 : 0);
    },
    searchsorted(seq, values, out, outer, m, k, right) {
      if (!isF32(seq) || !isF32(values)) return fallback("searchsorted", Reason.dtype)(seq, values, out, outer, m, k, right);
      n.searchsorted(f32(seq), seq.offset, f32(values), values.offset, out.storage.data as Float64Array, out.offset, outer, m, k, right ? 1 : 0);
    },
    gather(x, index, out, dim) {
      if (!isF32(x) || !isI64(index)) return fallback("gather", Reason.dtype)(x, index, out, dim);
      if (index.shape.length > MAX_DIMS) return fallback("gather", Reason.dims)(x, index, out, dim);
      n.gather(index.shape.length, i32s(index.shape), f32(x), x.offset, i32s(x.shape), i32s(x.strides),
        index.storage.data as Float64Array, index.offset, i32s(index.strides), f32(out), out.offset, dim);
    },
    scatter(src, index, out, dim, accumulate) {
      if (!isF32(src) || !isF32(out) || !isI64(index)) return fallback("scatter", Reason.dtype)(src, index, out, dim, accumulate);
      if (index.shape.length > MAX_DIMS) return fallback("scatter", Reason.dims)(src, index, out, dim, accumulate);
      n.scatter(index.shape.length, i32s(index.shape), f32(src), src.offset, i32s(src.strides),
        index.storage.data as Float64Array, index.offset, i32s(index.strides), f32(out), out.offset, i32s(out.shape), dim, accumulate ? 1 : 0);
    },
    bitwise(op, a, b, out) {
      // The addon takes one integer array type for all three and dense operands; the tensor layer casts and makes
      // them contiguous, so this is the path every call takes.
      const dense = (v: View) => isContiguous(v.shape, v.strides);
      const same = a.storage.data.constructor === out.storage.data.constructor && b.storage.data.constructor === out.storage.data.constructor;
      if (!same || out.dtype === "float32" || out.dtype === "float64") return fallback("bitwise", Reason.dtype)(op, a, b, out);
      if (!dense(a) || !dense(b)) return fallback("bitwise", Reason.strided)(op, a, b, out);
      const d = (v: View) => v.storage.data as Int32Array | Uint8Array | Float64Array;
      n.bitwise(bitCodes[op], d(a), a.offset, d(b), b.offset, d(out), out.offset, numelOf(out.shape));
    },
  };
}
