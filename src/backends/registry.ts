// Devices by type, created lazily: the first tensor on a device builds its object (for "cpu" that loads the native
// addon), and nothing is created or registered when a module is imported. A device's object then travels with
// every storage it allocates, so the per-op path never comes back here.
import { canonicalDevice, parseDevice, type DeviceBackend, type DeviceFactory } from "../backend/device.js";
import { cpuDevice } from "./host/cpu_device.js";
import { cudaDevice } from "./cuda/device.js";
import { metaDevice } from "./meta/index.js";

const factories = new Map<string, DeviceFactory>([
  ["cpu", cpuDevice],
  ["meta", metaDevice],
  ["cuda", cudaDevice],
]);
const devices = new Map<string, DeviceBackend>();

/** Makes a device type known (a backend package's entry point calls this; built-in types need no call). */
export function registerDeviceType(type: string, factory: DeviceFactory): void {
  factories.set(type, factory);
  for (const k of [...devices.keys()]) if (parseDevice(k).type === type) devices.delete(k);
}

/** The device object for a device string ("cpu", "meta", "cuda:1"), created on first use. */
export function getDevice(spec: string | { toString(): string }): DeviceBackend {
  const s = String(spec);
  const hit = devices.get(s);
  if (hit) return hit;
  const name = canonicalDevice(s);
  let dev = devices.get(name);
  if (!dev) {
    const { type, index } = parseDevice(name);
    const factory = factories.get(type);
    if (!factory) {
      throw new Error(`invalid device string '${s}': unknown device type '${type}'; expected one of ${[...factories.keys()].join(", ")}`);
    }
    try {
      dev = factory(index);
    } catch (e) {
      throw new Error(`device '${s}' is not available: ${e instanceof Error ? e.message : String(e)}`);
    }
    devices.set(name, dev);
  }
  devices.set(s, dev);
  return dev;
}

/** The devices created so far, by canonical name (nothing is created at import; see test/devices.test). */
export function createdDevices(): string[] {
  return [...new Set([...devices.values()].map((d) => d.name))];
}

/** Throws the device's own reason when it can't be used (cuda without the CUDA backend). */
export function assertDeviceUsable(spec: string): void {
  getDevice(spec);
}
