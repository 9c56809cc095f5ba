import { canonicalDevice, parseDevice, type MemoryStats } from "../backend/device.js";
import { cpuBackendName, cpuBackendNames, useCpuBackend } from "./host/cpu_device.js";
import { getDevice } from "./registry.js";
import { cudaFlags } from "./cuda/flags.js";

/** torch.device("cuda:0"): a value that prints as the device string and compares by it. */
export class Device {
  readonly type: string;
  readonly index: number | null;
  constructor(spec: string) {
    const d = parseDevice(spec);
    this.type = d.type;
    this.index = d.index < 0 ? null : d.index;
  }
  toString(): string {
    return this.index === null ? this.type : `${this.type}:${this.index}`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `device(type='${this.type}'${this.index === null ? "" : `, index=${this.index}`})`;
  }
}

export function device(spec: string): Device {
  canonicalDevice(spec);
  return new Device(spec);
}

/** torch.backends.cpu: which kernels the "cpu" device runs ("native" when the addon is built, else "ref"). */
export const cpu = {
  use: useCpuBackend,
  current: cpuBackendName,
  available: cpuBackendNames,
};

/** What a device holds for tensors (see each device's note in docs/architecture.md on what it can count). */
export function memoryStats(device: string | { toString(): string } = "cpu"): MemoryStats {
  return getDevice(device).memoryStats();
}

/** Waits until every kernel queued on the device has finished (a no-op on "cpu" and "meta"). */
export function synchronize(device: string | { toString(): string } = "cpu"): void {
  getDevice(device).synchronize();
}

/** torch.backends.cuda: matmul.allowTf32 (false by default, as in PyTorch) switches float32 cuBLAS matmuls to TF32. */
export const cuda = {
  matmul: {
    get allowTf32(): boolean {
      return cudaFlags.matmulAllowTf32;
    },
    set allowTf32(v: boolean) {
      cudaFlags.matmulAllowTf32 = !!v;
    },
  },
};
