// `kindling launch --nproc-per-node N script.js [args]`: torchrun's job for the MPI backend. It starts the N processes
// through mpirun, which already watches them and stops the rest when one fails; launch adds the flags this machine
// needs (root, more ranks than cores), passes signals on, and exits with mpirun's status.
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { UsageError } from "./args.js";

export const LAUNCH_USAGE = `Usage: kindling launch --nproc-per-node N [--mpirun PATH] [--dry-run] script.js [script args]

Starts N copies of a Node script as one MPI job (mpirun -np N node script.js ...); inside it,
torch.distributed.initProcessGroup({ backend: "mpi" }) finds its rank and world size. If one process fails, mpirun
stops the others, and launch exits non-zero.

  --nproc-per-node N   processes to start on this machine (required)
  --mpirun PATH        the mpirun to use (default: mpirun on PATH)
  --dry-run            print the mpirun command instead of running it
`;

export interface LaunchPlan {
  command: string;
  args: string[];
}

/** Parses launch's own options (everything from the script path on belongs to the script). */
export function planLaunch(argv: readonly string[], env: { isRoot: boolean; cores: number; flavour: "openmpi" | "other" }): LaunchPlan & { dryRun: boolean } {
  let nproc: number | null = null;
  let mpirun = "mpirun";
  let dryRun = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("--")) break;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`kindling launch: ${flag} needs a value`);
      return v;
    };
    if (flag === "--nproc-per-node" || flag === "--nproc_per_node") {
      const v = value();
      nproc = Number(v);
      if (!Number.isInteger(nproc) || nproc < 1) throw new UsageError(`kindling launch: --nproc-per-node must be a positive integer, got '${v}'`);
    } else if (flag === "--mpirun") mpirun = value();
    else if (flag === "--dry-run") dryRun = true;
    else throw new UsageError(`kindling launch: unknown option '${flag}' (options go before the script)`);
  }
  if (nproc === null) throw new UsageError("kindling launch: --nproc-per-node N is required");
  const script = argv.slice(i);
  if (script.length === 0) throw new UsageError("kindling launch: no script given (kindling launch --nproc-per-node N script.js)");
  const args = ["-np", String(nproc)];
  if (env.flavour === "openmpi") {
    if (env.isRoot) args.push("--allow-run-as-root");
    if (nproc > env.cores) args.push("--oversubscribe");
  }
  return { command: mpirun, args: [...args, process.execPath, ...script], dryRun };
}

function flavourOf(mpirun: string): "openmpi" | "other" | null {
  const r = spawnSync(mpirun, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return null;
  return /Open MPI|OpenRTE/.test(r.stdout + r.stderr) ? "openmpi" : "other";
}

export async function launchCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(LAUNCH_USAGE);
    return 0;
  }
  const mpirunArg = argv.findIndex((a) => a === "--mpirun");
  const mpirun = mpirunArg >= 0 ? argv[mpirunArg + 1] ?? "mpirun" : "mpirun";
  const flavour = flavourOf(mpirun);
  const plan = planLaunch(argv, { isRoot: process.getuid?.() === 0, cores: availableParallelism(), flavour: flavour ?? "other" });
  if (plan.dryRun) {
    process.stdout.write(`${[plan.command, ...plan.args].join(" ")}\n`);
    return 0;
  }
  if (flavour === null) {
    process.stderr.write(`kindling launch: '${mpirun}' was not found or does not run; install Open MPI ` +
      "(Debian/Ubuntu: apt-get install openmpi-bin) or pass --mpirun PATH\n");
    return 1;
  }
  const child = spawn(plan.command, plan.args, { stdio: "inherit" });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    return await new Promise<number>((resolve) => {
      child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : 1)));
    });
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
