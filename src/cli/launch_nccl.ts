// `kindling launch --backend nccl`: torchrun's way, without mpirun. Each node runs its own launch, which starts the
// node's N processes with torchrun's variables, watches them, and stops the rest when one fails (SIGTERM, then
// SIGKILL after a grace period). Output is not prefixed: torchrun inherits the workers' stdio unless told to tee.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { constants } from "node:os";
import { UsageError } from "./args.js";
import { scanLaunchOptions } from "./launch_options.js";

export interface NcclRank {
  rank: number;
  localRank: number;
  /** The variables this process gets on top of launch's own environment. */
  env: Record<string, string>;
}

export interface NcclLaunchPlan {
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  /** null: single node and no --master-port, so launch picks a free port when it starts. */
  masterPort: number | null;
  script: string[];
  dryRun: boolean;
}

const DEFAULT_PORT = 29500;
/** How long the other ranks get to exit after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 5_000;
// Variables an outer MPI launcher may have left: a child that saw them would take them for its own rank and size.
const MPI_RANK_VARS = ["OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_RANK", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALRANKID"];

/** Parses launch's options for the NCCL backend (everything from the script path on belongs to the script). */
export function planNcclLaunch(argv: readonly string[]): NcclLaunchPlan {
  const { nproc, nnodes, nodeRank, masterAddr, masterPort, dryRun, script } = scanLaunchOptions(argv, "kindling launch --backend nccl --nproc-per-node N script.js", (flag) => {
    if (flag === "--hosts" || flag === "--hostfile" || flag === "--mpirun") {
      throw new UsageError(`kindling launch: ${flag} is for --backend mpi; with --backend nccl run kindling launch on every node ` +
        "with its own --node-rank and the same --master-addr");
    }
    return false;
  });
  if (nnodes > 1 && masterAddr === null) {
    throw new UsageError(`kindling launch: --nnodes ${nnodes} needs --master-addr: node 0's address, the same on every node ` +
      "(rank 0's rendezvous store listens there)");
  }
  return { nproc, nnodes, nodeRank, masterAddr: masterAddr ?? "127.0.0.1", masterPort: nnodes === 1 ? masterPort : masterPort ?? DEFAULT_PORT, script, dryRun };
}

/** torchrun's variables for each of this node's processes. */
export function ncclRanks(plan: NcclLaunchPlan, masterPort: number): NcclRank[] {
  return Array.from({ length: plan.nproc }, (_, localRank) => {
    const rank = plan.nodeRank * plan.nproc + localRank;
    return {
      rank,
      localRank,
      env: {
        RANK: String(rank),
        LOCAL_RANK: String(localRank),
        WORLD_SIZE: String(plan.nnodes * plan.nproc),
        LOCAL_WORLD_SIZE: String(plan.nproc),
        GROUP_RANK: String(plan.nodeRank),
        MASTER_ADDR: plan.masterAddr,
        MASTER_PORT: String(masterPort),
      },
    };
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function describe(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** The exit statuses of a process that stopped by itself on SIGHUP, SIGINT or SIGTERM (kindling train saves first). */
const STOPPED_CODES = new Set(["SIGHUP", "SIGINT", "SIGTERM"].map((s) => 128 + constants.signals[s as NodeJS.Signals]));

/**
 * Starts this node's processes and waits for them; resolves to launch's exit status. `gracefulStop`: the processes
 * stop by themselves on a signal (kindling train: every rank agrees on the step to stop after). They then run in a
 * session of their own, so a terminal's Ctrl-C or hang-up reaches them once, forwarded by launch (in the terminal's
 * process group they would get it twice, and a second signal means "quit now"); and a rank that exits with 128 +
 * SIGHUP/SIGINT/SIGTERM stopped rather than failed: the others stop after the same step on their own.
 */
export async function runNcclLaunch(plan: NcclLaunchPlan, opts: { gracefulStop?: boolean } = {}): Promise<number> {
  const port = plan.masterPort ?? (plan.dryRun ? DEFAULT_PORT : await freePort());
  const ranks = ncclRanks(plan, port);
  if (plan.dryRun) {
    for (const r of ranks) {
      const vars = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
      process.stdout.write(`${[...vars, process.execPath, ...plan.script].join(" ")}\n`);
    }
    return 0;
  }
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of MPI_RANK_VARS) delete base[k];
  const children = new Map<number, ChildProcess>();
  let failure: { rank: number; status: number } | null = null;
  let stopSignal: "SIGINT" | "SIGTERM" | "SIGHUP" | null = null;
  let stoppedCode: number | null = null;
  let killTimer: NodeJS.Timeout | null = null;

  const stopAll = (sig: NodeJS.Signals) => {
    for (const c of children.values()) c.kill(sig);
    killTimer ??= setTimeout(() => {
      for (const c of children.values()) c.kill("SIGKILL");
    }, STOP_GRACE_MS);
    killTimer.unref();
  };

  const done = new Promise<void>((resolve) => {
    for (const r of ranks) {
      const child = spawn(process.execPath, plan.script, { stdio: "inherit", env: { ...base, ...r.env }, detached: opts.gracefulStop === true });
      children.set(r.rank, child);
      child.on("error", (e) => {
        process.stderr.write(`kindling launch: rank ${r.rank} could not start: ${e.message}\n`);
      });
      child.on("close", (code, signal) => {
        children.delete(r.rank);
        const stopped = opts.gracefulStop === true && code !== null && STOPPED_CODES.has(code);
        if (stopped) stoppedCode ??= code;
        const failed = signal !== null || (code !== 0 && !stopped);
        if (failed && failure === null && stopSignal === null) {
          failure = { rank: r.rank, status: code ?? 128 + (constants.signals[signal!] ?? 0) };
          process.stderr.write(`kindling launch: rank ${r.rank} (local rank ${r.localRank} on node ${plan.nodeRank}) ` +
            `${describe(code, signal)}; stopping the other ${children.size} process(es)\n`);
          stopAll("SIGTERM");
        }
        if (children.size === 0) resolve();
      });
    }
  });

  // The first SIGINT/SIGTERM is passed on for the ranks to stop by themselves; a second one kills them.
  const forward = (sig: "SIGINT" | "SIGTERM" | "SIGHUP") => () => {
    if (stopSignal === null) {
      stopSignal = sig;
      for (const c of children.values()) c.kill(sig);
    } else stopAll("SIGKILL");
  };
  // Processes in their own session no longer hear the terminal hang up: launch passes SIGHUP on too.
  const handlers = { SIGINT: forward("SIGINT"), SIGTERM: forward("SIGTERM"), SIGHUP: opts.gracefulStop ? forward("SIGHUP") : null };
  for (const [sig, h] of Object.entries(handlers)) if (h) process.on(sig, h);
  // Processes of their own session outlive launch unless it ends them: a launch that exits early (an error) does.
  const orphans = (): void => void children.forEach((c) => c.kill("SIGKILL"));
  process.on("exit", orphans);
  try {
    await done;
  } finally {
    for (const [sig, h] of Object.entries(handlers)) if (h) process.off(sig, h);
    process.off("exit", orphans);
    if (killTimer) clearTimeout(killTimer);
  }
  const failed = failure as { rank: number; status: number } | null; // set in the close handlers
  if (failed) return failed.status === 0 ? 1 : failed.status;
  const stopped = stopSignal as "SIGINT" | "SIGTERM" | "SIGHUP" | null;
  if (stopped) return 128 + constants.signals[stopped];
  return (stoppedCode as number | null) ?? 0;
}
