import type { DType, TypedArray } from "../core/dtype.js";

/**
 * Memory that tensors view. On the CPU it is a typed array, shared by the reference and native kernels alike
 * (both read the same bytes, so falling back between them costs nothing). `version` counts in-place writes: views
 * share it, and autograd checks it to catch saved tensors that were modified.
 */
export class Storage {
  version = 0;
  /** True only for memory the engine allocated for one tensor's result (never a caller's typed array). */
  recyclable = false;
  constructor(
    public readonly data: TypedArray,
    public readonly dtype: DType,
    public readonly device: string,
  ) {}
}
