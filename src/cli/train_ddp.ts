// `kindling train` data-parallel: --nproc-per-node N re-runs the command as N MPI ranks through `kindling launch`'s
// code; each rank (also under a plain `mpirun`) joins the process group here before training.

import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { broadcast, getRank, getWorldSize, initProcessGroup, isMpiAvailable, launcherEnvironment } from "../distributed/index.js";
import { tensor } from "../tensor/create.js";
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
  if (opts.resume !== undefined) {
    throw new ExitError("--resume cannot be combined with --nproc-per-node yet; resume the run in one process (without --nproc-per-node)", EXIT.usage);
  }
  const probe = spawnSync("mpirun", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new ExitError("--nproc-per-node: mpirun was not found; install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin)", EXIT.device);
  }
  if (!isMpiAvailable()) {
    throw new ExitError("--nproc-per-node: no MPI library could be loaded (libmpi.so.40 or libmpi.so.12); install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin)", EXIT.device);
  }
  const args = withoutNproc(argv);
  if (opts.seed === undefined) args.push("--seed", String(Math.floor(Math.random() * 2 ** 31)));
  return launchCommand(["--nproc-per-node", String(opts.nproc), "--", BIN, "train", ...args]);
}

export interface RankInfo {
  rank: number;
  worldSize: number;
  /** The seed every rank uses: rank 0's. */
  seed: number;
}

/**
 * Joins the MPI process group when this process is one of several ranks; null when it runs alone. The seed is taken
 * from rank 0 so that a plain `mpirun` start without --seed still shuffles the same way on every rank.
 */
export function joinProcessGroup(cfg: { seed: number; resume?: string; device: string }): RankInfo | null {
  if (launchedRank() === null) return null;
  if (cfg.resume !== undefined) {
    throw new ExitError("--resume is not supported in a data-parallel run yet; resume the run in one process", EXIT.usage);
  }
  if (cfg.device !== "cpu") {
    throw new ExitError(`--device ${cfg.device}: data-parallel training runs on the CPU (MPI backend) only; use --device cpu`, EXIT.device);
  }
  initProcessGroup({ backend: "mpi" });
  const seed = tensor([cfg.seed], { dtype: "float64" });
  broadcast(seed, 0);
  return { rank: getRank(), worldSize: getWorldSize(), seed: seed.item() };
}
