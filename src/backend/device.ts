// The device contract: what a tensor's storage is to everything above src/backends/, and what a device object owns
// (kernels, allocator, host transfers, synchronisation, memory figures). docs/architecture.md tells the story.
import type { DType, TypedArray } from "../core/dtype.js";
import type { Kernels, View } from "../ops/kernels.js";

/**
 * Memory that tensors view, opaque above src/backends/: nothing there may read its bytes (test/storage_opacity
 * checks it). Values leave a device only through its download functions (the tensor layer's sync points).
 * `version` counts in-place writes: views share it, and autograd checks it to catch saved tensors that were modified.
 */
export interface Storage {
  readonly device: DeviceBackend;
  readonly dtype: DType;
  /** Elements. */
  readonly size: number;
  readonly byteSize: number;
  /** What the owning backend narrows: a typed array on the CPU, nothing on meta, a device pointer on CUDA. */
  readonly handle: unknown;
  version: number;
  /** True only for memory the engine allocated for one result (never a caller's array): release() may reuse it. */
  recyclable: boolean;
  /**
   * Gives the memory back now (to the device's pool when recyclable). The caller guarantees that no tensor reads
   * this storage again; a released storage holds no data, so a later read fails instead of seeing reused memory.
   */
  release(): void;
}

/** What the tensor layer hands every device's kernels: a tensor is a View over an opaque Storage. */
export type TensorView = View<Storage>;
export type DeviceKernels = Kernels<TensorView>;

export interface MemoryStats {
  /** Bytes the device holds for tensors now (see each device's note on what it can count). */
  inUseBytes: number;
  /** The most inUseBytes has been. */
  peakBytes: number;
  /** Bytes handed out since the device was created. */
  allocatedBytes: number;
  /**
   * CUDA: the full garbage collections the allocator ran to free dead tensors' memory inside a synchronous loop, and
   * the milliseconds they took (the price of freeing device memory without reference counts).
   */
  reclaims?: number;
  reclaimMs?: number;
}

/**
 * One device ("cpu", "meta", "cuda:0"): created lazily by src/backends/registry.ts on first use, one object per
 * device for the life of the process, referenced by every storage it allocates so the hot path finds its kernels
 * with a field read.
 */
export interface DeviceBackend {
  /** "cpu", "meta", "cuda". */
  readonly type: string;
  /** The device string tensors report (`tensor.device`): "cpu", "meta", "cuda:0". */
  readonly name: string;
  /** False for devices without memory (meta): their sync points throw. */
  readonly hasData: boolean;
  /** Replaced as a whole when the cpu device switches kernel sets (torch.backends.cpu.use). */
  kernels: DeviceKernels;
  /** A zero-filled storage of n elements. */
  alloc(dtype: DType, n: number): Storage;
  /** A new storage holding a copy of host values (already of dtype's array type). */
  upload(values: TypedArray, dtype: DType): Storage;
  /** Host devices only: a storage over the caller's array itself (fromTypedArray's zero-copy contract). */
  adopt?(values: TypedArray, dtype: DType): Storage;
  /** Host devices only: the live memory of elements [offset, offset + n), no copy. */
  hostView?(storage: Storage, offset: number, n: number): TypedArray;
  /** A host copy of elements [offset, offset + n) after all queued work on the storage has finished. */
  download(storage: Storage, offset: number, n: number): TypedArray;
  /** download without blocking the JS thread (a device with its own queue resolves when the copy lands). */
  downloadAsync(storage: Storage, offset: number, n: number): Promise<TypedArray>;
  /** Waits for all queued work (a no-op on synchronous devices). */
  synchronize(): void;
  memoryStats(): MemoryStats;
}

export type DeviceFactory = (index: number) => DeviceBackend;

export interface DeviceSpec {
  readonly type: string;
  readonly index: number;
}

/** A device string as PyTorch spells it: "cpu", "meta", "cuda", "cuda:1". Index -1 for the index-free types. */
export function parseDevice(device: string | { toString(): string }): DeviceSpec {
  const s = String(device);
  const m = /^([a-z][a-z0-9_]*)(?::(\d+))?$/.exec(s);
  if (!m) throw new Error(`invalid device string '${s}': expected "cpu", "meta", "cuda" or "cuda:N"`);
  const type = m[1]!;
  if (type === "cpu" || type === "meta") return { type, index: -1 };
  return { type, index: m[2] === undefined ? 0 : Number(m[2]) };
}

export function canonicalDevice(device: string | { toString(): string }): string {
  const d = parseDevice(device);
  return d.index < 0 ? d.type : `${d.type}:${d.index}`;
}
