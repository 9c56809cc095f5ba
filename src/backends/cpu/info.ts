// torch.backends.cpu.info(): which kernels the "cpu" device runs, and for the native addon which file loaded, from
// where (a source build or the prebuilt platform package) and with which instruction set; without it, why not and
// how to get it. Cheap: it reads what loading the addon recorded.
import { cpuBackendName } from "../host/cpu_device.js";
import { addonLoadReport, loadAddon } from "./addon.js";
import { howToGetNative, whyNotNative, type AddonAttempt, type AddonSource } from "./locate.js";

export interface NativeAddonInfo {
  /** The .node file that loaded. */
  file: string;
  /** "prebuilt": from the platform package; "source-build": compiled in kindling's folder (build/Release). */
  source: AddonSource;
  /** "name@version" of the platform package, when prebuilt. */
  package: string | null;
  /** The instruction set its kernels use here (KINDLING_ISA may cap it). */
  isa: "avx512" | "avx2" | "scalar";
  threads: number;
  /** The CUDA fatbin shipped beside a prebuilt addon; null today (kindling has no CUDA kernels yet). */
  cudaFatbin: string | null;
}

export interface CpuBackendInfo {
  /** What torch.backends.cpu.current() says: "native" or "ref". */
  backend: string;
  /** The native addon, or null when it did not load. */
  addon: NativeAddonInfo | null;
  /** Why there is no native addon (null when there is one). */
  reason: string | null;
  /** What to do to get it (null when there is one, or KINDLING_BACKEND=ref asked for none). */
  howToGetNative: string | null;
  /** The prebuilt package for this platform (looked for only when there was no source build). */
  platformPackage: string | null;
  /** Every place the addon was looked for, in order, with why it was not used. */
  attempts: AddonAttempt[];
}

export function cpuBackendInfo(): CpuBackendInfo {
  const addon = loadAddon();
  const report = addonLoadReport();
  const base = { backend: cpuBackendName(), platformPackage: report?.platformPackage ?? null, attempts: report?.attempts ?? [] };
  if (addon && report?.file && report.source) {
    return {
      ...base,
      addon: { file: report.file, source: report.source, package: report.package, isa: addon.isa(), threads: addon.getNumThreads(), cudaFatbin: report.cudaFatbin },
      reason: null,
      howToGetNative: null,
    };
  }
  return {
    ...base,
    addon: null,
    reason: report ? whyNotNative(report) : "not loaded",
    howToGetNative: report && !report.disabled ? howToGetNative(report) : null,
  };
}
