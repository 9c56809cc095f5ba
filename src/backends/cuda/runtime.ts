// The TypeScript face of the native CUDA addon (native/cuda/): one CudaRuntime per GPU, on one compute stream.
// Everything here is stream-ordered on that stream unless its comment says it synchronises. The CUDA device
// (device.ts) owns memory and transfers through it; the kernels (kernels*.ts) launch through it. Device addresses
// are bigints; a View's element offset is added by the caller (ptr + offset * itemSize).

export type DevicePtr = bigint;
export type Dim3 = readonly [number, number, number];

/** Element types the libraries take (cuBLASLt's and cuDNN's own enums are mapped natively). */
export type LibDType = "float32" | "float64";

/**
 * Arguments of one kernel launch, packed as the kernel's parameters are laid out: each value aligned to its size
 * (a by-value struct to the alignment given), in declaration order. The native side builds the `void*[]` that
 * cuLaunchKernel takes from `bytes` and `offsets`.
 */
export class KernelArgs {
  private buf = new ArrayBuffer(256);
  private view = new DataView(this.buf);
  private at = 0;
  private readonly offs: number[] = [];

  /** May replace buf and view (growth): callers take the offset first, then write through the new view. */
  private slot(size: number, align: number): number {
    const off = Math.ceil(this.at / align) * align;
    if (off + size > this.buf.byteLength) {
      const bigger = new ArrayBuffer(Math.max(this.buf.byteLength * 2, off + size));
      new Uint8Array(bigger).set(new Uint8Array(this.buf));
      this.buf = bigger;
      this.view = new DataView(bigger);
    }
    this.offs.push(off);
    this.at = off + size;
    return off;
  }
  // Each setter takes its slot before touching this.view/this.buf: slot() may replace both when it grows the buffer.
  ptr(p: DevicePtr): this {
    const o = this.slot(8, 8);
    this.view.setBigUint64(o, p, true);
    return this;
  }
  i32(n: number): this {
    const o = this.slot(4, 4);
    this.view.setInt32(o, n, true);
    return this;
  }
  i64(n: number | bigint): this {
    const o = this.slot(8, 8);
    this.view.setBigInt64(o, BigInt(n), true);
    return this;
  }
  f32(x: number): this {
    const o = this.slot(4, 4);
    this.view.setFloat32(o, x, true);
    return this;
  }
  f64(x: number): this {
    const o = this.slot(8, 8);
    this.view.setFloat64(o, x, true);
    return this;
  }
  /** A struct passed by value (e.g. shape and strides of a strided view); `align` is the struct's alignment. */
  raw(bytes: Uint8Array, align: number): this {
    const o = this.slot(bytes.byteLength, align);
    new Uint8Array(this.buf, o, bytes.byteLength).set(bytes);
    return this;
  }
  get bytes(): Uint8Array {
    return new Uint8Array(this.buf, 0, this.at);
  }
  get offsets(): Uint32Array {
    return Uint32Array.from(this.offs);
  }
}

/** C = alpha * op(A) @ op(B) + beta * C for `batch` matrices, all ROW-major, strides in elements. */
export interface GemmArgs {
  dtype: LibDType;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  a: DevicePtr; lda: number; strideA: number;
  b: DevicePtr; ldb: number; strideB: number;
  c: DevicePtr; ldc: number; strideC: number;
  batch: number;
  alpha: number;
  beta: number;
}

/** An NCHW float convolution (cuDNN's legacy API), the same fields as the kernel contract's Conv2dParams. */
export interface ConvArgs {
  dtype: LibDType;
  N: number; C: number; H: number; W: number;
  OC: number; KH: number; KW: number;
  strideH: number; strideW: number; padH: number; padW: number; dilH: number; dilW: number;
  groups: number; OH: number; OW: number;
}

export interface CudaRuntime {
  readonly index: number;
  /** cuDeviceGetName. */
  readonly name: string;
  readonly computeCapability: readonly [number, number];
  readonly multiProcessorCount: number;
  readonly totalMemoryBytes: number;

  /** Stream-ordered allocation from the device's pool; throws PyTorch's kind of out-of-memory error. */
  alloc(bytes: number): DevicePtr;
  free(ptr: DevicePtr): void;
  /** Fills `count` 32-bit words with the bit pattern `bits` (0 for zero-fill of any dtype). */
  memsetD32(ptr: DevicePtr, bits: number, count: number): void;
  /** Host to device; `src` may be reused as soon as this returns (the addon stages it). */
  copyHtoD(dst: DevicePtr, src: ArrayBufferView): void;
  /** Device to host after all queued work: synchronises. */
  copyDtoH(dst: ArrayBufferView, src: DevicePtr): void;
  /** Device to host without blocking the JS thread: resolves when the copy has landed in `dst`. */
  copyDtoHAsync(dst: ArrayBufferView, src: DevicePtr): Promise<void>;
  copyDtoD(dst: DevicePtr, src: DevicePtr, bytes: number): void;

  /** Launches `extern "C" __global__` kernel `kernel` from the fatbin (or the NVRTC-compiled module). */
  launch(kernel: string, grid: Dim3, block: Dim3, sharedBytes: number, args: KernelArgs): void;
  synchronize(): void;

  /** cuBLASLt (or cuBLAS) was found: gemm() works. Otherwise kernels use their own matmul. */
  readonly hasBlas: boolean;
  gemm(g: GemmArgs): void;
  /** cuDNN was found: the conv* calls work. Otherwise kernels use their own convolution. */
  readonly hasDnn: boolean;
  convForward(p: ConvArgs, x: DevicePtr, w: DevicePtr, y: DevicePtr): void;
  convBackwardData(p: ConvArgs, gy: DevicePtr, w: DevicePtr, gx: DevicePtr): void;
  convBackwardFilter(p: ConvArgs, x: DevicePtr, gy: DevicePtr, gw: DevicePtr): void;
  /** torch.backends.cuda.matmul.allowTf32 (false by default, as in PyTorch). */
  allowTf32: boolean;
}

/** What a CUDA kernel sees of a storage (the device's Storage class implements it): its base device address. */
export interface CudaMemory {
  readonly ptr: DevicePtr;
}

// ---- Appended by the kernels (branch cuda-k) ----

const afterSyncChecks = new WeakMap<CudaRuntime, (() => void)[]>();

/**
 * Registers a host-side check to run after each synchronisation of `rt`. The kernels use it for device-side checks
 * (a class index >= C in cross-entropy, an index out of range in indexSelect/indexAdd): the kernel records the
 * failure in device memory and the check reads it and throws an Error naming the op.
 */
export function onAfterSync(rt: CudaRuntime, check: () => void): void {
  const list = afterSyncChecks.get(rt);
  if (list) list.push(check);
  else afterSyncChecks.set(rt, [check]);
}

/**
 * The device calls this after every synchronising call it makes for the tensor layer (synchronize, download,
 * downloadAsync once its copy landed); it throws the first failure a kernel recorded since the last call.
 * Checks read their record with rt.copyDtoH only when a checking kernel was queued since, so it is free otherwise.
 */
export function runAfterSyncChecks(rt: CudaRuntime): void {
  const list = afterSyncChecks.get(rt);
  if (list) for (const check of list) check();
}

/**
 * Device memory layout of each dtype, as the kernels read and write it: int64 is a true two's-complement int64
 * (the host's Float64Array holds it as a double: upload/download convert), bool one byte 0/1.
 */
export const CUDA_INT64_IS_NATIVE = true;
