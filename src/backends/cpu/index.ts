// The native CPU backend: a thin typed shim from the kernel contract onto the addon's flat functions. It implements
// every kernel of the contract: the float32 cases run natively, everything else goes through fallback(kernel,
// reason) (fallbacks.ts), which records it and runs the reference kernel.
import { castValue } from "../../core/dtype.js";
import { isContiguous, numelOf } from "../../core/shape.js";
import type { Backend } from "../../backend/registry.js";
import type { Kernels, View } from "../../ops/kernels.js";
import { binaryOps } from "../../ops/binary.js";
import { opCodes, Reduction, type NativeAddon } from "./addon.js";
import { fallback, Reason } from "./fallbacks.js";
import { scanSortKernels } from "./scan_sort.js";

type F32View = View & { storage: { data: Float32Array } };

const isF32 = (v: View): v is F32View => v.dtype === "float32";
const dense = (v: View) => isContiguous(v.shape, v.strides);
const f32 = (v: View) => v.storage.data as Float32Array;

const MAX_DIMS = 16;
const shapeBuf = new Int32Array(MAX_DIMS);
const aStrideBuf = new Int32Array(MAX_DIMS);
const bStrideBuf = new Int32Array(MAX_DIMS);
const cStrideBuf = new Int32Array(MAX_DIMS);
const scalarSlot = new Float32Array(1);
const ZERO_STRIDES: readonly number[][] = Array.from({ length: MAX_DIMS + 1 }, (_, nd) => new Array<number>(nd).fill(0));

function loadDims(v: View, shape: Int32Array | null, strides: Int32Array): void {
  for (let i = 0; i < v.shape.length; i++) {
    if (shape) shape[i] = v.shape[i];
    strides[i] = v.strides[i];
  }
}

/** Index scratch reused across calls: the addon writes int32 indices, kindling stores int64 in Float64Array. */
let idxScratch = new Int32Array(1024);
function scratchI32(n: number): Int32Array {
  if (idxScratch.length < n) idxScratch = new Int32Array(Math.max(n, idxScratch.length * 2));
  return idxScratch;
}

function int32Targets(t: View): [Int32Array, number] {
  if (t.dtype === "int32") return [t.storage.data as Int32Array, t.offset];
  const n = numelOf(t.shape);
  const out = scratchI32(n);
  const d = t.storage.data;
  for (let i = 0; i < n; i++) out[i] = d[t.offset + i];
  return [out, 0];
}

/** Small exact dtypes a float32 kernel can take after conversion (every value is exactly a float32). */
const byteSized = (v: View) => v.dtype === "bool" || v.dtype === "uint8";

/**
 * A float32 view of the same elements as a bool/uint8 view (masks in max/min/where backward), converted over the
 * storage span the view reads, so strides (including broadcast 0) still apply.
 */
function asF32(v: View): F32View {
  let lo = 0, hi = 0;
  for (let i = 0; i < v.shape.length; i++) {
    if (v.shape[i] === 0) return { ...v, storage: { data: new Float32Array(0) }, offset: 0, dtype: "float32" };
    const span = (v.shape[i] - 1) * v.strides[i];
    if (span > 0) hi += span;
    else lo += span;
  }
  const data = new Float32Array(hi - lo + 1);
  data.set(v.storage.data.subarray(v.offset + lo, v.offset + hi + 1));
  return { storage: { data }, shape: v.shape, strides: v.strides, offset: -lo, dtype: "float32" };
}

/** Whether every index is an integer in [0, n) (else the reference kernel reports the bad one). */
function indicesInRange(index: View, m: number, n: number): boolean {
  const d = index.storage.data;
  for (let j = 0; j < m; j++) {
    const k = d[index.offset + j];
    if (!(k >= 0 && k < n && k === Math.floor(k))) return false;
  }
  return true;
}

function isScalarBroadcast(v: View): boolean {
  for (let i = 0; i < v.strides.length; i++) if (v.strides[i] !== 0 && v.shape[i] !== 1) return false;
  return true;
}

export function nativeKernels(n: NativeAddon): Kernels {
  const codes = opCodes(n);
  const k: Kernels = {
    copy(src, dst) {
      const count = numelOf(dst.shape);
      // Dense copies into a float tensor are one TypedArray.set, which converts any source dtype exactly as a cast
      // to float does (bool masks, int64 targets). Casts to integer or bool types need castValue's rules.
      if ((dst.dtype === "float32" || dst.dtype === "float64") && dense(src) && dense(dst)) {
        dst.storage.data.set(src.storage.data.subarray(src.offset, src.offset + count), dst.offset);
        return;
      }
      if (!isF32(src) || !isF32(dst)) return fallback("copy", Reason.dtype)(src, dst);
      if (src.shape.length > MAX_DIMS) return fallback("copy", Reason.dims)(src, dst);
      loadDims(src, shapeBuf, aStrideBuf);
      loadDims(dst, null, bStrideBuf);
      n.copyStrided(src.shape.length, shapeBuf, f32(src), src.offset, aStrideBuf, f32(dst), dst.offset, bStrideBuf);
    },
    fill(dst, value) {
      if (dense(dst)) dst.storage.data.fill(castValue(dst.dtype, value), dst.offset, dst.offset + numelOf(dst.shape));
      else fallback("fill", Reason.stridedFill)(dst, value);
    },
    unary(op, x, out) {
      if (!isF32(x) || !isF32(out)) return fallback("unary", Reason.dtype)(op, x, out);
      const code = codes.unary[op];
      if (dense(x)) return n.unary(code, f32(x), x.offset, f32(out), out.offset, numelOf(out.shape));
      if (x.shape.length > MAX_DIMS) return fallback("unary", Reason.dims)(op, x, out);
      loadDims(x, shapeBuf, aStrideBuf);
      n.unaryStrided(code, x.shape.length, shapeBuf, f32(x), x.offset, aStrideBuf, f32(out), out.offset);
    },
    binary(op, a, b, out) {
      // float32 with a bool/uint8 mask: the mask converts exactly, so the float32 kernels give the reference's result
      if (isF32(a) !== isF32(b) && (byteSized(a) || byteSized(b))) {
        if (!isF32(a)) a = asF32(a);
        else b = asF32(b);
      }
      if (!isF32(a) || !isF32(b)) return fallback("binary", Reason.dtype)(op, a, b, out);
      if (out.shape.length > MAX_DIMS) return fallback("binary", Reason.dims)(op, a, b, out);
      const code = codes.binary[op];
      if (binaryOps[op].result === "bool") {
        if (out.dtype !== "bool") return fallback("binary", Reason.dtype)(op, a, b, out);
        loadDims(a, shapeBuf, aStrideBuf);
        loadDims(b, null, bStrideBuf);
        const y = out.storage.data as Uint8Array;
        return n.compareStrided(code, out.shape.length, shapeBuf, f32(a), a.offset, aStrideBuf, f32(b), b.offset, bStrideBuf, y, out.offset);
      }
      if (!isF32(out)) return fallback("binary", Reason.dtype)(op, a, b, out);
      const count = numelOf(out.shape);
      if (op === "reluGrad" || op === "geluGrad") {
        if (dense(a) && dense(b)) {
          const u = op === "reluGrad" ? codes.unary.relu : codes.unary.gelu;
          return n.unaryBackward(u, f32(a), a.offset, f32(b), b.offset, f32(out), out.offset, count);
        }
      } else {
        if (dense(a) && dense(b)) return n.binary(code, f32(a), a.offset, f32(b), b.offset, f32(out), out.offset, count);
        if (dense(a) && isScalarBroadcast(b)) return n.binaryScalar(code, f32(a), a.offset, f32(b)[b.offset], f32(out), out.offset, count);
      }
      loadDims(a, shapeBuf, aStrideBuf);
      loadDims(b, null, bStrideBuf);
      n.binaryStrided(code, out.shape.length, shapeBuf, f32(a), a.offset, aStrideBuf, f32(b), b.offset, bStrideBuf, f32(out), out.offset);
    },
    binaryScalar(op, a, s, out) {
      // The scalar rides as a broadcast float32 operand through binary(): a contiguous operand reaches the addon's
      // scalar kernel, a strided one or a comparison the strided kernels.
      if (!isF32(a)) return fallback("binaryScalar", Reason.dtype)(op, a, s, out);
      scalarSlot[0] = s;
      const nd = out.shape.length;
      return k.binary(op, a, { storage: { data: scalarSlot }, shape: out.shape, strides: ZERO_STRIDES[nd] ?? new Array<number>(nd).fill(0), offset: 0, dtype: "float32" }, out);
    },
    where(cond, a, b, out) {
      const byteCond = cond.dtype === "bool" || cond.dtype === "uint8";
      if (!byteCond || !isF32(a) || !isF32(b) || !isF32(out)) return fallback("where", Reason.dtype)(cond, a, b, out);
      if (out.shape.length > MAX_DIMS) return fallback("where", Reason.dims)(cond, a, b, out);
      loadDims(cond, shapeBuf, cStrideBuf);
      loadDims(a, null, aStrideBuf);
      loadDims(b, null, bStrideBuf);
      n.whereStrided(out.shape.length, shapeBuf, cond.storage.data as Uint8Array, cond.offset, cStrideBuf,
        f32(a), a.offset, aStrideBuf, f32(b), b.offset, bStrideBuf, f32(out), out.offset);
    },
    clamp(x, out, lo, hi) {
      if (!isF32(x) || !isF32(out)) return fallback("clamp", Reason.dtype)(x, out, lo, hi);
      if (x.shape.length > MAX_DIMS) return fallback("clamp", Reason.dims)(x, out, lo, hi);
      loadDims(x, shapeBuf, aStrideBuf);
      n.clampStrided(lo, hi, x.shape.length, shapeBuf, f32(x), x.offset, aStrideBuf, f32(out), out.offset);
    },
    prodDim(x, out, outer, red, inner) {
      if (!isF32(x) || !isF32(out)) return fallback("prodDim", Reason.dtype)(x, out, outer, red, inner);
      n.prodDim(f32(x), x.offset, f32(out), out.offset, outer, red, inner);
    },
    nllLoss: (logp, target, loss, p) => fallback("nllLoss", Reason.noKernel)(logp, target, loss, p),
    nllLossBackward: (target, gx, gLoss, p) => fallback("nllLossBackward", Reason.noKernel)(target, gx, gLoss, p),
    indexSelect(x, index, out, outer, len, inner) {
      const m = index.shape.length === 0 ? 1 : index.shape[0];
      if (!isF32(x) || !isF32(out) || !(index.storage.data instanceof Float64Array)) return fallback("indexSelect", Reason.dtype)(x, index, out, outer, len, inner);
      if (!indicesInRange(index, m, len)) return fallback("indexSelect", Reason.badIndex)(x, index, out, outer, len, inner);
      n.indexSelect(f32(x), x.offset, index.storage.data, index.offset, m, f32(out), out.offset, outer, len, inner);
    },
    indexAdd(src, index, out, outer, len, inner) {
      const m = index.shape.length === 0 ? 1 : index.shape[0];
      if (!isF32(src) || !isF32(out) || !(index.storage.data instanceof Float64Array)) return fallback("indexAdd", Reason.dtype)(src, index, out, outer, len, inner);
      if (!indicesInRange(index, m, len)) return fallback("indexAdd", Reason.badIndex)(src, index, out, outer, len, inner);
      n.indexAdd(f32(src), src.offset, index.storage.data, index.offset, m, f32(out), out.offset, outer, len, inner);
    },
    sumDim(x, out, outer, red, inner) {
      if (!isF32(x) || !isF32(out)) return fallback("sumDim", Reason.dtype)(x, out, outer, red, inner);
      if (outer === 1 && inner === 1) f32(out)[out.offset] = n.sumAll(f32(x), x.offset, red);
      else n.sumDim(f32(x), x.offset, f32(out), out.offset, outer, red, inner);
    },
    maxDim(x, values, indices, outer, red, inner, isMin) {
      if (!isF32(x) || !isF32(values)) return fallback("maxDim", Reason.dtype)(x, values, indices, outer, red, inner, isMin);
      const count = outer * inner;
      const idx = indices.dtype === "int32" ? (indices.storage.data as Int32Array) : scratchI32(count);
      const off = indices.dtype === "int32" ? indices.offset : 0;
      n.maxDim(f32(x), x.offset, f32(values), values.offset, idx, off, outer, red, inner, isMin);
      if (indices.dtype !== "int32") {
        const d = indices.storage.data;
        for (let i = 0; i < count; i++) d[indices.offset + i] = idx[i];
      }
    },
    bmm(a, b, out, batch, M, N, K, transA, transB) {
      if (!isF32(a) || !isF32(b) || !isF32(out)) return fallback("bmm", Reason.dtype)(a, b, out, batch, M, N, K, transA, transB);
      if (batch * M * N * K === 0) return fallback("bmm", Reason.empty)(a, b, out, batch, M, N, K, transA, transB);
      if (batch === 1) {
        n.gemm(transA, transB, M, N, K, 1, f32(a), a.offset, transA ? M : K, f32(b), b.offset, transB ? K : N, 0, f32(out), out.offset, N);
      } else {
        n.bgemm(batch, transA, transB, M, N, K, f32(a), a.offset, M * K, f32(b), b.offset, K * N, f32(out), out.offset, M * N);
      }
    },
    linear(x, w, bias, out) {
      const [M, N] = out.shape;
      if (!isF32(x) || !isF32(w) || !isF32(out) || (bias && !isF32(bias))) return fallback("linear", Reason.dtype)(x, w, bias, out);
      if (M * N * w.shape[1] === 0) return fallback("linear", Reason.empty)(x, w, bias, out);
      n.linear(f32(x), x.offset, f32(w), w.offset, bias ? f32(bias) : null, bias?.offset ?? 0, f32(out), out.offset, M, N, w.shape[1]);
    },
    linearBackward(gy, x, w, gx, gw, gb) {
      const [M, N] = gy.shape;
      if (!isF32(gy) || !isF32(x) || !isF32(w)) return fallback("linearBackward", Reason.dtype)(gy, x, w, gx, gw, gb);
      if (M * N * w.shape[1] === 0) return fallback("linearBackward", Reason.empty)(gy, x, w, gx, gw, gb);
      n.linearBackward(
        f32(gy), gy.offset, f32(x), x.offset, f32(w), w.offset,
        gx ? f32(gx) : null, gx?.offset ?? 0, gw ? f32(gw) : null, gw?.offset ?? 0, gb ? f32(gb) : null, gb?.offset ?? 0,
        M, N, w.shape[1],
      );
    },
    conv2d(x, w, bias, out, p) {
      if (!isF32(x) || !isF32(w) || (bias && !isF32(bias))) return fallback("conv2d", Reason.dtype)(x, w, bias, out, p);
      n.conv2d(
        f32(x), x.offset, f32(w), w.offset, bias ? f32(bias) : null, bias?.offset ?? 0, f32(out), out.offset,
        p.N, p.C, p.H, p.W, p.OC, p.KH, p.KW, p.strideH, p.strideW, p.padH, p.padW, p.dilH, p.dilW, p.groups, p.OH, p.OW,
      );
    },
    conv2dBackward(gy, x, w, gx, gw, gb, p) {
      if (!isF32(gy) || !isF32(x) || !isF32(w)) return fallback("conv2dBackward", Reason.dtype)(gy, x, w, gx, gw, gb, p);
      n.conv2dBackward(
        f32(gy), gy.offset, f32(x), x.offset, f32(w), w.offset,
        gx ? f32(gx) : null, gx?.offset ?? 0, gw ? f32(gw) : null, gw?.offset ?? 0, gb ? f32(gb) : null, gb?.offset ?? 0,
        p.N, p.C, p.H, p.W, p.OC, p.KH, p.KW, p.strideH, p.strideW, p.padH, p.padW, p.dilH, p.dilW, p.groups, p.OH, p.OW,
      );
    },
    maxPool2d(x, out, indices, p) {
      if (!isF32(x) || indices.dtype !== "int32") return fallback("maxPool2d", Reason.dtype)(x, out, indices, p);
      n.maxPool2d(
        f32(x), x.offset, f32(out), out.offset, indices.storage.data as Int32Array, indices.offset,
        p.N, p.C, p.H, p.W, p.KH, p.KW, p.strideH, p.strideW, p.padH, p.padW, p.dilH, p.dilW, p.OH, p.OW,
      );
    },
    maxPool2dBackward(gy, indices, gx, p) {
      if (!isF32(gy) || indices.dtype !== "int32") return fallback("maxPool2dBackward", Reason.dtype)(gy, indices, gx, p);
      n.maxPool2dBackward(f32(gy), gy.offset, indices.storage.data as Int32Array, indices.offset, f32(gx), gx.offset, p.N, p.C, p.H, p.W, p.OH, p.OW);
    },
    avgPool2d(x, out, p) {
      if (!isF32(x)) return fallback("avgPool2d", Reason.dtype)(x, out, p);
      n.avgPool2d(f32(x), x.offset, f32(out), out.offset, p.N, p.C, p.H, p.W, p.KH, p.KW, p.strideH, p.strideW, p.padH, p.padW, p.OH, p.OW, p.countIncludePad, p.divisorOverride);
    },
    avgPool2dBackward(gy, gx, p) {
      if (!isF32(gy)) return fallback("avgPool2dBackward", Reason.dtype)(gy, gx, p);
      n.avgPool2dBackward(f32(gy), gy.offset, f32(gx), gx.offset, p.N, p.C, p.H, p.W, p.KH, p.KW, p.strideH, p.strideW, p.padH, p.padW, p.OH, p.OW, p.countIncludePad, p.divisorOverride);
    },
    softmax(x, out, outer, len, inner, log) {
      if (!isF32(x)) return fallback("softmax", Reason.dtype)(x, out, outer, len, inner, log);
      n.softmax(f32(x), x.offset, f32(out), out.offset, outer, len, inner, log);
    },
    softmaxBackward(gy, y, gx, outer, len, inner, log) {
      if (!isF32(gy) || !isF32(y)) return fallback("softmaxBackward", Reason.dtype)(gy, y, gx, outer, len, inner, log);
      n.softmaxBackward(f32(gy), gy.offset, f32(y), y.offset, f32(gx), gx.offset, outer, len, inner, log);
    },
    crossEntropy(logits, target, loss, grad, p) {
      if (!isF32(logits)) return fallback("crossEntropy", Reason.dtype)(logits, target, loss, grad, p);
      const [N, C] = logits.shape;
      const [t, tOff] = int32Targets(target);
      // Out-of-range targets get the reference kernel's error message (it names the bad value).
      for (let i = 0; i < N; i++) {
        if (t[tOff + i] !== p.ignoreIndex && !(t[tOff + i] >= 0 && t[tOff + i] < C)) return fallback("crossEntropy", Reason.badTarget)(logits, target, loss, grad, p);
      }
      n.crossEntropy(f32(logits), logits.offset, t, tOff, N, C, p.ignoreIndex, p.labelSmoothing, Reduction[p.reduction], f32(loss), loss.offset, grad ? f32(grad) : null, grad?.offset ?? 0);
    },
    batchNorm(x, weight, bias, rm, rv, out, saveMean, saveInvstd, p) {
      const all = [x, weight, bias, rm, rv, out, saveMean, saveInvstd];
      if (!all.every((v) => !v || isF32(v))) return fallback("batchNorm", Reason.dtype)(x, weight, bias, rm, rv, out, saveMean, saveInvstd, p);
      n.batchNorm2d(
        f32(x), x.offset, f32(out), out.offset, p.N, p.C, p.HW,
        weight ? f32(weight) : null, weight?.offset ?? 0, bias ? f32(bias) : null, bias?.offset ?? 0,
        rm ? f32(rm) : null, rm?.offset ?? 0, rv ? f32(rv) : null, rv?.offset ?? 0,
        p.training, p.momentum, p.eps, f32(saveMean), saveMean.offset, f32(saveInvstd), saveInvstd.offset,
      );
    },
    batchNormBackward(gy, x, weight, saveMean, saveInvstd, gx, gw, gb, p) {
      if (!isF32(gy) || !isF32(x) || (weight && !isF32(weight))) {
        return fallback("batchNormBackward", Reason.dtype)(gy, x, weight, saveMean, saveInvstd, gx, gw, gb, p);
      }
      if (!p.training) return fallback("batchNormBackward", Reason.evalBackward)(gy, x, weight, saveMean, saveInvstd, gx, gw, gb, p);
      n.batchNorm2dBackward(
        f32(gy), gy.offset, f32(x), x.offset, weight ? f32(weight) : null, weight?.offset ?? 0,
        f32(saveMean), saveMean.offset, f32(saveInvstd), saveInvstd.offset,
        f32(gx), gx.offset, gw ? f32(gw) : null, gw?.offset ?? 0, gb ? f32(gb) : null, gb?.offset ?? 0, p.N, p.C, p.HW,
      );
    },
    sgdStep(params, grads, bufs, p, firstStep) {
      // Called once per step for every parameter: plain loops, no per-step closures or subarrays.
      let mixed = false;
      for (let i = 0; i < params.length; i++) {
        const b = bufs[i];
        if (!isF32(params[i]) || !isF32(grads[i]) || (b && !isF32(b))) return fallback("sgdStep", Reason.dtype)(params, grads, bufs, p, firstStep);
        if (firstStep[i] !== firstStep[0]) mixed = true;
      }
      // The addon takes one firstStep flag per call: split the (rare) mixed case in two.
      for (const first of mixed ? [true, false] : [firstStep[0] ?? false]) {
        const idx: number[] = [];
        for (let i = 0; i < params.length; i++) if (firstStep[i] === first) idx.push(i);
        if (!idx.length) continue;
        const m = idx.length;
        const ps: Float32Array[] = new Array(m), gs: Float32Array[] = new Array(m), bs: (Float32Array | null)[] = new Array(m);
        const po = new Int32Array(m), go = new Int32Array(m), bo = new Int32Array(m), sizes = new Int32Array(m);
        for (let j = 0; j < m; j++) {
          const i = idx[j]!, b = bufs[i];
          ps[j] = f32(params[i]);
          gs[j] = f32(grads[i]);
          bs[j] = b ? f32(b) : null;
          po[j] = params[i].offset;
          go[j] = grads[i].offset;
          bo[j] = b ? b.offset : 0;
          sizes[j] = numelOf(params[i].shape);
        }
        n.sgdStep(ps, gs, bs, po, go, bo, sizes, p.lr, p.momentum, p.dampening, p.weightDecay, p.nesterov, p.maximize, first);
      }
    },
    randUniform(state, out, from, to) {
      const d = out.storage.data;
      if (!(d instanceof Float32Array || d instanceof Float64Array)) return fallback("randUniform", Reason.dtype)(state, out, from, to);
      n.rngUniform(state, d, out.offset, numelOf(out.shape), from, to);
    },
    randNormal(state, out, mean, std) {
      const d = out.storage.data;
      if (!(d instanceof Float32Array || d instanceof Float64Array)) return fallback("randNormal", Reason.dtype)(state, out, mean, std);
      return n.rngNormal(state, d, out.offset, numelOf(out.shape), mean, std);
    },
    randPerm(state, out) {
      const d = out.storage.data;
      if (!(d instanceof Float64Array)) return fallback("randPerm", Reason.dtype)(state, out);
      n.rngPermutation(state, d, out.offset, numelOf(out.shape));
    },
    adamStep(params, grads, expAvg, expAvgSq, maxExpAvgSq, step, p) {
      const args = [params, grads, expAvg, expAvgSq, maxExpAvgSq, step, p] as const;
      if (![...params, ...grads, ...expAvg, ...expAvgSq].every(isF32)) return fallback("adamStep", Reason.dtype)(...args);
      if (p.amsgrad) return fallback("adamStep", Reason.amsgrad)(...args);
      if (!step.every((s) => s === step[0])) return fallback("adamStep", Reason.mixedSteps)(...args);
      n.adamStep(
        params.map(f32), grads.map((g) => f32(g).subarray(g.offset)), expAvg.map((e) => f32(e).subarray(e.offset)),
        expAvgSq.map((e) => f32(e).subarray(e.offset)),
        Int32Array.from(params, (t) => t.offset), Int32Array.from(params, (t) => numelOf(t.shape)),
        p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, step[0], p.decoupled, 0, p.maximize,
      );
    },
    ...scanSortKernels(n),
  };
  return k;
}

export function nativeBackend(addon: NativeAddon): Backend {
  return { name: "native", kernels: nativeKernels(addon) };
}
