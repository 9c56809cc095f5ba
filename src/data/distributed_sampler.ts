// DistributedSampler (torch.utils.data.distributed): each of numReplicas processes visits its own 1/numReplicas of
// the dataset, the same permutation on every rank (seeded by seed + epoch, so call setEpoch each epoch), padded with
// indices from the start so every rank gets the same count (or trimmed with dropLast), rank r taking r, r+n, r+2n...
import { Generator, permutation } from "../tensor/random.js";
import { getRank, getWorldSize, isInitialized } from "../distributed/process_group.js";
import type { Sampler } from "./sampler.js";

export interface DistributedSamplerOptions {
  numReplicas?: number;
  rank?: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
}

function fromGroup(what: string): number {
  if (!isInitialized()) {
    throw new Error(`DistributedSampler: ${what} was not given and the default process group is not initialized; ` +
      "call torch.distributed.initProcessGroup() first or pass numReplicas and rank");
  }
  return what === "numReplicas" ? getWorldSize() : getRank();
}

export class DistributedSampler implements Sampler {
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Indices per rank per epoch. */
  readonly numSamples: number;
  readonly totalSize: number;
  epoch = 0;

  constructor(readonly dataset: { readonly length: number }, opts: DistributedSamplerOptions = {}) {
    this.numReplicas = opts.numReplicas ?? fromGroup("numReplicas");
    this.rank = opts.rank ?? fromGroup("rank");
    if (!Number.isInteger(this.numReplicas) || this.numReplicas < 1) {
      throw new Error(`DistributedSampler: numReplicas must be a positive integer, got ${this.numReplicas}`);
    }
    if (!Number.isInteger(this.rank) || this.rank < 0 || this.rank >= this.numReplicas) {
      throw new Error(`Invalid rank ${this.rank}, rank should be in the interval [0, ${this.numReplicas - 1}]`);
    }
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    this.dropLast = opts.dropLast ?? false;
    const n = dataset.length;
    this.numSamples = this.dropLast && n % this.numReplicas !== 0
      ? Math.ceil((n - this.numReplicas) / this.numReplicas)
      : Math.ceil(n / this.numReplicas);
    this.totalSize = this.numSamples * this.numReplicas;
  }

  get length(): number {
    return this.numSamples;
  }

  /** Makes the next epoch's shuffle differ (every rank must pass the same epoch). */
  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  *[Symbol.iterator](): Iterator<number> {
    const n = this.dataset.length;
    let indices: number[];
    if (this.shuffle) indices = Array.from(permutation(n, new Generator(this.seed + this.epoch)));
    else indices = Array.from({ length: n }, (_, i) => i);
    if (!this.dropLast) {
      const base = indices.length;
      for (let i = 0; indices.length < this.totalSize && base > 0; i++) indices.push(indices[i % base]!);
    } else {
      indices.length = this.totalSize;
    }
    for (let i = this.rank; i < this.totalSize; i += this.numReplicas) yield indices[i]!;
  }
}
