// The "meta" device (PyTorch's): tensors with shapes and dtypes but no data. Every kernel does nothing, so a whole
// training step runs in the time its bookkeeping takes; reading values (item, tolist, dataSync, ...) throws. It is
// the smallest complete device, the one to copy when writing the next.
import { itemSize, type DType, type TypedArray } from "../../core/dtype.js";
import type { DeviceBackend, DeviceKernels, MemoryStats, Storage } from "../../backend/device.js";

class MetaStorage implements Storage {
  version = 0;
  recyclable = false;
  readonly handle = null;
  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly device: DeviceBackend,
  ) {}
  get byteSize(): number {
    return this.size * itemSize(this.dtype);
  }
  release(): void {
    // Nothing was allocated.
  }
}

const nothing = (): void => {};

/** Typed as the full contract, so a kernel added to it without a meta entry is a compile error. */
const metaKernels: DeviceKernels = {
  copy: nothing, fill: nothing, unary: nothing, binary: nothing, binaryScalar: nothing, where: nothing, clamp: nothing,
  sumDim: nothing, prodDim: nothing, maxDim: nothing,
  bmm: nothing, linear: nothing, linearBackward: nothing,
  conv2d: nothing, conv2dBackward: nothing,
  maxPool2d: nothing, maxPool2dBackward: nothing, avgPool2d: nothing, avgPool2dBackward: nothing,
  softmax: nothing, softmaxBackward: nothing, crossEntropy: nothing, nllLoss: nothing, nllLossBackward: nothing,
  batchNorm: nothing, batchNormBackward: nothing,
  indexSelect: nothing, indexAdd: nothing,
  sgdStep: nothing, adamStep: nothing,
  // The generator draws on the host (backends/host/random_fill.ts); a meta tensor only receives the upload.
  randUniform: nothing, randNormal: () => NaN, randPerm: nothing,
  scan: nothing, sort: nothing, gather: nothing, scatter: nothing, searchsorted: nothing, bitwise: nothing,
};

export function metaNoData(): Error {
  return new Error(
    "Cannot copy out of meta tensor; no data! Tensors on the meta device have shapes and dtypes only: create them " +
      'on "cpu" (or move them with .to("cpu") before they are computed) to read values.',
  );
}

class MetaDevice implements DeviceBackend {
  readonly type = "meta";
  readonly name = "meta";
  readonly hasData = false;
  kernels = metaKernels;
  private described = 0;

  alloc(dtype: DType, n: number): Storage {
    this.described += n * itemSize(dtype);
    return new MetaStorage(dtype, n, this);
  }
  upload(values: TypedArray, dtype: DType): Storage {
    return this.alloc(dtype, values.length);
  }
  download(): TypedArray {
    throw metaNoData();
  }
  downloadAsync(): Promise<TypedArray> {
    return Promise.reject(metaNoData());
  }
  synchronize(): void {
    // No work is ever queued.
  }
  /** Meta holds no memory; allocatedBytes is what its tensors would have taken. */
  memoryStats(): MemoryStats {
    return { inUseBytes: 0, peakBytes: 0, allocatedBytes: this.described };
  }
}

let device: MetaDevice | null = null;

export function metaDevice(): DeviceBackend {
  return (device ??= new MetaDevice());
}
