// `kindling launch --nproc-per-node N script.js [args]`: torchrun's job for the MPI backend. It starts the N processes
// through mpirun, which already watches them and stops the rest when one fails; launch adds the flags this machine
// needs (root, more ranks than cores), passes signals on, and exits with mpirun's status.
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism, constants } from "node:os";
import { UsageError } from "./args.js";
import { FORWARDED_AS, RANK_STOP_SIGNALS } from "./ddp_stop.js";
import { scanLaunchOptions } from "./launch_options.js";

export const LAUNCH_USAGE = `Usage: kindling launch [--backend mpi] --nproc-per-node N [--nnodes M --hosts H1,H2,... | --hostfile FILE]
                      [--node-rank R] [--master-addr ADDR] [--master-port PORT] [--mpirun PATH] [--dry-run]
                      script.js [script args]
       kindling launch --backend nccl --nproc-per-node N [--nnodes M --node-rank R --master-addr ADDR]
                      [--master-port PORT] [--dry-run] script.js [script args]

Starts N copies of a Node script per node as one MPI job (mpirun -np N node script.js ...); inside it,
torch.distributed.initProcessGroup({ backend: "mpi" }) finds its rank and world size. If one process fails, mpirun
stops the others, and launch exits non-zero.

  --nproc-per-node N   processes to start on each node (required)
  --nnodes M           nodes in the job (default 1). MPI starts every node's processes from one place: run
                       kindling launch on node 0 only, naming the nodes with --hosts or --hostfile; mpirun reaches
                       the others over ssh (the script and kindling must be at the same path there)
  --hosts H1,H2,...    the M nodes' host names, node 0 first (mpirun --host H1:N,H2:N)
  --hostfile FILE      an MPI hostfile instead of --hosts (mpirun --hostfile FILE)
  --node-rank R        this node's index (torchrun's option): anything but 0 is refused with what to run instead
  --master-addr ADDR   exported to every process as MASTER_ADDR (default: the first host, else 127.0.0.1), where
                       torch.distributed.rendezvous() finds rank 0's TCPStore
  --master-port PORT   exported as MASTER_PORT (default 29500)
  --mpirun PATH        the mpirun to use (default: mpirun on PATH)
  --dry-run            print the mpirun command instead of running it

--backend nccl (torchrun's way, no mpirun): launch itself starts the node's N processes with RANK
(= node rank * N + local rank), LOCAL_RANK, WORLD_SIZE (= M * N), LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and
MASTER_PORT set, for initProcessGroup({ backend: "nccl" }). Run it on every node, each with its own --node-rank.
If a process exits non-zero or is killed, launch names its rank, stops the others (SIGTERM, then SIGKILL after
5 s) and exits with that process's status; SIGINT/SIGTERM are passed on to the processes.
  --nnodes M           nodes in the job (default 1); with M > 1, --master-addr is required
  --node-rank R        this node's index, 0..M-1 (default 0)
  --master-addr ADDR   node 0's address, the same on every node (default 127.0.0.1)
  --master-port PORT   rank 0's rendezvous port (default 29500; a free port on a single node)
  --dry-run            print each process's variables and command instead of running them
`;

/** Takes --backend out of launch's options (before the script); the rest is the backend's to parse. */
export function splitBackend(argv: readonly string[]): { backend: "mpi" | "nccl"; rest: string[] } {
  const rest: string[] = [];
  let backend: string = "mpi";
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--" || !a.startsWith("--")) break;
    if (a === "--backend" || a.startsWith("--backend=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v === undefined) throw new UsageError("kindling launch: --backend needs a value (mpi or nccl)");
      backend = v;
    } else {
      rest.push(a);
      // Every other option but --dry-run takes a value, which may look like anything.
      if (!a.includes("=") && a !== "--dry-run" && a !== "--dry_run" && i + 1 < argv.length) rest.push(argv[++i]!);
    }
  }
  if (backend !== "mpi" && backend !== "nccl") {
    throw new UsageError(`kindling launch: --backend must be mpi or nccl, got '${backend}'`);
  }
  return { backend, rest: [...rest, ...argv.slice(i)] };
}

export interface LaunchPlan {
  command: string;
  args: string[];
}

/** Parses launch's own options (everything from the script path on belongs to the script). */
export function planLaunch(argv: readonly string[], env: { isRoot: boolean; cores: number; flavour: "openmpi" | "other" }): LaunchPlan & { dryRun: boolean } {
  // Held in an object: TypeScript does not see assignments made inside the callback.
  const own: { hosts: string[] | null; hostfile: string | null; mpirun: string } = { hosts: null, hostfile: null, mpirun: "mpirun" };
  const { nproc, nnodes, nodeRank, masterAddr, masterPort, dryRun, script } = scanLaunchOptions(argv, "kindling launch --nproc-per-node N script.js", (flag, value) => {
    if (flag === "--hosts") own.hosts = value().split(",").map((h) => h.trim()).filter((h) => h.length > 0);
    else if (flag === "--hostfile") own.hostfile = value();
    else if (flag === "--mpirun") own.mpirun = value();
    else return false;
    return true;
  });
  const { hosts, hostfile, mpirun } = own;
  if (nodeRank > 0) {
    throw new UsageError(
      `kindling launch: --node-rank ${nodeRank}: with MPI, one mpirun on node 0 starts the processes of every node (over ssh), ` +
        `so nothing is run on the other nodes: on node 0 run kindling launch --nnodes ${nnodes} --nproc-per-node ${nproc} ` +
        `--hosts NODE0,NODE1,... ${script.join(" ")}`,
    );
  }
  if (hosts && hostfile) throw new UsageError("kindling launch: give --hosts or --hostfile, not both");
  if (hosts && hosts.length !== nnodes) {
    throw new UsageError(`kindling launch: --hosts names ${hosts.length} node(s) but --nnodes is ${nnodes}`);
  }
  if (nnodes > 1 && !hosts && !hostfile) {
    throw new UsageError(
      `kindling launch: --nnodes ${nnodes} needs the nodes for mpirun: --hosts NODE0,NODE1,... (node 0 first) or --hostfile FILE`,
    );
  }
  const args = ["-np", String(nproc * nnodes)];
  // Open MPI: --host H:N / --hostfile; MPICH's Hydra: -hosts H:N / -f.
  const ompi = env.flavour === "openmpi";
  if (hosts) args.push(ompi ? "--host" : "-hosts", hosts.map((h) => `${h}:${nproc}`).join(","));
  if (hostfile) args.push(ompi ? "--hostfile" : "-f", hostfile);
  if (nnodes > 1 && env.flavour === "openmpi") args.push("--map-by", `ppr:${nproc}:node`);
  if (env.flavour === "openmpi") {
    if (env.isRoot) args.push("--allow-run-as-root");
    if (nnodes === 1 && nproc > env.cores) args.push("--oversubscribe");
  }
  if (masterAddr !== null || masterPort !== null || nnodes > 1) {
    const vars = [`MASTER_ADDR=${masterAddr ?? hosts?.[0] ?? "127.0.0.1"}`, `MASTER_PORT=${masterPort ?? 29500}`];
    // Open MPI exports with -x NAME=VALUE; MPICH's Hydra (and Intel MPI) with -genv NAME VALUE.
    for (const v of vars) {
      if (env.flavour === "openmpi") args.push("-x", v);
      else args.push("-genv", v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1));
    }
  }
  return { command: mpirun, args: [...args, process.execPath, ...script], dryRun };
}

function flavourOf(mpirun: string): "openmpi" | "other" | null {
  const r = spawnSync(mpirun, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return null;
  return /Open MPI|OpenRTE/.test(r.stdout + r.stderr) ? "openmpi" : "other";
}

/**
 * `gracefulStop`: the ranks stop by themselves on a signal (kindling train does): the first SIGINT, SIGTERM or SIGHUP
 * reaches them as the signal mpirun forwards (ddp_stop.ts), and the launcher exits with 128 + its own signal's
 * number once they have; a second one stops the job at once.
 */
export async function launchCommand(argv: readonly string[], opts: { gracefulStop?: boolean } = {}): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(LAUNCH_USAGE);
    return 0;
  }
  const split = splitBackend(argv);
  if (split.backend === "nccl") {
    const { planNcclLaunch, runNcclLaunch } = await import("./launch_nccl.js");
    return runNcclLaunch(planNcclLaunch(split.rest), { gracefulStop: opts.gracefulStop });
  }
  argv = split.rest;
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
  let stopping: "SIGINT" | "SIGTERM" | "SIGHUP" | null = null;
  const forward = (sig: "SIGINT" | "SIGTERM" | "SIGHUP") => () => {
    if (opts.gracefulStop && stopping === null) {
      stopping = sig;
      child.kill(FORWARDED_AS[sig]);
    } else {
      child.kill(sig === "SIGHUP" ? "SIGTERM" : sig);
    }
  };
  const handlers = { SIGINT: forward("SIGINT"), SIGTERM: forward("SIGTERM"), SIGHUP: opts.gracefulStop ? forward("SIGHUP") : null };
  for (const [sig, h] of Object.entries(handlers)) if (h) process.on(sig, h);
  try {
    const code = await new Promise<number>((resolve) => {
      child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : 1)));
    });
    // The ranks saved and exited with 128 + the forwarded signal's reading; the job answers with the launcher's own.
    const rankCode = stopping ? 128 + (constants.signals[RANK_STOP_SIGNALS[FORWARDED_AS[stopping]]!] ?? 0) : null;
    return stopping && code === rankCode ? 128 + constants.signals[stopping] : code;
  } finally {
    for (const [sig, h] of Object.entries(handlers)) if (h) process.off(sig, h);
  }
}
