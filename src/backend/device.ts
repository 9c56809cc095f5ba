export type DeviceType = "cpu" | "cuda";

export interface DeviceSpec {
  readonly type: DeviceType;
  readonly index: number;
}

/** A device string as PyTorch spells it: "cpu", "cuda", "cuda:1". */
export function parseDevice(device: string | { toString(): string }): DeviceSpec {
  const s = String(device);
  const m = /^(cpu|cuda)(?::(\d+))?$/.exec(s);
  if (!m) throw new Error(`invalid device string '${s}': expected "cpu", "cuda" or "cuda:N"`);
  return { type: m[1] as DeviceType, index: m[2] === undefined ? (m[1] === "cuda" ? 0 : -1) : Number(m[2]) };
}

export function canonicalDevice(device: string | { toString(): string }): string {
  const d = parseDevice(device);
  return d.type === "cpu" ? "cpu" : `cuda:${d.index}`;
}

/** The CUDA backend is a later addon; until it exists every cuda device is refused with a way forward. */
export function cudaIsAvailable(): boolean {
  return false;
}

export function cudaDeviceCount(): number {
  return 0;
}

export function assertDeviceUsable(device: string): void {
  const d = parseDevice(device);
  if (d.type === "cuda" && !cudaIsAvailable()) {
    throw new Error(
      `device '${device}' is not available: this kindling build has no CUDA backend (torch.cuda.isAvailable() is ` +
        `false). Use "cpu", or pick the device with torch.cuda.isAvailable() ? "cuda:0" : "cpu".`,
    );
  }
}
