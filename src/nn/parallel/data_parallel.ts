// nn.DataParallel: PyTorch's one-process form. On the CPU (one device) it is transparent, as PyTorch's is when no
// GPU is visible: forward is the wrapped module's, and state dict keys gain the "module." prefix.
import { Module } from "../module.js";

export interface DataParallelOptions {
  /** Devices to scatter over; only the CPU exists for now, so null, omitted, or ["cpu"]. */
  deviceIds?: readonly string[] | null;
  outputDevice?: string | null;
  dim?: number;
}

export class DataParallel<M extends Module = Module> extends Module {
  declare module: M;
  constructor(module: M, opts: DataParallelOptions = {}) {
    super();
    const ids = opts.deviceIds ?? null;
    if (ids && ids.some((d) => d !== "cpu")) {
      throw new Error(`DataParallel: only the CPU is available, got deviceIds ${JSON.stringify(ids)} (multi-GPU ` +
        "scatter/replicate/gather needs the CUDA backend)");
    }
    this.module = module;
  }
  forward(...args: unknown[]): unknown {
    return this.module.forward(...args);
  }
}
