// The default process group (torch.distributed.init_process_group and friends) on the MPI backend: MPI itself
// says who this process is; the launcher's environment is only cross-checked. A process that exits with a failure
// while the group is up calls MPI_Abort, so mpirun stops every other rank instead of leaving them waiting in a
// collective (mpirun's message names the rank that aborted); a clean exit finalizes MPI. The NCCL backend's group holds
// an NCCL communicator (MPI too under mpirun, for the unique id): failure aborts it, a clean exit destroys it.
import { writeSync } from "node:fs";
import { Kind, MpiDtype, openMpi, type MpiAddon } from "../backends/mpi/addon.js";
import { NcclCommunicator } from "../backends/nccl/communicator.js";
import { openNccl } from "../backends/nccl/addon.js";
import { probe } from "../backends/cuda/native.js";
import { cudaDevice } from "../backends/cuda/device.js";
import { parseInitMethod, rendezvous } from "./tcp_store.js";
import { ncclDeviceIndex, shareUniqueIdOnce, shareUniqueIdOverMpi } from "./nccl_bootstrap.js";
import { Work } from "./work.js";

export type Backend = "mpi" | "nccl" | "gloo";

export interface InitOptions {
  backend?: Backend;
  /** Checked against what the launcher assigned (MPI decides the rank; it cannot be chosen here). */
  rank?: number;
  worldSize?: number;
  /**
   * "env://" (MASTER_ADDR / MASTER_PORT) or "tcp://host:port": where a torchrun-style job's TCPStore rendezvous is
   * (see rendezvous()). Checked here; the MPI backend itself needs no store, since mpirun has already connected the
   * processes.
   */
  initMethod?: string;
  /** How long wait() and a collective's Promise wait before failing (default 30 minutes, as PyTorch). */
  timeoutMs?: number;
}

/** The NCCL side of a group: its communicator and the CUDA device this rank's collectives run on. */
export interface NcclPart {
  readonly comm: NcclCommunicator;
  readonly device: string;
  readonly library: string;
}

interface Group {
  readonly backend: "mpi" | "nccl";
  /** MPI: the collectives' engine. NCCL: set only under mpirun (the unique id's broadcast; MPI_Abort on failure). */
  readonly addon: MpiAddon | null;
  readonly nccl: NcclPart | null;
  readonly rank: number;
  readonly size: number;
  readonly timeoutMs: number;
  readonly library: string;
  readonly abi: "openmpi" | "mpich";
  readonly debug: boolean;
  readonly works: Map<number, Work>;
}

let group: Group | null = null;
let exitHookInstalled = false;
/** The error that is taking the process down, printed before MPI_Abort ends it (Node would print it too late). */
let fatal: unknown = null;

/** The rank and size the launcher advertises (mpirun's OMPI_COMM_WORLD_*, Hydra/Slurm's PMI_*), if any. */
export function launcherEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): { rank: number; size: number; from: string } | null {
  const pairs: [string, string][] = [
    ["OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"],
    ["PMI_RANK", "PMI_SIZE"],
    ["PMIX_RANK", "PMI_SIZE"],
  ];
  for (const [r, s] of pairs) {
    if (env[r] !== undefined && env[s] !== undefined) return { rank: Number(env[r]), size: Number(env[s]), from: `${r}/${s}` };
  }
  return null;
}

function exitHook(code: number): void {
  const g = group;
  if (!g) return;
  group = null;
  if (code !== 0) {
    const why = fatal === null ? "" : `: ${fatal instanceof Error ? (fatal.stack ?? fatal.message) : String(fatal)}`;
    writeSync(2, `kindling.distributed: rank ${g.rank} of ${g.size} failed (exit code ${code})${why}\n` +
      (g.nccl ? `kindling.distributed: rank ${g.rank} is aborting its NCCL communicator\n` : "") +
      (g.addon ? `kindling.distributed: rank ${g.rank} is aborting the MPI job\n` : ""));
    g.nccl?.comm.abort();
    g.addon?.abort(code);
  } else {
    g.nccl?.comm.destroy();
    g.addon?.finalize();
  }
}

/**
 * Starts the default process group. The MPI backend is ready when this returns. The NCCL backend returns a Promise
 * (await it): its ranks may meet through the TCPStore rendezvous first.
 */
export function initProcessGroup(opts: InitOptions & { backend: "nccl" }): Promise<void>;
export function initProcessGroup(opts?: InitOptions & { backend?: "mpi" | "gloo" }): void;
export function initProcessGroup(opts?: InitOptions): void | Promise<void>;
export function initProcessGroup(opts: InitOptions = {}): void | Promise<void> {
  // NCCL's form reports every failure, bad options included, through its Promise.
  if (opts.backend === "nccl") return Promise.resolve().then(() => checkOptions(opts)).then(() => initNccl(opts));
  checkOptions(opts);
  initMpiGroup(opts);
}

function checkOptions(opts: InitOptions): void {
  const backend = opts.backend ?? "mpi";
  if (group) throw new Error("initProcessGroup: the default process group is already initialized");
  if (backend !== "mpi" && backend !== "nccl") {
    throw new Error(`initProcessGroup: backend "${backend}" is not available in kindling yet; use backend: "mpi" ` +
      `(CPU tensors, launched with \`mpirun -np N node script.js\`) or "nccl" (CUDA tensors)`);
  }
  for (const k of ["rank", "worldSize", "timeoutMs"] as const) {
    const v = opts[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= (k === "rank" ? 0 : 1))) {
      throw new Error(`initProcessGroup: ${k} must be a ${k === "rank" ? "non-negative" : "positive"} integer, got ${v}`);
    }
  }
  if (opts.initMethod !== undefined && opts.initMethod !== "env://") parseInitMethod(opts.initMethod);
}

function initMpiGroup(opts: InitOptions): void {
  const launcher = launcherEnvironment();
  const torchrunSize = Number(process.env.WORLD_SIZE ?? 1);
  if (!launcher && torchrunSize > 1) {
    throw new Error(`initProcessGroup: WORLD_SIZE=${process.env.WORLD_SIZE} asks for a torchrun-style start, which the MPI ` +
      "backend does not use: start the processes with `npx kindling launch --nproc-per-node N script.js` or " +
      "`mpirun -np N node script.js`");
  }
  const { addon, library, abi } = openMpi();
  const info = initMpi(addon);
  const mismatch = (what: string, asked: number, got: number) =>
    new Error(`initProcessGroup: ${what} ${asked} was requested, but MPI says this process has ${what} ${got}` +
      (info.size === 1 && !launcher ? " (was the script started without `mpirun -np N`?)" : ""));
  if (opts.worldSize !== undefined && opts.worldSize !== info.size) throw mismatch("worldSize", opts.worldSize, info.size);
  if (opts.rank !== undefined && opts.rank !== info.rank) throw mismatch("rank", opts.rank, info.rank);
  if (launcher && (launcher.rank !== info.rank || launcher.size !== info.size)) {
    throw new Error(`initProcessGroup: ${launcher.from} say rank ${launcher.rank} of ${launcher.size}, but ${library} ` +
      `says rank ${info.rank} of ${info.size}: the launcher and the loaded MPI library do not match`);
  }
  install({ backend: "mpi", addon, nccl: null, rank: info.rank, size: info.size, timeoutMs: opts.timeoutMs ?? 30 * 60_000,
    library, abi, debug: process.env.KINDLING_DISTRIBUTED_DEBUG === "DETAIL", works: new Map() });
}

function initMpi(addon: MpiAddon): { rank: number; size: number } {
  return addon.init((ticket, error) => {
    const w = group?.works.get(ticket);
    if (!w) return;
    group!.works.delete(ticket);
    w.complete(error ? new Error(error) : null);
  });
}

/**
 * The NCCL group: NCCL and CUDA are loaded first (so a missing library fails before any rank waits on another);
 * the rank, size and unique id come from MPI under mpirun (when an MPI library loads), otherwise from torchrun's
 * RANK / WORLD_SIZE and the TCPStore rendezvous on MASTER_ADDR:MASTER_PORT (world size 1 needs neither). The rank
 * runs on cuda:(LOCAL_RANK mod device count).
 */
async function initNccl(opts: InitOptions): Promise<void> {
  const nccl = openNccl();
  const cuda = probe();
  if (!cuda.available) throw new Error(`initProcessGroup: the NCCL backend needs CUDA, which is not available: ${cuda.reason}`);
  const device = `cuda:${ncclDeviceIndex(cuda.deviceCount)}`;
  // Opening the device makes its context current, which ncclCommInitRank binds the communicator to.
  cudaDevice(Number(device.slice(5)));
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const launcher = launcherEnvironment();
  let mpi: { addon: MpiAddon; library: string; abi: "openmpi" | "mpich" } | null = null;
  if (launcher) {
    try {
      mpi = openMpi();
    } catch {
      mpi = null; // No MPI library: the launcher's ranks meet through the store like torchrun's.
    }
  }
  let rank: number;
  let size: number;
  let id: Uint8Array;
  if (mpi) {
    ({ rank, size } = initMpi(mpi.addon));
    if (opts.worldSize !== undefined && opts.worldSize !== size) throw new Error(`initProcessGroup: worldSize ${opts.worldSize} was requested, but MPI says the world has ${size} ranks`);
    if (opts.rank !== undefined && opts.rank !== rank) throw new Error(`initProcessGroup: rank ${opts.rank} was requested, but MPI says this process is rank ${rank}`);
    const m = mpi.addon;
    id = shareUniqueIdOverMpi(rank, (bytes) => {
      const r = m.wait(m.submit(Kind.broadcast, null, bytes, MpiDtype.uchar, 0, 0), timeoutMs);
      if (!r.done || r.error) throw new Error(`rank ${rank}: the MPI broadcast of NCCL's unique id failed: ${r.error ?? `no answer within ${timeoutMs} ms`}`);
    });
  } else {
    rank = opts.rank ?? Number(process.env.RANK ?? launcher?.rank ?? 0);
    size = opts.worldSize ?? Number(process.env.WORLD_SIZE ?? launcher?.size ?? 1);
    if (!(Number.isInteger(rank) && Number.isInteger(size) && rank >= 0 && rank < size)) {
      throw new Error(`initProcessGroup: rank ${rank} of world size ${size} is not a valid rank (set RANK and WORLD_SIZE, as torchrun does)`);
    }
    if (size === 1) id = NcclCommunicator.uniqueId();
    else {
      const { store } = await rendezvous(opts.initMethod ?? "env://", { rank, worldSize: size, timeoutMs });
      try {
        id = await shareUniqueIdOnce(store, rank, size);
      } finally {
        store.close();
      }
    }
  }
  const comm = NcclCommunicator.init(id, size, rank);
  install({ backend: "nccl", addon: mpi?.addon ?? null, nccl: { comm, device, library: nccl.path }, rank, size, timeoutMs,
    library: mpi?.library ?? nccl.path, abi: mpi?.abi ?? "openmpi", debug: false, works: new Map() });
}

function install(g: Group): void {
  group = g;
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", exitHook);
    process.on("uncaughtExceptionMonitor", (e) => {
      fatal = e;
    });
  }
}

export function isInitialized(): boolean {
  return group !== null;
}

/** The active group, or PyTorch's error for using one before initProcessGroup. */
export function defaultGroup(op: string): Group {
  if (!group) {
    throw new Error(`${op}: Default process group has not been initialized, please make sure to call initProcessGroup.`);
  }
  return group;
}

export function getRank(): number {
  return defaultGroup("getRank").rank;
}

export function getWorldSize(): number {
  return defaultGroup("getWorldSize").size;
}

export type BackendInfo =
  | { backend: "mpi"; library: string; abi: "openmpi" | "mpich" }
  /** device: the CUDA device this rank's collectives run on (cuda:LOCAL_RANK mod device count). */
  | { backend: "nccl"; library: string; version: string; device: string };

/** MPI: the library in use and its ABI ("openmpi" or "mpich"). NCCL: the library, its version and this rank's device. */
export function getBackendInfo(): BackendInfo {
  const g = defaultGroup("getBackendInfo");
  if (g.nccl) return { backend: "nccl", library: g.nccl.library, version: g.nccl.comm.version, device: g.nccl.device };
  return { backend: "mpi", library: g.library, abi: g.abi };
}

/**
 * Finalizes MPI after the queued collectives finished. MPI allows one initialisation per process, so a later
 * initProcessGroup in the same process fails with a message that says so.
 */
export function destroyProcessGroup(): void {
  const g = defaultGroup("destroyProcessGroup");
  group = null;
  g.nccl?.comm.destroy();
  g.addon?.finalize();
}

const KIND_NAMES = ["allReduce", "broadcast", "allGather", "reduceScatter", "barrier"];
const DTYPE_NAMES = ["float32", "float64/int64", "int32", "uint8"];
const OP_NAMES = ["sum", "max", "min"];

function mpiAddon(g: Group): MpiAddon {
  if (!g.addon || g.backend !== "mpi") throw new Error(`rank ${g.rank}: an MPI collective was routed to the ${g.backend} process group`);
  return g.addon;
}

/**
 * KINDLING_DISTRIBUTED_DEBUG=DETAIL (PyTorch's TORCH_DISTRIBUTED_DEBUG): before each collective the ranks exchange
 * what they are about to call, and a mismatch (another op, dtype, size or root) fails on every rank with a message
 * that lists each rank's call, instead of corrupting data or waiting for the timeout. Costs one small all-gather.
 */
function checkAcrossRanks(g: Group, kind: number, send: ArrayBufferView | null, recv: ArrayBufferView | null,
  dtype: number, op: number, root: number): void {
  const mine = new Float64Array([kind, dtype, kind === 1 ? -1 : op, kind === 1 ? root : -1, send?.byteLength ?? -1, recv?.byteLength ?? -1]);
  const all = new Float64Array(mine.length * g.size);
  const addon = mpiAddon(g);
  const ticket = addon.submit(2, mine, all, 1, 0, 0);
  const r = addon.wait(ticket, g.timeoutMs);
  if (!r.done) throw new Error(`rank ${g.rank}: the KINDLING_DISTRIBUTED_DEBUG check before ${KIND_NAMES[kind]} did not finish within ${g.timeoutMs} ms`);
  if (r.error) throw new Error(`rank ${g.rank}: the KINDLING_DISTRIBUTED_DEBUG check failed: ${r.error}`);
  const calls: string[] = [];
  let same = true;
  for (let q = 0; q < g.size; q++) {
    const c = all.subarray(q * mine.length, (q + 1) * mine.length);
    if (c.some((v, i) => v !== mine[i])) same = false;
    const bytes = c[5]! >= 0 ? c[5]! : c[4]!;
    calls.push(`rank ${q} called ${KIND_NAMES[c[0]!]}` + (c[0] === 4 ? "" : `(${c[2]! >= 0 ? OP_NAMES[c[2]!] + ", " : ""}` +
      `${c[3]! >= 0 ? `src ${c[3]}, ` : ""}${DTYPE_NAMES[c[1]!]}, ` +
      `${c[4]! >= 0 && c[5]! >= 0 ? `send ${c[4]} B, recv ${c[5]} B` : `${bytes} B`})`));
  }
  if (!same) throw new Error(`rank ${g.rank}: the ranks called different collectives (sizes, dtypes, ops or roots differ):\n  ${calls.join("\n  ")}`);
}

/** Queues one collective on the comm thread and returns its work handle. */
export function submit(g: Group, label: string, kind: number, send: ArrayBufferView | null, recv: ArrayBufferView | null,
  dtype: number, op: number, root: number, after: (() => void) | null): Work {
  if (g.debug) checkAcrossRanks(g, kind, send, recv, dtype, op, root);
  const addon = mpiAddon(g);
  const ticket = addon.submit(kind, send, recv, dtype, op, root);
  const w = new Work(ticket, `rank ${g.rank}: ${label}`, (t, ms) => addon.wait(t, ms), g.timeoutMs, after,
    (message) => new Error(message));
  g.works.set(ticket, w);
  return w;
}
