// `kindling train` data-parallel: --nproc-per-node N re-runs the command as N ranks through `kindling launch`'s code
// (mpirun for the MPI backend, the torchrun-style launcher for NCCL); each rank (also under a plain `mpirun`) joins
// the process group here before training.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { broadcast, getRank, getWorldSize, initProcessGroup, isMpiAvailable, launcherEnvironment } from "../distributed/index.js";
import { fromTypedArray, tensor } from "../tensor/create.js";
import { chooseDistBackend, collectiveDevice, ddpDeviceKind, rankDevice } from "./ddp_backend.js";
import { EXIT, ExitError } from "./failures.js";
import { launchCommand } from "./launch.js";

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bin", "kindling.js");

/**
 * This process's rank and world size when a launcher started it (read before the group is up): an MPI launcher's
 * variables, or torchrun's RANK / WORLD_SIZE (kindling launch --backend nccl sets them); else null.
 */
export function launched(env: Readonly<Record<string, string | undefined>> = process.env): { rank: number; size: number } | null {
  const l = launcherEnvironment(env);
  if (l) return l;
  const rank = Number(env.RANK);
  const size = Number(env.WORLD_SIZE);
  return env.RANK !== undefined && Number.isInteger(rank) && Number.isInteger(size) && size >= 1 ? { rank, size } : null;
}

/** The rank of this process when a launcher started several, else null. */
export function launchedRank(env: Readonly<Record<string, string | undefined>> = process.env): number | null {
  const l = launched(env);
  return l && l.size > 1 ? l.rank : null;
}

/** argv without the given options and their values (either form). */
function without(argv: readonly string[], flags: readonly string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (flags.includes(a)) i++;
    else if (!flags.some((f) => a.startsWith(`${f}=`))) rest.push(a);
  }
  return rest;
}

export interface LaunchTrainOptions {
  nproc: number;
  seed?: number;
  resume?: string;
  /** --device as given (or as the checkpoint of --resume has it). */
  device: string;
  distBackend?: string;
  /** Where the backend's line goes: nowhere, or stderr when stdout is for --json. */
  quiet?: boolean;
  json?: boolean;
}

/**
 * Starts `kindling train <argv>` as nproc ranks and returns the job's exit code: through mpirun for the MPI backend,
 * through the NCCL launcher (no mpirun) for NCCL. The backend is chosen here, once (the ranks are told it), and
 * refused up front, before any data is loaded, when its libraries are missing. Every rank must shuffle with the same
 * seed, so a seed is chosen here when none was given.
 */
export async function launchTrain(argv: readonly string[], opts: LaunchTrainOptions): Promise<number> {
  const { backend, note } = chooseDistBackend(ddpDeviceKind(opts.device), opts.distBackend);
  // Every rank is told the backend and the device (with --resume only rank 0 reads the checkpoint that pins it).
  const args = without(argv, ["--nproc-per-node", "--dist-backend", "--device"]);
  args.push("--device", opts.device, "--dist-backend", backend);
  // A resumed run takes its seed from the checkpoint.
  if (opts.seed === undefined && opts.resume === undefined) args.push("--seed", String(Math.floor(Math.random() * 2 ** 31)));
  const say = (): void => void (note && !opts.quiet && (opts.json ? process.stderr : process.stdout).write(`${note}\n`));
  if (backend === "nccl") {
    say();
    return launchCommand(["--backend", "nccl", "--nproc-per-node", String(opts.nproc), "--", BIN, "train", ...args], { gracefulStop: true });
  }
  const probe = spawnSync("mpirun", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new ExitError("--nproc-per-node: mpirun was not found; install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin)", EXIT.device);
  }
  if (!isMpiAvailable()) {
    throw new ExitError("--nproc-per-node: no MPI library could be loaded (libmpi.so.40 or libmpi.so.12); install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin)", EXIT.device);
  }
  say();
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
  /** This rank's device: cpu, or its own GPU. */
  device: string;
  /** Rank 0, under a plain mpirun that left the choice to it: which backend it chose. */
  note: string | null;
}

/**
 * Rank 0's bytes on every rank: a length, then the bytes (broadcast in place), on the group's device (NCCL's
 * collectives take CUDA tensors only).
 */
function broadcastBytes(mine: Uint8Array | null): Uint8Array {
  const device = collectiveDevice();
  const len = tensor([mine?.length ?? 0], { dtype: "float64" }).to(device);
  broadcast(len, 0);
  const n = len.item();
  // The MPI backend moves 32-bit words, not bytes: the bytes travel in an int32 buffer rounded up to 4.
  const words = new Int32Array(Math.ceil(n / 4));
  const bytes = new Uint8Array(words.buffer, 0, n);
  if (mine) bytes.set(mine);
  if (n === 0) return bytes;
  const t = fromTypedArray(words, [words.length], "int32").to(device);
  broadcast(t, 0);
  if (device !== "cpu") words.set(t.to("cpu").toTypedArray() as Int32Array);
  return bytes;
}

/**
 * Joins the process group (--dist-backend, chosen as chooseDistBackend says when not given) when this process is one
 * of several ranks, or the one rank of a launched job that names --dist-backend (`kindling train --nproc-per-node 1
 * --dist-backend nccl`, as torchrun with one process still has a group); null when it runs alone. Rank 0's options (its seed included, so a plain `mpirun` start without
 * --seed still shuffles the same way on every rank) and, with --resume, the checkpoint file rank 0 read, reach every
 * rank.
 */
export async function joinProcessGroup(cfg: { seed: number; resume?: string; device: string; distBackend?: string }): Promise<RankInfo | null> {
  const l = launched();
  if (l === null || (l.size === 1 && cfg.distBackend === undefined)) return null;
  const kind = ddpDeviceKind(cfg.device);
  const { backend, note } = chooseDistBackend(kind, cfg.distBackend);
  if (backend === "nccl") await initProcessGroup({ backend: "nccl" });
  else initProcessGroup({ backend: "mpi" });
  const rank = getRank();
  const config = JSON.parse(new TextDecoder().decode(broadcastBytes(rank === 0 ? new TextEncoder().encode(JSON.stringify(cfg)) : null))) as Record<string, unknown>;
  const lead = ddpDeviceKind(String(config.device));
  if (lead !== kind) {
    throw new ExitError(`rank ${rank} would train on ${kind === "cpu" ? "the CPU" : "CUDA"} but rank 0 on ${lead === "cpu" ? "the CPU" : "CUDA"} ` +
      `(--device ${cfg.device} here, ${String(config.device)} there): give every rank the same --device`, EXIT.usage);
  }
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
  return { rank, worldSize: getWorldSize(), seed: config.seed as number, config, resumeBytes, device: rankDevice(kind), note: rank === 0 ? note : null };
}
