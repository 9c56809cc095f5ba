// What a "cuda" tensor's memory is: a block of the device's pool. `handle` and `ptr` are its device address; a
// released storage has none, so a late read fails loudly instead of seeing memory reused by another tensor.
import { itemSize, type DType } from "../../core/dtype.js";
import type { DeviceBackend, Storage } from "../../backend/device.js";
import type { Block, CudaAllocator } from "./allocator.js";
import type { CudaMemory, DevicePtr } from "./runtime.js";

const EMPTY: Block = { ptr: 0n, bytes: 0, freed: false };

export class CudaStorage implements Storage, CudaMemory {
  version = 0;
  recyclable = false;
  private readonly block: Block;

  constructor(
    readonly device: DeviceBackend,
    private readonly allocator: CudaAllocator,
    readonly dtype: DType,
    readonly size: number,
  ) {
    // Whole 32-bit words, so that a zero fill (memsetD32) covers every byte of 1-byte dtypes too.
    const bytes = Math.ceil((size * itemSize(dtype)) / 4) * 4;
    this.block = bytes > 0 ? allocator.allocate(bytes, this) : EMPTY;
  }
  get byteSize(): number {
    return this.size * itemSize(this.dtype);
  }
  /** The base device address. */
  get ptr(): DevicePtr {
    if (this.block.freed) {
      throw new Error(`this ${this.device.name} storage was released: its memory is back in the pool and holds no data`);
    }
    return this.block.ptr;
  }
  get handle(): DevicePtr {
    return this.ptr;
  }
  /** Bytes the pool gave it (512-byte units). */
  get allocatedBytes(): number {
    return this.block.bytes;
  }
  release(): void {
    if (this.block !== EMPTY) this.allocator.free(this.block);
  }
}
