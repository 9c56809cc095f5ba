// `kindling train` data-parallel: --nproc-per-node N re-runs the command as N MPI ranks through `kindling launch`'s
// code; each rank (also under a plain `mpirun`) joins the process group here before training.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { broadcast, getRank, getWorldSize, initProcessGroup, isMpiAvailable, launcherEnvironment } from "../distributed/index.js";
import { fromTypedArray, tensor } from "../tensor/create.js";
import { EXIT, ExitError } from "./failures.js";
import { launchCommand } from "./launch.js";

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bin", "kindling.js");

/** The rank of this process when an MPI launcher started several (read before MPI is initialised), else null. */
export function launchedRank(): number | null {
  const l = launcherEnvironment();
  return l && l.size > 1 ? l.rank : null;
}

/** argv without --nproc-per-node and its value (either form). */
function withoutNproc(argv: readonly string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--nproc-per-node") i++;
    else if (!a.startsWith("--nproc-per-node=")) rest.push(a);
  }
  return rest;
}

/**
 * Starts `kindling train <argv>` as nproc MPI ranks and returns the job's exit code. Refused up front, before any data
 * is loaded, when mpirun or the MPI library is missing. Every rank must shuffle with the same seed, so a seed is
 * chosen here when none was given.
 */
export async function launchTrain(argv: readonly string[], opts: { nproc: number; seed?: number; resume?: string }): Promise<number> {
  const probe = spawnSync("mpirun", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new ExitError("--nproc-per-node: mpirun was not found; install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin)", EXIT.device);
  }
  if (!isMpiAvailable()) {
    throw new ExitError("--nproc-per-node: no MPI library could be loaded (libmpi.so.40 or libmpi.so.12); install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin)", EXIT.device);
  }
  const args = withoutNproc(argv);
  // A resumed run takes its seed from the checkpoint.
  if (opts.seed === undefined && opts.resume === undefined) args.push("--seed", String(Math.floor(Math.random() * 2 ** 31)));
  return launchCommand(["--nproc-per-node", String(opts.nproc), "--", BIN, "train", ...args], { gracefulStop: true });
}

export interface RankInfo {
  rank: number;
  worldSize: number;
  /** The seed every rank uses: rank 0's. */
  seed: number;
  /** Rank 0's resolved options (what a resumed run pinned from its checkpoint included). */
  config: Record<string, unknown>;
  /** With --resume: the checkpoint's bytes as rank 0 read them (the other ranks' nodes need not have the file). */
  resumeBytes: Uint8Array | null;
}

/** Rank 0's bytes on every rank: a length, then the bytes (broadcast in place). */
function broadcastBytes(mine: Uint8Array | null): Uint8Array {
  const len = tensor([mine?.length ?? 0], { dtype: "float64" });
  broadcast(len, 0);
  const n = len.item();
  // The MPI backend moves 32-bit words, not bytes: the bytes travel in an int32 buffer rounded up to 4.
  const words = new Int32Array(Math.ceil(n / 4));
  const bytes = new Uint8Array(words.buffer, 0, n);
  if (mine) bytes.set(mine);
  if (n > 0) broadcast(fromTypedArray(words, [words.length], "int32"), 0);
  return bytes;
}

/**
 * Joins the MPI process group when this process is one of several ranks; null when it runs alone. Rank 0's options
 * (its seed included, so a plain `mpirun` start without --seed still shuffles the same way on every rank) and, with
 * --resume, the checkpoint file rank 0 read, reach every rank.
 */
export function joinProcessGroup(cfg: { seed: number; resume?: string; device: string }): RankInfo | null {
  if (launchedRank() === null) return null;
  if (cfg.device !== "cpu") {
    throw new ExitError(`--device ${cfg.device}: data-parallel training runs on the CPU (MPI backend) only; use --device cpu`, EXIT.device);
  }
  initProcessGroup({ backend: "mpi" });
  const rank = getRank();
  const config = JSON.parse(new TextDecoder().decode(broadcastBytes(rank === 0 ? new TextEncoder().encode(JSON.stringify(cfg)) : null))) as Record<string, unknown>;
  let resumeBytes: Uint8Array | null = null;
  if (config.resume !== undefined) {
    // Rank 0 alone reads it; a failure there must not leave the others waiting in the broadcast, so an unreadable
    // file is sent as zero bytes and every rank fails with rank 0's reason.
    let mine: Uint8Array | null = null;
    let why = "";
    if (rank === 0) {
      try {
        mine = new Uint8Array(fs.readFileSync(config.resume as string));
      } catch (e) {
        why = (e as Error).message;
        mine = new Uint8Array(0);
      }
    }
    resumeBytes = broadcastBytes(mine);
    if (resumeBytes.length === 0) throw new ExitError(`--resume: rank 0 could not read ${String(config.resume)}${why ? `: ${why}` : ""}`, EXIT.checkpoint);
  }
  return { rank, worldSize: getWorldSize(), seed: config.seed as number, config, resumeBytes };
}
