// Index samplers (torch.utils.data.sampler): which sample indices an epoch visits, in what order.

import { Generator, defaultGenerator, permutation } from "../tensor/random.js";

export interface Sampler extends Iterable<number> {
  readonly length: number;
}

interface Sized {
  readonly length: number;
}

export class SequentialSampler implements Sampler {
  constructor(readonly dataSource: Sized) {}
  get length(): number {
    return this.dataSource.length;
  }
  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.dataSource.length; i++) yield i;
  }
}

/**
 * A generator for one epoch. Without an explicit one, a fresh generator is seeded from two draws
 * of the default generator (like PyTorch), so torch.manualSeed makes the order reproducible.
 */
function epochGenerator(g: Generator | undefined): Generator {
  if (g) return g;
  return new Generator(defaultGenerator.nextUint32() * 2 ** 21 + (defaultGenerator.nextUint32() >>> 11));
}

export interface RandomSamplerOptions {
  replacement?: boolean;
  numSamples?: number;
  generator?: Generator;
}

export class RandomSampler implements Sampler {
  readonly replacement: boolean;
  readonly generator: Generator | undefined;
  private readonly numSamplesOpt: number | undefined;
  constructor(readonly dataSource: Sized, opts: RandomSamplerOptions = {}) {
    this.replacement = opts.replacement ?? false;
    this.generator = opts.generator;
    this.numSamplesOpt = opts.numSamples;
    if (this.numSamplesOpt !== undefined && (!Number.isInteger(this.numSamplesOpt) || this.numSamplesOpt <= 0)) {
      throw new Error(`numSamples should be a positive integer value, but got numSamples=${this.numSamplesOpt}`);
    }
  }
  get length(): number {
    return this.numSamplesOpt ?? this.dataSource.length;
  }
  *[Symbol.iterator](): Iterator<number> {
    const n = this.dataSource.length;
    const g = epochGenerator(this.generator);
    const total = this.length;
    if (this.replacement) {
      for (let i = 0; i < total; i++) yield g.randint(0, n);
      return;
    }
    for (let done = 0; done < total; ) {
      const p = permutation(n, g);
      for (let i = 0; i < n && done < total; i++, done++) yield p[i]!;
    }
  }
}

/** Random order over a fixed list of indices. */
export class SubsetRandomSampler implements Sampler {
  constructor(readonly indices: readonly number[], readonly generator?: Generator) {}
  get length(): number {
    return this.indices.length;
  }
  *[Symbol.iterator](): Iterator<number> {
    const p = permutation(this.indices.length, epochGenerator(this.generator));
    for (let i = 0; i < p.length; i++) yield this.indices[p[i]!]!;
  }
}

/** Groups another sampler's indices into lists of batchSize. */
export class BatchSampler implements Iterable<number[]> {
  constructor(readonly sampler: Iterable<number> & { readonly length: number }, readonly batchSize: number, readonly dropLast: boolean) {
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new Error(`batchSize should be a positive integer value, but got batchSize=${batchSize}`);
    }
  }
  get length(): number {
    return this.dropLast ? Math.floor(this.sampler.length / this.batchSize) : Math.ceil(this.sampler.length / this.batchSize);
  }
  *[Symbol.iterator](): Iterator<number[]> {
    let batch: number[] = [];
    for (const i of this.sampler) {
      batch.push(i);
      if (batch.length === this.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}
