// What every CUDA kernel family shares: the view type, device addresses of views, dtype codes, the KGeom struct a
// strided view travels in (with dimension coalescing), launch shapes, scratch memory, and the argument packer that
// records each argument's kind (test/cuda_kernel_signatures checks them against the .cu parameter lists).
import { itemSize, type DType } from "../../core/dtype.js";
import { numelOf } from "../../core/shape.js";
import type { View } from "../../ops/kernels.js";
import { KernelArgs, type CudaMemory, type CudaRuntime, type DevicePtr, type Dim3 } from "./runtime.js";

export type CV = View<CudaMemory>;

/** Element-type codes of native/cuda/kernels/common.cuh (DT_*). */
export const DT: Record<DType, number> = { float32: 0, float64: 1, int32: 2, int64: 3, uint8: 4, bool: 5 };

/** Highest rank a strided view may have after coalescing (K_MAX_RANK). */
export const MAX_RANK = 8;
/** sizeof(KGeom): int64 size[8], int64 stride[8], int32 rank, int32 pad. */
export const GEOM_BYTES = 136;
export const BLOCK = 256;

export type ArgKind = "ptr" | "i32" | "i64" | "f32" | "f64" | { raw: number; align: number };

/** KernelArgs that also keeps the kind of each argument it packed. */
export class KArgs extends KernelArgs {
  readonly kinds: ArgKind[] = [];
  override ptr(p: DevicePtr): this {
    this.kinds.push("ptr");
    return super.ptr(p);
  }
  override i32(n: number): this {
    this.kinds.push("i32");
    return super.i32(n);
  }
  override i64(n: number | bigint): this {
    this.kinds.push("i64");
    return super.i64(n);
  }
  override f32(x: number): this {
    this.kinds.push("f32");
    return super.f32(x);
  }
  override f64(x: number): this {
    this.kinds.push("f64");
    return super.f64(x);
  }
  override raw(bytes: Uint8Array, align: number): this {
    this.kinds.push({ raw: bytes.byteLength, align });
    return super.raw(bytes, align);
  }
  /** A view's geometry (see geometry()). */
  geom(g: Uint8Array): this {
    return this.raw(g, 8);
  }
}

export function args(): KArgs {
  return new KArgs();
}

/** The device address of a view's first element. */
export function ptrOf(v: CV): DevicePtr {
  return v.offset === 0 ? v.storage.ptr : v.storage.ptr + BigInt(v.offset * itemSize(v.dtype));
}

export function ptrOrNull(v: CV | null): DevicePtr {
  return v ? ptrOf(v) : 0n;
}

export function numel(v: CV): number {
  return numelOf(v.shape);
}

export function isFloat(dtype: DType): dtype is "float32" | "float64" {
  return dtype === "float32" || dtype === "float64";
}

/** "f32" / "f64": the suffix of the kernels instantiated per float type. */
export function fsuffix(op: string, dtype: DType): "f32" | "f64" {
  if (dtype === "float32") return "f32";
  if (dtype === "float64") return "f64";
  throw new Error(`${op}: the CUDA kernel takes float32 or float64 tensors, got ${dtype}`);
}

/**
 * Shapes and strides of views that share one shape (a kernel's operands, already broadcast), with size-1 dims
 * dropped and neighbouring dims merged wherever every operand steps through them as one: [4, 5, 6] contiguous is
 * [120]; a transpose keeps its two dims.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

function contiguousIn(shape: readonly number[], strides: readonly number[]): boolean {
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (strides[d] !== acc) return false;
    acc *= shape[d];
  }
  return true;
}

/** The KGeom bytes of one view; rank 0 marks a contiguous view (position = linear index). */
export function geomBytes(op: string, shape: readonly number[], strides: readonly number[]): Uint8Array {
  const b = new Uint8Array(GEOM_BYTES);
  if (contiguousIn(shape, strides)) return b;
  if (shape.length > MAX_RANK) {
    throw new Error(`${op}: a strided view of rank ${shape.length} after merging its dims; CUDA kernels take at most ${MAX_RANK} (make it contiguous first)`);
  }
  const dv = new DataView(b.buffer);
  for (let d = 0; d < shape.length; d++) {
    dv.setBigInt64(d * 8, BigInt(shape[d]), true);
    dv.setBigInt64(64 + d * 8, BigInt(strides[d]), true);
  }
  dv.setInt32(128, shape.length, true);
  return b;
}

/** KGeom of each view, all of `shape` (outputs of elementwise kernels are contiguous: pass only the inputs). */
export function geometries(op: string, shape: readonly number[], views: readonly CV[]): Uint8Array[] {
  const c = coalesce(shape, views.map((v) => v.strides));
  return c.strides.map((s) => geomBytes(op, c.shape, s));
}

/** True when every view is contiguous (their KGeoms would all be rank 0). */
export function allContiguous(views: readonly CV[]): boolean {
  return views.every((v) => {
    let acc = 1;
    for (let d = v.shape.length - 1; d >= 0; d--) {
      if (v.shape[d] !== 1 && v.strides[d] !== acc) return false;
      acc *= v.shape[d];
    }
    return true;
  });
}

/** Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more than the work. */
export function grid1d(rt: CudaRuntime, n: number, block = BLOCK): Dim3 {
  const cap = Math.max(1, rt.multiProcessorCount) * 16;
  return [Math.max(1, Math.min(Math.ceil(n / block), cap)), 1, 1];
}

/** One block per row (grid-stride over rows beyond the cap). */
export function gridRows(rows: number): Dim3 {
  return [Math.max(1, Math.min(rows, 65535)), 1, 1];
}

export function launch1d(rt: CudaRuntime, kernel: string, n: number, a: KArgs): void {
  rt.launch(kernel, grid1d(rt, n), [BLOCK, 1, 1], 0, a);
}

/** Runs fn with `bytes` of device scratch memory, freed after the launches fn queued (stream order keeps it valid). */
export function withScratch<R>(rt: CudaRuntime, bytes: number, fn: (p: DevicePtr) => R): R {
  const p = rt.alloc(Math.max(8, bytes));
  try {
    return fn(p);
  } finally {
    rt.free(p);
  }
}

/** Zero-fills a contiguous view (every dtype's zero is all-zero bytes). */
export function zeroFill(rt: CudaRuntime, v: CV, n = numel(v)): void {
  const bytes = n * itemSize(v.dtype);
  if (bytes === 0) return;
  if (bytes % 4 === 0) rt.memsetD32(ptrOf(v), 0, bytes / 4);
  else {
    const a = args().ptr(ptrOf(v)).i32(DT[v.dtype]).geom(new Uint8Array(GEOM_BYTES)).i64(n).f64(0);
    launch1d(rt, "k_fill_any", n, a);
  }
}
