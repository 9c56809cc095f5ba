// The FinalizationRegistry backstop of the CUDA allocator, in a process of its own: storages nobody released are
// freed once the collector has proved them dead (a fake pool stands in for the GPU's).
import test from "node:test";
import assert from "node:assert/strict";
import { CudaAllocator, collectGarbage, type PoolBackend } from "../src/backends/cuda/allocator.js";

class FakePool implements PoolBackend {
  freed: bigint[] = [];
  private next = 0x1000n;
  alloc(bytes: number): bigint {
    const p = this.next;
    this.next += BigInt(bytes);
    return p;
  }
  free(ptr: bigint): void {
    this.freed.push(ptr);
  }
  trim(): void {}
  memInfo() {
    return { free: 0, total: 0, reserved: 0, used: 0 };
  }
}

test("the FinalizationRegistry frees memory nobody released", async () => {
  const pool = new FakePool();
  const a = new CudaAllocator(pool, "GPU 0", () => {});
  (() => {
    for (let i = 0; i < 8; i++) a.allocate(512, { i });
  })();
  assert.equal(a.memoryAllocated, 4096);
  for (let i = 0; i < 20 && a.memoryAllocated > 0; i++) {
    collectGarbage();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(a.memoryAllocated, 0);
  assert.equal(pool.freed.length, 8);
});

