// torch.utils.data datasets: the Dataset protocol, TensorDataset, Subset, randomSplit.

import { fromTypedArray } from "../tensor/create.js";
import { defaultGenerator, permutation, type Generator } from "../tensor/random.js";
import { Tensor } from "../tensor/tensor.js";
import type { DType, TypedArray } from "../core/dtype.js";
import { noteDatasetSite } from "./auto_spec.js";

/**
 * How a DataLoader worker thread rebuilds a dataset: it imports `module` (a file URL, usually
 * `import.meta.url` of the dataset's own module), takes the export named `export`, and calls its
 * static `fromWorkerSpec(...args)` if it has one, else `new Export(...args)`. `args` must be
 * structured-clonable (plain data, typed arrays, SharedArrayBuffers — which are shared, not copied).
 */
export interface WorkerSpec {
  module: string;
  export: string;
  args: unknown[];
}

/**
 * A map-style dataset: `length` samples, `get(i)` returns one. With `numWorkers > 0`, a dataset without
 * `workerSpec()` is copied into each worker (its class must be exported from a module other than the script being
 * run, and its fields must be data: tensors, typed arrays, numbers, strings, arrays and plain objects of them);
 * others implement `workerSpec()`; datasets that can build a collated batch faster than
 * sample-by-sample may implement `getBatch(indices)` (returning null to fall back).
 */
export abstract class Dataset<T = unknown> {
  constructor() {
    // Without a workerSpec(), a DataLoader's workers copy the dataset: remember which module defines its class.
    if (!this.workerSpec) noteDatasetSite(this, Dataset);
  }
  abstract get(index: number): T;
  abstract get length(): number;
  workerSpec?(): WorkerSpec;
  getBatch?(indices: readonly number[]): unknown | null;

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

function checkIndex(i: number, n: number, what: string): number {
  if (!Number.isInteger(i)) throw new TypeError(`${what}: index must be an integer, got ${i}`);
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) throw new RangeError(`${what}: index ${i} is out of range for ${n} samples`);
  return j;
}

interface PackedTensor {
  data: TypedArray;
  shape: number[];
  dtype: DType;
}

/** Row `i` of a contiguous tensor as a fresh tensor (shape without the first dim). */
function gatherRows(t: Tensor, rows: readonly number[]): Tensor {
  const src = t.dataSync();
  const rowSize = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new (src.constructor as { new (n: number): TypedArray })(rows.length * rowSize);
  for (let k = 0; k < rows.length; k++) out.set(src.subarray(rows[k]! * rowSize, (rows[k]! + 1) * rowSize), k * rowSize);
  return fromTypedArray(out, [rows.length, ...t.shape.slice(1)], t.dtype);
}

/** Samples are the i-th rows of each tensor (torch.utils.data.TensorDataset). */
export class TensorDataset extends Dataset<Tensor[]> {
  readonly tensors: Tensor[];
  constructor(...tensors: Array<Tensor | PackedTensor>) {
    super();
    this.tensors = tensors.map((t) => (t instanceof Tensor ? t.detach().contiguous() : fromTypedArray(t.data, t.shape, t.dtype)));
    if (this.tensors.length === 0) throw new Error("TensorDataset: at least one tensor is required");
    const n = this.tensors[0]!.shape[0];
    for (const t of this.tensors) {
      if (t.shape.length === 0 || t.shape[0] !== n) throw new Error("Size mismatch between tensors");
    }
  }
  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }
  get(index: number): Tensor[] {
    const i = checkIndex(index, this.length, "TensorDataset");
    return this.tensors.map((t) => gatherRows(t, [i]).view(t.shape.slice(1)));
  }
  override getBatch(indices: readonly number[]): Tensor[] {
    const rows = indices.map((i) => checkIndex(i, this.length, "TensorDataset"));
    return this.tensors.map((t) => gatherRows(t, rows));
  }
  override workerSpec(): WorkerSpec {
    // The data is copied into each worker: fine for the small tensors TensorDataset usually holds.
    return {
      module: import.meta.url,
      export: "TensorDataset",
      args: this.tensors.map((t) => ({ data: t.dataSync(), shape: t.shape, dtype: t.dtype })),
    };
  }
}

/** A view of `dataset` restricted to `indices` (torch.utils.data.Subset). */
export class Subset<T> extends Dataset<T> {
  constructor(readonly dataset: Dataset<T>, readonly indices: readonly number[]) {
    super();
  }
  get length(): number {
    return this.indices.length;
  }
  get(index: number): T {
    return this.dataset.get(this.indices[checkIndex(index, this.indices.length, "Subset")]!);
  }
  override getBatch(indices: readonly number[]): unknown | null {
    if (!this.dataset.getBatch) return null;
    return this.dataset.getBatch(indices.map((i) => this.indices[checkIndex(i, this.indices.length, "Subset")]!));
  }
  override workerSpec(): WorkerSpec {
    if (!this.dataset.workerSpec) {
      throw new Error(`Subset: the wrapped ${this.dataset.constructor.name} has no workerSpec(), so it can't be rebuilt in a worker`);
    }
    return { module: import.meta.url, export: "Subset", args: [this.dataset.workerSpec(), [...this.indices]] };
  }
  static async fromWorkerSpec(inner: WorkerSpec, indices: number[]): Promise<Subset<unknown>> {
    const { rebuildDataset } = await import("./rebuild.js");
    return new Subset(await rebuildDataset(inner), indices);
  }
}

/** Concatenation of datasets (torch.utils.data.ConcatDataset). */
export class ConcatDataset<T> extends Dataset<T> {
  private readonly ends: number[] = [];
  constructor(readonly datasets: Dataset<T>[]) {
    super();
    let total = 0;
    for (const d of datasets) this.ends.push((total += d.length));
  }
  get length(): number {
    return this.ends.at(-1) ?? 0;
  }
  get(index: number): T {
    const i = checkIndex(index, this.length, "ConcatDataset");
    let k = 0;
    while (i >= this.ends[k]!) k++;
    return this.datasets[k]!.get(i - (k === 0 ? 0 : this.ends[k - 1]!));
  }
}

/**
 * Split into non-overlapping random subsets (torch.utils.data.random_split). `lengths` are counts,
 * or fractions summing to 1 (remainders go round-robin to the first subsets, as in PyTorch).
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], generator: Generator = defaultGenerator): Subset<T>[] {
  const n = dataset.length;
  let counts = [...lengths];
  const sum = lengths.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) < 1e-9 && sum <= 1) {
    counts = lengths.map((f) => Math.floor(n * f));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]! += 1;
  }
  if (counts.reduce((a, b) => a + b, 0) !== n) {
    throw new Error("Sum of input lengths does not equal the length of the input dataset!");
  }
  const perm = permutation(n, generator);
  const out: Subset<T>[] = [];
  let off = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, Array.from(perm.subarray(off, off + c))));
    off += c;
  }
  return out;
}
