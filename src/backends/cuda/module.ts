// The kernels' module for one GPU: the shipped fatbin (SASS for sm_80/86/89/90 + compute_90 PTX, built by nvcc in
// scripts/build-native.mjs), or, when there is none or the driver refuses it, the same sources compiled by NVRTC
// for this GPU's compute capability at first use and cached on disk (locate.ts: key and atomic write).
import { readFileSync } from "node:fs";
import type { CudaAddon } from "./native.js";
import {
  kernelSourceBundle, kernelSourceFiles, loadFirst, libraryCandidates, locateFatbin, missingLibraryMessage, nvrtcCacheDir,
  nvrtcCacheKey, readCachedCubin, writeCachedCubin, type LibraryResult,
} from "./locate.js";
import { ownPackage } from "../cpu/locate.js";

export interface ModuleSource {
  kind: "fatbin" | "nvrtc" | "nvrtc-cache";
  path: string;
}

let nvrtcResult: LibraryResult | null = null;
let nvrtcVersion: [number, number] | null = null;

export function loadNvrtc(addon: CudaAddon): LibraryResult {
  if (nvrtcResult) return nvrtcResult;
  nvrtcResult = loadFirst("nvrtc", libraryCandidates("nvrtc"), (p) => {
    const r = addon.loadNvrtc(p);
    if ("error" in r) return r.error;
    nvrtcVersion = r.version;
    return null;
  });
  return nvrtcResult;
}

/** NVRTC's options: the real architecture of this GPU, so the cubin needs no JIT. No fast-math: PyTorch's accuracy. */
export function nvrtcOptions(cc: readonly [number, number]): string[] {
  return [`--gpu-architecture=sm_${cc[0]}${cc[1]}`, "--std=c++17", "-default-device"];
}

/** Loads the kernels into `dev`'s context; throws a message that says what was tried when neither path works. */
export function loadKernels(addon: CudaAddon, dev: number, cc: readonly [number, number]): ModuleSource {
  const fat = locateFatbin();
  let fatError = "";
  if (fat.path) {
    try {
      addon.loadModule(dev, new Uint8Array(readFileSync(fat.path)));
      return { kind: "fatbin", path: fat.path };
    } catch (e) {
      fatError = `${fat.path} did not load (${e instanceof Error ? e.message : String(e)})`;
    }
  } else {
    fatError = `no fatbin in ${fat.looked.join(", ")}`;
  }
  const files = kernelSourceFiles();
  if (!files.length) throw new Error(`CUDA kernels unavailable: ${fatError}, and no kernel sources (native/cuda/kernels/*.cu) to compile`);
  const nv = loadNvrtc(addon);
  if (!nv.path || !nvrtcVersion) {
    throw new Error(`CUDA kernels unavailable: ${fatError}. ${missingLibraryMessage(nv, "compiling kindling's CUDA kernels when no fatbin ships")}`);
  }
  const source = kernelSourceBundle(files);
  const options = nvrtcOptions(cc);
  const key = nvrtcCacheKey({ source, options, nvrtcVersion, computeCapability: cc, kindlingVersion: ownPackage()?.version ?? "dev" });
  const dir = nvrtcCacheDir();
  const cached = readCachedCubin(dir, key);
  if (cached) {
    try {
      addon.loadModule(dev, cached);
      return { kind: "nvrtc-cache", path: `${dir}/${key}.cubin` };
    } catch {
      // A stale or damaged file: compile again and overwrite it.
    }
  }
  const r = addon.nvrtcCompile(source, "kindling_kernels.cu", options);
  if (!r.cubin) throw new Error(`NVRTC could not compile kindling's CUDA kernels (${r.error ?? "no output"}):\n${r.log}`);
  addon.loadModule(dev, r.cubin);
  const written = writeCachedCubin(dir, key, r.cubin);
  return { kind: "nvrtc", path: written ?? `${nv.path} (not cached: ${dir} is not writable)` };
}
