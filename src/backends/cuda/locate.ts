// Where the CUDA backend's pieces come from: the addon, the driver, the optional libraries (cuBLASLt, cuBLAS, cuDNN,
// NVRTC), the fatbin of kernels, the kernel sources NVRTC compiles when there is no fatbin, and the NVRTC cache.
// Everything here only computes paths and reads the file system, so the search order is tested without a GPU
// (test/cuda_locate.test); the addon dlopens what this hands it. Library order, each optional beyond the driver:
//   KINDLING_<LIB>_PATH (a file, or a folder holding the soname) -> the soname (the dynamic loader's own search)
//   -> $CUDA_HOME/lib64 (default /usr/local/cuda) -> Python wheels' site-packages/nvidia/*/lib (where PyTorch has them).
import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ownPackage, platformPackageName } from "../cpu/locate.js";

export type CudaLibrary = "libcuda" | "cublasLt" | "cublas" | "cudnn" | "nvrtc" | "nccl";

interface LibrarySpec {
  /** How errors and `kindling doctor` name it. */
  readonly title: string;
  readonly env: string;
  /** File names, best first. */
  readonly sonames: readonly string[];
  /** Sub-folders of site-packages/nvidia that hold it in NVIDIA's wheels (cu13 first: CUDA 13's layout). */
  readonly wheelDirs: readonly string[];
  /** What to install when it is missing. */
  readonly install: string;
}

export const LIBRARIES: Readonly<Record<CudaLibrary, LibrarySpec>> = {
  libcuda: {
    title: "the CUDA driver",
    env: "KINDLING_LIBCUDA_PATH",
    sonames: ["libcuda.so.1"],
    wheelDirs: [],
    install: "install NVIDIA's GPU driver (>= 580)",
  },
  cublasLt: {
    title: "cuBLASLt",
    env: "KINDLING_CUBLASLT_PATH",
    sonames: ["libcublasLt.so.13", "libcublasLt.so.12"],
    wheelDirs: ["cu13", "cublas"],
    install: "pip install nvidia-cublas (or the CUDA toolkit)",
  },
  cublas: {
    title: "cuBLAS",
    env: "KINDLING_CUBLAS_PATH",
    sonames: ["libcublas.so.13", "libcublas.so.12"],
    wheelDirs: ["cu13", "cublas"],
    install: "pip install nvidia-cublas (or the CUDA toolkit)",
  },
  cudnn: {
    title: "cuDNN",
    env: "KINDLING_CUDNN_PATH",
    sonames: ["libcudnn.so.9"],
    wheelDirs: ["cudnn", "cu13"],
    install: "pip install nvidia-cudnn-cu13 (or NVIDIA's cuDNN 9 package)",
  },
  nvrtc: {
    title: "NVRTC",
    env: "KINDLING_NVRTC_PATH",
    sonames: ["libnvrtc.so.13", "libnvrtc.so.12"],
    wheelDirs: ["cu13", "cuda_nvrtc"],
    install: "pip install nvidia-cuda-nvrtc (or the CUDA toolkit)",
  },
  nccl: {
    title: "NCCL",
    env: "KINDLING_NCCL_PATH",
    sonames: ["libnccl.so.2"],
    wheelDirs: ["nccl"],
    install: "pip install nvidia-nccl-cu12 (or nvidia-nccl-cu13), or the distribution's libnccl2 package (NVIDIA's CUDA repository)",
  },
};

export interface Candidate {
  /** An absolute file, or a bare soname for the dynamic loader to find. */
  readonly path: string;
  /** Which step of the order produced it. */
  readonly via: "env" | "soname" | "CUDA_HOME" | "python wheel";
}

export interface SearchContext {
  env: NodeJS.ProcessEnv;
  /** site-packages folders to look in for NVIDIA's wheels. */
  sitePackages: string[];
  exists: (path: string) => boolean;
}

/** The usual places a Python keeps site-packages (venv, conda, user, system), those that exist. */
export function pythonSitePackages(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const roots: string[] = [];
  for (const p of (env.PYTHONPATH ?? "").split(delimiter).filter(Boolean)) roots.push(p);
  const prefixes = [env.VIRTUAL_ENV, env.CONDA_PREFIX, join(home, ".local"), "/usr/local", "/usr", "/opt/conda"].filter(
    (p): p is string => !!p,
  );
  for (const prefix of prefixes) {
    const lib = join(prefix, "lib");
    let names: string[] = [];
    try {
      names = readdirSync(lib).filter((n) => /^python3(\.\d+)?$/.test(n)).sort().reverse();
    } catch {
      continue;
    }
    for (const n of names) for (const sub of ["site-packages", "dist-packages"]) roots.push(join(lib, n, sub));
  }
  roots.push("/usr/lib/python3/dist-packages");
  return [...new Set(roots)].filter((p) => existsSync(join(p, "nvidia")));
}

export function defaultSearchContext(): SearchContext {
  return { env: process.env, sitePackages: pythonSitePackages(), exists: existsSync };
}

/** Every place a library is looked for, in order (files that do not exist are left out, sonames always stay). */
export function libraryCandidates(lib: CudaLibrary, ctx: SearchContext = defaultSearchContext()): Candidate[] {
  const spec = LIBRARIES[lib];
  const out: Candidate[] = [];
  const fromEnv = ctx.env[spec.env];
  // "none" turns an optional library off (the kernels' own paths run instead: the emulated driver's tests).
  if (fromEnv === "none" && lib !== "libcuda") return [];
  if (fromEnv) {
    // An explicit path is the only candidate: falling back silently would hide the user's mistake.
    const isDir = ctx.exists(fromEnv) && isDirectory(fromEnv);
    return isDir ? spec.sonames.map((s) => ({ path: join(fromEnv, s), via: "env" as const })) : [{ path: fromEnv, via: "env" }];
  }
  for (const s of spec.sonames) out.push({ path: s, via: "soname" });
  if (lib === "libcuda") return out;
  const cudaHome = ctx.env.CUDA_HOME || ctx.env.CUDA_PATH || "/usr/local/cuda";
  for (const s of spec.sonames) {
    const p = join(cudaHome, "lib64", s);
    if (ctx.exists(p)) out.push({ path: p, via: "CUDA_HOME" });
  }
  for (const site of ctx.sitePackages) {
    for (const d of spec.wheelDirs) {
      for (const s of spec.sonames) {
        const p = join(site, "nvidia", d, "lib", s);
        if (ctx.exists(p)) out.push({ path: p, via: "python wheel" });
      }
    }
  }
  return out;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface LibraryResult {
  readonly library: CudaLibrary;
  /** The file that loaded, or null. */
  readonly path: string | null;
  readonly via: Candidate["via"] | null;
  /** Each candidate that failed, with the loader's words. */
  readonly tried: { path: string; error: string }[];
}

/** Tries the candidates in order with `load` (which returns an error text, or null when it loaded). */
export function loadFirst(lib: CudaLibrary, candidates: Candidate[], load: (path: string) => string | null): LibraryResult {
  const tried: { path: string; error: string }[] = [];
  for (const c of candidates) {
    const error = load(c.path);
    if (error === null) return { library: lib, path: c.path, via: c.via, tried };
    tried.push({ path: c.path, error });
  }
  return { library: lib, path: null, via: null, tried };
}

/** The error for a library that is needed and was not found: which one, where it looked, how to point at it. */
export function missingLibraryMessage(r: LibraryResult, neededFor: string, ctx: SearchContext = defaultSearchContext()): string {
  const spec = LIBRARIES[r.library];
  const looked = r.tried.length
    ? r.tried.map((t) => `${t.path} (${t.error})`).join("; ")
    : "nowhere: no candidate was found";
  const places = [
    `${spec.env} (${ctx.env[spec.env] ? `set to ${ctx.env[spec.env]}` : "unset"})`,
    "the dynamic loader's path (LD_LIBRARY_PATH, ldconfig)",
    ...(r.library === "libcuda" ? [] : [`${ctx.env.CUDA_HOME || ctx.env.CUDA_PATH || "/usr/local/cuda"}/lib64`]),
    ...(spec.wheelDirs.length ? [`site-packages/nvidia/{${spec.wheelDirs.join(",")}}/lib in ${ctx.sitePackages.length ? ctx.sitePackages.join(", ") : "no Python site-packages with NVIDIA wheels"}`] : []),
  ];
  return (
    `${spec.title} (${spec.sonames.join(" or ")}) is needed for ${neededFor} but could not be loaded. Searched, in order: ` +
    `${places.join(", ")}. Tried: ${looked}. To fix: ${spec.install}, or set ${spec.env} to the library file ` +
    `(or the folder holding ${spec.sonames[0]}).`
  );
}

// ---- the addon and the kernels ----

export const CUDA_ADDON_FILE = "kindling_cuda.node";
export const FATBIN_FILE = "kindling.fatbin";

function packageRoot(): string {
  return ownPackage()?.root ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
}

/** The prebuilt platform package's folder and manifest, or null. */
function platformPackage(root: string): { dir: string; manifest: { kindling?: { cuda?: { fatbin?: unknown; addon?: unknown } | null } } } | null {
  try {
    const file = createRequire(join(root, "package.json")).resolve(`${platformPackageName()}/package.json`);
    return { dir: dirname(file), manifest: JSON.parse(readFileSync(file, "utf8")) };
  } catch {
    return null;
  }
}

/** kindling_cuda.node: the source build first, then the platform package. The candidates in order, existing or not. */
export function addonCandidates(root = packageRoot()): string[] {
  const out = [join(root, "build", "Release", CUDA_ADDON_FILE)];
  const pkg = platformPackage(root);
  if (pkg) out.push(join(pkg.dir, CUDA_ADDON_FILE));
  return out;
}

/**
 * The fatbin, in order: KINDLING_CUDA_FATBIN, the source build's build/cuda/kindling.fatbin, the platform package's
 * (its manifest's kindling.cuda.fatbin). Returns the first that exists and is non-empty, with every place looked.
 */
export function locateFatbin(env: NodeJS.ProcessEnv = process.env, root = packageRoot()): { path: string | null; looked: string[] } {
  const looked: string[] = [];
  const candidates: string[] = [];
  if (env.KINDLING_CUDA_FATBIN) candidates.push(env.KINDLING_CUDA_FATBIN);
  candidates.push(join(root, "build", "cuda", FATBIN_FILE));
  const pkg = platformPackage(root);
  const rel = pkg?.manifest.kindling?.cuda?.fatbin;
  if (pkg && typeof rel === "string") candidates.push(join(pkg.dir, rel));
  for (const c of candidates) {
    looked.push(c);
    try {
      if (statSync(c).size > 0) return { path: c, looked };
    } catch {
      // not there: the next place
    }
  }
  return { path: null, looked };
}

/** The kernel sources (native/cuda/kernels/*.cu, shipped in the npm package) in the order nvcc's TU includes them. */
export function kernelSourceFiles(root = packageRoot()): string[] {
  const dir = join(root, "native", "cuda", "kernels");
  try {
    return readdirSync(dir).filter((f) => f.endsWith(".cu")).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/**
 * One translation unit of all kernel sources, as NVRTC compiles it. The sources include no toolkit header, only
 * their own quoted headers next to them (common.cuh, include-guarded); those are inlined here so NVRTC needs no
 * include path.
 */
export function kernelSourceBundle(files: string[]): string {
  const inline = (f: string): string =>
    readFileSync(f, "utf8").replace(/^[ \t]*#include\s+"([^"]+)"[ \t]*$/gm, (_m, name: string) => {
      const h = join(dirname(f), name);
      return `#line 1 "${h.replace(/\\/g, "/")}"\n${readFileSync(h, "utf8")}\n#line 1 "${f.replace(/\\/g, "/")}"`;
    });
  return files.map((f) => `#line 1 "${f.replace(/\\/g, "/")}"\n${inline(f)}\n`).join("");
}

// ---- the NVRTC cache ----

export function nvrtcCacheDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  if (env.KINDLING_CUDA_CACHE) return env.KINDLING_CUDA_CACHE;
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), "kindling", "kernels");
}

export interface CacheKeyParts {
  source: string;
  options: readonly string[];
  nvrtcVersion: readonly [number, number];
  computeCapability: readonly [number, number];
  kindlingVersion: string;
}

/** sha256 over everything that changes the cubin; a field boundary can't be forged by moving text between fields. */
export function nvrtcCacheKey(p: CacheKeyParts): string {
  const h = createHash("sha256");
  for (const part of [
    p.source,
    JSON.stringify(p.options),
    `${p.nvrtcVersion[0]}.${p.nvrtcVersion[1]}`,
    `sm_${p.computeCapability[0]}${p.computeCapability[1]}`,
    p.kindlingVersion,
  ]) {
    h.update(String(Buffer.byteLength(part)));
    h.update(":");
    h.update(part);
  }
  return h.digest("hex");
}

export function readCachedCubin(dir: string, key: string): Uint8Array | null {
  try {
    const b = readFileSync(join(dir, `${key}.cubin`));
    return b.byteLength > 0 ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
  } catch {
    return null;
  }
}

/**
 * Writes a cubin so that a reader never sees a partial file: a uniquely named temporary in the same folder, then
 * rename (atomic on POSIX). Another process writing the same key at once is harmless: both write the same bytes.
 * Returns the final path, or null when the cache folder is not writable (the cubin is then simply not cached).
 */
export function writeCachedCubin(dir: string, key: string, cubin: Uint8Array): string | null {
  const final = join(dir, `${key}.cubin`);
  const tmp = join(dir, `.${key}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, cubin);
    renameSync(tmp, final);
    return final;
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The folder itself is unusable: there is no temporary to remove.
    }
    return null;
  }
}
