// Worker threads for the DataLoader. Results come back on MessagePorts that the main thread reads
// with receiveMessageOnPort, woken by a shared counter: that lets plain synchronous `for...of`
// loops wait for workers (Atomics.wait) as well as `for await` loops (Atomics.waitAsync).

import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { WorkerSpec } from "./dataset.js";
import type { Task, WorkerInit, WorkerMessage } from "./worker.js";

const WORKER_URL = new URL("./worker.js", import.meta.url).href;

// A tiny CommonJS bootstrap that imports the real worker module and reports a failure to load it
// on the port: a synchronous loop in the main thread can't see a worker's 'error' event.
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
// The main thread has already said that native kernels are missing; once is enough.
const emitWarning = process.emitWarning;
process.emitWarning = function (w, o, ...rest) {
  if (o && o.code === "KINDLING_NO_NATIVE") return;
  return emitWarning.call(this, w, o, ...rest);
};
function report(message, e) {
  workerData.port.postMessage({ type: "error", id: -1, worker: workerData.workerId, message: message + (e && e.message), stack: e && e.stack });
  const s = new Int32Array(workerData.signal);
  Atomics.add(s, 0, 1);
  Atomics.notify(s, 0);
}
// An exception outside any task (a stray callback in user code) would end the thread silently.
process.on("uncaughtException", (e) => { report("crashed: ", e); process.exit(1); });
import(workerData.entry).catch((e) => report("failed to start: ", e));
`;

// Flags that make sense only for the main script (node --input-type=module -e ...) break workers.
const WORKER_EXEC_ARGV = process.execArgv.filter((a) => !a.startsWith("--input-type") && a !== "-e" && a !== "--eval");
const POLL_MS = 100;

// Atomics.waitAsync exists in Node >= 16 but is newer than the ES2022 lib this package compiles with.
type WaitAsync = (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly signal = new SharedArrayBuffer(4);
  private readonly counter = new Int32Array(this.signal);
  private next = 0;
  /** Next task id; a persistent pool keeps counting across epochs. */
  taskIds = 0;
  private failure: Error | null = null;
  private closed = false;

  constructor(n: number, readonly spec: WorkerSpec, collate: boolean) {
    for (let i = 0; i < n; i++) {
      const { port1, port2 } = new MessageChannel();
      const init: WorkerInit & { entry: string } = { port: port2, signal: this.signal, spec, collate, workerId: i, entry: WORKER_URL };
      const w = new Worker(BOOTSTRAP, { eval: true, workerData: init, transferList: [port2], execArgv: WORKER_EXEC_ARGV });
      // A loader the program forgot to finish must not keep the process alive.
      w.unref();
      w.on("error", (e) => {
        this.failure ??= new Error(`DataLoader worker ${i} crashed: ${e.message}`, { cause: e });
        this.wake();
      });
      w.on("exit", (code) => {
        if (!this.closed) this.failure ??= new Error(`DataLoader worker ${i} exited unexpectedly (exit code ${code})`);
        this.wake();
      });
      this.workers.push(w);
      this.ports.push(port1);
    }
  }

  /** Neither closed nor failed: it can take another epoch. */
  usable(): boolean {
    return !this.closed && !this.failure;
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

  private poll(): WorkerMessage | null {
    for (let k = 0; k < this.ports.length; k++) {
      const i = (this.next + k) % this.ports.length;
      const m = receiveMessageOnPort(this.ports[i]!);
      if (m) {
        this.next = (i + 1) % this.ports.length;
        return m.message as WorkerMessage;
      }
    }
    if (this.failure) throw this.failure;
    return null;
  }

  /** Blocks the thread until a worker answers (or `timeoutMs` passes, then throws). */
  receiveSync(timeoutMs: number): WorkerMessage {
    const start = Date.now();
    for (;;) {
      const seen = Atomics.load(this.counter, 0);
      const m = this.poll();
      if (m) return m;
      if (timeoutMs > 0 && Date.now() - start > timeoutMs) throw new Error(`DataLoader timed out after ${timeoutMs} ms`);
      Atomics.wait(this.counter, 0, seen, POLL_MS);
    }
  }

  async receive(timeoutMs: number): Promise<WorkerMessage> {
    const start = Date.now();
    for (;;) {
      const seen = Atomics.load(this.counter, 0);
      const m = this.poll();
      if (m) return m;
      if (timeoutMs > 0 && Date.now() - start > timeoutMs) throw new Error(`DataLoader timed out after ${timeoutMs} ms`);
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
