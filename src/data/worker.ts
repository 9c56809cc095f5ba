// The DataLoader worker thread: rebuilds the dataset from its WorkerSpec, then turns tasks (runs
// of batches, each with its own seed) into packed batches. Every failure is caught and reported
// with the sample index, so the main thread never waits on a worker that died silently.

import { workerData, type MessagePort } from "node:worker_threads";
import { setNumThreads } from "../backends/host/cpu_device.js";
import { defaultGenerator } from "../tensor/random.js";
import { defaultCollate } from "./collate.js";
import type { Dataset, WorkerSpec } from "./dataset.js";
import { pack } from "./pack.js";
import { rebuildDataset } from "./rebuild.js";

export interface WorkerInit {
  port: MessagePort;
  signal: SharedArrayBuffer;
  spec: WorkerSpec;
  /** Collate in the worker (default collate); false: send the samples as a list. */
  collate: boolean;
  workerId: number;
}

export interface Task {
  id: number;
  batches: number[][];
  seeds: number[];
}

export type WorkerMessage =
  | { type: "result"; id: number; worker: number; batches: unknown[]; sizes?: number[] }
  | { type: "error"; id: number; worker: number; message: string; stack?: string; index?: number; batch?: number };

// Data workers run one sample pipeline each; a native thread pool per worker would only oversubscribe the CPU.
setNumThreads(1);

const init = workerData as WorkerInit;
const signal = new Int32Array(init.signal);

function post(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  init.port.postMessage(msg, transfer);
  // Wake a main thread blocked in Atomics.wait (synchronous iteration).
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

let dataset: Dataset<unknown> | null = null;
let initError: Error | null = null;
const ready = rebuildDataset(init.spec).then(
  (d) => void (dataset = d),
  (e: Error) => void (initError = e),
);

/**
 * Datasets with a batch fast path build the whole task as one batch (one seed per task) and send
 * one set of buffers; the main thread cuts it into the batches. Many small batches would otherwise
 * cost a message buffer each.
 */
function runWholeTask(task: Task): boolean {
  const ds = dataset!;
  if (!init.collate || !ds.getBatch) return false;
  defaultGenerator.manualSeed(task.seeds[0]!);
  let whole: unknown;
  try {
    whole = ds.getBatch(task.batches.flat());
  } catch (e) {
    const err = e as Error;
    post({ type: "error", id: task.id, worker: init.workerId, message: err?.message ?? String(e), stack: err?.stack });
    return true;
  }
  if (whole === null || whole === undefined) return false;
  const transfer = new Set<ArrayBuffer>();
  const packed = pack(whole, transfer);
  post({ type: "result", id: task.id, worker: init.workerId, batches: [packed], sizes: task.batches.map((b) => b.length) }, [...transfer]);
  return true;
}

function runTask(task: Task): void {
  if (runWholeTask(task)) return;
  const ds = dataset!;
  const out: unknown[] = [];
  const transfer = new Set<ArrayBuffer>();
  for (let b = 0; b < task.batches.length; b++) {
    const indices = task.batches[b]!;
    defaultGenerator.manualSeed(task.seeds[b]!);
    let current: number | undefined;
    try {
      let batch: unknown = null;
      if (init.collate && ds.getBatch) batch = ds.getBatch(indices);
      if (batch === null || batch === undefined) {
        const samples = indices.map((i) => {
          current = i;
          return ds.get(i);
        });
        current = undefined;
        batch = init.collate ? defaultCollate(samples) : samples;
      }
      out.push(pack(batch, transfer));
    } catch (e) {
      const err = e as Error;
      post({
        type: "error", id: task.id, worker: init.workerId, message: err?.message ?? String(e), stack: err?.stack,
        index: current, batch: b,
      });
      return;
    }
  }
  post({ type: "result", id: task.id, worker: init.workerId, batches: out }, [...transfer]);
}

init.port.on("message", (task: Task) => {
  void ready.then(() => {
    if (initError) {
      post({ type: "error", id: task.id, worker: init.workerId, message: `could not rebuild the dataset: ${initError.message}`, stack: initError.stack });
      return;
    }
    runTask(task);
  });
});
