// Datasets for the DataLoader tests that worker threads can rebuild (they import this module by URL,
// so it must not register tests itself).
import { isMainThread, threadId } from "node:worker_threads";
import { Dataset, type WorkerSpec } from "../../src/data/dataset.js";
import { fromTypedArray } from "../../src/tensor/create.js";
import { defaultGenerator } from "../../src/tensor/random.js";
import type { Tensor } from "../../src/tensor/tensor.js";

/** Sample i is [tensor [i, i+0.5] float32, label i % 3]; throws at `failAt`; with `noisy`, adds a random draw. */
export class CountingDataset extends Dataset<[Tensor, number]> {
  constructor(readonly n: number, readonly failAt = -1, readonly noisy = false) {
    super();
  }
  get length(): number {
    return this.n;
  }
  get(i: number): [Tensor, number] {
    if (i === this.failAt) throw new Error(`boom at ${i}`);
    const r = this.noisy ? defaultGenerator.random() : 0;
    return [fromTypedArray(Float32Array.from([i, i + 0.5 + r]), [2], "float32"), i % 3];
  }
  override workerSpec(): WorkerSpec {
    return { module: import.meta.url, export: "CountingDataset", args: [this.n, this.failAt, this.noisy] };
  }
}

/** A dataset without workerSpec: numWorkers > 0 copies it into the workers. */
export class LocalOnlyDataset extends Dataset<number> {
  get length(): number {
    return 4;
  }
  get(i: number): number {
    return i;
  }
}

/** Its workerSpec names a module that does not exist: the worker must report, not hang. */
export class BrokenSpecDataset extends LocalOnlyDataset {
  override workerSpec(): WorkerSpec {
    return { module: new URL("./no_such_module.js", import.meta.url).href, export: "Nope", args: [] };
  }
}

/** Throws from a timer inside the worker: an exception outside any task. */
export class StrayThrowDataset extends CountingDataset {
  private armed = true;
  override get(i: number): [Tensor, number] {
    // Fires right after the first task's result went out, before the worker takes its next task. (A timer could
    // wait until the worker had drained every queued task, and the epoch would end without the crash being seen.)
    if (this.armed) {
      this.armed = false;
      process.nextTick(() => {
        throw new Error("stray callback failed");
      });
    }
    return super.get(i);
  }
  override workerSpec(): WorkerSpec {
    return { module: import.meta.url, export: "StrayThrowDataset", args: [this.n] };
  }
}

/** Sample i is [i, threadId of the thread that built it]: shows which worker threads served an epoch. */
export class ThreadTagDataset extends Dataset<[number, number]> {
  constructor(readonly n: number, readonly tag = 0) {
    super();
  }
  get length(): number {
    return this.n;
  }
  get(i: number): [number, number] {
    return [i + this.tag, threadId];
  }
  override workerSpec(): WorkerSpec {
    return { module: import.meta.url, export: "ThreadTagDataset", args: [this.n, this.tag] };
  }
}

/** In a worker thread, sample `exitAt` calls process.exit(3): dataset code that ends the worker's thread. */
export class ExitingDataset extends CountingDataset {
  constructor(n: number, readonly exitAt: number) {
    super(n);
  }
  override get(i: number): [Tensor, number] {
    if (i === this.exitAt && !isMainThread) process.exit(3);
    return super.get(i);
  }
  override workerSpec(): WorkerSpec {
    return { module: import.meta.url, export: "ExitingDataset", args: [this.n, this.exitAt] };
  }
}

/** Sample `slowAt` blocks its thread for `ms` milliseconds: a worker that stops answering. */
export class SlowDataset extends CountingDataset {
  constructor(n: number, readonly slowAt: number, readonly ms: number) {
    super(n);
  }
  override get(i: number): [Tensor, number] {
    if (i === this.slowAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.ms);
    return super.get(i);
  }
  override workerSpec(): WorkerSpec {
    return { module: import.meta.url, export: "SlowDataset", args: [this.n, this.slowAt, this.ms] };
  }
}

/** Sample i is [i, whether a module preloaded with --import ran in this thread (it sets globalThis.kindlingPreloaded)]. */
export class PreloadProbeDataset extends ThreadTagDataset {
  override get(i: number): [number, number] {
    return [i, (globalThis as { kindlingPreloaded?: boolean }).kindlingPreloaded === true ? 1 : 0];
  }
  override workerSpec(): WorkerSpec {
    return { module: import.meta.url, export: "PreloadProbeDataset", args: [this.n] };
  }
}
