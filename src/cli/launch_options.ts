// The options both of launch's backends read (torchrun's names, also in torchrun's underscore spelling): one scan up
// to the script, so the MPI and NCCL launchers agree on syntax, ranges and messages. A backend's own options go to
// its `extra` callback, which returns false for a flag it does not know.
import { UsageError } from "./args.js";

export interface CommonLaunchOptions {
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string | null;
  masterPort: number | null;
  dryRun: boolean;
  /** The script and its arguments (everything from the first non-option, or after `--`). */
  script: string[];
}

function integer(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`kindling launch: ${flag} must be ${min === 0 ? "a non-negative" : "a positive"} integer, got '${v}'`);
  return n;
}

export function scanLaunchOptions(
  argv: readonly string[],
  usage: string,
  extra: (flag: string, value: () => string) => boolean,
): CommonLaunchOptions {
  let nproc: number | null = null;
  let nnodes = 1;
  let nodeRank = 0;
  let masterAddr: string | null = null;
  let masterPort: number | null = null;
  let dryRun = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("--")) break;
    const [raw, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const flag = raw.replace(/_/g, "-"); // torchrun spells them --nproc_per_node, --node_rank, ...
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`kindling launch: ${flag} needs a value`);
      return v;
    };
    if (flag === "--nproc-per-node") nproc = integer(flag, value(), 1);
    else if (flag === "--nnodes") nnodes = integer(flag, value(), 1);
    else if (flag === "--node-rank") nodeRank = integer(flag, value(), 0);
    else if (flag === "--master-addr") masterAddr = value();
    else if (flag === "--master-port") {
      masterPort = integer(flag, value(), 1);
      if (masterPort > 65535) throw new UsageError(`kindling launch: --master-port must be 1..65535, got ${masterPort}`);
    } else if (flag === "--dry-run") dryRun = true;
    else if (!extra(flag, value)) throw new UsageError(`kindling launch: unknown option '${flag}' (options go before the script)`);
  }
  if (nproc === null) throw new UsageError("kindling launch: --nproc-per-node N is required");
  const script = argv.slice(i);
  if (script.length === 0) throw new UsageError(`kindling launch: no script given (${usage})`);
  if (nodeRank >= nnodes) throw new UsageError(`kindling launch: --node-rank ${nodeRank} is not below --nnodes ${nnodes}`);
  return { nproc, nnodes, nodeRank, masterAddr, masterPort, dryRun, script };
}
