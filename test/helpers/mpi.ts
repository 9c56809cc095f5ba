// Whether the multi-process tests can run here: an `mpirun` on PATH and a libmpi that kindling's MPI addon loads.
import { spawnSync } from "node:child_process";
import { openMpi } from "../../src/backends/mpi/addon.js";

/** Which mpirun is on PATH ("openmpi" takes --oversubscribe), or null when there is none. */
export function mpirunFlavour(): "openmpi" | "other" | null {
  const r = spawnSync("mpirun", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return null;
  return /Open MPI|OpenRTE/.test(r.stdout + r.stderr) ? "openmpi" : "other";
}

/** Why multi-process MPI tests can't run here (one line, saying what to install), or null when they can. */
export function mpiMissing(): string | null {
  if (mpirunFlavour() === null) return "mpirun not found (Debian/Ubuntu: apt-get install openmpi-bin)";
  try {
    openMpi();
    return null;
  } catch (e) {
    return (e as Error).message.split("\n")[0]!;
  }
}
