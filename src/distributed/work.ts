// A collective in flight (PyTorch's Work): wait() blocks until it finished (on NCCL: until the compute stream is
// ordered after it), the Promise resolves when it did, and whatever must follow the transfer (the division of an
// average, copying gathered values out) runs exactly once, on whichever of the two sees the completion first.
export class Work {
  private finished = false;
  private failure: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private settle!: (e: Error | null) => void;
  /** Resolves when the collective finished (its results are in place); rejects on an MPI error or the timeout. */
  readonly promise: Promise<void>;

  constructor(
    readonly ticket: number,
    private readonly label: string,
    private readonly syncWait: (ticket: number, timeoutMs: number) => { done: boolean; error: string | null },
    private readonly timeoutMs: number,
    private readonly after: (() => void) | null,
    private readonly onTimeout: (message: string) => Error,
    /**
     * NCCL's kind of wait: makes the device's compute stream wait for the collective, without blocking the host
     * (as PyTorch's NCCL Work.wait()); throws an asynchronous failure seen so far. Absent: wait() blocks.
     */
    private readonly streamWait: (() => void) | null = null,
  ) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.settle = (e) => (e ? reject(e) : resolve());
    });
    // A caller that only uses wait() must not see an unhandled rejection; awaiting `promise` still rejects.
    this.promise.catch(() => {});
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      this.timer = setTimeout(() => this.complete(this.onTimeout(this.timeoutText())), timeoutMs);
    }
  }

  /** PyTorch's Work.get_future(). */
  getFuture(): Promise<void> {
    return this.promise;
  }

  isCompleted(): boolean {
    return this.finished;
  }

  /**
   * Blocks until the collective finished; throws its error, or a timeout error naming this rank and the op. On the
   * NCCL group it only orders the device's compute stream after the collective (the host goes on at once).
   */
  wait(): true {
    if (!this.finished && this.streamWait) {
      try {
        this.streamWait();
      } catch (e) {
        this.complete(e instanceof Error ? e : new Error(String(e)));
      }
    } else if (!this.finished) {
      const r = this.syncWait(this.ticket, Number.isFinite(this.timeoutMs) && this.timeoutMs > 0 ? this.timeoutMs : -1);
      this.complete(r.done ? (r.error ? new Error(`${this.label} failed: ${r.error}`) : null) : this.onTimeout(this.timeoutText()));
    }
    if (this.failure) throw this.failure;
    return true;
  }

  /** Called by the process group when the comm thread reports this ticket (error null on success). */
  complete(error: Error | null): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    if (!error && this.after) {
      try {
        this.after();
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
      }
    }
    this.failure = error;
    this.settle(error);
  }

  private timeoutText(): string {
    return `${this.label} did not finish within ${this.timeoutMs} ms (a rank may have failed or not reached this collective)`;
  }
}
