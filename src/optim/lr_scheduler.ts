import type { Optimizer } from "./optimizer.js";

/** Sets each group's lr from the epoch/step counter; step() advances it (call after optimizer.step()). */
export abstract class LRScheduler {
  lastEpoch = -1;
  readonly baseLrs: number[];

  protected constructor(readonly optimizer: Optimizer) {
    for (const g of optimizer.paramGroups) if (g.options.initialLr === undefined) g.options.initialLr = g.options.lr as number;
    this.baseLrs = optimizer.paramGroups.map((g) => g.options.initialLr as number);
  }

  protected abstract lrAt(epoch: number, base: number, groupIndex: number): number;

  protected init(): void {
    this.step();
  }

  step(): void {
    this.lastEpoch++;
    this.optimizer.paramGroups.forEach((g, i) => (g.options.lr = this.lrAt(this.lastEpoch, this.baseLrs[i], i)));
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.options.lr as number);
  }

  stateDict(): { lastEpoch: number; baseLrs: number[] } {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  loadStateDict(s: { lastEpoch: number }): void {
    this.lastEpoch = s.lastEpoch - 1;
    this.step();
  }
}

export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly stepSize: number, readonly gamma = 0.1) {
    super(optimizer);
    this.init();
  }
  protected lrAt(epoch: number, base: number): number {
    return base * Math.pow(this.gamma, Math.floor(epoch / this.stepSize));
  }
}

export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly tMax: number, readonly etaMin = 0) {
    super(optimizer);
    this.init();
  }
  protected lrAt(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

export interface OneCycleOptions {
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: "cos" | "linear";
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
}

/** OneCycleLR (lr only; momentum cycling is not implemented). */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  private readonly o: Required<Omit<OneCycleOptions, "totalSteps" | "epochs" | "stepsPerEpoch">>;
  private readonly maxLrs: number[];

  constructor(optimizer: Optimizer, maxLr: number | number[], o: OneCycleOptions = {}) {
    super(optimizer);
    const total = o.totalSteps ?? (o.epochs && o.stepsPerEpoch ? o.epochs * o.stepsPerEpoch : undefined);
    if (!total || total <= 0) throw new Error("OneCycleLR: give totalSteps, or epochs and stepsPerEpoch");
    this.totalSteps = total;
    this.o = {
      pctStart: o.pctStart ?? 0.3,
      annealStrategy: o.annealStrategy ?? "cos",
      divFactor: o.divFactor ?? 25,
      finalDivFactor: o.finalDivFactor ?? 1e4,
      threePhase: o.threePhase ?? false,
    };
    this.maxLrs = optimizer.paramGroups.map((_, i) => (Array.isArray(maxLr) ? maxLr[i] : maxLr));
    this.init();
  }

  protected lrAt(step: number, _base: number, gi: number): number {
    if (step > this.totalSteps) throw new Error(`OneCycleLR: tried to step ${step} times; totalSteps is ${this.totalSteps}`);
    const max = this.maxLrs[gi];
    const initial = max / this.o.divFactor;
    const min = initial / this.o.finalDivFactor;
    const anneal = (a: number, b: number, pct: number) =>
      this.o.annealStrategy === "cos" ? b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1) : (b - a) * pct + a;
    const up = this.o.pctStart * this.totalSteps - 1;
    const phases = this.o.threePhase
      ? [
          { end: up, from: initial, to: max },
          { end: 2 * up, from: max, to: initial },
          { end: this.totalSteps - 1, from: initial, to: min },
        ]
      : [
          { end: up, from: initial, to: max },
          { end: this.totalSteps - 1, from: max, to: min },
        ];
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const ph = phases[i];
      if (step <= ph.end || i === phases.length - 1) return anneal(ph.from, ph.to, (step - start) / (ph.end - start));
      start = ph.end;
    }
    return min;
  }
}
