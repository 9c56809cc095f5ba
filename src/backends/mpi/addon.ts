// Typed loader for build/Release/kindling_mpi.node and the MPI library it dlopens. Nothing here runs at import:
// kindling installs and runs without MPI, and only initProcessGroup({ backend: "mpi" }) asks for it.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

let addon: MpiAddon | null = null;
let library: { library: string; abi: "openmpi" | "mpich" } | null = null;

function addonFile(): string {
  // dist/src/backends/mpi/addon.js -> the package root is four folders up (src/backends/mpi under ts-node too).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const f = join(dir, "build", "Release", "kindling_mpi.node");
    if (existsSync(f)) return f;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "build", "Release", "kindling_mpi.node");
}

/** The addon with a loaded MPI library; throws an error that says what is missing and how to get it. */
export function openMpi(): { addon: MpiAddon; library: string; abi: "openmpi" | "mpich" } {
  if (!addon) {
    const file = addonFile();
    if (!existsSync(file)) {
      throw new Error(`the MPI backend needs kindling's native addon ${file}, which is not built: run \`npm run build\``);
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
