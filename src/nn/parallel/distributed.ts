// nn.parallel.DistributedDataParallel: one model replica per process; parameters start equal (broadcast from rank 0),
// gradients are averaged across processes during backward (./reducer.ts), buffers follow rank 0 each forward.
import { isGradEnabled, noGrad } from "../../autograd/grad_mode.js";
import { allGatherIntoTensor, broadcast } from "../../distributed/collectives.js";
import { getBackendInfo, getRank, getWorldSize } from "../../distributed/process_group.js";
import { tensor } from "../../tensor/create.js";
import { zeros } from "../../tensor/factories.js";
import { Module } from "../module.js";
import { Reducer } from "./reducer.js";

export interface DistributedDataParallelOptions {
  /** Bucket size in MiB (default 25, as PyTorch); the first bucket is capped at 1 MiB so reduction starts early. */
  bucketCapMb?: number;
  /** Broadcast the module's buffers (BatchNorm statistics) from rank 0 before each forward (default true). */
  broadcastBuffers?: boolean;
  /** Let parameters the forward output does not use count as ready, with a zero gradient (default false). */
  findUnusedParameters?: boolean;
  /**
   * PyTorch's single-device form: [i] for a module on cuda:i (checked against where its parameters are), or null /
   * omitted, which takes the parameters' device. A CPU module takes none.
   */
  deviceIds?: readonly number[] | null;
}

export class DistributedDataParallel<M extends Module = Module> extends Module {
  declare module: M;
  readonly broadcastBuffers: boolean;
  private readonly reducer: Reducer;

  constructor(module: M, opts: DistributedDataParallelOptions = {}) {
    super();
    const worldSize = getWorldSize();
    const cap = opts.bucketCapMb ?? 25;
    if (!(cap > 0)) throw new Error(`DistributedDataParallel: bucketCapMb must be positive, got ${cap}`);
    const device = moduleDevice(module, opts.deviceIds ?? null);
    this.module = module;
    this.broadcastBuffers = opts.broadcastBuffers ?? true;
    const params = module.parameters().filter((p) => p.requiresGrad);
    if (worldSize > 1) {
      verifySameModel(module, device);
      noGrad(() => {
        for (const t of [...module.parameters(), ...module.buffers()]) broadcast(t, 0);
      });
    }
    this.reducer = new Reducer(params, cap, opts.findUnusedParameters ?? false, device);
  }

  forward(...args: unknown[]): unknown {
    const sync = isGradEnabled() && this.reducer.requireSync;
    if (sync) this.reducer.prepareForward();
    if (this.broadcastBuffers && getWorldSize() > 1) {
      noGrad(() => {
        for (const b of this.module.buffers()) broadcast(b, 0);
      });
    }
    const out = this.module.forward(...args);
    if (sync) this.reducer.markUnused(out);
    return out;
  }

  /**
   * Runs fn with gradient synchronisation off (PyTorch's `with ddp.no_sync():`): backward passes inside accumulate
   * local gradients, and the first synced backward after it averages the accumulated sum. An async fn keeps sync off
   * until its Promise settles.
   */
  noSync<T>(fn: () => T): T {
    const prev = this.reducer.requireSync;
    this.reducer.requireSync = false;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.reducer.requireSync = prev;
      throw e;
    }
    if (result instanceof Promise) {
      return result.finally(() => {
        this.reducer.requireSync = prev;
      }) as T;
    }
    this.reducer.requireSync = prev;
    return result;
  }

  /** The bucket layout (parameter counts per bucket, in launch order), for tests and tuning. */
  bucketSizes(): number[] {
    return this.reducer.buckets.map((b) => b.params.length);
  }

  /** How many buckets' all-reduces the current backward pass has started so far (0 outside backward). */
  bucketsLaunched(): number {
    return this.reducer.launched;
  }

  /** Unregisters the gradient hooks (the wrapped module trains locally again). */
  detachHooks(): void {
    this.reducer.remove();
  }
}


/**
 * PyTorch's check at construction: every rank must wrap the same model (parameter count, sizes and shapes), or the
 * bucketed all-reduces would pair unrelated gradients; a mismatch fails on every rank, naming the ranks that differ.
 */
/**
 * The one device a module's parameters and buffers live on (DDP replicates a single-device module per process), and
 * the process group's backend must reduce tensors there: NCCL takes the CUDA device it runs on, MPI takes CPU
 * tensors and stages CUDA ones through the host.
 */
function moduleDevice(module: Module, deviceIds: readonly number[] | null): string {
  const devices = [...new Set([...module.parameters(), ...module.buffers()].map((t) => t.device))];
  if (devices.length > 1) throw new Error(`DistributedDataParallel: the module's parameters and buffers must be on one device, found ${devices.join(", ")}`);
  const device = devices[0] ?? "cpu";
  if (deviceIds !== null) {
    if (deviceIds.length !== 1 || device !== `cuda:${deviceIds[0]}`) {
      throw new Error(`DistributedDataParallel: deviceIds must name the one CUDA device the module is on ([i] for cuda:i), ` +
        `got [${deviceIds.join(", ")}] for a module on ${device}; move the module first with .to("cuda:i")`);
    }
  }
  const info = getBackendInfo();
  if (info.backend === "nccl" && device !== info.device) {
    throw new Error(`DistributedDataParallel: the NCCL process group of this rank runs on ${info.device}, but the module is on ${device}; ` +
      `move it with module.to("${info.device}")`);
  }
  return device;
}

function verifySameModel(module: Module, device: string): void {
  const params = module.parameters();
  let shapeHash = 0;
  for (const p of params) for (const d of [p.shape.length, ...p.shape]) shapeHash = (shapeHash * 31 + d + 1) % 2147483647;
  const mine = [params.length, params.reduce((n, p) => n + p.numel(), 0), shapeHash];
  const all = zeros([getWorldSize(), 3], { dtype: "float64", device });
  allGatherIntoTensor(all, tensor(mine, { dtype: "float64", device }));
  const rows = all.tolist() as number[][];
  const bad = rows.findIndex((r) => r.some((v, i) => v !== rows[0]![i]));
  if (bad >= 0) {
    const say = (r: number) => `rank ${r} has ${rows[r]![0]} parameters with ${rows[r]![1]} elements`;
    throw new Error(`DistributedDataParallel expects the same model on every rank, but ${say(0)} while ${say(bad)}` +
      (rows[bad]![0] === rows[0]![0] && rows[bad]![1] === rows[0]![1] ? " (the same sizes in different shapes)" : "") +
      ` (this is rank ${getRank()})`);
  }
}
