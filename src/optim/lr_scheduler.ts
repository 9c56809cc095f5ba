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
  /** Cycle momentum inversely to the lr (SGD's momentum or Adam's beta1), as PyTorch does by default. */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
}

/** OneCycleLR (lr only; momentum cycling is not implemented). */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  private readonly o: Required<Omit<OneCycleOptions, "totalSteps" | "epochs" | "stepsPerEpoch">>;
  private readonly useBetas: boolean;
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
      cycleMomentum: o.cycleMomentum ?? true,
      baseMomentum: o.baseMomentum ?? 0.85,
      maxMomentum: o.maxMomentum ?? 0.95,
    };
    const opts0 = optimizer.paramGroups[0].options;
    this.useBetas = Array.isArray(opts0.betas);
    if (this.o.cycleMomentum && !this.useBetas && opts0.momentum === undefined) {
      throw new Error("OneCycleLR: optimizer has no momentum to cycle; pass cycleMomentum: false");
    }
    this.maxLrs = optimizer.paramGroups.map((_, i) => (Array.isArray(maxLr) ? maxLr[i] : maxLr));
    this.init();
  }

  override step(): void {
    super.step();
    if (!this.o.cycleMomentum) return;
    for (const g of this.optimizer.paramGroups) {
      const m = this.phaseValue(this.lastEpoch, this.o.maxMomentum, this.o.baseMomentum);
      if (this.useBetas) g.options.betas = [m, (g.options.betas as number[])[1]];
      else g.options.momentum = m;
    }
  }

  /**
   * The schedule's shape: values[0] → values[1] over the warm-up, then on to values[2] (and values[3] in three-phase
   * mode), each phase annealed by cosine or linearly.
   */
  private phased(step: number, values: readonly number[]): number {
    const anneal = (a: number, b: number, pct: number) =>
      this.o.annealStrategy === "cos" ? b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1) : (b - a) * pct + a;
    const up = this.o.pctStart * this.totalSteps - 1;
    const ends = this.o.threePhase ? [up, 2 * up, this.totalSteps - 1] : [up, this.totalSteps - 1];
    let begin = 0;
    for (let i = 0; i < ends.length; i++) {
      if (step <= ends[i] || i === ends.length - 1) return anneal(values[i], values[i + 1], (step - begin) / (ends[i] - begin));
      begin = ends[i];
    }
    return values[values.length - 1];
  }

  private phaseValue(step: number, start: number, peak: number): number {
    return this.phased(step, this.o.threePhase ? [start, peak, start, start] : [start, peak, start]);
  }

  protected lrAt(step: number, _base: number, gi: number): number {
    if (step > this.totalSteps) throw new Error(`OneCycleLR: tried to step ${step} times; totalSteps is ${this.totalSteps}`);
    const max = this.maxLrs[gi];
    const initial = max / this.o.divFactor;
    const min = initial / this.o.finalDivFactor;
    return this.phased(step, this.o.threePhase ? [initial, max, initial, min] : [initial, max, min]);
  }
}

/** lr = initial lr × lrLambda(epoch); one function for every group, or one per group (PyTorch's LambdaLR). */
export class LambdaLR extends LRScheduler {
  private readonly lambdas: ((epoch: number) => number)[];

  constructor(optimizer: Optimizer, lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[]) {
    super(optimizer);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda) && lrLambda.length !== n) throw new Error(`LambdaLR: expected ${n} lr_lambdas, but got ${lrLambda.length}`);
    this.lambdas = Array.isArray(lrLambda) ? [...lrLambda] : Array.from({ length: n }, () => lrLambda);
    this.init();
  }

  protected lrAt(epoch: number, base: number, gi: number): number {
    return base * this.lambdas[gi]!(epoch);
  }
}
