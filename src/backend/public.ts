import { canonicalDevice, parseDevice, type DeviceType } from "./device.js";
import { cpuBackendName, cpuBackendNames, useCpuBackend } from "./registry.js";

/** torch.device("cuda:0"): a value that prints as the device string and compares by it. */
export class Device {
  readonly type: DeviceType;
  readonly index: number | null;
  constructor(spec: string) {
    const d = parseDevice(spec);
    this.type = d.type;
    this.index = d.type === "cpu" && !spec.includes(":") ? null : d.index;
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
