// The CUDA allocator's bookkeeping and out-of-memory policy over a fake pool (no GPU): accounting in 512-byte units,
// peaks, release and the FinalizationRegistry backstop, and "empty the cache, collect, free the dead, retry once,
// then PyTorch's kind of message". Also KernelArgs' packing, which the native launch hands to cuLaunchKernel as is.
import test from "node:test";
import assert from "node:assert/strict";
import { CudaAllocator, OutOfMemoryError, collectEveryBytes, collectGarbage, oomMessage, type PoolBackend } from "../src/backends/cuda/allocator.js";
import { KernelArgs } from "../src/backends/cuda/runtime.js";

class FakePool implements PoolBackend {
  used = 0;
  cached = 0;
  next = 0x1000n;
  trims = 0;
  freed: bigint[] = [];
  constructor(readonly capacity: number) {}
  alloc(bytes: number): bigint {
    if (this.used + bytes > this.capacity) return 0n;
    this.used += bytes;
    const p = this.next;
    this.next += BigInt(bytes);
    return p;
  }
  free(ptr: bigint, bytes: number): void {
    this.used -= bytes;
    this.cached += bytes;
    this.freed.push(ptr);
  }
  trim(): void {
    this.trims++;
    this.cached = 0;
  }
  memInfo() {
    return { free: this.capacity - this.used - this.cached, total: this.capacity, reserved: this.used + this.cached, used: this.used };
  }
}

test("accounting: 512-byte units, peak, reset, release is idempotent", () => {
  const pool = new FakePool(1 << 20);
  const a = new CudaAllocator(pool, "GPU 0", () => {});
  const owner1 = {}, owner2 = {};
  const b1 = a.allocate(10, owner1);
  const b2 = a.allocate(1000, owner2);
  assert.equal(b1.bytes, 512);
  assert.equal(b2.bytes, 1024);
  assert.equal(a.memoryAllocated, 1536);
  assert.equal(a.maxMemoryAllocated, 1536);
  a.free(b2);
  a.free(b2);
  assert.equal(a.memoryAllocated, 512);
  assert.equal(a.maxMemoryAllocated, 1536);
  assert.equal(pool.freed.length, 1);
  a.resetPeakMemoryStats();
  assert.equal(a.maxMemoryAllocated, 512);
  assert.equal(a.totalAllocated, 1536);
});

test("scratch memory (no owner) is freed by address only", () => {
  const pool = new FakePool(1 << 20);
  const a = new CudaAllocator(pool, "GPU 0", () => {});
  const s = a.allocate(4096, null);
  a.freePtr(s.ptr);
  assert.equal(a.memoryAllocated, 0);
  assert.throws(() => a.freePtr(s.ptr), /not scratch memory/);
});

test("out of memory: the cache is emptied, dead owners are freed after a collection, and the retry succeeds", async () => {
  const pool = new FakePool(4096);
  const a = new CudaAllocator(pool, "GPU 0", collectGarbage);
  // Four blocks whose owners nobody keeps: the loop a user writes without dispose(). Owners die in an earlier task
  // (a training step's iteration awaits its batch): WeakRefs keep their targets until the current task ends.
  (() => {
    for (let i = 0; i < 4; i++) a.allocate(1024, { i });
  })();
  assert.equal(a.memoryAllocated, 4096);
  await new Promise((r) => setImmediate(r));
  const keep = {};
  const b = a.allocate(1024, keep);
  assert.equal(b.bytes, 1024);
  assert.ok(pool.trims >= 1, "the cache was emptied first");
  assert.equal(a.memoryAllocated, 1024, "the dead blocks were freed by the sweep");
});

test("out of memory inside one synchronous job (a training loop without await): the dead are freed, the retry succeeds", () => {
  const pool = new FakePool(4096);
  const a = new CudaAllocator(pool, "GPU 0", collectGarbage);
  assert.ok(a.reclaimsSynchronously, "this V8 offers FinalizationRegistry.prototype.cleanupSome");
  (() => {
    for (let i = 0; i < 4; i++) a.allocate(1024, { i });
  })();
  assert.equal(a.memoryAllocated, 4096);
  const keep = {};
  const b = a.allocate(1024, keep);
  assert.equal(b.bytes, 1024);
  assert.equal(a.memoryAllocated, 1024, "the dead blocks were freed before the retry");
});

test("a synchronous loop's peak stays flat: a reclaim whenever more than collectEvery bytes were handed out", () => {
  const pool = new FakePool(1 << 30);
  const a = new CudaAllocator(pool, "GPU 0", collectGarbage, 16 * 1024);
  const params = a.allocate(8192, {});
  const peaks: number[] = [];
  for (let epoch = 0; epoch < 5; epoch++) {
    // 100 steps, each leaving 3 KiB of dead activations and gradients behind, in the same job.
    for (let step = 0; step < 100; step++) for (let k = 0; k < 3; k++) a.allocate(1024, { step, k });
    peaks.push(a.maxMemoryAllocated);
  }
  assert.ok(params.bytes > 0);
  assert.ok(peaks[4] <= 8192 + 16 * 1024 + 1024, `peak ${peaks[4]} bytes: the dead were not reclaimed (${peaks.join(", ")})`);
  assert.equal(peaks[4], peaks[0], `the peak grew over the epochs: ${peaks.join(", ")}`);
  // 1500 KiB handed out, a reclaim about every 16 KiB: counted, with their time, for memoryStats().
  assert.ok(a.reclaims >= 60 && a.reclaims <= 100, `${a.reclaims} reclaims`);
  assert.ok(a.reclaimMs > 0);
});

test("KINDLING_CUDA_COLLECT_MIB: MiB between reclaims, 64 by default, anything else refused with what to do", () => {
  assert.equal(collectEveryBytes(undefined), 64 * 2 ** 20);
  assert.equal(collectEveryBytes("0.5"), 2 ** 19);
  assert.throws(() => collectEveryBytes("lots"), /KINDLING_CUDA_COLLECT_MIB=lots: expected a positive number of MiB.*unset it/);
  assert.throws(() => collectEveryBytes("0"), /positive/);
});

test("out of memory with everything alive: PyTorch's kind of message, nothing lost", () => {
  const pool = new FakePool(4096);
  const a = new CudaAllocator(pool, "GPU 0 (Fake)", () => {});
  const owners = [{}, {}, {}];
  owners.forEach((o) => a.allocate(1024, o));
  assert.throws(() => a.allocate(3 * 1024 * 1024, {}), (e: unknown) => {
    assert.ok(e instanceof OutOfMemoryError);
    assert.match(e.message, /^CUDA out of memory\. Tried to allocate 3\.00 MiB\. GPU 0 \(Fake\) has a total capacity of 4\.00 KiB of which 1\.00 KiB is free\. 3\.00 KiB is allocated by kindling's tensors/);
    return true;
  });
  assert.equal(a.memoryAllocated, 3072, "the failed request changed nothing");
});

test("oomMessage reports the cached-but-unused bytes", () => {
  assert.match(oomMessage("GPU 0", 2 ** 30, 2 ** 31, 2 ** 31 + 2 ** 29, 0, 2 ** 34), /1\.00 GiB.*2\.00 GiB is allocated.*512\.00 MiB is cached/);
});

test("KernelArgs: each value aligned to its size in declaration order, structs to their alignment", () => {
  // k_selftest_axpb(float* y, const float* x, float a, long long n, double b): C places them at 0, 8, 16, 24, 32.
  const k = new KernelArgs().ptr(0x1122334455667788n).ptr(8n).f32(2).i64(4).f64(0.5);
  assert.deepEqual(Array.from(k.offsets), [0, 8, 16, 24, 32]);
  assert.equal(k.bytes.byteLength, 40);
  const v = new DataView(k.bytes.buffer, k.bytes.byteOffset, k.bytes.byteLength);
  assert.equal(v.getBigUint64(0, true), 0x1122334455667788n);
  assert.equal(v.getFloat32(16, true), 2);
  assert.equal(v.getBigInt64(24, true), 4n);
  assert.equal(v.getFloat64(32, true), 0.5);
  // int, then a 16-byte struct aligned to 8, then int: 0, 8, 24.
  const s = new KernelArgs().i32(1).raw(new Uint8Array(16).fill(7), 8).i32(-1);
  assert.deepEqual(Array.from(s.offsets), [0, 8, 24]);
  assert.equal(s.bytes[8], 7);
  // Grows past its first buffer without losing what was packed.
  const big = new KernelArgs();
  for (let i = 0; i < 40; i++) big.f64(i);
  assert.equal(new DataView(big.bytes.buffer).getFloat64(39 * 8, true), 39);
  assert.equal(new DataView(big.bytes.buffer).getFloat64(0, true), 0);
});
