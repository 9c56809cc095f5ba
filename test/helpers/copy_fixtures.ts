// Dataset subclasses without workerSpec(), as users write them: DataLoader workers copy them (test/data_loader_copy).
import { threadId } from "node:worker_threads";
import { Dataset } from "../../src/data/dataset.js";
import { fromTypedArray } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";

/** Fields only: a tensor, a plain array and a nested object. Samples say which thread made them. */
export class FieldsDataset extends Dataset<[Tensor, number, number]> {
  readonly images: Tensor;
  readonly labels: number[];
  readonly meta = { scale: 10, names: ["a", "b"] };
  constructor(readonly n: number) {
    super();
    this.images = fromTypedArray(Float32Array.from({ length: n * 2 }, (_, i) => i), [n, 2], "float32");
    this.labels = Array.from({ length: n }, (_, i) => i % 3);
  }
  get length(): number {
    return this.n;
  }
  get(i: number): [Tensor, number, number] {
    return [this.images.at(i).mul(this.meta.scale), this.labels[i]!, threadId];
  }
}

/** No constructor and no fields of its own (V8 may give it no stack frame): found from where it is built. */
export default class BareDataset extends Dataset<number> {
  get length(): number {
    return 6;
  }
  get(i: number): number {
    return i * threadId;
  }
}

/** Holds a function: can't cross into a worker intact. */
export class FunctionFieldDataset extends Dataset<number> {
  readonly fn = (i: number) => i + 1;
  get length(): number {
    return 4;
  }
  get(i: number): number {
    return this.fn(i);
  }
}

class Scaler {
  constructor(readonly k: number) {}
  apply(v: number): number {
    return v * this.k;
  }
}

/** Holds a class instance: a worker would get it without its methods. */
export class InstanceFieldDataset extends Dataset<number> {
  readonly scaler = new Scaler(2);
  get length(): number {
    return 4;
  }
  get(i: number): number {
    return this.scaler.apply(i);
  }
}

/** Not exported: the worker can't import it. */
class HiddenDataset extends Dataset<number> {
  readonly k = 1;
  get length(): number {
    return 4;
  }
  get(i: number): number {
    return i;
  }
}

export function makeHidden(): Dataset<number> {
  return new HiddenDataset();
}
