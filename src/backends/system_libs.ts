// Looks for the GPU and communication libraries a CUDA or multi-process backend would load: the CUDA driver,
// cuBLAS, cuDNN, NCCL and MPI. JavaScript cannot dlopen without an addon, so this searches where the dynamic loader
// would: the `ldconfig -p` cache, LD_LIBRARY_PATH, then the usual install folders (PATH and System32 on Windows).
// A library found here may still fail to load (wrong version or architecture); one not found would not load.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface LibraryProbe {
  /** What it is, e.g. "CUDA driver". */
  name: string;
  /** The file names looked for, best first. */
  files: string[];
  /** The file found, or null. */
  path: string | null;
  /** Where it was found: "ldconfig", "LD_LIBRARY_PATH", "PATH" or the folder it was in. */
  via: string | null;
  /** Why it was not found: what was searched. Null when found. */
  reason: string | null;
}

export interface SystemLibraries {
  /** NVIDIA's kernel driver version (from /proc/driver/nvidia/version), or null when no NVIDIA driver is loaded. */
  nvidiaDriver: string | null;
  cuda: LibraryProbe;
  cublas: LibraryProbe;
  cudnn: LibraryProbe;
  nccl: LibraryProbe;
  mpi: LibraryProbe;
  /** Where the search looked, in order. */
  searched: string[];
}

type Key = "cuda" | "cublas" | "cudnn" | "nccl" | "mpi";

const LINUX: Record<Key, [string, string[]]> = {
  cuda: ["CUDA driver", ["libcuda.so.1"]],
  cublas: ["cuBLAS", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"]],
  cudnn: ["cuDNN", ["libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"]],
  nccl: ["NCCL", ["libnccl.so.2", "libnccl.so"]],
  mpi: ["MPI", ["libmpi.so.40", "libmpi.so.12", "libmpi.so"]],
};
const WINDOWS: Record<Key, [string, string[]]> = {
  cuda: ["CUDA driver", ["nvcuda.dll"]],
  cublas: ["cuBLAS", ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"]],
  cudnn: ["cuDNN", ["cudnn64_9.dll", "cudnn64_8.dll"]],
  nccl: ["NCCL", []],
  mpi: ["MPI", ["msmpi.dll", "impi.dll"]],
};

/** `ldconfig -p`'s cache: file name -> path, for this machine's architecture. */
function ldconfigCache(): Map<string, string> | null {
  const bin = ["/sbin/ldconfig", "/usr/sbin/ldconfig"].find((p) => existsSync(p)) ?? "ldconfig";
  const r = spawnSync(bin, ["-p"], { encoding: "utf8", timeout: 5000 });
  if (r.status !== 0 || !r.stdout) return null;
  const want64 = process.arch === "x64" ? "x86-64" : process.arch === "arm64" ? "AArch64" : null;
  const map = new Map<string, string>();
  for (const line of r.stdout.split("\n")) {
    const m = /^\s+(\S+) \(([^)]*)\) => (\S+)$/.exec(line);
    if (!m) continue;
    if (want64 && !m[2].includes(want64)) continue;
    if (!map.has(m[1])) map.set(m[1], m[3]);
  }
  return map;
}

function linuxFolders(): string[] {
  const triplet = process.arch === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  const cudaHomes = [process.env.CUDA_HOME, process.env.CUDA_PATH, "/usr/local/cuda"].filter((d): d is string => !!d);
  return [
    ...cudaHomes.flatMap((d) => [join(d, "lib64"), join(d, "lib")]),
    `/usr/local/cuda/targets/${process.arch === "arm64" ? "sbsa" : "x86_64"}-linux/lib`,
    "/usr/lib/wsl/lib", // the CUDA driver under WSL 2
    `/usr/lib/${triplet}`,
    `/usr/lib/${triplet}/openmpi/lib`,
    "/usr/lib64",
    "/usr/lib64/openmpi/lib",
    "/usr/lib",
    "/usr/local/lib",
    "/opt/intel/oneapi/mpi/latest/lib",
  ];
}

function nvidiaDriverVersion(): string | null {
  try {
    const text = readFileSync("/proc/driver/nvidia/version", "utf8");
    return /Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? text.split("\n")[0].trim();
  } catch {
    return null;
  }
}

export interface ProbeOptions {
  /** Consult `ldconfig -p` (Linux; default true). */
  ldconfig?: boolean;
  /** Replaces the usual install folders searched after LD_LIBRARY_PATH. */
  folders?: string[];
  /** Replaces process.env.LD_LIBRARY_PATH. */
  ldLibraryPath?: string;
}

/** Searches for each library (runs `ldconfig -p` once on Linux; call it when you need it, not per op). */
export function probeSystemLibraries(options: ProbeOptions = {}): SystemLibraries {
  const split = (v: string | undefined) => (v ?? "").split(delimiter).filter(Boolean);
  const table = process.platform === "win32" ? WINDOWS : LINUX;
  const sources: { label: string; find: (file: string) => string | null }[] = [];
  const searched: string[] = [];
  if (process.platform === "win32") {
    const dirs = [...split(process.env.PATH), join(process.env.SystemRoot ?? "C:\\Windows", "System32")];
    searched.push("PATH", "System32");
    sources.push({ label: "PATH", find: (f) => dirs.map((d) => join(d, f)).find((p) => existsSync(p)) ?? null });
  } else if (process.platform === "linux") {
    if (options.ldconfig !== false) {
      const cache = ldconfigCache();
      searched.push(cache ? "the ldconfig cache" : "the ldconfig cache (ldconfig -p did not run)");
      if (cache) sources.push({ label: "ldconfig", find: (f) => cache.get(f) ?? null });
    }
    const ld = split(options.ldLibraryPath ?? process.env.LD_LIBRARY_PATH);
    if (ld.length) {
      searched.push(`LD_LIBRARY_PATH (${ld.join(delimiter)})`);
      sources.push({ label: "LD_LIBRARY_PATH", find: (f) => ld.map((d) => join(d, f)).find((p) => existsSync(p)) ?? null });
    }
    for (const dir of options.folders ?? linuxFolders()) {
      searched.push(dir);
      sources.push({ label: dir, find: (f) => (existsSync(join(dir, f)) ? join(dir, f) : null) });
    }
  }
  const probe = (key: Key): LibraryProbe => {
    const [name, files] = table[key];
    if (process.platform !== "linux" && process.platform !== "win32") {
      return { name, files, path: null, via: null, reason: `not looked for on ${process.platform} (no CUDA or NCCL there)` };
    }
    if (!files.length) return { name, files, path: null, via: null, reason: `not available on ${process.platform}` };
    for (const file of files) {
      for (const s of sources) {
        const path = s.find(file);
        if (path) return { name, files, path, via: s.label, reason: null };
      }
    }
    return { name, files, path: null, via: null, reason: `no ${files.join(", ")} in the ${searched.length} places searched` };
  };
  return {
    nvidiaDriver: process.platform === "linux" ? nvidiaDriverVersion() : null,
    cuda: probe("cuda"),
    cublas: probe("cublas"),
    cudnn: probe("cudnn"),
    nccl: probe("nccl"),
    mpi: probe("mpi"),
    searched,
  };
}
