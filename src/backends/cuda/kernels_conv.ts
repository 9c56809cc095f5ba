// conv2d forward and backward: cuDNN through the runtime when it was found, otherwise im2col + gemm per chunk of
// images and group (native/cuda/kernels/conv.cu; the layout is described there). Chunks keep the column buffer
// under COL_LIMIT elements.
import { itemSize } from "../../core/dtype.js";
import type { Conv2dParams, Kernels } from "../../ops/kernels.js";
import type { ConvArgs, CudaRuntime, DevicePtr } from "./runtime.js";
import { args, fsuffix, gridRows, launch1d, ptrOf, withScratch, zeroFill, type CV } from "./kernels_common.js";
import { gemm } from "./kernels_matmul.js";

type Conv = Pick<Kernels<CV>, "conv2d" | "conv2dBackward">;

const COL_LIMIT = 1 << 25;
export const CONV_BYTES = 64;

/** struct KConv: 16 int32 in Conv2dParams order. */
export function convBytes(p: Conv2dParams): Uint8Array {
  const v = [p.N, p.C, p.H, p.W, p.OC, p.KH, p.KW, p.strideH, p.strideW, p.padH, p.padW, p.dilH, p.dilW, p.groups, p.OH, p.OW];
  return new Uint8Array(Int32Array.from(v).buffer);
}

function convArgs(p: Conv2dParams, dtype: "float32" | "float64"): ConvArgs {
  return { dtype, ...p };
}

interface Plan {
  f: "f32" | "f64";
  dtype: "float32" | "float64";
  cg: number;
  og: number;
  cgKK: number;
  P: number;
  /** Images per chunk. */
  nimg: number;
  esize: number;
}

function plan(op: string, p: Conv2dParams, x: CV): Plan {
  const f = fsuffix(op, x.dtype);
  const cg = p.C / p.groups, og = p.OC / p.groups, cgKK = cg * p.KH * p.KW, P = p.OH * p.OW;
  const per = Math.max(cgKK, og) * P;
  const nimg = Math.max(1, Math.min(p.N, Math.floor(COL_LIMIT / Math.max(1, per))));
  return { f, dtype: x.dtype as "float32" | "float64", cg, og, cgKK, P, nimg, esize: itemSize(x.dtype) };
}

export function convKernels(rt: CudaRuntime): Conv {
  const pb = (p: Conv2dParams): Uint8Array => convBytes(p);

  /** Runs body(n0, nimg, col, tmp) for each chunk of images, with scratch for the chunk's column and channel buffers. */
  function chunks(pl: Plan, p: Conv2dParams, body: (n0: number, nimg: number, col: DevicePtr, tmp: DevicePtr) => void): void {
    const colBytes = pl.cgKK * pl.nimg * pl.P * pl.esize;
    const tmpBytes = pl.og * pl.nimg * pl.P * pl.esize;
    withScratch(rt, colBytes + tmpBytes, (col) => {
      const tmp = col + BigInt(colBytes);
      for (let n0 = 0; n0 < p.N; n0 += pl.nimg) body(n0, Math.min(pl.nimg, p.N - n0), col, tmp);
    });
  }

  function im2col(pl: Plan, p: Conv2dParams, x: CV, col: DevicePtr, n0: number, nimg: number, g: number): void {
    launch1d(rt, `k_im2col_${pl.f}`, pl.cgKK * nimg * pl.P, args().ptr(ptrOf(x)).ptr(col).raw(pb(p), 4).i32(n0).i32(nimg).i32(g));
  }

  function cnp(pl: Plan, p: Conv2dParams, tmp: DevicePtr, y: CV, bias: CV | null, n0: number, nimg: number, g: number, toNchw: boolean): void {
    launch1d(rt, `k_cnp_nchw_${pl.f}`, pl.og * nimg * pl.P, args().ptr(tmp).ptr(ptrOf(y)).ptr(bias ? ptrOf(bias) : 0n)
      .i64(p.OC).i64(pl.P).i32(n0).i32(nimg).i32(g * pl.og).i32(pl.og).i32(toNchw ? 1 : 0));
  }

  return {
    conv2d(x, w, bias, out, p) {
      const pl = plan("conv2d", p, x);
      if (p.N * p.OC * pl.P === 0) return;
      if (rt.hasDnn) {
        rt.convForward(convArgs(p, pl.dtype), ptrOf(x), ptrOf(w), ptrOf(out));
        if (bias) launch1d(rt, `k_bias_add_${pl.f}`, p.N * p.OC * pl.P, args().ptr(ptrOf(out)).ptr(ptrOf(bias)).i64(p.N).i64(p.OC).i64(pl.P));
        return;
      }
      chunks(pl, p, (n0, nimg, col, tmp) => {
        for (let g = 0; g < p.groups; g++) {
          im2col(pl, p, x, col, n0, nimg, g);
          gemm(rt, {
            dtype: pl.dtype, transA: false, transB: false, M: pl.og, N: nimg * pl.P, K: pl.cgKK,
            a: ptrOf(w) + BigInt(g * pl.og * pl.cgKK * pl.esize), lda: pl.cgKK, strideA: 0,
            b: col, ldb: nimg * pl.P, strideB: 0, c: tmp, ldc: nimg * pl.P, strideC: 0,
            batch: 1, alpha: 1, beta: 0,
          });
          cnp(pl, p, tmp, out, bias, n0, nimg, g, true);
        }
      });
    },

    conv2dBackward(gy, x, w, gx, gw, gb, p) {
      const pl = plan("conv2dBackward", p, x);
      if (gb) {
        if (p.OC > 0) rt.launch(`k_conv_bias_grad_${pl.f}`, gridRows(p.OC), [1024, 1, 1], 0, args().ptr(ptrOf(gy)).ptr(ptrOf(gb)).i64(p.N).i64(p.OC).i64(pl.P));
      }
      if (!gx && !gw) return;
      if (rt.hasDnn) {
        const ca = convArgs(p, pl.dtype);
        if (gx) rt.convBackwardData(ca, ptrOf(gy), ptrOf(w), ptrOf(gx));
        if (gw) rt.convBackwardFilter(ca, ptrOf(x), ptrOf(gy), ptrOf(gw));
        return;
      }
      if (pl.P === 0 || p.N === 0) {
        if (gx) zeroFill(rt, gx, p.N * p.C * p.H * p.W);
        if (gw) zeroFill(rt, gw, p.OC * pl.cgKK);
        return;
      }
      chunks(pl, p, (n0, nimg, col, tmp) => {
        for (let g = 0; g < p.groups; g++) {
          const wg = ptrOf(w) + BigInt(g * pl.og * pl.cgKK * pl.esize);
          cnp(pl, p, tmp, gy, null, n0, nimg, g, false);
          if (gw) {
            im2col(pl, p, x, col, n0, nimg, g);
            gemm(rt, {
              dtype: pl.dtype, transA: false, transB: true, M: pl.og, N: pl.cgKK, K: nimg * pl.P,
              a: tmp, lda: nimg * pl.P, strideA: 0, b: col, ldb: nimg * pl.P, strideB: 0,
              c: ptrOf(gw) + BigInt(g * pl.og * pl.cgKK * pl.esize), ldc: pl.cgKK, strideC: 0,
              batch: 1, alpha: 1, beta: n0 === 0 ? 0 : 1,
            });
          }
          if (gx) {
            gemm(rt, {
              dtype: pl.dtype, transA: true, transB: false, M: pl.cgKK, N: nimg * pl.P, K: pl.og,
              a: wg, lda: pl.cgKK, strideA: 0, b: tmp, ldb: nimg * pl.P, strideB: 0, c: col, ldc: nimg * pl.P, strideC: 0,
              batch: 1, alpha: 1, beta: 0,
            });
            launch1d(rt, `k_col2im_${pl.f}`, nimg * pl.cg * p.H * p.W, args().ptr(col).ptr(ptrOf(gx)).raw(pb(p), 4).i32(n0).i32(nimg).i32(g));
          }
        }
      });
    },
  };
}
