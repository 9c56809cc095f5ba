// Elementwise kernels (native/cuda/kernels/elementwise.cu): float32/float64 kernels when every operand has the
// output's float dtype, the `_any` kernels (each dtype read as a double, stored with castValue's rules) otherwise.
import { castValue, itemSize } from "../../core/dtype.js";
import { sameShape } from "../../core/shape.js";
import type { BinaryName } from "../../ops/binary.js";
import type { Kernels } from "../../ops/kernels.js";
import type { UnaryName } from "../../ops/unary.js";
import type { CudaRuntime } from "./runtime.js";
import { allContiguous, args, coalesce, DT, geomBytes, geometries, isFloat, launch1d, numel, ptrOf, type CV } from "./kernels_common.js";

/** The U_* codes of elementwise.cu; typed as the full op list, so a new unary op needs its code here. */
export const UNARY_CODES: Record<UnaryName, number> = {
  neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, abs: 5, relu: 6, gelu: 7, sigmoid: 8, tanh: 9, reciprocal: 10,
  square: 11, sin: 12, cos: 13, sign: 14, floor: 15, ceil: 16, round: 17,
};

/** The B_* codes of elementwise.cu. */
export const BINARY_CODES: Record<BinaryName, number> = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6, eq: 7, ne: 8, gt: 9, lt: 10, ge: 11, le: 12,
  reluGrad: 13, geluGrad: 14,
};

type Elementwise = Pick<Kernels<CV>, "copy" | "fill" | "unary" | "binary" | "binaryScalar" | "where" | "clamp">;

/** The float kernel suffix when every view has the same float dtype, else null (the `_any` kernel). */
function sameFloat(...views: CV[]): "f32" | "f64" | null {
  const t = views[0].dtype;
  if (!isFloat(t) || views.some((v) => v.dtype !== t)) return null;
  return t === "float32" ? "f32" : "f64";
}

function copyGeoms(src: CV, dst: CV): [Uint8Array, Uint8Array] {
  if (sameShape(src.shape, dst.shape)) {
    const [sg, dg] = geometries("copy", dst.shape, [src, dst]);
    return [sg, dg];
  }
  // Same element count, different shapes: each view walks its own row-major order.
  const s = coalesce(src.shape, [src.strides]);
  const d = coalesce(dst.shape, [dst.strides]);
  return [geomBytes("copy", s.shape, s.strides[0]), geomBytes("copy", d.shape, d.strides[0])];
}

export function elementwiseKernels(rt: CudaRuntime): Elementwise {
  return {
    copy(src, dst) {
      const n = numel(dst);
      if (n === 0) return;
      if (src.dtype === dst.dtype && allContiguous([src, dst])) {
        rt.copyDtoD(ptrOf(dst), ptrOf(src), n * itemSize(dst.dtype));
        return;
      }
      const [sg, dg] = copyGeoms(src, dst);
      if (src.dtype === dst.dtype) {
        const a = args().ptr(ptrOf(src)).geom(sg).ptr(ptrOf(dst)).geom(dg).i64(n);
        launch1d(rt, `k_copy_b${itemSize(dst.dtype)}`, n, a);
        return;
      }
      const a = args().ptr(ptrOf(src)).i32(DT[src.dtype]).geom(sg).ptr(ptrOf(dst)).i32(DT[dst.dtype]).geom(dg).i64(n);
      launch1d(rt, "k_copy_any", n, a);
    },

    fill(dst, value) {
      const n = numel(dst);
      if (n === 0) return;
      const v = castValue(dst.dtype, value);
      if (allContiguous([dst]) && (dst.dtype === "float32" || dst.dtype === "int32")) {
        const word = new DataView(new ArrayBuffer(4));
        if (dst.dtype === "float32") word.setFloat32(0, v, true);
        else word.setInt32(0, v, true);
        rt.memsetD32(ptrOf(dst), word.getUint32(0, true), n);
        return;
      }
      const [dg] = geometries("fill", dst.shape, [dst]);
      launch1d(rt, "k_fill_any", n, args().ptr(ptrOf(dst)).i32(DT[dst.dtype]).geom(dg).i64(n).f64(v));
    },

    unary(op, x, out) {
      const n = numel(out);
      if (n === 0) return;
      const [xg] = geometries(op, out.shape, [x]);
      const f = sameFloat(x, out);
      const a = f
        ? args().ptr(ptrOf(x)).geom(xg).ptr(ptrOf(out)).i64(n).i32(UNARY_CODES[op])
        : args().ptr(ptrOf(x)).i32(DT[x.dtype]).geom(xg).ptr(ptrOf(out)).i32(DT[out.dtype]).i64(n).i32(UNARY_CODES[op]);
      launch1d(rt, f ? `k_unary_${f}` : "k_unary_any", n, a);
    },

    binary(op, x, y, out) {
      const n = numel(out);
      if (n === 0) return;
      const [ag, bg] = geometries(op, out.shape, [x, y]);
      const f = sameFloat(x, y, out);
      const a = f
        ? args().ptr(ptrOf(x)).geom(ag).ptr(ptrOf(y)).geom(bg).ptr(ptrOf(out)).i64(n).i32(BINARY_CODES[op])
        : args().ptr(ptrOf(x)).i32(DT[x.dtype]).geom(ag).ptr(ptrOf(y)).i32(DT[y.dtype]).geom(bg)
            .ptr(ptrOf(out)).i32(DT[out.dtype]).i64(n).i32(BINARY_CODES[op]);
      launch1d(rt, f ? `k_binary_${f}` : "k_binary_any", n, a);
    },

    binaryScalar(op, x, s, out) {
      const n = numel(out);
      if (n === 0) return;
      const [ag] = geometries(op, out.shape, [x]);
      const f = sameFloat(x, out);
      const a = f
        ? args().ptr(ptrOf(x)).geom(ag).f64(s).ptr(ptrOf(out)).i64(n).i32(BINARY_CODES[op])
        : args().ptr(ptrOf(x)).i32(DT[x.dtype]).geom(ag).f64(s).ptr(ptrOf(out)).i32(DT[out.dtype]).i64(n).i32(BINARY_CODES[op]);
      launch1d(rt, f ? `k_binary_scalar_${f}` : "k_binary_scalar_any", n, a);
    },

    where(cond, x, y, out) {
      const n = numel(out);
      if (n === 0) return;
      const [cg, ag, bg] = geometries("where", out.shape, [cond, x, y]);
      if (cond.dtype === "bool" && sameFloat(x, y, out) === "f32") {
        const a = args().ptr(ptrOf(cond)).geom(cg).ptr(ptrOf(x)).geom(ag).ptr(ptrOf(y)).geom(bg).ptr(ptrOf(out)).i64(n);
        launch1d(rt, "k_where_f32", n, a);
        return;
      }
      const a = args().ptr(ptrOf(cond)).i32(DT[cond.dtype]).geom(cg).ptr(ptrOf(x)).i32(DT[x.dtype]).geom(ag)
        .ptr(ptrOf(y)).i32(DT[y.dtype]).geom(bg).ptr(ptrOf(out)).i32(DT[out.dtype]).i64(n);
      launch1d(rt, "k_where_any", n, a);
    },

    clamp(x, out, lo, hi) {
      const n = numel(out);
      if (n === 0) return;
      const [xg] = geometries("clamp", out.shape, [x]);
      const f = sameFloat(x, out);
      const a = f
        ? args().ptr(ptrOf(x)).geom(xg).ptr(ptrOf(out)).i64(n).f64(lo).f64(hi)
        : args().ptr(ptrOf(x)).i32(DT[x.dtype]).geom(xg).ptr(ptrOf(out)).i32(DT[out.dtype]).i64(n).f64(lo).f64(hi);
      launch1d(rt, f ? `k_clamp_${f}` : "k_clamp_any", n, a);
    },
  };
}
