// Device memory bookkeeping over the stream-ordered pool (cuMemAllocAsync with the release threshold raised, in the
// addon): what torch.cuda.memoryAllocated/maxMemoryAllocated/resetPeakMemoryStats/emptyCache report and do, freeing
// through release() or, for memory nobody released, a FinalizationRegistry backstop. Device memory is invisible to
// V8's heap (the addon reports it as external memory so V8 collects sooner); when the pool is out of memory anyway,
// the allocator empties the cache, runs a full collection, frees every storage the collection proved dead, retries
// once, and only then throws PyTorch's kind of message. It talks to the GPU only through PoolBackend, so all of this
// is tested with a fake pool (test/cuda_allocator.test).
//
// A training loop is usually one synchronous job (the seed's loop has no await), and within a job neither a WeakRef
// (its target is kept alive until the job ends) nor a FinalizationRegistry callback (queued as a later task) can
// free anything: device memory then grows step after step. So blocks hold no WeakRef to their storage, and dead
// storages are reclaimed synchronously: a full collection, then the registry's cleanupSome() (V8's
// FinalizationRegistry.prototype.cleanupSome, enabled for the one context the registry is made in). That runs when
// the pool is out of memory, and whenever the memory handed out since the last reclaim exceeds
// max(KINDLING_CUDA_COLLECT_MIB, default 64 MiB; the memory live after the last reclaim), which keeps a loop's
// peak flat instead of growing with the number of steps.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface PoolBackend {
  /** 0n when out of memory. */
  alloc(bytes: number): bigint;
  free(ptr: bigint, bytes: number): void;
  /** Hands cached, unused memory back to the driver. */
  trim(): void;
  memInfo(): { free: number; total: number; reserved: number; used: number };
}

/** One allocation; the storage holds it, the registry points at it. */
export interface Block {
  readonly ptr: bigint;
  readonly bytes: number;
  freed: boolean;
}

/** PyTorch's rounding: requests are whole 512-byte units. */
export const ROUND = 512;
export const roundUp = (bytes: number): number => Math.ceil(bytes / ROUND) * ROUND;

export class OutOfMemoryError extends Error {
  override name = "OutOfMemoryError";
}

let gcFn: (() => void) | null | undefined;
/** A full, synchronous collection: global.gc when exposed, else V8's gc through --expose-gc set at run time. */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === "function") gcFn = g;
    else {
      try {
        setFlagsFromString("--expose-gc");
        gcFn = runInNewContext("gc") as () => void;
      } catch {
        gcFn = null;
      }
    }
  }
  gcFn?.();
}

export const fmtBytes = (n: number): string => {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(2)} ${units[u]}`;
};

export function oomMessage(device: string, requested: number, inUse: number, reserved: number, free: number, total: number): string {
  const cached = Math.max(0, reserved - inUse);
  return (
    `CUDA out of memory. Tried to allocate ${fmtBytes(requested)}. ${device} has a total capacity of ${fmtBytes(total)} ` +
    `of which ${fmtBytes(free)} is free. ${fmtBytes(inUse)} is allocated by kindling's tensors and ${fmtBytes(cached)} ` +
    "is cached by its allocator but unused (the cache was emptied and dead tensors were collected before this error). " +
    "Release tensors you no longer need, or use a smaller batch."
  );
}

interface Registry<T> {
  register(target: object, held: T, token?: object): void;
  unregister(token: object): boolean;
  /** Runs the callbacks of targets a collection already proved dead, now; absent where V8 lacks it. */
  cleanupSome?: () => void;
}

type RegistryCtor = new (cb: (held: Block) => void) => Registry<Block>;
let registryCtor: RegistryCtor | undefined;
/** A FinalizationRegistry with cleanupSome where this V8 has it (the flag applies to contexts made after it is set). */
function makeRegistry(cb: (held: Block) => void): Registry<Block> {
  if (registryCtor === undefined) {
    registryCtor = FinalizationRegistry as unknown as RegistryCtor;
    try {
      setFlagsFromString("--harmony-weak-refs-with-cleanup-some");
      const C = runInNewContext("FinalizationRegistry") as { prototype: Partial<Registry<Block>> } | undefined;
      if (C && typeof C.prototype.cleanupSome === "function") registryCtor = C as unknown as RegistryCtor;
    } catch {
      // keep the global one: dead storages are then freed only between jobs
    }
  }
  return new registryCtor(cb);
}

/** KINDLING_CUDA_COLLECT_MIB, in bytes (default 64 MiB). */
export function collectEveryBytes(env: string | undefined = process.env.KINDLING_CUDA_COLLECT_MIB): number {
  if (env === undefined || env === "") return 64 * 2 ** 20;
  const mib = Number(env);
  if (!Number.isFinite(mib) || mib <= 0) {
    throw new Error(`KINDLING_CUDA_COLLECT_MIB=${env}: expected a positive number of MiB (how much device memory may be handed out between two collections); unset it for the default 64`);
  }
  return mib * 2 ** 20;
}

export class CudaAllocator {
  private inUse = 0;
  private peak = 0;
  private total = 0;
  /** Bytes handed out since the last reclaim, and what was live right after it. */
  private sinceReclaim = 0;
  private liveAfterReclaim = 0;
  /** How many reclaims ran, and their milliseconds in all (memoryStats). */
  reclaims = 0;
  reclaimMs = 0;
  private readonly registry = makeRegistry((b) => this.free(b));

  constructor(
    private readonly pool: PoolBackend,
    private readonly deviceName: string,
    private readonly collect: () => void = collectGarbage,
    private readonly collectEvery: number = collectEveryBytes(),
  ) {}

  /** True when this allocator can free dead storages synchronously (inside one job). */
  get reclaimsSynchronously(): boolean {
    return typeof this.registry.cleanupSome === "function";
  }

  /** Kernels' scratch memory, by address: freed only by freePtr(). */
  private readonly scratch = new Map<bigint, Block>();

  /**
   * A block of at least `bytes` owned by `owner` (freed when owner is collected, if nobody released it first), or,
   * with no owner, scratch memory that the caller frees with freePtr().
   */
  allocate(bytes: number, owner: object | null): Block {
    const size = roundUp(Math.max(bytes, 1));
    if (this.sinceReclaim + size > Math.max(this.collectEvery, this.liveAfterReclaim)) this.reclaim();
    let ptr = this.pool.alloc(size);
    if (ptr === 0n) {
      this.pool.trim();
      this.reclaim();
      this.pool.trim();
      ptr = this.pool.alloc(size);
      if (ptr === 0n) {
        const m = this.pool.memInfo();
        throw new OutOfMemoryError(oomMessage(this.deviceName, size, this.inUse, m.reserved, m.free, m.total));
      }
    }
    const block: Block = { ptr, bytes: size, freed: false };
    if (owner) this.registry.register(owner, block, block);
    else this.scratch.set(ptr, block);
    this.inUse += size;
    this.sinceReclaim += size;
    this.total += size;
    if (this.inUse > this.peak) this.peak = this.inUse;
    return block;
  }

  /** Back to the pool (stream-ordered: work queued before still sees the memory). Idempotent. */
  free(block: Block): void {
    if (block.freed) return;
    block.freed = true;
    this.registry.unregister(block);
    this.inUse -= block.bytes;
    this.pool.free(block.ptr, block.bytes);
  }

  freePtr(ptr: bigint): void {
    const b = this.scratch.get(ptr);
    if (!b) throw new Error(`free(): 0x${ptr.toString(16)} is not scratch memory from this device's alloc()`);
    this.scratch.delete(ptr);
    this.free(b);
  }

  /**
   * A full collection, then frees now every block whose storage it proved dead (their registry callbacks would
   * otherwise wait for the current job to end). Returns the bytes freed.
   */
  reclaim(): number {
    const before = this.inUse;
    const t0 = performance.now();
    this.collect();
    this.registry.cleanupSome?.();
    this.reclaimMs += performance.now() - t0;
    this.reclaims++;
    this.sinceReclaim = 0;
    this.liveAfterReclaim = this.inUse;
    return before - this.inUse;
  }

  get memoryAllocated(): number {
    return this.inUse;
  }
  get maxMemoryAllocated(): number {
    return this.peak;
  }
  /** Bytes handed out since the device was opened. */
  get totalAllocated(): number {
    return this.total;
  }
  resetPeakMemoryStats(): void {
    this.peak = this.inUse;
  }
  /** torch.cuda.empty_cache: cached memory goes back to the driver; live tensors keep theirs. */
  emptyCache(): void {
    this.pool.trim();
  }
  memoryReserved(): number {
    return this.pool.memInfo().reserved;
  }
}
