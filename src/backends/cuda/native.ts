// The typed face of kindling_cuda.node and the one place that loads it and the CUDA driver. Nothing runs at import;
// probe() never throws and prints nothing: it keeps the reason CUDA is unavailable for torch.cuda, `kindling
// doctor` and the "cuda" device's error.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { addonCandidates, LIBRARIES, libraryCandidates, type LibraryResult } from "./locate.js";

export interface NativeDeviceInfo {
  name: string;
  major: number;
  minor: number;
  multiProcessorCount: number;
  totalMemory: number;
  memoryPools: boolean;
}

/** kindling_cuda.node's exports (native/cuda/cuda_binding.cc). Device arguments are indices of open devices. */
export interface CudaAddon {
  init(libcuda: string): { driverVersion: number; deviceCount: number; library: string } | { error: string };
  deviceInfo(index: number): NativeDeviceInfo;
  open(index: number, launchBlocking: boolean): void;
  /** 0n when the pool is out of memory. */
  alloc(dev: number, bytes: number): bigint;
  free(dev: number, ptr: bigint, bytes: number): void;
  /** [free, total, poolReserved, poolUsed]. */
  memInfo(dev: number): [number, number, number, number];
  trimPool(dev: number): void;
  synchronize(dev: number): void;
  /** The device's compute stream (a CUstream, as a BigInt): NCCL enqueues on it, in order with the kernels. */
  computeStream(dev: number): bigint;
  /** The device's collectives stream (made on first use), ordered against the compute stream with events only. */
  sideStream(dev: number): bigint;
  /** An event (from the device's free list) recorded on `stream` now. */
  eventRecord(dev: number, stream: bigint): bigint;
  /** Gives an event back to the free list: no wait on it may be queued or running afterwards. */
  eventRelease(dev: number, event: bigint): void;
  streamWaitEvent(dev: number, stream: bigint, event: bigint): void;
  eventSynchronize(dev: number, event: bigint): void;
  /** Resolves once the event has happened, without blocking the JS thread. */
  eventWaitAsync(dev: number, event: bigint): Promise<void>;
  memsetD32(dev: number, ptr: bigint, bits: number, count: number): void;
  copyDtoD(dev: number, dst: bigint, src: bigint, bytes: number): void;
  copyHtoD(dev: number, dst: bigint, src: ArrayBufferView): void;
  copyDtoH(dev: number, dst: ArrayBufferView, src: bigint): void;
  copyDtoHAsync(dev: number, dst: ArrayBufferView, src: bigint): Promise<void>;
  loadModule(dev: number, image: Uint8Array): void;
  getFunction(dev: number, name: string): number;
  launch(dev: number, fn: number, gx: number, gy: number, gz: number, bx: number, by: number, bz: number, shared: number,
    args: Uint8Array, offsets: Uint32Array): void;
  loadBlas(lt: string, classic: string): { lt?: string; classic?: string; error?: string };
  gemm(dev: number, ptrs: BigUint64Array, params: Float64Array): void;
  loadDnn(path: string): { path: string; version: number } | { error: string };
  conv(dev: number, which: 0 | 1 | 2, ptrs: BigUint64Array, params: Float64Array): void;
  loadNvrtc(path: string): { path: string; version: [number, number] } | { error: string };
  nvrtcCompile(source: string, name: string, options: string[]): { cubin?: Uint8Array; log: string; error?: string };
}

export interface CudaProbe {
  /** The addon and driver are usable and there is at least one device. */
  available: boolean;
  addon: CudaAddon | null;
  addonFile: string | null;
  driver: LibraryResult | null;
  driverVersion: number | null;
  deviceCount: number;
  /** Why CUDA is unavailable, in one sentence; null when available. */
  reason: string | null;
}

let probed: CudaProbe | null = null;

/** Loads the addon and initialises the driver once per process; never throws, never prints. */
export function probe(): CudaProbe {
  if (probed) return probed;
  const p: CudaProbe = { available: false, addon: null, addonFile: null, driver: null, driverVersion: null, deviceCount: 0, reason: null };
  probed = p;
  if (process.platform !== "linux") {
    p.reason = `kindling's CUDA backend runs on Linux only (this is ${process.platform})`;
    return p;
  }
  const files = addonCandidates();
  const file = files.find((f) => existsSync(f));
  if (!file) {
    p.reason = `kindling's CUDA addon (kindling_cuda.node) is not built: looked in ${files.join(", ")}; run \`npm run build\``;
    return p;
  }
  try {
    p.addon = createRequire(import.meta.url)(file) as CudaAddon;
    p.addonFile = file;
  } catch (e) {
    p.reason = `${file} does not load: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
    return p;
  }
  const candidates = libraryCandidates("libcuda");
  let version = 0;
  let count = 0;
  const addon = p.addon;
  p.driver = {
    library: "libcuda",
    path: null,
    via: null,
    tried: [],
  };
  for (const c of candidates) {
    const r = addon.init(c.path);
    if ("error" in r) {
      p.driver.tried.push({ path: c.path, error: r.error });
      break; // the addon keeps the first driver it opened (or the failure): one driver per process
    }
    p.driver = { library: "libcuda", path: c.path, via: c.via, tried: p.driver.tried };
    version = r.driverVersion;
    count = r.deviceCount;
    break;
  }
  if (!p.driver.path) {
    const why = p.driver.tried.map((t) => t.error).join("; ");
    p.reason = `no usable CUDA driver (${LIBRARIES.libcuda.sonames.join(", ")}): ${why || "nothing to try"}`;
    return p;
  }
  p.driverVersion = version;
  p.deviceCount = count;
  if (count === 0) {
    p.reason = `the CUDA driver (${p.driver.path}, CUDA ${fmtVersion(version)}) sees no GPU`;
    return p;
  }
  p.available = true;
  return p;
}

/** "13.0" from the driver's 13000. */
export function fmtVersion(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

