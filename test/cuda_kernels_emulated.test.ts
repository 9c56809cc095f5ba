// The CUDA kernels' own code, executed on the CPU (test/cuda_emu: the .cu files compiled as host C++ with a shim
// for threads, barriers, warp shuffles and atomics) and compared with the reference backend on the same inputs:
// every family, float and integer dtypes, strided views, NaN and tie rules, casts. No GPU is involved: this checks
// arithmetic, indexing and block cooperation, not the GPU's memory model or speed. Skipped without g++.
import test from "node:test";
import assert from "node:assert/strict";
import { allocArray, itemSize, type DType, type TypedArray } from "../src/core/dtype.js";
import { contiguousStrides, numelOf } from "../src/core/shape.js";
import type { Kernels, View } from "../src/ops/kernels.js";
import { binaryOps, type BinaryName } from "../src/ops/binary.js";
import { unaryOps, type UnaryName } from "../src/ops/unary.js";
import { refKernels } from "../src/backends/ref/index.js";
import { positions } from "../src/backends/ref/strided.js";
import { cudaKernels } from "../src/backends/cuda/kernels.js";
import type { CudaMemory } from "../src/backends/cuda/runtime.js";
import { EmuRuntime, hasCompiler, runEmulator } from "./helpers/cuda_emulator.js";
import { ERR, errorFor, errorRecord } from "../src/backends/cuda/kernels_errors.js";

const skip = hasCompiler() ? false : "g++ not found; the CUDA kernels were not executed on the CPU emulator";
if (skip) console.log(`# ${skip}`);

interface Spec {
  shape: number[];
  dtype: DType;
  /** Value of the i-th element in row-major order (default: a pseudo-random value in [-2, 2]). */
  gen?: (i: number) => number;
  transposed?: boolean;
  strides?: number[];
  offset?: number;
}

interface EmuCase {
  name: string;
  tensors: Spec[];
  call<V>(k: Kernels<V>, t: V[]): void;
  /** Run with cuBLAS present too (its gemm replayed on the host). */
  blasToo?: boolean;
  rtol?: number;
}

let seed = 12345;
function rnd(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
const uniform = (lo: number, hi: number) => () => lo + (hi - lo) * rnd();
const ints = (lo: number, hi: number) => () => lo + Math.floor((hi - lo) * rnd());
const list = (vals: number[]) => (i: number) => vals[i % vals.length];

function stridesOf(s: Spec): number[] {
  if (s.strides) return s.strides;
  if (s.transposed && s.shape.length >= 2) {
    const r = s.shape.length;
    const t = [...s.shape];
    [t[r - 1], t[r - 2]] = [t[r - 2], t[r - 1]];
    const c = contiguousStrides(t);
    const st = [...c];
    [st[r - 1], st[r - 2]] = [c[r - 2], c[r - 1]];
    return st;
  }
  return contiguousStrides(s.shape);
}

/** The host storage of a spec: values at the view's positions, 0 in the gaps. */
function hostData(s: Spec): { data: TypedArray; view: View } {
  const strides = stridesOf(s);
  const offset = s.offset ?? 0;
  let span = 1;
  for (let d = 0; d < s.shape.length; d++) span += (s.shape[d] - 1) * Math.abs(strides[d]);
  if (numelOf(s.shape) === 0) span = 0;
  const data = allocArray(s.dtype, offset + span);
  const view: View = { storage: { data }, shape: s.shape, strides, offset, dtype: s.dtype };
  const pos = positions(view);
  const gen = s.gen ?? uniform(-2, 2);
  const n = numelOf(s.shape);
  const vals = Array.from({ length: n }, (_, i) => gen(i));
  for (let i = 0; i < n; i++) {
    const v = vals[i];
    data[pos ? pos[i] : offset + i] = s.dtype === "float32" || s.dtype === "float64" ? v : s.dtype === "bool" ? (v ? 1 : 0) : Math.trunc(v);
  }
  return { data, view };
}

function deviceBytes(dtype: DType, data: TypedArray): ArrayBufferView {
  return dtype === "int64" ? BigInt64Array.from(data as Float64Array, (v) => BigInt(v)) : data;
}

function fromBytes(dtype: DType, b: Uint8Array): number[] {
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  switch (dtype) {
    case "float32": return [...new Float32Array(buf)];
    case "float64": return [...new Float64Array(buf)];
    case "int32": return [...new Int32Array(buf)];
    case "int64": return [...new BigInt64Array(buf)].map(Number);
    default: return [...new Uint8Array(buf)];
  }
}

const unaryCases: EmuCase[] = (Object.keys(unaryOps) as UnaryName[]).map((op) => ({
  name: `unary ${op} float32`,
  tensors: [{ shape: [9], dtype: "float32", gen: uniform(...unaryOps[op].range) }, { shape: [9], dtype: "float32" }],
  call: (k, [x, y]) => k.unary(op, x, y),
}));

const binaryCases: EmuCase[] = (Object.keys(binaryOps) as BinaryName[]).map((op) => {
  const def = binaryOps[op];
  return {
    name: `binary ${op} float32, b broadcast`,
    tensors: [
      { shape: [2, 3], dtype: "float32", gen: uniform(...def.rangeA) },
      { shape: [2, 3], dtype: "float32", strides: [0, 1], gen: (i) => (i === 1 ? 1 : uniform(...def.rangeB)()) },
      { shape: [2, 3], dtype: def.result === "bool" ? "bool" : "float32" },
    ],
    call: (k, [a, b, c]) => k.binary(op, a, b, c),
  };
});

const ce = { ignoreIndex: -100, labelSmoothing: 0.1, reduction: "mean" as const };
const bnTrain = { N: 3, C: 2, HW: 5, training: true, momentum: 0.1, eps: 1e-5 };
const poolP = (k: number, s: number, pad: number, H: number, countIncludePad = true, divisorOverride = 0) => {
  const O = Math.floor((H + 2 * pad - k) / s) + 1;
  return { N: 1, C: 2, H, W: H, KH: k, KW: k, strideH: s, strideW: s, padH: pad, padW: pad, dilH: 1, dilW: 1, OH: O, OW: O, countIncludePad, divisorOverride };
};
const convP = (N: number, C: number, H: number, OC: number, K: number, s: number, pad: number, dil: number, groups: number) => {
  const O = Math.floor((H + 2 * pad - dil * (K - 1) - 1) / s) + 1;
  return { N, C, H, W: H, OC, KH: K, KW: K, strideH: s, strideW: s, padH: pad, padW: pad, dilH: dil, dilW: dil, groups, OH: O, OW: O };
};

const cases: EmuCase[] = [
  ...unaryCases,
  ...binaryCases,
  { name: "unary float64 transposed", tensors: [{ shape: [3, 4], dtype: "float64", transposed: true }, { shape: [3, 4], dtype: "float64" }], call: (k, [x, y]) => k.unary("round", x, y) },
  { name: "unary int32 -> float32", tensors: [{ shape: [5], dtype: "int32", gen: ints(0, 9) }, { shape: [5], dtype: "float32" }], call: (k, [x, y]) => k.unary("sqrt", x, y) },
  { name: "unary int64 abs", tensors: [{ shape: [5], dtype: "int64", gen: ints(-9, 9) }, { shape: [5], dtype: "int64" }], call: (k, [x, y]) => k.unary("abs", x, y) },
  {
    name: "binary int32 add wraps, int32 / int32 -> float32",
    tensors: [{ shape: [4], dtype: "int32", gen: list([2147483647, -5, 7, -2147483648]) }, { shape: [4], dtype: "int32", gen: list([1, 3, 2, -1]) }, { shape: [4], dtype: "int32" }, { shape: [4], dtype: "float32" }],
    call: (k, [a, b, c, d]) => { k.binary("add", a, b, c); k.binary("div", a, b, d); },
  },
  {
    name: "binary int64 >= float32 -> bool, int32 * float32 transposed",
    tensors: [{ shape: [3, 2], dtype: "int64", gen: ints(-2, 2) }, { shape: [3, 2], dtype: "float32", transposed: true }, { shape: [3, 2], dtype: "bool" }, { shape: [3, 2], dtype: "float32" }],
    call: (k, [a, b, c, d]) => { k.binary("ge", a, b, c); k.binary("mul", a, b, d); },
  },
  {
    name: "binaryScalar float32, int64, float64 -> bool",
    tensors: [{ shape: [6], dtype: "float32", gen: uniform(0.5, 2) }, { shape: [6], dtype: "float32" }, { shape: [2, 3], dtype: "int64", gen: ints(-5, 5), transposed: true }, { shape: [2, 3], dtype: "int64" }, { shape: [4], dtype: "float64" }, { shape: [4], dtype: "bool" }],
    call: (k, [a, b, c, d, e, f]) => { k.binaryScalar("pow", a, 2.5, b); k.binaryScalar("sub", c, 7, d); k.binaryScalar("lt", e, 0.25, f); },
  },
  {
    name: "where: bool cond float32 with a broadcast operand; float cond (NaN is false) into int32",
    tensors: [{ shape: [2, 3], dtype: "bool", gen: list([1, 0, 0, 1, 1, 0]) }, { shape: [2, 3], dtype: "float32" }, { shape: [2, 3], dtype: "float32", strides: [0, 0] }, { shape: [2, 3], dtype: "float32" },
      { shape: [4], dtype: "float32", gen: list([0, NaN, -1, 2]) }, { shape: [4], dtype: "int32", gen: ints(0, 9) }, { shape: [4], dtype: "int32", gen: ints(-9, 0) }, { shape: [4], dtype: "int32" }],
    call: (k, [c, a, b, o, c2, a2, b2, o2]) => { k.where(c, a, b, o); k.where(c2, a2, b2, o2); },
  },
  {
    name: "clamp float32 with NaN, int32",
    tensors: [{ shape: [6], dtype: "float32", gen: list([-3, 0.5, NaN, 4, -0.2, 1]) }, { shape: [6], dtype: "float32" }, { shape: [5], dtype: "int32", gen: ints(-5, 5) }, { shape: [5], dtype: "int32" }],
    call: (k, [x, y, a, b]) => { k.clamp(x, y, -1, 1); k.clamp(a, b, -2, 3); },
  },
  {
    name: "copy casts float32 -> int32/uint8/bool/int64 (wrap, truncate, NaN)",
    tensors: [{ shape: [8], dtype: "float32", gen: list([-3.7, 2.5, 1e10, NaN, -1e10, 300.2, -0.5, Infinity]) }, { shape: [8], dtype: "int32" }, { shape: [8], dtype: "uint8" }, { shape: [8], dtype: "bool" }, { shape: [8], dtype: "int64" }],
    call: (k, [x, a, b, c, d]) => { k.copy(x, a); k.copy(x, b); k.copy(x, c); k.copy(x, d); },
  },
  {
    name: "copy transposed float32, int64, bool into strided views; reshaping copy",
    tensors: [{ shape: [3, 4], dtype: "float32", transposed: true }, { shape: [3, 4], dtype: "float32", strides: [8, 2], offset: 1 }, { shape: [2, 3], dtype: "int64", gen: ints(-99, 99), transposed: true }, { shape: [2, 3], dtype: "int64" },
      { shape: [4, 2], dtype: "bool", gen: ints(0, 2), transposed: true }, { shape: [4, 2], dtype: "bool" }, { shape: [8], dtype: "float64" }],
    call: (k, [a, b, c, d, e, f, g]) => { k.copy(a, b); k.copy(c, d); k.copy(e, f); k.copy(e, g); },
  },
  {
    name: "fill float32, int64, strided float32, uint8 wraps",
    tensors: [{ shape: [5], dtype: "float32" }, { shape: [3], dtype: "int64", offset: 1 }, { shape: [3, 3], dtype: "float32", strides: [4, 1] }, { shape: [3], dtype: "uint8" }],
    call: (k, [a, b, c, d]) => { k.fill(a, 1.5); k.fill(b, -7); k.fill(c, 2); k.fill(d, 300); },
  },
  {
    name: "sumDim rows and cols, float32/float64/int64",
    tensors: [{ shape: [3, 50], dtype: "float32" }, { shape: [3], dtype: "float32" }, { shape: [2, 20, 33], dtype: "float64" }, { shape: [2, 33], dtype: "float64" }, { shape: [4, 5], dtype: "int64", gen: ints(-9, 9) }, { shape: [5], dtype: "int64" }],
    call: (k, [a, b, c, d, e, f]) => { k.sumDim(a, b, 3, 50, 1); k.sumDim(c, d, 2, 20, 33); k.sumDim(e, f, 1, 4, 5); },
  },
  {
    name: "prodDim rows and cols",
    tensors: [{ shape: [2, 9], dtype: "float32", gen: uniform(0.5, 1.5) }, { shape: [2], dtype: "float32" }, { shape: [3, 10], dtype: "int32", gen: ints(-2, 3) }, { shape: [10], dtype: "int64" }],
    call: (k, [a, b, c, d]) => { k.prodDim(a, b, 2, 9, 1); k.prodDim(c, d, 1, 3, 10); },
  },
  {
    name: "maxDim: NaN wins, first index on ties, rows and cols, min",
    tensors: [{ shape: [3, 300], dtype: "float32", gen: (i) => (i === 400 ? NaN : i === 700 ? NaN : Math.floor(rnd() * 5)) }, { shape: [3], dtype: "float32" }, { shape: [3], dtype: "int64" },
      { shape: [2, 40, 35], dtype: "uint8", gen: ints(0, 4) }, { shape: [2, 35], dtype: "uint8" }, { shape: [2, 35], dtype: "int64" },
      { shape: [2, 17, 3], dtype: "float64", gen: (i) => (i === 20 ? NaN : Math.floor(rnd() * 3)) }, { shape: [2, 3], dtype: "float64" }, { shape: [2, 3], dtype: "int64" }],
    call: (k, [a, b, c, d, e, f, g, h, i]) => { k.maxDim(a, b, c, 3, 300, 1, false); k.maxDim(d, e, f, 2, 40, 35, true); k.maxDim(g, h, i, 2, 17, 3, false); },
  },
  {
    name: "softmax and log-softmax, rows and cols, forward and backward",
    tensors: [{ shape: [3, 40], dtype: "float32" }, { shape: [3, 40], dtype: "float32" }, { shape: [3, 40], dtype: "float32" }, { shape: [3, 40], dtype: "float32" },
      { shape: [2, 5, 3], dtype: "float64" }, { shape: [2, 5, 3], dtype: "float64" }, { shape: [2, 5, 3], dtype: "float64" }, { shape: [2, 5, 3], dtype: "float64" }],
    call: (k, [x, y, gy, gx, x2, y2, gy2, gx2]) => {
      k.softmax(x, y, 3, 40, 1, false); k.softmaxBackward(gy, y, gx, 3, 40, 1, false);
      k.softmax(x2, y2, 2, 5, 3, true); k.softmaxBackward(gy2, y2, gx2, 2, 5, 3, true);
    },
  },
  {
    name: "crossEntropy: smoothing, ignoreIndex, mean with gradient; sum; none (float64)",
    tensors: [{ shape: [5, 7], dtype: "float32" }, { shape: [5], dtype: "int64", gen: list([3, -100, 0, 6, 2]) }, { shape: [], dtype: "float32" }, { shape: [5, 7], dtype: "float32" }, { shape: [], dtype: "float32" },
      { shape: [4, 3], dtype: "float64" }, { shape: [4], dtype: "int64", gen: list([1, 2, -100, 0]) }, { shape: [4], dtype: "float64" }, { shape: [4, 3], dtype: "float64" }],
    call: (k, [x, t, l, g, l2, x2, t2, l3, g2]) => {
      k.crossEntropy(x, t, l, g, ce); k.crossEntropy(x, t, l2, null, { ...ce, reduction: "sum", labelSmoothing: 0 });
      k.crossEntropy(x2, t2, l3, g2, { ...ce, reduction: "none" });
    },
  },
  {
    name: "nllLoss mean/none and nllLossBackward mean/sum/none",
    tensors: [{ shape: [4, 5], dtype: "float32" }, { shape: [4], dtype: "int64", gen: list([4, 0, -100, 2]) }, { shape: [], dtype: "float32" }, { shape: [4], dtype: "float32" },
      { shape: [], dtype: "float32", gen: list([1.5]) }, { shape: [4, 5], dtype: "float32" }, { shape: [4, 5], dtype: "float32" }, { shape: [4], dtype: "float32" }, { shape: [4, 5], dtype: "float32" }],
    call: (k, [x, t, l, ln, g, gx, gx2, gn, gx3]) => {
      k.nllLoss(x, t, l, ce); k.nllLoss(x, t, ln, { ...ce, reduction: "none" });
      k.nllLossBackward(t, gx, g, ce); k.nllLossBackward(t, gx2, g, { ...ce, reduction: "sum" }); k.nllLossBackward(t, gx3, gn, { ...ce, reduction: "none" });
    },
  },
  {
    name: "batchNorm training (running stats) and eval, backward both",
    tensors: [{ shape: [3, 2, 5], dtype: "float32" }, { shape: [2], dtype: "float32" }, { shape: [2], dtype: "float32" }, { shape: [2], dtype: "float32" }, { shape: [2], dtype: "float32", gen: uniform(0.5, 2) },
      { shape: [3, 2, 5], dtype: "float32" }, { shape: [2], dtype: "float32" }, { shape: [2], dtype: "float32" }, { shape: [3, 2, 5], dtype: "float32" },
      { shape: [3, 2, 5], dtype: "float32" }, { shape: [2], dtype: "float32" }, { shape: [2], dtype: "float32" }, { shape: [3, 2, 5], dtype: "float32" }, { shape: [3, 2, 5], dtype: "float32" }, { shape: [2], dtype: "float32" }, { shape: [2], dtype: "float32" }],
    call: (k, [x, w, b, rm, rv, y, sm, si, gy, gx, gw, gb, y2, gx2, sm2, si2]) => {
      k.batchNorm(x, w, b, rm, rv, y, sm, si, bnTrain);
      k.batchNormBackward(gy, x, w, sm, si, gx, gw, gb, bnTrain);
      k.batchNorm(x, null, b, rm, rv, y2, sm2, si2, { ...bnTrain, training: false });
      k.batchNormBackward(gy, x, w, sm2, si2, gx2, null, null, { ...bnTrain, training: false });
    },
  },
  {
    name: "maxPool2d (NaN, padding) and avgPool2d (count_include_pad false, divisor override), forward and backward",
    tensors: [{ shape: [1, 2, 7, 7], dtype: "float32", gen: (i) => (i === 30 ? NaN : Math.floor(rnd() * 4)) }, { shape: [1, 2, 4, 4], dtype: "float32" }, { shape: [1, 2, 4, 4], dtype: "int32" }, { shape: [1, 2, 4, 4], dtype: "float32" }, { shape: [1, 2, 7, 7], dtype: "float32" },
      { shape: [1, 2, 7, 7], dtype: "float64" }, { shape: [1, 2, 7, 7], dtype: "float64" }, { shape: [1, 2, 7, 7], dtype: "float64" }, { shape: [1, 2, 4, 4], dtype: "float64" }, { shape: [1, 2, 4, 4], dtype: "float64" }, { shape: [1, 2, 7, 7], dtype: "float64" }],
    call: (k, [x, y, ind, gy, gx, x2, y2, gx2, y3, gy3, gx3]) => {
      const p = poolP(3, 2, 1, 7);
      k.maxPool2d(x, y, ind, p); k.maxPool2dBackward(gy, ind, gx, p);
      const pa = poolP(3, 1, 1, 7, false);
      k.avgPool2d(x2, y2, pa); k.avgPool2dBackward(x2, gx2, pa);
      const pd = poolP(2, 2, 1, 7, true, 3);
      k.avgPool2d(x2, y3, pd); k.avgPool2dBackward(gy3, gx3, pd);
    },
  },
  {
    name: "bmm (all transposes), linear (bias, K = 0), linearBackward",
    blasToo: true,
    tensors: [{ shape: [2, 3, 4], dtype: "float32" }, { shape: [2, 4, 5], dtype: "float32" }, { shape: [2, 3, 5], dtype: "float32" }, { shape: [2, 4, 3], dtype: "float64" }, { shape: [2, 5, 4], dtype: "float64" }, { shape: [2, 3, 5], dtype: "float64" },
      { shape: [70, 9], dtype: "float32" }, { shape: [66, 9], dtype: "float32" }, { shape: [66], dtype: "float32" }, { shape: [70, 66], dtype: "float32" },
      { shape: [70, 66], dtype: "float32" }, { shape: [70, 9], dtype: "float32" }, { shape: [66, 9], dtype: "float32" }, { shape: [66], dtype: "float32" },
      { shape: [2, 0], dtype: "float32" }, { shape: [3, 0], dtype: "float32" }, { shape: [3], dtype: "float32" }, { shape: [2, 3], dtype: "float32" }],
    call: (k, [a, b, c, a2, b2, c2, x, w, bias, y, gy, gx, gw, gb, x0, w0, b0, y0]) => {
      k.bmm(a, b, c, 2, 3, 5, 4, false, false); k.bmm(a2, b2, c2, 2, 3, 5, 4, true, true);
      k.linear(x, w, bias, y); k.linearBackward(gy, x, w, gx, gw, gb); k.linear(x0, w0, b0, y0);
    },
  },
  {
    name: "conv2d and conv2dBackward: bias, groups 2, stride 2, dilation 2",
    blasToo: true,
    tensors: [{ shape: [2, 4, 7, 7], dtype: "float32" }, { shape: [6, 2, 3, 3], dtype: "float32" }, { shape: [6], dtype: "float32" }, { shape: [2, 6, 3, 3], dtype: "float32" },
      { shape: [2, 6, 3, 3], dtype: "float32" }, { shape: [2, 4, 7, 7], dtype: "float32" }, { shape: [6, 2, 3, 3], dtype: "float32" }, { shape: [6], dtype: "float32" },
      { shape: [1, 3, 6, 6], dtype: "float64" }, { shape: [5, 3, 3, 3], dtype: "float64" }, { shape: [1, 5, 6, 6], dtype: "float64" }, { shape: [1, 5, 6, 6], dtype: "float64" }, { shape: [1, 3, 6, 6], dtype: "float64" }, { shape: [5, 3, 3, 3], dtype: "float64" }],
    call: (k, [x, w, b, y, gy, gx, gw, gb, x2, w2, y2, gy2, gx2, gw2]) => {
      const p = convP(2, 4, 7, 6, 3, 2, 1, 2, 2);
      k.conv2d(x, w, b, y, p); k.conv2dBackward(gy, x, w, gx, gw, gb, p);
      const q = convP(1, 3, 6, 5, 3, 1, 1, 1, 1);
      k.conv2d(x2, w2, null, y2, q); k.conv2dBackward(gy2, x2, w2, gx2, gw2, null, q);
    },
  },
  {
    name: "indexSelect (float32, int64, uint8) and indexAdd (duplicates; float32, int32, bool)",
    tensors: [{ shape: [2, 5, 3], dtype: "float32" }, { shape: [4], dtype: "int64", gen: list([4, 0, 4, 2]) }, { shape: [2, 4, 3], dtype: "float32" },
      { shape: [5, 2], dtype: "int64", gen: ints(-50, 50) }, { shape: [3], dtype: "int32", gen: list([1, 1, 3]) }, { shape: [3, 2], dtype: "int64" },
      { shape: [6], dtype: "uint8", gen: ints(0, 255) }, { shape: [2], dtype: "uint8" },
      { shape: [4, 2], dtype: "float32" }, { shape: [5, 2], dtype: "float32" }, { shape: [4, 2], dtype: "int32", gen: ints(-9, 9) }, { shape: [5, 2], dtype: "int32", gen: ints(-9, 9) },
      // bool: no two true values land on one element (the reference would store their byte sum, 2; the kernel keeps 0/1)
      { shape: [4], dtype: "bool", gen: list([1, 0, 0, 1]) }, { shape: [5], dtype: "bool", gen: list([0, 1, 0, 0, 0]) }],
    call: (k, [x, idx, o, x2, idx2, o2, x3, o3, s, acc, s2, acc2, s3, acc3]) => {
      k.indexSelect(x, idx, o, 2, 5, 3); k.indexSelect(x2, idx2, o2, 1, 5, 2); k.indexSelect(x3, idx2, o3, 1, 6, 1);
      k.indexAdd(s, idx, acc, 1, 5, 2); k.indexAdd(s2, idx, acc2, 1, 5, 2); k.indexAdd(s3, idx, acc3, 1, 5, 1);
    },
  },
  {
    name: "indexAdd uint8 wraps",
    tensors: [{ shape: [3], dtype: "uint8", gen: list([200, 100, 7]) }, { shape: [3], dtype: "int64", gen: list([1, 1, 0]) }, { shape: [2], dtype: "uint8", gen: list([1, 250]) }],
    call: (k, [s, idx, acc]) => k.indexAdd(s, idx, acc, 1, 2, 1),
  },
  {
    name: "randUniform / randNormal / randPerm give the CPU generator's numbers",
    tensors: [{ shape: [9], dtype: "float32" }, { shape: [7], dtype: "float64" }, { shape: [10], dtype: "int64" }],
    call: (k, [u, n, p]) => {
      k.randUniform(Uint32Array.of(1, 2, 3, 4), u, -1, 1);
      k.randNormal(Uint32Array.of(5, 6, 7, 8), n, 0.5, 2);
      k.randPerm(Uint32Array.of(9, 10, 11, 12), p);
    },
  },
  {
    name: "sgdStep (nesterov, weight decay, first step then not) and adamStep (AdamW amsgrad; L2)",
    tensors: [{ shape: [3, 4], dtype: "float32", offset: 1 }, { shape: [300], dtype: "float32" }, { shape: [2], dtype: "float64" }, { shape: [3, 4], dtype: "float32" }, { shape: [300], dtype: "float32" }, { shape: [2], dtype: "float64" }, { shape: [3, 4], dtype: "float32" }, { shape: [2], dtype: "float64" },
      { shape: [5], dtype: "float32" }, { shape: [5], dtype: "float32" }, { shape: [5], dtype: "float32", gen: uniform(-0.1, 0.1) }, { shape: [5], dtype: "float32", gen: uniform(0, 0.01) }, { shape: [5], dtype: "float32", gen: uniform(0, 0.02) },
      { shape: [2, 2], dtype: "float64" }, { shape: [2, 2], dtype: "float64" }, { shape: [2, 2], dtype: "float64" }, { shape: [2, 2], dtype: "float64", gen: uniform(0, 0.01) }],
    call: (k, [p1, p2, p3, g1, g2, g3, b1, b3, ap, ag, am, av, amx, bp, bg, bm, bv]) => {
      const sgd = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2, nesterov: true, maximize: false };
      k.sgdStep([p1, p2, p3], [g1, g2, g3], [b1, null, b3], sgd, [true, false, true]);
      k.sgdStep([p1, p2, p3], [g1, g2, g3], [b1, null, b3], { ...sgd, nesterov: false, maximize: true }, [false, false, false]);
      const adam = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, amsgrad: true, maximize: false };
      k.adamStep([ap, bp], [ag, bg], [am, bm], [av, bv], [amx, null], [3, 1], adam);
      k.adamStep([ap, bp], [ag, bg], [am, bm], [av, bv], [amx, null], [4, 2], { ...adam, decoupled: false, amsgrad: false, maximize: true });
    },
  },
  {
    name: "scan: float32 sum by rows (several chunks), float64 prod by columns, int32 sum wraps, uint8 prod wraps",
    tensors: [{ shape: [3, 600], dtype: "float32" }, { shape: [3, 600], dtype: "float32" }, { shape: [2, 6, 3], dtype: "float64", gen: uniform(0.5, 1.5) }, { shape: [2, 6, 3], dtype: "float64" },
      { shape: [2, 4], dtype: "int32", gen: list([2147483000, 1000, -5, 7]) }, { shape: [2, 4], dtype: "int32" }, { shape: [7], dtype: "uint8", gen: ints(1, 9) }, { shape: [7], dtype: "uint8" },
      { shape: [4, 3], dtype: "int64", gen: ints(-50, 50) }, { shape: [4, 3], dtype: "float32" }],
    call: (k, [a, b, c, d, e, f, g, h, i, j]) => {
      k.scan("sum", a, b, 3, 600, 1); k.scan("prod", c, d, 2, 6, 3); k.scan("sum", e, f, 2, 4, 1); k.scan("prod", g, h, 1, 7, 1); k.scan("sum", i, j, 1, 4, 3);
    },
  },
  {
    name: "sort in shared memory: ties stay in order, NaN highest, descending; int32 and uint8",
    tensors: [{ shape: [2, 37, 3], dtype: "float32", gen: (i) => (i % 11 === 4 ? NaN : Math.floor(rnd() * 5)) }, { shape: [2, 37, 3], dtype: "float32" }, { shape: [2, 37, 3], dtype: "int64" },
      { shape: [2, 37, 3], dtype: "float32" }, { shape: [2, 37, 3], dtype: "int64" },
      { shape: [3, 9], dtype: "int32", gen: ints(-3, 3) }, { shape: [3, 9], dtype: "int32" }, { shape: [3, 9], dtype: "int64" },
      { shape: [1], dtype: "float64" }, { shape: [1], dtype: "float64" }, { shape: [1], dtype: "int64" }],
    call: (k, [x, v, i, v2, i2, a, av, ai, s, sv, si]) => {
      k.sort(x, v, i, 2, 37, 3, false); k.sort(x, v2, i2, 2, 37, 3, true); k.sort(a, av, ai, 3, 9, 1, true); k.sort(s, sv, si, 1, 1, 1, false);
    },
  },
  {
    name: "sort of long rows (tiles, then merge passes): float64 ascending with ties and NaN, float32 descending along a middle dim",
    tensors: [{ shape: [2, 2100], dtype: "float64", gen: (i) => (i % 97 === 5 ? NaN : Math.floor(rnd() * 50)) }, { shape: [2, 2100], dtype: "float64" }, { shape: [2, 2100], dtype: "int64" },
      { shape: [2100, 2], dtype: "float32", gen: (i) => Math.floor(rnd() * 300) / 4 }, { shape: [2100, 2], dtype: "float32" }, { shape: [2100, 2], dtype: "int64" }],
    call: (k, [x, v, i, y, w, j]) => { k.sort(x, v, i, 2, 2100, 1, false); k.sort(y, w, j, 1, 2100, 2, true); },
  },
  {
    name: "gather: transposed float32 along dim 0, int64 x by a strided int32 index along dim 1",
    tensors: [{ shape: [4, 3], dtype: "float32", transposed: true }, { shape: [2, 3], dtype: "int64", gen: list([3, 0, 1, 1, 2, 3]) }, { shape: [2, 3], dtype: "float32" },
      { shape: [2, 5], dtype: "int64", gen: ints(-99, 99) }, { shape: [2, 3], dtype: "int32", strides: [6, 2], gen: list([4, 0, 4, 1, 2, 3]) }, { shape: [2, 3], dtype: "int64" }],
    call: (k, [x, idx, o, x2, idx2, o2]) => { k.gather(x, idx, o, 0); k.gather(x2, idx2, o2, 1); },
  },
  {
    name: "scatter: float32 accumulate with duplicates, int32 accumulate, float64 overwrite from a transposed source, bool accumulate",
    tensors: [{ shape: [3, 2], dtype: "float32" }, { shape: [3, 2], dtype: "int64", gen: list([1, 1, 1, 0, 3, 1]) }, { shape: [4, 2], dtype: "float32" },
      { shape: [3, 2], dtype: "int32", gen: ints(-9, 9) }, { shape: [4, 2], dtype: "int32", gen: ints(-9, 9) },
      { shape: [3, 3], dtype: "float64", transposed: true }, { shape: [2, 2], dtype: "int64", gen: list([4, 0, 2, 3]) }, { shape: [2, 5], dtype: "float64" },
      { shape: [3], dtype: "bool", gen: list([1, 1, 0]) }, { shape: [3], dtype: "int32", gen: list([2, 2, 0]) }, { shape: [4], dtype: "bool", gen: list([0, 0, 1, 0]) }],
    call: (k, [s, idx, o, s2, o2, s3, idx3, o3, s4, idx4, o4]) => {
      k.scatter(s, idx, o, 0, true); k.scatter(s2, idx, o2, 0, true); k.scatter(s3, idx3, o3, 1, false); k.scatter(s4, idx4, o4, 0, true);
    },
  },
  {
    name: "searchsorted left and right: ties, NaN at the end, float64 and int32",
    tensors: [{ shape: [2, 6], dtype: "float64", gen: list([-1, 0, 0, 2, 5, NaN]) }, { shape: [2, 5], dtype: "float64", gen: list([0, -3, 2.5, NaN, 9]) }, { shape: [2, 5], dtype: "int64" }, { shape: [2, 5], dtype: "int64" },
      { shape: [7], dtype: "int32", gen: list([1, 1, 2, 3, 3, 3, 8]) }, { shape: [4], dtype: "int32", gen: list([3, 0, 1, 9]) }, { shape: [4], dtype: "int64" }, { shape: [4], dtype: "int64" }],
    call: (k, [q, v, l, r, q2, v2, l2, r2]) => {
      k.searchsorted(q, v, l, 2, 6, 5, false); k.searchsorted(q, v, r, 2, 6, 5, true); k.searchsorted(q2, v2, l2, 1, 7, 4, false); k.searchsorted(q2, v2, r2, 1, 7, 4, true);
    },
  },
  {
    name: "bitwise and/or/xor: int32 with negatives and a broadcast operand, int64 past 32 bits, uint8, bool",
    tensors: [{ shape: [2, 3], dtype: "int32", gen: list([-1, 12, -2147483648, 255, 7, -100]) }, { shape: [2, 3], dtype: "int32", strides: [0, 1], gen: list([6, -3, 2147483647]) }, { shape: [2, 3], dtype: "int32" }, { shape: [2, 3], dtype: "int32" },
      { shape: [4], dtype: "int64", gen: list([2 ** 40 + 5, -(2 ** 35) - 1, 123456789012, -7]) }, { shape: [4], dtype: "int64", gen: list([2 ** 33 + 1, 2 ** 36 - 1, -1, 3]) }, { shape: [4], dtype: "int64" },
      { shape: [3, 2], dtype: "uint8", gen: ints(0, 256), transposed: true }, { shape: [3, 2], dtype: "uint8", gen: ints(0, 256) }, { shape: [3, 2], dtype: "uint8" },
      { shape: [4], dtype: "bool", gen: list([0, 1, 1, 0]) }, { shape: [4], dtype: "bool", gen: list([0, 0, 1, 1]) }, { shape: [4], dtype: "bool" }],
    call: (k, [a, b, c, d, e, f, g, h, i, j, l, m, n]) => {
      k.bitwise("and", a, b, c); k.bitwise("xor", a, b, d); k.bitwise("or", e, f, g); k.bitwise("xor", h, i, j); k.bitwise("or", l, m, n);
    },
  },
];

type CV = View<CudaMemory>;

function compare(name: string, dtype: DType, got: number[], want: TypedArray, rtol: number): void {
  assert.equal(got.length, want.length, `${name}: length`);
  const atol = dtype === "float32" ? 1e-5 : 1e-10;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (g === w) continue;
    if (Number.isNaN(w)) assert.ok(Number.isNaN(g), `${name}[${i}]: ${g}, expected NaN`);
    else if (dtype === "float32" || dtype === "float64") assert.ok(Math.abs(g - w) <= atol + rtol * Math.abs(w), `${name}[${i}]: ${g}, expected ${w}`);
    else assert.equal(g, w, `${name}[${i}]`);
  }
}

for (const blas of [false, true]) {
  test(`the kernels, run on the CPU emulator, match the reference backend (cuBLAS ${blas ? "present" : "absent"})`, { skip }, () => {
    const rt = new EmuRuntime(blas);
    const k = cudaKernels(rt);
    const pending: { name: string; specs: Spec[]; ref: TypedArray[]; dumps: number[]; rtol: number }[] = [];
    for (const c of cases) {
      if (blas && !c.blasToo) continue;
      const host = c.tensors.map(hostData);
      const dev: CV[] = host.map(({ data, view }) => {
        const ptr = rt.alloc(Math.max(1, data.length) * itemSize(view.dtype));
        if (data.length) rt.copyHtoD(ptr, deviceBytes(view.dtype, data));
        return { storage: { ptr }, shape: view.shape, strides: view.strides, offset: view.offset, dtype: view.dtype };
      });
      c.call(refKernels, host.map((h) => h.view));
      c.call(k, dev);
      const dumps = dev.map((v, i) => (host[i].data.length ? rt.dump(v.storage.ptr, host[i].data.length * itemSize(v.dtype)) : -1));
      pending.push({ name: c.name, specs: c.tensors, ref: host.map((h) => h.data), dumps, rtol: c.rtol ?? 2e-5 });
    }
    assert.deepEqual(rt.problems, []);
    const out = runEmulator(rt);
    const failures: string[] = [];
    for (const p of pending) {
      p.specs.forEach((s, i) => {
        if (p.dumps[i] < 0) return;
        try {
          compare(`${p.name}: tensor ${i} (${s.dtype} [${s.shape}])`, s.dtype, fromBytes(s.dtype, out[p.dumps[i]]), p.ref[i], s.dtype === "float64" ? 1e-12 : p.rtol);
        } catch (e) {
          failures.push((e as Error).message);
        }
      });
    }
    assert.deepEqual(failures, []);
  });
}

test("gather and scatter report an index out of range through the error record, with the reference's message", { skip }, () => {
  const rt = new EmuRuntime(false);
  const k = cudaKernels(rt);
  const up = (shape: number[], dtype: DType, vals: number[]): CV => {
    const data = allocArray(dtype, vals.length);
    data.set(vals);
    const ptr = rt.alloc(Math.max(1, vals.length) * itemSize(dtype));
    rt.copyHtoD(ptr, deviceBytes(dtype, data));
    return { storage: { ptr }, shape, strides: contiguousStrides(shape), offset: 0, dtype };
  };
  const x = up([2, 3], "float32", [1, 2, 3, 4, 5, 6]);
  k.gather(x, up([2, 1], "int64", [0, 5]), up([2, 1], "float32", [0, 0]), 1);
  const rec = errorRecord(rt).ptr;
  const afterGather = rt.dump(rec, 24);
  rt.memsetD32(rec, 0, 6);
  k.scatter(x, up([1, 3], "int32", [1, -1, 0]), up([4, 3], "float32", new Array(12).fill(0)), 0, true);
  const afterScatter = rt.dump(rec, 24);
  const out = runEmulator(rt);
  const words = (b: Uint8Array) => [...new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + 24))].map(Number);
  assert.deepEqual(words(out[afterGather]), [ERR.gather, 5, 3]);
  assert.deepEqual(words(out[afterScatter]), [ERR.scatter, -1, 4]);
  const refMessage = (() => {
    try {
      refKernels.gather(hostData({ shape: [2, 3], dtype: "float32" }).view, hostData({ shape: [1, 1], dtype: "int64", gen: list([5]) }).view, hostData({ shape: [1, 1], dtype: "float32" }).view, 1);
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  })();
  assert.ok(errorFor(ERR.gather, 5, 3, 1).message.startsWith(refMessage), `${errorFor(ERR.gather, 5, 3, 1).message} vs ${refMessage}`);
});
