// The "cpu" device: host memory (typed arrays from the pool, the slabs or plain allocation) and one of the CPU
// kernel sets. It is built on first use, never at import: the reference kernels always, the native addon's when it
// loads (then they are what "cpu" runs; KINDLING_BACKEND=ref keeps the reference kernels).
import { allocArray, type DType, type TypedArray } from "../../core/dtype.js";
import type { DeviceBackend, DeviceKernels, MemoryStats, Storage } from "../../backend/device.js";
import type { Backend } from "../../backend/registry.js";
import type { Kernels } from "../../ops/kernels.js";
import { addonLoadReport, loadAddon, type NativeAddon } from "../cpu/addon.js";
import { warnNoNative } from "../cpu/locate.js";
import { nativeBackend } from "../cpu/index.js";
import { refKernels } from "../ref/index.js";
import { MIN_POOLED, takeBuffer } from "./buffer_pool.js";
import { carve } from "./slab.js";
import { HostStorage } from "./storage.js";

const kernelSets = new Map<string, Backend>([["ref", { name: "ref", kernels: refKernels }]]);

/** The reference kernels complete every other set: they run whatever a faster set leaves out. */
function merged(b: Backend): DeviceKernels {
  // Sound: every storage the cpu device hands out is a HostStorage, the View the CPU kernels are written against.
  return { ...refKernels, ...b.kernels } as Kernels as unknown as DeviceKernels;
}

class CpuDevice implements DeviceBackend {
  readonly type = "cpu";
  readonly name = "cpu";
  readonly hasData = true;
  kernels: DeviceKernels;
  kernelSet: string;
  private allocated = 0;
  private peak = 0;

  constructor(set: Backend) {
    this.kernels = merged(set);
    this.kernelSet = set.name;
  }

  alloc(dtype: DType, n: number): HostStorage {
    const data = (n >= MIN_POOLED && takeBuffer(dtype, n)) || carve(dtype, n) || allocArray(dtype, n);
    this.allocated += data.byteLength;
    const s = new HostStorage(data, dtype, this);
    s.recyclable = true;
    return s;
  }
  upload(values: TypedArray, dtype: DType): HostStorage {
    const s = this.alloc(dtype, values.length);
    s.data.set(values);
    return s;
  }
  adopt(values: TypedArray, dtype: DType): HostStorage {
    return new HostStorage(values, dtype, this);
  }
  hostView(storage: Storage, offset: number, n: number): TypedArray {
    const d = live(storage, offset, n);
    return offset === 0 && n === d.length ? d : d.subarray(offset, offset + n);
  }
  download(storage: Storage, offset: number, n: number): TypedArray {
    return live(storage, offset, n).slice(offset, offset + n);
  }
  downloadAsync(storage: Storage, offset: number, n: number): Promise<TypedArray> {
    return Promise.resolve(this.download(storage, offset, n));
  }
  synchronize(): void {
    // Every CPU kernel has finished when its call returns.
  }
  /**
   * JavaScript can't see a typed array die, and tracking each storage with a FinalizationRegistry measured 1-3 us
   * per tensor here (the tutorial step allocates ~120), so inUseBytes is V8's count of array-buffer memory (every
   * typed array in the process, tensors or not) and peakBytes the highest value seen by memoryStats() calls.
   */
  memoryStats(): MemoryStats {
    const inUse = process.memoryUsage().arrayBuffers;
    if (inUse > this.peak) this.peak = inUse;
    return { inUseBytes: inUse, peakBytes: this.peak, allocatedBytes: this.allocated };
  }
}

/** The array behind a storage, refusing a range it no longer holds (a released storage holds nothing). */
function live(storage: Storage, offset: number, n: number): TypedArray {
  const d = (storage as HostStorage).data;
  if (offset + n > d.length) {
    throw new Error(
      `this tensor's memory was released (Storage.release()), so its ${n} value(s) are gone; keep the tensor alive, ` +
        "or clone() it before releasing",
    );
  }
  return d;
}

let device: CpuDevice | null = null;
let addon: NativeAddon | null = null;

/** The cpu device, built on first call (loads the native addon, or warns once that it runs the reference kernels). */
export function cpuDevice(): CpuDevice {
  if (device) return device;
  addon = loadAddon();
  if (addon) {
    const native = nativeBackend(addon);
    kernelSets.set(native.name, native);
    device = new CpuDevice(native);
  } else {
    device = new CpuDevice(kernelSets.get("ref")!);
    warnNoNative(addonLoadReport()!);
  }
  return device;
}

/** Adds a CPU kernel set that torch.backends.cpu.use(name) can select (tests register deliberately broken ones). */
export function registerCpuBackend(b: Backend): void {
  cpuDevice();
  kernelSets.set(b.name, b);
}

export function cpuBackendNames(): string[] {
  cpuDevice();
  return [...kernelSets.keys()];
}

function kernelSet(name: string): Backend {
  const b = kernelSets.get(name);
  if (!b) throw new Error(`unknown CPU backend '${name}'; available: ${cpuBackendNames().join(", ")}`);
  return b;
}

/** Selects which kernels the "cpu" device runs (e.g. "native" or "ref"). */
export function useCpuBackend(name: string): void {
  const dev = cpuDevice();
  const b = kernelSet(name);
  dev.kernels = merged(b);
  dev.kernelSet = name;
}

export function cpuBackendName(): string {
  return cpuDevice().kernelSet;
}

/** A kernel set completed by the reference kernels, typed for the CPU's views (for tests and tools). */
export function kernelsOf(name: string): Kernels {
  cpuDevice();
  return merged(kernelSet(name)) as unknown as Kernels;
}

/** torch.setNumThreads / getNumThreads: the native thread pool's size (1 without the addon). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected a positive integer, got ${n}`);
  cpuDevice();
  addon?.setNumThreads(n);
}

export function getNumThreads(): number {
  cpuDevice();
  return addon ? addon.getNumThreads() : 1;
}

/** The instruction set the native kernels were dispatched to, or null without the addon. */
export function nativeIsa(): string | null {
  cpuDevice();
  return addon ? addon.isa() : null;
}
