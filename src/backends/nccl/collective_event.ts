// When a collective on the collectives' stream has finished, as the compute stream and the host see it. The compute
// stream waits for it only when asked (joinCompute: queued, the host does not block), so kernels queued after a
// collective run beside it until its result is needed; PyTorch's ProcessGroupNCCL orders its NCCL stream the same way.
// A collective inside an NCCL group records its event when the group ends: until then, joinCompute() is remembered.
/** What a collective's event needs of its CUDA device (NativeCudaRuntime has it). */
export interface StreamEvents {
  computeStream(): bigint;
  sideStream(): bigint;
  recordEvent(stream: bigint): bigint;
  releaseEvent(event: bigint): void;
  streamWaitEvent(stream: bigint, event: bigint): void;
  eventSynchronize(event: bigint): void;
  eventWaitAsync(event: bigint): Promise<void>;
}

export class CollectiveEvent {
  private event: bigint | null = null;
  private computeWaits = false;
  private hostDone = false;
  private readonly done: Promise<void>;
  private settle!: (e: Error | null) => void;

  constructor(private readonly rt: StreamEvents) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (e) => (e ? reject(e) : resolve());
    });
    this.done.catch(() => {});
  }

  /** Marks the end of the collective (or group) just queued on the collectives' stream. Called once. */
  record(): void {
    if (this.event !== null || this.hostDone) throw new Error("CollectiveEvent.record: already recorded");
    const ev = this.rt.recordEvent(this.rt.sideStream());
    this.event = ev;
    if (this.computeWaits) this.rt.streamWaitEvent(this.rt.computeStream(), ev);
    this.rt.eventWaitAsync(ev).then(
      () => {
        this.hostDone = true;
        this.event = null;
        // Safe to reuse: every stream wait on it was queued before now, and no host wait is left.
        this.rt.releaseEvent(ev);
        this.settle(null);
      },
      (e: unknown) => {
        this.hostDone = true;
        this.event = null;
        this.settle(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  /** Work queued on the compute stream from now on runs after the collective. The host does not wait. */
  joinCompute(): void {
    if (this.computeWaits || this.hostDone) return;
    this.computeWaits = true;
    if (this.event !== null) this.rt.streamWaitEvent(this.rt.computeStream(), this.event);
  }

  /** Blocks the host until the collective has finished on the device. */
  synchronize(): void {
    if (this.hostDone) return;
    if (this.event === null) throw new Error("a collective inside an NCCL group cannot be waited for before the group ends");
    this.rt.eventSynchronize(this.event);
  }

  /** Resolves when the device has finished the collective; rejects on a CUDA error. */
  finished(): Promise<void> {
    return this.done;
  }

  isFinished(): boolean {
    return this.hostDone;
  }
}
