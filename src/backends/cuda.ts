// torch.cuda: whether kindling can use an NVIDIA GPU, which ones, and their memory figures. isAvailable() loads the
// CUDA addon and the driver once (never throws, prints nothing); the other calls open the device they name.
import { canonicalDevice, parseDevice } from "../backend/device.js";
import { cudaDevice, openedCudaDevice, type CudaDevice } from "./cuda/device.js";
import { fmtVersion, probe } from "./cuda/native.js";
import { LIBRARIES, libraryCandidates, locateFatbin } from "./cuda/locate.js";

/** torch.cuda.is_available(): false without the addon, the driver or a GPU. */
export function isAvailable(): boolean {
  try {
    return probe().available;
  } catch {
    return false;
  }
}

export function deviceCount(): number {
  try {
    return probe().deviceCount;
  } catch {
    return 0;
  }
}

/** Why isAvailable() is false, in one sentence (null when it is true). */
export function unavailableReason(): string | null {
  try {
    return probe().reason;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

type DeviceArg = number | string | { toString(): string } | undefined;

function indexOf(device: DeviceArg): number {
  if (device === undefined) return 0;
  if (typeof device === "number") return device;
  const d = parseDevice(canonicalDevice(device));
  if (d.type !== "cuda") throw new Error(`expected a CUDA device, got '${String(device)}'`);
  return d.index;
}

function open(device: DeviceArg): CudaDevice {
  return cudaDevice(indexOf(device));
}

export function getDeviceName(device?: DeviceArg): string {
  return open(device).rt.name;
}

/** [major, minor], as torch.cuda.get_device_capability. */
export function getDeviceCapability(device?: DeviceArg): [number, number] {
  const cc = open(device).rt.computeCapability;
  return [cc[0], cc[1]];
}

/** Waits for every kernel queued on the device; kernel errors (illegal address, device-side asserts) throw here. */
export function synchronize(device?: DeviceArg): void {
  open(device).synchronize();
}

/** Bytes held by tensors on the device now (0 for a device never opened). */
export function memoryAllocated(device?: DeviceArg): number {
  return openedCudaDevice(indexOf(device))?.rt.allocator.memoryAllocated ?? 0;
}

export function maxMemoryAllocated(device?: DeviceArg): number {
  return openedCudaDevice(indexOf(device))?.rt.allocator.maxMemoryAllocated ?? 0;
}

/** Bytes the device's pool holds from the driver: in use plus cached. */
export function memoryReserved(device?: DeviceArg): number {
  return openedCudaDevice(indexOf(device))?.rt.allocator.memoryReserved() ?? 0;
}

export function resetPeakMemoryStats(device?: DeviceArg): void {
  openedCudaDevice(indexOf(device))?.rt.allocator.resetPeakMemoryStats();
}

/** Hands the pool's cached, unused memory back to the driver (live tensors keep theirs). */
export function emptyCache(): void {
  for (let i = 0; i < deviceCount(); i++) openedCudaDevice(i)?.rt.allocator.emptyCache();
}

export interface CudaStatus {
  available: boolean;
  reason: string | null;
  addon: string | null;
  driver: { path: string | null; version: string | null; tried: { path: string; error: string }[] };
  devices: { index: number; name: string; capability: string; memoryGiB: number }[];
}

/** What `kindling doctor` prints about CUDA (opens nothing beyond the driver). */
export function status(): CudaStatus {
  const p = probe();
  const devices: CudaStatus["devices"] = [];
  if (p.available && p.addon) {
    for (let i = 0; i < p.deviceCount; i++) {
      try {
        const d = p.addon.deviceInfo(i);
        devices.push({ index: i, name: d.name, capability: `${d.major}.${d.minor}`, memoryGiB: d.totalMemory / 2 ** 30 });
      } catch {
        // a device the driver lists but won't describe: leave it out
      }
    }
  }
  return {
    available: p.available,
    reason: p.reason,
    addon: p.addonFile,
    driver: { path: p.driver?.path ?? null, version: p.driverVersion ? fmtVersion(p.driverVersion) : null, tried: p.driver?.tried ?? [] },
    devices,
  };
}

export interface CudaLibraryLine {
  library: string;
  /** "loaded" (by an open device), "found" (a file in the search order; loaded when a device opens) or "missing". */
  state: "loaded" | "found" | "missing";
  path: string | null;
  via: string | null;
  /** What to do when missing. */
  hint: string | null;
}

/** cuBLASLt, cuBLAS, cuDNN and NVRTC: what cuda:0 loaded when there is a GPU, else where the search would find them. */
export function libraryReport(): CudaLibraryLine[] {
  // With a GPU, opening cuda:0 loads the libraries: the report then says what actually loaded.
  let rt = openedCudaDevice(0)?.rt;
  if (!rt && isAvailable()) {
    try {
      rt = cudaDevice(0).rt;
    } catch {
      // The device's own error surfaces when it is used; here the search results stand.
    }
  }
  return (["cublasLt", "cublas", "cudnn", "nvrtc"] as const).map((lib) => {
    const spec = LIBRARIES[lib];
    const loaded = rt && lib !== "nvrtc" ? rt.libraries[lib] : null;
    if (loaded?.path) return { library: spec.title, state: "loaded" as const, path: loaded.path, via: loaded.via, hint: null };
    const file = libraryCandidates(lib).find((c) => c.via !== "soname");
    if (file && !loaded) return { library: spec.title, state: "found" as const, path: file.path, via: file.via, hint: null };
    return { library: spec.title, state: "missing" as const, path: null, via: null, hint: `${spec.install}, or set ${spec.env}` };
  });
}

/** Where the kernels would come from: the fatbin, else NVRTC at first use. */
export function kernelReport(): string {
  const f = locateFatbin();
  return f.path ? `fatbin ${f.path}` : `no fatbin (looked in ${f.looked.join(", ")}): NVRTC compiles the kernels at first use`;
}
