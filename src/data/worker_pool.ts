// Worker threads for the DataLoader. Results come back on MessagePorts that the main thread reads
// with receiveMessageOnPort, woken by a shared counter: that lets plain synchronous `for...of`
// loops wait for workers (Atomics.wait) as well as `for await` loops (Atomics.waitAsync).
//
// Workers get no execArgv of their own: they inherit the main thread's options (Node's default), so loader flags
// (--import, --require, --loader, --conditions) reach them, while flags that a Worker refuses to be given
// explicitly (V8's --max-old-space-size, --expose-gc, --stack-size: process-wide anyway) cause no
// ERR_WORKER_INVALID_EXEC_ARGV.

import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { WorkerSpec } from "./dataset.js";
import type { Task, WorkerInit, WorkerMessage } from "./worker.js";

const WORKER_URL = new URL("./worker.js", import.meta.url).href;

// The shared signal buffer: slot 0 counts wake-ups; worker i sets slot EXITED_SLOT + 2i when its thread ends,
// after writing its exit code to EXIT_CODE_SLOT + 2i.
const EXITED_SLOT = 1;
const EXIT_CODE_SLOT = 2;

// A tiny ES-module bootstrap (a data: URL, so that no --input-type or --experimental-default-type of the main
// script changes how it is read) that imports the real worker module and reports what a synchronous loop in the
// main thread could not otherwise see: it runs no event loop while it waits, so a worker's 'error' and 'exit'
// events reach it only when the loop is over. Hence the failure to load, a crash, and the thread's exit (with its
// code, in the shared signal buffer) are all reported from inside the worker.
const BOOTSTRAP = new URL("data:text/javascript," + encodeURIComponent(`
import { workerData } from "node:worker_threads";
const signal = new Int32Array(workerData.signal);
function wake() {
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}
// The main thread has already said that native kernels are missing; once is enough.
const emitWarning = process.emitWarning;
process.emitWarning = function (w, o, ...rest) {
  if (o && o.code === "KINDLING_NO_NATIVE") return;
  return emitWarning.call(this, w, o, ...rest);
};
function report(message, e) {
  workerData.port.postMessage({ type: "error", id: -1, worker: workerData.workerId, message: message + (e && e.message), stack: e && e.stack });
  wake();
}
// An exception outside any task (a stray callback in user code) would end the thread silently.
process.on("uncaughtException", (e) => { report("crashed: ", e); process.exit(1); });
// process.exit() in dataset code, or any other end of the thread.
process.on("exit", (code) => {
  Atomics.store(signal, ${EXIT_CODE_SLOT} + 2 * workerData.workerId, code);
  Atomics.store(signal, ${EXITED_SLOT} + 2 * workerData.workerId, 1);
  wake();
});
import(workerData.entry).catch((e) => report("failed to start: ", e));
`));

const POLL_MS = 100;

// Atomics.waitAsync exists in Node >= 16 but is newer than the ES2022 lib this package compiles with.
type WaitAsync = (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** What a receiving loop waits for, in words, so that a failure can say which worker and which batches. */
export interface PendingWork {
  /** The answer the loop is blocked on, e.g. "batch 7 from worker 1". */
  awaited(): string;
  /** What `worker` had been asked for and not delivered, e.g. "batches 8-15"; "" when nothing. */
  heldBy(worker: number): string;
}

let liveThreads = 0;

/** DataLoader worker threads started and not yet exited (their 'exit' events count: they need the event loop). */
export function liveWorkerThreads(): number {
  return liveThreads;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly signal: SharedArrayBuffer;
  private readonly counter: Int32Array;
  private next = 0;
  /** Next task id; a persistent pool keeps counting across epochs. */
  taskIds = 0;
  /** The first worker that crashed or ended, said once the loop looks (the 'error' and 'exit' events, or the exit hook). */
  private failure: { worker: number; message: string; cause?: unknown } | null = null;
  private closed = false;

  constructor(n: number, readonly spec: WorkerSpec, collate: boolean) {
    this.signal = new SharedArrayBuffer(4 * (1 + 2 * n));
    this.counter = new Int32Array(this.signal);
    for (let i = 0; i < n; i++) {
      const { port1, port2 } = new MessageChannel();
      const init: WorkerInit & { entry: string } = { port: port2, signal: this.signal, spec, collate, workerId: i, entry: WORKER_URL };
      const w = new Worker(BOOTSTRAP, { workerData: init, transferList: [port2] });
      // A loader the program forgot to finish must not keep the process alive.
      w.unref();
      w.on("error", (e) => {
        this.failure ??= { worker: i, message: `DataLoader worker ${i} crashed: ${e.message}`, cause: e };
        this.wake();
      });
      liveThreads++;
      w.on("exit", (code) => {
        liveThreads--;
        if (!this.closed) this.failure ??= exited(i, code);
        this.wake();
      });
      this.workers.push(w);
      this.ports.push(port1);
    }
  }

  /** Neither closed nor failed: it can take another epoch. */
  usable(): boolean {
    return !this.closed && !this.failure && this.exitedWorker() < 0;
  }

  get size(): number {
    return this.workers.length;
  }

  send(worker: number, task: Task): void {
    this.ports[worker]!.postMessage(task);
  }

  private wake(): void {
    Atomics.add(this.counter, 0, 1);
    Atomics.notify(this.counter, 0);
  }

  /** The first worker whose thread has ended, as its exit hook wrote it (seen without the event loop), or -1. */
  private exitedWorker(): number {
    for (let i = 0; i < this.workers.length; i++) if (Atomics.load(this.counter, EXITED_SLOT + 2 * i) !== 0) return i;
    return -1;
  }

  private poll(pending: PendingWork): WorkerMessage | null {
    // Read before the ports: whatever a worker posted before its exit hook ran is in its port by then.
    const gone = this.exitedWorker();
    for (let k = 0; k < this.ports.length; k++) {
      const i = (this.next + k) % this.ports.length;
      const m = receiveMessageOnPort(this.ports[i]!);
      if (m) {
        this.next = (i + 1) % this.ports.length;
        return m.message as WorkerMessage;
      }
    }
    if (gone >= 0) this.failure ??= exited(gone, Atomics.load(this.counter, EXIT_CODE_SLOT + 2 * gone));
    if (this.failure) {
      const { worker, message, cause } = this.failure;
      const held = pending.heldBy(worker);
      throw new Error(held ? `${message}, while loading ${held}` : message, { cause });
    }
    return null;
  }

  private timedOut(timeoutMs: number, pending: PendingWork): Error {
    return new Error(
      `DataLoader timed out after ${timeoutMs} ms waiting for ${pending.awaited()}; ` +
        "raise the DataLoader's timeout option (0: wait forever) if loading it really takes that long.",
    );
  }

  /** Blocks the thread until a worker answers (or `timeoutMs` passes, then throws). */
  receiveSync(timeoutMs: number, pending: PendingWork): WorkerMessage {
    const start = Date.now();
    for (;;) {
      const seen = Atomics.load(this.counter, 0);
      const m = this.poll(pending);
      if (m) return m;
      if (timeoutMs > 0 && Date.now() - start > timeoutMs) throw this.timedOut(timeoutMs, pending);
      // Woken by every message and every worker's exit; the interval is only a safety net.
      Atomics.wait(this.counter, 0, seen, POLL_MS);
    }
  }

  async receive(timeoutMs: number, pending: PendingWork): Promise<WorkerMessage> {
    const start = Date.now();
    for (;;) {
      const seen = Atomics.load(this.counter, 0);
      const m = this.poll(pending);
      if (m) return m;
      if (timeoutMs > 0 && Date.now() - start > timeoutMs) throw this.timedOut(timeoutMs, pending);
      const w = waitAsync(this.counter, 0, seen, POLL_MS);
      // Workers are unref'd and waitAsync does not hold the event loop: a ref'd timer keeps the
      // process alive while an iteration is really waiting (and only then).
      if (w.async) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, POLL_MS + 10);
          void (w.value as Promise<string>).then(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
  }

  /** Stops every worker; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.ports) p.close();
    for (const w of this.workers) void w.terminate();
  }
}

function exited(worker: number, code: number): { worker: number; message: string } {
  return { worker, message: `DataLoader worker ${worker} exited unexpectedly (exit code ${code}; process.exit() in dataset code ends its thread)` };
}
