// The prebuilt-addon platforms, shared by the install script (build-native.mjs) and the release packing
// (pack-all.mjs). These run before dist/ exists, so the package-name rule is repeated in
// src/backends/cpu/locate.ts: keep both.

/** Every platform kindling publishes a prebuilt package for; each is an optionalDependency of kindling. */
export const PLATFORMS = [
  { id: "linux-x64-gnu", os: "linux", cpu: "x64", libc: "glibc" },
  { id: "linux-arm64-gnu", os: "linux", cpu: "arm64", libc: "glibc" },
  { id: "darwin-arm64", os: "darwin", cpu: "arm64" },
  { id: "win32-x64", os: "win32", cpu: "x64" },
];

export const SCOPE = "@kindling";
export const ADDON_FILE = "kindling_cpu.node";
/** The MPI backend's addon (dlopens libmpi at run time), shipped beside the CPU addon. */
export const MPI_ADDON_FILE = "kindling_mpi.node";
/** The CUDA backend's addon (dlopens the CUDA driver at run time), shipped beside the CPU addon. */
export const CUDA_ADDON_FILE = "kindling_cuda.node";

/** "gnu" or "musl": glibc builds do not load on musl and the other way round. */
export function linuxLibc() {
  return process.report?.getReport()?.header?.glibcVersionRuntime ? "gnu" : "musl";
}

/** This machine's platform id, as in PLATFORMS (it may be one that has no prebuilt package). */
export function currentPlatformId() {
  const base = `${process.platform}-${process.arch}`;
  return process.platform === "linux" ? `${base}-${linuxLibc()}` : base;
}

export const packageName = (id) => `${SCOPE}/${id}`;
