// Stopping a data-parallel run cleanly. A rank that stopped on its own would leave the others waiting in the next
// gradient all-reduce, so every rank shares its stop request each step (one all-reduce of a signal number, max) and
// all of them stop after the same step. mpirun answers SIGINT/SIGTERM by killing the ranks within a second, too soon
// to finish a step and save, but forwards SIGUSR1 and SIGUSR2 to every rank as they are: the launcher (and a user of
// a plain mpirun: `kill -USR1 <mpirun pid>`) sends those instead, and a rank reads them as SIGINT and SIGTERM.
import * as os from "node:os";
import { allReduce } from "../distributed/index.js";
import { tensor } from "../tensor/create.js";
import { collectiveDevice } from "./ddp_backend.js";

/** What the launcher sends mpirun for each stop signal it receives. */
export const FORWARDED_AS: Readonly<Record<"SIGINT" | "SIGTERM" | "SIGHUP", NodeJS.Signals>> = {
  SIGINT: "SIGUSR1",
  SIGTERM: "SIGUSR2",
  // mpirun has no third signal it forwards; a hang-up stops the ranks as SIGTERM would.
  SIGHUP: "SIGUSR2",
};

/** The stop signal a rank reads a forwarded signal as. */
export const RANK_STOP_SIGNALS: Readonly<Record<string, NodeJS.Signals>> = { SIGUSR1: "SIGINT", SIGUSR2: "SIGTERM" };

const number = (sig: NodeJS.Signals | null): number => (sig === null ? 0 : os.constants.signals[sig] ?? 0);

function named(n: number): NodeJS.Signals | null {
  if (n === 0) return null;
  const hit = (Object.entries(os.constants.signals) as [NodeJS.Signals, number][]).find(([, v]) => v === n);
  return hit ? hit[0] : "SIGINT";
}

/**
 * Every rank's answer to "stop now?": the request of any rank (the highest signal number when several differ), or
 * null when none asked. A collective: every rank must call it at the same point of the same step.
 */
export function agreeOnStop(mine: NodeJS.Signals | null): NodeJS.Signals | null {
  // On the NCCL group the flag travels on the rank's GPU: NCCL reduces device memory only.
  const flag = tensor([number(mine)], { dtype: "int32" }).to(collectiveDevice());
  allReduce(flag, { op: "max" });
  return named(flag.item());
}
