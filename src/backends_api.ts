// torch.backends: the device/backend selection of backends/public.ts, plus the reports that need the native
// addon's loader and the library probe (layers above backend/, so they are joined here, not in backend/).
import * as base from "./backends/public.js";
import { cpuBackendInfo } from "./backends/cpu/info.js";
import { probeSystemLibraries } from "./backends/system_libs.js";

export type { CpuBackendInfo, NativeAddonInfo } from "./backends/cpu/info.js";
export type { AddonAttempt, AddonSource } from "./backends/cpu/locate.js";
export type { LibraryProbe, ProbeOptions, SystemLibraries } from "./backends/system_libs.js";

export const backends = {
  ...base,
  /** torch.backends.cpu: use / current / available, and info(): which native addon is in use, from where, why not. */
  cpu: { ...base.cpu, info: cpuBackendInfo },
  /** Where the CUDA driver, cuBLAS, cuDNN, NCCL and MPI libraries are on this machine, or what was searched. */
  systemLibraries: probeSystemLibraries,
};
