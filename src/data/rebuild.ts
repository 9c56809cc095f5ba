// Rebuilding a dataset from its WorkerSpec inside a worker thread.
import type { Dataset, WorkerSpec } from "./dataset.js";

export async function rebuildDataset(spec: WorkerSpec): Promise<Dataset<unknown>> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const Ctor = mod[spec.export] as
    | ({ new (...args: unknown[]): Dataset<unknown> } & { fromWorkerSpec?: (...args: unknown[]) => Dataset<unknown> | Promise<Dataset<unknown>> })
    | undefined;
  if (typeof Ctor !== "function") throw new Error(`worker spec: ${spec.module} has no export '${spec.export}'`);
  return Ctor.fromWorkerSpec ? await Ctor.fromWorkerSpec(...spec.args) : new Ctor(...spec.args);
}
