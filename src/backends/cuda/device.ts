// The "cuda:N" device: one NativeCudaRuntime (one GPU, one stream), its pool's storages, host transfers through
// pinned staging, and the kernels of kernels.ts. Created by the registry on first use of "cuda:N"; the factory
// throws the precise reason when CUDA can't be used (no addon, no driver, no GPU, a library path that fails).
import { allocArray, itemSize, type DType, type TypedArray } from "../../core/dtype.js";
import type { DeviceBackend, DeviceKernels, MemoryStats, Storage } from "../../backend/device.js";
import { cudaKernels } from "./kernels.js";
import { runAfterSyncChecks } from "./runtime.js";
import { probe } from "./native.js";
import { NativeCudaRuntime } from "./native_runtime.js";
import { CudaStorage } from "./storage.js";

export class CudaDevice implements DeviceBackend {
  readonly type = "cuda";
  readonly name: string;
  readonly hasData = true;
  kernels: DeviceKernels;

  constructor(readonly rt: NativeCudaRuntime) {
    this.name = `cuda:${rt.index}`;
    this.kernels = cudaKernels(rt) as unknown as DeviceKernels;
  }

  private storage(s: Storage): CudaStorage {
    if (!(s instanceof CudaStorage) || s.device !== this) {
      throw new Error(`${this.name}: expected a storage of this device, got one of ${s.device.name}`);
    }
    return s;
  }

  alloc(dtype: DType, n: number): Storage {
    const s = new CudaStorage(this, this.rt.allocator, dtype, n);
    if (n > 0) this.rt.memsetD32(s.ptr, 0, Math.ceil((n * itemSize(dtype)) / 4));
    return s;
  }
  upload(values: TypedArray, dtype: DType): Storage {
    const s = new CudaStorage(this, this.rt.allocator, dtype, values.length);
    if (values.length > 0) this.rt.copyHtoD(s.ptr, dtype === "int64" ? int64ToDevice(values) : values);
    return s;
  }
  download(storage: Storage, offset: number, n: number): TypedArray {
    const s = this.storage(storage);
    const raw = deviceLayoutArray(s.dtype, n);
    if (n > 0) this.rt.copyDtoH(raw, s.ptr + BigInt(offset * itemSize(s.dtype)));
    else this.rt.synchronize();
    runAfterSyncChecks(this.rt);
    return fromDeviceLayout(s.dtype, raw);
  }
  async downloadAsync(storage: Storage, offset: number, n: number): Promise<TypedArray> {
    const s = this.storage(storage);
    const raw = deviceLayoutArray(s.dtype, n);
    if (n > 0) await this.rt.copyDtoHAsync(raw, s.ptr + BigInt(offset * itemSize(s.dtype)));
    runAfterSyncChecks(this.rt);
    return fromDeviceLayout(s.dtype, raw);
  }
  synchronize(): void {
    this.rt.synchronize();
    runAfterSyncChecks(this.rt);
  }
  memoryStats(): MemoryStats {
    const a = this.rt.allocator;
    return { inUseBytes: a.memoryAllocated, peakBytes: a.maxMemoryAllocated, allocatedBytes: a.totalAllocated, reclaims: a.reclaims, reclaimMs: a.reclaimMs };
  }
}

const opened = new Map<number, CudaDevice>();

/** The registry's factory for "cuda:N". */
export function cudaDevice(index: number): CudaDevice {
  const hit = opened.get(index);
  if (hit) return hit;
  const p = probe();
  if (!p.available || !p.addon) {
    throw new Error(`CUDA is not available: ${p.reason}. Pick the device with torch.cuda.isAvailable() ? "cuda:0" : "cpu".`);
  }
  if (index >= p.deviceCount) {
    throw new Error(`there ${p.deviceCount === 1 ? "is 1 CUDA device" : `are ${p.deviceCount} CUDA devices`} (cuda:0..cuda:${p.deviceCount - 1}); cuda:${index} does not exist`);
  }
  const dev = new CudaDevice(new NativeCudaRuntime(p.addon, index));
  opened.set(index, dev);
  return dev;
}

/** The devices opened so far (torch.cuda's figures read them without opening any). */
export function openedCudaDevice(index: number): CudaDevice | undefined {
  return opened.get(index);
}

// The kernels keep int64 as a true two's-complement int64 (runtime.ts CUDA_INT64_IS_NATIVE); the host holds it as
// doubles (exact below 2^53). Transfers convert; every other dtype has the same bytes on both sides.
export function int64ToDevice(values: TypedArray): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(Math.trunc(Number(values[i])));
  return out;
}

function deviceLayoutArray(dtype: DType, n: number): TypedArray | BigInt64Array {
  return dtype === "int64" ? new BigInt64Array(n) : allocArray(dtype, n);
}

function fromDeviceLayout(dtype: DType, raw: TypedArray | BigInt64Array): TypedArray {
  if (!(raw instanceof BigInt64Array)) return raw;
  const out = allocArray(dtype, raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = Number(raw[i]);
  return out;
}
