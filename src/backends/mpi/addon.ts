// Typed loader for kindling_mpi.node (a source build, or the prebuilt platform package) and the MPI library it dlopens. Nothing here runs at import:
// kindling installs and runs without MPI, and only initProcessGroup({ backend: "mpi" }) asks for it.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ownPackage, platformPackageName } from "../cpu/locate.js";

/** Collective kinds, MPI dtype slots and reduction ops as the addon numbers them. */
export const Kind = { allReduce: 0, broadcast: 1, allGather: 2, reduceScatter: 3, barrier: 4 } as const;
export const MpiDtype = { float: 0, double: 1, int: 2, uchar: 3 } as const;
export const MpiOp = { sum: 0, max: 1, min: 2 } as const;

type Buffer = ArrayBufferView | null;

export interface MpiAddon {
  load(paths: string[]): { library: string; abi: "openmpi" | "mpich" } | { error: string };
  init(onComplete: (ticket: number, error: string | null) => void): { rank: number; size: number; threadLevel: number };
  submit(kind: number, send: Buffer, recv: Buffer, dtype: number, op: number, root: number): number;
  wait(ticket: number, timeoutMs: number): { done: boolean; error: string | null };
  finalize(): void;
  abort(code: number): void;
}

/** Where libmpi is looked for: only KINDLING_MPI_LIBRARY when set, else the loader's search path and the usual places. */
export function libraryCandidates(): string[] {
  const env = process.env.KINDLING_MPI_LIBRARY;
  if (env) return [env];
  return [
    "libmpi.so.40",
    "libmpi.so.12",
    "libmpi.so",
    "/usr/lib/x86_64-linux-gnu/libmpi.so.40",
    "/usr/lib/aarch64-linux-gnu/libmpi.so.40",
    "/usr/lib64/openmpi/lib/libmpi.so.40",
    "/usr/lib/x86_64-linux-gnu/libmpich.so.12",
    "/usr/lib64/mpich/lib/libmpi.so.12",
    "/opt/homebrew/lib/libmpi.dylib",
    "/usr/local/lib/libmpi.dylib",
  ];
}

const INSTALL_HINT =
  "Install an MPI library (Debian/Ubuntu: `apt-get install openmpi-bin`; Fedora: `dnf install openmpi`), or point " +
  "KINDLING_MPI_LIBRARY at libmpi.so";

const MPI_ADDON_FILE = "kindling_mpi.node";

let addon: MpiAddon | null = null;
let library: { library: string; abi: "openmpi" | "mpich" } | null = null;

/**
 * The MPI addon: a source build in kindling's own build/Release (a checkout, or an install that compiled), else the
 * prebuilt platform package that also carries the CPU addon (see ../cpu/locate.ts). Returns the first candidate
 * when none exists, for the error message.
 */
function addonFile(): string {
  const root = ownPackage()?.root ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
  const local = join(root, "build", "Release", MPI_ADDON_FILE);
  if (existsSync(local)) return local;
  try {
    const manifest = createRequire(join(root, "package.json")).resolve(`${platformPackageName()}/package.json`);
    const prebuilt = join(dirname(manifest), MPI_ADDON_FILE);
    if (existsSync(prebuilt)) return prebuilt;
  } catch {
    // No platform package installed: the source build is the only place left.
  }
  return local;
}

/** The addon with a loaded MPI library; throws an error that says what is missing and how to get it. */
export function openMpi(): { addon: MpiAddon; library: string; abi: "openmpi" | "mpich" } {
  if (!addon) {
    const file = addonFile();
    if (!existsSync(file)) {
      throw new Error(
        `the MPI backend needs kindling's native addon ${MPI_ADDON_FILE}: not in ${file} nor in the ${platformPackageName()} ` +
          "package; install that package, or build from source with `npm rebuild kindling --build-from-source`",
      );
    }
    addon = createRequire(import.meta.url)(file) as MpiAddon;
  }
  if (!library) {
    const r = addon.load(libraryCandidates());
    if ("error" in r) {
      throw new Error(`the MPI backend could not load the MPI library (libmpi). Tried:${r.error}\n${INSTALL_HINT}.`);
    }
    library = r;
  }
  return { addon, ...library };
}
