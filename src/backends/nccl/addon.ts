// Typed loader for kindling_nccl.node and the NCCL library it dlopens (libnccl.so.2, searched like the CUDA
// libraries: KINDLING_NCCL_PATH -> the soname -> $CUDA_HOME/lib64 -> site-packages/nvidia/nccl/lib). Nothing runs at
// import; the first use loads both, or throws an error naming the library, where it looked and how to get it.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ownPackage, platformPackageName } from "../cpu/locate.js";
import { libraryCandidates, loadFirst, missingLibraryMessage } from "../cuda/locate.js";

/** kindling_nccl.node's functions (native/nccl/nccl_binding.cc). Addresses, communicators and streams are BigInts. */
export interface NcclAddon {
  /** dlopens NCCL; returns ncclGetVersion's code (2.21.5 is 22105). */
  open(path: string): number;
  uniqueId(): Uint8Array;
  initRank(id: Uint8Array, nranks: number, rank: number): bigint;
  allReduce(send: bigint, recv: bigint, count: number, dtype: number, op: number, comm: bigint, stream: bigint): void;
  broadcast(send: bigint, recv: bigint, count: number, dtype: number, root: number, comm: bigint, stream: bigint): void;
  allGather(send: bigint, recv: bigint, sendCount: number, dtype: number, comm: bigint, stream: bigint): void;
  reduceScatter(send: bigint, recv: bigint, recvCount: number, dtype: number, op: number, comm: bigint, stream: bigint): void;
  groupStart(): void;
  groupEnd(): void;
  /** The communicator's pending ncclResult_t: 0 none, 7 still in progress, anything else a failure. */
  asyncError(comm: bigint): number;
  abort(comm: bigint): void;
  destroy(comm: bigint): void;
  errorString(code: number): string;
}

export interface LoadedNccl {
  addon: NcclAddon;
  /** The file that loaded. */
  path: string;
  /** ncclGetVersion's code: major * 10000 + minor * 100 + patch (since 2.9). */
  version: number;
}

const NCCL_ADDON_FILE = "kindling_nccl.node";
let loaded: LoadedNccl | null = null;

function addonFile(): string {
  const root = ownPackage()?.root ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
  const local = join(root, "build", "Release", NCCL_ADDON_FILE);
  if (existsSync(local)) return local;
  try {
    const manifest = createRequire(join(root, "package.json")).resolve(`${platformPackageName()}/package.json`);
    const prebuilt = join(dirname(manifest), NCCL_ADDON_FILE);
    if (existsSync(prebuilt)) return prebuilt;
  } catch {
    // No platform package: the source build is the only place left.
  }
  return local;
}

/** "2.21.5" from 22105 (and from 2.8's old 2708-style codes). */
export function versionString(code: number): string {
  const unit = code >= 10000 ? 10000 : 1000;
  const rest = code % unit;
  return `${Math.floor(code / unit)}.${Math.floor(rest / 100)}.${rest % 100}`;
}

/** The addon with NCCL loaded. */
export function openNccl(): LoadedNccl {
  if (loaded) return loaded;
  const file = addonFile();
  if (!existsSync(file)) {
    throw new Error(
      `the NCCL backend needs kindling's native addon ${NCCL_ADDON_FILE}: not in ${file} nor in the ${platformPackageName()} ` +
        "package; build from source with `npm rebuild kindling --build-from-source`",
    );
  }
  const addon = createRequire(import.meta.url)(file) as NcclAddon;
  let version = 0;
  const r = loadFirst("nccl", libraryCandidates("nccl"), (p) => {
    try {
      version = addon.open(p);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  });
  if (r.path === null) throw new Error(missingLibraryMessage(r, 'torch.distributed\'s "nccl" backend'));
  loaded = { addon, path: r.path, version };
  return loaded;
}
