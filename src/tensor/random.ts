// Seedable random numbers (xoshiro128** seeded through splitmix32). The streams are kindling's own, defined in
// core/rng.ts: a seed makes runs reproducible here (on every backend, bitwise), but does not reproduce PyTorch's
// draws. Bulk fills (rand, randn, randperm, uniform_, normal_) run the backend's randUniform / randNormal / randPerm
// kernels, which advance this generator's state exactly as the one-at-a-time methods would.
import { hostRandNormal, hostRandPerm, hostRandUniform } from "../backends/host/random_fill.js";
import { next32, normalPair, pairSin, uniform } from "../core/rng.js";

export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;
  private seedValue = 0;

  constructor(seed = 0x2545f491) {
    this.manualSeed(seed);
  }

  manualSeed(seed: number): this {
    this.seedValue = seed;
    let x = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    let hi = Math.trunc(seed / 2 ** 32) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9 + hi) >>> 0;
      hi = 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    this.spare = null;
    return this;
  }

  initialSeed(): number {
    return this.seedValue;
  }

  /** The full state, for checkpoints: restoring it continues the exact same stream. */
  getState(): number[] {
    return [...this.s, this.spare === null ? NaN : this.spare, this.seedValue];
  }

  setState(state: readonly number[]): this {
    if (state.length !== 6) throw new Error("Generator.setState: expected the 6-number state produced by getState()");
    for (let i = 0; i < 4; i++) this.s[i] = state[i] >>> 0;
    this.spare = Number.isNaN(state[4]) ? null : state[4];
    this.seedValue = state[5];
    return this;
  }

  nextUint32(): number {
    return next32(this.s);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    return uniform(this.s);
  }

  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const z0 = normalPair(this.s);
    this.spare = pairSin;
    return z0;
  }

  /** Fills out[off..off+n) with mean + std * normal(), in order, through the backend's bulk kernel. */
  fillNormal(out: Float32Array | Float64Array, off: number, n: number, mean: number, std: number): void {
    if (n <= 0) return;
    if (this.spare !== null) {
      out[off] = mean + std * this.spare;
      this.spare = null;
      off++;
      n--;
    }
    const spare = hostRandNormal(this.s, out, off, n, mean, std);
    if (!Number.isNaN(spare)) this.spare = spare;
  }

  /** Fills out[off..off+n) with from + (to - from) * random(), in order, through the backend's bulk kernel. */
  fillUniform(out: Float32Array | Float64Array, off: number, n: number, from: number, to: number): void {
    if (n <= 0) return;
    hostRandUniform(this.s, out, off, n, from, to);
  }

  /** A random permutation of 0..n-1 into out[off..off+n) (Fisher–Yates, one random() per step). */
  fillPermutation(out: Float64Array, off: number, n: number): void {
    hostRandPerm(this.s, out, off, n);
  }

  /** Uniform integer in [low, high). */
  randint(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low));
  }
}

export const defaultGenerator = new Generator();

/** Seeds every random draw that doesn't pass its own generator (torch.manual_seed). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

export function initialSeed(): number {
  return defaultGenerator.initialSeed();
}

export function getRngState(): number[] {
  return defaultGenerator.getState();
}

export function setRngState(state: readonly number[]): void {
  defaultGenerator.setState(state);
}

/** n draws from + (to - from) * random(), the same as n calls of gen.random(). */
export function fillUniform(n: number, from: number, to: number, gen: Generator = defaultGenerator): Float64Array {
  const out = new Float64Array(n);
  gen.fillUniform(out, 0, n, from, to);
  return out;
}

/** n draws mean + std * normal(), the same as n calls of gen.normal(). */
export function fillNormal(n: number, mean: number, std: number, gen: Generator = defaultGenerator): Float64Array {
  const out = new Float64Array(n);
  gen.fillNormal(out, 0, n, mean, std);
  return out;
}

/** A random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, gen: Generator = defaultGenerator): Float64Array {
  const p = new Float64Array(n);
  gen.fillPermutation(p, 0, n);
  return p;
}
