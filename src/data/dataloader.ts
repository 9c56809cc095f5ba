// torch.utils.data.DataLoader: batches from a dataset, in the main thread or in worker threads,
// iterable with `for...of` and `for await...of`.

import { Generator, defaultGenerator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { copySpec } from "./auto_spec.js";
import { defaultCollate } from "./collate.js";
import type { Dataset, WorkerSpec } from "./dataset.js";
import { sliceBatch, unpack } from "./pack.js";
import { sameSpec } from "./same_spec.js";
import { BatchSampler, RandomSampler, SequentialSampler, type Sampler } from "./sampler.js";
import type { Task, WorkerMessage } from "./worker.js";
import { WorkerPool, type PendingWork } from "./worker_pool.js";

/**
 * The batch defaultCollate makes from samples of type T (torch's default_collate): tensors, numbers and booleans
 * become one stacked tensor, strings a list, and tuples, arrays, objects and Maps are collated field by field.
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends string
      ? string[]
      : T extends Map<infer K, infer V>
        ? Map<K, Collated<V>>
        : T extends readonly unknown[]
          ? { -readonly [K in keyof T]: Collated<T[K]> }
          : T extends object
            ? { [K in keyof T]: Collated<T[K]> }
            : unknown;

export interface DataLoaderOptions<T = unknown, B = unknown> {
  /** Samples per batch (default 1); null yields single samples without collation. */
  batchSize?: number | null;
  shuffle?: boolean;
  sampler?: Sampler;
  batchSampler?: Iterable<number[]> & { readonly length: number };
  /** Worker threads (0: load in the main thread). */
  numWorkers?: number;
  collateFn?: (batch: T[]) => B;
  pinMemory?: boolean;
  dropLast?: boolean;
  /** Milliseconds to wait for a worker's batch (0: forever). */
  timeout?: number;
  /** Drives shuffling and the per-batch seeds of workers; defaults to the global generator. */
  generator?: Generator;
  /** Tasks kept in flight per worker (default 2). */
  prefetchFactor?: number;
  /**
   * Keep the worker threads between epochs (default false, as in PyTorch). Starting workers costs
   * some 100-200 ms per epoch; call `close()` when done (unref'd workers never hold the process).
   */
  persistentWorkers?: boolean;
  /**
   * Milliseconds an epoch's iterator may sit between two `next()` calls before its workers are stopped (default
   * 10 000; 0: never). The next `next()` starts them again and re-sends the batches they held, so a slow training
   * step loses nothing; an iterator dropped without finishing (`loader[Symbol.iterator]().next()`) frees its
   * threads then, or as soon as it is garbage-collected. `return()` (a `break` out of the loop) stops them at once.
   */
  idleTimeout?: number;
}

/**
 * Samples a worker task aims for: small batches travel in groups to spread the messaging cost, but
 * large tasks mean large fresh buffers (page faults); 128-256 measured best (2048 was 4x slower).
 */
const TASK_SAMPLES = 256;
// How long a non-persistent loader keeps a finished epoch's workers for its next epoch (an evaluation pass in
// between usually takes less).
const PARK_MS = 5000;
const IDLE_MS = 10_000;

/**
 * The workers of one epoch's iterator, as its idle timer and its finalizer see them: nothing here may reference the
 * iterator, or it would never become unreachable.
 */
interface EpochWorkers {
  pool: WorkerPool | null;
  timer: ReturnType<typeof setTimeout> | null;
}

interface WorkerEpoch {
  readonly run: WorkerRun;
  readonly workers: EpochWorkers;
  done: boolean;
}

type Batches = Iterator<number[]>;

/**
 * Batches of a Dataset<T>: B is what defaultCollate makes of T (Collated<T>: a dataset of [Tensor, number] samples
 * gives [Tensor, Tensor] batches), collateFn's result when one is given, and T itself with batchSize: null.
 */
export class DataLoader<T = unknown, B = Collated<T>> implements Iterable<B>, AsyncIterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number | null;
  readonly numWorkers: number;
  readonly dropLast: boolean;
  readonly prefetchFactor: number;
  readonly pinMemory: boolean;
  readonly timeout: number;
  readonly generator: Generator | undefined;
  readonly sampler: Sampler;
  readonly batchSampler: (Iterable<number[]> & { readonly length: number }) | null;
  readonly collateFn: (batch: unknown[]) => unknown;
  readonly persistentWorkers: boolean;
  readonly idleTimeout: number;
  private readonly customCollate: boolean;
  private pool: WorkerPool | null = null;
  /** Workers of a finished epoch (non-persistent loaders), kept briefly for the next epoch of the same dataset. */
  private parked: { pool: WorkerPool; timer: ReturnType<typeof setTimeout> } | null = null;

  constructor(dataset: Dataset<T>, opts: DataLoaderOptions<T, B> & { collateFn: (batch: T[]) => B });
  constructor(dataset: Dataset<T> & Dataset<B>, opts: DataLoaderOptions<T, B> & { batchSize: null; collateFn?: undefined });
  constructor(dataset: Dataset<T>, opts?: DataLoaderOptions<T, B> & { collateFn?: undefined });
  constructor(dataset: Dataset<T>, opts: DataLoaderOptions<T, B> = {}) {
    this.dataset = dataset;
    this.numWorkers = opts.numWorkers ?? 0;
    if (!Number.isInteger(this.numWorkers) || this.numWorkers < 0) {
      throw new Error(`numWorkers option should be a non-negative integer; use numWorkers=0 to disable multiprocessing.`);
    }
    this.prefetchFactor = opts.prefetchFactor ?? 2;
    if (this.prefetchFactor < 1) throw new Error("prefetchFactor must be at least 1");
    // Accepted for PyTorch code; nothing to do: every copy to a CUDA device is staged through the device's own
    // pinned buffers and queued without waiting (see CudaDevice.upload), which is what pinned batches buy in PyTorch.
    this.pinMemory = opts.pinMemory ?? false;
    this.timeout = opts.timeout ?? 0;
    this.generator = opts.generator;
    this.dropLast = opts.dropLast ?? false;
    if (opts.sampler && opts.shuffle) throw new Error("sampler option is mutually exclusive with shuffle");
    if (opts.batchSampler) {
      if ((opts.batchSize ?? 1) !== 1 || opts.shuffle || opts.sampler || opts.dropLast) {
        throw new Error("batchSampler option is mutually exclusive with batchSize, shuffle, sampler, and dropLast");
      }
      this.batchSize = null;
    } else {
      this.batchSize = opts.batchSize === null ? null : opts.batchSize ?? 1;
    }
    this.sampler = opts.sampler ?? (opts.shuffle ? new RandomSampler(dataset, { generator: this.generator }) : new SequentialSampler(dataset));
    this.batchSampler = opts.batchSampler ?? (this.batchSize !== null ? new BatchSampler(this.sampler, this.batchSize, this.dropLast) : null);
    this.persistentWorkers = opts.persistentWorkers ?? false;
    if (this.persistentWorkers && this.numWorkers === 0) throw new Error("persistentWorkers option needs numWorkers > 0");
    this.idleTimeout = opts.idleTimeout ?? IDLE_MS;
    if (!(this.idleTimeout >= 0)) throw new Error(`idleTimeout must be a non-negative number of milliseconds (0: never), got ${opts.idleTimeout}`);
    this.customCollate = opts.collateFn !== undefined;
    this.collateFn = (opts.collateFn as ((batch: unknown[]) => unknown) | undefined) ?? defaultCollate;
  }

  /** Number of batches (samples when batchSize is null). */
  get length(): number {
    return this.batchSampler ? this.batchSampler.length : this.sampler.length;
  }

  private batchIndices(): Batches {
    if (this.batchSampler) return this.batchSampler[Symbol.iterator]();
    const it = this.sampler[Symbol.iterator]();
    return { next: () => { const r = it.next(); return r.done ? { done: true, value: undefined } : { done: false, value: [r.value] }; } };
  }

  private makeBatch(indices: number[]): unknown {
    const ds = this.dataset;
    if (this.batchSampler === null) return ds.get(indices[0]!);
    if (!this.customCollate && ds.getBatch) {
      const b = ds.getBatch(indices);
      if (b !== null && b !== undefined) return b;
    }
    return this.collateFn(indices.map((i) => ds.get(i)));
  }

  [Symbol.iterator](): Iterator<B> {
    return this.numWorkers === 0 ? this.iterMain() : this.iterWorkers();
  }

  [Symbol.asyncIterator](): AsyncIterator<B> {
    if (this.numWorkers === 0) {
      const it = this.iterMain();
      return {
        next: async () => it.next(),
        return: async (v?: unknown) => it.return?.(v as B) ?? { done: true, value: v as B },
      };
    }
    return this.iterWorkersAsync();
  }

  /**
   * One draw per epoch from the generator, before the sampler draws (PyTorch's order): workers derive
   * every batch's seed from it, and the shuffle order is the same whatever numWorkers is.
   */
  private drawBaseSeed(): number {
    return (this.generator ?? defaultGenerator).nextUint32() >>> 11;
  }

  private *iterMain(): IterableIterator<B> {
    this.drawBaseSeed();
    const batches = this.batchIndices();
    for (let r = batches.next(); !r.done; r = batches.next()) yield this.makeBatch(r.value) as B;
  }

  // ---- workers ----

  /**
   * kindling extension: start the persistent workers now rather than at the first iteration, so that their
   * start-up (each thread loads the engine and rebuilds the dataset) overlaps with the caller's other set-up
   * instead of delaying the first batch. Draws nothing from the generator; a no-op when the workers already run.
   */
  startWorkers(): void {
    if (!this.persistentWorkers) throw new Error("DataLoader.startWorkers() needs persistentWorkers: true (other loaders start their workers per epoch)");
    this.pool ??= this.newPool(this.spec());
  }

  private spec(): WorkerSpec {
    const ds = this.dataset;
    return ds.workerSpec ? ds.workerSpec() : copySpec(ds, this.numWorkers);
  }

  private newPool(spec: WorkerSpec): WorkerPool {
    return new WorkerPool(this.numWorkers, spec, this.collateInWorker());
  }

  /**
   * A pool for a new epoch. A non-persistent loader takes back the workers its previous epoch parked when the
   * dataset would be rebuilt the same: starting threads (each loads the engine and rebuilds the dataset) costs
   * 150-250 ms, as much as an epoch of CIFAR-10 takes.
   */
  private acquirePool(): WorkerPool {
    if (this.pool) return this.pool;
    const spec = this.spec();
    const parked = this.parked;
    if (parked && parked.pool.usable() && sameSpec(parked.pool.spec, spec)) {
      clearTimeout(parked.timer);
      this.parked = null;
      return parked.pool;
    }
    this.unpark();
    return this.newPool(spec);
  }

  private collateInWorker(): boolean {
    return this.batchSampler !== null && !this.customCollate;
  }

  /** A dropped iterator's workers stop when it is collected (the held value is its EpochWorkers, never itself). */
  private static readonly droppedIterators = new FinalizationRegistry<{ loader: DataLoader<unknown, unknown>; workers: EpochWorkers }>(
    ({ loader, workers }) => loader.stopIdle(workers),
  );

  private beginWorkerEpoch(): WorkerEpoch {
    const collateInWorker = this.collateInWorker();
    const base = this.drawBaseSeed();
    const pool = this.acquirePool();
    if (this.persistentWorkers) this.pool = pool;
    const perTask = this.batchSampler === null ? 1 : Math.max(1, Math.floor(TASK_SAMPLES / Math.max(1, this.batchSize ?? 1)));
    const run = new WorkerRun(pool, this.batchIndices(), base, perTask, this.prefetchFactor, collateInWorker ? null : (this as unknown as DataLoader<unknown, unknown>));
    return { run, workers: { pool, timer: null }, done: false };
  }

  /** Registers a new epoch's iterator for finalization; `it` must be the object handed to the caller. */
  private track(it: object, epoch: WorkerEpoch): void {
    DataLoader.droppedIterators.register(it, { loader: this as DataLoader<unknown, unknown>, workers: epoch.workers }, epoch.workers);
  }

  /** Before a step: disarm the idle timer, and restart workers that it stopped (re-sending what they held). */
  private resume(epoch: WorkerEpoch): WorkerPool {
    const w = epoch.workers;
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    if (w.pool) return w.pool;
    const pool = this.newPool(this.spec());
    if (this.persistentWorkers) this.pool = pool;
    w.pool = pool;
    epoch.run.revive(pool);
    return pool;
  }

  /** After a step: the workers stop if the caller takes longer than idleTimeout to ask for the next batch. */
  private pause(epoch: WorkerEpoch): void {
    if (this.idleTimeout === 0) return;
    const w = epoch.workers;
    // The callback must not capture the iterator or the epoch (see EpochWorkers).
    w.timer = setTimeout(() => this.stopIdle(w), this.idleTimeout);
    w.timer.unref();
  }

  private stopIdle(w: EpochWorkers): void {
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    const pool = w.pool;
    w.pool = null;
    if (!pool) return;
    if (this.pool === pool) this.pool = null;
    pool.close();
  }

  private endEpoch(epoch: WorkerEpoch, failed: boolean): void {
    if (epoch.done) return;
    epoch.done = true;
    const w = epoch.workers;
    DataLoader.droppedIterators.unregister(w);
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    const pool = w.pool;
    w.pool = null;
    if (pool) this.release(pool, failed);
  }

  /**
   * End an epoch's use of the pool: persistent pools stay up unless the epoch failed (or was left early); other
   * pools that finished their epoch are parked for PARK_MS, then stopped.
   */
  private release(pool: WorkerPool, failed: boolean): void {
    if (failed) {
      pool.close();
      if (this.pool === pool) this.pool = null;
    } else if (!this.persistentWorkers) {
      this.unpark();
      const timer = setTimeout(() => {
        if (this.parked?.pool === pool) this.parked = null;
        pool.close();
      }, PARK_MS);
      timer.unref();
      this.parked = { pool, timer };
    }
  }

  /** Stops the parked workers, if any. */
  private unpark(): void {
    if (!this.parked) return;
    clearTimeout(this.parked.timer);
    this.parked.pool.close();
    this.parked = null;
  }

  /** Stop the workers now: persistent ones (they would otherwise live until the process exits) and parked ones. */
  close(): void {
    this.pool?.close();
    this.pool = null;
    this.unpark();
  }

  /**
   * An epoch over workers, stepped by hand rather than by a generator: a generator left suspended (an iterator
   * dropped after one batch) would never run its cleanup, and its workers would live as long as the process.
   */
  private iterWorkers(): IterableIterator<B> {
    const epoch = this.beginWorkerEpoch();
    const it: IterableIterator<B> = {
      next: () => this.stepSync(epoch),
      return: (value?: unknown) => {
        this.endEpoch(epoch, true);
        return { done: true, value: value as B };
      },
      [Symbol.iterator]: () => it,
    };
    this.track(it, epoch);
    return it;
  }

  private iterWorkersAsync(): AsyncIterableIterator<B> {
    const epoch = this.beginWorkerEpoch();
    const it: AsyncIterableIterator<B> = {
      next: () => this.stepAsync(epoch),
      return: async (value?: unknown) => {
        this.endEpoch(epoch, true);
        return { done: true, value: value as B };
      },
      [Symbol.asyncIterator]: () => it,
    };
    this.track(it, epoch);
    return it;
  }

  private stepSync(epoch: WorkerEpoch): IteratorResult<B> {
    if (epoch.done) return { done: true, value: undefined };
    try {
      const pool = this.resume(epoch);
      const run = epoch.run;
      run.dispatch();
      if (run.finished()) {
        this.endEpoch(epoch, false);
        return { done: true, value: undefined };
      }
      let ready = run.takeReady();
      while (ready === undefined) {
        run.accept(pool.receiveSync(this.timeout, run));
        ready = run.takeReady();
      }
      this.pause(epoch);
      return { done: false, value: ready as B };
    } catch (e) {
      this.endEpoch(epoch, true);
      throw e;
    }
  }

  private async stepAsync(epoch: WorkerEpoch): Promise<IteratorResult<B>> {
    if (epoch.done) return { done: true, value: undefined };
    try {
      const pool = this.resume(epoch);
      const run = epoch.run;
      run.dispatch();
      if (run.finished()) {
        this.endEpoch(epoch, false);
        return { done: true, value: undefined };
      }
      let ready = run.takeReady();
      while (ready === undefined) {
        run.accept(await pool.receive(this.timeout, run));
        ready = run.takeReady();
      }
      this.pause(epoch);
      return { done: false, value: ready as B };
    } catch (e) {
      this.endEpoch(epoch, true);
      throw e;
    }
  }

  /** Main-thread finishing of raw samples sent by workers (custom collateFn or batchSize null). */
  finishSamples(samples: unknown[]): unknown {
    return this.batchSampler === null ? samples[0] : this.collateFn(samples);
  }
}

/** Bookkeeping of one epoch over workers: task dispatch in order, results yielded in order. */
class WorkerRun implements PendingWork {
  private nextTask: number;
  private readonly firstTask: number;
  private nextBatch = 0;
  private exhausted = false;
  private readonly inFlight: number[];
  private readonly results = new Map<number, { batches: unknown[]; sizes?: number[] }>();
  /** Each task's worker and batches (numbered from 0 in the epoch), for error messages too. */
  private readonly tasks = new Map<number, { worker: number; first: number; count: number; task: Task }>();
  private current: unknown[] = [];
  private currentPos = 0;
  /** A task built as one batch: the whole, the batch sizes, and where the next batch starts. */
  private whole: { batch: unknown; sizes: number[]; row: number } | null = null;
  private yieldTask = 0;

  constructor(
    private pool: WorkerPool,
    private readonly batches: Batches,
    private readonly baseSeed: number,
    private readonly perTask: number,
    private readonly prefetch: number,
    private readonly finisher: DataLoader<unknown, unknown> | null,
  ) {
    this.inFlight = new Array<number>(pool.size).fill(0);
    // Task ids continue across the epochs of a persistent pool.
    this.firstTask = this.nextTask = pool.taskIds;
    this.yieldTask = this.firstTask;
  }

  /** Send tasks round-robin while the next worker has room. */
  dispatch(): void {
    while (!this.exhausted) {
      const w = (this.nextTask - this.firstTask) % this.pool.size;
      if (this.inFlight[w]! >= this.prefetch) return;
      const batches: number[][] = [];
      const seeds: number[] = [];
      while (batches.length < this.perTask) {
        const r = this.batches.next();
        if (r.done) {
          this.exhausted = true;
          break;
        }
        batches.push(r.value);
        seeds.push(this.baseSeed * 2 ** 32 + this.nextBatch++);
      }
      if (batches.length === 0) return;
      const id = this.nextTask++;
      this.pool.taskIds = this.nextTask;
      const task: Task = { id, batches, seeds };
      this.tasks.set(id, { worker: w, first: this.nextBatch - batches.length, count: batches.length, task });
      this.inFlight[w]!++;
      this.pool.send(w, task);
    }
  }

  /** Continues on a fresh pool after the old one was stopped: the tasks it had not answered go out again. */
  revive(pool: WorkerPool): void {
    this.pool = pool;
    pool.taskIds = this.nextTask;
    this.inFlight.fill(0);
    for (const [id, t] of this.tasks) {
      if (this.results.has(id)) continue;
      this.inFlight[t.worker]!++;
      pool.send(t.worker, t.task);
    }
  }

  accept(m: WorkerMessage): void {
    if (m.type === "error") {
      const where = m.id < 0 ? "outside any batch" : m.index !== undefined ? `sample index ${m.index}` : "a batch";
      const err = new Error(`DataLoader worker ${m.worker}: error while loading ${where}: ${m.message}`);
      if (m.stack) err.stack = `${err.message}\n--- in the worker ---\n${m.stack}`;
      throw err;
    }
    this.results.set(m.id, { batches: m.batches, sizes: m.sizes });
    this.inFlight[this.tasks.get(m.id)!.worker]!--;
  }

  awaited(): string {
    const t = this.tasks.get(this.yieldTask);
    return t ? `${batchRange(t.first, t.count)} from worker ${t.worker}` : "a worker";
  }

  heldBy(worker: number): string {
    const held: string[] = [];
    for (const [id, t] of this.tasks) if (t.worker === worker && !this.results.has(id)) held.push(batchRange(t.first, t.count));
    return held.join(", ");
  }

  finished(): boolean {
    return this.exhausted && this.yieldTask === this.nextTask && this.currentPos >= this.current.length;
  }

  private fromWhole(): unknown {
    const w = this.whole!;
    const len = w.sizes[this.currentPos++]!;
    const b = sliceBatch(w.batch, w.row, len);
    w.row += len;
    if (this.currentPos >= this.current.length) this.whole = null;
    return b;
  }

  /** The next batch in order, or undefined while its task is still out. */
  takeReady(): unknown | undefined {
    if (this.currentPos >= this.current.length) {
      const r = this.results.get(this.yieldTask);
      if (!r) return undefined;
      this.results.delete(this.yieldTask);
      this.tasks.delete(this.yieldTask);
      this.yieldTask++;
      this.currentPos = 0;
      if (r.sizes) {
        this.current = r.sizes;
        this.whole = { batch: unpack(r.batches[0]), sizes: r.sizes, row: 0 };
      } else {
        this.current = r.batches;
      }
      this.dispatch();
    }
    if (this.whole) return this.fromWhole();
    const packed = this.current[this.currentPos];
    this.current[this.currentPos++] = undefined;
    const batch = unpack(packed);
    return this.finisher ? this.finisher.finishSamples(batch as unknown[]) : batch;
  }
}

/** "batch 7" or "batches 8-15", numbered from 0 in the epoch. */
function batchRange(first: number, count: number): string {
  return count === 1 ? `batch ${first}` : `batches ${first}-${first + count - 1}`;
}
